import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import TimebokSpool

/// Crash simulation: after `crashAt - 1` calls through the seam, every call fails and does nothing.
final class CrashSeam: Sendable {
    private let state = Mutex((calls: 0, crashed: false))
    let crashAt: Int?
    let noReplace: Bool

    init(crashAt: Int?, noReplace: Bool) {
        self.crashAt = crashAt
        self.noReplace = noReplace
    }
    var calls: Int { state.withLock { $0.calls } }
    var crashed: Bool { state.withLock { $0.crashed } }

    private func enter() throws(Errno) {
        let dead = state.withLock { state in
            state.calls += 1
            if let crashAt, state.calls >= crashAt { state.crashed = true }
            return state.crashed
        }
        if dead { throw Errno.ioError }
    }

    var seam: FileSystemSeam {
        let system = FileSystemSeam.system
        return FileSystemSeam(
            open: { [self] p, m, o, perm throws(Errno) in
                try enter()
                return try system.open(p, m, o, perm)
            },
            write: { [self] fd, b throws(Errno) in
                try enter()
                return try system.write(fd, b)
            },
            fsync: { [self] fd throws(Errno) in
                try enter()
                try system.fsync(fd)
            },
            link: { [self] a, b throws(Errno) in
                try enter()
                try system.link(a, b)
            },
            unlink: { [self] p throws(Errno) in
                try enter()
                try system.unlink(p)
            },
            rename: { [self] a, b throws(Errno) in
                try enter()
                try system.rename(a, b)
            },
            mkdir: { [self] p, perm throws(Errno) in
                try enter()
                try system.mkdir(p, perm)
            },
            rmdir: { [self] p throws(Errno) in
                try enter()
                try system.rmdir(p)
            },
            syncfs: { [self] fd throws(Errno) in
                try enter()
                try system.syncfs(fd)
            },
            renameNoReplace: { [self] a, b throws(Errno) in
                try enter()
                if noReplace { throw Errno.invalidArgument }
                try system.renameNoReplace(a, b)
            })
    }
}

/// A crash at every system call of an archive, a quarantine and a claim, with and without
/// RENAME_NOREPLACE (the link-then-unlink fallback), with the input's own name free or taken by
/// another file: the next pass finishes each exactly as a run without the crash would, under the
/// same name (never NAME-3 after NAME-2 was begun), with nothing left behind.
@Suite struct CrashAtEveryCall {
    static let day = SpoolFailureTests.day
    static let outputs: [(folder: String, name: String, bytes: [UInt8])] = [
        ("outbox", "reply.xml", SpoolFailureTests.reply), ("journal", "entry.xml", SpoolFailureTests.journal),
    ]

    static func prepare(_ spool: TemporarySpool, taken: Bool) throws -> Spool.Claimed {
        if taken {
            try FileManager.default.createDirectory(
                atPath: spool.root + "/archive/\(day)", withIntermediateDirectories: true)
            try spool.write("other\n", to: "archive/\(day)/reserve.xml")
            try FileManager.default.createDirectory(
                atPath: spool.root + "/error/\(day)", withIntermediateDirectories: true)
            try spool.write("other\n", to: "error/\(day)/reserve.xml")
        }
        try spool.publishOutputs()
        return try SpoolFailureTests.claimedInput(spool)
    }

    func run(quarantine: Bool, noReplace: Bool, taken: Bool) throws -> [String] {
        var problems: [String] = []
        let clean = try TemporarySpool()
        let counting = CrashSeam(crashAt: nil, noReplace: noReplace)
        let claimed = try Self.prepare(clean, taken: taken)
        let cleanSpool = clean.spool(counting.seam)
        if quarantine {
            _ = try cleanSpool.quarantine(claimed, day: Self.day, reason: "bad")
        } else {
            _ = try cleanSpool.archive(claimed, day: Self.day, outputs: Self.outputs)
        }
        let expected = clean.allPaths()
        let steps = counting.calls
        for step in 1...steps {
            let spool = try TemporarySpool()
            let claimed = try Self.prepare(spool, taken: taken)
            let crash = CrashSeam(crashAt: step, noReplace: noReplace)
            let faulty = spool.spool(crash.seam)
            _ =
                try?
                (quarantine
                ? faulty.quarantine(claimed, day: Self.day, reason: "bad")
                : faulty.archive(claimed, day: Self.day, outputs: Self.outputs))
            let after = spool.spool(CrashSeam(crashAt: nil, noReplace: noReplace).seam)
            do {
                for left in after.leftInProcessing() {
                    _ =
                        try
                        (quarantine
                        ? after.quarantine(left, day: Self.day, reason: "bad")
                        : after.archive(left, day: Self.day, outputs: Self.outputs))
                }
            } catch {
                problems.append("step \(step): next pass failed: \(error)")
                continue
            }
            let paths = spool.allPaths().filter { !$0.hasSuffix(".tmp") }
            if paths != expected {
                problems.append(
                    "step \(step): extra \(Set(paths).subtracting(expected).sorted()) missing \(Set(expected).subtracting(paths).sorted())"
                )
            }
        }
        return problems
    }

    @Test(arguments: [false, true], [false, true])
    func archiveCrash(noReplace: Bool, taken: Bool) throws {
        let problems = try run(quarantine: false, noReplace: noReplace, taken: taken)
        #expect(problems.isEmpty, "archive noReplace=\(noReplace) taken=\(taken): \(problems)")
    }

    @Test(arguments: [false, true], [false, true])
    func quarantineCrash(noReplace: Bool, taken: Bool) throws {
        let problems = try run(quarantine: true, noReplace: noReplace, taken: taken)
        #expect(problems.isEmpty, "quarantine noReplace=\(noReplace) taken=\(taken): \(problems)")
    }

    @Test(arguments: [false, true])
    func claimCrash(noReplace: Bool) throws {
        var problems: [String] = []
        for step in 1...12 {
            let spool = try TemporarySpool()
            try spool.write("<message>in</message>\n", to: "inbox/reserve.xml")
            try spool.write("message-id = amqp-1\n", to: "inbox/reserve.meta")
            let crash = CrashSeam(crashAt: step, noReplace: noReplace)
            _ = try? spool.spool(crash.seam).claim("reserve.xml", from: .inbox, companion: ".meta")
            if !crash.crashed { break }
            let after = spool.spool(CrashSeam(crashAt: nil, noReplace: noReplace).seam)
            do {
                for left in after.leftInProcessing() { _ = try after.archive(left, day: Self.day, outputs: []) }
                if let again = try after.claim("reserve.xml", from: .inbox, companion: ".meta") {
                    _ = try after.archive(again, day: Self.day, outputs: [])
                }
                for orphan in after.orphanCompanions() { _ = try after.quarantine(orphan, day: Self.day, reason: "o") }
            } catch {
                problems.append("step \(step): \(error)")
                continue
            }
            // The message and its .meta archived once, under their own names, and nothing left in
            // inbox/ or processing/ (an error/ day folder may have been made on the way, empty).
            let got = spool.allPaths().filter {
                $0.hasPrefix("archive/\(Self.day)/") || $0.hasPrefix("inbox/") || $0.hasPrefix("processing/")
                    || ($0.hasPrefix("error/") && $0 != "error/\(Self.day)")
            }
            if got != ["archive/\(Self.day)/reserve.meta", "archive/\(Self.day)/reserve.xml"] {
                problems.append("step \(step): \(got)")
            }
        }
        #expect(problems.isEmpty, "claim noReplace=\(noReplace): \(problems)")
    }
}

extension TemporarySpool {
    func publishOutputs() throws {
        try write(String(decoding: SpoolFailureTests.reply, as: UTF8.self), to: "outbox/reply.xml")
        try write(String(decoding: SpoolFailureTests.journal, as: UTF8.self), to: "journal/entry.xml")
    }
}
