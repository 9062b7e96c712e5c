import Foundation
import GRDB
import TimebokCore

/// The model on disk: SQLite through GRDB (WAL, synchronous=FULL, migrations from the first version).
/// One transaction commits a decision together with its ledger row and the bytes of its outputs.
public final class BookingStore: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating and migrating) the store at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        writer = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(writer)
    }

    /// A store in memory (tests).
    public init() throws {
        writer = try DatabaseQueue()
        try Self.migrator.migrate(writer)
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

    static var migrator: DatabaseMigrator {
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
                CREATE TABLE ledger (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
                    content_sha256 TEXT NOT NULL, applied_at INTEGER NOT NULL, outcome TEXT NOT NULL, summary TEXT NOT NULL);
                CREATE TABLE ledger_output (
                    ledger_id INTEGER NOT NULL REFERENCES ledger(id), seq INTEGER NOT NULL,
                    folder TEXT NOT NULL, name TEXT NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (ledger_id, seq));
                """)
        }
        migrator.registerMigration("v2: answer codes on events, published outputs") { db in
            try db.execute(sql: """
                ALTER TABLE appointment_event ADD COLUMN answer_code TEXT;
                ALTER TABLE ledger_output ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v3: sent messages and their receipts") { db in
            try db.execute(sql: """
                CREATE TABLE sent_message (
                    msg_id TEXT PRIMARY KEY, kind TEXT NOT NULL, appointment_id TEXT, fnr TEXT,
                    sent_at INTEGER NOT NULL, status TEXT NOT NULL, errors TEXT);
                """)
        }
        migrator.registerMigration("v4: the request behind a booking") { db in
            try db.execute(sql: "CREATE TABLE appointment_request (appointment_id TEXT PRIMARY KEY REFERENCES appointment(id), message BLOB NOT NULL)")
        }
        return migrator
    }
}

/// One processed input, as the ledger remembers it.
public struct LedgerEntry: Sendable, Hashable {
    public struct Output: Sendable, Hashable {
        /// Spool folder (`results`, `outbox`, `journal`).
        public var folder: String
        public var name: String
        public var bytes: [UInt8]
        /// Set once the file was published; a published output is never published again (its reader
        /// may already have consumed and removed it).
        public var published: Bool

        public init(folder: String, name: String, bytes: [UInt8], published: Bool = false) {
            self.folder = folder
            self.name = name
            self.bytes = bytes
            self.published = published
        }
    }

    /// `command:<id>` or `message:<sender HER-id>:<MsgId>`.
    public var key: String
    /// The input file's name (or `cli`).
    public var source: String
    public var contentSHA256: String
    public var appliedAt: Int
    public var outcome: String
    public var summary: String
    public var outputs: [Output]

    public init(key: String, source: String, contentSHA256: String, appliedAt: Int, outcome: String, summary: String, outputs: [Output]) {
        self.key = key
        self.source = source
        self.contentSHA256 = contentSHA256
        self.appliedAt = appliedAt
        self.outcome = outcome
        self.summary = summary
        self.outputs = outputs
    }
}

/// Read access inside a transaction or snapshot.
public struct StoreReader: ModelReader {
    let db: Database

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

    /// The request a booking came from, as recorded (nil for the office's own bookings).
    public func requestMessage(appointmentId: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT message FROM appointment_request WHERE appointment_id = ?", arguments: [appointmentId]).map { [UInt8]($0) }
    }

    public func sentMessage(msgId: String) throws -> SentMessage? {
        try Row.fetchOne(db, sql: "SELECT * FROM sent_message WHERE msg_id = ?", arguments: [msgId]).map {
            SentMessage(msgId: $0["msg_id"], kind: $0["kind"], appointmentId: $0["appointment_id"], fnr: $0["fnr"], sentAt: $0["sent_at"],
                        status: SentMessage.Status(rawValue: $0["status"]) ?? .sent, errors: $0["errors"])
        }
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
                text: row["text"], previousSlotId: row["previous_slot_id"], answerCode: row["answer_code"])
        }
    }

    /// Ledger keys with outputs recorded but not yet published (a crash or a full disk came between).
    public func keysWithUnpublishedOutputs() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT l.key FROM ledger l JOIN ledger_output o ON o.ledger_id = l.id WHERE o.published = 0 ORDER BY l.id")
    }

    /// The id the next ledger entry gets (inside a write transaction): a sequence that orders output
    /// names within the same millisecond, across processes.
    public func nextLedgerSequence() throws -> Int {
        (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger") ?? 1)
    }

    /// The ledger entry for a key (`command:<id>`, …), with its recorded outputs.
    public func ledger(key: String) throws -> LedgerEntry? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ledger WHERE key = ?", arguments: [key]) else { return nil }
        let id: Int64 = row["id"]
        let outputs = try Row.fetchAll(db, sql: "SELECT folder, name, bytes, published FROM ledger_output WHERE ledger_id = ? ORDER BY seq", arguments: [id]).map {
            LedgerEntry.Output(folder: $0["folder"], name: $0["name"], bytes: [UInt8]($0["bytes"] as Data), published: $0["published"])
        }
        return LedgerEntry(key: row["key"], source: row["source"], contentSHA256: row["content_sha256"], appliedAt: row["applied_at"], outcome: row["outcome"], summary: row["summary"], outputs: outputs)
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
                    conversationId: row["conversation_id"], cancellationReason: row["cancellation_reason"])
    }
}

/// Write access inside one transaction.
public struct StoreWriter {
    let db: Database

    public var reader: StoreReader { StoreReader(db: db) }

    /// Retention: forgets the stored bytes of published outputs of entries applied before
    /// `bytesBefore` (the archive held them; the ledger keeps their names), and removes entries
    /// applied before `entriesBefore` whose outputs were all published (duplicate detection no
    /// longer needs them). With `apply` false, only counts. Returns (outputs cleared, entries removed).
    public func purgeLedger(bytesBefore: Int, entriesBefore: Int, apply: Bool) throws -> (outputs: Int, entries: Int) {
        // Command ids are kept for ever (a row each): an EPJ that sends an old command file again
        // must never have it applied twice.
        let settled = "key NOT LIKE 'command:%' AND NOT EXISTS (SELECT 1 FROM ledger_output u WHERE u.ledger_id = ledger.id AND u.published = 0)"
        let entries = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ledger WHERE applied_at < ? AND \(settled)", arguments: [entriesBefore]) ?? 0
        let outputs = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM ledger_output WHERE published = 1 AND length(bytes) > 0
            AND ledger_id IN (SELECT id FROM ledger WHERE applied_at < ?)
            """, arguments: [bytesBefore]) ?? 0
        guard apply else { return (outputs, entries) }
        try db.execute(sql: """
            UPDATE ledger_output SET bytes = x'' WHERE published = 1 AND length(bytes) > 0
            AND ledger_id IN (SELECT id FROM ledger WHERE applied_at < ?)
            """, arguments: [bytesBefore])
        try db.execute(sql: "DELETE FROM ledger_output WHERE ledger_id IN (SELECT id FROM ledger WHERE applied_at < ? AND \(settled))", arguments: [entriesBefore])
        try db.execute(sql: "DELETE FROM ledger WHERE applied_at < ? AND NOT EXISTS (SELECT 1 FROM ledger_output o WHERE o.ledger_id = ledger.id)", arguments: [entriesBefore])
        return (outputs, entries)
    }

    /// Applies a decision's changes, keeping each slot's count of active bookings in step.
    public func apply(_ decision: Decision) throws {
        for change in decision.changes {
            try apply(change)
        }
        let encoder = JSONEncoder()
        for event in decision.events {
            try db.execute(sql: "INSERT INTO appointment_event (appointment_id, kind, at, actor, text, previous_slot_id, answer_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [event.appointmentId, event.kind.rawValue, event.at, String(decoding: try encoder.encode(event.actor), as: UTF8.self), event.text, event.previousSlotId, event.answerCode])
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
                                 appointment.createdAt, appointment.holdUntil, appointment.requestMsgId, appointment.conversationId, appointment.cancellationReason])
            if appointment.state.holdsPlace {
                try db.execute(sql: "UPDATE slot SET active = active + 1 WHERE id = ?", arguments: [appointment.slotId])
            }
        case .setAppointmentState(let id, let state, let reason):
            guard let current = try StoreReader(db: db).appointment(id: id) else { throw ModelError(.unknownAppointment, "No appointment \(id).") }
            try db.execute(sql: "UPDATE appointment SET state = ?, cancellation_reason = COALESCE(?, cancellation_reason) WHERE id = ?", arguments: [state.rawValue, reason, id])
            let delta = (state.holdsPlace ? 1 : 0) - (current.state.holdsPlace ? 1 : 0)
            if delta != 0 {
                try db.execute(sql: "UPDATE slot SET active = active + ? WHERE id = ?", arguments: [delta, current.slotId])
            }
        case .recordSentMessage(let message):
            try db.execute(sql: "INSERT INTO sent_message (msg_id, kind, appointment_id, fnr, sent_at, status, errors) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [message.msgId, message.kind, message.appointmentId, message.fnr, message.sentAt, message.status.rawValue, message.errors])
        case .setSentMessageStatus(let msgId, let status, let errors):
            try db.execute(sql: "UPDATE sent_message SET status = ?, errors = ? WHERE msg_id = ?", arguments: [status.rawValue, errors, msgId])
        case .recordRequestMessage(let appointmentId, let bytes):
            try db.execute(sql: "INSERT OR REPLACE INTO appointment_request (appointment_id, message) VALUES (?, ?)", arguments: [appointmentId, Data(bytes)])
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

    /// Marks a ledger entry's outputs as published (after the files exist).
    public func markPublished(key: String) throws {
        try db.execute(sql: "UPDATE ledger_output SET published = 1 WHERE ledger_id = (SELECT id FROM ledger WHERE key = ?)", arguments: [key])
    }

    /// Records a processed input and the bytes of every output it causes, before any output file exists.
    public func record(_ entry: LedgerEntry) throws {
        try db.execute(sql: "INSERT INTO ledger (key, source, content_sha256, applied_at, outcome, summary) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [entry.key, entry.source, entry.contentSHA256, entry.appliedAt, entry.outcome, entry.summary])
        let id = db.lastInsertedRowID
        for (seq, output) in entry.outputs.enumerated() {
            try db.execute(sql: "INSERT INTO ledger_output (ledger_id, seq, folder, name, bytes) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, seq, output.folder, output.name, Data(output.bytes)])
        }
    }

    private func encode(_ book: Book) throws -> String {
        String(decoding: try JSONEncoder().encode(book), as: UTF8.self)
    }
}
