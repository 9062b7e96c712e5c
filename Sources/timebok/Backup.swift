import ArgumentParser
import Foundation
import TimebokEngine

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the spool's database to a new file, consistently, while timebok runs.",
        discussion: """
            Writes a consistent copy of state/timebok.sqlite (the books, patients, bookings and the message \
            ledger) to FILE with SQLite's VACUUM INTO, readable by its owner only; FILE must not exist. To \
            restore: stop every timebok on the spool, copy the backup to state/timebok.sqlite (mode 0600), \
            remove state/timebok.sqlite-wal and -shm, start again. Messages answered after the backup are \
            then unknown to the ledger: keep backups frequent (daily, and before an upgrade).

            Example:
              timebok backup /srv/timebok /srv/backup/timebok-$(date +%F).sqlite
            """)

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    @Argument(help: ArgumentHelp("The new backup file.", valueName: "file"))
    var file: String

    func run() throws {
        let engine: Engine
        engine = try openSpool(directory, warn: false)
        let destination = URL(fileURLWithPath: file).standardizedFileURL.path
        do { try engine.backup(to: destination) } catch { throw CLIError("\(error)") }
        print("ok: the database of \(engine.spool.root) copied to \(destination).")
    }
}
