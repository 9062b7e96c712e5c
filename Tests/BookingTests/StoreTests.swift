import Foundation
import Testing
import TimebokCore

@testable import Booking

/// The handler and the store together, in memory: what a command does and refuses.
final class TestModel {
    let store: BookingStore
    var counter = 0
    var now: Int
    lazy var handler = CommandHandler(
        settings: ModelSettings(maxSlotsPerCommand: 5_000),
        newId: { [unowned self] in
            self.counter += 1
            return "id-\(self.counter)"
        })

    init(now: LocalDateTime = LocalDateTime(year: 2026, month: 12, day: 1, hour: 12, minute: 0)) throws {
        store = try BookingStore()
        self.now = Oslo.secondsSinceEpoch(for: now)
    }

    @discardableResult
    func run(_ command: Command) throws -> Decision {
        try store.write { writer in
            let decision = try handler.decide(
                CommandEnvelope(id: "c", command: command), model: writer.reader, now: now)
            try writer.apply(decision)
            return decision
        }
    }

    func refusal(_ command: Command) -> ModelError? {
        do {
            try run(command)
            return nil
        } catch let error as ModelError {
            return error
        } catch {
            return ModelError(.storage, "\(error)")
        }
    }

    static let lab = Book(
        id: "lab", kind: .resource, name: "Lab", category: .lab, herId: "1234501", informationText: "Faste.",
        published: true, slotMinutes: 15, capacity: 2)

    func withLab() throws -> TestModel {
        try run(.createBook(Self.lab))
        return self
    }

    func slot(_ id: String) throws -> Slot { try #require(try store.read { try $0.slot(id: id) }) }
    func appointment(_ id: String) throws -> Appointment { try #require(try store.read { try $0.appointment(id: id) }) }
}

let patientFnr = fnr(born: LocalDate(year: 1950, month: 2, day: 3))
let otherFnr = fnr(born: LocalDate(year: 1960, month: 4, day: 5))

@Suite struct BooksAndSettings {
    @Test func createUpdateAndRefuse() throws {
        let model = try TestModel().withLab()
        #expect(model.refusal(.createBook(TestModel.lab))?.code == .bookExists)
        var long = TestModel.lab
        long.id = "other"
        long.herId = "99"
        long.informationText = String(repeating: "x", count: 301)
        #expect(model.refusal(.createBook(long))?.code == .informationTextTooLong)
        long.informationText = String(repeating: "æ", count: 300)
        #expect(model.refusal(.createBook(long)) == nil, "300 characters is the limit, in characters")
        var sameHer = TestModel.lab
        sameHer.id = "third"
        #expect(model.refusal(.createBook(sameHer))?.code == .herIdInUse)
        var noCategory = sameHer
        noCategory.herId = "77"
        noCategory.category = nil
        #expect(model.refusal(.createBook(noCategory))?.code == .invalidBookSettings)
        let personal = Book(id: "gp", kind: .personal, name: "GP", gpHpr: "123", slotMinutes: 20)
        #expect(model.refusal(.createBook(personal))?.code == .unknownGP)
        try model.run(
            .setGP(
                GP(
                    herId: "91095", hpr: "123", familyName: "Fjeld", givenName: "Hanne", ressursoversiktEnabled: true,
                    personalBookOpen: true)))
        try model.run(.createBook(personal))
        var update = BookUpdate(id: "lab")
        update.published = false
        update.access = AccessRule(minAge: 65, groups: ["risikogruppe"])
        try model.run(.updateBook(update))
        let lab = try #require(try model.store.read { try $0.book(id: "lab") })
        #expect(!lab.published && lab.access.minAge == 65 && lab.informationText == "Faste.")
        #expect(model.refusal(.updateBook(BookUpdate(id: "nosuch")))?.code == .unknownBook)
        #expect(try model.store.read { try $0.book(herId: "1234501")?.id } == "lab")
    }

    @Test func officeSwitchAndGPSettings() throws {
        let model = try TestModel()
        #expect(try model.store.read { try $0.bookingEnabled() })
        try model.run(.setBookingEnabled(false))
        #expect(try !model.store.read { try $0.bookingEnabled() })
        try model.run(
            .setGP(
                GP(
                    herId: "91095", hpr: "123", familyName: "Fjeld", givenName: "Hanne", ressursoversiktEnabled: false,
                    personalBookOpen: true)))
        #expect(try model.store.read { try $0.gp(herId: "91095")?.ressursoversiktEnabled } == false)
        #expect(
            model.refusal(
                .setGP(
                    GP(
                        herId: "91095", hpr: "999", familyName: "X", givenName: "Y", ressursoversiktEnabled: true,
                        personalBookOpen: true)))?.code == .herIdInUse)
    }
}

@Suite struct SlotsAndCapacity {
    @Test func openingOverlapsAndClosing() throws {
        let model = try TestModel().withLab()
        let monday = LocalDate(year: 2026, month: 12, day: 7)
        try model.run(
            .openSlotsFromHours(
                bookId: "lab", from: monday, to: monday.adding(days: 4),
                hours: (1...5).map { WeeklyHours(weekday: $0, startMinute: 480, endMinute: 540) }, slotMinutes: nil,
                closedDays: []))
        #expect(try model.store.read { try $0.slotCount(bookId: "lab") } == 20)
        let overlap = model.refusal(
            .openSlot(
                bookId: "lab", start: LocalDateTime(date: monday, hour: 8, minute: 10),
                end: LocalDateTime(date: monday, hour: 8, minute: 20), capacity: nil))
        #expect(overlap?.code == .slotOverlap)
        #expect(overlap?.message.contains("2026-12-07T08:00:00") == true)
        #expect(
            model.refusal(
                .openSlotsFromHours(
                    bookId: "lab", from: monday, to: monday,
                    hours: [WeeklyHours(weekday: 1, startMinute: 530, endMinute: 600)], slotMinutes: nil, closedDays: []
                ))?.code == .slotOverlap,
            "a batch overlapping at its first slot is refused whole")
        #expect(try model.store.read { try $0.slotCount(bookId: "lab") } == 20, "nothing opened")
        // Sending the same hours again over a longer range extends it: identical open slots are skipped.
        let extended = try model.run(
            .openSlotsFromHours(
                bookId: "lab", from: monday, to: monday.adding(days: 7),
                hours: (1...5).map { WeeklyHours(weekday: $0, startMinute: 480, endMinute: 540) }, slotMinutes: nil,
                closedDays: []))
        #expect(
            extended.summary.contains("Opened 4 slots") && extended.summary.contains("(20 already open)"),
            "\(extended.summary)")
        #expect(try model.store.read { try $0.slotCount(bookId: "lab") } == 24)
        // Back to back is not an overlap.
        try model.run(
            .openSlot(
                bookId: "lab", start: LocalDateTime(date: monday, hour: 9, minute: 0),
                end: LocalDateTime(date: monday, hour: 9, minute: 15), capacity: 3))
        #expect(
            model.refusal(
                .openSlot(
                    bookId: "lab", start: LocalDateTime(date: monday, hour: 20, minute: 0),
                    end: LocalDateTime(date: monday.adding(days: 1), hour: 21, minute: 0), capacity: nil))?.code
                == .invalidTime, "longer than a day")
        #expect(
            model.refusal(
                .openSlot(
                    bookId: "lab", start: LocalDateTime(date: monday, hour: 10, minute: 0),
                    end: LocalDateTime(date: monday, hour: 9, minute: 0), capacity: nil))?.code == .invalidTime)
        #expect(
            model.refusal(
                .openSlot(
                    bookId: "lab", start: LocalDateTime(year: 2027, month: 3, day: 28, hour: 2, minute: 15),
                    end: LocalDateTime(year: 2027, month: 3, day: 28, hour: 2, minute: 30), capacity: nil))?.code
                == .invalidTime,
            "02:15 does not exist on the spring-forward day")
        #expect(
            model.refusal(
                .openSlot(
                    bookId: "nosuch", start: LocalDateTime(date: monday, hour: 9, minute: 0),
                    end: LocalDateTime(date: monday, hour: 9, minute: 15), capacity: nil))?.code == .unknownBook)
        #expect(
            model.refusal(
                .openSlotsFromHours(
                    bookId: "lab", from: monday, to: monday.adding(days: 3_000),
                    hours: [WeeklyHours(weekday: 1, startMinute: 0, endMinute: 1_440)], slotMinutes: 1, closedDays: []))?
                .code == .tooManySlots)
    }

    @Test func capacityTwoTakesTwoAndClosingWithBookingsNeedsForce() throws {
        let model = try TestModel().withLab()
        try model.run(
            .importPatients(
                mode: .replace,
                patients: [
                    ListPatient(fnr: patientFnr, familyName: "A", givenName: "B"),
                    ListPatient(fnr: otherFnr, familyName: "C", givenName: "D"),
                    ListPatient(
                        fnr: fnr(born: LocalDate(year: 1970, month: 1, day: 1)), familyName: "E", givenName: "F"),
                ]))
        let start = LocalDateTime(year: 2026, month: 12, day: 7, hour: 8, minute: 0)
        let opened = try model.run(
            .openSlot(bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: nil))
        let slotId = try #require(opened.created.first?.id)
        try model.run(.bookAppointment(slotId: slotId, fnr: patientFnr, text: nil))
        #expect(try model.slot(slotId).freeCapacity == 1)
        let second = try model.run(.bookAppointment(slotId: slotId, fnr: otherFnr, text: nil))
        #expect(try model.slot(slotId).freeCapacity == 0)
        #expect(
            model.refusal(
                .bookAppointment(slotId: slotId, fnr: fnr(born: LocalDate(year: 1970, month: 1, day: 1)), text: nil))?
                .code == .slotFull)
        // The free-slot query no longer offers it.
        let window = (Oslo.secondsSinceEpoch(for: start) - 10, Oslo.secondsSinceEpoch(for: start) + 10)
        #expect(
            try model.store.read { try $0.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1) }.isEmpty
        )

        let refused = model.refusal(.closeSlot(slotId: slotId, force: false, reason: nil))
        #expect(refused?.code == .slotHasBookings)
        #expect(refused?.message.contains("2 bookings") == true)
        let closed = try model.run(.closeSlot(slotId: slotId, force: true, reason: "Sykdom"))
        #expect(closed.events.count == 2 && closed.events.allSatisfy { $0.kind == .cancelled && $0.text == "Sykdom" })
        let slot = try model.slot(slotId)
        #expect(slot.status == .closed && slot.activeBookings == 0)
        let cancelled = try model.appointment(try #require(second.created.first?.id))
        #expect(cancelled.state == .cancelled && cancelled.cancellationReason == .byService)
    }
}

@Suite struct PatientsImport {
    @Test func replaceUpdateIdempotentAndInvalidNumbers() throws {
        let model = try TestModel()
        let a = ListPatient(fnr: patientFnr, familyName: "A", givenName: "B", groups: ["risikogruppe"])
        let b = ListPatient(fnr: otherFnr, familyName: "C", givenName: "D")
        try model.run(.importPatients(mode: .replace, patients: [a, b]))
        try model.run(.importPatients(mode: .replace, patients: [a, b]))
        #expect(try model.store.read { try $0.patients() } == [a, b], "importing twice changes nothing")
        var renamed = b
        renamed.familyName = "Changed"
        renamed.groups = ["helsepersonell"]
        try model.run(.importPatients(mode: .update, patients: [renamed]))
        #expect(try model.store.read { try $0.patients() }.map(\.familyName).sorted() == ["A", "Changed"])
        try model.run(.importPatients(mode: .replace, patients: [renamed]))
        #expect(
            try model.store.read { try $0.patients() } == [renamed],
            "replace removes patients not in the file, and their groups")
        let bad = ListPatient(fnr: "12345678901", familyName: "X", givenName: "Y")
        let error = model.refusal(.importPatients(mode: .update, patients: [a, bad]))
        #expect(error?.code == .invalidIdentityNumber)
        #expect(error?.message.contains("123456*****") == true, "numbers are masked in messages")
        #expect(try model.store.read { try $0.patientCount() } == 1, "nothing imported")
        #expect(model.refusal(.importPatients(mode: .update, patients: [a, a]))?.code == .invalidValue)
    }
}

@Suite struct LifeCycle {
    func prepared() throws -> (TestModel, String, String) {
        let model = try TestModel().withLab()
        try model.run(
            .importPatients(mode: .replace, patients: [ListPatient(fnr: patientFnr, familyName: "A", givenName: "B")]))
        let day = LocalDate(year: 2026, month: 12, day: 7)
        try model.run(
            .openSlotsFromHours(
                bookId: "lab", from: day, to: day, hours: [WeeklyHours(weekday: 1, startMinute: 480, endMinute: 510)],
                slotMinutes: nil, closedDays: []))
        let slots = try model.store.read { try $0.slots(bookId: "lab", fromSeconds: 0, toSeconds: Int.max / 2) }
        return (model, slots[0].id, slots[1].id)
    }

    @Test func requestedThenConfirmedOrRejected() throws {
        let (model, first, _) = try prepared()
        let request = Appointment(
            id: "r1", bookId: "lab", slotId: first, fnr: patientFnr, state: .requested, createdAt: model.now,
            holdUntil: model.now + 3_600)
        try model.store.write {
            try $0.apply(
                Decision(
                    changes: [.insertAppointment(request)],
                    events: [AppointmentEvent(appointmentId: "r1", kind: .requested, at: model.now, actor: .citizen)],
                    summary: ""))
        }
        #expect(try model.slot(first).activeBookings == 1, "a held request takes its place")
        try model.run(
            .confirmRequest(
                requestId: "r1", by: Staff(familyName: "Nes", givenName: "Sigrid", hpr: "9231476"), text: "Velkommen"))
        #expect(try model.appointment("r1").state == .confirmed)
        #expect(
            model.refusal(
                .confirmRequest(requestId: "r1", by: Staff(familyName: "Nes", givenName: "Sigrid"), text: nil))?.code
                == .wrongState)
        #expect(model.refusal(.rejectRequest(requestId: "r1", reason: "x", kind: nil))?.code == .wrongState)
        let history = try model.store.read { try $0.events(appointmentId: "r1") }
        #expect(history.map(\.kind) == [.requested, .confirmed])
        #expect(history[1].actor == .office(name: "Sigrid Nes", hpr: "9231476"))
        #expect(model.refusal(.rejectRequest(requestId: "nosuch", reason: "x", kind: nil))?.code == .unknownAppointment)
    }

    @Test func unansweredRequestsExpireAtTheirHoldTime() throws {
        let (model, first, second) = try prepared()
        for (id, slot, hold) in [("r1", first, model.now + 3_600), ("r2", second, model.now + 7_200)] {
            let request = Appointment(
                id: id, bookId: "lab", slotId: slot, fnr: patientFnr, state: .requested, createdAt: model.now,
                holdUntil: hold)
            try model.store.write { try $0.apply(Decision(changes: [.insertAppointment(request)], summary: "")) }
        }
        let early = try model.store.read { try model.handler.expireHolds(model: $0, now: model.now + 3_599) }
        #expect(early.changes.isEmpty)
        let due = try model.store.write { writer in
            let decision = try model.handler.expireHolds(model: writer.reader, now: model.now + 3_600)
            try writer.apply(decision)
            return decision
        }
        #expect(
            due.events.map(\.appointmentId) == ["r1"] && due.events[0].kind == .expired
                && due.events[0].actor == .system)
        #expect(
            try model.appointment("r1").state == .expired && model.slot(first).activeBookings == 0,
            "the place is released")
        #expect(try model.appointment("r2").state == .requested && model.slot(second).activeBookings == 1)
    }

    @Test func bookMoveCancelNoShowComplete() throws {
        let (model, first, second) = try prepared()
        let booked = try model.run(.bookAppointment(slotId: first, fnr: patientFnr, text: "Kontroll"))
        let id = try #require(booked.created.first?.id)
        #expect(model.refusal(.bookAppointment(slotId: first, fnr: otherFnr, text: nil))?.code == .patientNotOnList)
        try model.run(.moveAppointment(appointmentId: id, newSlotId: second))
        #expect(try model.slot(first).activeBookings == 0 && model.slot(second).activeBookings == 1)
        #expect(try model.appointment(id).slotId == second)
        #expect(model.refusal(.recordNoShow(appointmentId: id))?.code == .wrongState, "not started yet")
        model.now = Oslo.secondsSinceEpoch(for: LocalDateTime(year: 2026, month: 12, day: 7, hour: 9, minute: 0))
        try model.run(.recordNoShow(appointmentId: id))
        #expect(try model.appointment(id).state == .noShow)
        #expect(try model.slot(second).activeBookings == 0)
        #expect(model.refusal(.completeAppointment(appointmentId: id))?.code == .wrongState)
        #expect(
            model.refusal(.cancelAppointment(appointmentId: id, reason: .byService, text: nil))?.code == .wrongState)
        let history = try model.store.read { try $0.events(appointmentId: id) }
        #expect(history.map(\.kind) == [.confirmed, .moved, .noShow])
        #expect(history[1].previousSlotId == first)
    }

    @Test func refusalsAroundMovingConfirmingAndDoubleBooking() throws {
        let (model, first, second) = try prepared()
        let id = try #require(
            try model.run(.bookAppointment(slotId: first, fnr: patientFnr, text: nil)).created.first?.id)
        #expect(
            model.refusal(.bookAppointment(slotId: first, fnr: patientFnr, text: nil))?.message.contains(
                "already has a booking") == true, "capacity is for parallel staff, not the same patient twice")
        // Another book's slot is not a move target.
        var vaccine = TestModel.lab
        vaccine.id = "vaksine"
        vaccine.herId = "1234502"
        try model.run(.createBook(vaccine))
        let other = try #require(
            try model.run(
                .openSlot(
                    bookId: "vaksine", start: LocalDateTime(year: 2026, month: 12, day: 8, hour: 8, minute: 0),
                    end: LocalDateTime(year: 2026, month: 12, day: 8, hour: 8, minute: 15), capacity: nil)
            ).created.first?.id)
        #expect(
            model.refusal(.moveAppointment(appointmentId: id, newSlotId: other))?.message.contains(
                "moves within its own book") == true)
        // A request past its hold time cannot be confirmed.
        let request = Appointment(
            id: "r9", bookId: "lab", slotId: second, fnr: otherFnr, state: .requested, createdAt: model.now,
            holdUntil: model.now - 1)
        try model.store.write { try $0.apply(Decision(changes: [.insertAppointment(request)], summary: "")) }
        #expect(
            model.refusal(
                .confirmRequest(requestId: "r9", by: Staff(familyName: "Nes", givenName: "Sigrid"), text: nil))?.message
                .contains("has expired") == true)
        try model.run(.rejectRequest(requestId: "r9", reason: "Fullt", kind: .slotTaken))
        #expect(
            try model.store.read { try $0.events(appointmentId: "r9") }.last?.rejection == .slotTaken,
            "the office's chosen answer is kept")
    }

    @Test func herIdsAreNotShared() throws {
        let model = try TestModel().withLab()
        try model.run(
            .setGP(
                GP(
                    herId: "91095", hpr: "123", familyName: "Fjeld", givenName: "Hanne", ressursoversiktEnabled: true,
                    personalBookOpen: true)))
        var clash = TestModel.lab
        clash.id = "x"
        clash.herId = "91095"
        #expect(model.refusal(.createBook(clash))?.code == .herIdInUse)
        let personal = Book(id: "gp", kind: .personal, name: "GP", herId: "555", gpHpr: "123", slotMinutes: 20)
        #expect(model.refusal(.createBook(personal))?.code == .invalidBookSettings)
    }

    // The reason is one of four causes by type; a text that is none of the protocol's four is refused
    // where it is read (TimebokEngineTests: aCancellationReasonMustBeOneOfTheFour).
    @Test func cancelKeepsItsCause() throws {
        let (model, first, _) = try prepared()
        let id = try #require(
            try model.run(.bookAppointment(slotId: first, fnr: patientFnr, text: nil)).created.first?.id)
        try model.run(.cancelAppointment(appointmentId: id, reason: .onBehalfOfRecipient, text: "Ringte og avbestilte"))
        #expect(try model.appointment(id).cancellationReason == .onBehalfOfRecipient)
        #expect(try model.appointment(id).state == .cancelled)
        #expect(try model.slot(first).activeBookings == 0)
    }
}

/// Reads a write transaction keeps for reuse (free slots; books by content) must never show what
/// the transaction changed or undid since.
@Suite struct ReadsKeptInATransaction {
    /// A lab book with one open slot of capacity one, and the window around it.
    func labWithOneSlot() throws -> (TestModel, slotId: String, window: (Int, Int)) {
        let model = try TestModel().withLab()
        try model.run(
            .importPatients(mode: .replace, patients: [ListPatient(fnr: patientFnr, familyName: "A", givenName: "B")]))
        let start = LocalDateTime(year: 2026, month: 12, day: 7, hour: 8, minute: 0)
        let opened = try model.run(
            .openSlot(bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: 1))
        let slotId = try #require(opened.created.first?.id)
        return (model, slotId, (Oslo.secondsSinceEpoch(for: start) - 10, Oslo.secondsSinceEpoch(for: start) + 10))
    }

    func decide(_ command: Command, _ model: TestModel, _ writer: StoreWriter) throws {
        let decision = try model.handler.decide(
            CommandEnvelope(id: "c", command: command), model: writer.reader, now: model.now)
        try writer.apply(decision)
    }

    @Test func aChangeInTheTransactionIsSeenByTheNextRead() throws {
        let (model, slotId, window) = try labWithOneSlot()
        let (before, again, after) = try model.store.write { writer in
            let before = try writer.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
            let again = try writer.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
            try decide(.bookAppointment(slotId: slotId, fnr: patientFnr, text: nil), model, writer)
            let after = try writer.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
            return (before, again, after)
        }
        #expect(before.map(\.id) == [slotId] && again == before)
        #expect(after.isEmpty, "the slot is full now")
    }

    @Test func aSavepointUndoneIsNotSeenByTheNextRead() throws {
        let (model, slotId, window) = try labWithOneSlot()
        struct Undo: Error {}
        let (inside, afterUndo) = try model.store.write { writer in
            var inside: [Slot]?
            #expect(throws: Undo.self) {
                try writer.savepoint { writer in
                    try decide(.bookAppointment(slotId: slotId, fnr: patientFnr, text: nil), model, writer)
                    inside = try writer.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
                    throw Undo()
                }
            }
            let afterUndo = try writer.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
            return (inside, afterUndo)
        }
        #expect(inside?.isEmpty == true, "inside the savepoint the slot was full")
        #expect(afterUndo.map(\.id) == [slotId], "the booking was undone, so the slot is free again")
    }

    @Test func aNewTransactionSeesWhatAnotherConnectionCommitted() throws {
        let (model, slotId, window) = try labWithOneSlot()
        let first = try model.store.write {
            try $0.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
        }
        try model.run(.bookAppointment(slotId: slotId, fnr: patientFnr, text: nil))
        let second = try model.store.write {
            try $0.reader.freeSlots(bookId: "lab", fromSeconds: window.0, toSeconds: window.1)
        }
        #expect(first.map(\.id) == [slotId] && second.isEmpty)
    }

    @Test func aBookChangedIsReadWithItsNewSettings() throws {
        let model = try TestModel().withLab()
        #expect(try model.store.read { try $0.book(herId: "1234501") }?.informationText == "Faste.")
        var update = BookUpdate(id: "lab")
        update.informationText = "Ta med legitimasjon."
        try model.run(.updateBook(update))
        #expect(try model.store.read { try $0.book(herId: "1234501") }?.informationText == "Ta med legitimasjon.")
        #expect(try model.store.read { try $0.book(id: "lab") }?.informationText == "Ta med legitimasjon.")
    }
}
