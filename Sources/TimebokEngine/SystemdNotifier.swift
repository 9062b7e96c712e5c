import Foundation
import Glibc

/// systemd's readiness and watchdog protocol (sd_notify): a datagram to `$NOTIFY_SOCKET`. Without
/// that variable (not started by systemd) nothing is sent.
enum SystemdNotifier {
    /// The socket's address bytes (`sun_path`), read once: systemd sets the variable when it starts
    /// the process and it does not change, and reading the whole environment on every loop turn
    /// showed in the daemon's profile. Nil when there is nowhere to send to.
    private static let socketPath: [UInt8]? = {
        guard let path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        var bytes = Array(path.utf8)
        // An abstract socket is named with a leading "@".
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return nil }
        return bytes
    }()

    static func notify(_ state: String) {
        guard let bytes = socketPath else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), $0, length)
            }
        }
    }
}
