import Foundation
import Testing

/// A spool whose database is gone, empty or damaged is refused with its own exit status, nothing
/// claimed and nothing recreated; every exit status of `process` means one thing (issue 10, items 2, 3, 8).
@Suite(.serialized) struct SpoolSafety {
    static func demoSpool(in directory: URL) throws -> String {
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml").path, toPath: spool + "/inbox/planned.xml")
        return spool
    }

    @Test func aMissingOrEmptyDatabaseIsRefusedNeverRecreated() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Self.demoSpool(in: directory)
        let database = spool + "/state/timebok.sqlite"
        try FileManager.default.removeItem(atPath: database)
        let missing = try CLI.run(["process", spool])
        #expect(missing.status == 78 && missing.output.contains("\(database) is missing or empty") && missing.output.contains("restore"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: database), "not recreated")
        #expect(try CLI.run(["books", "--spool", spool]).status != 0)
        #expect(FileManager.default.fileExists(atPath: spool + "/inbox/planned.xml"), "nothing claimed")
        _ = FileManager.default.createFile(atPath: database, contents: Data())
        #expect(chmod(database, 0o600) == 0)
        #expect(try CLI.run(["process", spool]).status == 78)
        #expect((try FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) == 0, "still empty")
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
        try handle.write(contentsOf: Data((0..<(8 * 4096)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }))
        try handle.close()
        let damaged = try CLI.run(["process", spool])
        #expect(damaged.status == 78 && (damaged.output.contains("is damaged") || damaged.output.contains("cannot be read")), "\(damaged.output)")
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
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: spool + "/state/timebok.sqlite" + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: spool + "/state/timebok.sqlite")
        let processed = try CLI.run(["process", spool])
        #expect(processed.status == 0 && processed.output.contains("1 file processed, 0 refused."), "\(processed.output)")
        #expect(try CLI.run(["books", "--spool", spool]).output.contains("lab: Lab"))
    }
}
