import Booking
import Foundation
import TimebokCore
import TimebokSpool

extension Engine {
    /// What a purge removed (or, dry, would remove).
    public struct PurgeReport: Sendable {
        public var archiveFolders: [String] = []
        public var errorFolders: [String] = []
        /// Published outputs whose stored bytes the ledger forgot.
        public var outputsCleared = 0
        /// Ledger entries removed (their duplicate window is over).
        public var entriesRemoved = 0
        public var dryRun = false

        public var summary: String {
            "\(dryRun ? "would remove" : "removed") \(archiveFolders.count) archive day folder\(archiveFolders.count == 1 ? "" : "s")"
                + (archiveFolders.isEmpty ? "" : " (\(archiveFolders.first!)…\(archiveFolders.last!))")
                + ", \(errorFolders.count) error day folder\(errorFolders.count == 1 ? "" : "s")"
                + (errorFolders.isEmpty ? "" : " (\(errorFolders.first!)…\(errorFolders.last!))")
                + ", the stored bytes of \(outputsCleared) output\(outputsCleared == 1 ? "" : "s") and \(entriesRemoved) ledger entr\(entriesRemoved == 1 ? "y" : "ies")"
        }
    }

    /// Retention (`archive.keep-days`, `error.keep-days`, `ledger.keep-days`), by the business
    /// clock's date: removes older day folders of `archive/` and `error/`, forgets the ledger's copies
    /// of outputs as old as the archive kept, and removes ledger entries past the duplicate window.
    /// Never touches `journal/`, `results/` or `outbox/` (their readers remove them) or anything not
    /// yet published. Each purge that removes something is logged in `state/purge.log`.
    public func purge(dryRun: Bool = false) throws -> PurgeReport {
        let lock = try spool.lock()
        defer { withExtendedLifetime(lock) {} }
        let now = clock()
        let today = Oslo.today(at: now)
        var report = PurgeReport(dryRun: dryRun)
        report.archiveFolders = spool.dayFolders(
            in: .archive, before: today.adding(days: -config.archiveKeepDays).description)
        report.errorFolders = spool.dayFolders(
            in: .error, before: today.adding(days: -config.errorKeepDays).description)
        let midnight = { (days: Int) in
            Oslo.secondsSinceEpoch(for: LocalDateTime(date: today.adding(days: -days), hour: 0, minute: 0))
        }
        let counts = try store.write {
            try $0.purgeLedger(
                bytesBefore: midnight(config.archiveKeepDays), entriesBefore: midnight(config.ledgerKeepDays),
                apply: !dryRun)
        }
        report.outputsCleared = counts.outputs
        report.entriesRemoved = counts.entries
        guard !dryRun else { return report }
        for name in report.archiveFolders { try spool.removeDayFolder(name, in: .archive) }
        for name in report.errorFolders { try spool.removeDayFolder(name, in: .error) }
        if !report.archiveFolders.isEmpty || !report.errorFolders.isEmpty || report.outputsCleared > 0
            || report.entriesRemoved > 0
        {
            let line =
                "\(Oslo.xsDateTime(now)) purge (archive \(config.archiveKeepDays) d, error \(config.errorKeepDays) d, ledger \(config.ledgerKeepDays) d): \(report.summary)\n"
            try spool.appendLog(line, name: "purge.log")
        }
        return report
    }
}
