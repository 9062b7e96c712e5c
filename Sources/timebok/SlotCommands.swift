import ArgumentParser
import Booking
import Foundation
import TimebokCore
import TimebokEngine

// `timebok slots`: list, open (one or from weekly hours) and close slots.

struct Slots: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, open and close slots.",
        discussion: """
            Times are Norwegian local time (Europe/Oslo). Opening hours open back-to-back slots of the book's \
            length; slots that would fall in the hour skipped when summer time starts are left out.

            Examples:
              timebok slots list lab --from 2026-12-07 --to 2026-12-11
              timebok slots open lab 2026-12-07T07:30 2026-12-07T07:45 --capacity 3
              timebok slots open-hours lab --from 2026-12-07 --to 2026-12-31 --hours "mon-fri 08:00-11:00" --closed 2026-12-24
              timebok slots close 6f1c… --force --reason "Sykdom"
            """,
        subcommands: [List.self, Open.self, OpenHours.self, Close.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a book's slots (default: the next 7 days).",
            discussion: "Example:\n  timebok slots list lab --from 2026-12-07 --to 2026-12-11")
        @Argument(help: "The book's id.") var book: String
        @Option(help: "First date (default: today).") var from: String?
        @Option(help: "Last date (default: 7 days on).") var to: String?
        @OptionGroup var spool: SpoolOption

        func run() throws {
            let engine = try spool.openEngine()
            let first = try from.map { try Parse.date($0, "--from") } ?? BusinessClock.today()
            let last = try to.map { try Parse.date($0, "--to") } ?? first.adding(days: 7)
            guard try engine.readModel({ try $0.book(id: book) }) != nil else {
                throw CLIError("There is no book with id \"\(book)\".")
            }
            let slots = try engine.readModel {
                try $0.slots(
                    bookId: book,
                    fromSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: first, hour: 0, minute: 0)),
                    toSeconds: Oslo.secondsSinceEpoch(
                        for: LocalDateTime(date: last.adding(days: 1), hour: 0, minute: 0)))
            }
            for slot in slots { print(describe(slot)) }
            print("\(slots.count) slot\(slots.count == 1 ? "" : "s") in \(book) from \(first) to \(last).")
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open one slot.",
            discussion: "Example:\n  timebok slots open lab 2026-12-07T07:30 2026-12-07T07:45 --capacity 3")
        @Argument(help: "The book's id.") var book: String
        @Argument(help: "Start, e.g. 2026-12-07T08:00.") var start: String
        @Argument(help: "End, e.g. 2026-12-07T08:15.") var end: String
        @Option(help: "Patients in this slot (default: the book's capacity).") var capacity: Int?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(
                .openSlot(
                    bookId: book, start: try Parse.dateTime(start, "START"), end: try Parse.dateTime(end, "END"),
                    capacity: capacity), spool: spool, submission: submission)
        }
    }

    struct OpenHours: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "open-hours", abstract: "Open slots from weekly opening hours for a date range.",
            discussion:
                "Example:\n  timebok slots open-hours lab --from 2026-12-07 --to 2026-12-31 --hours \"mon-fri 08:00-11:00\" --hours \"sat 10:00-12:00\" --closed 2026-12-24"
        )
        @Argument(help: "The book's id.") var book: String
        @Option(help: "First date.") var from: String
        @Option(help: "Last date.") var to: String
        @Option(help: "Opening hours, e.g. \"mon-fri 08:00-11:00\" (repeat for several).") var hours: [String]
        @Option(help: "Minutes per slot (default: the book's).") var slotMinutes: Int?
        @Option(help: "A closed day (repeat for several).") var closed: [String] = []
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(
                .openSlotsFromHours(
                    bookId: book, from: try Parse.date(from, "--from"), to: try Parse.date(to, "--to"),
                    hours: try hours.flatMap(Parse.hours), slotMinutes: slotMinutes,
                    closedDays: try closed.map { try Parse.date($0, "--closed") }), spool: spool, submission: submission
            )
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a slot; with --force its bookings are cancelled and the patients told.",
            discussion: "Example:\n  timebok slots close 6f1c2a… --force --reason \"Sykdom\"")
        @Argument(help: "The slot's id.") var slot: String
        @Flag(help: "Close even if the slot has bookings (they are cancelled).") var force = false
        @Option(help: "Why (told to the patients).") var reason: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(.closeSlot(slotId: slot, force: force, reason: reason), spool: spool, submission: submission)
        }
    }
}
