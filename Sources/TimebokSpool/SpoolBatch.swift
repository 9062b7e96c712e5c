import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Whether the spool is inside a batch (``Spool/batch(_:)``), whether anything was left for the
/// batch's sync since the last one, and the folders it syncs, opened when the outermost batch
/// began (syncfs reports a write-back error only to descriptors opened before it happened);
/// shared by every copy of a `Spool`.
final class BatchState: Sendable {
    private struct Counts {
        var depth = 0
        var dirty = false
        var descriptors: [(path: FilePath, fd: FileDescriptor)] = []
    }
    private let counts = Mutex(Counts())

    var active: Bool { counts.withLock { $0.depth > 0 } }
    /// Enters a batch; true for the outermost.
    func enter() -> Bool {
        counts.withLock {
            $0.depth += 1
            return $0.depth == 1
        }
    }
    /// Leaves a batch; true when it was the outermost.
    func leave() -> Bool {
        counts.withLock {
            $0.depth -= 1
            return $0.depth == 0
        }
    }
    var dirty: Bool { counts.withLock { $0.dirty } }
    /// A folder sync was deferred, or a file written, to be made durable by the batch's sync.
    func markDirty() { counts.withLock { $0.dirty = true } }
    func markSynced() { counts.withLock { $0.dirty = false } }
    var descriptors: [(path: FilePath, fd: FileDescriptor)] { counts.withLock { $0.descriptors } }
    func hold(_ descriptors: [(path: FilePath, fd: FileDescriptor)]) {
        counts.withLock { $0.descriptors = descriptors }
    }
    func release() -> [(path: FilePath, fd: FileDescriptor)] {
        counts.withLock { counts in
            let held = counts.descriptors
            counts.descriptors = []
            return held
        }
    }
}

// Durability per batch, not per file: inside ``Spool/batch(_:)`` the folder fsyncs of claims, moves
// and publications are left to syncfs(2) of the spool's file systems, and outputs are published
// in two steps (``Spool/stage(_:to:name:)``, then ``Spool/place(_:)`` after ``Spool/syncAll(_:)``),
// so that a batch of N outputs costs a few syncs instead of 2N, and still no file ever appears under
// its name before its bytes are durable.
extension Spool {
    /// An output written to its temporary file, not yet under its name.
    public struct Staged: Sendable, Hashable {
        public let folder: Folder
        public let name: String
        let temporary: FilePath
        let final: FilePath
        /// Already published byte-identical (an earlier attempt): nothing to place.
        public let alreadyThere: Bool
        /// The output's pending file (``writePending(_:to:name:)``): its only copy until placed.
        var pending = false
    }

    /// Runs `body` with every folder fsync deferred, then makes what it left unsynced durable with
    /// one syncfs (also when `body` throws; a failing sync is then reported after `body`'s own
    /// error). Batches nest: the outermost one syncs.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        if batchState.enter() {
            // Opened before anything is written: a write-back error of this batch reaches them.
            batchState.hold(syncTargets().compactMap { path in (try? openFolder(path)).map { (path, $0) } })
        }
        let result: Result<T, any Error>
        do {
            result = .success(try body())
        } catch {
            result = .failure(error)
        }
        var synced: Result<Void, any Error> = .success(())
        if batchState.leave() {
            if batchState.dirty { synced = Result { try syncAll(.cannotPublish) } }
            for (_, fd) in batchState.release() { try? fd.close() }
        }
        let value = try result.get()
        try synced.get()
        return value
    }

    /// One folder on each file system the spool writes to: its own, and the output folders' when
    /// one is mounted apart (a bind mount shared with the transport).
    func syncTargets() -> [FilePath] {
        var devices: [UInt64] = []
        var targets: [FilePath] = []
        for folder in [rootPath, folderPath(.outbox), folderPath(.results), folderPath(.journal)] {
            guard let info = try? folder.stat() else { continue }
            let device = UInt64(info.deviceID.rawValue)
            guard !devices.contains(device) else { continue }
            devices.append(device)
            targets.append(folder)
        }
        return targets.isEmpty ? [rootPath] : targets
    }

    private func openFolder(_ path: FilePath) throws(Errno) -> FileDescriptor {
        try retryingInterrupts { () throws(Errno) in try fs.open(path, .readOnly, [.directory, .closeOnExec], nil) }
    }

    /// True inside ``batch(_:)``: folder syncs wait for the batch's syncfs.
    public var inBatch: Bool { batchState.active }

    /// Makes everything written so far to the spool's file systems durable: file contents and the
    /// names of every link, rename and new folder (syncfs(2), once per file system). Inside a batch
    /// it syncs through the descriptors the batch opened first.
    public func syncAll(_ code: Failure.Code) throws {
        var targets = batchState.descriptors
        var opened: [FileDescriptor] = []
        defer { for fd in opened { try? fd.close() } }
        if targets.isEmpty {
            for path in syncTargets() {
                do throws(Errno) {
                    let fd = try openFolder(path)
                    opened.append(fd)
                    targets.append((path, fd))
                } catch {
                    throw Failure(code, "Could not open the folder \(path) to sync its file system: \(error).", error)
                }
            }
        }
        for (path, fd) in targets {
            do throws(Errno) {
                try retryingInterrupts { () throws(Errno) in try fs.syncfs(fd) }
            } catch {
                throw Failure(code, "Could not sync the file system of \(path) (syncfs): \(error).", error)
            }
        }
        batchState.markSynced()
    }

    /// Writes an output to its temporary file `.NAME.<pid>.tmp` in `folder`, without syncing it:
    /// the batch syncs all of them at once (``syncAll(_:)``) before ``place(_:)`` gives them their
    /// names. A file already published under NAME with the same bytes needs nothing more; one with
    /// other content is never overwritten (``Failure/Code/nameTaken``).
    public func stage(_ bytes: [UInt8], to folder: Folder, name: String) throws -> Staged {
        let directory = folderPath(folder)
        let final = directory.appending(name)
        let temporary = directory.appending("." + name + "." + String(getpid()) + ".tmp")
        if let existing = Self.contents(of: final) {
            guard existing == bytes else {
                throw Failure(.nameTaken, "\(final) already exists with other content; it was not overwritten.")
            }
            return Staged(folder: folder, name: name, temporary: temporary, final: final, alreadyThere: true)
        }
        try writeTemporary(bytes, to: temporary, sync: false)
        batchState.markDirty()
        return Staged(folder: folder, name: name, temporary: temporary, final: final, alreadyThere: false)
    }

    // Pending files. A batch writes each new output to `FOLDER/.NAME.pending` and makes them durable
    // (one syncfs) before the commit that records the output by name and hash, so the ledger never
    // holds the bytes: the pending file is their only copy until ``place(_:)`` renames it to NAME in
    // one step. A recorded output whose pending file is gone has therefore been placed (and may
    // have been taken by the transport since): it is never published again.

    func pendingPath(_ folder: Folder, _ name: String) -> FilePath {
        folderPath(folder).appending("." + name + ".pending")
    }

    /// Writes an output's pending file, without syncing it (the batch syncs all of them at once,
    /// before its commit).
    public func writePending(_ bytes: [UInt8], to folder: Folder, name: String) throws {
        try writeTemporary(bytes, to: pendingPath(folder, name), sync: false)
        batchState.markDirty()
    }

    /// The output's pending file, ready for ``place(_:)``: nil when there is none (the output was
    /// placed before, or never recorded).
    public func pending(_ folder: Folder, name: String) -> Staged? {
        let temporary = pendingPath(folder, name)
        guard let info = try? temporary.stat(followTargetSymlink: false), info.type == .regular else { return nil }
        return Staged(
            folder: folder, name: name, temporary: temporary, final: folderPath(folder).appending(name),
            alreadyThere: false, pending: true)
    }

    /// Removes a pending file whose output was not recorded (its batch's commit failed).
    public func discardPending(_ folder: Folder, name: String) {
        try? retryingInterrupts { () throws(Errno) in try fs.unlink(pendingPath(folder, name)) }
    }

    /// Every pending file in the output folders, as (folder, output name).
    public func pendingFiles() -> [(folder: Folder, name: String)] {
        [Folder.outbox, .results, .journal].flatMap { folder in
            Self.names(in: folderPath(folder)).filter { $0.hasPrefix(".") && $0.hasSuffix(".pending") }.map {
                (folder, String($0.dropFirst().dropLast(".pending".count)))
            }
        }
    }

    /// Gives a staged output its name. A pending file is renamed in one step (renameat2 with
    /// RENAME_NOREPLACE: it is gone exactly when NAME appears); a temporary is linked (never
    /// replaces) and then unlinked. Call it only after the staged bytes are durable.
    public func place(_ staged: Staged) throws {
        guard !staged.alreadyThere else { return }
        if staged.pending {
            // Without RENAME_NOREPLACE (false): link and unlink, as for a temporary. A crash between
            // the two leaves both names; the next pass then finds the identical file placed and
            // drops the pending one (sent twice only if the transport took the file in that instant).
            let renamed: Bool
            do throws(Errno) {
                renamed = try renamedWithoutReplacing(staged.temporary, to: staged.final)
            } catch  where error == .fileExists {
                // Placed before under that name (identical: the pending copy is surplus) or someone
                // else's file (never overwritten; the pending file stays, the only copy of the bytes).
                guard Self.contents(of: staged.final).map({ $0 == Self.contents(of: staged.temporary) }) == true
                else {
                    throw Failure(
                        .nameTaken, "\(staged.final) already exists with other content; it was not overwritten.")
                }
                try? retryingInterrupts { () throws(Errno) in try fs.unlink(staged.temporary) }
                return
            } catch {
                throw Failure(.cannotPublish, "Could not publish \(staged.final): \(error).", error)
            }
            if renamed { return try syncDirectory(staged.final.removingLastComponent(), .cannotPublish) }
        }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.link(staged.temporary, staged.final) }
        } catch {
            // Someone else's file under that name: identical is fine, anything else is never overwritten.
            let same =
                error == .fileExists
                && Self.contents(of: staged.final).map { $0 == Self.contents(of: staged.temporary) }
                    == true
            // A pending file is kept unless it is surplus: it holds the only copy of the bytes.
            if same || !staged.pending {
                try? retryingInterrupts { () throws(Errno) in try fs.unlink(staged.temporary) }
            }
            if same { return }
            if error == .fileExists {
                throw Failure(.nameTaken, "\(staged.final) already exists with other content; it was not overwritten.")
            }
            throw Failure(.cannotPublish, "Could not publish \(staged.final): \(error).", error)
        }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.unlink(staged.temporary) }
        } catch {
            throw Failure(
                .cannotPublish,
                "Could not remove the temporary file \(staged.temporary) after linking it to \(staged.final): \(error).",
                error)
        }
        try syncDirectory(staged.final.removingLastComponent(), .cannotPublish)
    }

    /// Removes a staged temporary file that will not be placed (its batch failed before placing);
    /// a pending file stays (its output is recorded: the next pass places it).
    public func discard(_ staged: Staged) {
        guard !staged.alreadyThere, !staged.pending else { return }
        try? retryingInterrupts { () throws(Errno) in try fs.unlink(staged.temporary) }
    }
}
