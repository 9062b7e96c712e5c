import Foundation
import SystemPackage

@testable import TimebokSpool

/// A spool in a fresh temporary folder, removed when dropped.
final class TemporarySpool {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("timebok-spool-\(UUID().uuidString)").path
        try Spool(root: root).createLayout()
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func spool(_ seam: FileSystemSeam = .system) -> Spool { Spool(root: root, fileSystem: seam) }

    /// Every entry of a folder of the spool, dot-files included, sorted.
    func entries(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).sorted()
    }

    /// Every path in the spool below it, dot-files included.
    func allPaths() -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).sorted()
    }

    func bytes(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: root + "/" + path).map { [UInt8]($0) }
    }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: root + "/" + path, atomically: false, encoding: .utf8)
    }
}

/// A seam over the real system calls that counts the calls, makes the `failAt`-th one fail once
/// with `error`, and (with `interruptEveryCall`) makes the first attempt of every call EINTR.
final class FaultSeam: @unchecked Sendable {
    enum Call: String, CaseIterable {
        case open, write, fsync, link, unlink, rename, mkdir, rmdir, syncfs, renameNoReplace
    }

    private let lock = NSLock()
    private var made: [Call] = []
    private var interrupted: [Call] = []
    private var lastWasInterrupted = false
    let failAt: Int?
    let error: Errno
    let interruptEveryCall: Bool
    /// At most this many bytes per write (short writes), when set.
    let writeLimit: Int?
    private(set) var failed = false

    init(failAt: Int? = nil, error: Errno = .noSpace, interruptEveryCall: Bool = false, writeLimit: Int? = nil) {
        self.failAt = failAt
        self.error = error
        self.interruptEveryCall = interruptEveryCall
        self.writeLimit = writeLimit
    }

    /// The calls that went through to the system, in order.
    var calls: [Call] { lock.withLock { made } }
    /// The calls that were answered with EINTR.
    var interruptions: [Call] { lock.withLock { interrupted } }

    private func enter(_ call: Call) throws(Errno) {
        let outcome: Errno? = lock.withLock {
            if interruptEveryCall, !lastWasInterrupted {
                lastWasInterrupted = true
                interrupted.append(call)
                return .interrupted
            }
            lastWasInterrupted = false
            made.append(call)
            if made.count == failAt {
                failed = true
                return error
            }
            return nil
        }
        if let outcome { throw outcome }
    }

    var seam: FileSystemSeam {
        let system = FileSystemSeam.system
        return FileSystemSeam(
            open: { [self] path, mode, options, permissions throws(Errno) in
                try enter(.open)
                return try system.open(path, mode, options, permissions)
            },
            write: { [self] fd, bytes throws(Errno) in
                try enter(.write)
                return try system.write(
                    fd, writeLimit.map { UnsafeRawBufferPointer(rebasing: bytes.prefix($0)) } ?? bytes)
            },
            fsync: { [self] fd throws(Errno) in
                try enter(.fsync)
                try system.fsync(fd)
            },
            link: { [self] from, to throws(Errno) in
                try enter(.link)
                try system.link(from, to)
            },
            unlink: { [self] path throws(Errno) in
                try enter(.unlink)
                try system.unlink(path)
            },
            rename: { [self] from, to throws(Errno) in
                try enter(.rename)
                try system.rename(from, to)
            },
            mkdir: { [self] path, permissions throws(Errno) in
                try enter(.mkdir)
                try system.mkdir(path, permissions)
            },
            rmdir: { [self] path throws(Errno) in
                try enter(.rmdir)
                try system.rmdir(path)
            },
            syncfs: { [self] fd throws(Errno) in
                try enter(.syncfs)
                try system.syncfs(fd)
            },
            renameNoReplace: { [self] from, to throws(Errno) in
                try enter(.renameNoReplace)
                try system.renameNoReplace(from, to)
            })
    }
}
