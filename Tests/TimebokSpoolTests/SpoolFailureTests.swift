import Foundation
import SystemPackage
import Testing

@testable import TimebokSpool

/// Each step of publish, archive and quarantine can fail (a full disk, an I/O error) and the next
/// attempt finishes the work exactly once; interrupted calls are retried; failures carry codes.
@Suite struct SpoolFailureTests {
    static let day = "2026-12-01"
    static let reply = Array("<reply>one</reply>\n".utf8)
    static let journal = Array("<journal>two</journal>\n".utf8)
    static let input = Array("<message>in</message>\n".utf8)
    static let meta = Array("message-id = amqp-1\n".utf8)

    // MARK: publish

    @Test(arguments: [Errno.noSpace, Errno.ioError])
    func aFailureAtEachStepOfPublishIsFinishedByTheNextPublish(error: Errno) throws {
        let counting = FaultSeam()
        let clean = try TemporarySpool()
        #expect(try clean.spool(counting.seam).publish(Self.reply, to: .outbox, name: "reply.xml"))
        let steps = counting.calls
        #expect(
            steps == [.open, .write, .fsync, .link, .unlink, .open, .fsync],
            "temporary, write, fsync, link, unlink, folder fsync: \(steps)")
        for step in 1...steps.count {
            let spool = try TemporarySpool()
            let plan = FaultSeam(failAt: step, error: error)
            let faulty = spool.spool(plan.seam)
            #expect {
                try faulty.publish(Self.reply, to: .outbox, name: "reply.xml")
            } throws: { failure in
                (failure as? Spool.Failure)?.code == .cannotPublish && (failure as? Spool.Failure)?.systemError == error
            }
            #expect(plan.failed, "step \(step) was reached")
            let before = plan.calls.count
            #expect(
                try faulty.publish(Self.reply, to: .outbox, name: "reply.xml"),
                "step \(step): the next publish succeeds")
            #expect(
                plan.calls.count - before >= 2 && plan.calls.suffix(2) == [.open, .fsync],
                "step \(step): the next publish syncs the folder too")
            #expect(spool.entries("outbox") == ["reply.xml"], "step \(step): one file, no temporary left")
            #expect(spool.bytes("outbox/reply.xml") == Self.reply, "step \(step)")
        }
    }

    @Test func shortWritesAreContinuedUntilEveryByteIsWritten() throws {
        let spool = try TemporarySpool()
        let plan = FaultSeam(writeLimit: 3)
        let bytes = Array(String(repeating: "0123456789", count: 10).utf8)
        #expect(try spool.spool(plan.seam).publish(bytes, to: .journal, name: "long.xml"))
        #expect(spool.bytes("journal/long.xml") == bytes)
        #expect(plan.calls.filter { $0 == .write }.count == 34)
    }

    @Test func aNameTakenByOtherContentIsNeverOverwritten() throws {
        let spool = try TemporarySpool()
        try spool.spool().publish(Self.reply, to: .results, name: "r.xml")
        #expect(try spool.spool().publish(Self.journal, to: .results, name: "r.xml") == false)
        #expect(spool.bytes("results/r.xml") == Self.reply)
        #expect(spool.entries("results") == ["r.xml"])
    }

    // MARK: archive and quarantine

    /// A claimed `reserve.xml` with its `reserve.meta`, in `processing/`.
    static func claimedInput(_ spool: TemporarySpool) throws -> Spool.Claimed {
        try spool.write(String(decoding: input, as: UTF8.self), to: "inbox/reserve.xml")
        try spool.write(String(decoding: meta, as: UTF8.self), to: "inbox/reserve.meta")
        return try #require(try spool.spool().claim("reserve.xml", from: .inbox, companion: ".meta"))
    }

    /// What the next pass does with what is left in `processing/`: archives (or quarantines) it again.
    static func nextPass(_ spool: Spool, _ finish: (Spool.Claimed) throws -> String) throws {
        for claimed in spool.leftInProcessing() { _ = try finish(claimed) }
        #expect(spool.orphanCompanions().isEmpty, "no .meta left behind without its message")
    }

    static func noLeftovers(_ spool: TemporarySpool, step: Int) {
        #expect(spool.entries("processing").isEmpty, "step \(step): nothing left in processing/")
        #expect(
            spool.allPaths().filter { $0.hasSuffix(".tmp") }.isEmpty,
            "step \(step): no temporary file left: \(spool.allPaths())")
    }

    @Test(arguments: [Errno.noSpace, Errno.ioError])
    func aFailureAtEachStepOfArchiveIsFinishedExactlyOnceByTheNextPass(error: Errno) throws {
        let outputs: [(folder: String, name: String, bytes: [UInt8])] = [
            ("outbox", "reply.xml", Self.reply), ("journal", "entry.xml", Self.journal),
        ]
        let counting = FaultSeam()
        let clean = try TemporarySpool()
        let moved = try clean.spool(counting.seam).archive(
            try Self.claimedInput(clean), day: Self.day, outputs: outputs)
        #expect(moved == clean.root + "/archive/\(Self.day)/reserve.xml")
        let steps = counting.calls.count
        #expect(steps > 25, "the archive makes \(steps) fallible calls")
        let expected = clean.allPaths()
        #expect(
            expected == [
                "archive", "archive/\(Self.day)", "archive/\(Self.day)/reserve.meta", "archive/\(Self.day)/reserve.xml",
                "archive/\(Self.day)/reserve.xml.outputs", "archive/\(Self.day)/reserve.xml.outputs/journal-entry.xml",
                "archive/\(Self.day)/reserve.xml.outputs/outbox-reply.xml",
                "commands", "error", "inbox", "journal", "outbox", "processing", "results", "state",
            ])
        for step in 1...steps {
            let spool = try TemporarySpool()
            let claimed = try Self.claimedInput(spool)
            let plan = FaultSeam(failAt: step, error: error)
            let faulty = spool.spool(plan.seam)
            #expect(throws: Spool.Failure.self, "step \(step) fails") {
                try faulty.archive(claimed, day: Self.day, outputs: outputs)
            }
            #expect(plan.failed)
            try Self.nextPass(faulty) { try faulty.archive($0, day: Self.day, outputs: outputs) }
            #expect(spool.allPaths() == expected, "step \(step): \(spool.allPaths())")
            #expect(
                spool.bytes("archive/\(Self.day)/reserve.xml") == Self.input
                    && spool.bytes("archive/\(Self.day)/reserve.meta") == Self.meta, "step \(step)")
            #expect(
                spool.bytes("archive/\(Self.day)/reserve.xml.outputs/outbox-reply.xml") == Self.reply, "step \(step)")
            Self.noLeftovers(spool, step: step)
        }
    }

    @Test(arguments: [Errno.noSpace, Errno.ioError])
    func aFailureAtEachStepOfQuarantineIsFinishedExactlyOnceByTheNextPass(error: Errno) throws {
        let reason = "The message is not readable XML."
        let counting = FaultSeam()
        let clean = try TemporarySpool()
        let moved = try clean.spool(counting.seam).quarantine(
            try Self.claimedInput(clean), day: Self.day, reason: reason)
        #expect(moved == clean.root + "/error/\(Self.day)/reserve.xml")
        let steps = counting.calls.count
        #expect(steps > 15, "the quarantine makes \(steps) fallible calls")
        let expected = clean.allPaths()
        #expect(
            expected.filter { $0.hasPrefix("error/") } == [
                "error/\(Self.day)", "error/\(Self.day)/reserve.meta", "error/\(Self.day)/reserve.xml",
                "error/\(Self.day)/reserve.xml.reason.txt",
            ])
        for step in 1...steps {
            let spool = try TemporarySpool()
            let claimed = try Self.claimedInput(spool)
            let plan = FaultSeam(failAt: step, error: error)
            let faulty = spool.spool(plan.seam)
            #expect(throws: Spool.Failure.self, "step \(step) fails") {
                try faulty.quarantine(claimed, day: Self.day, reason: reason)
            }
            #expect(plan.failed)
            try Self.nextPass(faulty) { try faulty.quarantine($0, day: Self.day, reason: reason) }
            #expect(spool.allPaths() == expected, "step \(step): \(spool.allPaths())")
            #expect(
                spool.bytes("error/\(Self.day)/reserve.xml.reason.txt") == Array((reason + "\n").utf8),
                "step \(step): the reason is there")
            #expect(spool.bytes("error/\(Self.day)/reserve.xml") == Self.input, "step \(step)")
            Self.noLeftovers(spool, step: step)
        }
    }

    @Test func aFolderWhoseParentWasNotSyncedIsMadeAgain() throws {
        let spool = try TemporarySpool()
        let claimed = try Self.claimedInput(spool)
        let plan = FaultSeam(failAt: 3, error: .ioError)  // mkdir archive/DAY, open archive/, fsync archive/
        #expect(throws: Spool.Failure.self) { try spool.spool(plan.seam).archive(claimed, day: Self.day, outputs: []) }
        #expect(plan.calls.prefix(3) == [.mkdir, .open, .fsync] && plan.calls.last == .rmdir, "\(plan.calls)")
        #expect(spool.entries("archive").isEmpty, "not left unsynced")
        let retry = FaultSeam()
        _ = try spool.spool(retry.seam).archive(claimed, day: Self.day, outputs: [])
        #expect(
            retry.calls.prefix(5) == [.mkdir, .open, .fsync, .open, .fsync],
            "created and its parents synced: \(retry.calls)")
    }

    // MARK: EINTR

    @Test func everyInterruptedCallIsRetriedTransparently() throws {
        let spool = try TemporarySpool()
        let plan = FaultSeam(interruptEveryCall: true)
        let interrupted = spool.spool(plan.seam)
        #expect(try interrupted.publish(Self.reply, to: .outbox, name: "reply.xml"))
        _ = try interrupted.archive(
            try Self.claimedInput(spool), day: Self.day, outputs: [("outbox", "reply.xml", Self.reply)])
        try spool.write("<x/>", to: "inbox/other.xml")
        let other = try #require(try interrupted.claim("other.xml", from: .inbox))
        _ = try interrupted.quarantine(other, day: Self.day, reason: "Refused.")
        #expect(mkfifo(spool.root + "/inbox/fifo.xml", 0o600) == 0)
        let odd = try #require(interrupted.odd(in: .inbox).first)
        _ = try interrupted.setAside(odd, in: .inbox, day: Self.day)
        try interrupted.appendLog("purged\n", name: "purge.log")
        try interrupted.createPrivateFile(spool.root + "/state/private", contents: Array("key".utf8))
        _ = try interrupted.lock()
        try interrupted.removeDayFolder(Self.day, in: .error)
        try interrupted.batch {
            let staged = try interrupted.stage(Self.reply, to: .journal, name: "staged.xml")
            try interrupted.syncAll(.cannotPublish)
            try interrupted.place(staged)
            try interrupted.writePending(Self.reply, to: .journal, name: "pending.xml")
            try interrupted.syncAll(.cannotPublish)
            try interrupted.place(try #require(interrupted.pending(.journal, name: "pending.xml")))
        }
        #expect(spool.bytes("journal/staged.xml") == Self.reply)
        #expect(
            spool.bytes("journal/pending.xml") == Self.reply
                && interrupted.pending(.journal, name: "pending.xml") == nil)

        #expect(spool.bytes("outbox/reply.xml") == Self.reply)
        #expect(spool.bytes("archive/\(Self.day)/reserve.xml") == Self.input)
        #expect(
            spool.bytes("state/purge.log") == Array("purged\n".utf8)
                && spool.bytes("state/private") == Array("key".utf8))
        #expect(spool.entries("error").isEmpty && spool.entries("inbox").isEmpty && spool.entries("processing").isEmpty)
        #expect(
            Set(plan.interruptions) == Set(FaultSeam.Call.allCases),
            "every kind of call was interrupted: \(Set(plan.interruptions))")
        #expect(plan.interruptions == plan.calls, "each call was interrupted once, then made")
    }

    // MARK: error codes

    @Test func failuresCarryTheirCodeAndNameThePath() throws {
        let spool = try TemporarySpool()
        func failure(_ body: () throws -> Void) -> Spool.Failure? {
            do { try body() } catch let failure as Spool.Failure { return failure } catch {
                Issue.record("not a Spool.Failure: \(error)")
            }
            return nil
        }
        let nowhere = spool.root + "/nowhere"
        let publish = try #require(
            failure { try spool.spool().publish(Self.reply, toDirectory: nowhere, name: "x.xml") })
        #expect(publish.code == .cannotPublish && publish.description.hasPrefix("TB-0602: "))
        #expect(
            publish.description.contains(nowhere + "/.x.xml.")
                && publish.description.contains(Errno.noSuchFileOrDirectory.description))
        #expect(publish.errorNumber == ENOENT && !publish.isBusy)

        let missing = Spool.Claimed(origin: .inbox, name: "gone.xml", path: spool.root + "/processing/inbox~gone.xml")
        let read = try #require(failure { _ = try spool.spool().read(missing, limit: 100) })
        #expect(read.description.hasPrefix("TB-0607: ") && read.description.contains(missing.path))

        #expect(symlink("/etc/hostname", spool.root + "/processing/inbox~link.xml") == 0)
        let link = Spool.Claimed(origin: .inbox, name: "link.xml", path: spool.root + "/processing/inbox~link.xml")
        let notRegular = try #require(failure { _ = try spool.spool().read(link, limit: 100) })
        #expect(notRegular.description.hasPrefix("TB-0608: ") && notRegular.description.contains(link.path))

        let held = try spool.spool().lock()
        let busy = try #require(failure { _ = try spool.spool().lock() })
        #expect(
            busy.isBusy && busy.description.hasPrefix("TB-0609: ")
                && busy.description.contains(spool.root + "/state/timebok.lock"))
        withExtendedLifetime(held) {}

        try spool.spool().publish(Self.reply, to: .results, name: "r.xml")
        let taken = try #require(
            failure { try spool.spool().publishIdentical(Self.journal, to: .results, name: "r.xml") })
        #expect(
            taken.description.hasPrefix("TB-0603: ") && taken.description.contains(spool.root + "/results/r.xml")
                && taken.systemError == nil)

        let claimed = try Self.claimedInput(spool)
        // Step 6: after mkdir, open and fsync of archive/ and the spool, the move of the .meta.
        let full = FaultSeam(failAt: 6, error: .noSpace)
        let archive = try #require(
            failure { _ = try spool.spool(full.seam).archive(claimed, day: Self.day, outputs: []) })
        #expect(
            full.calls.last == .renameNoReplace && archive.description.hasPrefix("TB-0605: ")
                && archive.description.contains(claimed.companionPath)
                && archive.description.contains("No space left on device"))

        let group = try #require(
            failure { try Spool(root: spool.root).createLayout(group: "no-such-group-\(getpid())") })
        #expect(group.code == .unknownGroup && group.description.hasPrefix("TB-0613: "))

        let codes = Spool.Failure.Code.all.map(\.rawValue)
        #expect(Set(codes).count == codes.count && codes.allSatisfy { $0.wholeMatch(of: /TB-06\d\d/) != nil })
    }

    // MARK: retention

    @Test func removingADayFolderNeverFollowsALink() throws {
        let spool = try TemporarySpool()
        let outside = spool.root + "/state/keep"
        try spool.write("kept", to: "state/keep")
        _ = try spool.spool().quarantine(try Self.claimedInput(spool), day: Self.day, reason: "x")
        #expect(symlink(outside, spool.root + "/error/\(Self.day)/link") == 0)
        #expect(mkdir(spool.root + "/error/\(Self.day)/sub", 0o750) == 0)
        try spool.write("inner", to: "error/\(Self.day)/sub/inner")
        let plan = FaultSeam()
        try spool.spool(plan.seam).removeDayFolder(Self.day, in: .error)
        #expect(spool.entries("error").isEmpty && spool.bytes("state/keep") == Array("kept".utf8))
        #expect(plan.calls.filter { $0 == .rmdir }.count == 2)
    }
}
