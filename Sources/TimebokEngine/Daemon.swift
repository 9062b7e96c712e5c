import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import TimebokCore
import TimebokSpool
import UnixSignals

/// `timebok run`: the long-running service that watches a spool and answers as files arrive.
///
/// The loop runs on a thread of its own (the engine is not `Sendable` and blocks on SQLite and
/// fsync, which must not hold a thread of the cooperative pool). Each wake-up runs one full pass of
/// the engine: recovery of what an earlier run left, every waiting command file and message, and
/// requests whose hold ran out. inotify (close-write and moved-to on `inbox/` and `commands/`) wakes
/// it at once; a rescan every `scanSeconds` and at the next hold expiry is the safety net, and an
/// overflowed inotify queue loses nothing because every pass lists the folders itself.
public final class SpoolDaemon: Sendable {
    /// Stable event codes of the daemon's log lines (TB-09xx).
    public enum Event: String, Sendable {
        case handled = "TB-0901"
        case refused = "TB-0902"
        case retrying = "TB-0903"
        case ready = "TB-0904"
        case reloaded = "TB-0905"
        case reloadRefused = "TB-0906"
        case stopping = "TB-0907"
        case passFailed = "TB-0908"
        case setAside = "TB-0909"
        case expired = "TB-0910"
    }

    /// Another `timebok run` holds this spool.
    public struct AlreadyRunning: TimebokError {
        public let message: String
        public var errorCode: String { "TB-0911" }
    }

    private let state: Mutex<State>
    private let logger: Logger
    private let scanSeconds: Double
    /// A pipe: the loop polls its read end, ``stop()`` and ``reload()`` write to the other.
    private let wake: Int32
    private let wakeWriter: Int32
    private let daemonLock: Int32
    private let root: String
    /// The engine and everything else the loop thread owns (touched by that thread only).
    private let confined: Confined

    private struct State {
        var stop = false
        var reload = false
    }

    private final class Confined: @unchecked Sendable {
        var engine: Engine
        /// READY=1 was sent (and the "serving" line logged): once, when the first pass's recovery is done.
        var ready = false
        /// When the watchdog was last fed (nil: not yet).
        var watchdogFed: ContinuousClock.Instant?
        init(engine: Engine) { self.engine = engine }
    }

    /// Takes the spool for this daemon (refused when another daemon holds it).
    public init(engine: Engine, logger: Logger, scanSeconds: Double = 2) throws {
        let lockPath = engine.spool.path(.state) + "/daemon.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AlreadyRunning(message: "\(lockPath) cannot be opened: \(String(cString: strerror(errno))).")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, 31, 0)
            let pid =
                count > 0
                ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                : "?"
            close(fd)
            throw AlreadyRunning(
                message:
                    "timebok run is already serving \(engine.spool.root) (process \(pid) holds \(lockPath)); one daemon per spool."
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        daemonLock = fd
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            close(fd)
            throw AlreadyRunning(message: "no pipe for the daemon's wake-ups: \(String(cString: strerror(errno))).")
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wake = ends[0]
        wakeWriter = ends[1]
        state = Mutex(State())
        self.logger = logger
        self.scanSeconds = scanSeconds
        self.root = engine.spool.root
        confined = Confined(engine: engine)
    }

    deinit {
        close(wake)
        close(wakeWriter)
        close(daemonLock)
    }

    /// Asks the loop to finish the pass in hand and return.
    public func stop() {
        state.withLock { $0.stop = true }
        signalWake()
    }

    /// Asks the loop to read `timebok.conf` again before its next pass.
    public func reload() {
        state.withLock { $0.reload = true }
        signalWake()
    }

    private func signalWake() {
        var one: UInt8 = 1
        _ = write(wakeWriter, &one, 1)
    }

    /// Runs the loop on its own thread until ``stop()``; returns when it has finished.
    public func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                loop()
                continuation.resume()
            }
            thread.name = "timebok-spool"
            thread.start()
        }
    }

    private func loop() {
        let watcher = FolderWatcher(
            folders: [confined.engine.spool.path(.inbox), confined.engine.spool.path(.commands)], wake: wake)
        if let problem = watcher.problem {
            logger.warning(
                "inotify is not available (\(problem)); the spool is scanned every \(scanSeconds) s instead",
                metadata: ["event": "\(Event.passFailed.rawValue)"])
        }
        var backoff = 0.0
        while true {
            let (stop, reload) = state.withLock { state -> (Bool, Bool) in
                defer { state.reload = false }
                return (state.stop, state.reload)
            }
            if reload { reloadConfiguration() }
            backoff = pass(backoff: backoff)
            // A first pass that could not even recover (the store unreadable) still serves: it
            // retries with back-off, and says so in the log.
            announceReady()
            feedWatchdog()
            if stop { break }
            var timeout = backoff > 0 ? backoff : scanSeconds
            if backoff == 0, let next = try? confined.engine.nextHoldExpiry() {
                timeout = min(timeout, max(0, next.timeIntervalSince(confined.engine.clock())) + 0.05)
            }
            watcher.wait(seconds: timeout)
            if state.withLock({ $0.stop }) {
                // One last pass for what arrived with the request to stop.
                _ = pass(backoff: 0)
                break
            }
        }
        logger.info(
            "stopping: the pass in hand is finished, nothing is left half-done",
            metadata: ["event": "\(Event.stopping.rawValue)"])
        SystemdNotifier.notify("STOPPING=1")
    }

    /// READY=1 and the "serving" line, once: when the first pass's recovery is done (a backlog
    /// waiting at start is then drained as a ready daemon, not counted against the start timeout).
    private func announceReady() {
        guard !confined.ready else { return }
        confined.ready = true
        logger.info(
            "serving \(root)",
            metadata: [
                "event": "\(Event.ready.rawValue)", "signing": "\(confined.engine.signs)",
                "schemas": "\(confined.engine.schemaLevel)",
            ])
        SystemdNotifier.notify("READY=1\nSTATUS=serving \(root)")
    }

    /// WATCHDOG=1 from the loop and after every batch of a pass, at most once a second: the unit's
    /// WatchdogSec is a minute, a pass over a long backlog can take longer, and a datagram per
    /// batch would cost a socket each.
    private func feedWatchdog() {
        let now = ContinuousClock.now
        guard confined.watchdogFed.map({ now - $0 >= .seconds(1) }) ?? true else { return }
        confined.watchdogFed = now
        SystemdNotifier.notify("WATCHDOG=1")
    }

    /// One pass; returns the back-off before the next one (0 when all went well).
    private func pass(backoff: Double) -> Double {
        let report: Engine.Report
        do {
            report = try confined.engine.process { [self] step in
                if case .recovered = step { announceReady() }
                feedWatchdog()
                if case .recovered = step { return true }
                // Asked to stop: the batches in hand are finished, nothing more is claimed (the last
                // pass after a stop still takes one batch of what arrived with it).
                return !state.withLock { $0.stop }
            }
        } catch let failure as Spool.Failure where failure.isBusy {
            // A `timebok process` pass holds the spool: it finishes, then we go on.
            return 0.2
        } catch {
            let next = min(max(backoff * 2, 0.5), 30)
            logger.error(
                "the pass could not run: \(error); trying again in \(next) s",
                metadata: ["event": "\(Event.passFailed.rawValue)"])
            return next
        }
        for outcome in report.outcomes {
            var metadata: Logger.Metadata = [
                "event": "\((outcome.error == nil ? Event.handled : Event.refused).rawValue)"
            ]
            if let input = outcome.input { metadata["input"] = "\(input)" }
            if let id = outcome.commandId { metadata["id"] = "\(id)" }
            if let error = outcome.error { metadata["code"] = "\(error.code)" }
            if let milliseconds = outcome.milliseconds { metadata["ms"] = "\(String(format: "%.1f", milliseconds))" }
            logger.info("\(IdentityMasking.mask(outcome.error?.message ?? outcome.summary))", metadata: metadata)
        }
        for (name, what) in report.setAside {
            logger.warning("\(name): \(what)", metadata: ["event": "\(Event.setAside.rawValue)"])
        }
        if report.expired > 0 {
            logger.info(
                "\(report.expired) request(s) expired unanswered and were answered 26",
                metadata: ["event": "\(Event.expired.rawValue)"])
        }
        guard report.retrying.isEmpty else {
            let next = min(max(backoff * 2, 0.5), 30)
            for (name, problem) in report.retrying {
                logger.error(
                    "\(name) could not be finished (\(IdentityMasking.mask(problem))); it stays in processing/ and is retried in \(next) s",
                    metadata: ["event": "\(Event.retrying.rawValue)"])
            }
            return next
        }
        return 0
    }

    /// SIGHUP: the new configuration is taken only when the spool opens with it; otherwise the old
    /// one stays in force, and the log says why.
    private func reloadConfiguration() {
        let old = confined.engine
        do {
            let fresh = try Engine(spoolRoot: old.spool.root, clock: old.clock, fileSystem: old.spool.fs)
            let before = Set(old.config.rendered().split(separator: "\n").filter { !$0.hasPrefix("#") })
            let after = Set(fresh.config.rendered().split(separator: "\n").filter { !$0.hasPrefix("#") })
            let changed = after.subtracting(before).compactMap {
                $0.split(separator: "=").first?.trimmingCharacters(in: .whitespaces)
            }.sorted()
            confined.engine = fresh
            logger.notice(
                changed.isEmpty
                    ? "timebok.conf read again: nothing changed"
                    : "timebok.conf read again: \(changed.joined(separator: ", ")) changed",
                metadata: ["event": "\(Event.reloaded.rawValue)"])
        } catch {
            logger.error(
                "the new timebok.conf is refused, the old one stays in force: \(error)",
                metadata: ["event": "\(Event.reloadRefused.rawValue)"])
        }
    }
}

/// The daemon as a swift-service-lifecycle service: graceful shutdown (SIGTERM, SIGINT) finishes
/// the pass in hand; SIGHUP reads the configuration again.
public struct SpoolService: Service {
    let daemon: SpoolDaemon

    public init(daemon: SpoolDaemon) { self.daemon = daemon }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    daemon.reload()
                }
            }
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await daemon.run()
                } onCancel: {
                    daemon.stop()
                }
            } onGracefulShutdown: {
                daemon.stop()
            }
            group.cancelAll()
        }
    }
}
