import Booking
import Foundation
import TimebokCore
import TimebokSpool

// Group commit. A pass takes what is waiting in batches of up to `limits.batch-size`:
//
// 1. decide: every input of the batch against the model, in one SQLite transaction, each in a
//    savepoint of its own (one poisoned input is undone alone and stays in processing/ for the next
//    pass; the others go on). Its model changes, ledger row and output bytes commit together, once.
//    Signed replies are encoded and signed on the other cores meanwhile (`RenderQueue`) and filled
//    into the ledger before the commit; when one fails, the batch is decided again, signing serially.
// 2. publish: every output not yet published is written to its temporary file; one syncfs makes all
//    of their bytes durable; then each gets its name (link), so no file ever appears under its name
//    before its bytes are on disk; a second syncfs makes the names durable, and one commit records
//    the outputs as published.
// 3. dispose: each input to archive/DAY/ (its outputs as hard links beside it) or to error/DAY/
//    with its reason; a third syncfs makes those names durable.
// 4. forget: one commit (not waited for: losing it only keeps bytes) drops the bytes of archived
//    inputs' outputs from the ledger, which keeps their names and hashes.
//
// A crash between any two steps leaves a state the next pass finishes exactly once: outputs
// recorded and not yet marked are published again byte-identical (an identical file already there
// is fine), inputs left in processing/ are decided again and meet their ledger rows (duplicates).
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

    /// Decides, publishes and disposes of one batch of claimed inputs (see above), adding each
    /// outcome to `report`; an input that cannot be finished now is in `report.retrying` and stays
    /// in `processing/`.
    func runBatch(_ batch: [Spool.Claimed], report: inout Report) {
        guard !batch.isEmpty else { return }
        let started = ContinuousClock.now
        var decided: (plans: [Plan], refused: [(name: String, problem: String)])
        do {
            do {
                decided = try decide(batch, renderingAside: signer != nil)
            } catch is RenderFailed {
                // A reply could not be signed: nothing was recorded; decided again with each reply
                // signed in its own decision, the failure is that input's alone.
                decided = try decide(batch, renderingAside: false)
            }
        } catch let failure as BatchFailure {
            // Nothing of this batch was recorded: every input stays in processing/ for the next pass.
            let problem =
                failure.error is ModelError
                ? "\(failure.error)"
                : "\(ModelError(.storage, "The store could not commit the batch: \(failure.error)"))"
            let named = Set(failure.refused.map(\.name))
            report.retrying +=
                failure.refused + batch.filter { !named.contains($0.name) }.map { ($0.name, problem) }
            return
        } catch {
            report.retrying += batch.map { ($0.name, "\(error)") }
            return
        }
        report.retrying += decided.refused
        finish(decided.plans, started: started, report: &report)
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
        _ batch: [Spool.Claimed], renderingAside: Bool
    ) throws -> (plans: [Plan], refused: [(name: String, problem: String)]) {
        reservedResultNames = []
        var plans: [Plan] = []
        var refused: [(name: String, problem: String)] = []
        let queue = renderingAside ? makeRenders() : nil
        renders = queue
        defer { renders = nil }
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
                if let queue { try fillRenders(queue.finished(), plans: &plans, writer: writer) }
            }
        } catch let failure as RenderFailed {
            throw failure
        } catch {
            throw BatchFailure(error: error, refused: refused)
        }
        return (plans, refused)
    }

    /// The rendered replies into the ledger rows that name them and into every plan that carries
    /// them (a second delivery in the batch carries the first one's). Renders of inputs undone
    /// since are left out: no row names them.
    private func fillRenders(
        _ rendered: [String: RenderQueue.Rendered], plans: inout [Plan], writer: StoreWriter
    ) throws {
        guard !rendered.isEmpty else { return }
        var filled: Set<String> = []
        for index in plans.indices {
            for seq in plans[index].outputs.indices {
                let path = plans[index].outputs[seq].folder + "/" + plans[index].outputs[seq].name
                guard let result = rendered[path] else { continue }
                let bytes: [UInt8]
                switch result {
                case .success(let signed): bytes = signed
                case .failure(let error): throw RenderFailed(path: path, error: error)
                }
                plans[index].outputs[seq].bytes = bytes
                if let key = plans[index].key, filled.insert(path).inserted {
                    try writer.fill(key: key, seq: seq, bytes: bytes)
                }
            }
        }
    }

    /// Steps 2 to 4 for the batch's plans.
    private func finish(_ plans: [Plan], started: ContinuousClock.Instant, report: inout Report) {
        var problems: [String?] = Array(repeating: nil, count: plans.count)
        var staged: [[Spool.Staged]] = Array(repeating: [], count: plans.count)
        var moved: [String?] = Array(repeating: nil, count: plans.count)
        var forgettable = false
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
                            staged[index].append(
                                try spool.stage(
                                    output.bytes, to: Spool.Folder(rawValue: output.folder) ?? .results,
                                    name: output.name))
                            stagedBy[path] = index
                        }
                    } catch {
                        problems[index] = "\(error)"
                    }
                }
                do {
                    try spool.syncAll(.cannotPublish)
                } catch {
                    // Nothing was named yet: every output stays recorded, every input in processing/.
                    for index in plans.indices where problems[index] == nil { problems[index] = "\(error)" }
                }
                for index in plans.indices where problems[index] == nil {
                    do {
                        for file in staged[index] { try spool.place(file) }
                    } catch {
                        problems[index] = "\(error)"
                    }
                }
                for (index, owner) in dependsOn.sorted(by: { $0.key < $1.key }) where problems[index] == nil {
                    if let problem = problems[owner] { problems[index] = problem }
                }
                // The names durable, then recorded as published at once (a durable commit): the
                // window in which a crash makes the next pass publish an output again, which the
                // transport may already have taken, is this sync and this commit, not the whole batch.
                let published = plans.indices.filter { problems[$0] == nil }.compactMap { plans[$0].key }
                if !published.isEmpty {
                    try spool.syncAll(.cannotPublish)
                    try store.write { writer in
                        for key in published { try writer.markPublished(key: key) }
                    }
                }
                forgettable = true
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
                try spool.syncAll(.cannotArchive)
            }
        } catch {
            // Before the outputs were marked: they stay recorded, and the next pass publishes them
            // again (identical files are fine) and finishes their inputs. After: the inputs are where
            // they belong, but their new names may not be durable; the next pass finishes what a
            // crash undid. Either way the pass reports the trouble, which makes a daemon back off.
            report.retrying.append(("the spool's sync or the store's commit", "\(error)"))
            if !forgettable {
                for index in plans.indices where problems[index] == nil { problems[index] = "\(error)" }
            }
            forgettable = false
        }
        for (index, files) in staged.enumerated() where problems[index] != nil {
            files.forEach(spool.discard)
        }
        // Archived inputs have their outputs linked beside them: the ledger forgets those bytes and
        // keeps names and hashes. A refused input's answers keep their bytes (error/ holds no copy).
        let archived = plans.indices.filter {
            guard forgettable, problems[$0] == nil, case .archive = plans[$0].disposition else { return false }
            return true
        }.compactMap { plans[$0].key }
        if !archived.isEmpty {
            do {
                try store.writeWithoutWaiting { writer in
                    for key in archived { try writer.forgetPublishedBytes(key: key) }
                }
            } catch {
                report.retrying.append(("forgetting published bytes", "\(error)"))
            }
        }
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
