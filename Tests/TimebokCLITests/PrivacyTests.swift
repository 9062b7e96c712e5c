import Foundation
import Testing
import TimebokTestKit

/// Patient data stays private (issue 13): modes that do not depend on the umask, an exposed spool
/// refused, fødselsnumre masked in everything people read.
/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct Privacy {
    static func run(umask: String, _ arguments: [String]) throws -> CLI.Result {
        try CLI.run(arguments, umask: umask)
    }

    /// Every folder and file under `root` with its permission bits.
    static func modes(under root: String) -> [(path: String, mode: Int, directory: Bool)] {
        var result: [(String, Int, Bool)] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { continue }
            result.append((relative, Int(info.st_mode & 0o7777), (info.st_mode & S_IFMT) == S_IFDIR))
        }
        return result
    }

    /// A spool set up and worked under `umask`: init --demo, a command file, helsenorge messages, a pass.
    static func workedSpool(umask: String, in directory: URL) throws -> String {
        let spool = directory.appendingPathComponent("spool").path
        let created = try run(umask: umask, ["init", spool, "--demo"])
        #expect(created.status == 0, "\(created.output)")
        for name in [
            "in-HentLedigeTimer-resourcebook.xml", "in-ReserverAvtale-resourcebook.xml", "in-Kommunikasjonstest.xml",
        ] {
            try FileManager.default.copyItem(
                atPath: CLI.packageRoot.appendingPathComponent("samples/" + name).path, toPath: spool + "/inbox/" + name
            )
        }
        try FileManager.default.copyItem(
            atPath: CLI.packageRoot.appendingPathComponent("samples/commands/open-slot.xml").path,
            toPath: spool + "/commands/open-slot.xml")
        let processed = try run(umask: umask, ["process", spool])
        #expect(processed.output.contains("files processed"), "\(processed.output)")
        return spool
    }

    @Test(arguments: ["000", "077"])
    func theDocumentedModesWhateverTheUmask(_ umask: String) throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.workedSpool(umask: umask, in: directory)
        var info = stat()
        #expect(lstat(spool, &info) == 0 && Int(info.st_mode & 0o7777) == 0o750, "the spool folder")
        let all = Self.modes(under: spool)
        #expect(
            all.contains { $0.path == "state/timebok.sqlite" }
                && all.contains { $0.path.hasPrefix("archive/2026-12-01/") }
                && all.contains { $0.path.hasPrefix("outbox/") })
        for entry in all {
            let expected: Int
            if entry.directory {
                expected = 0o750
            } else if entry.path.hasPrefix("state/timebok.sqlite") || entry.path == "state/timebok.lock"
                || entry.path == "state/signing.key"
            {
                expected = 0o600
            } else {
                expected = 0o640
            }
            #expect(
                entry.mode == expected,
                "\(entry.path) is \(String(entry.mode, radix: 8)), not \(String(expected, radix: 8)) (umask \(umask))")
        }
        // SQLite removes its WAL and shared-memory files when the last connection closes: look at them
        // while a command holds the database open (test-connection --wait keeps it open).
        let quoted = "'\(CLI.binary.path)' test-connection '\(spool)' --wait 3"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "umask \(umask); exec \(quoted)"]
        holder.environment = childEnvironment(
            ProcessInfo.processInfo.environment.merging(["TIMEBOK_NOW": CLI.businessNow]) { _, fixed in fixed })
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer { holder.waitForExit() }
        var seen: [String: Int] = [:]
        for _ in 0..<50 where seen.count < 2 {
            for suffix in ["-wal", "-shm"] where seen[suffix] == nil {
                var wal = stat()
                if lstat(spool + "/state/timebok.sqlite" + suffix, &wal) == 0 {
                    seen[suffix] = Int(wal.st_mode & 0o7777)
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(
            seen == ["-wal": 0o600, "-shm": 0o600],
            "the database's WAL files while it is open: \(seen.mapValues { String($0, radix: 8) })")
    }

    @Test func aSharedGroupMakesTheFolders2770AndTheirs() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let group = try #require(
            getgrgid(getgid()).map { String(cString: $0.pointee.gr_name) }, "this user's primary group")
        let spool = directory.appendingPathComponent("spool").path
        let created = try Self.run(umask: "077", ["init", spool, "--demo", "--group", group])
        #expect(created.status == 0, "\(created.output)")
        #expect(try String(contentsOfFile: spool + "/timebok.conf", encoding: .utf8).contains("spool.group = \(group)"))
        for entry in Self.modes(under: spool) + [(path: ".", mode: 0, directory: true)] where entry.directory {
            var info = stat()
            #expect(
                lstat(spool + "/" + entry.path, &info) == 0 && Int(info.st_mode & 0o7777) == 0o2770
                    && info.st_gid == getgid(), "\(entry.path)")
        }
        #expect(
            try Self.run(
                umask: "077",
                ["init", directory.appendingPathComponent("other").path, "--demo", "--group", "no-such-group-here"]
            ).output.contains("There is no group \"no-such-group-here\""))
    }

    @Test func aSpoolOthersCanReadIsRefusedWithThePathAndTheFix() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        #expect(chmod(spool + "/state/timebok.sqlite", 0o644) == 0)
        let refused = try CLI.run(["process", spool])
        #expect(refused.status != 0)
        #expect(
            refused.output.contains("\(spool)/state/timebok.sqlite (644)")
                && refused.output.contains("chmod -R o-rwx \(spool)"), "\(refused.output)")
        #expect(try CLI.run(["books", "--spool", spool]).status != 0, "no command reads an exposed spool")
        let checked = try CLI.run(["check", spool])
        #expect(
            checked.status == 1 && checked.output.contains("\(spool)/state/timebok.sqlite (644)")
                && checked.output.contains("ok: the database passes"), "\(checked.output)")
        #expect(chmod(spool + "/state/timebok.sqlite", 0o600) == 0 && chmod(spool + "/archive", 0o755) == 0)
        #expect(try CLI.run(["process", spool]).output.contains("\(spool)/archive (755)"))
        #expect(chmod(spool + "/archive", 0o750) == 0)
        #expect(try CLI.run(["process", spool]).status == 0, "fixed as told, it runs")
        let clean = try CLI.run(["check", spool])
        #expect(clean.status == 0 && clean.output.contains("ok: only its owner and group"), "\(clean.output)")
    }

    @Test func noPrintedLineOrReasonFileShowsAFodselsnummer() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        var printed = try CLI.run(["init", spool, "--demo"]).output
        // Valid and hostile inputs: samples, a wrong fødselsnummer (E31), a broken file, a bad import, a booking.
        for name in [
            "in-HentLedigeTimer-resourcebook.xml", "in-ReserverAvtale-resourcebook.xml", "in-HentPlanlagteTimer.xml",
            "in-AvbestillAvtale.xml",
        ] {
            try FileManager.default.copyItem(
                atPath: CLI.packageRoot.appendingPathComponent("samples/" + name).path, toPath: spool + "/inbox/" + name
            )
        }
        let sample = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/in-ReserverAvtale-resourcebook.xml"),
            encoding: .utf8)
        try sample.replacingOccurrences(of: "14035623036", with: "14035623037").replacing(
            /<MsgId>[^<]*<\/MsgId>/, with: "<MsgId>bad-fnr</MsgId>"
        )
        .write(toFile: spool + "/inbox/bad-fnr.xml", atomically: true, encoding: .utf8)
        try "<MsgHead><Patient>14035623036</Patient".write(
            toFile: spool + "/inbox/broken.xml", atomically: true, encoding: .utf8)
        let csv = directory.appendingPathComponent("bad.csv")
        try "14035623036;Åsmundsen;Ragnhild;\n14035623037;Feil;Nummer;\n".write(
            to: csv, atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: spool + "/timebok.conf", encoding: .utf8)
        config = config.replacingOccurrences(of: "limits.settle-seconds = 2", with: "limits.settle-seconds = 0")
        try config.write(toFile: spool + "/timebok.conf", atomically: true, encoding: .utf8)
        for arguments in [
            ["process", spool], ["patients", "import", csv.path, "--spool", spool], ["patients", "--spool", spool],
            ["appointments", "--all", "--history", "--spool", spool], ["requests", "--spool", spool],
            ["appointments", "book", "nosuch", "30064930466", "--spool", spool],
            ["validate", spool + "/error/2026-12-01/bad-fnr.xml"],
        ] {
            printed += try CLI.run(arguments).output
        }
        var reasons = ""
        for entry in Self.modes(under: spool + "/error") where entry.path.hasSuffix(".reason.txt") {
            reasons += try String(contentsOfFile: spool + "/error/" + entry.path, encoding: .utf8)
        }
        #expect(!reasons.isEmpty && printed.contains("140356*****"), "the run printed and refused something")
        for number in ["14035623036", "14035623037", "22098641169", "30064930466", "13116900216"] {
            #expect(!printed.contains(number), "\(number) printed in full")
            #expect(!reasons.contains(number), "\(number) in a reason file")
        }
        // Asked for, a listing shows them whole.
        #expect(try CLI.run(["patients", "--show-identity", "--spool", spool]).output.contains("14035623036"))
    }
}
