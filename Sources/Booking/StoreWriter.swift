import Foundation
package import GRDB
import TimebokCore

/// Write access inside one transaction.
public struct StoreWriter {
    let db: Database
    let cache = TransactionReadCache()

    init(db: Database) { self.db = db }

    /// The transaction's connection, for the engine's own tables (committed with the model).
    package var database: Database { db }

    public var reader: StoreReader { StoreReader(db: db, cache: cache) }

    /// False once SQLite has undone the whole transaction by itself (a full disk, an I/O error):
    /// nothing more may be written in it.
    public var isInsideTransaction: Bool { db.isInsideTransaction }

    /// Runs `body` in a savepoint of this transaction: when it throws, what it wrote is undone and
    /// the error passed on, while the rest of the transaction stands (one input of a batch fails
    /// alone).
    public func savepoint<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        var value: T?
        do {
            try db.inSavepoint {
                value = try body(self)
                return .commit
            }
        } catch {
            // Reads made inside the savepoint may have seen what it undid.
            cache.invalidate()
            throw error
        }
        guard let value else { preconditionFailure("a committed savepoint always has its value") }
        return value
    }

    /// Applies a decision's changes, keeping each slot's count of active bookings in step.
    public func apply(_ decision: Decision) throws {
        if !decision.changes.isEmpty { cache.invalidate() }
        for change in decision.changes {
            try apply(change)
        }
        let encoder = JSONEncoder()
        for event in decision.events {
            try db.execute(
                sql:
                    "INSERT INTO appointment_event (appointment_id, kind, at, actor, text, previous_slot_id, answer_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    event.appointmentId, event.kind.rawValue, event.at,
                    String(decoding: try encoder.encode(event.actor), as: UTF8.self), event.text, event.previousSlotId,
                    event.rejection?.rawValue,
                ])
        }
    }

    private func apply(_ change: Decision.Change) throws {
        switch change {
        case .setBookingEnabled(let enabled):
            try db.execute(
                sql: "INSERT OR REPLACE INTO setting (key, value) VALUES ('booking_enabled', ?)",
                arguments: [enabled ? "true" : "false"])
        case .upsertGP(let gp):
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO gp (hpr, her_id, family_name, given_name, ressursoversikt, personal_book_open) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    gp.hpr, gp.herId, gp.familyName, gp.givenName, gp.ressursoversiktEnabled, gp.personalBookOpen,
                ])
        case .insertBook(let book):
            try db.execute(
                sql: "INSERT INTO book (id, her_id, gp_hpr, settings) VALUES (?, ?, ?, ?)",
                arguments: [book.id, book.herId, book.gpHpr, try encode(book)])
        case .updateBook(let book):
            try db.execute(
                sql: "UPDATE book SET her_id = ?, gp_hpr = ?, settings = ? WHERE id = ?",
                arguments: [book.herId, book.gpHpr, try encode(book), book.id])
        case .insertSlots(let slots):
            let statement = try db.makeStatement(
                sql:
                    "INSERT INTO slot (id, book_id, start_local, end_local, start_utc, end_utc, capacity, status, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)"
            )
            for slot in slots {
                try statement.execute(arguments: [
                    slot.id, slot.bookId, slot.start.description, slot.end.description, slot.startSeconds,
                    slot.endSeconds, slot.capacity, slot.status.rawValue,
                ])
            }
        case .setSlotStatus(let slotId, let status):
            try db.execute(sql: "UPDATE slot SET status = ? WHERE id = ?", arguments: [status.rawValue, slotId])
        case .replacePatients(let patients):
            try db.execute(sql: "DELETE FROM patient_group")
            let keep = Set(patients.map(\.fnr))
            for fnr in try String.fetchAll(db, sql: "SELECT fnr FROM patient") where !keep.contains(fnr) {
                try db.execute(sql: "DELETE FROM patient WHERE fnr = ?", arguments: [fnr])
            }
            try upsert(patients)
        case .upsertPatients(let patients):
            try upsert(patients)
        case .insertAppointment(let appointment):
            try db.execute(
                sql: """
                    INSERT INTO appointment (id, book_id, slot_id, fnr, state, subject, text, created_at, hold_until, request_msg_id, conversation_id, cancellation_reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    appointment.id, appointment.bookId, appointment.slotId, appointment.fnr, appointment.state.rawValue,
                    appointment.subject, appointment.text,
                    appointment.createdAt, appointment.holdUntil, appointment.requestMsgId, appointment.conversationId,
                    appointment.cancellationReason?.rawValue,
                ])
            if appointment.state.holdsPlace {
                try db.execute(sql: "UPDATE slot SET active = active + 1 WHERE id = ?", arguments: [appointment.slotId])
            }
        case .setAppointmentState(let id, let state, let reason):
            guard let current = try StoreReader(db: db).appointment(id: id) else {
                throw ModelError(.unknownAppointment, "No appointment \(id).")
            }
            try db.execute(
                sql:
                    "UPDATE appointment SET state = ?, cancellation_reason = COALESCE(?, cancellation_reason) WHERE id = ?",
                arguments: [state.rawValue, reason?.rawValue, id])
            let delta = (state.holdsPlace ? 1 : 0) - (current.state.holdsPlace ? 1 : 0)
            if delta != 0 {
                try db.execute(
                    sql: "UPDATE slot SET active = active + ? WHERE id = ?", arguments: [delta, current.slotId])
            }
        case .setPatientDigitallyInactive(let fnr):
            try db.execute(sql: "UPDATE patient SET digitally_inactive = 1 WHERE fnr = ?", arguments: [fnr])
        case .moveAppointment(let id, let slotId):
            guard let current = try StoreReader(db: db).appointment(id: id) else {
                throw ModelError(.unknownAppointment, "No appointment \(id).")
            }
            try db.execute(sql: "UPDATE appointment SET slot_id = ? WHERE id = ?", arguments: [slotId, id])
            if current.state.holdsPlace {
                try db.execute(sql: "UPDATE slot SET active = active - 1 WHERE id = ?", arguments: [current.slotId])
                try db.execute(sql: "UPDATE slot SET active = active + 1 WHERE id = ?", arguments: [slotId])
            }
        }
    }

    private func upsert(_ patients: [ListPatient]) throws {
        let statement = try db.makeStatement(
            sql: """
                INSERT INTO patient (fnr, family_name, given_name) VALUES (?, ?, ?)
                ON CONFLICT(fnr) DO UPDATE SET family_name = excluded.family_name, given_name = excluded.given_name
                """)
        let groupStatement = try db.makeStatement(sql: "INSERT OR IGNORE INTO patient_group (fnr, name) VALUES (?, ?)")
        for patient in patients {
            try statement.execute(arguments: [patient.fnr, patient.familyName, patient.givenName])
            try db.execute(sql: "DELETE FROM patient_group WHERE fnr = ?", arguments: [patient.fnr])
            for group in Set(patient.groups) { try groupStatement.execute(arguments: [patient.fnr, group]) }
        }
    }

    private func encode(_ book: Book) throws -> String {
        String(decoding: try JSONEncoder().encode(book), as: UTF8.self)
    }
}

/// Reads repeated within one write transaction while nothing changed, answered again without
/// SQLite: a burst of HentLedigeTimer asks for the same free slots of the same book. It lives for
/// one transaction (other connections commit only between transactions, never inside ours), and
/// every model change (``StoreWriter/apply(_:)``, the only way the model is written) and every
/// undone savepoint empties it. The engine's own tables never hold what it keeps.
final class TransactionReadCache {
    struct FreeSlotsKey: Hashable {
        let bookId: String
        let fromSeconds: Int
        let toSeconds: Int
    }

    var freeSlots: [FreeSlotsKey: [Slot]] = [:]

    func invalidate() {
        freeSlots.removeAll()
    }
}
