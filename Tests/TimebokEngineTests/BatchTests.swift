import Foundation
import GRDB
import Synchronization
import SystemPackage
import Testing
import TimebokCore
import TimebokTestKit

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine
@testable import TimebokSpool

/// Counts the spool's durability calls (fsync of a file or folder, syncfs).
final class SyncCounter: Sendable {
    private let counts = Mutex((fsync: 0, syncfs: 0))

    var fsyncs: Int { counts.withLock { $0.fsync } }
    var syncfs: Int { counts.withLock { $0.syncfs } }
    var total: Int { counts.withLock { $0.fsync + $0.syncfs } }

    var seam: FileSystemSeam {
        var seam = FileSystemSeam.system
        let system = FileSystemSeam.system
        seam.fsync = { [self] fd throws(Errno) in
            counts.withLock { $0.fsync += 1 }
            try system.fsync(fd)
        }
        seam.syncfs = { [self] fd throws(Errno) in
            counts.withLock { $0.syncfs += 1 }
            try system.syncfs(fd)
        }
        return seam
    }
}

/// Group commit (issue 12): a batch is decided in one transaction and made durable with a constant
/// number of syncs, one poisoned input fails alone, and each output is stored once.
@Suite struct Batches {
    /// `count` HentLedigeTimer requests waiting in the inbox, each with its own MsgId.
    static func dropFreeSlotRequests(_ count: Int, into spool: TemporarySpool, named prefix: String = "free") {
        let hn = Helsenorge()
        for index in 0..<count {
            var request = hn.freeSlots(
                .lab, .ragnhild, from: LocalDate(year: 2026, month: 12, day: 1),
                to: LocalDate(year: 2026, month: 12, day: 20))
            request.info.msgId = "\(prefix)-\(index)"
            _ = FileManager.default.createFile(
                atPath: spool.root + "/inbox/" + prefix + String(format: "-%03d.xml", index),
                contents: Data(MessageCodec.encode(request)))
        }
    }

    /// A trigger that refuses the ledger row of one input (`RAISE(raise)`): a handler error inside
    /// the batch's transaction (ABORT undoes the statement, ROLLBACK the whole transaction).
    static func refuseLedgerRow(
        of source: String, with raise: String, named name: String, in spool: TemporarySpool
    ) throws {
        try spool.engine().store.write {
            try $0.db.execute(
                sql:
                    "CREATE TRIGGER \(name) BEFORE INSERT ON ledger WHEN NEW.source = '\(source)' BEGIN SELECT RAISE(\(raise)); END"
            )
        }
    }

    /// A file system on which the `number`th free-slot reply's pending file cannot be created
    /// (ENOSPC), in the order the batch stages them; everything else as usual.
    static func replyPendingFileFails(number: Int) -> FileSystemSeam {
        var seam = FileSystemSeam.system
        let system = FileSystemSeam.system
        let replies = Mutex(0)
        seam.open = { path, mode, options, permissions throws(Errno) in
            let string = path.string
            if string.contains("/outbox/."), string.contains("SvarLedigeTimer"), !string.contains(".meta."),
                replies.withLock({
                    $0 += 1
                    return $0
                }) == number
            {
                throw Errno.noSpace
            }
            return try system.open(path, mode, options, permissions)
        }
        return seam
    }

    /// `limits.batch-size` of a spool made with the default (64) set to `size`.
    static func setBatchSize(_ size: Int, in spool: TemporarySpool) throws {
        let text = try String(contentsOfFile: spool.root + "/timebok.conf", encoding: .utf8).replacingOccurrences(
            of: "limits.batch-size = 64", with: "limits.batch-size = \(size)")
        try text.write(toFile: spool.root + "/timebok.conf", atomically: true, encoding: .utf8)
    }

    /// The syncs one pass over `count` waiting requests makes, with the batch size given.
    static func syncsOfAPass(over count: Int, batchSize: Int) throws -> (counter: SyncCounter, report: Engine.Report) {
        let spool = try SpoolRobustness.smallOffice()
        try Self.setBatchSize(batchSize, in: spool)
        // The first input of the day creates the day folders: done once before counting.
        dropFreeSlotRequests(1, into: spool)
        _ = try spool.engine().process()
        dropFreeSlotRequests(count, into: spool, named: "counted")
        let counter = SyncCounter()
        let report = try spool.engine(fileSystem: counter.seam).process()
        return (counter, report)
    }

    @Test func aBatchIsMadeDurableWithTwoSyncsWhateverItsSize() throws {
        let one = try Self.syncsOfAPass(over: 1, batchSize: 64)
        let forty = try Self.syncsOfAPass(over: 40, batchSize: 64)
        #expect(one.report.outcomes.count == 1 && forty.report.outcomes.count == 40)
        #expect(forty.report.outcomes.allSatisfy(\.ok) && forty.report.retrying.isEmpty)
        // Its outputs' bytes once (their pending files, before the decision's commit), then their
        // names together with the inputs' new names once (after the renames and the moves): no
        // fsync per file or folder.
        #expect(
            one.counter.syncfs == 2 && one.counter.fsyncs == 0,
            "\(one.counter.syncfs) syncfs, \(one.counter.fsyncs) fsyncs")
        #expect(
            forty.counter.total == one.counter.total,
            "40 inputs: \(forty.counter.total) syncs, 1 input: \(one.counter.total)")
    }

    @Test func aBatchClosesOnItsSize() throws {
        let pass = try Self.syncsOfAPass(over: 7, batchSize: 3)
        #expect(pass.report.outcomes.count == 7 && pass.report.outcomes.allSatisfy(\.ok))
        #expect(pass.counter.syncfs == 6 && pass.counter.fsyncs == 0, "three batches (3, 3, 1), two syncs each")
    }

    /// A pass tells its progress (recovery done, then each batch), and claims nothing more once told
    /// to stop: the batches in hand are finished, the rest waits in the inbox untouched (a daemon
    /// asked to stop in a long backlog exits after a batch or two, not after the backlog).
    @Test func aPassToldToStopFinishesTheBatchesInHandAndClaimsNoMore() throws {
        let spool = try SpoolRobustness.smallOffice()
        try Self.setBatchSize(3, in: spool)
        Self.dropFreeSlotRequests(12, into: spool)
        var heard: [Engine.Progress] = []
        let report = try spool.engine().process { step in
            heard.append(step)
            return heard.count < 2  // recovered, then stop after the first batch
        }
        #expect(heard.first == .recovered && heard.dropFirst().allSatisfy { $0 == .batch }, "\(heard)")
        // The first batch and the one claimed ahead of it while it was decided: two batches of three.
        #expect(report.outcomes.count == 6 && report.outcomes.allSatisfy(\.ok), "\(report.outcomes.count)")
        #expect(spool.files("processing").isEmpty)
        #expect(spool.files("inbox").count == 6, "\(spool.files("inbox"))")
        let rest = try spool.engine().process()
        #expect(rest.outcomes.count == 6 && spool.files("inbox").isEmpty)
    }

    @Test func onePoisonedInputFailsAloneAndTheRestOfItsBatchGoesOn() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(4, into: spool)
        // free-001 fails while it is decided (its ledger row is refused: a handler error inside the
        // batch's transaction); free-002 fails while its reply's pending file is written, before the
        // commit (the batch is decided again without it).
        try Self.refuseLedgerRow(of: "free-001.xml", with: "ABORT, 'poisoned'", named: "poison", in: spool)
        // The second reply staged is free-002's (free-001 has none).
        let seam = Self.replyPendingFileFails(number: 2)
        let report = try spool.engine(fileSystem: seam).process()
        #expect(report.outcomes.map(\.commandId) == ["free-0", "free-3"] && report.outcomes.allSatisfy(\.ok))
        #expect(Set(report.retrying.map(\.name)) == ["free-001.xml", "free-002.xml"], "\(report.retrying)")
        #expect(report.retrying.contains { $0.name == "free-001.xml" && $0.problem.contains("poisoned") })
        #expect(spool.files("outbox").filter { $0.hasSuffix(".xml") }.count == 2)
        #expect(spool.files("processing") == ["inbox~free-001.xml", "inbox~free-002.xml"])
        let recorded = try spool.engine().store.read {
            try String.fetchAll($0.db, sql: "SELECT source FROM ledger WHERE key LIKE 'message:%' ORDER BY source")
        }
        #expect(recorded == ["free-000.xml", "free-003.xml"], "free-001 and free-002 left no trace")
        #expect(
            spool.files("outbox").allSatisfy { !$0.hasPrefix(".") }, "no pending file of the undone batch is left")

        // Once the trouble is gone, the next pass finishes both, exactly once.
        try spool.engine().store.write { try $0.db.execute(sql: "DROP TRIGGER poison") }
        let next = try spool.engine().process()
        #expect(Set(next.outcomes.compactMap(\.commandId)) == ["free-1", "free-2"] && next.outcomes.allSatisfy(\.ok))
        #expect(next.outcomes.allSatisfy { !$0.duplicate }, "nothing of either was recorded: decided now, once")
        #expect(spool.files("outbox").filter { $0.hasSuffix(".xml") }.count == 4)
        #expect(spool.files("processing").isEmpty && next.retrying.isEmpty)
        #expect(try spool.engine().process().outcomes.isEmpty, "nothing left")
    }

    @Test func aSecondDeliveryInTheSameBatchIsADuplicateWithoutASecondAnswer() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(1, into: spool)
        try FileManager.default.copyItem(
            atPath: spool.root + "/inbox/free-000.xml", toPath: spool.root + "/inbox/free-000-again.xml")
        let report = try spool.engine().process()
        #expect(report.retrying.isEmpty, "\(report.retrying)")
        #expect(report.outcomes.map(\.duplicate) == [false, true], "\(report.outcomes.map(\.summary))")
        #expect(spool.files("outbox").filter { $0.hasSuffix(".xml") }.count == 1, "one answer")
        #expect(
            spool.files("archive").filter { !$0.contains(".outputs/") }.map { String($0.dropFirst(11)) }
                == ["free-000-again.xml", "free-000.xml"])
        #expect(spool.files("processing").isEmpty)
    }

    @Test func whenTheLastSyncFailsTheInputsAreDoneAndNothingIsSentTwice() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(2, into: spool)
        var seam = FileSystemSeam.system
        let system = FileSystemSeam.system
        let syncs = Mutex(0)
        seam.syncfs = { fd throws(Errno) in
            // The batch's second sync: after the renames and the moves (the first made the pending
            // files durable).
            if syncs.withLock({
                $0 += 1
                return $0
            }) == 2 {
                throw Errno.ioError
            }
            try system.syncfs(fd)
        }
        let report = try spool.engine(fileSystem: seam).process()
        #expect(report.outcomes.count == 2 && report.outcomes.allSatisfy(\.ok), "both were answered and archived")
        #expect(report.retrying.map(\.name) == ["the spool's sync or the store's commit"], "\(report.retrying)")
        #expect(spool.files("processing").isEmpty)
        let (kept, unpublished) = try spool.engine().store.read {
            (
                try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM ledger_output_bytes") ?? -1,
                try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM ledger_output WHERE published = 0") ?? -1
            )
        }
        #expect(kept == 0, "the ledger never held the bytes: the pending files did, until placed")
        #expect(unpublished == 4, "not recorded as published while their names may not be durable")
        // The transport takes the replies; the next pass must not send them again.
        for name in spool.files("outbox") { try FileManager.default.removeItem(atPath: spool.root + "/outbox/" + name) }
        let next = try spool.engine().process()
        #expect(next.outcomes.isEmpty && next.retrying.isEmpty)
        #expect(spool.files("outbox").isEmpty, "published once")
        #expect(try Self.recordedOutputs(spool).allSatisfy(\.published), "no pending file: placed, and so recorded")
    }

    @Test func aRefusedInputsAnswerKeepsItsBytes() throws {
        let spool = try SpoolRobustness.smallOffice()
        // Not from helsenorge's addressing: a broken message gets an answer it cannot be archived with.
        try "<MsgHead".write(toFile: spool.root + "/inbox/broken.xml", atomically: true, encoding: .utf8)
        try spool.drop(command("epj-bad", "<OpenSlot><BookId>nope</BookId></OpenSlot>"), as: "bad.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.count == 2 && report.outcomes.allSatisfy { !$0.ok })
        let results = spool.files("results")
        #expect(results.count == 1)
        let kept = try spool.engine().store.read {
            try String.fetchAll(
                $0.db,
                sql:
                    "SELECT o.folder FROM ledger_output o JOIN ledger_output_bytes USING (ledger_id, seq) WHERE o.published = 1"
            )
        }
        #expect(kept == ["results"], "error/ holds no copy of the error result, so the ledger keeps it")
    }

    @Test func aWholeTransactionUndoneBySQLiteLeavesEveryInputForTheNextPass() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(3, into: spool)
        try Self.refuseLedgerRow(of: "free-001.xml", with: "ROLLBACK, 'undone'", named: "undo", in: spool)
        let report = try spool.engine().process()
        #expect(report.outcomes.isEmpty, "the batch ended where SQLite undid it")
        #expect(
            Set(report.retrying.map(\.name)) == ["free-000.xml", "free-001.xml", "free-002.xml"], "\(report.retrying)")
        #expect(spool.files("outbox").isEmpty && spool.files("processing").count == 3)
        let recorded = try spool.engine().store.read {
            try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM ledger WHERE key LIKE 'message:%'")
        }
        #expect(recorded == 0, "nothing of the batch stayed")
        try spool.engine().store.write { try $0.db.execute(sql: "DROP TRIGGER undo") }
        let next = try spool.engine().process()
        #expect(next.outcomes.count == 3 && next.outcomes.allSatisfy { $0.ok && !$0.duplicate })
        #expect(spool.files("outbox").filter { $0.hasSuffix(".xml") }.count == 3 && spool.files("processing").isEmpty)
    }

    /// In a backlog a batch is published and archived inside the next batch's transaction; when
    /// that transaction is undone after it (here the next batch's first reply cannot be staged), the
    /// first batch's inputs stay done and its replies are never sent twice: a later pass finds them
    /// placed and only marks them.
    @Test func aBatchFinishedInsideTheNextOnesUndoneTransactionIsNeverSentTwice() throws {
        let spool = try SpoolRobustness.smallOffice()
        try Self.setBatchSize(2, in: spool)
        Self.dropFreeSlotRequests(4, into: spool)
        // The third reply staged is free-002's, the first of the second batch.
        let seam = Self.replyPendingFileFails(number: 3)
        let report = try spool.engine(fileSystem: seam).process()
        #expect(report.outcomes.map(\.commandId) == ["free-0", "free-1", "free-3"], "\(report.outcomes)")
        #expect(report.outcomes.allSatisfy { $0.ok && !$0.duplicate })
        #expect(report.retrying.map(\.name) == ["free-002.xml"], "\(report.retrying)")
        let firstReplies = spool.files("outbox").filter { $0.hasSuffix(".xml") }
        #expect(firstReplies.count == 3 && !spool.files("outbox").contains { $0.hasPrefix(".") })
        #expect(spool.files("processing") == ["inbox~free-002.xml"])
        let afterFirst = try Self.recordedOutputs(spool)
        #expect(
            afterFirst.filter { !$0.published }.count == 4,
            "the first batch's marks went with the undone transaction: \(afterFirst)")

        // The transport takes the replies; none of them may come back.
        for name in spool.files("outbox") { try FileManager.default.removeItem(atPath: spool.root + "/outbox/" + name) }
        let next = try spool.engine().process()
        #expect(next.retrying.isEmpty, "\(next.retrying)")
        #expect(next.outcomes.map(\.commandId) == ["free-2"] && next.outcomes.allSatisfy { $0.ok && !$0.duplicate })
        let secondReplies = spool.files("outbox").filter { $0.hasSuffix(".xml") }
        #expect(secondReplies.count == 1 && Set(secondReplies).isDisjoint(with: firstReplies), "\(secondReplies)")
        #expect(spool.files("processing").isEmpty && spool.files("inbox").isEmpty)
        let recorded = try Self.recordedOutputs(spool)
        #expect(recorded.count == 8 && recorded.allSatisfy { $0.published && !$0.kept }, "\(recorded)")
    }

    /// The ledger's view of the outputs of free-slot answers: name, published, bytes kept.
    static func recordedOutputs(_ spool: TemporarySpool) throws -> [(name: String, published: Bool, kept: Bool)] {
        try spool.engine().store.read {
            try Row.fetchAll(
                $0.db,
                sql: """
                    SELECT o.name, o.published, EXISTS (SELECT 1 FROM ledger_output_bytes b
                        WHERE b.ledger_id = o.ledger_id AND b.seq = o.seq) AS kept
                    FROM ledger_output o JOIN ledger l ON l.id = o.ledger_id WHERE l.key LIKE 'message:%' ORDER BY o.name
                    """
            ).map { ($0["name"], $0["published"], $0["kept"]) }
        }
    }

    @Test func outputsRecordedButNotPlacedArePlacedFromTheirPendingFilesByTheNextPass() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(2, into: spool)
        // Every rename of a pending file into place fails (as if the process stopped right after the
        // decision's commit); inputs still move.
        var seam = FileSystemSeam.system
        seam.renameNoReplace = { from, to throws(Errno) in
            guard from.lastComponent?.string.hasSuffix(".pending") != true else { throw Errno.ioError }
            try FileSystemSeam.system.renameNoReplace(from, to)
        }
        let failed = try spool.engine(fileSystem: seam).process()
        #expect(failed.outcomes.isEmpty && failed.retrying.count == 2, "\(failed.retrying)")
        let pending = spool.files("outbox")
        #expect(
            pending.count == 4 && pending.allSatisfy { $0.hasPrefix(".") && $0.hasSuffix(".pending") }, "\(pending)")
        let recorded = try Self.recordedOutputs(spool)
        #expect(recorded.count == 4 && recorded.allSatisfy { !$0.published && !$0.kept }, "by name and hash only")

        let next = try spool.engine().process()
        #expect(next.retrying.isEmpty, "\(next.retrying)")
        #expect(next.outcomes.count == 2 && next.outcomes.allSatisfy { $0.ok && $0.duplicate }, "decided once, before")
        let placed = spool.files("outbox")
        #expect(Set(placed) == Set(recorded.map(\.name)), "each recorded output under its name, no pending file left")
        let hashes = try spool.engine().store.read {
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll($0.db, sql: "SELECT name, sha256 FROM ledger_output").map {
                    ($0["name"] as String, $0["sha256"] as String)
                })
        }
        for name in placed {
            #expect(hashes[name] == ContentHash.hex(Array(spool.read("outbox/" + name).utf8)), "\(name): its bytes")
        }
        #expect(try Self.recordedOutputs(spool).allSatisfy(\.published) && spool.files("processing").isEmpty)
    }

    @Test func aFileSystemWithoutRenameNoReplaceStillMovesAndPlacesEverythingOnce() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(2, into: spool)
        // renameat2 without RENAME_NOREPLACE (EINVAL; ENOSYS in some sandboxes): link, then unlink.
        let links = Mutex(0)
        var seam = FileSystemSeam.system
        seam.renameNoReplace = { _, _ throws(Errno) in throw Errno.invalidArgument }
        seam.link = { from, to throws(Errno) in
            links.withLock { $0 += 1 }
            try FileSystemSeam.system.link(from, to)
        }
        let report = try spool.engine(fileSystem: seam).process()
        #expect(report.retrying.isEmpty && report.outcomes.count == 2 && report.outcomes.allSatisfy(\.ok))
        let outbox = spool.files("outbox")
        #expect(
            outbox.filter { $0.hasSuffix(".xml") }.count == 2 && !outbox.contains { $0.hasPrefix(".") }, "\(outbox)")
        #expect(spool.files("processing").isEmpty && spool.files("inbox").isEmpty)
        #expect(spool.files("archive").filter { !$0.contains(".outputs/") && $0.hasSuffix(".xml") }.count == 2)
        // Per input (no transport .meta): its claim and its move to the archive, the reply and the
        // reply's .meta placed, and the archive's links to those two.
        let linked: Int = links.withLock { $0 }
        let perInput = 2 + 2 + 2
        #expect(linked == 2 * perInput, "every move went through link")
    }

    @Test func anOutputPlacedBeforeACrashIsNeverSentAgain() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(1, into: spool)
        #expect(try spool.engine().process().outcomes.count == 1)
        // As if the process stopped after the rename into place, before the commit that marks it:
        // then the transport took the reply. No pending file is left, so it was placed.
        try spool.engine().store.write { try $0.db.execute(sql: "UPDATE ledger_output SET published = 0") }
        for name in spool.files("outbox") { try FileManager.default.removeItem(atPath: spool.root + "/outbox/" + name) }
        let next = try spool.engine().process()
        #expect(next.retrying.isEmpty && next.outcomes.isEmpty)
        #expect(spool.files("outbox").isEmpty, "published once")
        #expect(try Self.recordedOutputs(spool).allSatisfy(\.published))
    }

    @Test func aPendingFileALedgerRowNamesIsNeverRemoved() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(1, into: spool)
        #expect(try spool.engine().process().outcomes.count == 1)
        // As if a power loss undid a rename after the output was recorded as published: the pending
        // file is back. It is the only copy of those bytes, so it stays for a person to look at.
        let reply = try #require(spool.files("outbox").first { $0.hasSuffix(".xml") })
        let pending = spool.root + "/outbox/." + reply + ".pending"
        try FileManager.default.copyItem(atPath: spool.root + "/outbox/" + reply, toPath: pending)
        let report = try spool.engine().process()
        #expect(report.leftoversRemoved == 0 && FileManager.default.fileExists(atPath: pending))
    }

    @Test func aPendingFileNoLedgerRowNamesIsRemovedAtStart() throws {
        let spool = try SpoolRobustness.smallOffice()
        // As if the process stopped between writing a batch's pending files and its commit.
        let orphan = spool.root + "/outbox/.20261201T110000.000Z-000000099001-SvarLedigeTimer-03-x.xml.pending"
        #expect(FileManager.default.createFile(atPath: orphan, contents: Data("<partial".utf8)))
        Self.dropFreeSlotRequests(1, into: spool)
        let report = try spool.engine().process()
        #expect(report.outcomes.count == 1 && report.leftoversRemoved == 1)
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(spool.files("outbox").count == 2 && spool.files("outbox").allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func eachOutputIsStoredOnceTheArchiveLinksItAndTheLedgerForgetsItsBytes() throws {
        let spool = try SpoolRobustness.smallOffice()
        Self.dropFreeSlotRequests(2, into: spool)
        let report = try spool.engine().process()
        #expect(report.outcomes.count == 2 && report.outcomes.allSatisfy(\.ok))
        let replies = spool.files("outbox").filter { $0.hasSuffix(".xml") }
        #expect(replies.count == 2)
        for reply in replies {
            let copies = spool.files("archive").filter { $0.hasSuffix(".outputs/outbox-" + reply) }
            #expect(copies.count == 1)
            var published = stat()
            var archived = stat()
            #expect(stat(spool.root + "/outbox/" + reply, &published) == 0)
            #expect(stat(spool.root + "/archive/" + (copies.first ?? "?"), &archived) == 0)
            #expect(published.st_ino == archived.st_ino && published.st_nlink == 2, "one file, two names")
        }
        let rows = try spool.engine().store.read {
            try Row.fetchAll(
                $0.db,
                sql:
                    "SELECT o.name, (SELECT COUNT(*) FROM ledger_output_bytes b WHERE b.ledger_id = o.ledger_id AND b.seq = o.seq) AS size, o.sha256, o.published FROM ledger_output o JOIN ledger l ON l.id = o.ledger_id WHERE l.key LIKE 'message:%'"
            )
        }
        #expect(rows.count == 4, "two replies, each with its .meta")
        for row in rows {
            let name: String = row["name"]
            let size: Int = row["size"]
            let hash: String? = row["sha256"]
            let published: Bool = row["published"]
            #expect(size == 0 && published, "\(name): published, bytes forgotten")
            #expect(hash == ContentHash.hex(Array(spool.read("outbox/" + name).utf8)), "\(name): its hash kept")
        }
        // The transport takes the reply: the archive still has it.
        for reply in replies { try FileManager.default.removeItem(atPath: spool.root + "/outbox/" + reply) }
        let archived = spool.files("archive").filter { $0.contains(".outputs/outbox-") && $0.hasSuffix(".xml") }
        #expect(
            archived.count == 2
                && archived.allSatisfy {
                    spool.read("archive/" + $0).contains("SvarLedigeTimer")
                        || spool.read("archive/" + $0).contains("<MsgHead")
                })
    }
}

/// The ledger of a database made before 0.6 (output bytes in `ledger_output.bytes`) is carried over.
@Suite struct LedgerMigration {
    @Test func outputBytesMoveToTheirOwnTableWithTheirHash() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "timebok-ledger-\(UUID().uuidString).sqlite"
        )
        .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let reply = Array("<MsgHead>an answer not yet published</MsgHead>".utf8)
        do {
            let old = try BookingStore(path: path, migrations: Array(EngineRecords.migrations.prefix(2)))
            try old.write {
                try $0.db.execute(
                    sql: """
                        INSERT INTO ledger (key, source, content_sha256, applied_at, outcome, summary)
                            VALUES ('message:1:a', 'a.xml', 'x', 0, 'ok', 'answered');
                        INSERT INTO ledger_output (ledger_id, seq, folder, name, bytes, published)
                            VALUES (1, 0, 'outbox', 'a.xml', ?, 0), (1, 1, 'journal', 'j.xml', x'', 1);
                        """, arguments: [Data(reply)])
            }
        }
        let store = try BookingStore(path: path, migrations: EngineRecords.migrations)
        let entry = try #require(try store.read { try $0.ledger(key: "message:1:a") })
        #expect(
            entry.outputs.map(\.bytes) == [reply, []], "the unpublished bytes kept, the forgotten ones still forgotten")
        #expect(entry.outputs.map(\.published) == [false, true])
        let hashes = try store.read {
            try String?.fetchAll($0.db, sql: "SELECT sha256 FROM ledger_output ORDER BY seq")
        }
        #expect(hashes == [ContentHash.hex(reply), nil])
        let left = try store.read {
            try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM ledger_output WHERE length(bytes) > 0")
        }
        #expect(left == 0, "the old column stays, empty")
    }
}
