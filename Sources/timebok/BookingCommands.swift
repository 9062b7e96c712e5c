import ArgumentParser
import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokEngine
import TimebokFormats

// `timebok requests` and `timebok appointments`: confirm, reject, book, move, cancel, no-show, complete.

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
        static let configuration = CommandConfiguration(
            abstract: "List requests waiting for an answer.", discussion: "Example:\n  timebok requests list")
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption
        @Flag(help: "Show each one's history: what happened, when, and who did it.") var history = false
        func run() throws {
            try listAppointments(spool: spool, states: [.requested], fnr: nil, identity: identity, history: history)
        }
    }

    struct Confirm: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Confirm a request (the citizen gets 05).",
            discussion:
                "Example:\n  timebok requests confirm 3b0c… --by \"Sigrid Nes\" --hpr 9231476 --text \"Velkommen.\"")
        @Argument(help: "The request's id.") var id: String
        @Option(help: "Who confirms, \"Given Family\".") var by: String
        @Option(help: "Their HPR number.") var hpr: String?
        @Option(help: "A text for the citizen.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let names = by.split(separator: " ")
            guard names.count >= 2 else { throw ValidationError("--by is \"Given Family\".") }
            try submit(
                .confirmRequest(
                    requestId: id,
                    by: Staff(
                        familyName: String(names.last!), givenName: names.dropLast().joined(separator: " "), hpr: hpr),
                    text: text), spool: spool, submission: submission)
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a request (the citizen gets 26, or 06 with --answer-code 06).",
            discussion: "Example:\n  timebok requests reject 3b0c… --reason \"Ingen ledig kapasitet denne dagen.\"")
        @Argument(help: "The request's id.") var id: String
        @Option(help: "Why, for the citizen.") var reason: String
        @Option(help: "26 (default) or 06.") var answerCode: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            let kind: RejectionKind?
            do { kind = try CommandFile.rejectionKind(answerCode) } catch {
                throw ValidationError("--answer-code is 26 or 06, not \(answerCode ?? "").")
            }
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
        static let configuration = CommandConfiguration(
            abstract: "List requests and appointments.",
            discussion: "Example:\n  timebok appointments list --patient 14035623036 --all")
        @Option(help: "Only this patient's.") var patient: String?
        @Flag(help: "Also cancelled, rejected, expired and finished ones.") var all = false
        @Flag(help: "Show each one's history: what happened, when, and who did it.") var history = false
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption
        func run() throws {
            try listAppointments(
                spool: spool, states: all ? nil : [.requested, .confirmed], fnr: patient, identity: identity,
                history: history)
        }
    }

    struct BookOne: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "book", abstract: "Book a slot for a list patient (confirmed at once).",
            discussion: "Example:\n  timebok appointments book 2e19… 14035623036 --text \"Kontroll\"")
        @Argument(help: "The slot's id.") var slot: String
        @Argument(help: "The patient's fødselsnummer.") var fnr: String
        @Option(help: "A note.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws {
            try submit(.bookAppointment(slotId: slot, fnr: fnr, text: text), spool: spool, submission: submission)
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an appointment to another slot (the id stays).",
            discussion: "Example:\n  timebok appointments move a68b… 2e19…")
        @Argument(help: "The appointment's id.") var id: String
        @Argument(help: "The new slot's id.") var slot: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws {
            try submit(.moveAppointment(appointmentId: id, newSlotId: slot), spool: spool, submission: submission)
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel an appointment.",
            discussion:
                "Example:\n  timebok appointments cancel a68b… --reason \"Avlyst av tjeneste\" --text \"Legen er syk.\""
        )
        @Argument(help: "The appointment's id.") var id: String
        @Option(help: "One of: \(CancellationReason.allCases.map(\.rawValue).joined(separator: "; ")).") var reason:
            String = CancellationReason.byService.rawValue
        @Option(help: "A text for the patient.") var text: String?
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws {
            let cause: CancellationCause
            do { cause = try CommandFile.cancellationCause(reason) } catch {
                throw ValidationError(
                    "--reason must be one of: \(CancellationReason.allCases.map(\.rawValue).joined(separator: "; ")).")
            }
            try submit(
                .cancelAppointment(appointmentId: id, reason: cause, text: text), spool: spool, submission: submission)
        }
    }

    struct NoShow: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "no-show", abstract: "Record that the patient did not come.",
            discussion: "Example:\n  timebok appointments no-show a68b…")
        @Argument(help: "The appointment's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.recordNoShow(appointmentId: id), spool: spool, submission: submission) }
    }

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a completed visit.", discussion: "Example:\n  timebok appointments complete a68b…")
        @Argument(help: "The appointment's id.") var id: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission
        func run() throws { try submit(.completeAppointment(appointmentId: id), spool: spool, submission: submission) }
    }
}

func listAppointments(
    spool: SpoolOption, states: [Appointment.State]?, fnr: String?, identity: IdentityOption, history: Bool
) throws {
    let engine = try spool.openEngine()
    let list = try engine.readModel { reader -> [(Appointment, Slot?, [AppointmentEvent])] in
        try reader.appointments(states: states, fnr: fnr).map {
            ($0, try reader.slot(id: $0.slotId), history ? try reader.events(appointmentId: $0.id) : [])
        }
    }
    for (appointment, slot, events) in list {
        defer {
            for event in events {
                print(
                    "    \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(event.at))))  \(event.kind.rawValue)  by \(event.actor.description)\(event.text.map { "  \"\($0)\"" } ?? "")"
                )
            }
        }
        identity.line(
            "\(appointment.id)  \(appointment.state.rawValue)  \(appointment.bookId)  \(slot.map { "\($0.start)" } ?? "?")  patient \(appointment.fnr)\(appointment.text.map { "  \"\($0)\"" } ?? "")"
        )
    }
    print("\(list.count) booking\(list.count == 1 ? "" : "s").")
}
