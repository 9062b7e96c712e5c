import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The calls of the spool that change the file system, which a full disk, a read-only remount or a
/// crash can interrupt: claim, publish, archive, quarantine, retention and the spool's own files go
/// through these, so a test can make any one of them fail and check that the next pass finishes
/// the work exactly once.
///
/// Each entry makes one attempt and throws the `Errno` it got. The spool itself retries a call that
/// throws `Errno.interrupted` (EINTR), so a test seam may throw that too. Reads (stat, read, listing
/// a folder) do not go through the seam.
public struct FileSystemSeam: Sendable {
    /// open(2): a file to create or append to, or a folder to fsync.
    public var open:
        @Sendable (
            _ path: FilePath, _ mode: FileDescriptor.AccessMode, _ options: FileDescriptor.OpenOptions,
            _ permissions: FilePermissions?
        ) throws(Errno) -> FileDescriptor
    /// write(2): returns how many bytes were written (possibly fewer than given).
    public var write: @Sendable (_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int
    /// fsync(2), of a file or of a folder.
    public var fsync: @Sendable (_ fd: FileDescriptor) throws(Errno) -> Void
    /// link(2): never replaces an existing name (EEXIST).
    public var link: @Sendable (_ from: FilePath, _ to: FilePath) throws(Errno) -> Void
    /// unlink(2).
    public var unlink: @Sendable (_ path: FilePath) throws(Errno) -> Void
    /// rename(2).
    public var rename: @Sendable (_ from: FilePath, _ to: FilePath) throws(Errno) -> Void
    /// mkdir(2).
    public var mkdir: @Sendable (_ path: FilePath, _ permissions: FilePermissions) throws(Errno) -> Void
    /// rmdir(2).
    public var rmdir: @Sendable (_ path: FilePath) throws(Errno) -> Void
    /// syncfs(2): everything written to the file system that holds `fd` (data and names) made
    /// durable in one call; a batch's outputs use it instead of one fsync per file and folder.
    public var syncfs: @Sendable (_ fd: FileDescriptor) throws(Errno) -> Void
    /// renameat2(2) with RENAME_NOREPLACE: the old name goes and the new one appears in one step,
    /// and an existing new name is never replaced (EEXIST); EINVAL where the file system cannot.
    public var renameNoReplace: @Sendable (_ from: FilePath, _ to: FilePath) throws(Errno) -> Void

    public init(
        open:
            @escaping @Sendable (FilePath, FileDescriptor.AccessMode, FileDescriptor.OpenOptions, FilePermissions?)
            throws(Errno) -> FileDescriptor,
        write: @escaping @Sendable (FileDescriptor, UnsafeRawBufferPointer) throws(Errno) -> Int,
        fsync: @escaping @Sendable (FileDescriptor) throws(Errno) -> Void,
        link: @escaping @Sendable (FilePath, FilePath) throws(Errno) -> Void,
        unlink: @escaping @Sendable (FilePath) throws(Errno) -> Void,
        rename: @escaping @Sendable (FilePath, FilePath) throws(Errno) -> Void,
        mkdir: @escaping @Sendable (FilePath, FilePermissions) throws(Errno) -> Void,
        rmdir: @escaping @Sendable (FilePath) throws(Errno) -> Void,
        syncfs: @escaping @Sendable (FileDescriptor) throws(Errno) -> Void = systemSyncfs,
        renameNoReplace: @escaping @Sendable (FilePath, FilePath) throws(Errno) -> Void = systemRenameNoReplace
    ) {
        self.open = open
        self.write = write
        self.fsync = fsync
        self.link = link
        self.unlink = unlink
        self.rename = rename
        self.mkdir = mkdir
        self.rmdir = rmdir
        self.syncfs = syncfs
        self.renameNoReplace = renameNoReplace
    }

    /// The real renameat2(2) with RENAME_NOREPLACE, one attempt.
    public static let systemRenameNoReplace: @Sendable (FilePath, FilePath) throws(Errno) -> Void = {
        from, to throws(Errno) in
        _ = try systemCall(retryOnInterrupt: false) {
            from.withPlatformString { a in
                to.withPlatformString { b in
                    linuxRenameat2(atCurrentDirectory, a, atCurrentDirectory, b, renameNoReplaceFlag)
                }
            }
        }
    }

    /// The real syncfs(2), one attempt.
    public static let systemSyncfs: @Sendable (FileDescriptor) throws(Errno) -> Void = { fd throws(Errno) in
        _ = try systemCall(retryOnInterrupt: false) { linuxSyncfs(fd.rawValue) }
    }

    /// The real system calls, one attempt each (the spool retries EINTR).
    public static let system = FileSystemSeam(
        open: { path, mode, options, permissions throws(Errno) in
            do {
                return try FileDescriptor.open(
                    path, mode, options: options, permissions: permissions, retryOnInterrupt: false)
            } catch { throw error as? Errno ?? .ioError }
        },
        write: { fd, bytes throws(Errno) in
            do { return try fd.write(bytes, retryOnInterrupt: false) } catch { throw error as? Errno ?? .ioError }
        },
        fsync: { fd throws(Errno) in _ = try systemCall(retryOnInterrupt: false) { Glibc.fsync(fd.rawValue) } },
        link: { from, to throws(Errno) in
            _ = try systemCall(retryOnInterrupt: false) {
                from.withPlatformString { a in to.withPlatformString { b in Glibc.link(a, b) } }
            }
        },
        unlink: { path throws(Errno) in
            _ = try systemCall(retryOnInterrupt: false) { path.withPlatformString { Glibc.unlink($0) } }
        },
        rename: { from, to throws(Errno) in
            _ = try systemCall(retryOnInterrupt: false) {
                from.withPlatformString { a in to.withPlatformString { b in Glibc.rename(a, b) } }
            }
        },
        mkdir: { path, permissions throws(Errno) in
            _ = try systemCall(retryOnInterrupt: false) {
                path.withPlatformString { Glibc.mkdir($0, permissions.rawValue) }
            }
        },
        rmdir: { path throws(Errno) in
            _ = try systemCall(retryOnInterrupt: false) { path.withPlatformString { Glibc.rmdir($0) } }
        })
}

/// Calls a C function that returns -1 and sets `errno` when it fails, again for as long as it is
/// interrupted (EINTR, unless `retryOnInterrupt` is false), and throws the `Errno` of any other failure.
/// For the calls swift-system does not wrap (link, rename, fsync, flock, fchmod …).
@discardableResult
func systemCall<Result: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> Result) throws(Errno) -> Result
{
    while true {
        let result = call()
        guard result == -1 else { return result }
        let error = Errno(rawValue: errno)
        guard retryOnInterrupt, error == .interrupted else { throw error }
    }
}

/// Runs a call of the seam again for as long as it throws `Errno.interrupted`.
func retryingInterrupts<Result>(_ call: () throws(Errno) -> Result) throws(Errno) -> Result {
    while true {
        do throws(Errno) {
            return try call()
        } catch  where error == .interrupted {
            continue
        }
    }
}

/// syncfs(2) from the C library: Glibc's module map leaves it out (it is declared under
/// _GNU_SOURCE only), so it is bound by its symbol; `int syncfs(int fd)` on every Linux ABI.
@_silgen_name("syncfs")
private func linuxSyncfs(_ fd: Int32) -> Int32

/// renameat2(2), declared under _GNU_SOURCE only: bound by its symbol (glibc 2.28 and later).
@_silgen_name("renameat2")
private func linuxRenameat2(
    _ oldDirectory: Int32, _ old: UnsafePointer<CChar>, _ newDirectory: Int32, _ new: UnsafePointer<CChar>,
    _ flags: UInt32
) -> Int32
/// AT_FDCWD and RENAME_NOREPLACE from <fcntl.h> and <linux/fs.h>.
private let atCurrentDirectory: Int32 = -100
private let renameNoReplaceFlag: UInt32 = 1
