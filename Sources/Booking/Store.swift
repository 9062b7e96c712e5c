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
    package init(path: String, migrations: [(identifier: String, migrate: @Sendable (Database) throws -> Void)]) throws
    {
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
        guard fd >= 0 else {
            throw ModelError(.storage, "Could not create \(destination): \(String(cString: strerror(errno))).")
        }
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

    /// Runs `body` in one write transaction whose commit does not wait for the disk (SQLite's
    /// `synchronous = NORMAL` for this commit only): a power loss may undo it, never damage the
    /// database. Only for what the next pass redoes by itself (marking outputs published); the next
    /// durable commit makes it durable too.
    public func writeWithoutWaiting<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            var value: T?
            let committed = Result {
                try db.inTransaction(.immediate) {
                    value = try body(StoreWriter(db: db))
                    return .commit
                }
            }
            // Every other commit waits for the disk again; if that cannot be set, nothing goes on.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try committed.get()
            guard let value else { preconditionFailure("a committed transaction always has its value") }
            return value
        }
    }

    static func migrator(
        adding extra: [(identifier: String, migrate: @Sendable (Database) throws -> Void)]
    ) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
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
