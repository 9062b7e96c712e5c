import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The spool's folders, and the file operations that make "nothing lost" hold: inputs are claimed by
/// rename, outputs published durably (temporary file, fsync, link without overwriting, fsync of the
/// folder), inputs archived with copies of their outputs, or quarantined with a readable reason.
///
/// ```
/// spool/
///   inbox/ commands/            ← written by others (dot-files and *.tmp are ignored)
///   outbox/ journal/ results/   → read and removed by others
///   processing/                 claimed inputs (internal)
///   archive/YYYY-MM-DD/         every input with the outputs it caused
///   error/YYYY-MM-DD/           inputs that could not be processed, each with NAME.reason.txt
///   state/                      timebok.sqlite and the daemon's lock
/// ```
///
/// Every call that changes the file system goes through ``fs`` (tests make any of them fail), and
/// every system call is retried when a signal interrupts it (EINTR).
public struct Spool: Sendable {
    public enum Folder: String, Sendable, CaseIterable {
        case inbox, commands, outbox, journal, results, processing, archive, error, state
    }

    /// A file claimed for processing (moved into `processing/`).
    public struct Claimed: Sendable, Hashable {
        /// Where it came from (`inbox` or `commands`).
        public var origin: Folder
        public var name: String
        /// Its path in `processing/`.
        public var path: String

        /// Its transport metadata in `processing/` (`NAME.meta`), whether or not there is one.
        public var companionPath: String { Spool.companion(ofPath: path, suffix: ".meta") }
    }

    public let root: String
    /// The spool folder, absolute and lexically normal.
    let rootPath: FilePath
    /// Each folder's path, made once when first asked for: FilePath's appending parses the path
    /// again each time.
    private let folderPaths = FolderPaths()
    /// The system calls that can fail under a full disk or a read-only remount; tests replace them.
    public let fs: FileSystemSeam
    /// Inside a batch, folder syncs wait for the batch's one syncfs (``batch(_:)``).
    let batchState = BatchState()

    public init(root: String, fileSystem: FileSystemSeam = .system) {
        var path = FilePath(root)
        if path.isRelative { path = FilePath(FileManager.default.currentDirectoryPath).pushing(path) }
        path.lexicallyNormalize()
        self.rootPath = path
        self.root = path.string
        self.fs = fileSystem
    }

    /// The longest input name handled as it is: every internal name (`inbox~NAME`, `NAME.outputs`,
    /// `NAME.reason.txt`, `NAME-2`) then fits in a file system's 255 bytes. A longer one goes to
    /// `error/` under a safe name (``setAside(_:in:day:)``).
    public static let maxNameBytes = 200

    public func path(_ folder: Folder) -> String { folderPath(folder).string }
    public var databasePath: String { folderPath(.state).appending("timebok.sqlite").string }
    func folderPath(_ folder: Folder) -> FilePath {
        folderPaths.paths.withLock { paths in
            if let path = paths[folder] { return path }
            let path = rootPath.appending(folder.rawValue)
            paths[folder] = path
            return path
        }
    }

    /// The folders' paths made so far (shared by the copies of a Spool).
    final class FolderPaths: Sendable {
        let paths = Mutex<[Folder: FilePath]>([:])
    }

    /// The modes timebok gives what it creates, whatever the umask: folders 0750 (2770 when the
    /// spool has a group shared with the transport and the EPJ), files 0640, the database, its WAL
    /// files and the lock 0600. Every file in a spool holds health data.
    public enum Modes {
        public static let folder: mode_t = 0o750
        public static let sharedFolder: mode_t = 0o2770
        public static let file: mode_t = 0o640
        public static let privateFile: mode_t = 0o600
    }

    /// Creates the spool folder and every folder in it (idempotent) with explicit modes, owned by
    /// `group` when one is given (the group the transport and the EPJ share).
    public func createLayout(group: String? = nil) throws {
        var gid: gid_t?
        if let group {
            guard let entry = getgrnam(group) else {
                throw Failure(
                    .unknownGroup,
                    "There is no group \"\(group)\" on this machine (spool.group); create it first (groupadd \(group))."
                )
            }
            gid = entry.pointee.gr_gid
        }
        let mode = gid == nil ? Modes.folder : Modes.sharedFolder
        // The folders above the spool as `mkdir -p` makes them (the umask decides their mode).
        var above: [FilePath] = []
        var cursor = rootPath.removingLastComponent()
        while !cursor.isEmpty, cursor.lastComponent != nil, !Self.exists(cursor) {
            above.insert(cursor, at: 0)
            cursor.removeLastComponent()
        }
        for directory in above { try makeDirectory(directory, permissions: FilePermissions(rawValue: 0o777)) }
        for directory in [rootPath] + Folder.allCases.map(folderPath) {
            try makeDirectory(directory, permissions: FilePermissions(rawValue: Modes.folder))
            if let gid {
                do {
                    try systemCall { directory.withPlatformString { chown($0, uid_t.max, gid) } }
                } catch {
                    throw Failure(
                        .cannotCreateFolder,
                        "Could not give \(directory) to group \(group ?? ""): \(error). Run timebok init as the spool's owner, in that group.",
                        error)
                }
            }
            do {
                try systemCall { directory.withPlatformString { chmod($0, mode) } }
            } catch {
                throw Failure(.cannotCreateFolder, "Could not set the mode of \(directory): \(error).", error)
            }
        }
    }

    /// mkdir through the seam; a folder already there is fine, anything else by that name is not.
    private func makeDirectory(_ directory: FilePath, permissions: FilePermissions) throws {
        do {
            try retryingInterrupts { () throws(Errno) in try fs.mkdir(directory, permissions) }
        } catch .fileExists where (try? directory.stat())?.type == .directory {
            return
        } catch {
            throw Failure(.cannotCreateFolder, "Could not create the folder \(directory): \(error).", error)
        }
    }

    /// Creates a file readable by its owner only (the database, before SQLite opens it, so that its
    /// WAL and shared-memory files, which SQLite creates with the database's mode, are too; a private
    /// key), writing `contents` at its start and syncing them.
    public func createPrivateFile(_ path: String, contents: [UInt8] = []) throws {
        let file = FilePath(path)
        let fd: FileDescriptor
        do {
            fd = try retryingInterrupts { () throws(Errno) in
                try fs.open(file, .writeOnly, [.create, .closeOnExec], FilePermissions(rawValue: Modes.privateFile))
            }
        } catch {
            throw Failure(.cannotWrite, "Could not create \(file): \(error).", error)
        }
        var step = "set the mode of"
        do throws(Errno) {
            try systemCall { fchmod(fd.rawValue, Modes.privateFile) }
            if !contents.isEmpty {
                step = "write"
                try writeAll(contents, to: fd)
                step = "fsync"
                try retryingInterrupts { () throws(Errno) in try fs.fsync(fd) }
            }
            step = "close"
            try closing(fd)
        } catch {
            try? fd.close()
            throw Failure(.cannotWrite, "Could not \(step) \(file): \(error).", error)
        }
    }

    /// What in the spool other users could read or write, each as "PATH (MODE)"; empty when
    /// nothing: its folders, the database and its WAL files (any access by others), and
    /// `configuration` (writable by others; it holds no health data, and sits behind the folder).
    public func exposedToOthers(configuration: String) -> [String] {
        let database = databasePath
        let strict = [root] + Folder.allCases.map(path) + [database, database + "-wal", database + "-shm"]
        return (strict.map { ($0, mode_t(0o007)) } + [(rootPath.appending(configuration).string, mode_t(0o002))])
            .compactMap { path, forbidden in
                // stat, not lstat: a spool folder that is a symbolic link is judged by what it points to.
                guard let info = try? FilePath(path).stat() else { return nil }
                let mode = info.rawValue.st_mode & 0o7777
                return mode & forbidden != 0 ? "\(path) (\(String(mode, radix: 8)))" : nil
            }
    }

    /// The folder mode and group new folders get: the spool folder's own (set by `createLayout`).
    var folderModeAndGroup: (mode_t, gid_t)? {
        guard let info = try? rootPath.stat() else { return nil }
        return (info.rawValue.st_mode & 0o7777, info.rawValue.st_gid)
    }

    /// True when the folder layout exists.
    public var exists: Bool {
        Folder.allCases.allSatisfy { Self.exists(folderPath($0)) }
    }

    /// Regular files waiting in a folder, oldest name first: no dot-files, no `*.tmp`, no `*.meta`
    /// (a transport's metadata travels with its `.xml`). What cannot be read as an input (a symbolic
    /// link, a FIFO, a device, a folder, a name that is not UTF-8, has control characters or is longer
    /// than ``maxNameBytes``) is in ``odd(in:)``, never here.
    public func waiting(in folder: Folder) -> [(name: String, modified: Date, size: Int)] {
        entries(in: folder).compactMap { entry in
            guard case .file(let name, let modified, let size) = entry else { return nil }
            return (name, modified, size)
        }
    }

    /// What sits in an input folder that is not an input: each is set aside in `error/`, with the
    /// original name in its reason, by ``setAside(_:in:day:)``.
    public func odd(in folder: Folder) -> [OddEntry] {
        entries(in: folder).compactMap { entry in
            guard case .odd(let odd) = entry else { return nil }
            return odd
        }
    }

    /// A folder entry that is not an input timebok can take.
    public struct OddEntry: Sendable, Hashable {
        /// The name's bytes, as the directory holds them.
        public var rawName: [UInt8]
        /// Why it is not an input: "a symbolic link", "a FIFO", "a folder", "a name that is not UTF-8" …
        public var why: String
        /// The name for people: printable, other bytes as `\xNN`.
        public var printableName: String {
            rawName.map { byte in
                (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
            }.joined()
        }
    }

    private enum Entry {
        case file(String, Date, Int)
        case odd(OddEntry)
    }

    /// The folder's entries by their raw names (readdir), sorted; dot-files, `*.tmp` and `*.meta` skipped.
    private func entries(in folder: Folder) -> [Entry] {
        let directory = folderPath(folder)
        var result: [Entry] = []
        for bytes in Self.rawNames(in: directory).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard bytes.first != UInt8(ascii: "."), !bytes.suffix(4).elementsEqual(".tmp".utf8),
                !bytes.suffix(5).elementsEqual(".meta".utf8)
            else { continue }
            guard let info = try? Stat(Self.child(directory, bytes), followTargetSymlink: false) else { continue }
            let why: String?
            switch info.type {
            case .regular: why = nil
            case .symbolicLink: why = "a symbolic link (never followed)"
            case .fifo: why = "a FIFO"
            case .directory: why = "a folder"
            case .socket: why = "a socket"
            default: why = "a device"
            }
            let name = String(validating: bytes, as: UTF8.self)
            if let why {
                result.append(.odd(OddEntry(rawName: bytes, why: why)))
            } else if name == nil {
                result.append(.odd(OddEntry(rawName: bytes, why: "a name that is not UTF-8")))
            } else if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                result.append(
                    .odd(OddEntry(rawName: bytes, why: "a name with control characters (a new line, a tab …)")))
            } else if bytes.count > Self.maxNameBytes {
                result.append(
                    .odd(OddEntry(rawName: bytes, why: "a name of \(bytes.count) bytes (at most \(Self.maxNameBytes))"))
                )
            } else if let name {
                result.append(.file(name, Self.modificationDate(info), Int(info.size)))
            }
        }
        return result
    }

    /// Moves an odd entry (and nothing it points to) to `error/YYYY-MM-DD/` under a safe name
    /// (`odd-<hash>`), with a reason naming the original. Returns the new path.
    public func setAside(_ odd: OddEntry, in folder: Folder, day: String) throws -> String {
        let directory = folderPath(.error).appending(day)
        try createDurably(directory)
        // FNV-1a of the raw name: a stable, safe name (the original is in the reason).
        let hash = odd.rawName.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let safe = uniqueName("odd-" + String(hash, radix: 16), in: directory)
        let reason =
            "\(folder.rawValue)/\(odd.printableName) is \(odd.why), not an input timebok can read; it was moved here as \(safe), untouched.\n"
        _ = try publish(Array(reason.utf8), into: directory, name: safe + ".reason.txt")
        let target = directory.appending(safe)
        // rename(2) moves the entry itself: a link stays a link, a FIFO is never opened.
        do {
            try retryingInterrupts { () throws(Errno) in
                try fs.rename(Self.child(folderPath(folder), odd.rawName), target)
            }
        } catch {
            throw Failure(
                .cannotQuarantine, "Could not move \(folder.rawValue)/\(odd.printableName) to \(target): \(error).",
                error)
        }
        try syncDirectory(directory, .cannotQuarantine)
        try syncDirectory(folderPath(folder), .cannotQuarantine)
        return target.string
    }

    /// Reads an input whole, unless it is larger than `limit`: then nothing is read (its size is
    /// taken from the open descriptor), and nil comes back with the size.
    public func read(_ claimed: Claimed, limit: Int) throws -> (bytes: [UInt8]?, size: Int) {
        let path = FilePath(claimed.path)
        let fd: FileDescriptor
        do {
            // Not blocking: a FIFO put in its place is refused below, not waited on.
            fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .noFollow, .nonBlocking])
        } catch let error as Errno where error == .tooManySymbolicLinkLevels {
            throw Failure(.notRegularFile, "\(path) is a symbolic link, not a file timebok reads.", error)
        } catch {
            throw Failure(.cannotRead, "Could not open \(path): \(error).", error as? Errno)
        }
        do {
            return try fd.closeAfter {
                let info = try fd.stat()
                guard info.type == .regular else {
                    throw Failure(.notRegularFile, "\(path) is not a regular file; timebok reads only those.")
                }
                let size = Int(info.size)
                guard size <= limit else { return (nil, size) }
                var bytes = [UInt8](repeating: 0, count: size)
                var done = 0
                while done < size {
                    let count = try bytes.withUnsafeMutableBytes { buffer in
                        try fd.read(
                            into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), retryOnInterrupt: true)
                    }
                    if count == 0 { break }
                    done += count
                }
                return (Array(bytes.prefix(done)), size)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(.cannotRead, "Could not read \(path): \(error).", error as? Errno)
        }
    }

    /// Removes temporary files of timebok's own (`.NAME.<pid>.tmp`) that an interrupted run left in
    /// the folders only timebok writes (not `inbox/` or `commands/`, where producers write theirs).
    /// Returns how many.
    @discardableResult
    public func removeOwnLeftovers() -> Int {
        var removed = 0
        func sweep(_ directory: FilePath) {
            for name in Self.names(in: directory)
            where name.hasPrefix(".") && name.hasSuffix(".tmp") && name.wholeMatch(of: /\..+\.[0-9]+\.tmp/) != nil {
                if (try? retryingInterrupts({ () throws(Errno) in try fs.unlink(directory.appending(name)) })) != nil {
                    removed += 1
                }
            }
        }
        for folder in [Folder.outbox, .journal, .results, .state] { sweep(folderPath(folder)) }
        sweep(rootPath)
        for folder in [Folder.archive, .error] {
            for day in Self.names(in: folderPath(folder)) {
                let dayPath = folderPath(folder).appending(day)
                sweep(dayPath)
                for sub in Self.names(in: dayPath) where sub.hasSuffix(".outputs") {
                    sweep(dayPath.appending(sub))
                }
            }
        }
        return removed
    }

    /// "Now" as the file system that holds `folder` tells it: the modification time it stamps on a
    /// new probe file. A file's age is measured against this, never against the business clock:
    /// the clock that stamped the producer's file (the kernel's, or an NFS server's) is the only one
    /// its modification time can be compared with.
    public func fileSystemNow(in folder: Folder) throws -> Date {
        let probe = folderPath(folder).appending(".timebok-clock-" + String(getpid()) + ".tmp")
        let fd: FileDescriptor
        do {
            fd = try retryingInterrupts { () throws(Errno) in
                try fs.open(probe, .writeOnly, [.create, .truncate, .closeOnExec], FilePermissions(rawValue: 0o600))
            }
        } catch {
            throw Failure(.cannotWrite, "Could not create \(probe) to read the file system's clock: \(error).", error)
        }
        defer {
            try? fd.close()
            try? retryingInterrupts { () throws(Errno) in try fs.unlink(probe) }
        }
        do {
            return Self.modificationDate(try fd.stat())
        } catch {
            throw Failure(.cannotWrite, "Could not stat \(probe): \(error).", error)
        }
    }

    static func modificationDate(_ info: Stat) -> Date {
        Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    /// Claims a waiting file by renaming it into `processing/` as `ORIGIN~NAME` (atomic: two claimers
    /// never both win; the prefix tells recovery where it came from).
    /// A companion (`NAME.meta` beside `NAME.xml`) is claimed first: a crash between the two leaves
    /// the `.meta` in `processing/` and the `.xml` waiting, and the next claim of the `.xml` finds it,
    /// so recovery always sees both or neither.
    public func claim(_ name: String, from folder: Folder, companion suffix: String? = nil) throws -> Claimed? {
        let processing = folderPath(.processing)
        // processing/ holds claimed inputs and their companions only: no reasons, no outputs beside them.
        let target = uniqueName(folder.rawValue + "~" + name, in: processing, besides: [])
        if let suffix {
            let source = folderPath(folder).appending(Self.stem(name) + suffix)
            let destination = processing.appending(Self.stem(target) + suffix)
            if Self.exists(source) {
                do {
                    try moveNoReplace(source, to: destination, .cannotClaim)
                } catch let failure as Failure where failure.systemError == .fileExists {
                    // Claimed before, with its message not yet: it stays as it is; linked before a
                    // failure and not yet unlinked (a file system without RENAME_NOREPLACE): the
                    // waiting name goes, or the next message of that stem would take it as its own.
                    if Self.sameFile(source, destination) {
                        do throws(Errno) {
                            try retryingInterrupts { () throws(Errno) in try fs.unlink(source) }
                        } catch {
                            throw Failure(
                                .cannotClaim,
                                "Could not remove \(source) after linking it to \(destination): \(error).",
                                error)
                        }
                    }
                }
            }
        }
        do {
            try moveNoReplace(folderPath(folder).appending(name), to: processing.appending(target), .cannotClaim)
        } catch let failure as Failure where failure.systemError == .noSuchFileOrDirectory {
            return nil  // someone else took it
        }
        try syncDirectory(processing, .cannotClaim)
        return Claimed(origin: folder, name: name, path: processing.appending(target).string)
    }

    /// Files left in `processing/` by a previous run (recovery at start), with their origin from the
    /// `ORIGIN~` prefix (a file without one is taken as a command).
    public func leftInProcessing() -> [Claimed] {
        let processing = folderPath(.processing)
        return waiting(in: .processing).map { file in
            let parts = file.name.split(separator: "~", maxSplits: 1)
            if parts.count == 2, let origin = Folder(rawValue: String(parts[0])) {
                return Claimed(origin: origin, name: String(parts[1]), path: processing.appending(file.name).string)
            }
            return Claimed(origin: .commands, name: file.name, path: processing.appending(file.name).string)
        }
    }

    /// `.meta` files in `processing/` whose message is neither there nor waiting in its origin folder.
    public func orphanCompanions() -> [Claimed] {
        let names = Self.names(in: folderPath(.processing))
        return names.filter { $0.hasSuffix(".meta") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let base = Self.stem(name)
            let parts = base.split(separator: "~", maxSplits: 1)
            let origin = parts.count == 2 ? Folder(rawValue: String(parts[0])) ?? .inbox : .inbox
            let original = parts.count == 2 ? String(parts[1]) : base
            let inProcessing = names.contains { $0 != name && Self.stem($0) == base }
            let waiting = Self.names(in: folderPath(origin)).contains {
                Self.stem($0) == original && !$0.hasSuffix(".meta")
            }
            guard !inProcessing, !waiting else { return nil }
            return Claimed(origin: origin, name: name, path: folderPath(.processing).appending(name).string)
        }
    }

    /// An exclusive lock on the spool (`state/timebok.lock`), held while inputs are processed so two
    /// runs never take the same files. Released when the returned value is dropped.
    public func lock() throws -> SpoolLock {
        let lockPath = folderPath(.state).appending("timebok.lock")
        let fd: FileDescriptor
        do {
            fd = try retryingInterrupts { () throws(Errno) in
                try fs.open(
                    lockPath, .readWrite, [.create, .closeOnExec], FilePermissions(rawValue: Modes.privateFile))
            }
        } catch {
            throw Failure(.cannotLock, "Could not open \(lockPath): \(error).", error)
        }
        _ = try? systemCall { fchmod(fd.rawValue, Modes.privateFile) }
        do {
            try systemCall { flock(fd.rawValue, LOCK_EX | LOCK_NB) }
        } catch {
            try? fd.close()
            if error == .wouldBlock {
                throw Failure(
                    .busy,
                    "Another timebok is processing \(root) (\(lockPath) is locked); try again when it has finished.",
                    error)
            }
            throw Failure(.cannotLock, "Could not lock \(lockPath): \(error).", error)
        }
        return SpoolLock(fd: fd)
    }

    /// Writes a file durably into a folder without ever overwriting: `.NAME.<pid>.tmp`, fsync, link
    /// to NAME (fails if it exists), unlink the temporary, fsync the folder. Returns false when a
    /// file named NAME already exists with different content (never overwritten), true when written
    /// or already there byte-identical (recovery republishes safely).
    @discardableResult
    public func publish(_ bytes: [UInt8], to folder: Folder, name: String) throws -> Bool {
        try publish(bytes, into: folderPath(folder), name: name)
    }

    /// The same, into any folder of the spool (the configuration file, archive copies).
    @discardableResult
    public func publish(_ bytes: [UInt8], toDirectory directory: String, name: String) throws -> Bool {
        try publish(bytes, into: FilePath(directory), name: name)
    }

    /// ``publish(_:to:name:)``, where a file of that name with other content is a failure
    /// (``Failure/Code/nameTaken``) instead of false.
    public func publishIdentical(_ bytes: [UInt8], to folder: Folder, name: String) throws {
        guard try publish(bytes, to: folder, name: name) else {
            throw Failure(
                .nameTaken,
                "\(folderPath(folder).appending(name)) already exists with other content; it was not overwritten.")
        }
    }
}

/// Holds the spool's lock until it is dropped.
public final class SpoolLock: @unchecked Sendable {
    private let fd: FileDescriptor
    init(fd: FileDescriptor) { self.fd = fd }
    deinit { try? fd.close() }
}
