import ArgumentParser
import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokEngine

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: a demo office in a fresh spool, commands by file and by command line, a tour.",
        discussion: """
            Creates a spool with the demo office (as `timebok init DIR --demo`), applies two command files the \
            way an EPJ would drop them (one good, one with an error), books an appointment from the command \
            line, and prints what happened and where to look.

            Example:
              timebok demo                 # in a new folder under /tmp
              timebok demo ./my-demo
            """)

    @Argument(
        help: ArgumentHelp(
            "The spool folder to create (default: a new folder under the temporary folder).", valueName: "dir"))
    var directory: String?

    @OptionGroup var schemas: SchemaOptions

    func run() throws {
        let root =
            directory
            ?? (NSTemporaryDirectory() + "timebok-demo-"
                + UTCStamp.compact(Date()).replacingOccurrences(of: ".", with: "-"))
        let initialize = try Init.parse(
            [root, "--demo"] + (schemas.official.map { ["--schemas", $0] } ?? [])
                + (schemas.own.map { ["--own-schemas", $0] } ?? []))
        try initialize.run()
        let engine = try Engine(spoolRoot: root, clock: BusinessClock.now)

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
            // As producers should: write a temporary name, then rename it in.
            let temporary = engine.spool.path(.commands) + "/." + name + ".tmp"
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            try FileManager.default.moveItem(atPath: temporary, toPath: engine.spool.path(.commands) + "/" + name)
        }
        let process = try ProcessCommand.parse([root])
        do { try process.run() } catch let exit as ExitCode where exit.rawValue == 1 {}  // one file is meant to fail

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
        let temporary = engine.spool.path(.inbox) + "/.hent-ledige-timer.xml.tmp"
        try Data(MessageCodec.encode(request)).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(
            atPath: temporary, toPath: engine.spool.path(.inbox) + "/hent-ledige-timer.xml")
        let answered = try engine.process()
        for outcome in answered.outcomes { printOutcome(outcome, prefix: "  ") }
        var shown = Set<String>()
        showNewOutbox(engine, shown: &shown)

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
            showNewOutbox(engine, shown: &shown)
        }

        print(
            """

            == Look around
              \(root)/timebok.conf              the configuration (documented)
              \(root)/results/                  one result per command file
              \(root)/archive/\(today)/         applied command files with copies of their results
              \(root)/error/\(today)/           refused files, each with NAME.reason.txt
              \(root)/outbox/                   answers and pushes to helsenorge, each with NAME.meta
              \(root)/journal/                  a journal entry for every booking event
              timebok books --spool \(root)
              timebok slots list lab --spool \(root) --from \(day) --to \(day)
              timebok appointments --spool \(root)
              timebok validate samples/*.xml            every sample message of the protocol, checked
            """)
    }

    /// One readable line per message that appeared in outbox/ since the last call.
    private func showNewOutbox(_ engine: Engine, shown: inout Set<String>) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: engine.spool.path(.outbox))) ?? []).filter {
            $0.hasSuffix(".xml")
        }.sorted()
        let reader = MessageCodec(
            schemas: nil, options: DecodingOptions(allowTestIdentityNumbers: true, checkInboundRules: false))
        for name in names where shown.insert(name).inserted {
            guard let data = FileManager.default.contents(atPath: engine.spool.path(.outbox) + "/" + name),
                case .dialog(let message, let function)? = try? reader.decode(Array(data))
            else {
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
    }
}
