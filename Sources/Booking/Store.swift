import Foundation
package import GRDB
import TimebokCore

/// The model on disk: SQLite through GRDB (WAL, synchronous=FULL, migrations from the first version).
/// The engine keeps its own tables (ledger, sent messages) in the same file and commits them in the
/// same transaction as a decision: it registers their migrations here and writes them through
/// ``StoreWriter/database``.
public final class BookingStore: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating and migrating) the store at `path`. `migrations`: the engine's own tables,
    /// migrated after the model's.
    package init(path: String, migrations: [(identifier: String, migrate: @Sendable (Database) throws -> Void)]) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        writer = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator(adding: migrations).migrate(writer)
    }

    /// Opens (creating and migrating) the model alone at `path`.
    public convenience init(path: String) throws {
        try self.init(path: path, migrations: [])
    }

    /// A store in memory (tests, and decisions replayed without files).
    package init(migrations: [(identifier: String, migrate: @Sendable (Database) throws -> Void)]) throws {
        writer = try DatabaseQueue()
        try Self.migrator(adding: migrations).migrate(writer)
    }

    /// The model alone, in memory.
    public convenience init() throws {
        try self.init(migrations: [])
    }

    /// SQLite's `PRAGMA quick_check` (fast; what a pass runs first): empty when sound, else its findings.
    public func quickCheck() throws -> [String] {
        let rows = try writer.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        return rows == ["ok"] ? [] : rows
    }

    /// A consistent copy of the database in a new file (`VACUUM INTO`), readable by its owner only.
    public func backup(to destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ModelError(.storage, "\(destination) already exists; a backup never overwrites.")
        }
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ModelError(.storage, "Could not create \(destination): \(String(cString: strerror(errno))).") }
        _ = fchmod(fd, 0o600)
        close(fd)
        // VACUUM INTO needs the file not to exist, or to be empty: it is empty.
        try writer.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
    }

    /// SQLite's full `PRAGMA integrity_check`: empty when the database is sound, else its findings.
    public func integrityProblems() throws -> [String] {
        let rows = try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        return rows == ["ok"] ? [] : rows
    }

    /// Reads a consistent snapshot.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try writer.read { db in try body(StoreReader(db: db)) }
    }

    /// Runs `body` in one write transaction (all or nothing).
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try writer.write { db in try body(StoreWriter(db: db)) }
    }

    static func migrator(adding extra: [(identifier: String, migrate: @Sendable (Database) throws -> Void)]) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE gp (
                    hpr TEXT PRIMARY KEY, her_id TEXT NOT NULL UNIQUE, family_name TEXT NOT NULL, given_name TEXT NOT NULL,
                    ressursoversikt INTEGER NOT NULL, personal_book_open INTEGER NOT NULL);
                CREATE TABLE book (id TEXT PRIMARY KEY, her_id TEXT UNIQUE, gp_hpr TEXT, settings TEXT NOT NULL);
                CREATE TABLE slot (
                    id TEXT PRIMARY KEY, book_id TEXT NOT NULL REFERENCES book(id),
                    start_local TEXT NOT NULL, end_local TEXT NOT NULL, start_utc INTEGER NOT NULL, end_utc INTEGER NOT NULL,
                    capacity INTEGER NOT NULL, status TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX slot_by_book_and_start ON slot(book_id, start_utc);
                CREATE TABLE patient (
                    fnr TEXT PRIMARY KEY, family_name TEXT NOT NULL, given_name TEXT NOT NULL,
                    digitally_inactive INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE patient_group (
                    fnr TEXT NOT NULL REFERENCES patient(fnr) ON DELETE CASCADE, name TEXT NOT NULL, PRIMARY KEY (fnr, name));
                CREATE TABLE appointment (
                    id TEXT PRIMARY KEY, book_id TEXT NOT NULL REFERENCES book(id), slot_id TEXT NOT NULL REFERENCES slot(id),
                    fnr TEXT NOT NULL, state TEXT NOT NULL, subject TEXT, text TEXT, created_at INTEGER NOT NULL,
                    hold_until INTEGER, request_msg_id TEXT, conversation_id TEXT, cancellation_reason TEXT);
                CREATE INDEX appointment_by_slot ON appointment(slot_id);
                CREATE INDEX appointment_by_patient ON appointment(fnr, book_id, state);
                CREATE INDEX appointment_by_hold ON appointment(state, hold_until);
                CREATE TABLE appointment_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, appointment_id TEXT NOT NULL REFERENCES appointment(id),
                    kind TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, text TEXT, previous_slot_id TEXT);
                CREATE INDEX appointment_event_by_appointment ON appointment_event(appointment_id);
                """)
        }
        // (Until 0.4 this migration also added ledger_output.published; the engine's own migrations
        // now create and complete its tables, also in databases made before 0.5.)
        migrator.registerMigration("v2: answer codes on events, published outputs") { db in
            // The column keeps its first name; it holds a RejectionKind.
            try db.execute(sql: "ALTER TABLE appointment_event ADD COLUMN answer_code TEXT")
        }
        // The engine's tables come after the model's.
        for migration in extra { migrator.registerMigration(migration.identifier, migrate: migration.migrate) }
        return migrator
    }
}

/// Read access inside a transaction or snapshot.
public struct StoreReader: ModelReader {
    let db: Database

    /// The transaction's connection, for the engine's own tables.
    package var database: Database { db }

    public func bookingEnabled() throws -> Bool {
        try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'booking_enabled'") != "false"
    }

    public func book(id: String) throws -> Book? {
        try String.fetchOne(db, sql: "SELECT settings FROM book WHERE id = ?", arguments: [id]).map(decodeBook)
    }

    public func book(herId: String) throws -> Book? {
        try String.fetchOne(db, sql: "SELECT settings FROM book WHERE her_id = ?", arguments: [herId]).map(decodeBook)
    }

    public func books() throws -> [Book] {
        try String.fetchAll(db, sql: "SELECT settings FROM book ORDER BY id").map(decodeBook)
    }

    public func gp(hpr: String) throws -> GP? {
        try Row.fetchOne(db, sql: "SELECT * FROM gp WHERE hpr = ?", arguments: [hpr]).map(gp)
    }

    public func gp(herId: String) throws -> GP? {
        try Row.fetchOne(db, sql: "SELECT * FROM gp WHERE her_id = ?", arguments: [herId]).map(gp)
    }

    public func gps() throws -> [GP] {
        try Row.fetchAll(db, sql: "SELECT * FROM gp ORDER BY family_name, given_name").map(gp)
    }

    public func slot(id: String) throws -> Slot? {
        try Row.fetchOne(db, sql: "SELECT * FROM slot WHERE id = ?", arguments: [id]).map(slot)
    }

    public func slots(bookId: String, overlappingFrom fromSeconds: Int, to toSeconds: Int) throws -> [Slot] {
        // Slots are at most a wall-clock day long (25 real hours on the autumn change day), so the
        // index range on start_utc can begin 25 hours early.
        try Row.fetchAll(db, sql: """
            SELECT * FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? AND end_utc > ?
            ORDER BY start_utc
            """, arguments: [bookId, fromSeconds - 90_000, toSeconds, fromSeconds]).map(slot)
    }

    /// Open slots with free capacity that start in [fromSeconds, toSeconds), by start (an index range scan).
    public func freeSlots(bookId: String, fromSeconds: Int, toSeconds: Int) throws -> [Slot] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? AND status = 'open' AND active < capacity
            ORDER BY start_utc
            """, arguments: [bookId, fromSeconds, toSeconds]).map(slot)
    }

    /// Every slot of a book starting in [fromSeconds, toSeconds) (operators' listing).
    public func slots(bookId: String, fromSeconds: Int, toSeconds: Int) throws -> [Slot] {
        try Row.fetchAll(db, sql: "SELECT * FROM slot WHERE book_id = ? AND start_utc >= ? AND start_utc < ? ORDER BY start_utc",
                         arguments: [bookId, fromSeconds, toSeconds]).map(slot)
    }

    public func slotCount(bookId: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM slot WHERE book_id = ?", arguments: [bookId]) ?? 0
    }

    public func patient(fnr: String) throws -> ListPatient? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM patient WHERE fnr = ?", arguments: [fnr]) else { return nil }
        let groups = try String.fetchAll(db, sql: "SELECT name FROM patient_group WHERE fnr = ? ORDER BY name", arguments: [fnr])
        return ListPatient(fnr: row["fnr"], familyName: row["family_name"], givenName: row["given_name"], groups: groups, digitallyInactive: row["digitally_inactive"])
    }

    public func patients() throws -> [ListPatient] {
        let groups = Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT fnr, name FROM patient_group ORDER BY name"), by: { $0["fnr"] as String })
        return try Row.fetchAll(db, sql: "SELECT * FROM patient ORDER BY family_name, given_name").map { row in
            let fnr: String = row["fnr"]
            return ListPatient(fnr: fnr, familyName: row["family_name"], givenName: row["given_name"], groups: (groups[fnr] ?? []).map { $0["name"] }, digitallyInactive: row["digitally_inactive"])
        }
    }

    public func patientCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patient") ?? 0
    }

    public func appointment(id: String) throws -> Appointment? {
        try Row.fetchOne(db, sql: "SELECT * FROM appointment WHERE id = ?", arguments: [id]).map(appointment)
    }

    public func expiredHolds(now: Int) throws -> [Appointment] {
        try Row.fetchAll(db, sql: "SELECT * FROM appointment WHERE state = 'requested' AND hold_until <= ? ORDER BY hold_until, id", arguments: [now]).map(appointment)
    }

    public func appointments(inSlot slotId: String) throws -> [Appointment] {
        try Row.fetchAll(db, sql: "SELECT * FROM appointment WHERE slot_id = ? ORDER BY created_at, id", arguments: [slotId]).map(appointment)
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
        return try Row.fetchAll(db, sql: "SELECT a.* FROM appointment a JOIN slot s ON s.id = a.slot_id \(filter) ORDER BY s.start_utc, a.id",
                                arguments: StatementArguments(arguments)).map(appointment)
    }

    /// The patient's requested and confirmed bookings whose slot starts after `afterSeconds`, by start.
    public func upcomingBookings(fnr: String, afterSeconds: Int) throws -> [Appointment] {
        try Row.fetchAll(db, sql: """
            SELECT a.* FROM appointment a JOIN slot s ON s.id = a.slot_id
            WHERE a.fnr = ? AND a.state IN ('requested', 'confirmed') AND s.start_utc > ? ORDER BY s.start_utc, a.id
            """, arguments: [fnr, afterSeconds]).map(appointment)
    }

    public func activeBookings(fnr: String, bookId: String, afterSeconds: Int) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM appointment a JOIN slot s ON s.id = a.slot_id
            WHERE a.fnr = ? AND a.book_id = ? AND a.state IN ('requested', 'confirmed') AND s.start_utc > ?
            """, arguments: [fnr, bookId, afterSeconds]) ?? 0
    }

    public func events(appointmentId: String) throws -> [AppointmentEvent] {
        try Row.fetchAll(db, sql: "SELECT * FROM appointment_event WHERE appointment_id = ? ORDER BY id", arguments: [appointmentId]).map { row in
            AppointmentEvent(
                appointmentId: row["appointment_id"], kind: AppointmentEvent.Kind(rawValue: row["kind"]) ?? .requested, at: row["at"],
                actor: (try? JSONDecoder().decode(Actor.self, from: Data((row["actor"] as String).utf8))) ?? .system,
                text: row["text"], previousSlotId: row["previous_slot_id"], rejection: (row["answer_code"] as String?).flatMap(RejectionKind.init(rawValue:)))
        }
    }

    // MARK: Row mapping

    private func decodeBook(_ json: String) throws -> Book {
        try JSONDecoder().decode(Book.self, from: Data(json.utf8))
    }

    private func gp(_ row: Row) -> GP {
        GP(herId: row["her_id"], hpr: row["hpr"], familyName: row["family_name"], givenName: row["given_name"],
           ressursoversiktEnabled: row["ressursoversikt"], personalBookOpen: row["personal_book_open"])
    }

    private func slot(_ row: Row) -> Slot {
        Slot(id: row["id"], bookId: row["book_id"],
             start: LocalDateTime(row["start_local"] as String) ?? LocalDateTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0),
             end: LocalDateTime(row["end_local"] as String) ?? LocalDateTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0),
             capacity: row["capacity"], status: Slot.Status(rawValue: row["status"]) ?? .closed, activeBookings: row["active"])
    }

    private func appointment(_ row: Row) -> Appointment {
        Appointment(id: row["id"], bookId: row["book_id"], slotId: row["slot_id"], fnr: row["fnr"],
                    state: Appointment.State(rawValue: row["state"]) ?? .cancelled, subject: row["subject"], text: row["text"],
                    createdAt: row["created_at"], holdUntil: row["hold_until"], requestMsgId: row["request_msg_id"],
                    conversationId: row["conversation_id"], cancellationReason: (row["cancellation_reason"] as String?).flatMap(CancellationCause.init(rawValue:)))
    }
}

/// Write access inside one transaction.
public struct StoreWriter {
    let db: Database

    /// The transaction's connection, for the engine's own tables (committed with the model).
    package var database: Database { db }

    public var reader: StoreReader { StoreReader(db: db) }

    /// Applies a decision's changes, keeping each slot's count of active bookings in step.
    public func apply(_ decision: Decision) throws {
        for change in decision.changes {
            try apply(change)
        }
        let encoder = JSONEncoder()
        for event in decision.events {
            try db.execute(sql: "INSERT INTO appointment_event (appointment_id, kind, at, actor, text, previous_slot_id, answer_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [event.appointmentId, event.kind.rawValue, event.at, String(decoding: try encoder.encode(event.actor), as: UTF8.self), event.text, event.previousSlotId, event.rejection?.rawValue])
        }
    }

    private func apply(_ change: Decision.Change) throws {
        switch change {
        case .setBookingEnabled(let enabled):
            try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES ('booking_enabled', ?)", arguments: [enabled ? "true" : "false"])
        case .upsertGP(let gp):
            try db.execute(sql: "INSERT OR REPLACE INTO gp (hpr, her_id, family_name, given_name, ressursoversikt, personal_book_open) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [gp.hpr, gp.herId, gp.familyName, gp.givenName, gp.ressursoversiktEnabled, gp.personalBookOpen])
        case .insertBook(let book):
            try db.execute(sql: "INSERT INTO book (id, her_id, gp_hpr, settings) VALUES (?, ?, ?, ?)", arguments: [book.id, book.herId, book.gpHpr, try encode(book)])
        case .updateBook(let book):
            try db.execute(sql: "UPDATE book SET her_id = ?, gp_hpr = ?, settings = ? WHERE id = ?", arguments: [book.herId, book.gpHpr, try encode(book), book.id])
        case .insertSlots(let slots):
            let statement = try db.makeStatement(sql: "INSERT INTO slot (id, book_id, start_local, end_local, start_utc, end_utc, capacity, status, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)")
            for slot in slots {
                try statement.execute(arguments: [slot.id, slot.bookId, slot.start.description, slot.end.description, slot.startSeconds, slot.endSeconds, slot.capacity, slot.status.rawValue])
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
            try db.execute(sql: """
                INSERT INTO appointment (id, book_id, slot_id, fnr, state, subject, text, created_at, hold_until, request_msg_id, conversation_id, cancellation_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [appointment.id, appointment.bookId, appointment.slotId, appointment.fnr, appointment.state.rawValue, appointment.subject, appointment.text,
                                 appointment.createdAt, appointment.holdUntil, appointment.requestMsgId, appointment.conversationId, appointment.cancellationReason?.rawValue])
            if appointment.state.holdsPlace {
                try db.execute(sql: "UPDATE slot SET active = active + 1 WHERE id = ?", arguments: [appointment.slotId])
            }
        case .setAppointmentState(let id, let state, let reason):
            guard let current = try StoreReader(db: db).appointment(id: id) else { throw ModelError(.unknownAppointment, "No appointment \(id).") }
            try db.execute(sql: "UPDATE appointment SET state = ?, cancellation_reason = COALESCE(?, cancellation_reason) WHERE id = ?", arguments: [state.rawValue, reason?.rawValue, id])
            let delta = (state.holdsPlace ? 1 : 0) - (current.state.holdsPlace ? 1 : 0)
            if delta != 0 {
                try db.execute(sql: "UPDATE slot SET active = active + ? WHERE id = ?", arguments: [delta, current.slotId])
            }
        case .setPatientDigitallyInactive(let fnr):
            try db.execute(sql: "UPDATE patient SET digitally_inactive = 1 WHERE fnr = ?", arguments: [fnr])
        case .moveAppointment(let id, let slotId):
            guard let current = try StoreReader(db: db).appointment(id: id) else { throw ModelError(.unknownAppointment, "No appointment \(id).") }
            try db.execute(sql: "UPDATE appointment SET slot_id = ? WHERE id = ?", arguments: [slotId, id])
            if current.state.holdsPlace {
                try db.execute(sql: "UPDATE slot SET active = active - 1 WHERE id = ?", arguments: [current.slotId])
                try db.execute(sql: "UPDATE slot SET active = active + 1 WHERE id = ?", arguments: [slotId])
            }
        }
    }

    private func upsert(_ patients: [ListPatient]) throws {
        let statement = try db.makeStatement(sql: """
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
