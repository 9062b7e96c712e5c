import Foundation
import Testing
import TimebokTestKit

/// `timebok run` in the background, its log in a file.
final class RunningDaemon {
    let process = Process()
    let log: URL

    init(
        spool: String, arguments: [String] = [], environment extra: [String: String] = [:], fixedClock: Bool = true
    ) throws {
        log = URL(fileURLWithPath: spool + ".daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var environment = ProcessInfo.processInfo.environment
        environment["TIMEBOK_NOW"] = fixedClock ? CLI.businessNow : nil
        environment["TIMEBOK_SCHEMAS"] = nil
        environment["NOTIFY_SOCKET"] = nil
        environment.merge(extra) { $1 }
        process.environment = childEnvironment(environment)
        process.executableURL = CLI.binary
        process.arguments = ["run", spool] + arguments
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits until the log says `text` (or `seconds` pass); true when it did.
    @discardableResult
    func waitFor(_ text: String, count: Int = 1, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.components(separatedBy: text).count - 1 >= count { return true }
            usleep(20_000)
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit (SIGKILL after `seconds`) and returns the status.
    func exitStatus(seconds: Double = 15) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { signal(SIGKILL) }
        process.waitForExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            signal(SIGKILL)
            process.waitForExit()
        }
    }
}

/// Drops a file as a producer should: a dot-file, then a rename.
func drop(_ bytes: Data, into folder: String, as name: String) throws {
    let temporary = folder + "/." + name + ".tmp"
    try bytes.write(to: URL(fileURLWithPath: temporary))
    #expect(rename(temporary, folder + "/" + name) == 0)
}

func files(in folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
}

/// Waits until `folder` holds at least `count` files; returns how long it took (nil: it did not).
func waitForFiles(in folder: String, count: Int, seconds: Double = 15) -> Double? {
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        if files(in: folder).count >= count { return Date().timeIntervalSince(start) }
        usleep(5_000)
    }
    return nil
}

/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct Daemon {
    static func demoSpool(_ directory: URL, environment: [String: String]? = nil) throws -> String {
        let spool = directory.appendingPathComponent("spool").path
        if let environment {
            // Without a fixed clock: the demo's slots are laid out from the real today.
            #expect(try runProcess(CLI.binary.path, ["init", spool, "--demo"], environment: environment).status == 0)
        } else {
            #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        }
        return spool
    }

    static func sample(_ name: String) throws -> Data {
        try Data(contentsOf: CLI.packageRoot.appendingPathComponent("samples/" + name))
    }

    @Test func answersWhatArrivesAndStopsCleanlyOnSIGTERM() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        // A long rescan interval: only inotify can make the answer quick.
        let daemon = try RunningDaemon(spool: spool, arguments: ["--scan-seconds", "60"])
        #expect(daemon.waitFor("TB-0904"), "ready: \(daemon.output)")
        try drop(Self.sample("in-HentLedigeTimer-resourcebook.xml"), into: spool + "/inbox", as: "free.xml")
        let seconds = waitForFiles(in: spool + "/outbox", count: 2, seconds: 10)
        #expect(
            seconds != nil && seconds! < 5,
            "answered (reply and .meta) in \(seconds.map { String(format: "%.3f s", $0) } ?? "never")")
        #expect(daemon.waitFor("TB-0901"), "one line per input: \(daemon.output)")
        try drop(
            Data(
                "<Command xmlns=\"http://timebok.no/xmlstds/command/v1\" id=\"d-1\"><SetBookingEnabled><Enabled>true</Enabled></SetBookingEnabled></Command>"
                    .utf8),
            into: spool + "/commands", as: "switch.xml")
        #expect(waitForFiles(in: spool + "/results", count: 1, seconds: 10) != nil, "a command file is answered too")
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
        #expect(daemon.output.contains("TB-0907"), "says it stops: \(daemon.output)")
        #expect(
            files(in: spool + "/inbox").isEmpty && files(in: spool + "/commands").isEmpty
                && files(in: spool + "/processing").isEmpty)
    }

    @Test func aSecondDaemonOnTheSameSpoolIsRefused() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        let first = try RunningDaemon(spool: spool)
        #expect(first.waitFor("TB-0904"))
        let second = try CLI.run(["run", spool])
        #expect(
            second.status == 75 && second.output.contains("TB-0911") && second.output.contains("already serving"),
            "\(second.output)")
        // A one-shot pass meanwhile is refused as busy or waits its turn; it never doubles an effect.
        let pass = try CLI.run(["process", spool])
        #expect(pass.status == 0 || pass.status == 75, "\(pass.output)")
        first.signal(SIGINT)
        #expect(first.exitStatus() == 0)
    }

    @Test func sighupReadsTheConfigurationAgainAndKeepsTheOldOneWhenTheNewIsBroken() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        let daemon = try RunningDaemon(spool: spool)
        #expect(daemon.waitFor("TB-0904"))
        let configuration = spool + "/timebok.conf"
        let good = try String(contentsOfFile: configuration, encoding: .utf8)
        try good.replacingOccurrences(of: "settle-seconds = 2", with: "settle-seconds = 3").write(
            toFile: configuration, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitFor("TB-0905"), "\(daemon.output)")
        #expect(daemon.output.contains("limits.settle-seconds changed"), "says what changed: \(daemon.output)")
        try (good + "\nnot a setting\n").write(toFile: configuration, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitFor("TB-0906"), "\(daemon.output)")
        // Still serving, with the old configuration.
        try drop(Self.sample("in-HentPlanlagteTimer.xml"), into: spool + "/inbox", as: "planned.xml")
        #expect(
            waitForFiles(in: spool + "/outbox", count: 2, seconds: 10) != nil,
            "still answering after a refused configuration")
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
    }

    /// systemd's protocol: READY=1 once recovery is done, WATCHDOG=1 from the loop.
    @Test func tellsSystemdWhenItIsReady() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        let socketPath = directory.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let daemon = try RunningDaemon(spool: spool, environment: ["NOTIFY_SOCKET": socketPath])
        var said: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !(said.contains { $0.contains("READY=1") } && said.contains { $0.contains("WATCHDOG=1") }) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            said.append(String(decoding: buffer.prefix(count), as: UTF8.self))
        }
        #expect(said.first?.contains("READY=1") == true, "READY=1 first: \(said)")
        #expect(said.contains { $0.contains("WATCHDOG=1") }, "\(said)")
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
    }

    @Test func logsOneJSONObjectPerLineWhenAsked() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        let daemon = try RunningDaemon(spool: spool, arguments: ["--log-format", "json"])
        #expect(daemon.waitFor("TB-0904"))
        try drop(Self.sample("in-ReserverAvtale-resourcebook.xml"), into: spool + "/inbox", as: "reserve.xml")
        #expect(daemon.waitFor("TB-0901"))
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
        let lines = daemon.output.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["event"] != nil && object?["level"] != nil && object?["message"] != nil, "\(line)")
        }
        #expect(!daemon.output.contains("14035623036"), "fødselsnumre are masked in the log")
    }

    /// A held request is answered 26 when its hold runs out while the daemon runs: the request is
    /// held at 12:00:00 for one minute by a one-shot pass; the daemon's business clock starts at
    /// 12:00:58 and runs (`TIMEBOK_CLOCK=running`), so the hold runs out two seconds after it is ready.
    @Test func aHoldThatRunsOutWhileRunningIsAnswered26() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        #expect(try CLI.run(["books", "update", "lab", "--hold-minutes", "1", "--spool", spool]).status == 0)
        let slots = try CLI.run([
            "slots", "list", "lab", "--spool", spool, "--from", "2026-12-08", "--to", "2026-12-08",
        ]).output
        let line = try #require(slots.split(separator: "\n").first { $0.contains("2026-12-08T08:00:00") }, "\(slots)")
        let slotId = String(line.prefix(36))
        var request = try #require(String(data: try Self.sample("in-ReserverAvtale-resourcebook.xml"), encoding: .utf8))
        request = request.replacingOccurrences(of: "75b33a60-fa91-425a-9dc8-8dba028f89c8", with: slotId)
            .replacingOccurrences(of: "2026-12-08T08:00:00", with: "2026-12-08T08:15:00")
            .replacingOccurrences(of: "2026-12-08T07:45:00", with: "2026-12-08T08:00:00")
        try drop(Data(request.utf8), into: spool + "/inbox", as: "reserve.xml")
        #expect(try CLI.run(["process", spool]).status == 0)
        #expect(
            files(in: spool + "/outbox").filter { $0.hasSuffix(".xml") }.map { $0.contains("AppRec") } == [true],
            "held: only the AppRec so far")
        // A long rescan interval: only the hold timer can make the answer quick.
        let daemon = try RunningDaemon(
            spool: spool, arguments: ["--scan-seconds", "60"],
            environment: ["TIMEBOK_NOW": "2026-12-01T12:00:58+01:00", "TIMEBOK_CLOCK": "running"], fixedClock: false)
        #expect(daemon.waitFor("TB-0904"))
        let start = Date()
        var answered: Double?
        while Date().timeIntervalSince(start) < 10 {
            if files(in: spool + "/outbox").contains(where: {
                $0.contains("SvarTimeReservasjon-26") && $0.hasSuffix(".xml")
            }) {
                answered = Date().timeIntervalSince(start)
                break
            }
            usleep(10_000)
        }
        #expect(
            answered != nil && answered! < 4,
            "answered 26 \(answered.map { String(format: "%.2f s", $0) } ?? "never") after ready (the hold ran out about 2 s after)"
        )
        #expect(daemon.waitFor("TB-0910"), "\(daemon.output)")
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
    }

    /// Hostile and odd inputs dropped into a running daemon: each ends where it should, nothing
    /// crashes or hangs, and memory stays bounded.
    @Test func hostileAndOddInputsNeverStopTheDaemon() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(directory)
        let inbox = spool + "/inbox"
        let daemon = try RunningDaemon(spool: spool, arguments: ["--scan-seconds", "0.5"])
        #expect(daemon.waitFor("TB-0904"))
        // Entity attacks, an external entity and an external DTD: refused unread by the hardened parse.
        var laughs = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            laughs +=
                "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10)
                + "\">"
        }
        laughs += "]><lolz>&lol9;</lolz>"
        try drop(Data(laughs.utf8), into: inbox, as: "laughs.xml")
        try drop(
            Data(#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#.utf8),
            into: inbox, as: "xxe.xml")
        try drop(
            Data(#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>"#.utf8), into: inbox,
            as: "dtd.xml")
        // An empty file, and one of 200 MB (sparse: refused by its size, never read).
        try drop(Data(), into: inbox, as: "empty.xml")
        let huge = inbox + "/huge.xml"
        #expect(FileManager.default.createFile(atPath: huge, contents: nil) && truncate(huge, 200 * 1024 * 1024) == 0)
        // A link to a file outside the spool, a FIFO, a folder, names with a new line and with Latin-1 bytes.
        let outside = directory.appendingPathComponent("secret.xml").path
        try "<secret/>".write(toFile: outside, atomically: true, encoding: .utf8)
        #expect(symlink(outside, inbox + "/link.xml") == 0)
        #expect(mkfifo(inbox + "/fifo.xml", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: inbox + "/folder.xml", withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: inbox + "/new\nline.xml", contents: Data("<x/>".utf8)))
        let latin1 =
            Array((inbox + "/bl\u{00E5}b\u{00E6}r.xml").utf8.prefix(inbox.utf8.count + 3)) + [0xE5]
            + Array("r.xml".utf8) + [0]
        let latin1Fd = latin1.withUnsafeBufferPointer {
            open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o600)
        }
        #expect(latin1Fd >= 0)
        close(latin1Fd)
        // A sender that is not helsenorge.
        let planned = try #require(String(data: try Self.sample("in-HentPlanlagteTimer.xml"), encoding: .utf8))
        let stranger = planned.replacingOccurrences(of: "<Id>115851</Id>", with: "<Id>999999</Id>")
            .replacingOccurrences(of: "<MsgId>", with: "<MsgId>stranger-")
        try drop(Data(stranger.utf8), into: inbox, as: "stranger.xml")
        // A slow writer: a request written in place over 3 seconds is taken when complete, never half-read.
        let slowPath = inbox + "/slow.xml"
        let slow = try #require(
            FileHandle(
                forWritingAtPath: {
                    _ = FileManager.default.createFile(atPath: slowPath, contents: nil); return slowPath
                }()))
        let bytes = Array(planned.replacingOccurrences(of: "<MsgId>", with: "<MsgId>slow-").utf8)
        for part in 0..<6 {
            slow.write(Data(bytes[(bytes.count * part / 6)..<(bytes.count * (part + 1) / 6)]))
            usleep(500_000)
        }
        try slow.close()
        // The same MsgId twice: once as it is, once with other content.
        try drop(Data(planned.utf8), into: inbox, as: "planned.xml")
        #expect(waitForFiles(in: spool + "/archive", count: 1, seconds: 10) != nil)
        usleep(600_000)
        try drop(Data(planned.utf8), into: inbox, as: "planned-again.xml")
        try drop(
            Data(planned.replacingOccurrences(of: "Ragnhild", with: "Ragnhilde").utf8), into: inbox,
            as: "planned-other.xml")
        // Everything settles: the inbox holds nothing the daemon could take.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !(files(in: inbox).isEmpty && files(in: spool + "/processing").isEmpty) {
            usleep(100_000)
        }
        #expect(files(in: inbox).isEmpty, "left in inbox/: \(files(in: inbox))")
        #expect(files(in: spool + "/processing").isEmpty)
        #expect(daemon.waitFor("Already received"), "the same MsgId again is not answered again: \(daemon.output)")
        let peak = Self.peakMemoryKB(daemon.process.processIdentifier)
        // Still serving after all that, and the duplicate is recognised across a restart.
        daemon.signal(SIGTERM)
        #expect(daemon.exitStatus() == 0)
        let again = try RunningDaemon(spool: spool)
        #expect(again.waitFor("TB-0904"))
        try drop(Data(planned.utf8), into: inbox, as: "planned-after-restart.xml")
        #expect(again.waitFor("Already received"), "nor after a restart: \(again.output)")
        again.signal(SIGTERM)
        #expect(again.exitStatus() == 0)

        let errors = try Self.tree(spool + "/error")
        let archived = try Self.tree(spool + "/archive")
        for name in ["laughs.xml", "xxe.xml", "dtd.xml", "empty.xml", "huge.xml", "stranger.xml", "planned-other.xml"] {
            #expect(
                errors.contains { $0.hasSuffix("/" + name) }
                    && errors.contains { $0.hasSuffix("/" + name + ".reason.txt") },
                "\(name) in error/ with a reason: \(errors)")
        }
        #expect(
            errors.filter { $0.contains("/odd-") && $0.hasSuffix(".reason.txt") }.count == 5,
            "the link, the FIFO, the folder and the two odd names, each with a reason: \(errors)")
        for name in ["slow.xml", "planned.xml", "planned-again.xml", "planned-after-restart.xml"] {
            #expect(archived.contains { $0.hasSuffix("/" + name) }, "\(name) archived: \(archived)")
        }
        #expect(
            try String(contentsOfFile: outside, encoding: .utf8) == "<secret/>",
            "the link's target is never read or moved")
        let replies = files(in: spool + "/outbox").filter { $0.hasSuffix(".xml") }
        #expect(
            replies.filter { $0.contains("SvarPlanlagteTimer-02") }.count == 2,
            "planned and slow answered once each: \(replies)")
        #expect(replies.contains { $0.contains("Svar-26") }, "the same MsgId with other content: 26 (E10) \(replies)")
        #expect(peak < 150_000, "peak memory \(peak) kB with a 200 MB file in the inbox")
        print("hostile inputs: daemon peak RSS \(peak) kB")
    }

    /// Every path below `folder`, relative to it.
    static func tree(_ folder: String) throws -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
    }

    /// VmHWM of a running process, in kB (0 when unknown).
    static func peakMemoryKB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
