import ArgumentParser
import Booking
import Foundation
import TimebokCore
import TimebokEngine

// `timebok books`: list, create, update, publish and unpublish books.

struct Books: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, create and change the office's appointment books.",
        discussion: """
            Examples:
              timebok books
              timebok books create lab --kind resource --name Lab --category Lab --her-id 1234501 --slot-minutes 15 \\
                  --capacity 2 --information-text "Faste fra midnatt." --min-age 65 --confirmation manual --published
              timebok books publish lab
              timebok books update lab --information-text "Ta med legitimasjon."
            """,
        subcommands: [List.self, Create.self, Update.self, Publish.self, Unpublish.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the books and their settings.",
            discussion: "Example:\n  timebok books list --spool /srv/timebok")
        @OptionGroup var spool: SpoolOption

        func run() throws {
            let engine = try spool.openEngine()
            let books = try engine.readModel { try $0.books() }
            if books.isEmpty { print("No books yet. Create one with `timebok books create`.") }
            for book in books {
                let slots = try engine.readModel { try $0.slotCount(bookId: book.id) }
                print(
                    "\(book.id): \(book.name) (\(book.kind.rawValue)\(book.category.map { ", \($0.rawValue)" } ?? ""))\(book.herId.map { ", HER-id \($0)" } ?? "")\(book.gpHpr.map { ", GP HPR \($0)" } ?? "")"
                )
                print(
                    "  \(book.published ? "published on helsenorge" : "not published"), \(book.confirmation.rawValue) confirmation\(book.confirmation == .manual ? " (hold \(book.holdMinutes) min)" : ""), \(book.slotMinutes)-minute slots, capacity \(book.capacity), \(slots) slots"
                )
                print(
                    "  access: \(book.access.description)\(book.prerequisitesMustBeAccepted ? "; prerequisites must be accepted" : "")"
                )
                if !book.informationText.isEmpty { print("  information: \(book.informationText)") }
                if let location = book.location { print("  location: \(location)") }
            }
        }
    }

    struct Settings: ParsableArguments {
        @Option(help: "resource or personal.") var kind: String?
        @Option(help: "The name shown on helsenorge.") var name: String?
        @Option(help: "Koronatest, Koronavaksine, Lab or Vaksine (resource books).") var category: String?
        @Option(name: .customLong("her-id"), help: "The book's own HER-id (resource books).") var herId: String?
        @Option(name: .customLong("gp-hpr"), help: "The GP's HPR number (personal books).") var gpHpr: String?
        @Option(help: "Prerequisites shown before booking (at most 300 characters).") var informationText: String?
        @Option(help: "Where to meet (oppmøtested).") var location: String?
        @Option(help: "Minutes per slot.") var slotMinutes: Int?
        @Option(help: "Patients per slot.") var capacity: Int?
        @Option(help: "How many days ahead citizens may book.") var horizonDays: Int?
        @Option(help: "No booking later than this many minutes before the start.") var bookingCutoff: Int?
        @Option(help: "No cancelling later than this many minutes before the start.") var cancellationCutoff: Int?
        @Option(help: "Active bookings a patient may hold in the book.") var maxActive: Int?
        @Option(help: "automatic or manual.") var confirmation: String?
        @Option(help: "Manual books: minutes a request is held before it expires.") var holdMinutes: Int?
        @Option(help: "Citizens must accept the prerequisites (on/off).") var prerequisites: String?
        @Option(help: "Youngest age allowed.") var minAge: Int?
        @Option(help: "Oldest age allowed.") var maxAge: Int?
        @Option(name: .customLong("group"), help: "A patient group allowed (repeat for several).") var groups:
            [String] = []
        @Flag(help: "Everyone on the list may book (clears age and groups).") var allListPatients = false
        @Flag(help: "Publish the book on helsenorge.") var published = false

        func update(id: String) throws -> BookUpdate {
            var update = BookUpdate(id: id)
            if let kind {
                guard let value = BookKind(rawValue: kind) else {
                    throw ValidationError("--kind is resource or personal.")
                }
                update.kind = value
            }
            update.name = name
            if let category {
                guard let value = BookCategory(rawValue: category) else {
                    throw ValidationError("--category is Koronatest, Koronavaksine, Lab or Vaksine.")
                }
                update.category = value
            }
            update.herId = herId
            update.gpHpr = gpHpr
            update.informationText = informationText
            update.location = location
            update.slotMinutes = slotMinutes
            update.capacity = capacity
            if let horizonDays { update.bookingHorizonDays = .some(horizonDays) }
            update.bookingCutoffMinutes = bookingCutoff
            update.cancellationCutoffMinutes = cancellationCutoff
            if let maxActive { update.maxActiveBookingsPerPatient = .some(maxActive) }
            if let confirmation {
                guard let value = ConfirmationMode(rawValue: confirmation) else {
                    throw ValidationError("--confirmation is automatic or manual.")
                }
                update.confirmation = value
            }
            update.holdMinutes = holdMinutes
            if let prerequisites {
                update.prerequisitesMustBeAccepted = try Parse.onOff(prerequisites, "--prerequisites")
            }
            if allListPatients {
                update.access = .allListPatients
            } else if minAge != nil || maxAge != nil || !groups.isEmpty {
                update.access = AccessRule(minAge: minAge, maxAge: maxAge, groups: groups)
            }
            if published { update.published = true }
            return update
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a book (not published unless --published).",
            discussion:
                "Example:\n  timebok books create lab --kind resource --name Lab --category Lab --her-id 1234501 --slot-minutes 15 --min-age 65 --confirmation manual"
        )
        @Argument(help: "The book's id (letters, digits, dashes).") var id: String
        @OptionGroup var settings: Settings
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let update = try settings.update(id: id)
            guard let kind = update.kind, let name = update.name, let minutes = update.slotMinutes else {
                throw ValidationError("A new book needs --kind, --name and --slot-minutes.")
            }
            try submit(
                .createBook(update.applied(to: Book(id: id, kind: kind, name: name, slotMinutes: minutes))),
                spool: spool, submission: submission)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a book's settings (only those given).",
            discussion: "Example:\n  timebok books update lab --capacity 3 --information-text \"Ta med legitimasjon.\"")
        @Argument(help: "The book's id.") var id: String
        @OptionGroup var settings: Settings
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try submit(.updateBook(try settings.update(id: id)), spool: spool, submission: submission) }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a book on helsenorge.", discussion: "Example:\n  timebok books publish lab")
        @Argument(help: "The book's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try setPublished(id, true, spool: spool, submission: submission) }
    }

    struct Unpublish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hide a book from helsenorge.", discussion: "Example:\n  timebok books unpublish lab")
        @Argument(help: "The book's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try setPublished(id, false, spool: spool, submission: submission) }
    }
}

func setPublished(_ id: String, _ published: Bool, spool: SpoolOption, submission: Submission) throws {
    var update = BookUpdate(id: id)
    update.published = published
    try submit(.updateBook(update), spool: spool, submission: submission)
}
