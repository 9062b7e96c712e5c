import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats
import TimebokSchemas
import TimebokSigning
import TimebokSpool
import TimebokXML

/// The engine: commands (from files or the command line) become decisions, committed in one
/// transaction with their ledger row and output bytes, then published; inputs are archived, or
/// quarantined with a reason.
public final class Engine {
    public let spool: Spool
    public let config: TimebokConfig
    /// The model and the engine's records; the command line reads through ``readModel(_:)``.
    let store: BookingStore
    let commandSchema: SchemaSet
    /// The official schemas with ours, for helsenorge messages: compiled on first use, so commands
    /// that never read a message (listings, the command line) do not pay for it.
    private var compiledMessageSchemas: SchemaSet?
    /// Result names given out in the batch in hand (not yet published, so not yet on disk).
    var reservedResultNames: Set<String> = []
    /// The renders of the batch in hand (nil outside a batch, or when its replies are signed one by one).
    var renders: RenderQueue?
    /// The batch in hand's inbox messages, read and decoded on other cores (nil outside a batch, or
    /// with the official schemas configured).
    var prefetch: MessagePrefetch?
    /// True while a batch is decided: the outputs it records get pending files, not ledger bytes.
    var inBatch = false
    /// A batch's commit failed after its pending files were written: the next pass sweeps them.
    var pendingSweepDue = false
    /// A batch committed whose publishing waits for the next batch's decisions (see Batch.swift).
    var unfinished: Unfinished?
    /// The ledger keys the batch in hand recorded (its new outputs).
    var recordedInBatch: Set<String> = []
    /// Makes each batch's renders (the tests give renders that fail).
    var makeRenders: (Spool) -> RenderQueue = { spool in
        RenderQueue(write: { bytes, folder, name in
            (try? spool.writePending(bytes, to: Spool.Folder(rawValue: folder) ?? .results, name: name)) != nil
        })
    }
    /// The database checked and an earlier process's temporary files removed (the first pass).
    private var startChecked = false
    /// This pass claims nothing more (its `progress` said so): the batches in hand are finished.
    private var stopClaiming = false

    /// The level of checking in force for helsenorge messages.
    public var schemaLevel: SchemaLevel { SchemaLevel(officialFolder: config.officialSchemas) }

    /// nil at the built-in level (schemas.official not set): messages are then checked by the
    /// hardened parse and the typed decoder with its inbound rules.
    func messageSchemas() throws -> SchemaSet? {
        if let compiledMessageSchemas { return compiledMessageSchemas }
        let compiled = try schemaLevel.compileMessageSchemas(ownFolder: config.ownSchemas)
        compiledMessageSchemas = compiled
        return compiled
    }
    let settings: ModelSettings
    let clock: () -> Date
    /// The office's signing keys (nil: outputs are not signed).
    let signer: Signer?
    /// What incoming signatures must be made with (nil: any valid certificate).
    let trustedCertificates: TrustList?

    /// Warnings for people, said on every start (a signing certificate that expires soon).
    public var warnings: [String] { signer?.warnings ?? [] }

    /// True when outgoing MsgHead messages are signed.
    public var signs: Bool { signer != nil }

    /// What became of one command.
    public struct CommandOutcome: Sendable {
        public var commandId: String?
        /// Why it was refused: the code of the layer that refused it, and a sentence.
        public var error: Refusal?
        /// A sentence for people (the decision's summary, or the error).
        public var summary: String
        public var created: [Decision.Created]
        /// Already applied earlier (same id, same content): nothing changed again.
        public var duplicate: Bool
        /// The result file written to `results/`, for command files.
        public var resultFile: String?
        /// Where the input went (archive or error), for command files.
        public var inputMovedTo: String?
        /// The input, as `folder/name` (set by a pass).
        public var input: String?
        /// How long handling it took (set by a pass).
        public var milliseconds: Double?

        public var ok: Bool { error == nil }
    }

    /// Opens a spool: reads `timebok.conf`, opens (and migrates) the store, compiles the command schema.
    /// `fileSystem`: the spool's fallible system calls (tests inject failures through it).
    public init(spoolRoot: String, clock: @escaping () -> Date = Date.init, fileSystem: FileSystemSeam = .system) throws
    {
        let spool = Spool(root: spoolRoot, fileSystem: fileSystem)
        guard spool.exists else {
            throw TimebokConfig.Invalid(.notASpool, "\(spool.root) is not a timebok spool (its folders are missing).")
        }
        self.spool = spool
        // Health data: a spool other users can read or write is refused before anything is read.
        let exposed = spool.exposedToOthers(configuration: TimebokConfig.fileName)
        if !exposed.isEmpty {
            throw TimebokConfig.Invalid(
                .exposedSpool,
                """
                \(spool.root) is readable or writable by other users, and every file in it holds health data: \(exposed.joined(separator: ", ")). \
                Fix it with: chmod -R o-rwx \(spool.root) (folders 0750 or 2770 with spool.group, files 0640, state/timebok.sqlite* 0600; \
                chgrp -R GROUP \(spool.root) for the group the transport and the EPJ share).
                """)
        }
        config = try TimebokConfig.load(path: spool.root + "/" + TimebokConfig.fileName)
        // Only creating a spool creates a database: a missing or empty one is a lost one, never silently
        // replaced by an office without books, patients or duplicate ledger.
        var info = stat()
        guard stat(spool.databasePath, &info) == 0, info.st_size > 0 else {
            throw DatabaseProblem(
                .missing,
                "\(spool.databasePath) is missing or empty, so this spool's books, patients, bookings and message ledger are gone. Stop every timebok on it and restore the database from its backup (README: Backing up a spool). timebok never creates a database for an existing spool."
            )
        }
        store = try BookingStore(path: spool.databasePath, migrations: EngineRecords.migrations)
        if let own = config.ownSchemas, !FileManager.default.fileExists(atPath: own + "/" + OwnSchemas.command.name) {
            throw TimebokConfig.Invalid(
                .badSchemaFolder,
                "\(TimebokConfig.fileName): schemas.own names \"\(own)\", which has no \(OwnSchemas.command.name). Remove the line to use the built-in schemas, or name a folder with timebok's own schemas."
            )
        }
        if let official = config.officialSchemas, !FileManager.default.fileExists(atPath: official + "/driver-all.xsd")
        {
            throw TimebokConfig.Invalid(
                .badSchemaFolder,
                "\(TimebokConfig.fileName): schemas.official names \"\(official)\", which has no driver-all.xsd. Name the folder of the official schema bundle, or remove the line to check with the built-in rules only."
            )
        }
        commandSchema = try OwnSchemas.compile(OwnSchemas.command, folder: config.ownSchemas)
        signer = try Signer(config: config, spoolRoot: spool.root, now: clock())
        trustedCertificates = try config.trustedCertificates.map {
            try TrustList.load($0.hasPrefix("/") ? $0 : spool.root + "/" + $0)
        }
        settings = ModelSettings(
            allowTestNumbers: config.allowTestNumbers, maxSlotsPerCommand: config.maxSlotsPerCommand)
        self.clock = clock
    }

    var nowSeconds: Int { Int(clock().timeIntervalSince1970) }

    /// The one place a decision's instant and new ids come from: the business clock, read once per
    /// input, and random UUIDs. Handlers get them only through the context.
    func decisionContext() -> DecisionContext {
        DecisionContext(now: nowSeconds, config: config, newId: { UUID().uuidString.lowercased() })
    }

    /// The database is missing, empty or damaged: nothing is claimed until it is restored.
    public struct DatabaseProblem: TimebokError, Hashable {
        /// Opaque codes (`TB-081x`): only this module makes them.
        public struct Code: Sendable, Hashable, CustomStringConvertible {
            public let rawValue: String
            private init(_ rawValue: String) { self.rawValue = rawValue }
            public var description: String { rawValue }

            /// The database file is missing or empty (lost; never silently recreated).
            public static let missing = Code("TB-0811")
            /// The database cannot be read or fails SQLite's check.
            public static let damaged = Code("TB-0812")
        }

        public let code: Code
        public let message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var errorCode: String { code.rawValue }
    }

    /// SQLite's `quick_check`, run before a pass claims anything.
    func checkDatabase() throws {
        let findings: [String]
        do {
            findings = try store.quickCheck()
        } catch {
            throw DatabaseProblem(
                .damaged,
                "\(spool.databasePath) cannot be read (\(error)). Stop every timebok on this spool and restore the database from its backup (README: Backing up a spool)."
            )
        }
        guard findings.isEmpty else {
            throw DatabaseProblem(
                .damaged,
                "\(spool.databasePath) is damaged (SQLite quick_check: \(findings.prefix(3).joined(separator: "; "))). Nothing was claimed. Stop every timebok on this spool and restore the database from its backup (README: Backing up a spool)."
            )
        }
    }

    /// A consistent, read-only snapshot of the model (books, slots, patients, bookings), for listings.
    public func readModel<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try store.read(body)
    }

    /// When the next held request expires (nil: none is held).
    public func nextHoldExpiry() throws -> Date? {
        try store.read { try $0.nextHoldExpiry() }.map { Date(timeIntervalSince1970: Double($0)) }
    }

    /// A consistent copy of the database at `destination` (SQLite `VACUUM INTO`), safe while timebok runs.
    public func backup(to destination: String) throws {
        try store.backup(to: destination)
    }

    // MARK: The command line's door

    /// Executes a command through the same path as a command file, without files.
    public func execute(_ envelope: CommandEnvelope, source: String = "cli") -> CommandOutcome {
        let content = Array("\(source)\n\(envelope)".utf8)
        switch commit(envelope, source: source, content: content, resultName: nil) {
        case .success(let committed):
            var outcome = committed.outcome
            do {
                try publish(committed.outputs, key: "command:\(envelope.id)")
            } catch {
                outcome.summary +=
                    " (Its messages are recorded but could not be published yet: \(error). The next pass publishes them.)"
            }
            return outcome
        case .failure(let error):
            return CommandOutcome(
                commandId: envelope.id, error: Refusal(error), summary: error.message, created: [], duplicate: false)
        }
    }

    // MARK: The file door

    /// A summary of one `process` pass.
    public struct Report: Sendable {
        public var outcomes: [CommandOutcome] = []
        /// Young files not yet complete (left for the next pass).
        public var waiting: [String] = []
        /// Files that could not be finished now (storage or file-system trouble); they stay in
        /// `processing/` and are retried on the next pass.
        public var retrying: [(name: String, problem: String)] = []
        /// Requests that expired unanswered in this pass (each answered 26).
        public var expired = 0
        /// What was not an input (a link, a FIFO, a folder, a name timebok cannot handle) and was moved to `error/`.
        public var setAside: [(name: String, what: String)] = []
        /// Temporary files of timebok's own left by an interrupted run, removed.
        public var leftoversRemoved = 0
    }

    /// How far a pass has come (``process(progress:)``).
    public enum Progress: Sendable {
        /// What an earlier run left (outputs not yet published, inputs in `processing/`) is finished.
        case recovered
        /// A batch is finished.
        case batch
    }

    /// One pass over the spool, holding its lock: files left in `processing/` by an earlier run
    /// first, then every waiting command file and every message in `inbox/`, oldest name first, in
    /// batches (``runBatch(_:prefetched:report:more:)``), then requests whose hold time ran out. A file that cannot
    /// be finished now stays in `processing/` for the next pass; the others go on. `progress` hears
    /// when recovery is done and after every batch (a pass over a long backlog takes minutes, and a
    /// supervisor's watchdog must not take that for a hang); when it answers false, nothing more is
    /// claimed: the batches in hand are finished and the pass ends (a daemon asked to stop).
    public func process(progress: (Progress) -> Bool = { _ in true }) throws -> Report {
        stopClaiming = false
        let lock = try spool.lock()
        defer { withExtendedLifetime(lock) {} }
        // What only an earlier process can have left (a damaged database, its temporary files) is
        // looked for on this engine's first pass: a daemon's later passes cost what they handle.
        if !startChecked { try checkDatabase() }
        var report = Report()
        // Outputs committed but never published (the process stopped, the disk was full): publish them first.
        for key in try store.read({ try $0.keysWithUnpublishedOutputs() }) {
            guard let entry = try store.read({ try $0.ledger(key: key) }) else { continue }
            do { try publish(entry.outputs, key: key) } catch { report.retrying.append((key, "\(error)")) }
        }
        if !startChecked || pendingSweepDue {
            report.leftoversRemoved += try removeUnrecordedPending()
        }
        if !startChecked {
            report.leftoversRemoved += spool.removeOwnLeftovers()
            startChecked = true
        }
        let left = spool.leftInProcessing()
        for start in stride(from: 0, to: left.count, by: config.batchSize) {
            // In a spool batch, like claimed ones: its syncs go through descriptors opened before
            // anything of it is written, so a write-back error reaches them.
            do {
                try spool.batch {
                    runBatch(Array(left[start..<min(start + config.batchSize, left.count)]), report: &report)
                }
            } catch {
                report.retrying.append(("the spool's sync", "\(error)"))
            }
            if !progress(.batch) { stopClaiming = true }
        }
        if !progress(.recovered) { stopClaiming = true }
        var waiting: [String] = []
        setAsideOdd(in: .commands, report: &report)
        setAsideOdd(in: .inbox, report: &report)
        try claimWaiting(in: .commands, waiting: &waiting, report: &report, progress: progress)
        try claimWaiting(in: .inbox, waiting: &waiting, report: &report, progress: progress)
        report.waiting = waiting
        // A `.meta` in processing/ whose message is neither there nor waiting: to error/ with a reason.
        for orphan in spool.orphanCompanions() {
            do {
                _ = try quarantine(
                    orphan, day: Oslo.today(at: clock()).description,
                    reason:
                        "processing/\(orphan.name) is transport metadata whose message is gone (neither in processing/ nor in \(orphan.origin.rawValue)/); nothing was done with it.\n"
                )
                report.setAside.append((orphan.name, "transport metadata without its message; moved to error/"))
            } catch {
                report.retrying.append((orphan.name, "\(error)"))
            }
        }
        do {
            report.expired = try expireHolds()
        } catch {
            // Expiry is retried on the next pass; it never costs this pass its report.
            report.retrying.append(("hold expiry", "\(error)"))
        }
        return report
    }

    /// Claims the complete files waiting in a folder (an inbox message with its `.meta`), up to a
    /// batch at a time, and runs each batch. The claims' folder syncs wait for the batch's sync.
    private func claimWaiting(
        in folder: Spool.Folder, waiting: inout [String], report: inout Report, progress: (Progress) -> Bool
    ) throws {
        // The file system's own clock, read once per folder and only when there is something to
        // judge: file ages never depend on the business clock (which tests and replays fix).
        var fileSystemNow: Date?
        var files = spool.waiting(in: folder)[...]
        var claimError: (any Error)?
        /// The next batch's complete files, claimed (a claim that fails ends the claiming: what is
        /// claimed already is finished first, and the pass then reports the failure).
        func claimBatch() -> [Spool.Claimed] {
            var batch: [Spool.Claimed] = []
            while !stopClaiming, batch.count < config.batchSize, let file = files.popFirst() {
                // Without a settle time nothing waits; a probe that cannot be written (a full disk)
                // counts every file as settled rather than stopping the pass.
                let now = config.settleSeconds == 0 ? nil : fileSystemNow ?? (try? spool.fileSystemNow(in: folder))
                fileSystemNow = now
                // A file written in place may be incomplete: a young file that is not yet well-formed waits.
                if let now, now.timeIntervalSince(file.modified) < TimeInterval(config.settleSeconds),
                    file.size <= config.maxInputBytes,
                    let data = FileManager.default.contents(atPath: spool.path(folder) + "/" + file.name),
                    (try? HardenedXMLParser.parse(Array(data), limits: ParseLimits(maxBytes: config.maxInputBytes)))
                        == nil
                {
                    waiting.append(file.name)
                    continue
                }
                do {
                    guard
                        let claimed = try spool.claim(
                            file.name, from: folder, companion: folder == .inbox ? ".meta" : nil)
                    else { continue }
                    batch.append(claimed)
                } catch {
                    claimError = error
                    files = []
                }
            }
            return batch
        }
        // Each batch claims the one after it before it is decided, and that one's messages are read
        // and decoded on the other cores meanwhile: they have work while this batch's thread waits
        // for the disk. The claims' folder syncs wait for the batch's sync.
        var current: (batch: [Spool.Claimed], prefetch: MessagePrefetch?)?
        defer { current?.prefetch?.waitForAll() }
        repeat {
            var ran = false
            // The batch's own steps report their trouble; what escapes here is a last sync of claims
            // that a failed batch left unsynced: reported, and the pass goes on.
            do {
                try spool.batch {
                    let this = current ?? prefetched(claimBatch())
                    let next = prefetched(claimBatch())
                    current = next
                    ran = !this.batch.isEmpty
                    runBatch(this.batch, prefetched: this.prefetch, report: &report, more: !next.batch.isEmpty)
                }
            } catch {
                report.retrying.append(("the spool's sync", "\(error)"))
            }
            if ran, !progress(.batch) { stopClaiming = true }
        } while current?.batch.isEmpty == false
        if let claimError { throw claimError }
        // Only when the last batch claimed nothing (every file left was taken by someone else, or
        // not yet complete) is the one before still unfinished here.
        do {
            try spool.batch { finishUnfinished(report: &report) }
        } catch {
            report.retrying.append(("the spool's sync", "\(error)"))
        }
    }

    /// Links, FIFOs, folders and names timebok cannot handle, moved to `error/` each with a reason
    /// (nothing is skipped for ever without a word).
    private func setAsideOdd(in folder: Spool.Folder, report: inout Report) {
        let day = Oslo.today(at: clock()).description
        for odd in spool.odd(in: folder) {
            do {
                let moved = try spool.setAside(odd, in: folder, day: day)
                report.setAside.append(
                    (
                        IdentityMasking.mask("\(folder.rawValue)/\(odd.printableName)"),
                        "\(odd.why); moved to \(moved.replacingOccurrences(of: spool.root + "/", with: ""))"
                    ))
            } catch {
                report.retrying.append((odd.printableName, "\(error)"))
            }
        }
    }

    /// A command file, decided in the batch's transaction: applied (its result to `results/`, the
    /// input to the archive) or refused (an error result, the input to `error/` with its reason).
    func planCommand(_ claimed: Spool.Claimed, writer: StoreWriter) throws -> Plan {
        let now = clock()
        let day = Oslo.today(at: now).description
        // The size comes from the open file: an oversized one is refused without being read.
        let read = try spool.read(claimed, limit: config.maxInputBytes)
        guard let bytes = read.bytes else {
            let error = ModelError(
                .malformedCommand,
                "The command file has \(read.size) bytes, more than limits.max-input-bytes (\(config.maxInputBytes)); it was not read."
            )
            return try planRejection(
                claimed, commandId: nil, error: error, details: [], day: day, contentKey: "size:\(read.size)",
                writer: writer)
        }
        let envelope: CommandEnvelope
        do {
            envelope = try decodeCommandFile(bytes, name: claimed.name)
        } catch {
            return try planRejection(
                claimed, commandId: error.commandId, error: error.error, details: error.details, day: day,
                contentKey: ContentHash.hex(bytes), writer: writer)
        }
        let name = resultName(for: envelope.id)
        do {
            let committed = try writer.savepoint {
                try decideCommand(envelope, source: claimed.name, content: bytes, resultName: name, writer: $0)
            }
            var outcome = committed.outcome
            outcome.resultFile = committed.outputs.first.map { "\($0.folder)/\($0.name)" }
            return Plan(
                claimed: claimed, key: "command:\(envelope.id)", outputs: committed.outputs, disposition: .archive,
                outcome: outcome, day: day)
        } catch let error as ModelError where error.code != .storage {
            return try planRejection(
                claimed, commandId: envelope.id, error: error, details: [], day: day,
                contentKey: ContentHash.hex(bytes), resultName: name, writer: writer)
        }
        // Anything else (the store's own trouble) is not the command's fault: it stays in
        // processing/ and is tried again on the next pass.
    }

    /// The ledger entry for `key`: the recorded one when there is one (recovery answers once, the
    /// same way), else the one `make` builds, recorded in its own transaction.
    func recordOnce(key: String, _ make: (StoreWriter) throws -> LedgerEntry) throws -> LedgerEntry {
        try store.write { try recordOnce(key: key, writer: $0, make) }
    }

    /// The same, inside a transaction in hand.
    func recordOnce(
        key: String, writer: StoreWriter, _ make: (StoreWriter) throws -> LedgerEntry
    ) throws
        -> LedgerEntry
    {
        if let recorded = try writer.reader.ledger(key: key) { return recorded }
        let entry = try make(writer)
        try record(entry, writer: writer)
        return entry
    }

    /// Records a ledger entry in the transaction in hand. In a batch, its outputs' bytes go to
    /// pending files before the batch's commit instead of into the store (see Batch.swift).
    func record(_ entry: LedgerEntry, writer: StoreWriter) throws {
        try writer.record(entry, keepingBytes: !inBatch)
        if inBatch { recordedInBatch.insert(entry.key) }
    }

    /// Removes the pending files no ledger row names (a process stopped between writing them and
    /// its commit, or the commit failed); a pending file a row names is never removed. Returns how many.
    func removeUnrecordedPending() throws -> Int {
        pendingSweepDue = false
        let pending = spool.pendingFiles()
        guard !pending.isEmpty else { return 0 }
        let recorded = try store.read { reader in
            try reader.recordedOutputPaths(among: pending.map { ($0.folder.rawValue, $0.name) })
        }
        var removed = 0
        for (folder, name) in pending where !recorded.contains(folder.rawValue + "/" + name) {
            spool.discardPending(folder, name: name)
            removed += 1
        }
        return removed
    }

    /// Publishes outputs not yet published, then marks them so (a reader may already have consumed
    /// and removed a published file: it is never published twice).
    func publish(_ outputs: [LedgerEntry.Output], key: String) throws {
        var any = false
        var placedBefore = false
        for output in outputs where !output.published {
            let folder = Spool.Folder(rawValue: output.folder) ?? .results
            if let pending = spool.pending(folder, name: output.name) {
                try spool.place(pending)
            } else if !output.bytes.isEmpty {
                try spool.publishIdentical(output.bytes, to: folder, name: output.name)
            } else {
                // Neither: recorded by a batch, placed before its pending file went (and perhaps
                // taken). Its rename may not be durable yet (its batch's last sync failed): it is
                // before the mark is.
                placedBefore = true
            }
            any = true
        }
        if placedBefore { try spool.syncAll(.cannotPublish) }
        if any { try store.write { try $0.markPublished(key: key) } }
    }

    /// An error result for a refused command file, and the input to `error/` with a reason a
    /// person can read. The rejection is recorded in the ledger (key: file name and content hash),
    /// so recovery after a crash answers it once, with the same result.
    private func planRejection(
        _ claimed: Spool.Claimed, commandId: String?, error: ModelError, details: [String], day: String,
        contentKey: String, resultName reserved: String? = nil, writer: StoreWriter
    ) throws -> Plan {
        let key = "rejected:\(claimed.origin.rawValue)/\(claimed.name):\(contentKey)"
        let entry = try recordOnce(key: key, writer: writer) { _ in
            let name = reserved ?? resultName(for: commandId ?? (claimed.name as NSString).deletingPathExtension)
            let result = CommandFile.result(
                commandId: commandId, error: error, message: nil, created: [], processedAt: Oslo.xsDateTime(clock()))
            return LedgerEntry(
                key: key, source: claimed.name, contentSHA256: contentKey, appliedAt: nowSeconds, outcome: "rejected",
                summary: "\(error.code.rawValue): \(error.message)",
                outputs: [LedgerEntry.Output(folder: Spool.Folder.results.rawValue, name: name, bytes: result)])
        }
        let resultFile = "results/\(entry.outputs[0].name)"
        var reason =
            "\(claimed.origin.rawValue)/\(claimed.name) was not applied; nothing in the model changed.\n\(error.code.rawValue): \(error.message)\n"
        if !details.isEmpty { reason += "Details:\n" + details.map { "  \($0)\n" }.joined() }
        reason += "Result: \(resultFile)\nTime: \(Oslo.xsDateTime(clock()))\n"
        return Plan(
            claimed: claimed, key: key, outputs: entry.outputs, disposition: .quarantine(reason),
            outcome: CommandOutcome(
                commandId: commandId, error: Refusal(error), summary: error.message, created: [], duplicate: false,
                resultFile: resultFile),
            day: day)
    }

    /// Moves an input to `error/` with its reason, fødselsnumre masked: reason files are read by people.
    func quarantine(_ claimed: Spool.Claimed, day: String, reason: String) throws -> String {
        try spool.quarantine(claimed, day: day, reason: IdentityMasking.mask(reason))
    }

    struct FileFailure: Error {
        var commandId: String?
        var error: ModelError
        var details: [String]
    }

    /// Parse (TB-0315), validate against command-v1.xsd (TB-0316), decode.
    private func decodeCommandFile(_ bytes: [UInt8], name: String) throws(FileFailure) -> CommandEnvelope {
        let document: XDocument
        do {
            document = try HardenedXMLParser.parse(
                bytes, name: name, limits: ParseLimits(maxBytes: config.maxInputBytes))
        } catch {
            let where_ = error.line.map { " (line \($0))" } ?? ""
            throw FileFailure(
                commandId: nil,
                error: ModelError(
                    .malformedCommand,
                    "The command file is not readable XML\(where_): \(error.summary) \(error.issues.first?.message ?? "")"
                        .trimmedWhitespace), details: error.issues.map(\.description))
        }
        let commandId = document.root?.attribute("id")
        let issues = commandSchema.validate(document)
        if let first = issues.first {
            throw FileFailure(
                commandId: commandId,
                error: ModelError(.invalidCommand, "The command file does not follow schemas/command-v1.xsd: \(first)"),
                details: issues.map(\.description))
        }
        do {
            return try CommandFile.decode(document)
        } catch let error as ModelError {
            throw FileFailure(commandId: commandId, error: error, details: [])
        } catch {
            throw FileFailure(commandId: commandId, error: ModelError(.invalidCommand, "\(error)"), details: [])
        }
    }

    private struct Committed {
        var outcome: CommandOutcome
        var outputs: [LedgerEntry.Output]
    }

    /// Decide and commit in one write transaction: the decision sees exactly the state it changes.
    private func commit(
        _ envelope: CommandEnvelope, source: String, content: [UInt8], resultName: String?
    ) -> Result<Committed, ModelError> {
        do {
            return .success(
                try store.write {
                    try decideCommand(envelope, source: source, content: content, resultName: resultName, writer: $0)
                })
        } catch let error as ModelError {
            return .failure(error)
        } catch {
            return .failure(ModelError(.storage, "The store refused the change: \(error)"))
        }
    }

    /// Decides a command against the model in the transaction in hand and records it with its
    /// outputs; a command id seen before with the same content is a duplicate (its recorded outputs).
    private func decideCommand(
        _ envelope: CommandEnvelope, source: String, content: [UInt8], resultName: String?, writer: StoreWriter
    ) throws -> Committed {
        let hash = ContentHash.hex(content)
        let key = "command:\(envelope.id)"
        let context = decisionContext()
        let now = context.now
        if let previous = try writer.reader.ledger(key: key) {
            guard previous.contentSHA256 == hash else {
                throw ModelError(
                    .commandIdReused,
                    "Command id \"\(envelope.id)\" was already used (\(previous.source), \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(previous.appliedAt))))) for a different command; give every command its own id."
                )
            }
            return Committed(
                outcome: CommandOutcome(
                    commandId: envelope.id, error: nil, summary: "Already applied: \(previous.summary)",
                    created: [], duplicate: true), outputs: previous.outputs)
        }
        let decision = try CommandHandler(settings: settings, newId: context.newId).decide(
            envelope, model: writer.reader, now: now)
        // The office's events become answers, pushes and journal entries, decided on the same
        // snapshot and committed with the decision in one step.
        let conversation = try Conversations(context: context).officeEvents(
            of: decision, model: writer.reader)
        try writer.apply(conversation)
        var outputs: [LedgerEntry.Output] = []
        if let resultName {
            outputs.append(
                LedgerEntry.Output(
                    folder: Spool.Folder.results.rawValue, name: resultName,
                    bytes: CommandFile.result(
                        commandId: envelope.id, error: nil, message: decision.summary,
                        created: decision.created,
                        processedAt: Oslo.xsDateTime(Date(timeIntervalSince1970: Double(now))))))
        }
        outputs += try outputFiles(conversation, context: context, model: writer.reader)
        try record(
            LedgerEntry(
                key: key, source: source, contentSHA256: hash, appliedAt: now, outcome: "ok",
                summary: decision.summary, outputs: outputs), writer: writer)
        return Committed(
            outcome: CommandOutcome(
                commandId: envelope.id, error: nil, summary: decision.summary, created: decision.created,
                duplicate: false), outputs: outputs)
    }

    /// Result names sort by time and are unique: `20261201T091500.123Z-<command id>.xml`.
    /// Two results in the same millisecond for the same id (a reused id) get `-2`, `-3` ….
    func resultName(for id: String) -> String {
        let safe = String(
            id.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" }.prefix(80))
        let base = "\(UTCStamp.compact(clock()))-\(safe)"
        var name = base + ".xml"
        var counter = 2
        // Also unique within a batch, whose results are not published yet.
        while reservedResultNames.contains(name)
            || FileManager.default.fileExists(atPath: spool.path(.results) + "/" + name)
        {
            name = "\(base)-\(counter).xml"
            counter += 1
        }
        reservedResultNames.insert(name)
        return name
    }
}
