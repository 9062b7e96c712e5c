import ArgumentParser
import Booking
import Foundation
import TimebokEngine
import TimebokSpool

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a spool: who may read it, and whether its database is sound.",
        discussion: """
            Reports every folder, database file or configuration that other users can read or write (every \
            other command refuses such a spool), with the fix, and runs SQLite's integrity_check on \
            state/timebok.sqlite. Exit status 0 when all is well, 1 otherwise.

            Example:
              timebok check /srv/timebok
            """)

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    func run() throws {
        let spool = Spool(root: directory)
        guard spool.exists else { throw CLIError("\(spool.root) is not a timebok spool (its folders are missing).") }
        var problems = 0
        let exposed = spool.exposedToOthers(configuration: TimebokConfig.fileName)
        if exposed.isEmpty {
            print("ok: only its owner\(Self.groupNote(spool)) can read the spool.")
        } else {
            problems += exposed.count
            print("problem: other users can read or write what holds health data:")
            for path in exposed { print("  \(path)") }
            print("  fix: chmod -R o-rwx \(spool.root)")
        }
        guard FileManager.default.fileExists(atPath: spool.databasePath) else {
            print("problem: \(spool.databasePath) is missing; restore the spool's backup.")
            throw ExitCode(1)
        }
        let findings = try BookingStore(path: spool.databasePath).integrityProblems()
        if findings.isEmpty {
            print("ok: the database passes SQLite's integrity_check.")
        } else {
            problems += findings.count
            print("problem: the database fails SQLite's integrity_check; stop timebok and restore the spool's backup:")
            for finding in findings.prefix(20) { print("  \(finding)") }
        }
        if problems > 0 { throw ExitCode(1) }
    }

    private static func groupNote(_ spool: Spool) -> String {
        var info = stat()
        guard stat(spool.root, &info) == 0, info.st_mode & 0o070 != 0, let group = getgrgid(info.st_gid) else {
            return ""
        }
        return " and group \(String(cString: group.pointee.gr_name))"
    }
}
