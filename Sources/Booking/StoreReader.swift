import Foundation
package import GRDB
import Synchronization
import TimebokCore

/// Books decoded from their settings JSON, keyed by that JSON: a book is read for every message
/// (HentLedigeTimer reads it twice), and decoding it with Codable cost more than the query. Keyed by
/// content, an entry can never be stale; the cache is emptied when it grows past a bound.
private let decodedBooks = Mutex<[String: Book]>([:])
private let decodedBooksLimit = 256

/// Read access inside a transaction or snapshot.
public struct StoreReader: ModelReader {
    let db: Database
    /// The write transaction's reads kept for reuse (nil in a snapshot).
    var cache: TransactionReadCache? = nil

    /// The transaction's connection, for the engine's own tables.
    package var database: Database { db }

    public func bookingEnabled() throws -> Bool {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM setting WHERE key = 'booking_enabled'"))
            != "false"
    }

    public func book(id: String) throws -> Book? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT settings FROM book WHERE id = ?"), arguments: [id]).map(
            decodeBook)
    }

    public func book(herId: String) throws -> Book? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT settings FROM book WHERE her_id = ?"), arguments: [herId])
            .map(decodeBook)
    }

    public func books() throws -> [Book] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT settings FROM book ORDER BY id")).map(decodeBook)
    }

    public func gp(hpr: String) throws -> GP? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM gp WHERE hpr = ?"), arguments: [hpr]).map(gp)
    }

    public func gp(herId: String) throws -> GP? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM gp WHERE her_id = ?"), arguments: [herId]).map(gp)
    }

    public func gps() throws -> [GP] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM gp ORDER BY family_name, given_name")).map(gp)
    }

    public func slot(id: String) throws -> Slot? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(slotColumns) FROM slot WHERE id = ?"), arguments: [id]).map(
            slot)
    }

    public func slots(bookId: String, overlappingFrom fromSeconds: Int, to toSeconds: Int) throws -> [Slot] {
        // Slots are at most a wall-clock day long (25 real hours on the autumn change day), so the
        // index range on start_utc can begin 25 hours early.
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(slotColumns) FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? AND end_utc > ?
                    ORDER BY start_utc
                    """), arguments: [bookId, fromSeconds - 90_000, toSeconds, fromSeconds]
        ).map(slot)
    }

    /// Open slots with free capacity that start in [fromSeconds, toSeconds), by start (an index range scan).
    public func freeSlots(bookId: String, fromSeconds: Int, toSeconds: Int) throws -> [Slot] {
        let key = TransactionReadCache.FreeSlotsKey(bookId: bookId, fromSeconds: fromSeconds, toSeconds: toSeconds)
        if let slots = cache?.freeSlots[key] { return slots }
        // A cursor maps each row in place (no copy of every row first): this runs for every
        // HentLedigeTimer, about 120 rows each.
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(slotColumns) FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? AND status = 'open' AND active < capacity
                    ORDER BY start_utc
                    """), arguments: [bookId, fromSeconds, toSeconds])
        var slots: [Slot] = []
        while let row = try rows.next() { slots.append(slot(row)) }
        cache?.freeSlots[key] = slots
        return slots
    }

    /// Every slot of a book starting in [fromSeconds, toSeconds) (operators' listing).
    public func slots(bookId: String, fromSeconds: Int, toSeconds: Int) throws -> [Slot] {
        try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT \(slotColumns) FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? ORDER BY start_utc"
            ),
            arguments: [bookId, fromSeconds, toSeconds]
        ).map(slot)
    }

    public func slotCount(bookId: String) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM slot WHERE book_id = ?"), arguments: [bookId])
            ?? 0
    }

    public func patient(fnr: String) throws -> ListPatient? {
        guard
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM patient WHERE fnr = ?"), arguments: [fnr])
        else {
            return nil
        }
        let groups = try String.fetchAll(
            db.cachedStatement(sql: "SELECT name FROM patient_group WHERE fnr = ? ORDER BY name"), arguments: [fnr])
        return ListPatient(
            fnr: row["fnr"], familyName: row["family_name"], givenName: row["given_name"], groups: groups,
            digitallyInactive: row["digitally_inactive"])
    }

    public func patients() throws -> [ListPatient] {
        let groups = Dictionary(
            grouping: try Row.fetchAll(db.cachedStatement(sql: "SELECT fnr, name FROM patient_group ORDER BY name")),
            by: { $0["fnr"] as String })
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM patient ORDER BY family_name, given_name")).map {
            row in
            let fnr: String = row["fnr"]
            return ListPatient(
                fnr: fnr, familyName: row["family_name"], givenName: row["given_name"],
                groups: (groups[fnr] ?? []).map { $0["name"] }, digitallyInactive: row["digitally_inactive"])
        }
    }

    public func patientCount() throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM patient")) ?? 0
    }

    public func appointment(id: String) throws -> Appointment? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM appointment WHERE id = ?"), arguments: [id]).map(
            appointment)
    }

    /// The earliest hold time of a request still waiting (seconds since the epoch).
    public func nextHoldExpiry() throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT MIN(hold_until) FROM appointment WHERE state = 'requested'"))
    }

    public func expiredHolds(now: Int) throws -> [Appointment] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT * FROM appointment WHERE state = 'requested' AND hold_until <= ? ORDER BY hold_until, id"),
            arguments: [now]
        ).map(appointment)
    }

    public func appointments(inSlot slotId: String) throws -> [Appointment] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM appointment WHERE slot_id = ? ORDER BY created_at, id"),
            arguments: [slotId]
        ).map(appointment)
    }

    /// Bookings, newest slot last, optionally only in some states or of one patient.
    public func appointments(states: [Appointment.State]? = nil, fnr: String? = nil) throws -> [Appointment] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let states {
            conditions.append("a.state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
            arguments += states.map(\.rawValue)
        }
        if let fnr {
            conditions.append("a.fnr = ?")
            arguments.append(fnr)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(
            db.makeStatement(
                sql:
                    "SELECT a.* FROM appointment a JOIN slot s ON s.id = a.slot_id \(filter) ORDER BY s.start_utc, a.id"
            ),
            arguments: StatementArguments(arguments)
        ).map(appointment)
    }

    /// The patient's requested and confirmed bookings whose slot starts after `afterSeconds`, by start.
    public func upcomingBookings(fnr: String, afterSeconds: Int) throws -> [Appointment] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT a.* FROM appointment a JOIN slot s ON s.id = a.slot_id
                    WHERE a.fnr = ? AND a.state IN ('requested', 'confirmed') AND s.start_utc > ? ORDER BY s.start_utc, a.id
                    """), arguments: [fnr, afterSeconds]
        ).map(appointment)
    }

    public func activeBookings(fnr: String, bookId: String, afterSeconds: Int) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT COUNT(*) FROM appointment a JOIN slot s ON s.id = a.slot_id
                    WHERE a.fnr = ? AND a.book_id = ? AND a.state IN ('requested', 'confirmed') AND s.start_utc > ?
                    """), arguments: [fnr, bookId, afterSeconds]) ?? 0
    }

    public func events(appointmentId: String) throws -> [AppointmentEvent] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM appointment_event WHERE appointment_id = ? ORDER BY id"),
            arguments: [appointmentId]
        ).map { row in
            AppointmentEvent(
                appointmentId: row["appointment_id"], kind: AppointmentEvent.Kind(rawValue: row["kind"]) ?? .requested,
                at: row["at"],
                actor: (try? JSONDecoder().decode(Actor.self, from: Data((row["actor"] as String).utf8))) ?? .system,
                text: row["text"], previousSlotId: row["previous_slot_id"],
                rejection: (row["answer_code"] as String?).flatMap(RejectionKind.init(rawValue:)))
        }
    }

    // MARK: Row mapping

    private func decodeBook(_ json: String) throws -> Book {
        if let book = decodedBooks.withLock({ $0[json] }) { return book }
        let book = try JSONDecoder().decode(Book.self, from: Data(json.utf8))
        decodedBooks.withLock {
            if $0.count >= decodedBooksLimit { $0.removeAll(keepingCapacity: true) }
            $0[json] = book
        }
        return book
    }

    private func gp(_ row: Row) -> GP {
        GP(
            herId: row["her_id"], hpr: row["hpr"], familyName: row["family_name"], givenName: row["given_name"],
            ressursoversiktEnabled: row["ressursoversikt"], personalBookOpen: row["personal_book_open"])
    }

    /// The columns ``slot(_:)`` reads, by position (a lookup by name costs more than the rest of the mapping).
    private var slotColumns: String { "id, book_id, start_local, end_local, capacity, status, active" }

    private func slot(_ row: Row) -> Slot {
        Slot(
            id: row[0], bookId: row[1],
            start: LocalDateTime(row[2] as String) ?? LocalDateTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0),
            end: LocalDateTime(row[3] as String) ?? LocalDateTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0),
            capacity: row[4], status: Slot.Status(rawValue: row[5]) ?? .closed, activeBookings: row[6])
    }

    private func appointment(_ row: Row) -> Appointment {
        Appointment(
            id: row["id"], bookId: row["book_id"], slotId: row["slot_id"], fnr: row["fnr"],
            state: Appointment.State(rawValue: row["state"]) ?? .cancelled, subject: row["subject"], text: row["text"],
            createdAt: row["created_at"], holdUntil: row["hold_until"], requestMsgId: row["request_msg_id"],
            conversationId: row["conversation_id"],
            cancellationReason: (row["cancellation_reason"] as String?).flatMap(CancellationCause.init(rawValue:)))
    }
}
