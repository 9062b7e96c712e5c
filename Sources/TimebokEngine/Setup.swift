import Booking
import Foundation
import TimebokCore
import TimebokSpool

/// Creating a spool: its folders, its configuration and its database.
public enum SpoolSetup {
    /// Creates the folders and `timebok.conf`, and opens the store. Refuses a folder that already
    /// has a configuration (nothing is overwritten).
    public static func create(root: String, config: TimebokConfig) throws {
        let spool = Spool(root: root)
        let configPath = spool.root + "/" + TimebokConfig.fileName
        if FileManager.default.fileExists(atPath: configPath) {
            throw TimebokConfig.Invalid(
                .alreadyASpool,
                "\(configPath) already exists; \(spool.root) is already a timebok spool (nothing was changed).")
        }
        // Round-trip through the parser: what init writes must be what the daemon accepts.
        _ = try TimebokConfig.parse(config.rendered(), name: configPath)
        try spool.createLayout(group: config.spoolGroup)
        _ = try spool.publish(Array(config.rendered().utf8), toDirectory: spool.root, name: TimebokConfig.fileName)
        // 0600 before SQLite opens it: its WAL and shared-memory files take the database's mode.
        try spool.createPrivateFile(spool.databasePath)
        _ = try BookingStore(path: spool.databasePath, migrations: EngineRecords.migrations)
    }

    /// Writes a signing pair into `state/` (the key 0600, the certificate 0640) and returns their paths.
    public static func installSigningPair(
        root: String, keyPEM: String, certificatePEM: String
    ) throws -> (key: String, certificate: String) {
        let spool = Spool(root: root)
        let key = spool.path(.state) + "/signing.key"
        try spool.createPrivateFile(key, contents: Array(keyPEM.utf8))
        _ = try spool.publish(Array(certificatePEM.utf8), to: .state, name: "signing.crt")
        return (key, spool.path(.state) + "/signing.crt")
    }
}
