import Foundation
import Testing
import TimebokTestKit

/// A spool whose database is gone, empty or damaged is refused with its own exit status, nothing
/// claimed and nothing recreated; every exit status of `process` means one thing (issue 10, items 2, 3, 8).
/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct SpoolSafety {
    static func demoSpool(in directory: URL) throws -> String {
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        try FileManager.default.copyItem(
            atPath: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml").path,
            toPath: spool + "/inbox/planned.xml")
        return spool
    }

    @Test func aMissingOrEmptyDatabaseIsRefusedNeverRecreated() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(in: directory)
        let database = spool + "/state/timebok.sqlite"
        try FileManager.default.removeItem(atPath: database)
        let missing = try CLI.run(["process", spool])
        #expect(
            missing.status == 78 && missing.output.contains("\(database) is missing or empty")
                && missing.output.contains("restore"), "\(missing.output)")
        #expect(
            missing.output.contains("TB-0811") && missing.output.contains("Only `timebok init` creates a new one."),
            "the real code, and the command line's hint: \(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: database), "not recreated")
        #expect(try CLI.run(["books", "--spool", spool]).status != 0)
        #expect(FileManager.default.fileExists(atPath: spool + "/inbox/planned.xml"), "nothing claimed")
        _ = FileManager.default.createFile(atPath: database, contents: Data())
        #expect(chmod(database, 0o600) == 0)
        #expect(try CLI.run(["process", spool]).status == 78)
        #expect((try FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) == 0, "still empty")
    }

    /// The engine's start-up refusals carry their own codes; the command line adds what to type.
    @Test func aFolderThatIsNotASpoolIsNamedWithItsCode() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let books = try CLI.run(["books", "--spool", directory.path])
        #expect(
            books.status != 0 && books.output.contains("TB-0801") && books.output.contains("timebok init"),
            "\(books.output)")
        let process = try CLI.run(["process", directory.path])
        #expect(process.status == 78 && process.output.contains("TB-0801"), "\(process.output)")
    }

    @Test func aDamagedDatabaseStopsThePassBeforeAnythingIsClaimed() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(in: directory)
        let database = spool + "/state/timebok.sqlite"
        // Garbage over pages in the middle of the file (the demo's slots and indexes).
        let handle = try #require(FileHandle(forWritingAtPath: database))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2 / 4096 * 4096)
        try handle.write(
            contentsOf: Data((0..<(8 * 4096)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }))
        try handle.close()
        let damaged = try CLI.run(["process", spool])
        #expect(
            damaged.status == 78
                && (damaged.output.contains("is damaged") || damaged.output.contains("cannot be read")),
            "\(damaged.output)")
        #expect(FileManager.default.fileExists(atPath: spool + "/inbox/planned.xml"), "nothing claimed")
        let checked = try CLI.run(["check", spool])
        #expect(checked.status == 1 && checked.output.contains("integrity_check"), "\(checked.output)")
    }

    @Test func aBusySpoolExits75AndABackupRestores() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(in: directory)
        let lock = open(spool + "/state/timebok.lock", O_RDWR | O_CREAT, 0o600)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        let busy = try CLI.run(["process", spool])
        #expect(busy.status == 75 && busy.output.contains("is locked"), "\(busy.output)")
        close(lock)
        let backup = directory.appendingPathComponent("backup.sqlite").path
        let saved = try CLI.run(["backup", spool, backup])
        #expect(saved.status == 0, "\(saved.output)")
        var info = stat()
        #expect(stat(backup, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try CLI.run(["backup", spool, backup]).output.contains("already exists"), "never overwrites")
        // Lost, then restored as the README says.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: spool + "/state/timebok.sqlite" + suffix)
        }
        try FileManager.default.copyItem(atPath: backup, toPath: spool + "/state/timebok.sqlite")
        let processed = try CLI.run(["process", spool])
        #expect(
            processed.status == 0 && processed.output.contains("1 file processed, 0 refused."), "\(processed.output)")
        #expect(try CLI.run(["books", "--spool", spool]).output.contains("lab: Lab"))
    }
}

/// Signing at the command line (issue 11): the demo's replies are signed and verify; keygen, verify.
/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct SigningCommands {
    @Test func theDemosRepliesAreSignedAndVerify() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("demo").path
        let demo = try CLI.run(["demo", spool])
        #expect(
            demo.status == 0 && demo.output.contains("Signing: every outgoing MsgHead message is signed"),
            "\(demo.output)")
        // Every MsgHead message the demo sent (AppRecs have no Signature in their schema).
        let outbox = try FileManager.default.contentsOfDirectory(atPath: spool + "/outbox").filter {
            $0.hasSuffix(".xml") && !$0.contains("-AppRec-")
        }.sorted().map { spool + "/outbox/" + $0 }
        #expect(outbox.count >= 2, "the free-slot answer, the push, and the samples' answers: \(outbox.count)")
        let verified = try CLI.run(["verify", "--trusted-pem", spool + "/state/signing.crt"] + outbox)
        #expect(
            verified.status == 0
                && verified.output.components(separatedBy: "ok, signed by CN=Fjordvik legesenter").count
                    == outbox.count + 1,
            "\(verified.output)")
        #expect(
            try runProcess("/usr/bin/xmlsec1", ["--verify", "--trusted-pem", spool + "/state/signing.crt", outbox[0]])
                .status == 0, "xmlsec1 accepts the demo's reply")
        let status = try CLI.run(["verify", "--status", "--spool", spool])
        #expect(
            status.status == 0 && status.output.contains("signing with: CN=Fjordvik legesenter"), "\(status.output)")
        // An unsigned file (the demo's own request, in the archive) is a failure.
        #expect(
            try CLI.run(["verify", CLI.packageRoot.appendingPathComponent("samples/in-Kommunikasjonstest.xml").path])
                .output.contains("FAILED: not signed"))
    }

    @Test func keygenMakesAPairAndAnExposedKeyIsRefused() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        let made = try CLI.run(["keygen", keys, "--common-name", "Nanset legekontor", "--days", "30"])
        #expect(made.status == 0 && made.output.contains("signing.key = \(keys)/signing.key"), "\(made.output)")
        var info = stat()
        #expect(stat(keys + "/signing.key", &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try CLI.run(["keygen", keys]).output.contains("never overwrites"))
        // A spool configured with it; the key made readable by others: refused with the chmod.
        let spool = directory.appendingPathComponent("spool").path
        #expect(
            try CLI.run([
                "init", spool, "--office-name", "Nanset legekontor", "--organisation-number", "971318864", "--her-id",
                "1234",
            ]).status == 0)
        let conf = spool + "/timebok.conf"
        var text = try String(contentsOfFile: conf, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "# signing.key = /etc/timebok/signing.key", with: "signing.key = \(keys)/signing.key"
        )
        .replacingOccurrences(
            of: "# signing.certificate = /etc/timebok/signing.crt", with: "signing.certificate = \(keys)/signing.crt")
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        #expect(chmod(conf, 0o640) == 0)
        let warned = try CLI.run(["books", "--spool", spool])
        #expect(
            warned.status == 0 && warned.output.contains("warning: The signing certificate CN=Nanset legekontor")
                && warned.output.contains("expires"), "30 days: a warning on every start\n\(warned.output)")
        #expect(chmod(keys + "/signing.key", 0o644) == 0)
        let refused = try CLI.run(["process", spool])
        #expect(refused.status == 78 && refused.output.contains("chmod 600 \(keys)/signing.key"), "\(refused.output)")
    }
}

/// Patient lists as spreadsheets write them: a byte-order mark, quoted fields (issue 8's CSV finding).
/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct PatientImport {
    @Test func aByteOrderMarkAndQuotedFieldsAreRead() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        let csv = directory.appendingPathComponent("liste.csv")
        let text =
            "\u{FEFF}fnr;family_name;given_name;groups\r\n14035623036;\"Åsmundsen; jr.\";Ragnhild;risikogruppe|helsepersonell\r\n22098641169;Solbakken;Eirik;\r\n"
        try Data(text.utf8).write(to: csv)
        let imported = try CLI.run(["patients", "import", csv.path, "--replace", "--spool", spool])
        #expect(
            imported.status == 0 && imported.output.contains("Replaced the list with 2 patients in 2 groups"),
            "\(imported.output)")
        let listed = try CLI.run(["patients", "--show-identity", "--spool", spool]).output
        #expect(listed.contains("14035623036  Åsmundsen; jr., Ragnhild  [helsepersonell, risikogruppe]"), "\(listed)")
    }

    @Test func versionIsTheOneTheAppRecsCarry() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        try FileManager.default.copyItem(
            atPath: CLI.packageRoot.appendingPathComponent("samples/in-ReserverAvtale-resourcebook.xml").path,
            toPath: spool + "/inbox/rt.xml")
        _ = try CLI.run(["process", spool])
        let receipt = try #require(
            try FileManager.default.contentsOfDirectory(atPath: spool + "/outbox").first {
                $0.contains("-AppRec-") && $0.hasSuffix(".xml")
            })
        let text = try String(contentsOfFile: spool + "/outbox/" + receipt, encoding: .utf8)
        let carried = try #require(text.firstMatch(of: /<SoftwareVersion>([^<]+)<\/SoftwareVersion>/)).output.1
        let version = try CLI.run(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty && String(carried) == version, "--version \(version), AppRec \(carried)")
    }
}
