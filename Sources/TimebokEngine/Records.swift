import Booking
import Foundation
internal import GRDB

// The engine's own records, in the model's database file and committed in the same transaction as
// the decision they belong to: the ledger (inputs seen, outputs recorded and published), the
// messages sent to helsenorge and their AppRecs, and the requests behind held bookings. Booking
// knows nothing of them; the engine reaches the transaction through `StoreReader.database`.

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

    public init(
        key: String, source: String, contentSHA256: String, appliedAt: Int, outcome: String, summary: String,
        outputs: [Output]
    ) {
        self.key = key
        self.source = source
        self.contentSHA256 = contentSHA256
        self.appliedAt = appliedAt
        self.outcome = outcome
        self.summary = summary
        self.outputs = outputs
    }
}

/// A message timebok sent to helsenorge that is answered with an AppRec (SvarTimeReservasjon, Avtale).
public struct SentMessage: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case sent, delivered, failed
    }

    public var msgId: String
    /// What it was, e.g. `SvarTimeReservasjon 05`, `Avtale 07`.
    public var kind: String
    public var appointmentId: String?
    public var fnr: String?
    public var sentAt: Int
    public var status: Status
    /// The AppRec's error codes and texts, when it failed.
    public var errors: String?

    public init(
        msgId: String, kind: String, appointmentId: String?, fnr: String?, sentAt: Int, status: Status = .sent,
        errors: String? = nil
    ) {
        self.msgId = msgId
        self.kind = kind
        self.appointmentId = appointmentId
        self.fnr = fnr
        self.sentAt = sentAt
        self.status = status
        self.errors = errors
    }
}

/// What a handler asks the engine to remember beside the model's changes.
enum RecordChange: Sendable, Hashable {
    /// A message sent to helsenorge that expects an AppRec back.
    case sent(SentMessage)
    /// helsenorge's AppRec (or answer) for a sent message.
    case delivery(msgId: String, status: SentMessage.Status, errors: String?)
    /// The request a held booking came from (its bytes), so the office's later answer swaps its
    /// parties exactly.
    case request(appointmentId: String, bytes: [UInt8])
}

/// The engine's records, as a handler reads them.
protocol RecordReader {
    /// The request a booking came from, as recorded (nil for the office's own bookings).
    func requestMessage(appointmentId: String) throws -> [UInt8]?
    func sentMessage(msgId: String) throws -> SentMessage?
}

enum EngineRecords {
    /// The engine's tables, migrated after the model's. Databases made before 0.5 already have
    /// them (Booking used to create them): IF NOT EXISTS, and the column added in 0.2 completed.
    static let migrations: [(identifier: String, migrate: @Sendable (Database) throws -> Void)] = [
        (
            "engine v1: ledger, outputs, sent messages, recorded requests",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS ledger (
                            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
                            content_sha256 TEXT NOT NULL, applied_at INTEGER NOT NULL, outcome TEXT NOT NULL, summary TEXT NOT NULL);
                        CREATE TABLE IF NOT EXISTS ledger_output (
                            ledger_id INTEGER NOT NULL REFERENCES ledger(id), seq INTEGER NOT NULL,
                            folder TEXT NOT NULL, name TEXT NOT NULL, bytes BLOB NOT NULL, published INTEGER NOT NULL DEFAULT 0,
                            PRIMARY KEY (ledger_id, seq));
                        CREATE TABLE IF NOT EXISTS sent_message (
                            msg_id TEXT PRIMARY KEY, kind TEXT NOT NULL, appointment_id TEXT, fnr TEXT,
                            sent_at INTEGER NOT NULL, status TEXT NOT NULL, errors TEXT);
                        CREATE TABLE IF NOT EXISTS appointment_request (appointment_id TEXT PRIMARY KEY REFERENCES appointment(id), message BLOB NOT NULL);
                        """)
                if try !db.columns(in: "ledger_output").contains(where: { $0.name == "published" }) {
                    try db.execute(sql: "ALTER TABLE ledger_output ADD COLUMN published INTEGER NOT NULL DEFAULT 0")
                }
            }
        ),
        // Until 0.4 the model stored the wire's texts and codes; it now stores its own reasons. The
        // engine owns the mapping, so it converts what older versions wrote.
        (
            "engine v2: the model's reasons instead of wire texts",
            { db in
                for cause in CancellationCause.allCases {
                    try db.execute(
                        sql: "UPDATE appointment SET cancellation_reason = ? WHERE cancellation_reason = ?",
                        arguments: [cause.rawValue, WireVocabulary.cancellationReason(cause).rawValue])
                }
                for kind in RejectionKind.allCases {
                    try db.execute(
                        sql: "UPDATE appointment_event SET answer_code = ? WHERE answer_code = ?",
                        arguments: [kind.rawValue, WireVocabulary.answerCode(for: kind).rawValue])
                }
            }
        ),
        // 0.6: a published output's bytes live in its file and the archive's link to it, not in the
        // ledger, which keeps its name and hash (each byte stored once). The bytes wait in a table of
        // their own until then: deleting them frees whole pages for the next batch, where a column
        // emptied in place would leave every ledger_output row on a page of its own.
        (
            "engine v3: output bytes apart, until published; the SHA-256 of each output",
            { db in
                try db.execute(
                    sql: """
                        ALTER TABLE ledger_output ADD COLUMN sha256 TEXT;
                        CREATE TABLE ledger_output_bytes (
                            ledger_id INTEGER NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL,
                            PRIMARY KEY (ledger_id, seq));
                        CREATE INDEX ledger_output_unpublished ON ledger_output (ledger_id) WHERE published = 0;
                        """)
                // In SQL, one row at a time: a large ledger is never loaded whole. The old column stays
                // (SQLite before 3.35 cannot drop it), always empty from now on.
                try db.execute(
                    sql: """
                        INSERT INTO ledger_output_bytes (ledger_id, seq, bytes)
                            SELECT ledger_id, seq, bytes FROM ledger_output WHERE length(bytes) > 0;
                        UPDATE ledger_output SET bytes = x'';
                        """)
                let moved = try Row.fetchCursor(db, sql: "SELECT ledger_id, seq, bytes FROM ledger_output_bytes")
                var hashes: [(Int64, Int64, String)] = []
                while let row = try moved.next() {
                    hashes.append((row["ledger_id"], row["seq"], ContentHash.hex([UInt8](row["bytes"] as Data))))
                }
                for (ledger, seq, hash) in hashes {
                    try db.execute(
                        sql: "UPDATE ledger_output SET sha256 = ? WHERE ledger_id = ? AND seq = ?",
                        arguments: [hash, ledger, seq])
                }
            }
        ),
    ]
}

extension StoreReader: RecordReader {
    /// The request a booking came from, as recorded (nil for the office's own bookings).
    func requestMessage(appointmentId: String) throws -> [UInt8]? {
        try Data.fetchOne(
            database.cachedStatement(sql: "SELECT message FROM appointment_request WHERE appointment_id = ?"),
            arguments: [appointmentId]
        ).map { [UInt8]($0) }
    }

    func sentMessage(msgId: String) throws -> SentMessage? {
        try Row.fetchOne(
            database.cachedStatement(sql: "SELECT * FROM sent_message WHERE msg_id = ?"), arguments: [msgId]
        ).map {
            SentMessage(
                msgId: $0["msg_id"], kind: $0["kind"], appointmentId: $0["appointment_id"], fnr: $0["fnr"],
                sentAt: $0["sent_at"],
                status: SentMessage.Status(rawValue: $0["status"]) ?? .sent, errors: $0["errors"])
        }
    }

    /// Which of these outputs (`folder`, `name`) the ledger names, published or not, as `folder/name`.
    func recordedOutputPaths(among outputs: [(folder: String, name: String)]) throws -> Set<String> {
        var recorded: Set<String> = []
        for start in stride(from: 0, to: outputs.count, by: 500) {
            let chunk = outputs[start..<min(start + 500, outputs.count)]
            let rows = try Row.fetchAll(
                database,
                sql:
                    "SELECT folder, name FROM ledger_output WHERE name IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))",
                arguments: StatementArguments(chunk.map(\.name)))
            recorded.formUnion(rows.map { ($0[0] as String) + "/" + ($0[1] as String) })
        }
        return recorded
    }

    /// Ledger keys with outputs recorded but not yet published (a crash or a full disk came between).
    func keysWithUnpublishedOutputs() throws -> [String] {
        try String.fetchAll(
            database,
            sql:
                "SELECT DISTINCT l.key FROM ledger l JOIN ledger_output o ON o.ledger_id = l.id WHERE o.published = 0 ORDER BY l.id"
        )
    }

    /// The id the next ledger entry gets (inside a write transaction): a sequence that orders output
    /// names within the same millisecond, across processes.
    func nextLedgerSequence() throws -> Int {
        (try Int.fetchOne(database.cachedStatement(sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger")) ?? 1)
    }

    /// The ledger entry for a key (`command:<id>`, …), with its recorded outputs.
    func ledger(key: String) throws -> LedgerEntry? {
        guard
            let row = try Row.fetchOne(
                database.cachedStatement(sql: "SELECT * FROM ledger WHERE key = ?"), arguments: [key])
        else {
            return nil
        }
        let id: Int64 = row["id"]
        let outputs = try Row.fetchAll(
            database,
            sql: """
                SELECT o.folder, o.name, b.bytes, o.published FROM ledger_output o
                LEFT JOIN ledger_output_bytes b ON b.ledger_id = o.ledger_id AND b.seq = o.seq
                WHERE o.ledger_id = ? ORDER BY o.seq
                """,
            arguments: [id]
        ).map {
            LedgerEntry.Output(
                folder: $0["folder"], name: $0["name"], bytes: ($0["bytes"] as Data?).map { [UInt8]($0) } ?? [],
                published: $0["published"])
        }
        return LedgerEntry(
            key: row["key"], source: row["source"], contentSHA256: row["content_sha256"], appliedAt: row["applied_at"],
            outcome: row["outcome"], summary: row["summary"], outputs: outputs)
    }
}

extension StoreWriter {
    /// Retention: forgets the stored bytes of published outputs of entries applied before
    /// `bytesBefore` (the archive held them; the ledger keeps their names), and removes entries
    /// applied before `entriesBefore` whose outputs were all published (duplicate detection no
    /// longer needs them). With `apply` false, only counts. Returns (outputs cleared, entries removed).
    func purgeLedger(bytesBefore: Int, entriesBefore: Int, apply: Bool) throws -> (outputs: Int, entries: Int) {
        // Command ids are kept for ever (a row each): an EPJ that sends an old command file again
        // must never have it applied twice.
        let settled =
            "key NOT LIKE 'command:%' AND NOT EXISTS (SELECT 1 FROM ledger_output u WHERE u.ledger_id = ledger.id AND u.published = 0)"
        let entries =
            try Int.fetchOne(
                database, sql: "SELECT COUNT(*) FROM ledger WHERE applied_at < ? AND \(settled)",
                arguments: [entriesBefore]) ?? 0
        let outputs =
            try Int.fetchOne(
                database,
                sql: """
                    SELECT COUNT(*) FROM ledger_output_bytes b JOIN ledger_output o USING (ledger_id, seq)
                    WHERE o.published = 1 AND b.ledger_id IN (SELECT id FROM ledger WHERE applied_at < ?)
                    """, arguments: [bytesBefore]) ?? 0
        guard apply else { return (outputs, entries) }
        try database.execute(
            sql: """
                DELETE FROM ledger_output_bytes WHERE ledger_id IN (SELECT id FROM ledger WHERE applied_at < ?)
                AND EXISTS (SELECT 1 FROM ledger_output o WHERE o.ledger_id = ledger_output_bytes.ledger_id
                    AND o.seq = ledger_output_bytes.seq AND o.published = 1)
                """, arguments: [bytesBefore])
        try database.execute(
            sql:
                "DELETE FROM ledger_output_bytes WHERE ledger_id IN (SELECT id FROM ledger WHERE applied_at < ? AND \(settled))",
            arguments: [entriesBefore])
        try database.execute(
            sql:
                "DELETE FROM ledger_output WHERE ledger_id IN (SELECT id FROM ledger WHERE applied_at < ? AND \(settled))",
            arguments: [entriesBefore])
        try database.execute(
            sql:
                "DELETE FROM ledger WHERE applied_at < ? AND NOT EXISTS (SELECT 1 FROM ledger_output o WHERE o.ledger_id = ledger.id)",
            arguments: [entriesBefore])
        return (outputs, entries)
    }

    /// Gives a recorded output whose bytes were still being rendered the hash of its bytes (in the
    /// transaction that recorded it: what commits is complete).
    func fill(key: String, seq: Int, sha256: String) throws {
        try database.cachedStatement(
            sql:
                "UPDATE ledger_output SET sha256 = ? WHERE ledger_id = (SELECT id FROM ledger WHERE key = ?) AND seq = ?"
        ).execute(arguments: [sha256, key, seq])
    }

    /// Keeps the bytes of a published output in the ledger: a refused input's answers, of which
    /// `error/` holds no copy.
    func keepBytes(key: String, seq: Int, bytes: [UInt8]) throws {
        try database.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO ledger_output_bytes (ledger_id, seq, bytes) SELECT id, ?, ? FROM ledger WHERE key = ?"
        ).execute(arguments: [seq, Data(bytes), key])
    }

    /// Marks a ledger entry's outputs as published (after the files and their names are durable).
    func markPublished(key: String) throws {
        try database.cachedStatement(
            sql: "UPDATE ledger_output SET published = 1 WHERE ledger_id = (SELECT id FROM ledger WHERE key = ?)"
        ).execute(arguments: [key])
    }

    /// Drops the bytes of a ledger entry's published outputs: only once the archive links them
    /// beside their input (the published files and those links hold them; the ledger keeps each
    /// output's name and SHA-256).
    func forgetPublishedBytes(key: String) throws {
        try database.cachedStatement(
            sql: """
                DELETE FROM ledger_output_bytes WHERE ledger_id = (SELECT id FROM ledger WHERE key = ?)
                AND EXISTS (SELECT 1 FROM ledger_output o WHERE o.ledger_id = ledger_output_bytes.ledger_id
                    AND o.seq = ledger_output_bytes.seq AND o.published = 1)
                """
        ).execute(arguments: [key])
    }

    /// Records a processed input and every output it causes, by name and hash, before any output
    /// file exists under its name; with `keepingBytes`, also the outputs' bytes (a batch writes
    /// them to pending files instead, durable before this commit).
    func record(_ entry: LedgerEntry, keepingBytes: Bool = true) throws {
        try database.cachedStatement(
            sql:
                "INSERT INTO ledger (key, source, content_sha256, applied_at, outcome, summary) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            entry.key, entry.source, entry.contentSHA256, entry.appliedAt, entry.outcome, entry.summary,
        ])
        let id = database.lastInsertedRowID
        for (seq, output) in entry.outputs.enumerated() {
            try database.cachedStatement(
                sql:
                    "INSERT INTO ledger_output (ledger_id, seq, folder, name, bytes, sha256) VALUES (?, ?, ?, ?, x'', ?)"
            ).execute(arguments: [id, seq, output.folder, output.name, ContentHash.hex(output.bytes)])
            guard keepingBytes else { continue }
            try database.cachedStatement(
                sql: "INSERT INTO ledger_output_bytes (ledger_id, seq, bytes) VALUES (?, ?, ?)"
            ).execute(arguments: [id, seq, Data(output.bytes)])
        }
    }

    /// Applies the engine's records of one decision.
    func apply(_ records: [RecordChange]) throws {
        for change in records {
            switch change {
            case .sent(let message):
                try database.cachedStatement(
                    sql:
                        "INSERT INTO sent_message (msg_id, kind, appointment_id, fnr, sent_at, status, errors) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ).execute(arguments: [
                    message.msgId, message.kind, message.appointmentId, message.fnr, message.sentAt,
                    message.status.rawValue, message.errors,
                ])
            case .delivery(let msgId, let status, let errors):
                try database.cachedStatement(sql: "UPDATE sent_message SET status = ?, errors = ? WHERE msg_id = ?")
                    .execute(arguments: [status.rawValue, errors, msgId])
            case .request(let appointmentId, let bytes):
                try database.cachedStatement(
                    sql: "INSERT OR REPLACE INTO appointment_request (appointment_id, message) VALUES (?, ?)"
                ).execute(arguments: [appointmentId, Data(bytes)])
            }
        }
    }
}
