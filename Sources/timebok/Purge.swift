import ArgumentParser
import Foundation
import TimebokEngine

struct Purge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove old health data from the archive, error/ and the ledger (retention).",
        discussion: """
            Removes the day folders of archive/ older than archive.keep-days (default 90) and of error/ older \
            than error.keep-days (180), with the copies of their outputs the ledger keeps; what duplicate \
            detection needs (sender, MsgId, content hash) stays for ledger.keep-days (90). journal/, results/ \
            and outbox/ are never touched: the EPJ and the transport remove what they have collected. Each \
            purge is logged in state/purge.log. Run it daily (cron, a systemd timer).

            Examples:
              timebok purge /srv/timebok --dry-run
              timebok purge /srv/timebok
            """)

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    @Flag(help: "Only say what would be removed.")
    var dryRun = false

    func run() throws {
        let engine: Engine
        engine = try openSpool(directory, warn: false)
        let report = try engine.purge(dryRun: dryRun)
        print("\(dryRun ? "Dry run: " : "")\(report.summary.prefix(1).uppercased() + report.summary.dropFirst()).")
        for name in report.archiveFolders { print("  archive/\(name)") }
        for name in report.errorFolders { print("  error/\(name)") }
    }
}
