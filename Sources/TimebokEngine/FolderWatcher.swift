import Glibc

/// Wakes the daemon when a file is closed after writing or moved into one of its folders (inotify),
/// or when `wake` (an eventfd) is written. What the events name does not matter: every pass lists
/// the folders itself, so a lost or overflowed event costs only the wait until the next rescan.
final class FolderWatcher {
    private let inotify: Int32
    private let wake: Int32
    /// Why inotify could not be used (nil: it is).
    let problem: String?

    init(folders: [String], wake: Int32) {
        self.wake = wake
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        var problem: String?
        if fd < 0 {
            problem = String(cString: strerror(errno))
        } else {
            for folder in folders where inotify_add_watch(fd, folder, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) < 0 {
                problem = "\(folder): \(String(cString: strerror(errno)))"
            }
        }
        inotify = fd
        self.problem = problem
    }

    deinit {
        if inotify >= 0 { close(inotify) }
    }

    /// Waits until something arrives, the daemon is woken, or `seconds` pass; then drains what woke it.
    func wait(seconds: Double) {
        var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        if inotify >= 0 { fds.append(pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(max(0, min(seconds, 3_600)) * 1_000)
        var result: Int32
        repeat {
            result = poll(&fds, nfds_t(fds.count), milliseconds)
        } while result < 0 && errno == EINTR
        guard result > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for entry in fds where entry.revents & Int16(POLLIN) != 0 {
            // Drain: the events themselves are not needed (the pass lists the folders).
            while read(entry.fd, &buffer, buffer.count) > 0 {}
        }
    }
}
