import Foundation
import Synchronization
import SystemPackage
import Testing
import TimebokCore
import TimebokTestKit

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine
@testable import TimebokSpool

/// Makes the Nth fallible system call of the spool fail (ENOSPC), once; counts them all.
final class FaultPlan: @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let failAt: Int?
    private(set) var failed = false

    init(failAt: Int?) { self.failAt = failAt }

    var count: Int { lock.withLock { calls } }

    func fails() -> Bool {
        lock.withLock {
            calls += 1
            if calls == failAt {
                failed = true
                return true
            }
            return false
        }
    }

    var seam: FileSystemSeam {
        let system = FileSystemSeam.system
        return FileSystemSeam(
            open: { [self] path, mode, options, permissions throws(Errno) in
                if fails() { throw Errno.noSpace }
                return try system.open(path, mode, options, permissions)
            },
            write: { [self] fd, bytes throws(Errno) in
                if fails() { throw Errno.noSpace }
                return try system.write(fd, bytes)
            },
            fsync: { [self] fd throws(Errno) in
                if fails() { throw Errno.ioError }
                try system.fsync(fd)
            },
            link: { [self] from, to throws(Errno) in
                if fails() { throw Errno.noSpace }
                try system.link(from, to)
            },
            unlink: { [self] path throws(Errno) in
                if fails() { throw Errno.ioError }
                try system.unlink(path)
            },
            rename: { [self] from, to throws(Errno) in
                if fails() { throw Errno.noSpace }
                try system.rename(from, to)
            },
            mkdir: { [self] path, permissions throws(Errno) in
                if fails() { throw Errno.noSpace }
                try system.mkdir(path, permissions)
            },
            rmdir: { [self] path throws(Errno) in
                if fails() { throw Errno.ioError }
                try system.rmdir(path)
            },
            syncfs: { [self] fd throws(Errno) in
                if fails() { throw Errno.ioError }
                try system.syncfs(fd)
            },
            renameNoReplace: { [self] from, to throws(Errno) in
                if fails() { throw Errno.noSpace }
                try system.renameNoReplace(from, to)
            })
    }
}

/// Issue 10: no input can block the spool, no state vanishes silently.
@Suite struct SpoolRobustness {
    /// A small office: one resource book, two slots, one list patient.
    static func smallOffice() throws -> TemporarySpool {
        let spool = try TemporarySpool()
        let engine = try spool.engine()
        var book = Book(
            id: "lab", kind: .resource, name: "Lab", category: .lab, herId: "1234501", informationText: "Faste.",
            slotMinutes: 15, capacity: 2)
        book.published = true
        book.confirmation = .automatic
        for (id, command) in [
            ("book", Command.createBook(book)),
            (
                "slot",
                .openSlot(
                    bookId: "lab",
                    start: LocalDateTime(date: LocalDate(year: 2026, month: 12, day: 7), hour: 8, minute: 0),
                    end: LocalDateTime(date: LocalDate(year: 2026, month: 12, day: 7), hour: 8, minute: 15),
                    capacity: nil)
            ),
            (
                "patients",
                .importPatients(
                    mode: .replace,
                    patients: [ListPatient(fnr: "14035623036", familyName: "Åsmundsen", givenName: "Ragnhild")])
            ),
        ] {
            #expect(engine.execute(CommandEnvelope(id: id, command: command)).ok)
        }
        return spool
    }

    /// The inputs of one pass: a command file, a ReserverAvtale with its .meta, a HentLedigeTimer.
    static func dropInputs(_ spool: TemporarySpool) throws {
        let slot = try #require(
            try spool.engine().store.read {
                try $0.freeSlots(bookId: "lab", fromSeconds: 0, toSeconds: Int.max / 2).first
            })
        try spool.drop(
            command(
                "epj-1",
                "<OpenSlot><BookId>lab</BookId><Start>2026-12-07T09:00:00</Start><End>2026-12-07T09:15:00</End></OpenSlot>"
            ), as: "open.xml")
        let hn = Helsenorge()
        var reserve = hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")
        reserve.info.msgId = "reserve-1"
        _ = FileManager.default.createFile(
            atPath: spool.root + "/inbox/reserve.xml", contents: Data(MessageCodec.encode(reserve)))
        try "message-id = amqp-1\ncorrelation-id = corr-1\nfrom-her-id = 8093248\n".write(
            toFile: spool.root + "/inbox/reserve.meta", atomically: true, encoding: .utf8)
        var free = hn.freeSlots(
            .lab, .ragnhild, from: LocalDate(year: 2026, month: 12, day: 1),
            to: LocalDate(year: 2026, month: 12, day: 20))
        free.info.msgId = "free-1"
        _ = FileManager.default.createFile(
            atPath: spool.root + "/inbox/free.xml", contents: Data(MessageCodec.encode(free)))
    }

    /// What a pass left, without the parts that differ between runs (times, sequences, new ids).
    static func signature(_ spool: TemporarySpool) throws -> [String] {
        // `<time>-<sequence>-<label>-<UUID>.xml`: the label alone.
        func label(_ name: String) -> String {
            let parts = name.split(separator: "-")
            guard parts.count > 7 else { return name }
            return parts[2..<(parts.count - 5)].joined(separator: "-") + (name.hasSuffix(".meta") ? ".meta" : "")
        }
        var lines: [String] = []
        for folder in ["outbox", "results", "journal"] {
            lines += spool.files(folder).map {
                "\(folder)/\(folder == "outbox" || folder == "journal" ? label($0) : String($0.split(separator: "-").last ?? ""))"
            }.sorted()
        }
        lines += spool.files("archive").filter { !$0.contains(".outputs/") }.map { "archive/" + $0 }
        lines += spool.files("archive").filter { $0.contains(".outputs/") }.map {
            "archive/" + ($0.components(separatedBy: ".outputs/").first ?? "") + ".outputs"
        }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        lines += spool.files("error").map { "error/" + $0 }
        lines += spool.files("processing").map { "processing/" + $0 }
        for folder in ["outbox", "results", "journal", "archive", "error", "state"] {
            lines += spool.files(folder).filter { $0.hasSuffix(".tmp") }.map { "leftover \(folder)/\($0)" }
            lines += spool.files(folder).filter {
                !$0.hasSuffix(".lock") && !$0.contains("timebok.sqlite") && spool.read(folder + "/" + $0).isEmpty
            }.map { "empty \(folder)/\($0)" }
        }
        let model = try spool.engine().store.read { reader in
            "appointments \(try reader.appointments(states: nil).map(\.state.rawValue).sorted()) slots \(try reader.slotCount(bookId: "lab"))"
        }
        lines.append(model)
        for name in spool.files("outbox")
        where name.hasSuffix(".meta") && (name.contains("AppRec") || name.contains("SvarTimeReservasjon")) {
            lines.append(
                "\(label(name)) correlation \(spool.read("outbox/" + name).contains("correlation-id = corr-1\n"))")
        }
        return lines.sorted()
    }

    @Test func aFailureAtEachStepOfClaimPublishAndArchiveIsFinishedExactlyOnceByTheNextPass() throws {
        let clean = try Self.smallOffice()
        try Self.dropInputs(clean)
        let counting = FaultPlan(failAt: nil)
        _ = try clean.engine(fileSystem: counting.seam).process()
        let expected = try Self.signature(clean)
        #expect(expected.contains("outbox/AppRec-reserve.meta") == false, "labels, not names")
        #expect(
            expected.filter { $0.hasPrefix("outbox/") }.count == 6,
            "AppRec, 05 and SvarLedigeTimer, each with its .meta: \(expected)")
        #expect(
            expected.allSatisfy {
                !$0.hasPrefix("processing/") && !$0.hasPrefix("leftover") && !$0.hasPrefix("empty")
                    && !$0.hasPrefix("error/")
            })
        #expect(
            expected.contains("AppRec.meta correlation true")
                && expected.contains("SvarTimeReservasjon-05.meta correlation true"))
        let steps = counting.count
        #expect(steps > 30, "the pass makes \(steps) fallible calls")
        // Each step starts from a copy of the same prepared spool (cheaper than building it again);
        // the steps are independent, so they run on every core. Results are gathered, then checked here.
        let template = try Self.smallOffice()
        try Self.dropInputs(template)
        let (templateRoot, instant) = (template.root, template.clock)
        let results = Mutex<[Int: (reached: Bool, found: [String])]>([:])
        DispatchQueue.concurrentPerform(iterations: steps) { index in
            let step = index + 1
            do {
                let spool = try TemporarySpool(copying: templateRoot, at: instant)
                let plan = FaultPlan(failAt: step)
                _ = try? spool.engine(fileSystem: plan.seam).process()
                _ = try spool.engine().process()
                let found = try Self.signature(spool)
                results.withLock { $0[step] = (plan.failed, found) }
            } catch {
                results.withLock { $0[step] = (false, ["error: \(error)"]) }
            }
        }
        var differing: [Int] = []
        for step in 1...steps {
            let result = results.withLock { $0[step] }
            #expect(result?.reached == true, "step \(step) was reached")
            let found = result?.found ?? []
            if found != expected {
                differing.append(step)
                if differing.count == 1 {
                    Issue.record(
                        "step \(step): \(found.filter { !expected.contains($0) }) instead of \(expected.filter { !found.contains($0) })"
                    )
                }
            }
        }
        #expect(differing.isEmpty, "a failure at these steps left another state after the next pass: \(differing)")
    }

    @Test func aLongNameCannotStopThePass() throws {
        let spool = try Self.smallOffice()
        let long = String(repeating: "x", count: 246) + ".xml"
        try command("c-long", "<SetBookingEnabled><Enabled>true</Enabled></SetBookingEnabled>").write(
            toFile: spool.root + "/commands/" + long + "1", atomically: false, encoding: .utf8)
        try "<x/>".write(toFile: spool.root + "/inbox/" + long, atomically: false, encoding: .utf8)
        try spool.drop(command("c-ok", "<SetBookingEnabled><Enabled>true</Enabled></SetBookingEnabled>"), as: "ok.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.map(\.commandId) == ["c-ok"], "the others go on")
        #expect(report.setAside.count == 2 && report.setAside.allSatisfy { $0.what.contains("a name of") })
        let reasons = spool.files("error").filter { $0.hasSuffix(".reason.txt") }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.contains("/odd-") && $0.count < 60 })
        #expect(reasons.allSatisfy { spool.read("error/" + $0).contains(long) }, "the original name is in the reason")
        #expect(spool.files("inbox").isEmpty && spool.files("commands").isEmpty && spool.files("processing").isEmpty)
        #expect(try spool.engine().process().outcomes.isEmpty, "the next pass has nothing left")
    }

    @Test func linksFifosFoldersAndStrangeNamesAreSetAsideOnceWithAReason() throws {
        let spool = try Self.smallOffice()
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent(
            "timebok-outside-\(UUID().uuidString)"
        ).path
        try "secret".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        #expect(symlink(outside, spool.root + "/inbox/link.xml") == 0)
        #expect(mkfifo(spool.root + "/inbox/fifo.xml", 0o600) == 0)
        try FileManager.default.createDirectory(
            atPath: spool.root + "/commands/folder.xml", withIntermediateDirectories: false)
        try "<x/>".write(toFile: spool.root + "/inbox/new\nline.xml", atomically: false, encoding: .utf8)
        let latin1 = spool.root + "/inbox/caf\u{E9}.xml"
        var bytes = Array((spool.root + "/inbox/caf").utf8) + [0xE9] + Array(".xml".utf8) + [0]
        let fd = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                open($0, O_WRONLY | O_CREAT, 0o600)
            }
        }
        #expect(fd >= 0)
        close(fd)
        _ = latin1
        let report = try spool.engine().process()
        #expect(report.setAside.count == 5, "\(report.setAside)")
        let reasons = spool.files("error").filter { $0.hasSuffix(".reason.txt") }.map { spool.read("error/" + $0) }
            .joined()
        for text in [
            "inbox/link.xml is a symbolic link", "inbox/fifo.xml is a FIFO", "commands/folder.xml is a folder",
            "inbox/new\\x0Aline.xml is a name with control characters",
            "inbox/caf\\xE9.xml is a name that is not UTF-8",
        ] {
            #expect(reasons.contains(text), "\(text)")
        }
        #expect(
            try String(contentsOfFile: outside, encoding: .utf8) == "secret",
            "the link's target is untouched and unread")
        let links = try FileManager.default.contentsOfDirectory(atPath: spool.root + "/error/2026-12-01").filter {
            name in
            var info = stat()
            return lstat(spool.root + "/error/2026-12-01/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
        }
        #expect(links.count == 1 && links[0].hasPrefix("odd-"), "the link was moved as a link: \(links)")
        #expect(try spool.engine().process().setAside.isEmpty, "reported once")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.root + "/inbox").isEmpty)
    }

    @Test func anOversizedInputIsRefusedWithoutBeingRead() throws {
        let spool = try Self.smallOffice()
        for path in [spool.root + "/inbox/huge.xml", spool.root + "/commands/huge.xml"] {
            let fd = open(path, O_WRONLY | O_CREAT, 0o600)
            #expect(fd >= 0 && ftruncate(fd, 1 << 30) == 0, "a sparse 1 GiB file")
            close(fd)
        }
        let report = try spool.engine().process()
        #expect(report.outcomes.count == 2 && report.outcomes.allSatisfy { $0.error != nil })
        #expect(
            spool.read("error/2026-12-01/huge.xml.reason.txt").contains(
                "1073741824 bytes, more than limits.max-input-bytes"))
        #expect(spool.files("results").count == 1, "the command gets its error result")
    }

    @Test func aMetaClaimedBeforeACrashStillTravelsWithItsMessage() throws {
        let spool = try Self.smallOffice()
        try Self.dropInputs(spool)
        // A crash right after the .meta was claimed: it is in processing/, its message still waits.
        try FileManager.default.moveItem(
            atPath: spool.root + "/inbox/reserve.meta", toPath: spool.root + "/processing/inbox~reserve.meta")
        _ = try spool.engine().process()
        let signature = try Self.signature(spool)
        #expect(
            signature.contains("AppRec.meta correlation true")
                && signature.contains("SvarTimeReservasjon-05.meta correlation true"), "\(signature)")
        #expect(spool.files("archive").contains("2026-12-01/reserve.meta"))
        // The spoofing check is not skipped for it either.
        let other = try Self.smallOffice()
        try Self.dropInputs(other)
        try "from-her-id = 999999\n".write(
            toFile: other.root + "/processing/inbox~reserve.meta", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: other.root + "/inbox/reserve.meta")
        _ = try other.engine().process()
        #expect(other.read("error/2026-12-01/reserve.xml.reason.txt").contains("TB-0403"))
        // A .meta whose message is gone goes to error/, not left for ever.
        try "message-id = lost\n".write(
            toFile: other.root + "/processing/inbox~lost.meta", atomically: true, encoding: .utf8)
        let report = try other.engine().process()
        #expect(report.setAside.contains { $0.name == "inbox~lost.meta" } && other.files("processing").isEmpty)
    }

    @Test func leftoversOfACrashAreFinishedNotRenamed() throws {
        let spool = try Self.smallOffice()
        try spool.drop(command("c-1", "<SetBookingEnabled><Enabled>true</Enabled></SetBookingEnabled>"), as: "one.xml")
        _ = try spool.engine().process()
        // As if the archive's link was made but the unlink from processing/ never happened.
        #expect(link(spool.root + "/archive/2026-12-01/one.xml", spool.root + "/processing/commands~one.xml") == 0)
        // And a temporary file of ours that an interrupted publish left.
        try "half".write(
            toFile: spool.root + "/outbox/.20261201T110000.000Z-x.xml.4242.tmp", atomically: false, encoding: .utf8)
        let report = try spool.engine().process()
        #expect(report.outcomes.first?.duplicate == true && report.leftoversRemoved == 1)
        #expect(spool.files("archive").filter { !$0.contains(".outputs/") } == ["2026-12-01/one.xml"], "no one-2.xml")
        #expect(spool.files("processing").isEmpty && spool.files("outbox").isEmpty)
    }
}
