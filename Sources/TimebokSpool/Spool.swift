import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The spool's folders, and the file operations that make "nothing lost" hold: inputs are claimed by
/// rename, outputs published durably (temporary file, fsync, rename without overwriting, fsync of the
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
public struct Spool: Sendable {
    public enum Folder: String, Sendable, CaseIterable {
        case inbox, commands, outbox, journal, results, processing, archive, error, state
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        /// The `errno` behind it, when there is one.
        public var errorNumber: Int32?
        /// Another process holds the spool's lock (try again later).
        public var isBusy: Bool { errorNumber == EWOULDBLOCK }
        public init(description: String, errorNumber: Int32? = nil) {
            self.description = description
            self.errorNumber = errorNumber
        }
    }

    /// A file claimed for processing (moved into `processing/`).
    public struct Claimed: Sendable, Hashable {
        /// Where it came from (`inbox` or `commands`).
        public var origin: Folder
        public var name: String
        /// Its path in `processing/`.
        public var path: String

        /// Its transport metadata in `processing/` (`NAME.meta`), whether or not there is one.
        public var companionPath: String { (path as NSString).deletingPathExtension + ".meta" }
    }

    public let root: String
    /// The system calls that can fail under a full disk or a read-only remount; tests replace them.
    public let fs: FileSystemSeam

    public init(root: String, fileSystem: FileSystemSeam = .system) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.fs = fileSystem
    }

    /// The longest input name handled as it is: every internal name (`inbox~NAME`, `NAME.outputs`,
    /// `NAME.reason.txt`, `NAME-2`) then fits in a file system's 255 bytes. A longer one goes to
    /// `error/` under a safe name (``setAside(_:in:day:)``).
    public static let maxNameBytes = 200

    public func path(_ folder: Folder) -> String { root + "/" + folder.rawValue }
    public var databasePath: String { path(.state) + "/timebok.sqlite" }

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
            guard let entry = getgrnam(group) else { throw Failure(description: "There is no group \"\(group)\" on this machine (spool.group); create it first (groupadd \(group)).") }
            gid = entry.pointee.gr_gid
        }
        let mode = gid == nil ? Modes.folder : Modes.sharedFolder
        for directory in [root] + Folder.allCases.map(path) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let gid, chown(directory, uid_t.max, gid) != 0 {
                throw Failure(description: "Could not give \(directory) to group \(group ?? ""): \(String(cString: strerror(errno))). Run timebok init as the spool's owner, in that group.", errorNumber: errno)
            }
            guard chmod(directory, mode) == 0 else { throw Failure(description: "Could not set the mode of \(directory): \(String(cString: strerror(errno))).", errorNumber: errno) }
        }
    }

    /// Creates an empty file readable by its owner only (the database, before SQLite opens it, so
    /// that its WAL and shared-memory files, which SQLite creates with the database's mode, are too).
    public func createPrivateFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, Modes.privateFile)
        guard fd >= 0 else { throw Failure(description: "Could not create \(path): \(String(cString: strerror(errno))).", errorNumber: errno) }
        defer { close(fd) }
        guard fchmod(fd, Modes.privateFile) == 0 else { throw Failure(description: "Could not set the mode of \(path): \(String(cString: strerror(errno))).", errorNumber: errno) }
    }

    /// What in the spool other users could read or write, each as "PATH (MODE)"; empty when
    /// nothing: its folders, the database and its WAL files (any access by others), and
    /// `configuration` (writable by others; it holds no health data, and sits behind the folder).
    public func exposedToOthers(configuration: String) -> [String] {
        let database = databasePath
        let strict = [root] + Folder.allCases.map(path) + [database, database + "-wal", database + "-shm"]
        return (strict.map { ($0, mode_t(0o007)) } + [(root + "/" + configuration, mode_t(0o002))]).compactMap { path, forbidden in
            // stat, not lstat: a spool folder that is a symbolic link is judged by what it points to.
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            let mode = info.st_mode & 0o7777
            return mode & forbidden != 0 ? "\(path) (\(String(mode, radix: 8)))" : nil
        }
    }

    /// The folder mode and group new folders get: the spool folder's own (set by `createLayout`).
    private var folderModeAndGroup: (mode_t, gid_t)? {
        var info = stat()
        guard stat(root, &info) == 0 else { return nil }
        return (info.st_mode & 0o7777, info.st_gid)
    }

    /// True when the folder layout exists.
    public var exists: Bool {
        Folder.allCases.allSatisfy { FileManager.default.fileExists(atPath: path($0)) }
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
        let directory = path(folder)
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var raw: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { buffer in Array(buffer.prefix { $0 != 0 }) }
            raw.append(name)
        }
        var result: [Entry] = []
        for bytes in raw.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard bytes.first != UInt8(ascii: "."), !bytes.suffix(4).elementsEqual(".tmp".utf8), !bytes.suffix(5).elementsEqual(".meta".utf8) else { continue }
            var info = stat()
            let status = (Array(directory.utf8) + [UInt8(ascii: "/")] + bytes + [0]).withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { lstat($0, &info) }
            }
            guard status == 0 else { continue }
            let type = info.st_mode & S_IFMT
            let why: String?
            switch type {
            case S_IFREG: why = nil
            case S_IFLNK: why = "a symbolic link (never followed)"
            case S_IFIFO: why = "a FIFO"
            case S_IFDIR: why = "a folder"
            case S_IFSOCK: why = "a socket"
            default: why = "a device"
            }
            let name = String(validating: bytes, as: UTF8.self)
            if let why {
                result.append(.odd(OddEntry(rawName: bytes, why: why)))
            } else if name == nil {
                result.append(.odd(OddEntry(rawName: bytes, why: "a name that is not UTF-8")))
            } else if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                result.append(.odd(OddEntry(rawName: bytes, why: "a name with control characters (a new line, a tab …)")))
            } else if bytes.count > Self.maxNameBytes {
                result.append(.odd(OddEntry(rawName: bytes, why: "a name of \(bytes.count) bytes (at most \(Self.maxNameBytes))")))
            } else if let name {
                result.append(.file(name, Self.modificationDate(info), Int(info.st_size)))
            }
        }
        return result
    }

    /// Moves an odd entry (and nothing it points to) to `error/YYYY-MM-DD/` under a safe name
    /// (`odd-<hash>`), with a reason naming the original. Returns the new path.
    public func setAside(_ odd: OddEntry, in folder: Folder, day: String) throws -> String {
        let directory = path(.error) + "/" + day
        try createDurably(directory)
        // FNV-1a of the raw name: a stable, safe name (the original is in the reason).
        let hash = odd.rawName.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let safe = uniqueName("odd-" + String(hash, radix: 16), in: directory)
        let reason = "\(folder.rawValue)/\(odd.printableName) is \(odd.why), not an input timebok can read; it was moved here as \(safe), untouched.\n"
        _ = try publish(Array(reason.utf8), toDirectory: directory, name: safe + ".reason.txt")
        let from = Array(path(folder).utf8) + [UInt8(ascii: "/")] + odd.rawName + [0]
        let to = Array((directory + "/" + safe).utf8) + [0]
        // rename(2) moves the entry itself: a link stays a link, a FIFO is never opened.
        let status = from.withUnsafeBufferPointer { source in
            to.withUnsafeBufferPointer { target in
                source.baseAddress!.withMemoryRebound(to: CChar.self, capacity: source.count) { s in
                    target.baseAddress!.withMemoryRebound(to: CChar.self, capacity: target.count) { t in fs.rename(s, t) }
                }
            }
        }
        guard status == 0 else { throw Failure(description: "Could not move \(folder.rawValue)/\(odd.printableName) to \(directory)/\(safe): \(String(cString: strerror(errno))).", errorNumber: errno) }
        try syncDirectory(directory)
        try syncDirectory(path(folder))
        return directory + "/" + safe
    }

    /// Reads an input whole, unless it is larger than `limit`: then nothing is read (its size is
    /// taken from the open descriptor), and nil comes back with the size.
    public func read(_ claimed: Claimed, limit: Int) throws -> (bytes: [UInt8]?, size: Int) {
        let fd = open(claimed.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Failure(description: "Could not open \(claimed.path): \(String(cString: strerror(errno))).", errorNumber: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: "Could not stat \(claimed.path): \(String(cString: strerror(errno))).", errorNumber: errno) }
        let size = Int(info.st_size)
        guard size <= limit else { return (nil, size) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "Could not read \(claimed.path): \(String(cString: strerror(errno))).", errorNumber: errno)
            }
            if count == 0 { break }
            done += count
        }
        return (Array(bytes.prefix(done)), size)
    }

    /// Removes temporary files of timebok's own (`.NAME.<pid>.tmp`) that an interrupted run left in
    /// the folders only timebok writes (not `inbox/` or `commands/`, where producers write theirs).
    /// Returns how many.
    @discardableResult
    public func removeOwnLeftovers() -> Int {
        var removed = 0
        func sweep(_ directory: String) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let full = directory + "/" + name
                if name.hasPrefix("."), name.hasSuffix(".tmp"), name.wholeMatch(of: /\..+\.[0-9]+\.tmp/) != nil {
                    if unlink(full) == 0 { removed += 1 }
                }
            }
        }
        for folder in [Folder.outbox, .journal, .results, .state] { sweep(path(folder)) }
        sweep(root)
        for folder in [Folder.archive, .error] {
            for day in (try? FileManager.default.contentsOfDirectory(atPath: path(folder))) ?? [] {
                sweep(path(folder) + "/" + day)
                for sub in (try? FileManager.default.contentsOfDirectory(atPath: path(folder) + "/" + day)) ?? [] where sub.hasSuffix(".outputs") {
                    sweep(path(folder) + "/" + day + "/" + sub)
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
        let probe = path(folder) + "/.timebok-clock-" + String(getpid()) + ".tmp"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "Could not create \(probe) to read the file system's clock: \(String(cString: strerror(errno))).", errorNumber: errno) }
        defer {
            close(fd)
            unlink(probe)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: "Could not stat \(probe): \(String(cString: strerror(errno))).", errorNumber: errno) }
        return Self.modificationDate(info)
    }

    static func modificationDate(_ info: stat) -> Date {
        Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    /// Claims a waiting file by renaming it into `processing/` as `ORIGIN~NAME` (atomic: two claimers
    /// never both win; the prefix tells recovery where it came from).
    /// A companion (`NAME.meta` beside `NAME.xml`) is claimed first: a crash between the two leaves
    /// the `.meta` in `processing/` and the `.xml` waiting, and the next claim of the `.xml` finds it,
    /// so recovery always sees both or neither.
    public func claim(_ name: String, from folder: Folder, companion suffix: String? = nil) throws -> Claimed? {
        let target = uniqueName(folder.rawValue + "~" + name, in: path(.processing))
        if let suffix {
            let source = path(folder) + "/" + (name as NSString).deletingPathExtension + suffix
            let destination = path(.processing) + "/" + (target as NSString).deletingPathExtension + suffix
            if FileManager.default.fileExists(atPath: source), !FileManager.default.fileExists(atPath: destination) {
                try moveNoReplace(source, to: destination)
            }
        }
        do {
            try moveNoReplace(path(folder) + "/" + name, to: path(.processing) + "/" + target)
        } catch let failure as Failure where failure.errorNumber == ENOENT {
            return nil // someone else took it
        }
        try syncDirectory(path(.processing))
        return Claimed(origin: folder, name: name, path: path(.processing) + "/" + target)
    }

    /// Files left in `processing/` by a previous run (recovery at start), with their origin from the
    /// `ORIGIN~` prefix (a file without one is taken as a command).
    public func leftInProcessing() -> [Claimed] {
        waiting(in: .processing).map { file in
            let parts = file.name.split(separator: "~", maxSplits: 1)
            if parts.count == 2, let origin = Folder(rawValue: String(parts[0])) {
                return Claimed(origin: origin, name: String(parts[1]), path: path(.processing) + "/" + file.name)
            }
            return Claimed(origin: .commands, name: file.name, path: path(.processing) + "/" + file.name)
        }
    }

    /// `.meta` files in `processing/` whose message is neither there nor waiting in its origin folder.
    public func orphanCompanions() -> [Claimed] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path(.processing))) ?? []
        return names.filter { $0.hasSuffix(".meta") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let base = (name as NSString).deletingPathExtension
            let parts = base.split(separator: "~", maxSplits: 1)
            let origin = parts.count == 2 ? Folder(rawValue: String(parts[0])) ?? .inbox : .inbox
            let original = parts.count == 2 ? String(parts[1]) : base
            let inProcessing = names.contains { $0 != name && ($0 as NSString).deletingPathExtension == base }
            let waiting = ((try? FileManager.default.contentsOfDirectory(atPath: path(origin))) ?? []).contains { ($0 as NSString).deletingPathExtension == original && !$0.hasSuffix(".meta") }
            guard !inProcessing, !waiting else { return nil }
            return Claimed(origin: origin, name: name, path: path(.processing) + "/" + name)
        }
    }

    /// An exclusive lock on the spool (`state/timebok.lock`), held while inputs are processed so two
    /// runs never take the same files. Released when the returned value is dropped.
    public func lock() throws -> SpoolLock {
        let lockPath = path(.state) + "/timebok.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, Modes.privateFile)
        guard fd >= 0 else { throw Failure(description: "Could not open \(lockPath): \(String(cString: strerror(errno))).") }
        _ = fchmod(fd, Modes.privateFile)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "Another timebok is processing \(root) (\(lockPath) is locked); try again when it has finished.", errorNumber: error)
        }
        return SpoolLock(fd: fd)
    }

    /// Writes a file durably into a folder without ever overwriting: `.NAME.tmp`, fsync, link to
    /// NAME (fails if it exists), unlink the temporary, fsync the folder. Returns false when a file
    /// named NAME already exists with different content (never overwritten), true when written or
    /// already there byte-identical (recovery republishes safely).
    @discardableResult
    public func publish(_ bytes: [UInt8], to folder: Folder, name: String) throws -> Bool {
        try publish(bytes, toDirectory: path(folder), name: name)
    }

    /// The same, into any folder of the spool (the configuration file, archive copies).
    @discardableResult
    public func publish(_ bytes: [UInt8], toDirectory directory: String, name: String) throws -> Bool {
        let final = directory + "/" + name
        if let existing = FileManager.default.contents(atPath: final) {
            return [UInt8](existing) == bytes
        }
        let temporary = directory + "/." + name + "." + String(getpid()) + ".tmp"
        let fd = fs.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, Modes.file)
        guard fd >= 0 else { throw Failure(description: "Could not create \(temporary): \(String(cString: strerror(errno))).") }
        // Explicit, not left to the umask.
        guard fchmod(fd, Modes.file) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw Failure(description: "Could not set the mode of \(temporary): \(message).")
        }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { fs.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                unlink(temporary)
                throw Failure(description: "Could not write \(temporary): \(String(cString: strerror(error))).", errorNumber: error)
            }
            written += result
        }
        guard fs.fsync(fd) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw Failure(description: "Could not fsync \(temporary): \(message).")
        }
        close(fd)
        // link(2) fails with EEXIST instead of replacing: nothing is ever overwritten.
        if fs.link(temporary, final) != 0 {
            let error = errno
            unlink(temporary)
            if error == EEXIST, let existing = FileManager.default.contents(atPath: final) { return [UInt8](existing) == bytes }
            throw Failure(description: "Could not publish \(final): \(String(cString: strerror(error))).")
        }
        unlink(temporary)
        try syncDirectory(directory)
        return true
    }

    /// Moves a processed input into `archive/YYYY-MM-DD/` together with copies of its outputs
    /// (`NAME.outputs/`), so operators see what each input caused.
    public func archive(_ claimed: Claimed, day: String, outputs: [(folder: String, name: String, bytes: [UInt8])]) throws -> String {
        let directory = path(.archive) + "/" + day
        try createDurably(directory)
        let name = resumedName(claimed, in: directory, marker: ".outputs")
        if let done = try finishHalfDoneMove(claimed, to: directory + "/" + name) { return done }
        // Outputs whose bytes retention already forgot (a late duplicate of an old input) are not copied.
        let outputs = outputs.filter { !$0.bytes.isEmpty }
        if !outputs.isEmpty {
            let copies = directory + "/" + name + ".outputs"
            try createDurably(copies)
            for output in outputs {
                _ = try publish(output.bytes, toDirectory: copies, name: output.folder + "-" + output.name)
            }
        }
        try moveCompanion(of: claimed, besides: directory + "/" + name)
        try move(claimed.path, to: directory + "/" + name)
        return directory + "/" + name
    }

    /// The name an input gets in a day folder: its own, unless taken by something else. After a
    /// crash the day folder may already hold this input's `NAME.outputs/` or `NAME.reason.txt`
    /// (written before the move), or the input itself (linked, not yet unlinked): the same name is
    /// taken up again, never `NAME-2`.
    private func resumedName(_ claimed: Claimed, in directory: String, marker: String) -> String {
        let base = directory + "/" + claimed.name
        if sameFile(base, claimed.path) { return claimed.name }
        if !FileManager.default.fileExists(atPath: base), FileManager.default.fileExists(atPath: base + marker) { return claimed.name }
        return uniqueName(claimed.name, in: directory)
    }

    /// When a crash came between link and unlink of the move, the input is already at `target`:
    /// finish the move (unlink the claimed name) and return the target.
    private func finishHalfDoneMove(_ claimed: Claimed, to target: String) throws -> String? {
        guard sameFile(target, claimed.path) else { return nil }
        try moveCompanion(of: claimed, besides: target)
        guard fs.unlink(claimed.path) == 0 else { throw Failure(description: "Could not remove \(claimed.path): \(String(cString: strerror(errno))).", errorNumber: errno) }
        try syncDirectory(path(.processing))
        return target
    }

    private func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        return lstat(a, &first) == 0 && lstat(b, &second) == 0 && first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// Moves the input's `.meta` (when it has one) beside where the input goes, before the input:
    /// a crash between the two never leaves a `.meta` behind in `processing/` for ever.
    private func moveCompanion(of claimed: Claimed, besides target: String) throws {
        let source = claimed.companionPath
        let destination = (target as NSString).deletingPathExtension + ".meta"
        guard source != claimed.path, FileManager.default.fileExists(atPath: source) else { return }
        if sameFile(source, destination) {
            _ = fs.unlink(source)
            return
        }
        try move(source, to: destination)
    }


    /// Moves an input that could not be processed into `error/YYYY-MM-DD/` with `NAME.reason.txt`.
    public func quarantine(_ claimed: Claimed, day: String, reason: String) throws -> String {
        let directory = path(.error) + "/" + day
        try createDurably(directory)
        let name = resumedName(claimed, in: directory, marker: ".reason.txt")
        if let done = try finishHalfDoneMove(claimed, to: directory + "/" + name) { return done }
        _ = try publish(Array((reason.hasSuffix("\n") ? reason : reason + "\n").utf8), toDirectory: directory, name: name + ".reason.txt")
        try moveCompanion(of: claimed, besides: directory + "/" + name)
        try move(claimed.path, to: directory + "/" + name)
        return directory + "/" + name
    }

    /// Appends a line to a log file in `state/` (0640), synced: operators read what was done there.
    public func appendLog(_ line: String, name: String) throws {
        let file = path(.state) + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, Modes.file)
        guard fd >= 0 else { throw Failure(description: "Could not open \(file): \(String(cString: strerror(errno))).", errorNumber: errno) }
        defer { close(fd) }
        _ = fchmod(fd, Modes.file)
        let bytes = Array(line.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "Could not write \(file): \(String(cString: strerror(errno))).", errorNumber: errno)
            }
            written += result
        }
        guard fsync(fd) == 0 else { throw Failure(description: "Could not fsync \(file): \(String(cString: strerror(errno))).", errorNumber: errno) }
    }

    /// The day folders (`YYYY-MM-DD`) of `archive/` or `error/` dated before `day`, oldest first.
    public func dayFolders(in folder: Folder, before day: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path(folder))) ?? []
        return names.filter { $0.count == 10 && $0.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil && $0 < day }.sorted()
    }

    /// Removes a day folder of `archive/` or `error/` with everything in it, then syncs the parent.
    public func removeDayFolder(_ name: String, in folder: Folder) throws {
        guard folder == .archive || folder == .error, name.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil else {
            throw Failure(description: "\(folder.rawValue)/\(name) is not a day folder; nothing removed.")
        }
        try FileManager.default.removeItem(atPath: path(folder) + "/" + name)
        try syncDirectory(path(folder))
    }

    private func move(_ from: String, to target: String) throws {
        try moveNoReplace(from, to: target)
        // An input another user wrote may have any mode; in the archive it is 0640 like everything
        // else (best effort: a file that is not ours keeps its mode, behind the 0750 folders).
        _ = chmod(target, Modes.file)
        try syncDirectory((target as NSString).deletingLastPathComponent)
        try syncDirectory((from as NSString).deletingLastPathComponent)
    }

    /// rename(2) that never replaces an existing file: link the new name (fails with EEXIST), then
    /// unlink the old one. Both names are in the spool, on one file system.
    func moveNoReplace(_ from: String, to target: String) throws {
        guard fs.link(from, target) == 0 else {
            let error = errno
            throw Failure(description: "Could not move \(from) to \(target): \(String(cString: strerror(error))).", errorNumber: error)
        }
        guard fs.unlink(from) == 0 else {
            let error = errno
            throw Failure(description: "Could not remove \(from) after linking it to \(target): \(String(cString: strerror(error))).", errorNumber: error)
        }
    }

    /// Creates a folder (and its parents) and fsyncs each parent, so a new day folder survives a power loss.
    func createDurably(_ directory: String) throws {
        guard !FileManager.default.fileExists(atPath: directory) else { return }
        var missing: [String] = []
        var cursor = directory
        while cursor.count > root.count, !FileManager.default.fileExists(atPath: cursor) {
            missing.insert(cursor, at: 0)
            cursor = (cursor as NSString).deletingLastPathComponent
        }
        for folder in missing where fs.mkdir(folder, Modes.folder) != 0 && errno != EEXIST {
            throw Failure(description: "Could not create the folder \(folder): \(String(cString: strerror(errno))).", errorNumber: errno)
        }
        // The same mode and group as the spool folder, whatever the umask.
        if let (mode, gid) = folderModeAndGroup {
            var created = directory
            while created.count > root.count {
                _ = chown(created, uid_t.max, gid)
                guard chmod(created, mode) == 0 else { throw Failure(description: "Could not set the mode of \(created): \(String(cString: strerror(errno))).", errorNumber: errno) }
                created = (created as NSString).deletingLastPathComponent
            }
        }
        var parent = (directory as NSString).deletingLastPathComponent
        while parent.count >= root.count {
            try syncDirectory(parent)
            if parent == root { break }
            parent = (parent as NSString).deletingLastPathComponent
        }
    }

    /// A name not yet used in `directory`: NAME, else NAME-2, NAME-3 … before the extension.
    func uniqueName(_ name: String, in directory: String) -> String {
        func taken(_ candidate: String) -> Bool {
            FileManager.default.fileExists(atPath: directory + "/" + candidate) || FileManager.default.fileExists(atPath: directory + "/" + candidate + ".reason.txt")
                || FileManager.default.fileExists(atPath: directory + "/" + candidate + ".outputs")
        }
        guard taken(name) else { return name }
        let base = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        var counter = 2
        while true {
            let candidate = ext.isEmpty ? "\(base)-\(counter)" : "\(base)-\(counter).\(ext)"
            if !taken(candidate) { return candidate }
            counter += 1
        }
    }

    func syncDirectory(_ directory: String) throws {
        let fd = fs.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw Failure(description: "Could not open folder \(directory): \(String(cString: strerror(errno))).", errorNumber: errno) }
        defer { close(fd) }
        guard fs.fsync(fd) == 0 else { throw Failure(description: "Could not fsync folder \(directory): \(String(cString: strerror(errno))).", errorNumber: errno) }
    }
}

/// Holds the spool's lock until it is dropped.
public final class SpoolLock: @unchecked Sendable {
    private let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
