import HelsenorgeMessages
import ArgumentParser
import Booking
import Foundation
internal import SwiftCSV
import TimebokCore
import TimebokFormats
import TimebokEngine

// MARK: books

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
        static let configuration = CommandConfiguration(abstract: "List the books and their settings.", discussion: "Example:\n  timebok books list --spool /srv/timebok")
        @OptionGroup var spool: SpoolOption

        func run() throws {
            let engine = try spool.openEngine()
            let books = try engine.readModel { try $0.books() }
            if books.isEmpty { print("No books yet. Create one with `timebok books create`.") }
            for book in books {
                let slots = try engine.readModel { try $0.slotCount(bookId: book.id) }
                print("\(book.id): \(book.name) (\(book.kind.rawValue)\(book.category.map { ", \($0.rawValue)" } ?? ""))\(book.herId.map { ", HER-id \($0)" } ?? "")\(book.gpHpr.map { ", GP HPR \($0)" } ?? "")")
                print("  \(book.published ? "published on helsenorge" : "not published"), \(book.confirmation.rawValue) confirmation\(book.confirmation == .manual ? " (hold \(book.holdMinutes) min)" : ""), \(book.slotMinutes)-minute slots, capacity \(book.capacity), \(slots) slots")
                print("  access: \(book.access.description)\(book.prerequisitesMustBeAccepted ? "; prerequisites must be accepted" : "")")
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
        @Option(name: .customLong("group"), help: "A patient group allowed (repeat for several).") var groups: [String] = []
        @Flag(help: "Everyone on the list may book (clears age and groups).") var allListPatients = false
        @Flag(help: "Publish the book on helsenorge.") var published = false

        func update(id: String) throws -> BookUpdate {
            var update = BookUpdate(id: id)
            if let kind {
                guard let value = BookKind(rawValue: kind) else { throw ValidationError("--kind is resource or personal.") }
                update.kind = value
            }
            update.name = name
            if let category {
                guard let value = BookCategory(rawValue: category) else { throw ValidationError("--category is Koronatest, Koronavaksine, Lab or Vaksine.") }
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
                guard let value = ConfirmationMode(rawValue: confirmation) else { throw ValidationError("--confirmation is automatic or manual.") }
                update.confirmation = value
            }
            update.holdMinutes = holdMinutes
            if let prerequisites { update.prerequisitesMustBeAccepted = try Parse.onOff(prerequisites, "--prerequisites") }
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
        static let configuration = CommandConfiguration(abstract: "Create a book (not published unless --published).", discussion: "Example:\n  timebok books create lab --kind resource --name Lab --category Lab --her-id 1234501 --slot-minutes 15 --min-age 65 --confirmation manual")
        @Argument(help: "The book's id (letters, digits, dashes).") var id: String
        @OptionGroup var settings: Settings
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let update = try settings.update(id: id)
            guard let kind = update.kind, let name = update.name, let minutes = update.slotMinutes else {
                throw ValidationError("A new book needs --kind, --name and --slot-minutes.")
            }
            try submit(.createBook(update.applied(to: Book(id: id, kind: kind, name: name, slotMinutes: minutes))), spool: spool, submission: submission)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a book's settings (only those given).", discussion: "Example:\n  timebok books update lab --capacity 3 --information-text \"Ta med legitimasjon.\"")
        @Argument(help: "The book's id.") var id: String
        @OptionGroup var settings: Settings
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try submit(.updateBook(try settings.update(id: id)), spool: spool, submission: submission) }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a book on helsenorge.", discussion: "Example:\n  timebok books publish lab")
        @Argument(help: "The book's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try setPublished(id, true, spool: spool, submission: submission) }
    }

    struct Unpublish: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide a book from helsenorge.", discussion: "Example:\n  timebok books unpublish lab")
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

// MARK: slots

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
        static let configuration = CommandConfiguration(abstract: "List a book's slots (default: the next 7 days).", discussion: "Example:\n  timebok slots list lab --from 2026-12-07 --to 2026-12-11")
        @Argument(help: "The book's id.") var book: String
        @Option(help: "First date (default: today).") var from: String?
        @Option(help: "Last date (default: 7 days on).") var to: String?
        @OptionGroup var spool: SpoolOption

        func run() throws {
            let engine = try spool.openEngine()
            let first = try from.map { try Parse.date($0, "--from") } ?? BusinessClock.today()
            let last = try to.map { try Parse.date($0, "--to") } ?? first.adding(days: 7)
            guard try engine.readModel({ try $0.book(id: book) }) != nil else { throw CLIError("There is no book with id \"\(book)\".") }
            let slots = try engine.readModel {
                try $0.slots(bookId: book, fromSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: first, hour: 0, minute: 0)),
                             toSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: last.adding(days: 1), hour: 0, minute: 0)))
            }
            for slot in slots { print(describe(slot)) }
            print("\(slots.count) slot\(slots.count == 1 ? "" : "s") in \(book) from \(first) to \(last).")
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open one slot.", discussion: "Example:\n  timebok slots open lab 2026-12-07T07:30 2026-12-07T07:45 --capacity 3")
        @Argument(help: "The book's id.") var book: String
        @Argument(help: "Start, e.g. 2026-12-07T08:00.") var start: String
        @Argument(help: "End, e.g. 2026-12-07T08:15.") var end: String
        @Option(help: "Patients in this slot (default: the book's capacity).") var capacity: Int?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(.openSlot(bookId: book, start: try Parse.dateTime(start, "START"), end: try Parse.dateTime(end, "END"), capacity: capacity), spool: spool, submission: submission)
        }
    }

    struct OpenHours: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "open-hours", abstract: "Open slots from weekly opening hours for a date range.", discussion: "Example:\n  timebok slots open-hours lab --from 2026-12-07 --to 2026-12-31 --hours \"mon-fri 08:00-11:00\" --hours \"sat 10:00-12:00\" --closed 2026-12-24")
        @Argument(help: "The book's id.") var book: String
        @Option(help: "First date.") var from: String
        @Option(help: "Last date.") var to: String
        @Option(help: "Opening hours, e.g. \"mon-fri 08:00-11:00\" (repeat for several).") var hours: [String]
        @Option(help: "Minutes per slot (default: the book's).") var slotMinutes: Int?
        @Option(help: "A closed day (repeat for several).") var closed: [String] = []
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(.openSlotsFromHours(bookId: book, from: try Parse.date(from, "--from"), to: try Parse.date(to, "--to"),
                                           hours: try hours.flatMap(Parse.hours), slotMinutes: slotMinutes,
                                           closedDays: try closed.map { try Parse.date($0, "--closed") }), spool: spool, submission: submission)
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a slot; with --force its bookings are cancelled and the patients told.", discussion: "Example:\n  timebok slots close 6f1c2a… --force --reason \"Sykdom\"")
        @Argument(help: "The slot's id.") var slot: String
        @Flag(help: "Close even if the slot has bookings (they are cancelled).") var force = false
        @Option(help: "Why (told to the patients).") var reason: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws { try submit(.closeSlot(slotId: slot, force: force, reason: reason), spool: spool, submission: submission) }
    }
}

// MARK: patients

struct Patients: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and import the office's list patients and their groups.",
        discussion: """
        The import file is CSV with a header: fnr;family_name;given_name;groups (groups separated by |). \
        --replace makes the file the whole list (patients not in it are removed); otherwise patients are \
        added or updated. Importing the same file twice changes nothing the second time.

        Example:
          timebok patients import liste.csv --replace
        """,
        subcommands: [List.self, Import.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the patients.", discussion: "Example:\n  timebok patients list --show-identity")
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption

        func run() throws {
            let engine = try spool.openEngine()
            let patients = try engine.readModel { try $0.patients() }
            for patient in patients {
                identity.line("\(patient.fnr)  \(patient.familyName), \(patient.givenName)\(patient.groups.isEmpty ? "" : "  [\(patient.groups.joined(separator: ", "))]")\(patient.digitallyInactive ? "  (not a digital user)" : "")")
            }
            print("\(patients.count) patient\(patients.count == 1 ? "" : "s").")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import patients from a CSV file.", discussion: "Example:\n  timebok patients import liste.csv --replace")
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "The file is the whole list.") var replace = false
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("Cannot read \(file).") }
            var text = String(decoding: data, as: UTF8.self)
            // Excel and others start a UTF-8 file with a byte-order mark.
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            // SwiftCSV: quoted fields (with ; or line breaks inside) stay whole.
            let csv: EnumeratedCSV
            do {
                csv = try EnumeratedCSV(string: text, delimiter: .semicolon, loadColumns: false)
            } catch {
                throw CLIError("\(file) is not readable CSV: \(error).")
            }
            var patients: [ListPatient] = []
            for (index, row) in ([csv.header] + csv.rows).enumerated() {
                let fields = row.map { $0.trimmingCharacters(in: .whitespaces) }
                if fields.allSatisfy(\.isEmpty) { continue }
                if index == 0 && fields.first?.lowercased() == "fnr" { continue }
                guard fields.count >= 3 else { throw CLIError("\(file) row \(index + 1): expected fnr;family_name;given_name;groups, found \"\(row.joined(separator: ";"))\".") }
                let groups = fields.count > 3 ? fields[3].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : []
                patients.append(ListPatient(fnr: fields[0], familyName: fields[1], givenName: fields[2], groups: groups))
            }
            try submit(.importPatients(mode: replace ? .replace : .update, patients: patients), spool: spool, submission: submission)
        }
    }
}

// MARK: requests and appointments

struct Requests: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Requests from helsenorge waiting for the office (manual books): list, confirm, reject.",
        discussion: """
        Examples:
          timebok requests
          timebok requests confirm 3b0c… --by "Sigrid Nes" --hpr 9231476 --text "Velkommen."
          timebok requests reject 3b0c… --reason "Vi har ikke ledig kapasitet denne dagen."
        """,
        subcommands: [List.self, Confirm.self, Reject.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List requests waiting for an answer.", discussion: "Example:\n  timebok requests list")
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption
        @Flag(help: "Show each one's history: what happened, when, and who did it.") var history = false
        func run() throws { try listAppointments(spool: spool, states: [.requested], fnr: nil, identity: identity, history: history) }
    }

    struct Confirm: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm a request (the citizen gets 05).", discussion: "Example:\n  timebok requests confirm 3b0c… --by \"Sigrid Nes\" --hpr 9231476 --text \"Velkommen.\"")
        @Argument(help: "The request's id.") var id: String
        @Option(help: "Who confirms, \"Given Family\".") var by: String
        @Option(help: "Their HPR number.") var hpr: String?
        @Option(help: "A text for the citizen.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let names = by.split(separator: " ")
            guard names.count >= 2 else { throw ValidationError("--by is \"Given Family\".") }
            try submit(.confirmRequest(requestId: id, by: Staff(familyName: String(names.last!), givenName: names.dropLast().joined(separator: " "), hpr: hpr), text: text), spool: spool, submission: submission)
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a request (the citizen gets 26, or 06 with --answer-code 06).", discussion: "Example:\n  timebok requests reject 3b0c… --reason \"Ingen ledig kapasitet denne dagen.\"")
        @Argument(help: "The request's id.") var id: String
        @Option(help: "Why, for the citizen.") var reason: String
        @Option(help: "26 (default) or 06.") var answerCode: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let kind: RejectionKind?
            do { kind = try CommandFile.rejectionKind(answerCode) } catch { throw ValidationError("--answer-code is 26 or 06, not \(answerCode ?? "").") }
            try submit(.rejectRequest(requestId: id, reason: reason, kind: kind), spool: spool, submission: submission)
        }
    }
}

struct Appointments: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Appointments: list, book, move, cancel, record a no-show, complete.",
        discussion: """
        Examples:
          timebok appointments --patient 14035623036
          timebok appointments book <slot-id> 14035623036 --text "Kontroll"
          timebok appointments move <appointment-id> <new-slot-id>
          timebok appointments cancel <appointment-id> --reason "Avlyst av tjeneste"
          timebok appointments no-show <appointment-id>
        """,
        subcommands: [List.self, BookOne.self, Move.self, Cancel.self, NoShow.self, Complete.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List requests and appointments.", discussion: "Example:\n  timebok appointments list --patient 14035623036 --all")
        @Option(help: "Only this patient's.") var patient: String?
        @Flag(help: "Also cancelled, rejected, expired and finished ones.") var all = false
        @Flag(help: "Show each one's history: what happened, when, and who did it.") var history = false
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption
        func run() throws { try listAppointments(spool: spool, states: all ? nil : [.requested, .confirmed], fnr: patient, identity: identity, history: history) }
    }

    struct BookOne: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "book", abstract: "Book a slot for a list patient (confirmed at once).", discussion: "Example:\n  timebok appointments book 2e19… 14035623036 --text \"Kontroll\"")
        @Argument(help: "The slot's id.") var slot: String
        @Argument(help: "The patient's fødselsnummer.") var fnr: String
        @Option(help: "A note.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.bookAppointment(slotId: slot, fnr: fnr, text: text), spool: spool, submission: submission) }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move an appointment to another slot (the id stays).", discussion: "Example:\n  timebok appointments move a68b… 2e19…")
        @Argument(help: "The appointment's id.") var id: String
        @Argument(help: "The new slot's id.") var slot: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.moveAppointment(appointmentId: id, newSlotId: slot), spool: spool, submission: submission) }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel an appointment.", discussion: "Example:\n  timebok appointments cancel a68b… --reason \"Avlyst av tjeneste\" --text \"Legen er syk.\"")
        @Argument(help: "The appointment's id.") var id: String
        @Option(help: "One of: \(CancellationReason.allCases.map(\.rawValue).joined(separator: "; ")).") var reason: String = CancellationReason.byService.rawValue
        @Option(help: "A text for the patient.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws {
            let cause: CancellationCause
            do { cause = try CommandFile.cancellationCause(reason) } catch { throw ValidationError("--reason must be one of: \(CancellationReason.allCases.map(\.rawValue).joined(separator: "; ")).") }
            try submit(.cancelAppointment(appointmentId: id, reason: cause, text: text), spool: spool, submission: submission)
        }
    }

    struct NoShow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "no-show", abstract: "Record that the patient did not come.", discussion: "Example:\n  timebok appointments no-show a68b…")
        @Argument(help: "The appointment's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.recordNoShow(appointmentId: id), spool: spool, submission: submission) }
    }

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a completed visit.", discussion: "Example:\n  timebok appointments complete a68b…")
        @Argument(help: "The appointment's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.completeAppointment(appointmentId: id), spool: spool, submission: submission) }
    }
}

func listAppointments(spool: SpoolOption, states: [Appointment.State]?, fnr: String?, identity: IdentityOption, history: Bool) throws {
    let engine = try spool.openEngine()
    let list = try engine.readModel { reader -> [(Appointment, Slot?, [AppointmentEvent])] in
        try reader.appointments(states: states, fnr: fnr).map { ($0, try reader.slot(id: $0.slotId), history ? try reader.events(appointmentId: $0.id) : []) }
    }
    for (appointment, slot, events) in list {
        defer {
            for event in events {
                print("    \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(event.at))))  \(event.kind.rawValue)  by \(event.actor.description)\(event.text.map { "  \"\($0)\"" } ?? "")")
            }
        }
        identity.line("\(appointment.id)  \(appointment.state.rawValue)  \(appointment.bookId)  \(slot.map { "\($0.start)" } ?? "?")  patient \(appointment.fnr)\(appointment.text.map { "  \"\($0)\"" } ?? "")")
    }
    print("\(list.count) booking\(list.count == 1 ? "" : "s").")
}

// MARK: GPs and the office switch

struct GPs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gps",
        abstract: "The office's GPs: list, and set whether Ressursoversikt and the personal book are on.",
        discussion: """
        Example:
          timebok gps set --her-id 91095 --hpr 9144897 --family-name Fjeld --given-name Hanne --ressursoversikt on --personal-book open
        """,
        subcommands: [List.self, Set.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the GPs.", discussion: "Example:\n  timebok gps list")
        @OptionGroup var spool: SpoolOption
        func run() throws {
            let engine = try spool.openEngine()
            for gp in try engine.readModel({ try $0.gps() }) {
                print("\(gp.givenName) \(gp.familyName): HER-id \(gp.herId), HPR \(gp.hpr), Ressursoversikt \(gp.ressursoversiktEnabled ? "on" : "off"), personal book \(gp.personalBookOpen ? "open" : "closed")")
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a GP or change his settings.", discussion: "Example:\n  timebok gps set --her-id 91095 --hpr 9144897 --family-name Fjeld --given-name Hanne --ressursoversikt off")
        @Option(name: .customLong("her-id")) var herId: String
        @Option var hpr: String
        @Option var familyName: String
        @Option var givenName: String
        @Option(help: "on or off: helsenorge may fetch the office's resource books through him.") var ressursoversikt: String
        @Option(help: "open or closed: his personal book on helsenorge.") var personalBook: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(.setGP(GP(herId: herId, hpr: hpr, familyName: familyName, givenName: givenName,
                                 ressursoversiktEnabled: try Parse.onOff(ressursoversikt, "--ressursoversikt"),
                                 personalBookOpen: try Parse.onOff(personalBook, "--personal-book"))), spool: spool, submission: submission)
        }
    }
}

struct BookingSwitch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking",
        abstract: "Switch online booking in resource books on or off for the whole office.",
        discussion: "Example:\n  timebok booking off")

    @Argument(help: "on or off.") var state: String
    @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

    func run() throws { try submit(.setBookingEnabled(try Parse.onOff(state, "STATE")), spool: spool, submission: submission) }
}
