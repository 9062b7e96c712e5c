import Booking
import Foundation
import TimebokCore
import TimebokSpool

// Group commit. A pass takes what is waiting in batches of up to `limits.batch-size`:
//
// 1. decide: every input of the batch against the model, in one SQLite transaction, each in a
//    savepoint of its own (one poisoned input is undone alone and stays in processing/ for the next
//    pass; the others go on). Its messages are read, decoded and their signatures checked on the
//    other cores ahead of their decisions (`MessagePrefetch`), and signed replies are encoded,
//    signed and written out there meanwhile (`RenderQueue`); neither with the official schemas
//    configured, which validate each message and reply as it is decided. When a render fails, the
//    batch is decided again, signing serially. Before the
//    commit, every new output is written to its pending file `FOLDER/.NAME.pending` and one syncfs
//    makes them durable; the commit then records the model changes and each output by name and
//    SHA-256, never its bytes. (An output whose pending file cannot be written has its input left
//    out and the batch decided again without it, for at most two inputs; then the batch waits.)
// 2. publish: each pending file is renamed to its name in one step (renameat2, RENAME_NOREPLACE),
//    so no file ever appears under its name before its bytes are durable, and a pending file is
//    gone exactly when its output is placed (where the file system cannot, link then unlink).
// 3. dispose: each input to archive/DAY/ (its outputs as hard links beside it) or to error/DAY/
//    with its reason; a second syncfs makes the outputs' and the inputs' new names durable.
// 4. record: one commit, which need not wait for the disk (the next batch's commit makes it
//    durable), marks the placed outputs as published; it waits only when it also keeps a refused
//    input's new answers (error/ holds no copy). Outputs published from bytes an older ledger kept
//    are instead recorded as published before the inputs move, and those bytes dropped here.
//
// In a backlog (another batch claimed at once behind this one), steps 2 to 4 of a batch run inside
// the next batch's transaction, after its inputs are decided and while its replies are still being
// signed on the other cores, so the disk work of one batch overlaps the signing of the next; its
// marks are then part of that transaction (undone with it, they are found placed by the next pass).
// Only batches of inbox messages whose new outputs all go with an archived input wait so
// (`mayWait`); a lone request, the last batch of a pass and everything else finish at once.
//
// A crash between any two steps leaves a state the next pass finishes exactly once: an output
// recorded and not yet marked is placed from its pending file when there is one, and when there is
// none it was placed already (and may have been taken by the transport): never sent again. Pending
// files no ledger row names (a crash before the commit, a failed commit) are removed at start and
// on the pass after a failed commit; one a row names is never removed. Inputs left in
// processing/ are decided again and meet their ledger rows (duplicates).
extension Engine {
    /// What deciding one input leaves for after the batch's commit.
    struct Plan {
        var claimed: Spool.Claimed
        /// The ledger entry whose outputs are published and then marked (nil: nothing recorded).
        var key: String?
        var outputs: [LedgerEntry.Output]
        var disposition: Disposition
        var outcome: CommandOutcome
        /// The day folder (Europe/Oslo) the input goes to.
        var day: String
    }

    enum Disposition {
        /// To `archive/DAY/`, with its outputs linked beside it.
        case archive
        /// To `error/DAY/`, with this reason (its outputs, if any, are published first).
        case quarantine(String)
    }

    /// A batch committed whose steps 2 to 4 wait for the next batch's decisions (see above).
    struct Unfinished {
        var plans: [Plan]
        var started: ContinuousClock.Instant
        /// The ledger keys the batch recorded (its new outputs).
        var recorded: Set<String>
    }

    /// Decides, publishes and disposes of one batch of claimed inputs (see above), adding each
    /// outcome to `report`; an input that cannot be finished now is in `report.retrying` and stays
    /// in `processing/`. With `more` (another batch follows at once), its steps 2 to 4 may wait for
    /// the next batch's decisions, to run while that batch's replies are signed on the other cores;
    /// ``finishUnfinished(report:)`` finishes it when none follows.
    func runBatch(
        _ batch: [Spool.Claimed], prefetched: MessagePrefetch? = nil, report: inout Report, more: Bool = false
    ) {
        guard !batch.isEmpty else { return finishUnfinished(report: &report) }
        let started = ContinuousClock.now
        prefetch = prefetched ?? self.prefetched(batch).prefetch
        defer {
            prefetch?.waitForAll()
            prefetch = nil
        }
        let plans = decideAll(batch, report: &report)
        // The batch before is finished first (when this one's decisions did not): a second delivery
        // across the two is then placed by the first.
        finishUnfinished(report: &report)
        guard let plans else { return }
        if more, mayWait(plans) {
            unfinished = Unfinished(plans: plans, started: started, recorded: recordedInBatch)
        } else {
            finish(plans, started: started, recorded: recordedInBatch, report: &report)
        }
    }

    /// `batch` with its messages being read, parsed, decoded and their signatures checked on the
    /// other cores ahead of their decisions; not with the official schemas configured, which
    /// validate on the deciding thread.
    func prefetched(_ batch: [Spool.Claimed]) -> (batch: [Spool.Claimed], prefetch: MessagePrefetch?) {
        guard !batch.isEmpty, case .builtIn = schemaLevel, let checks = try? messageChecks() else {
            return (batch, nil)
        }
        return (batch, MessagePrefetch(batch, spool: spool, checks: checks))
    }

    /// Steps 2 to 4 of the batch left for the next one's decisions, now (nothing when there is none);
    /// with `writer`, its outputs are marked published in that transaction.
    func finishUnfinished(report: inout Report, markingIn writer: StoreWriter? = nil) {
        guard let previous = unfinished else { return }
        unfinished = nil
        finish(
            previous.plans, started: previous.started, recorded: previous.recorded, report: &report,
            markingIn: writer)
    }

    /// True when the batch's steps 2 to 4 can wait for the next batch's decisions and run inside its
    /// transaction: its only store write is then marking its outputs published. Not when an output
    /// is published from bytes an older ledger row kept (marked durably before its input moves), a
    /// refused input's answers keep their bytes, or a command's result name is not on disk yet (the
    /// next batch could give it out again).
    private func mayWait(_ plans: [Plan]) -> Bool {
        plans.allSatisfy { plan in
            guard plan.claimed.origin == .inbox else { return false }
            guard plan.outputs.contains(where: { !$0.published }) else { return true }
            guard let key = plan.key, recordedInBatch.contains(key) else { return false }
            if case .archive = plan.disposition { return true }
            return false
        }
    }

    /// Step 1 with its retries: the batch's plans, or nil when nothing of it was recorded (its inputs
    /// are then in `report.retrying`).
    private func decideAll(_ batch: [Spool.Claimed], report: inout Report) -> [Plan]? {
        var decided: (plans: [Plan], refused: [(name: String, problem: String)])
        var batch = batch
        var renderingAside = signer != nil
        var unwritable: [(name: String, problem: String)] = []
        do {
            while true {
                do {
                    decided = try decide(batch, renderingAside: renderingAside, report: &report)
                    break
                } catch is RenderFailed where renderingAside {
                    // A reply could not be signed: nothing was recorded; decided again with each reply
                    // signed in its own decision, the failure is that input's alone.
                    renderingAside = false
                } catch let failure as PendingFailed where unwritable.count < 2 {
                    // An output of one input could not be written: nothing was recorded; the batch is
                    // decided again without that input, which stays in processing/. A third time
                    // (a full disk fails them all) the batch waits whole for the next pass.
                    unwritable.append((failure.name, failure.problem))
                    batch.removeAll { $0.name == failure.name }
                    if batch.isEmpty {
                        report.retrying += unwritable
                        return nil
                    }
                }
            }
        } catch let failure as PendingFailed {
            report.retrying += unwritable + batch.map { ($0.name, failure.problem) }
            return nil
        } catch let failure as BatchFailure {
            // Nothing of this batch was recorded: every input stays in processing/ for the next pass.
            let problem =
                failure.error is ModelError
                ? "\(failure.error)"
                : "\(ModelError(.storage, "The store could not commit the batch: \(failure.error)"))"
            let named = Set(failure.refused.map(\.name))
            report.retrying +=
                failure.refused + batch.filter { !named.contains($0.name) }.map { ($0.name, problem) }
            return nil
        } catch {
            report.retrying += batch.map { ($0.name, "\(error)") }
            return nil
        }
        report.retrying += unwritable + decided.refused
        return decided.plans
    }

    /// The pending file of an input's output could not be written: nothing of the batch was recorded.
    private struct PendingFailed: Error {
        var name: String
        var problem: String
    }

    /// The batch's store transaction failed: nothing of it was recorded.
    private struct BatchFailure: Error {
        var error: any Error
        var refused: [(name: String, problem: String)]
    }

    /// Step 1: every input decided in one transaction, each in a savepoint of its own. With
    /// `renderingAside`, signed replies are rendered on other cores while the decisions go on, and
    /// filled in before the commit (a failed render throws ``RenderFailed``, nothing recorded).
    private func decide(
        _ batch: [Spool.Claimed], renderingAside: Bool, report: inout Report
    ) throws -> (plans: [Plan], refused: [(name: String, problem: String)]) {
        reservedResultNames = []
        var plans: [Plan] = []
        var refused: [(name: String, problem: String)] = []
        let queue = renderingAside ? makeRenders(spool) : nil
        renders = queue
        inBatch = true
        recordedInBatch = []
        defer {
            renders = nil
            inBatch = false
        }
        var written: [(Spool.Folder, String)] = []
        // True once the transaction's body is done: a failure after it is the commit's, which SQLite
        // may have made durable all the same (an I/O error in the WAL's sync).
        var committing = false
        do {
            try store.write { writer in
                for claimed in batch {
                    do {
                        plans.append(try writer.savepoint { try plan(claimed, writer: $0) })
                    } catch {
                        refused.append((claimed.name, "\(error)"))
                        // SQLite undid the whole transaction (a full disk, an I/O error): the batch ends here.
                        guard writer.isInsideTransaction else { throw error }
                    }
                }
                renders = nil
                // The batch before is published and disposed of while this one's replies are signed.
                finishUnfinished(report: &report, markingIn: writer)
                var writtenAside: Set<String> = []
                if let queue {
                    let finished = queue.finished()
                    written += finished.written.map(Self.split)
                    try fillRenders(finished.replies, plans: &plans, writer: writer)
                    // Pending files of replies whose inputs were undone since: no row names them.
                    let named = Set(plans.flatMap { $0.outputs.map { $0.folder + "/" + $0.name } })
                    writtenAside = finished.written.intersection(named).subtracting(finished.rewrite)
                    for path in finished.written.subtracting(named) {
                        let (folder, name) = Self.split(path)
                        spool.discardPending(folder, name: name)
                    }
                }
                try writePending(of: plans, writtenAside: writtenAside, written: &written)
                committing = true
            }
        } catch {
            // The batch before's marks are undone with it: the next pass finds those outputs
            // recorded and not marked, with their pending files gone (placed: never sent again).
            // Renders still running write nothing after this (their files are discarded too).
            if let queue, !queue.isFinished {
                written += queue.finished().written.map(Self.split)
            }
            if committing {
                // The commit failed, or only seemed to: its pending files stay until a sweep finds
                // no ledger row naming them (the next pass).
                pendingSweepDue = true
            } else {
                for (folder, name) in written { spool.discardPending(folder, name: name) }
            }
            if error is RenderFailed || error is PendingFailed { throw error }
            throw BatchFailure(error: error, refused: refused)
        }
        return (plans, refused)
    }

    /// The new outputs of the batch's plans to their pending files, made durable with one syncfs
    /// before the commit that records them by name and hash (their bytes never enter the store).
    private func writePending(
        of plans: [Plan], writtenAside: Set<String>, written: inout [(Spool.Folder, String)]
    ) throws {
        var seen = writtenAside
        for plan in plans {
            guard let key = plan.key, recordedInBatch.contains(key) else { continue }
            for output in plan.outputs where !output.published {
                guard seen.insert(output.folder + "/" + output.name).inserted else { continue }
                let folder = Spool.Folder(rawValue: output.folder) ?? .results
                guard !output.bytes.isEmpty else {
                    throw ModelError(
                        .storage,
                        "timebok recorded \(output.folder)/\(output.name) without its bytes; nothing of the batch was recorded or sent. This is a bug in timebok."
                    )
                }
                do {
                    try spool.writePending(output.bytes, to: folder, name: output.name)
                } catch {
                    throw PendingFailed(name: plan.claimed.name, problem: "\(error)")
                }
                written.append((folder, output.name))
            }
        }
        if !written.isEmpty { try spool.syncAll(.cannotPublish) }
    }

    /// The rendered replies into the ledger rows that name them and into every plan that carries
    /// them (a second delivery in the batch carries the first one's). Renders of inputs undone
    /// since are left out: no row names them.
    private func fillRenders(
        _ rendered: [String: RenderQueue.Rendered], plans: inout [Plan], writer: StoreWriter
    ) throws {
        var filled: Set<String> = []
        for index in plans.indices {
            for seq in plans[index].outputs.indices {
                let path = plans[index].outputs[seq].folder + "/" + plans[index].outputs[seq].name
                guard let result = rendered[path] else { continue }
                let reply: RenderQueue.Reply
                switch result {
                case .success(let rendered): reply = rendered
                case .failure(let error): throw RenderFailed(path: path, error: error)
                }
                plans[index].outputs[seq].bytes = reply.bytes
                if let key = plans[index].key, filled.insert(path).inserted {
                    try writer.fill(key: key, seq: seq, sha256: reply.sha256)
                }
            }
        }
    }

    /// `folder/name` apart.
    private static func split(_ path: String) -> (Spool.Folder, String) {
        guard let slash = path.firstIndex(of: "/") else { return (.results, path) }
        return (Spool.Folder(rawValue: String(path[..<slash])) ?? .results, String(path[path.index(after: slash)...]))
    }

    /// Steps 2 to 4 for the batch's plans, whose ledger rows `recorded` names. With `writer` (the
    /// next batch's transaction, for a batch ``mayWait(_:)`` let wait), its outputs are marked
    /// published in that transaction: undone with it, they are found placed by the next pass.
    private func finish(
        _ plans: [Plan], started: ContinuousClock.Instant, recorded: Set<String>, report: inout Report,
        markingIn writer: StoreWriter? = nil
    ) {
        var problems: [String?] = Array(repeating: nil, count: plans.count)
        var staged: [[Spool.Staged]] = Array(repeating: [], count: plans.count)
        var moved: [String?] = Array(repeating: nil, count: plans.count)
        /// Plans whose outputs are all under their names (nothing of theirs is pending any more).
        var placed: Set<Int> = []
        var disposing = false
        var namesDurable = false
        // Plans whose outputs were staged from bytes the ledger kept (rows older than pending files).
        var fromBytes: Set<Int> = []
        do {
            try spool.batch {
                // A second delivery in the same batch carries the first one's recorded outputs: they
                // are written once, and it is finished only if the first one is.
                var stagedBy: [String: Int] = [:]
                var dependsOn: [Int: Int] = [:]
                for (index, plan) in plans.enumerated() {
                    do {
                        for output in plan.outputs where !output.published {
                            let path = output.folder + "/" + output.name
                            if let owner = stagedBy[path] {
                                dependsOn[index] = owner
                                continue
                            }
                            let folder = Spool.Folder(rawValue: output.folder) ?? .results
                            // Its pending file (durable since the decision's commit); else the bytes an
                            // older ledger row keeps; else neither: placed before, nothing to do.
                            if let pending = spool.pending(folder, name: output.name) {
                                staged[index].append(pending)
                            } else if !output.bytes.isEmpty {
                                // Bytes an older row kept are marked published durably before the input
                                // moves, which a batch finished inside the next one's transaction cannot.
                                guard writer == nil || plan.key.map(recorded.contains) == true else {
                                    throw ModelError(
                                        .storage,
                                        "\(path) is published from the bytes its ledger row keeps on the next pass.")
                                }
                                staged[index].append(try spool.stage(output.bytes, to: folder, name: output.name))
                                fromBytes.insert(index)
                            }
                            stagedBy[path] = index
                        }
                    } catch {
                        problems[index] = "\(error)"
                    }
                }
                if !fromBytes.isEmpty {
                    do {
                        try spool.syncAll(.cannotPublish)
                    } catch {
                        // Nothing was named yet: every output stays recorded, every input in processing/.
                        for index in plans.indices where problems[index] == nil { problems[index] = "\(error)" }
                    }
                }
                for index in plans.indices where problems[index] == nil {
                    do {
                        for file in staged[index] { try spool.place(file) }
                        placed.insert(index)
                    } catch {
                        problems[index] = "\(error)"
                    }
                }
                for (index, owner) in dependsOn.sorted(by: { $0.key < $1.key }) where problems[index] == nil {
                    if let problem = problems[owner] {
                        problems[index] = problem
                        placed.remove(index)
                    }
                }
                // Outputs published again from bytes the ledger kept have no pending file to tell
                // that they were placed: their names are made durable and recorded as published at
                // once, before anything else (the window in which a crash sends them again is this
                // sync and this commit).
                let fromKeptBytes = fromBytes.filter { placed.contains($0) }.compactMap { plans[$0].key }
                if writer == nil, !fromKeptBytes.isEmpty {
                    try spool.syncAll(.cannotPublish)
                    try store.write { writer in
                        for key in fromKeptBytes { try writer.markPublished(key: key) }
                    }
                }
                disposing = true
                for (index, plan) in plans.enumerated() where problems[index] == nil {
                    do {
                        switch plan.disposition {
                        case .archive:
                            moved[index] = try spool.archive(
                                plan.claimed, day: plan.day,
                                outputs: plan.outputs.map { ($0.folder, $0.name, $0.bytes) })
                        case .quarantine(let reason):
                            moved[index] = try quarantine(plan.claimed, day: plan.day, reason: reason)
                        }
                    } catch {
                        problems[index] = "\(error)"
                    }
                }
                // One sync for the outputs' names and the inputs' moves: a crash before it leaves
                // pending files where renames were undone (placed by the next pass) and inputs in
                // processing/ (decided again: duplicates).
                try spool.syncAll(.cannotArchive)
                namesDurable = true
            }
        } catch {
            // Before the inputs moved: every output stays recorded (pending, or placed), every input
            // in processing/, and the next pass finishes them once. After: the inputs are where they
            // belong, but their new names may not be durable; the next pass finishes what a crash
            // undid. Either way the pass reports the trouble, which makes a daemon back off.
            report.retrying.append(("the spool's sync or the store's commit", "\(error)"))
            if !disposing {
                for index in plans.indices where problems[index] == nil { problems[index] = "\(error)" }
            }
        }
        for (index, files) in staged.enumerated() where !placed.contains(index) {
            files.forEach(spool.discard)
        }
        // Once their names are durable, the placed outputs are recorded as published, in a commit
        // that need not wait for the disk: the next batch's commit makes it durable, and losing it
        // only makes the next start look for pending files that are gone. A refused input's new
        // answers keep their bytes in the ledger (error/ holds no copy): then it waits. Archived
        // inputs' outputs staged from kept bytes are linked beside them: those bytes are dropped.
        guard namesDurable else {
            return addOutcomes(of: plans, problems: problems, moved: moved, started: started, to: &report)
        }
        // Finished inside the next batch's transaction, outputs staged from bytes are only ones this
        // batch rendered (the ledger keeps no bytes of them): they are marked with the rest.
        let marked = placed.filter { plans[$0].key != nil && (writer != nil || !fromBytes.contains($0)) }
        let kept = marked.filter {
            guard case .quarantine = plans[$0].disposition, let key = plans[$0].key else { return false }
            return recorded.contains(key)
        }
        let forgotten = fromBytes.filter {
            guard writer == nil, problems[$0] == nil, case .archive = plans[$0].disposition else { return false }
            return true
        }
        if !marked.isEmpty || !forgotten.isEmpty {
            do {
                let record = { (writer: StoreWriter) throws in
                    for index in marked.sorted() {
                        guard let key = plans[index].key else { continue }
                        try writer.markPublished(key: key)
                        guard kept.contains(index) else { continue }
                        for (seq, output) in plans[index].outputs.enumerated() where !output.bytes.isEmpty {
                            try writer.keepBytes(key: key, seq: seq, bytes: output.bytes)
                        }
                    }
                    for index in forgotten.sorted() {
                        if let key = plans[index].key { try writer.forgetPublishedBytes(key: key) }
                    }
                }
                if let writer {
                    try writer.savepoint { try record($0) }
                } else if kept.isEmpty {
                    try store.writeWithoutWaiting(record)
                } else {
                    try store.write(record)
                }
            } catch {
                report.retrying.append(("recording outputs as published", "\(error)"))
            }
        }
        addOutcomes(of: plans, problems: problems, moved: moved, started: started, to: &report)
    }

    /// Each plan's outcome (or why it is left for the next pass) into the pass's report.
    private func addOutcomes(
        of plans: [Plan], problems: [String?], moved: [String?], started: ContinuousClock.Instant,
        to report: inout Report
    ) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        for (index, plan) in plans.enumerated() {
            if let problem = problems[index] {
                report.retrying.append((plan.claimed.name, problem))
                continue
            }
            var outcome = plan.outcome
            outcome.inputMovedTo = moved[index]
            outcome.input = "\(plan.claimed.origin.rawValue)/\(plan.claimed.name)"
            outcome.milliseconds = milliseconds
            report.outcomes.append(outcome)
        }
    }

    /// Decides one input inside the batch's transaction.
    private func plan(_ claimed: Spool.Claimed, writer: StoreWriter) throws -> Plan {
        claimed.origin == .inbox
            ? try planMessage(claimed, writer: writer) : try planCommand(claimed, writer: writer)
    }
}
