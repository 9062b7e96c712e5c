import Booking
import Foundation
import TimebokCore
import TimebokSpool

// Group commit. A pass takes what is waiting in batches of up to `limits.batch-size`:
//
// 1. decide: every input of the batch against the model, in one SQLite transaction, each in a
//    savepoint of its own (one poisoned input is undone alone and stays in processing/ for the next
//    pass; the others go on). Its model changes, ledger row and output bytes commit together, once.
// 2. publish: every output not yet published is written to its temporary file; one syncfs makes all
//    of their bytes durable; then each gets its name (link), so no file ever appears under its name
//    before its bytes are on disk.
// 3. dispose: each input to archive/DAY/ (its outputs as hard links beside it) or to error/DAY/
//    with its reason; a second syncfs makes every name durable.
// 4. forget: one commit (not waited for: the next pass redoes it) marks the outputs published and
//    drops their bytes from the ledger, which keeps their names and hashes.
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
        reservedResultNames = []
        var plans: [Plan] = []
        var refused: [(name: String, problem: String)] = []
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
            }
        } catch {
            // Nothing of this batch was recorded: every input stays in processing/ for the next pass.
            let problem =
                error is ModelError
                ? "\(error)" : "\(ModelError(.storage, "The store could not commit the batch: \(error)"))"
            let named = Set(refused.map(\.name))
            report.retrying += refused + batch.filter { !named.contains($0.name) }.map { ($0.name, problem) }
            return
        }
        report.retrying += refused
        finish(plans, started: started, report: &report)
    }

    /// Steps 2 to 4 for the batch's plans.
    private func finish(_ plans: [Plan], started: ContinuousClock.Instant, report: inout Report) {
        var problems: [String?] = Array(repeating: nil, count: plans.count)
        var staged: [[Spool.Staged]] = Array(repeating: [], count: plans.count)
        var moved: [String?] = Array(repeating: nil, count: plans.count)
        var unsynced: String?
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
            // Every input is where it belongs, but the names may not be durable: nothing is forgotten,
            // the next pass publishes the recorded outputs again (identical files are fine) and
            // marks them; the pass reports the sync, which makes a daemon back off.
            unsynced = "\(error)"
            report.retrying.append(("the batch's sync", "\(error)"))
        }
        for (index, files) in staged.enumerated() where problems[index] != nil {
            files.forEach(spool.discard)
        }
        // The archive holds the links now: the ledger keeps names and hashes, not the bytes.
        let settled =
            unsynced != nil ? [] : plans.indices.filter { problems[$0] == nil }.compactMap { plans[$0].key }
        if !settled.isEmpty {
            try? store.writeWithoutWaiting { writer in
                for key in settled { try writer.markPublished(key: key, forgetBytes: true) }
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
