import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

// Publishing, archiving, quarantine and the spool's own files: every step that changes the file
// system goes through the seam, and each can be repeated after a failure at any step.
extension Spool {
    func publish(_ bytes: [UInt8], into directory: FilePath, name: String) throws -> Bool {
        let final = directory.appending(name)
        let temporary = directory.appending("." + name + "." + String(getpid()) + ".tmp")
        if let existing = Self.contents(of: final) {
            guard existing == bytes else { return false }
            // An earlier attempt may have failed after its link: finish what it left undone.
            if Self.entryExists(temporary) {
                do throws(Errno) {
                    try retryingInterrupts { () throws(Errno) in try fs.unlink(temporary) }
                } catch {
                    throw Failure(.cannotPublish, "Could not remove the temporary file \(temporary): \(error).", error)
                }
            }
            try syncDirectory(directory, .cannotPublish)
            return true
        }
        try writeTemporary(bytes, to: temporary, sync: true)
        // link(2) fails with EEXIST instead of replacing: nothing is ever overwritten.
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.link(temporary, final) }
        } catch {
            try? retryingInterrupts { () throws(Errno) in try fs.unlink(temporary) }
            if error == .fileExists, let existing = Self.contents(of: final) { return existing == bytes }
            throw Failure(.cannotPublish, "Could not publish \(final): \(error).", error)
        }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.unlink(temporary) }
        } catch {
            throw Failure(
                .cannotPublish,
                "Could not remove the temporary file \(temporary) after linking it to \(final): \(error).", error)
        }
        try syncDirectory(directory, .cannotPublish)
        return true
    }

    /// Writes `bytes` to a new temporary file (mode 0640, not left to the umask), synced when `sync`
    /// is true (a batch syncs all of its temporaries at once instead); removed again on failure.
    func writeTemporary(_ bytes: [UInt8], to temporary: FilePath, sync: Bool) throws {
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try retryingInterrupts { () throws(Errno) in
                // Never through a link someone put in its place.
                try fs.open(
                    temporary, .writeOnly, [.create, .truncate, .closeOnExec, .noFollow],
                    FilePermissions(rawValue: Modes.file))
            }
        } catch {
            throw Failure(.cannotPublish, "Could not create \(temporary): \(error).", error)
        }
        var step = "set the mode of"
        do throws(Errno) {
            try systemCall { fchmod(fd.rawValue, Modes.file) }
            step = "write"
            try writeAll(bytes, to: fd)
            if sync {
                step = "fsync"
                try retryingInterrupts { () throws(Errno) in try fs.fsync(fd) }
            }
            step = "close"
            try closing(fd)
        } catch {
            if step != "close" { try? fd.close() }
            try? retryingInterrupts { () throws(Errno) in try fs.unlink(temporary) }
            throw Failure(.cannotPublish, "Could not \(step) \(temporary): \(error).", error)
        }
    }

    /// Moves a processed input into `archive/YYYY-MM-DD/` together with copies of its outputs
    /// (`NAME.outputs/`), so operators see what each input caused.
    public func archive(
        _ claimed: Claimed, day: String, outputs: [(folder: String, name: String, bytes: [UInt8])]
    ) throws -> String {
        let directory = folderPath(.archive).appending(day)
        try createDurably(directory)
        let (name, linked) = resumedName(claimed, in: directory, marker: ".outputs")
        let target = directory.appending(name)
        if linked, let done = try finishHalfDoneMove(claimed, to: target, .cannotArchive) { return done }
        // Each output once on disk: the archive's copy is a hard link to the published file (it
        // survives the transport removing its outbox entry). When that file is gone already, its
        // bytes are written instead; outputs whose bytes the ledger no longer keeps (a late
        // duplicate, whose outputs went to the archive with the first delivery) are not copied.
        let outputs = outputs.filter {
            !$0.bytes.isEmpty || Self.exists(rootPath.appending($0.folder).appending($0.name))
        }
        if !outputs.isEmpty {
            let copies = directory.appending(name + ".outputs")
            try createDurably(copies)
            for output in outputs {
                try keepCopy(of: output, in: copies)
            }
        }
        try moveCompanion(of: claimed, besides: target, .cannotArchive)
        try move(FilePath(claimed.path), to: target, .cannotArchive)
        return target.string
    }

    /// The archive's copy of one output: a link to the published file when it is still there with
    /// the recorded bytes, else a copy of the bytes.
    private func keepCopy(of output: (folder: String, name: String, bytes: [UInt8]), in copies: FilePath) throws {
        let published = rootPath.appending(output.folder).appending(output.name)
        let copy = copies.appending(output.folder + "-" + output.name)
        if let info = try? published.stat(followTargetSymlink: false), info.type == .regular,
            output.bytes.isEmpty || Int(info.size) == output.bytes.count
        {
            var linked = false
            do throws(Errno) {
                try retryingInterrupts { () throws(Errno) in try fs.link(published, copy) }
                linked = true
            } catch {
                // Linked by an earlier attempt: done. Else consumed between the look and the link, a
                // copy of an earlier attempt (fine when identical), or a link the file system refuses
                // (another mount, protected hard links): the bytes are copied below instead.
                if error == .fileExists, Self.sameFile(published, copy) {
                    return try syncDirectory(copies, .cannotArchive)
                }
            }
            if linked { return try syncDirectory(copies, .cannotArchive) }
        } else if Self.sameFile(published, copy) {
            return
        }
        guard !output.bytes.isEmpty else { return }
        guard try publish(output.bytes, into: copies, name: output.folder + "-" + output.name) else {
            throw Failure(.nameTaken, "\(copy) already exists with other content; it was not overwritten.")
        }
    }

    /// Moves an input that could not be processed into `error/YYYY-MM-DD/` with `NAME.reason.txt`.
    public func quarantine(_ claimed: Claimed, day: String, reason: String) throws -> String {
        let directory = folderPath(.error).appending(day)
        try createDurably(directory)
        let (name, linked) = resumedName(claimed, in: directory, marker: ".reason.txt")
        let target = directory.appending(name)
        if linked, let done = try finishHalfDoneMove(claimed, to: target, .cannotQuarantine) { return done }
        _ = try publish(
            Array((reason.hasSuffix("\n") ? reason : reason + "\n").utf8), into: directory, name: name + ".reason.txt")
        try moveCompanion(of: claimed, besides: target, .cannotQuarantine)
        try move(FilePath(claimed.path), to: target, .cannotQuarantine)
        return target.string
    }

    /// The name an input gets in a day folder: its own, unless taken by something else, then NAME-2,
    /// NAME-3 … After a crash the day folder may already hold this input's `NAME.outputs/` or
    /// `NAME.reason.txt` (written before the move), or the input itself (linked, not yet unlinked),
    /// under whichever of those names the earlier attempt took: that name is taken up again, never
    /// the next one. `linked`: the input is at that name already. One look at each name (the common
    /// case, nothing there, is three lstat calls: this runs for every input).
    private func resumedName(
        _ claimed: Claimed, in directory: FilePath, marker: String
    ) -> (name: String, linked: Bool) {
        let input = try? FilePath(claimed.path).stat(followTargetSymlink: false)
        let other = marker == ".outputs" ? ".reason.txt" : ".outputs"
        for candidate in Self.candidateNames(claimed.name) {
            if let there = try? directory.appending(candidate).stat(followTargetSymlink: false) {
                if let input, there.deviceID == input.deviceID, there.inode == input.inode { return (candidate, true) }
                continue
            }
            // What this input's earlier attempt wrote before its move: a folder of outputs, a reason.
            let written = try? directory.appending(candidate + marker).stat(followTargetSymlink: false)
            if let written, written.type == (marker == ".outputs" ? .directory : .regular) { return (candidate, false) }
            if written == nil, !Self.entryExists(directory.appending(candidate + other)) { return (candidate, false) }
        }
        preconditionFailure("candidateNames(_:) never ends")
    }

    /// When a failure came between link and unlink of the move, the input is already at `target`:
    /// finish the move (unlink the claimed name, sync both folders) and return the target.
    private func finishHalfDoneMove(_ claimed: Claimed, to target: FilePath, _ code: Failure.Code) throws -> String? {
        let source = FilePath(claimed.path)
        guard Self.sameFile(target, source) else { return nil }
        try moveCompanion(of: claimed, besides: target, code)
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.unlink(source) }
        } catch {
            throw Failure(code, "Could not remove \(source) after linking it to \(target): \(error).", error)
        }
        try syncDirectory(target.removingLastComponent(), code)
        try syncDirectory(source.removingLastComponent(), code)
        return target.string
    }

    /// Moves the input's `.meta` (when it has one) beside where the input goes, before the input:
    /// a crash between the two never leaves a `.meta` behind in `processing/` for ever.
    private func moveCompanion(of claimed: Claimed, besides target: FilePath, _ code: Failure.Code) throws {
        let source = FilePath(claimed.companionPath)
        let destination = Self.companion(of: target, suffix: ".meta")
        guard source != FilePath(claimed.path), Self.exists(source) else { return }
        do {
            try move(source, to: destination, code)
        } catch let failure as Failure where failure.systemError == .fileExists && Self.sameFile(source, destination) {
            // Linked before a failure, not yet unlinked.
            do throws(Errno) {
                try retryingInterrupts { () throws(Errno) in try fs.unlink(source) }
            } catch {
                throw Failure(code, "Could not remove \(source) after linking it to \(destination): \(error).", error)
            }
        }
    }

    /// Appends a line to a log file in `state/` (0640), synced: operators read what was done there.
    public func appendLog(_ line: String, name: String) throws {
        let file = folderPath(.state).appending(name)
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try retryingInterrupts { () throws(Errno) in
                try fs.open(file, .writeOnly, [.create, .append, .closeOnExec], FilePermissions(rawValue: Modes.file))
            }
        } catch {
            throw Failure(.cannotWrite, "Could not open \(file): \(error).", error)
        }
        _ = try? systemCall { fchmod(fd.rawValue, Modes.file) }
        var step = "write"
        do throws(Errno) {
            try writeAll(Array(line.utf8), to: fd)
            step = "fsync"
            try retryingInterrupts { () throws(Errno) in try fs.fsync(fd) }
            step = "close"
            try closing(fd)
        } catch {
            if step != "close" { try? fd.close() }
            throw Failure(.cannotWrite, "Could not \(step) \(file): \(error).", error)
        }
    }

    /// The day folders (`YYYY-MM-DD`) of `archive/` or `error/` dated before `day`, oldest first.
    public func dayFolders(in folder: Folder, before day: String) -> [String] {
        Self.names(in: folderPath(folder)).filter {
            $0.count == 10 && $0.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil && $0 < day
        }.sorted()
    }

    /// Removes a day folder of `archive/` or `error/` with everything in it, then syncs the parent.
    public func removeDayFolder(_ name: String, in folder: Folder) throws {
        guard folder == .archive || folder == .error, name.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil else {
            throw Failure(.cannotRemove, "\(folder.rawValue)/\(name) is not a day folder; nothing removed.")
        }
        let directory = folderPath(folder).appending(name)
        do throws(Errno) {
            try removeTree(directory)
        } catch {
            throw Failure(.cannotRemove, "Could not remove \(directory) with everything in it: \(error).", error)
        }
        try syncDirectory(folderPath(folder), .cannotRemove)
    }

    /// Removes a file, or a folder with everything in it; a symbolic link is removed, never followed.
    private func removeTree(_ path: FilePath) throws(Errno) {
        if try Stat(path, followTargetSymlink: false).type == .directory {
            for name in Self.rawNames(in: path) { try removeTree(Self.child(path, name)) }
            try retryingInterrupts { () throws(Errno) in try fs.rmdir(path) }
        } else {
            try retryingInterrupts { () throws(Errno) in try fs.unlink(path) }
        }
    }

    private func move(_ from: FilePath, to target: FilePath, _ code: Failure.Code) throws {
        try moveNoReplace(from, to: target, code)
        // An input another user wrote may have any mode; in the archive it is 0640 like everything
        // else (best effort: a file that is not ours keeps its mode, behind the 0750 folders).
        _ = try? systemCall { target.withPlatformString { chmod($0, Modes.file) } }
        try syncDirectory(target.removingLastComponent(), code)
        try syncDirectory(from.removingLastComponent(), code)
    }

    /// rename(2) that never replaces an existing file (fails with EEXIST): renameat2 with
    /// RENAME_NOREPLACE, one step; where the file system has no such flag, link the new name, then
    /// unlink the old one (a crash between them leaves both, which the next pass finishes). Both
    /// names are in the spool, on one file system.
    func moveNoReplace(_ from: FilePath, to target: FilePath, _ code: Failure.Code) throws {
        do throws(Errno) {
            if try renamedWithoutReplacing(from, to: target) { return }
        } catch {
            throw Failure(code, "Could not move \(from) to \(target): \(error).", error)
        }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.link(from, target) }
        } catch {
            throw Failure(code, "Could not move \(from) to \(target): \(error).", error)
        }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.unlink(from) }
        } catch {
            throw Failure(code, "Could not remove \(from) after linking it to \(target): \(error).", error)
        }
    }

    /// renameat2 with RENAME_NOREPLACE (fails with EEXIST when `target` exists); false, with
    /// nothing done, where the file system has no such flag (EINVAL; ENOSYS in some sandboxes).
    func renamedWithoutReplacing(_ from: FilePath, to target: FilePath) throws(Errno) -> Bool {
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.renameNoReplace(from, target) }
            return true
        } catch  where error == .invalidArgument || error == .noFunction {
            return false
        }
    }

    /// Creates a folder (and its parents inside the spool) and fsyncs each parent, so a new day
    /// folder survives a power loss. When a step after mkdir fails, the new folders are removed
    /// again, so that the next attempt creates and syncs them instead of finding them unsynced.
    func createDurably(_ directory: FilePath) throws {
        guard !Self.exists(directory) else { return }
        var missing: [FilePath] = []
        var cursor = directory
        // The folder itself was looked at just now; each parent is looked at once.
        while cursor != rootPath, isInsideRoot(cursor), cursor == directory || !Self.exists(cursor) {
            missing.insert(cursor, at: 0)
            cursor.removeLastComponent()
        }
        var created: [FilePath] = []
        do {
            for folder in missing {
                do throws(Errno) {
                    try retryingInterrupts { () throws(Errno) in
                        try fs.mkdir(folder, FilePermissions(rawValue: Modes.folder))
                    }
                    created.append(folder)
                } catch .fileExists {
                    continue
                } catch {
                    throw Failure(.cannotCreateFolder, "Could not create the folder \(folder): \(error).", error)
                }
            }
            // The same mode and group as the spool folder, whatever the umask (for the folders
            // created here; those that were there keep theirs).
            if let (mode, gid) = folderModeAndGroup {
                for folder in created {
                    _ = try? systemCall { folder.withPlatformString { chown($0, uid_t.max, gid) } }
                    do throws(Errno) {
                        try systemCall { folder.withPlatformString { chmod($0, mode) } }
                    } catch {
                        throw Failure(.cannotCreateFolder, "Could not set the mode of \(folder): \(error).", error)
                    }
                }
            }
            var parent = directory.removingLastComponent()
            while isInsideRoot(parent) {
                try syncDirectory(parent, .cannotCreateFolder)
                if parent == rootPath { break }
                parent.removeLastComponent()
            }
        } catch {
            for folder in created.reversed() { try? retryingInterrupts { () throws(Errno) in try fs.rmdir(folder) } }
            throw error
        }
    }

    /// A name not yet used in `directory`: NAME, else NAME-2, NAME-3 … before the extension; a name
    /// is taken too when one of the files that go `besides` an input of that name is there.
    func uniqueName(
        _ name: String, in directory: FilePath, besides markers: [String] = [".reason.txt", ".outputs"]
    ) -> String {
        func taken(_ candidate: String) -> Bool {
            Self.entryExists(directory.appending(candidate))
                || markers.contains { Self.entryExists(directory.appending(candidate + $0)) }
        }
        return Self.candidateNames(name).first { !taken($0) }!
    }

    /// NAME, NAME-2, NAME-3 … (the counter before the extension), without end.
    static func candidateNames(_ name: String) -> some Sequence<String> {
        let base = stem(name)
        let ext = FilePath.Component(name)?.extension ?? ""
        return sequence(state: 1) { (counter: inout Int) -> String? in
            defer { counter += 1 }
            guard counter > 1 else { return name }
            return ext.isEmpty ? "\(base)-\(counter)" : "\(base)-\(counter).\(ext)"
        }
    }

    func syncDirectory(_ folder: @autoclosure () -> FilePath, _ code: Failure.Code) throws {
        // In a batch, the batch's syncfs makes this name durable together with all the others
        // (and the folder's path, often a parent worked out from a file's, is not even made).
        guard !batchState.active else {
            batchState.markDirty()
            return
        }
        let directory = folder()
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try retryingInterrupts { () throws(Errno) in
                try fs.open(directory, .readOnly, [.directory, .closeOnExec], nil)
            }
        } catch {
            throw Failure(code, "Could not open the folder \(directory) to fsync it: \(error).", error)
        }
        defer { try? fd.close() }
        do throws(Errno) {
            try retryingInterrupts { () throws(Errno) in try fs.fsync(fd) }
        } catch {
            throw Failure(code, "Could not fsync the folder \(directory): \(error).", error)
        }
    }

    /// Writes all of `bytes` through the seam (a write may take fewer than it is given).
    func writeAll(_ bytes: [UInt8], to fd: FileDescriptor) throws(Errno) {
        let result: Result<Void, Errno> = bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                do throws(Errno) {
                    written += try retryingInterrupts { () throws(Errno) in
                        try fs.write(fd, UnsafeRawBufferPointer(rebasing: buffer[written...]))
                    }
                } catch {
                    return .failure(error)
                }
            }
            return .success(())
        }
        try result.get()
    }

    /// close(2), not retried (on Linux the descriptor is gone even when close reports EINTR).
    func closing(_ fd: FileDescriptor) throws(Errno) {
        do { try fd.close() } catch { throw error as? Errno ?? .ioError }
    }
}

// Reading paths: no seam (reads change nothing), EINTR retried by swift-system.
extension Spool {
    /// The names in a folder as the directory holds them (readdir: bytes, not always UTF-8),
    /// without `.` and `..`; none when it cannot be read.
    static func rawNames(in directory: FilePath) -> [[UInt8]] {
        guard let fd = try? FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec]) else {
            return []
        }
        guard let handle = fdopendir(fd.rawValue) else {
            try? fd.close()
            return []
        }
        defer { closedir(handle) }  // closes fd too
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { buffer in Array(buffer.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names
    }

    /// The names in a folder that are UTF-8 (the others are never timebok's own).
    static func names(in directory: FilePath) -> [String] {
        rawNames(in: directory).compactMap { String(validating: $0, as: UTF8.self) }
    }

    /// `directory/name` for a name of raw bytes.
    static func child(_ directory: FilePath, _ name: [UInt8]) -> FilePath {
        let component = (name + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { FilePath(platformString: $0.baseAddress!) }
        }
        return directory.pushing(component)
    }

    /// NAME without its extension (`reserve` for `reserve.xml`).
    static func stem(_ name: String) -> String { FilePath.Component(name)?.stem ?? name }

    /// Whether `path` is the spool's root or below it, compared as text: FilePath's own
    /// `starts(with:)` parses both paths into components each time, which a folder created per
    /// archived input paid for.
    func isInsideRoot(_ path: FilePath) -> Bool {
        let root = rootPath.string
        let text = path.string
        return text == root || root == "/"
            || (text.hasPrefix(root) && text.utf8.dropFirst(root.utf8.count).first == UInt8(ascii: "/"))
    }

    /// `DIR/STEM<suffix>` beside `path` (`x.meta` beside `x.xml`).
    static func companion(of path: FilePath, suffix: String) -> FilePath {
        guard let last = path.lastComponent else { return path }
        return path.removingLastComponent().appending(last.stem + suffix)
    }

    /// ``companion(of:suffix:)`` for a path given as text, parsing only its last component (a
    /// claimed input's `.meta` is asked for at every step of its batch).
    static func companion(ofPath path: String, suffix: String) -> String {
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else {
            return companion(of: FilePath(path), suffix: suffix).string
        }
        return String(path[...slash]) + stem(String(path[path.index(after: slash)...])) + suffix
    }

    /// Whether something is at `path`, following a symbolic link (like `test -e`).
    static func exists(_ path: FilePath) -> Bool { (try? path.stat()) != nil }

    /// Whether the name is taken, by anything (a dangling link too).
    static func entryExists(_ path: FilePath) -> Bool { (try? path.stat(followTargetSymlink: false)) != nil }

    static func sameFile(_ a: FilePath, _ b: FilePath) -> Bool {
        guard let first = try? a.stat(followTargetSymlink: false), let second = try? b.stat(followTargetSymlink: false)
        else { return false }
        return first.deviceID == second.deviceID && first.inode == second.inode
    }

    /// A file's bytes, or nil when it cannot be read (absent, a folder …).
    static func contents(of path: FilePath) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(path, .readOnly, options: [.closeOnExec]) else { return nil }
        return try? fd.closeAfter {
            var result: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
                if count == 0 { return result }
                result += chunk.prefix(count)
            }
        }
    }
}
