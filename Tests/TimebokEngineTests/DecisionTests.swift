import Foundation
import Testing
import TimebokCore
import TimebokDemo
import TimebokTestKit

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine

// The conversation rules as pure decisions: (input, snapshot, context) -> Outcome, on the demo office
// in an in-memory database, with a fixed instant and numbered ids. No spool, no files, no clock.

/// The demo office in memory, a business instant that moves only when told, and ids `id-1`, `id-2` ….
final class Desk {
    let store: BookingStore
    let config = DemoOffice.config(officialSchemas: nil, ownSchemas: nil)
    /// 2026-12-01 12:00 in Oslo.
    var now = Oslo.secondsSinceEpoch(for: LocalDateTime(year: 2026, month: 12, day: 1, hour: 12, minute: 0))
    private(set) var counter = 0
    let helsenorge = Helsenorge()

    init() throws {
        store = try BookingStore(migrations: EngineRecords.migrations)
        for envelope in DemoOffice.commands(today: LocalDate(year: 2026, month: 12, day: 1)) {
            try command(envelope.command)
        }
    }

    var context: DecisionContext {
        DecisionContext(
            now: now, config: config,
            newId: { [unowned self] in
                counter += 1
                return "id-\(counter)"
            })
    }

    var conversations: Conversations { Conversations(context: context) }

    /// Applies an office command and its outcome, as the engine would (without files).
    @discardableResult
    func command(_ command: Command) throws -> Outcome {
        let context = context
        return try store.write { writer in
            let decision = try CommandHandler(newId: context.newId).decide(
                CommandEnvelope(id: "c", command: command), model: writer.reader, now: context.now)
            let outcome = try Conversations(context: context).officeEvents(of: decision, model: writer.reader)
            try writer.apply(outcome)
            return outcome
        }
    }

    /// The outcome of a helsenorge message against the current snapshot; `commit` applies it.
    func handle(_ message: DialogMessage, commit: Bool = false) throws -> Outcome {
        guard
            case .dialog(let decoded, let function) = try MessageCodec(schemas: nil).decode(
                MessageCodec.encode(message))
        else {
            throw DeskError.notADialog
        }
        return try store.write { writer in
            let outcome = try conversations.handle(decoded, function, meta: nil, model: writer.reader)
            if commit { try writer.apply(outcome) }
            return outcome
        }
    }

    enum DeskError: Error { case notADialog }

    func read<T>(_ body: (StoreReader) throws -> T) throws -> T { try store.read(body) }

    /// The first free slot of a book (on a date).
    func freeSlot(_ bookId: String, on date: LocalDate = LocalDate(year: 2026, month: 12, day: 3)) throws -> Slot {
        let from = Oslo.secondsSinceEpoch(for: LocalDateTime(date: date, hour: 0, minute: 0))
        return try #require(
            try read { try $0.freeSlots(bookId: bookId, fromSeconds: from, toSeconds: from + 86_400).first })
    }

    func contact(_ bookId: String) -> String { bookId == "lab" ? "1234501" : "1234502" }
}

extension Outcome {
    var labels: [String] { messages.map(\.label) }
    func dialog(_ index: Int) -> DialogMessage? {
        guard messages.indices.contains(index), case .dialog(let message) = messages[index].body else { return nil }
        return message
    }
    func text(_ index: Int) -> String? { dialog(index)?.notat?.tekstNotatInnhold }
}

struct FreeSlotDecisions {
    @Test func listsTheBooksFreeSlotsForAPatientWithAccess() throws {
        let desk = try Desk()
        let before = desk.counter
        let outcome = try desk.handle(
            desk.helsenorge.freeSlots(
                .lab, .ragnhild, from: LocalDate(year: 2026, month: 12, day: 2),
                to: LocalDate(year: 2026, month: 12, day: 2)))
        #expect(outcome.labels == ["SvarLedigeTimer-03"])
        let events = try #require(outcome.dialog(0)?.calendar?.events)
        // 08:00–11:00 in 15-minute slots, all free.
        #expect(
            events.count == 12
                && events.first?.start == LocalDateTime(year: 2026, month: 12, day: 2, hour: 8, minute: 0))
        #expect(outcome.dialog(0)?.info.msgId == "id-\(before + 1)", "ids come from the context")
        #expect(outcome.decision.changes.isEmpty && outcome.records.isEmpty && outcome.refusal == nil)
    }

    @Test func noFreeSlotsIsAnswered04() throws {
        let desk = try Desk()
        let outcome = try desk.handle(
            desk.helsenorge.freeSlots(
                .lab, .ragnhild, from: LocalDate(year: 2027, month: 3, day: 1),
                to: LocalDate(year: 2027, month: 3, day: 5)))
        #expect(outcome.labels == ["SvarLedigeTimer-04"])
    }

    /// The book-level reasons, each with its code and the citizen's exact text.
    @Test(arguments: [BookingRefusal.notOnline, .noAccess, .bookingSwitchedOff, .tooManyActiveBookings])
    func aBookThePatientCannotUseIsRefused(_ reason: BookingRefusal) throws {
        let desk = try Desk()
        var citizen = Citizen.ragnhild
        switch reason {
        case .notOnline:
            var update = BookUpdate(id: "lab")
            update.published = false
            try desk.command(.updateBook(update))
        case .noAccess: citizen = .eirik
        case .bookingSwitchedOff: try desk.command(.setBookingEnabled(false))
        case .tooManyActiveBookings:
            for date in [3, 4] {
                try desk.command(
                    .bookAppointment(
                        slotId: desk.freeSlot("lab", on: LocalDate(year: 2026, month: 12, day: date)).id,
                        fnr: citizen.fnr, text: nil))
            }
        default: Issue.record("not a book-level reason")
        }
        let outcome = try desk.handle(
            desk.helsenorge.freeSlots(
                .lab, citizen, from: LocalDate(year: 2026, month: 12, day: 2),
                to: LocalDate(year: 2026, month: 12, day: 9)))
        let code = WireVocabulary.answerCode(for: reason)
        #expect(outcome.labels == ["SvarLedigeTimer-\(code.rawValue)"])
        let lab = try #require(try desk.read { try $0.book(id: "lab") })
        #expect(
            outcome.text(0)
                == WireVocabulary.citizenText(
                    for: reason, book: lab, activeBookings: reason == .tooManyActiveBookings ? 2 : 0))
        #expect(outcome.decision.changes.isEmpty)
    }
}

struct ReserveDecisions {
    @Test func aManualBookHoldsTheRequestAndRecordsIt() throws {
        let desk = try Desk()
        let slot = try desk.freeSlot("lab")
        let outcome = try desk.handle(desk.helsenorge.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))
        #expect(outcome.labels == ["AppRec"], "held: the AppRec now, the answer when the office decides")
        guard case .insertAppointment(let appointment)? = outcome.decision.changes.first else {
            Issue.record("no appointment"); return
        }
        #expect(
            appointment.state == .requested && appointment.slotId == slot.id
                && appointment.holdUntil == desk.now + 1_440 * 60)
        #expect(outcome.records.count == 1, "the request is kept for the office's later answer")
        #expect(outcome.journal.map(\.event) == [.requested])
    }

    @Test func anAutomaticBookConfirmsAtOnce() throws {
        let desk = try Desk()
        let slot = try desk.freeSlot("influensavaksine")
        let outcome = try desk.handle(
            desk.helsenorge.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502"))
        #expect(outcome.labels == ["AppRec", "SvarTimeReservasjon-05"])
        #expect(outcome.decision.events.map(\.kind) == [.requested, .confirmed])
        #expect(
            outcome.records.map { if case .sent(let sent) = $0 { return sent.kind } else { return "?" } } == [
                "SvarTimeReservasjon 05"
            ])
        #expect(outcome.journal.map(\.event) == [.requested, .confirmed])
    }

    /// Every reason a request can be refused for: its code, the exact text, nothing booked.
    @Test(arguments: BookingRefusal.allCases)
    func eachRefusalReasonIsAnsweredWithItsCodeAndText(_ reason: BookingRefusal) throws {
        let desk = try Desk()
        var citizen = Citizen.ragnhild
        var slot = try desk.freeSlot("lab")
        var accepted = true
        var subject: String? = "Blodprøve"
        var text = "Jeg skal ta blodprøve."
        var active = 0
        switch reason {
        case .notOnline:
            var update = BookUpdate(id: "lab")
            update.published = false
            try desk.command(.updateBook(update))
        case .noAccess: citizen = .eirik
        case .bookingSwitchedOff: try desk.command(.setBookingEnabled(false))
        case .subjectTooLong: subject = String(repeating: "x", count: BookingRules.maxSubject + 1)
        case .textTooLong: text = String(repeating: "x", count: BookingRules.maxText + 1)
        case .prerequisitesNotAccepted: accepted = false
        case .tooManyActiveBookings:
            for date in [4, 7] {
                try desk.command(
                    .bookAppointment(
                        slotId: desk.freeSlot("lab", on: LocalDate(year: 2026, month: 12, day: date)).id,
                        fnr: citizen.fnr, text: nil))
            }
            active = 2
        case .slotStarted: desk.now = slot.startSeconds + 60
        case .insideBookingCutoff: desk.now = slot.startSeconds - 30 * 60
        case .beyondHorizon:
            var update = BookUpdate(id: "lab")
            update.bookingHorizonDays = 5
            try desk.command(.updateBook(update))
            slot = try desk.freeSlot("lab", on: LocalDate(year: 2026, month: 12, day: 14))
        case .alreadyHoldsSlot: try desk.command(.bookAppointment(slotId: slot.id, fnr: citizen.fnr, text: nil))
        case .slotUnavailable: slot.id = "no-such-slot"
        }
        let lab = try #require(try desk.read { try $0.book(id: "lab") })
        let outcome = try desk.handle(
            desk.helsenorge.reserve(
                .lab, citizen, slot: slot, contact: "1234501", accepted: accepted, subject: subject, text: text))
        let code = WireVocabulary.answerCode(for: reason)
        #expect(outcome.labels == ["AppRec", "SvarTimeReservasjon-\(code.rawValue)"])
        #expect(outcome.text(1) == WireVocabulary.citizenText(for: reason, book: lab, activeBookings: active))
        #expect(
            outcome.dialog(1)?.calendar?.events.first?.eventStatus == .cancelled,
            "the wanted slot is echoed as not booked")
        #expect(outcome.decision.changes.isEmpty, "nothing is booked")
        #expect(outcome.journal.map(\.event) == [.rejected] && outcome.journal.first?.answerCode == code.rawValue)
    }

    @Test func theAnswerCodesAreThoseOfTheProtocol() {
        #expect(WireVocabulary.answerCode(for: .noAccess).rawValue == "30")
        #expect(WireVocabulary.answerCode(for: .slotUnavailable).rawValue == "06")
        for reason in BookingRefusal.allCases where reason != .noAccess && reason != .slotUnavailable {
            #expect(WireVocabulary.answerCode(for: reason).rawValue == "26", "\(reason)")
        }
        #expect(WireVocabulary.answerCode(for: RejectionKind.slotTaken).rawValue == "06")
        #expect(WireVocabulary.answerCode(for: RejectionKind.declined).rawValue == "26")
    }
}

struct CancelDecisions {
    func booked(_ desk: Desk) throws -> (Slot, String) {
        let slot = try desk.freeSlot("lab")
        let outcome = try desk.command(.bookAppointment(slotId: slot.id, fnr: Citizen.ragnhild.fnr, text: nil))
        return (slot, try #require(outcome.decision.created.first?.id))
    }

    @Test func aCitizenCancelsInTime() throws {
        let desk = try Desk()
        let (slot, id) = try booked(desk)
        let outcome = try desk.handle(
            desk.helsenorge.cancel(.lab, .ragnhild, slot: slot, appointmentId: id, contact: "1234501"))
        #expect(outcome.labels == ["AppRec", "SvarTimeReservasjon-08"])
        #expect(
            outcome.decision.changes == [
                .setAppointmentState(appointmentId: id, state: .cancelled, cancellationReason: .byRecipient)
            ])
        #expect(
            outcome.dialog(1)?.calendar?.events.first?.cancellationReason == CancellationReason.byRecipient.rawValue)
    }

    @Test(arguments: CancellationRefusal.allCases)
    func eachCancellationRefusalIsAnswered09(_ reason: CancellationRefusal) throws {
        let desk = try Desk()
        let (slot, id) = try booked(desk)
        switch reason {
        case .notActive: try desk.command(.cancelAppointment(appointmentId: id, reason: .byService, text: nil))
        case .slotStarted: desk.now = slot.startSeconds + 60
        case .insideCancellationCutoff: desk.now = slot.startSeconds - 60 * 60
        }
        let lab = try #require(try desk.read { try $0.book(id: "lab") })
        let outcome = try desk.handle(
            desk.helsenorge.cancel(.lab, .ragnhild, slot: slot, appointmentId: id, contact: "1234501"))
        #expect(outcome.labels == ["AppRec", "SvarTimeReservasjon-09"])
        #expect(outcome.text(1) == WireVocabulary.citizenText(for: reason, book: lab))
        #expect(outcome.decision.changes.isEmpty)
    }

    @Test func anUnknownAppointmentIsAnswered09() throws {
        let desk = try Desk()
        let outcome = try desk.handle(
            desk.helsenorge.cancel(
                .lab, .ragnhild, slot: try desk.freeSlot("lab"), appointmentId: "nothing", contact: "1234501"))
        #expect(
            outcome.labels == ["AppRec", "SvarTimeReservasjon-09"] && outcome.text(1)?.contains("finner ikke") == true)
    }
}

struct OverviewAndPlannedDecisions {
    @Test func plannedBookingsAreListed01Or02() throws {
        let desk = try Desk()
        #expect(try desk.handle(desk.helsenorge.planned(.ragnhild)).labels == ["SvarPlanlagteTimer-02"])
        let slot = try desk.freeSlot("lab")
        let id = try #require(
            try desk.command(.bookAppointment(slotId: slot.id, fnr: Citizen.ragnhild.fnr, text: nil)).decision.created
                .first?.id)
        let outcome = try desk.handle(desk.helsenorge.planned(.ragnhild))
        #expect(outcome.labels == ["SvarPlanlagteTimer-01"])
        #expect(outcome.dialog(0)?.calendar?.events.map(\.relatedTo) == [id])
    }

    @Test func behandleroversiktNamesTheGPsWithOpenBooks() throws {
        let desk = try Desk()
        let request = desk.helsenorge.message(
            .behandleroversikt, to: .office, from: .ragnhild, ack: false,
            request: Foresporsel(typeForesp: RequestType.hentBehandlere.code))
        let outcome = try desk.handle(request)
        #expect(outcome.labels == ["Behandleroversikt-20"])
        #expect(outcome.dialog(0)?.practitioners?.map(\.hprNumber) == ["9144897"])
    }

    @Test func ressursoversiktListsTheBooksThePatientMayUse() throws {
        let desk = try Desk()
        let ragnhild = try desk.handle(desk.helsenorge.resourceOverview(.gp(herId: "91095"), .ragnhild))
        #expect(ragnhild.labels == ["Ressursoversikt-20"])
        #expect(ragnhild.dialog(0)?.resourceBooks?.map(\.id) == ["influensavaksine", "lab"])
        #expect(
            try desk.handle(desk.helsenorge.resourceOverview(.gp(herId: "91095"), .eirik)).labels == [
                "Ressursoversikt-21"
            ], "40 and in no group: no book")
    }

    @Test func aKommunikasjonstestIsAnsweredRKT() throws {
        let desk = try Desk()
        let test = desk.helsenorge.message(
            .test, to: .office, from: .ragnhild, ack: false,
            request: Foresporsel(typeForesp: CommunicationTestCode.kommunikasjonstest.code))
        #expect(try desk.handle(test).labels == ["Kommunikasjonstest-RKT"])
    }

    @Test func aMessageFromSomeoneElseIsRefusedUnanswered() throws {
        let desk = try Desk()
        var request = desk.helsenorge.freeSlots(
            .lab, .ragnhild, from: LocalDate(year: 2026, month: 12, day: 2),
            to: LocalDate(year: 2026, month: 12, day: 2))
        request.info.sender = Organisation(name: "Someone", idents: [.organisationHerId("999")])
        let outcome = try desk.handle(request)
        #expect(outcome.messages.isEmpty && outcome.refusal?.code == Refusal.Code.senderNotHelsenorge.rawValue)
    }
}

struct ReceiptDecisions {
    /// A sent SvarTimeReservasjon 05, committed: (its MsgInfo, the patient).
    func sentConfirmation(_ desk: Desk) throws -> MsgInfo {
        let slot = try desk.freeSlot("influensavaksine")
        let outcome = try desk.handle(
            desk.helsenorge.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502"),
            commit: true)
        return try #require(outcome.dialog(1)?.info)
    }

    @Test func anAppRecMarksTheMessageDeliveredOrTheFailure() throws {
        let desk = try Desk()
        let info = try sentConfirmation(desk)
        let ok = try #require(
            try desk.read {
                try desk.conversations.receive(
                    AppRec.answering(info, id: "r1", genDate: "2026-12-01T12:00:00Z"), model: $0)
            })
        #expect(
            ok.records == [.delivery(msgId: info.msgId, status: .delivered, errors: nil)] && ok.decision.changes.isEmpty
        )
        let e35 = try #require(
            try desk.read {
                try desk.conversations.receive(
                    AppRec.answering(
                        info, id: "r2", genDate: "2026-12-01T12:00:00Z", errors: [(.patientNotFound, "Ikke digital")]),
                    model: $0)
            })
        #expect(e35.records == [.delivery(msgId: info.msgId, status: .failed, errors: "E35 Ikke digital")])
        #expect(e35.decision.changes == [.setPatientDigitallyInactive(fnr: Citizen.ragnhild.fnr)])
    }

    @Test func anAppRecForNothingSentIsNotMatched() throws {
        let desk = try Desk()
        let stranger = desk.helsenorge.planned(.ragnhild).info
        #expect(
            try desk.read {
                try desk.conversations.receive(
                    AppRec.answering(stranger, id: "r1", genDate: "2026-12-01T12:00:00Z"), model: $0)
            } == nil)
    }
}

struct OfficeEventDecisions {
    /// A held Lab request, committed: its appointment id.
    func heldRequest(_ desk: Desk) throws -> String {
        let outcome = try desk.handle(
            desk.helsenorge.reserve(.lab, .ragnhild, slot: try desk.freeSlot("lab"), contact: "1234501"), commit: true)
        guard case .insertAppointment(let appointment)? = outcome.decision.changes.first else {
            throw Desk.DeskError.notADialog
        }
        return appointment.id
    }

    @Test func confirmingAHeldRequestAnswers05InItsConversation() throws {
        let desk = try Desk()
        let id = try heldRequest(desk)
        let outcome = try desk.command(
            .confirmRequest(requestId: id, by: Staff(familyName: "Lie", givenName: "Kari", hpr: "1234567"), text: nil))
        #expect(outcome.labels == ["SvarTimeReservasjon-05"])
        #expect(outcome.dialog(0)?.info.conversationRef != nil, "answered in the request's conversation")
        #expect(outcome.journal.first?.answerCode == "05")
    }

    @Test(arguments: [RejectionKind.declined, .slotTaken])
    func rejectingAnswersTheOfficesChosenCode(_ kind: RejectionKind) throws {
        let desk = try Desk()
        let id = try heldRequest(desk)
        let outcome = try desk.command(.rejectRequest(requestId: id, reason: "Fullt i dag.", kind: kind))
        #expect(outcome.labels == ["SvarTimeReservasjon-\(WireVocabulary.answerCode(for: kind).rawValue)"])
        #expect(outcome.text(0) == "Fullt i dag.")
    }

    @Test func anExpiredHoldIsAnswered26WithTheExpiryText() throws {
        let desk = try Desk()
        _ = try heldRequest(desk)
        desk.now += 1_440 * 60
        let outcome = try desk.store.write { writer in
            let decision = try CommandHandler(newId: desk.context.newId).expireHolds(
                model: writer.reader, now: desk.now)
            return try desk.conversations.officeEvents(of: decision, model: writer.reader)
        }
        #expect(outcome.labels == ["SvarTimeReservasjon-26"] && outcome.text(0) == WireVocabulary.expiredAnswer)
        #expect(outcome.journal.first?.text == WireVocabulary.expiredNote)
    }

    /// Rendered from the snapshot before the decision plus the decision: computing the outcome
    /// changes nothing; the engine applies both together.
    @Test func officeEventsAreRenderedBeforeAnythingIsApplied() throws {
        let desk = try Desk()
        let slot = try desk.freeSlot("lab")
        let outcome = try desk.store.write { writer -> Outcome in
            let decision = try CommandHandler(newId: desk.context.newId).decide(
                CommandEnvelope(
                    id: "b", command: .bookAppointment(slotId: slot.id, fnr: Citizen.ragnhild.fnr, text: nil)),
                model: writer.reader, now: desk.now)
            return try desk.conversations.officeEvents(of: decision, model: writer.reader)
        }
        #expect(outcome.labels == ["Avtale-05"], "the push for a booking the office made")
        #expect(try desk.read { try $0.appointments(inSlot: slot.id) }.isEmpty, "nothing was applied")
    }

    @Test(arguments: ["move", "cancel", "noShow", "complete"])
    func theOfficesChangesArePushed(_ change: String) throws {
        let desk = try Desk()
        let slot = try desk.freeSlot("lab")
        let id = try #require(
            try desk.command(.bookAppointment(slotId: slot.id, fnr: Citizen.ragnhild.fnr, text: nil)).decision.created
                .first?.id)
        let outcome: Outcome
        switch change {
        case "move":
            outcome = try desk.command(
                .moveAppointment(
                    appointmentId: id, newSlotId: desk.freeSlot("lab", on: LocalDate(year: 2026, month: 12, day: 4)).id)
            )
            #expect(outcome.labels == ["Avtale-07"])
        case "cancel":
            outcome = try desk.command(.cancelAppointment(appointmentId: id, reason: .byService, text: nil))
            #expect(outcome.labels == ["Avtale-08"])
            #expect(outcome.dialog(0)?.calendar?.events.first?.cancellationReason == "Avlyst av tjeneste")
        case "noShow":
            desk.now = slot.startSeconds + 60
            outcome = try desk.command(.recordNoShow(appointmentId: id))
            #expect(outcome.labels == ["Avtale-11"])
        default:
            desk.now = slot.startSeconds + 60
            outcome = try desk.command(.completeAppointment(appointmentId: id))
            #expect(outcome.labels == ["Avtale-MOA"])
        }
        #expect(outcome.records.count == 1, "each push is recorded as sent, for its AppRec")
    }
}

/// The ledger's content hash is SHA-256 (FIPS 180-4 test vectors).
@Suite struct ContentHashVectors {
    @Test func knownVectors() {
        #expect(ContentHash.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            ContentHash.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            ContentHash.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            ContentHash.hex([UInt8](repeating: 0x61, count: 1_000))
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
