import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TimebokCore
import TimebokEngine

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a spool until stopped: answer each message as it arrives (the daemon).",
        discussion: """
            Finishes what an earlier run left (inputs in processing/, outputs not yet published), then \
            answers every file closed or moved into inbox/ and commands/ within milliseconds, rescans \
            the folders every --scan-seconds as a safety net, and answers held requests 26 when their \
            hold runs out. One daemon per spool: a second one exits with status 75.

            SIGTERM or SIGINT: the pass in hand is finished, then exit 0. SIGHUP: timebok.conf is read \
            again; a file that cannot be used is refused in the log and the old configuration stays.
            Under systemd (Type=notify) it says READY=1 after recovery and WATCHDOG=1 from its loop; \
            contrib/systemd/timebok@.service is a unit template.

            Example:
              timebok run /var/spool/timebok/fjordvik
              timebok run /var/spool/timebok/fjordvik --log-format json
            """)

    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    @Option(help: "text (default) or json (one object per line, for log shippers).")
    var logFormat: LogFormat = .text

    @Option(help: "Seconds between rescans of the folders (a safety net beside inotify).")
    var scanSeconds: Double = 2

    func run() async throws {
        let format = logFormat
        LoggingSystem.bootstrap { label in
            TimebokLogHandler(format: format == .json ? .json : .text)
        }
        let logger = Logger(label: "timebok")
        let engine: Engine
        do {
            engine = try openSpool(directory)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(ExitStatus.configuration)
        }
        let daemon: SpoolDaemon
        do {
            daemon = try SpoolDaemon(engine: engine, logger: logger, scanSeconds: max(0.1, scanSeconds))
        } catch let refused as SpoolDaemon.AlreadyRunning {
            logger.critical("\(refused)")
            throw ExitCode(ExitStatus.busy)
        }
        let group = ServiceGroup(
            services: [SpoolService(daemon: daemon)], gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [], logger: logger)
        try await group.run()
    }
}

/// One line per log event on standard error, fødselsnumre masked: readable text (time, level, event
/// code, message, details) or, for log shippers, one JSON object.
struct TimebokLogHandler: LogHandler {
    enum Format { case text, json }

    let format: Format
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        all.merge(event.metadata ?? [:]) { $1 }
        let time = UTCStamp.compact(Date())
        let line: Data
        switch format {
        case .text:
            let code = all.removeValue(forKey: "event").map { "\($0) " } ?? ""
            let details = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = Data("\(time) \(event.level) \(code)\(event.message)\(details.isEmpty ? "" : " [\(details)]")".utf8)
        case .json:
            var object = ["time": time, "level": "\(event.level)", "message": "\(event.message)"]
            for (key, value) in all { object[key] = "\(value)" }
            guard
                let json = try? JSONSerialization.data(
                    withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return }
            line = json
        }
        FileHandle.standardError.write(Data(IdentityMasking.mask(String(decoding: line, as: UTF8.self) + "\n").utf8))
    }
}
