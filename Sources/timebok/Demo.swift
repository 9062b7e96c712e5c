import ArgumentParser
import Booking
import Foundation
import HelsenorgeMessages
import Logging
import ServiceLifecycle
import TimebokCore
import TimebokEngine
import TimebokFormats
import TimebokXML

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: a demo office in a fresh spool, commands by file and by command line, a tour.",
        discussion: """
            Creates a spool with the demo office (as `timebok init DIR --demo`) and runs the daemon on it \
            (as `timebok run`, in this process). Then it drops files as the EPJ and helsenorge would: two \
            command files (one good, one with an error), a request for free Lab slots, and the project's \
            own sample requests (samples/in-*.xml); it books an appointment from the command line, prints \
            one line per reply as the daemon writes it, and says where to look. With --keep-running the \
            daemon stays up until Ctrl-C, so you can drop your own files in.

            Example:
              timebok demo                 # in a new folder under /tmp
              timebok demo ./my-demo --keep-running
            """)

    @Argument(
        help: ArgumentHelp(
            "The spool folder to create (default: a new folder under the temporary folder).", valueName: "dir"))
    var directory: String?

    @OptionGroup var schemas: SchemaOptions

    @Flag(help: "Keep the daemon running after the tour, until Ctrl-C.")
    var keepRunning = false

    @Option(
        help: ArgumentHelp(
            "The project's sample requests to drop in (default: samples/ beside the binary's project, or in the current folder).",
            valueName: "dir"))
    var samples: String?

    func run() async throws {
        let root =
            directory
            ?? (NSTemporaryDirectory() + "timebok-demo-"
                + UTCStamp.compact(Date()).replacingOccurrences(of: ".", with: "-"))
        let initialize = try Init.parse(
            [root, "--demo"] + (schemas.official.map { ["--schemas", $0] } ?? [])
                + (schemas.own.map { ["--own-schemas", $0] } ?? []))
        try initialize.run()
        let engine = try Engine(spoolRoot: root, clock: BusinessClock.now)
        // The daemon, as `timebok run` starts it, on its own thread; its log lines stay quiet here
        // (the tour prints the replies), and go to the terminal with --keep-running.
        let logger = Logger(label: "timebok-demo") { _ in
            keepRunning ? TimebokLogHandler(format: .text) as any LogHandler : SwiftLogNoOpLogHandler()
        }
        let daemon = try SpoolDaemon(
            engine: try Engine(spoolRoot: root, clock: BusinessClock.now), logger: logger, scanSeconds: 1)
        let serving = Task { await daemon.run() }
        var shown = Set<String>()

        print("\n== Command files, as an EPJ drops them in \(root)/commands/")
        let today = BusinessClock.today()
        // The next weekday at least two days on (the demo books are open on weekdays).
        var day = today.adding(days: 2)
        while day.weekday > 5 { day = day.adding(days: 1) }
        let files = [
            (
                "open-early-slot.xml",
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Command xmlns="http://timebok.no/xmlstds/command/v1" id="demo-file-1" issuedBy="EPJ">
                  <OpenSlot><BookId>lab</BookId><Start>\(day)T07:30:00</Start><End>\(day)T07:45:00</End><Capacity>3</Capacity></OpenSlot>
                </Command>
                """
            ),
            (
                "overlapping-slot.xml",
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Command xmlns="http://timebok.no/xmlstds/command/v1" id="demo-file-2" issuedBy="EPJ">
                  <OpenSlot><BookId>lab</BookId><Start>\(day)T07:40:00</Start><End>\(day)T07:55:00</End></OpenSlot>
                </Command>
                """
            ),
        ]
        for (name, text) in files {
            try Self.drop(Data(text.utf8), as: name, into: engine.spool.path(.commands))
            // One at a time, so the second one meets the first one's slot.
            try await Self.waitForResults(engine, count: files.firstIndex { $0.0 == name }! + 1)
        }
        Self.showResults(engine)

        print(
            "\n== helsenorge asks for free Lab slots for Ragnhild Åsmundsen (70), as the transport drops it in \(root)/inbox/"
        )
        let helsenorge = Organisation(
            name: engine.config.helsenorgeName, idents: [.organisationHerId(engine.config.helsenorgeHerId)],
            unit: .organisation(
                Organisation(
                    name: engine.config.helsenorgeServiceName,
                    idents: [.organisationHerId(engine.config.helsenorgeServiceHerId)])))
        let lab = Organisation(
            name: engine.config.officeName, idents: [.organisationHerId(engine.config.officeHerId)],
            unit: .organisation(Organisation(name: "Lab", idents: [.organisationHerId("1234501")])))
        let request = DialogMessage(
            info: MsgInfo(
                process: .timereservasjon, genDate: Oslo.xsDateTime(BusinessClock.now()),
                msgId: UUID().uuidString.lowercased(), acknowledgementRequested: false,
                sender: helsenorge, receiver: lab,
                patient: Patient(familyName: "Åsmundsen", givenName: "Ragnhild", identityNumber: "14035623036")),
            dialogmelding: Dialogmelding(foresporsel: [
                Foresporsel(typeForesp: RequestType.hentLedigeTimer.code, fraDato: day, tilDato: day.adding(days: 6))
            ]))
        try Self.drop(Data(MessageCodec.encode(request)), as: "hent-ledige-timer.xml", into: engine.spool.path(.inbox))
        try await showReplies(engine, shown: &shown, expecting: 1)

        if let folder = samplesFolder() {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasPrefix("in-") && $0.hasSuffix(".xml") && !$0.contains("AppRec") }.sorted()
            print(
                "\n== The project's own sample requests (\(folder)), dropped in as helsenorge would: \(names.count) files"
            )
            for name in names {
                guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
                try Self.drop(data, as: name, into: engine.spool.path(.inbox))
            }
            try await showReplies(engine, shown: &shown, expecting: .max, quietAfter: 1.5)
        }

        print("\n== The office books from the command line")
        let slot = try engine.readModel { reader in
            try reader.freeSlots(
                bookId: "hanne-fjeld",
                fromSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: day, hour: 0, minute: 0)),
                toSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: day.adding(days: 1), hour: 0, minute: 0))
            ).first
        }
        if let slot {
            printOutcome(
                engine.execute(
                    CommandEnvelope(
                        id: "demo-cli-1", issuedBy: "demo",
                        command: .bookAppointment(slotId: slot.id, fnr: "14035623036", text: "Kontroll av blodtrykk"))),
                prefix: "  ")
            try await showReplies(engine, shown: &shown, expecting: 1)
        }

        print(
            """

            == Look around
              \(root)/timebok.conf              the configuration (documented)
              \(root)/results/                  one result per command file
              \(root)/archive/\(today)/         every input with the outputs it caused
              \(root)/error/\(today)/           refused files, each with NAME.reason.txt
              \(root)/outbox/                   answers and pushes to helsenorge, each with NAME.meta
              \(root)/journal/                  a journal entry for every booking event
              timebok books --spool \(root)
              timebok slots list lab --spool \(root) --from \(day) --to \(day)
              timebok appointments --spool \(root)
              timebok run \(root)                the daemon again (Ctrl-C stops it)
            """)
        if keepRunning {
            print(
                "\n== The daemon keeps serving \(root): drop files in \(root)/inbox/ or \(root)/commands/; Ctrl-C stops it."
            )
            let group = ServiceGroup(
                services: [DemoWait(daemon: daemon)], gracefulShutdownSignals: [.sigint, .sigterm],
                cancellationSignals: [],
                logger: logger)
            try await group.run()
        }
        daemon.stop()
        await serving.value
    }

    /// Where the project's samples are: --samples, else samples/ of the project the binary was built
    /// in (…/.build/debug/timebok), else ./samples.
    private func samplesFolder() -> String? {
        var candidates: [String] = samples.map { [$0] } ?? []
        // The project the binary was built in: the first folder above it with samples/.
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        while folder.path != "/" {
            candidates.append(folder.appendingPathComponent("samples").path)
            folder.deleteLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/samples")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/in-HentLedigeTimer-resourcebook.xml") }
    }

    /// As producers should: write a dot-file, then rename it in.
    static func drop(_ data: Data, as name: String, into folder: String) throws {
        let temporary = folder + "/." + name + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: folder + "/" + name)
    }

    static func waitForResults(_ engine: Engine, count: Int) async throws {
        for _ in 0..<500 {
            let results = ((try? FileManager.default.contentsOfDirectory(atPath: engine.spool.path(.results))) ?? [])
                .filter { $0.hasSuffix(".xml") }
            if results.count >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func showResults(_ engine: Engine) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: engine.spool.path(.results))) ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
        for name in names {
            guard let data = FileManager.default.contents(atPath: engine.spool.path(.results) + "/" + name),
                let root = (try? HardenedXMLParser.parse(Array(data)))?.root
            else { continue }
            let ns = OfficeNamespace.command
            if let error = root.child(ns, "Error") {
                print("  error \(error.attribute("code") ?? ""): \(error.text)")
            } else {
                print("  ok: \(root.child(ns, "Message")?.text ?? "")")
            }
            print("    results/\(name)")
        }
    }

    /// Prints each reply the daemon writes, until `expecting` have come (or nothing new for `quietAfter` seconds).
    private func showReplies(
        _ engine: Engine, shown: inout Set<String>, expecting: Int, quietAfter: Double = 5
    ) async throws {
        var seen = 0
        var quiet = ContinuousClock.now
        while seen < expecting && ContinuousClock.now - quiet < .seconds(quietAfter) {
            let new = showNewOutbox(engine, shown: &shown)
            if new > 0 { quiet = .now }
            seen += new
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// One readable line per message that appeared in outbox/ since the last call.
    @discardableResult
    private func showNewOutbox(_ engine: Engine, shown: inout Set<String>) -> Int {
        var count = 0
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: engine.spool.path(.outbox))) ?? []).filter {
            $0.hasSuffix(".xml")
        }.sorted()
        let reader = MessageCodec(
            schemas: nil, options: DecodingOptions(allowTestIdentityNumbers: true, checkInboundRules: false))
        for name in names where shown.insert(name).inserted {
            count += 1
            let decoded = FileManager.default.contents(atPath: engine.spool.path(.outbox) + "/" + name).flatMap {
                try? reader.decode(Array($0))
            }
            if case .appRec(let appRec)? = decoded {
                let errors = appRec.errors.map(\.value).joined(separator: ", ")
                print(
                    "  → AppRec \(appRec.appRecStatus?.displayName ?? "?")\(errors.isEmpty ? "" : " (\(errors))") for \(appRec.original.msgType.value)"
                )
                continue
            }
            guard case .dialog(let message, let function)? = decoded else {
                print("  → outbox/\(name)")
                continue
            }
            let code = message.notat?.temaKodet ?? message.foresporsel?.typeForesp
            let events = message.calendar?.events ?? []
            var line = "\(function.rawValue) \(code.map { "\($0.value) \($0.displayName ?? "")" } ?? "")"
                .trimmingCharacters(in: .whitespaces)
            if let first = events.first, let last = events.last {
                line +=
                    events.count == 1
                    ? ": \(first.start)–\(first.end.description.dropFirst(11).prefix(5))"
                    : ": \(events.count) free slots, \(first.start) … \(last.start)"
                if let summary = first.summary { line += " (\(summary))" }
            }
            print("  → " + line)
            print("    outbox/\(name), with its .meta for the transport")
        }
        return count
    }
}

/// With --keep-running: waits for Ctrl-C (SIGINT) or SIGTERM while the daemon serves.
struct DemoWait: Service {
    let daemon: SpoolDaemon

    func run() async throws {
        try? await gracefulShutdown()
    }
}
