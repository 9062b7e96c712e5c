#if canImport(Glibc)
import Glibc
#endif

/// The system calls of the spool that a full disk, a read-only remount or a crash can interrupt:
/// claim, publish and archive go through these, so a test can make any one of them fail and check
/// that the next pass finishes the work exactly once. Each returns what the system call returns
/// and sets `errno` on failure.
public struct FileSystemSeam: Sendable {
    public var open: @Sendable (_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32
    public var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int
    public var fsync: @Sendable (_ fd: Int32) -> Int32
    public var link: @Sendable (_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> Int32
    public var unlink: @Sendable (_ path: UnsafePointer<CChar>) -> Int32
    public var rename: @Sendable (_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> Int32
    public var mkdir: @Sendable (_ path: UnsafePointer<CChar>, _ mode: mode_t) -> Int32

    public init(open: @escaping @Sendable (UnsafePointer<CChar>, Int32, mode_t) -> Int32,
                write: @escaping @Sendable (Int32, UnsafeRawPointer, Int) -> Int,
                fsync: @escaping @Sendable (Int32) -> Int32,
                link: @escaping @Sendable (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32,
                unlink: @escaping @Sendable (UnsafePointer<CChar>) -> Int32,
                rename: @escaping @Sendable (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32,
                mkdir: @escaping @Sendable (UnsafePointer<CChar>, mode_t) -> Int32) {
        self.open = open
        self.write = write
        self.fsync = fsync
        self.link = link
        self.unlink = unlink
        self.rename = rename
        self.mkdir = mkdir
    }

    /// The real system calls.
    public static let system = FileSystemSeam(
        open: { Glibc.open($0, $1, $2) },
        write: { Glibc.write($0, $1, $2) },
        fsync: { Glibc.fsync($0) },
        link: { Glibc.link($0, $1) },
        unlink: { Glibc.unlink($0) },
        rename: { Glibc.rename($0, $1) },
        mkdir: { Glibc.mkdir($0, $1) })
}
