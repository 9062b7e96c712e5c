import Foundation
import Testing

/// The office's side as an operator meets it: the built `timebok` on a temporary spool.
/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct OperatorStory {
    @Test func initDemoThenWorkTheBooksByCommandLineAndByFile() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path

        let created = try CLI.run(["init", spool, "--demo"])
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("Opened 240 slots in \"Lab\""))
        #expect(
            try CLI.run(["init", spool, "--demo"]).output.contains("already a timebok spool"), "init never overwrites")

        // A new resource book, by command line: created unpublished, then published.
        let create = try CLI.run([
            "books", "create", "koronatest", "--kind", "resource", "--name", "Koronatest", "--category", "Koronatest",
            "--her-id", "1234503", "--slot-minutes", "10", "--capacity", "4", "--information-text", "Ha med munnbind.",
            "--min-age", "18", "--confirmation", "automatic", "--spool", spool,
        ])
        #expect(create.status == 0, "\(create.output)")
        #expect(try CLI.run(["books", "publish", "koronatest", "--spool", spool]).status == 0)
        let books = try CLI.run(["books", "--spool", spool]).output
        #expect(books.contains("koronatest: Koronatest (resource, Koronatest), HER-id 1234503"))
        #expect(books.contains("published on helsenorge, automatic confirmation, 10-minute slots, capacity 4, 0 slots"))
        #expect(books.contains("access: list patients aged 18 or older"))

        // Slots from opening hours, then one more by hand; an overlapping one is refused.
        let hours = try CLI.run([
            "slots", "open-hours", "koronatest", "--from", "2027-01-04", "--to", "2027-01-08", "--hours",
            "mon-fri 08:00-09:00", "--closed", "2027-01-06", "--spool", spool,
        ])
        #expect(hours.output.contains("ok: Opened 24 slots"), "\(hours.output)")
        let overlap = try CLI.run([
            "slots", "open", "koronatest", "2027-01-04T08:05", "2027-01-04T08:15", "--spool", spool,
        ])
        #expect(overlap.status == 1 && overlap.output.contains("error TB-0305"), "\(overlap.output)")
        let listed = try CLI.run([
            "slots", "list", "koronatest", "--from", "2027-01-04", "--to", "2027-01-04", "--spool", spool,
        ]).output
        #expect(listed.contains("6 slots in koronatest"))
        let slotId = try #require(listed.split(separator: "\n").first.map { String($0.split(separator: " ")[0]) })

        // Patients from a CSV file; a bad fødselsnummer is refused with nothing imported.
        let csv = directory.appendingPathComponent("liste.csv")
        try
            "fnr;family_name;given_name;groups\n14035623036;Åsmundsen;Ragnhild;risikogruppe\n22098641169;Solbakken;Eirik;\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        #expect(
            try CLI.run(["patients", "import", csv.path, "--replace", "--spool", spool]).output.contains(
                "Replaced the list with 2 patients in 1 group"))
        let bad = directory.appendingPathComponent("bad.csv")
        try "14035623036;Åsmundsen;Ragnhild;\n14035623037;Feil;Nummer;\n".write(
            to: bad, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["patients", "import", bad.path, "--spool", spool])
        #expect(
            refused.status == 1 && refused.output.contains("error TB-0308") && refused.output.contains("140356*****"))
        #expect(try CLI.run(["patients", "--spool", spool]).output.contains("2 patients."))

        // The office books, moves and cancels.
        let booked = try CLI.run([
            "appointments", "book", slotId, "22098641169", "--text", "Test før reise", "--spool", spool,
        ])
        #expect(booked.status == 0, "\(booked.output)")
        let appointmentId = try #require(
            booked.output.split(separator: "\n").first { $0.contains("created appointment") }.map {
                String($0.split(separator: " ").last!)
            })
        #expect(
            try CLI.run(["appointments", "--patient", "22098641169", "--spool", spool]).output.contains(
                "\(appointmentId)  confirmed  koronatest  2027-01-04T08:00:00"))
        // Retrying with the same --id is safe: applied once.
        let retried = try CLI.run(["appointments", "book", slotId, "14035623036", "--id", "retry-1", "--spool", spool])
        let retriedAgain = try CLI.run([
            "appointments", "book", slotId, "14035623036", "--id", "retry-1", "--spool", spool,
        ])
        #expect(
            retried.output.contains("ok: Booked") && retriedAgain.output.contains("ok: Already applied: Booked"),
            "\(retriedAgain.output)")
        #expect(
            try CLI.run(["slots", "open", "koronatest", "2027-01-11T08:00+01:00", "2027-01-11T08:10", "--spool", spool])
                .output.contains("must be a local date-time"))
        #expect(
            try CLI.run([
                "gps", "set", "--her-id", "91095", "--hpr", "9144897", "--family-name", "Fjeld", "--given-name",
                "Hanne", "--spool", spool,
            ]).status != 0,
            "the GP's switches must be said, never defaulted")
        let cancelled = try CLI.run([
            "appointments", "cancel", appointmentId, "--reason", "Avlyst av tjeneste", "--spool", spool,
        ])
        #expect(cancelled.status == 0, "\(cancelled.output)")
        #expect(
            try CLI.run(["appointments", "cancel", appointmentId, "--spool", spool]).output.contains("error TB-0311"))

        // An overlong information text by command line: the model's own check.
        let long = try CLI.run([
            "books", "update", "lab", "--information-text", String(repeating: "x", count: 301), "--spool", spool,
        ])
        #expect(long.status == 1 && long.output.contains("error TB-0303: The information text has 301 characters"))

        // Commands by file: one good, one bad; results and archive/error as documented.
        let commands = URL(fileURLWithPath: spool).appendingPathComponent("commands")
        try
            #"<Command xmlns="http://timebok.no/xmlstds/command/v1" id="epj-1"><SetGpSettings><HerId>91095</HerId><Hpr>9144897</Hpr><FamilyName>Fjeld</FamilyName><GivenName>Hanne</GivenName><RessursoversiktEnabled>false</RessursoversiktEnabled><PersonalBookOpen>true</PersonalBookOpen></SetGpSettings></Command>"#
            .write(to: commands.appendingPathComponent("gp.xml"), atomically: true, encoding: .utf8)
        try
            #"<Command xmlns="http://timebok.no/xmlstds/command/v1" id="epj-2"><CloseSlot><SlotId>nosuch</SlotId></CloseSlot></Command>"#
            .write(to: commands.appendingPathComponent("close.xml"), atomically: true, encoding: .utf8)
        let processed = try CLI.run(["process", spool])
        #expect(processed.status == 1, "one command was rejected")
        #expect(processed.output.contains("epj-1: ok: GP Hanne Fjeld (HPR 9144897): Ressursoversikt off"))
        #expect(processed.output.contains("epj-2: error TB-0306: There is no slot with id \"nosuch\"."))
        #expect(processed.output.contains("2 files processed, 1 refused."))
        let results = try FileManager.default.contentsOfDirectory(atPath: spool + "/results").sorted()
        #expect(results.count == 2 && results.allSatisfy { $0.hasSuffix("-epj-1.xml") || $0.hasSuffix("-epj-2.xml") })
        let validated = try CLI.run(["validate"] + results.map { spool + "/results/" + $0 })
        #expect(validated.status == 0, "results follow our schema: \(validated.output)")

        // Every invocation is a restart: the GP setting from the file is there for the next process.
        #expect(
            try CLI.run(["gps", "--spool", spool]).output.contains(
                "Hanne Fjeld: HER-id 91095, HPR 9144897, Ressursoversikt off, personal book open"))
    }

    @Test func everyModelCommandExplainsItselfWithAnExample() throws {
        let commands = [
            ["demo"], ["init"], ["process"], ["booking"], ["validate"],
            ["books"], ["books", "list"], ["books", "create"], ["books", "update"], ["books", "publish"],
            ["books", "unpublish"],
            ["slots"], ["slots", "list"], ["slots", "open"], ["slots", "open-hours"], ["slots", "close"],
            ["patients"], ["patients", "list"], ["patients", "import"],
            ["requests"], ["requests", "list"], ["requests", "confirm"], ["requests", "reject"],
            ["appointments"], ["appointments", "list"], ["appointments", "book"], ["appointments", "move"],
            ["appointments", "cancel"],
            ["appointments", "no-show"], ["appointments", "complete"], ["gps"], ["gps", "list"], ["gps", "set"],
            ["test-connection"], ["purge"], ["check"], ["backup"],
        ]
        for command in commands {
            let help = try CLI.run(command + ["--help"])
            #expect(help.status == 0)
            #expect(
                help.output.contains("timebok \(command.joined(separator: " "))"),
                "`timebok \(command.joined(separator: " ")) --help` shows an example")
        }
    }

    @Test func processPrintsTheRealCodeOfEveryRefusedMessage() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        try "<MsgHead".write(toFile: spool + "/inbox/broken.xml", atomically: true, encoding: .utf8)
        let planned = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml"), encoding: .utf8)
        try planned.replacingOccurrences(of: "<Id>115851</Id>", with: "<Id>999999</Id>").write(
            toFile: spool + "/inbox/stranger.xml", atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: spool + "/timebok.conf", encoding: .utf8)
        config = config.replacingOccurrences(of: "limits.settle-seconds = 2", with: "limits.settle-seconds = 0")
        try config.write(toFile: spool + "/timebok.conf", atomically: true, encoding: .utf8)
        let processed = try CLI.run(["process", spool])
        #expect(processed.status == 1)
        #expect(processed.output.contains("error TB-0105: The input is not well-formed XML."), "\(processed.output)")
        #expect(processed.output.contains("error TB-0402: It comes from HER-id 999999"), "\(processed.output)")
        #expect(!processed.output.contains("TB-0321"))
    }

    @Test func testConnectionSendsAKommunikasjonstestAndWaitsForItsAnswer() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = directory.appendingPathComponent("spool").path
        #expect(try CLI.run(["init", spool, "--demo"]).status == 0)
        let sent = try CLI.run(["test-connection", spool])
        #expect(sent.status == 0, "\(sent.output)")
        let msgId = try #require(sent.output.split(separator: " ").dropFirst().first.map(String.init))
        #expect(sent.output.contains("Kommunikasjonstest \(msgId) sent: outbox/"))
        // Nobody answers: --wait gives up with exit 1 and says what to check.
        let unanswered = try CLI.run(["test-connection", spool, "--wait", "0.5"])
        #expect(
            unanswered.status == 1 && unanswered.output.contains("no answer to Kommunikasjonstest"),
            "\(unanswered.output)")
        // helsenorge's RKT for the first test arrives: the next pass reports it.
        let rkt = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/out-Kommunikasjonstest-RKT.xml"),
            encoding: .utf8)
        let answer = try #require(Self.answering(rkt, msgId: msgId))
        try answer.write(toFile: spool + "/inbox/rkt.xml", atomically: true, encoding: .utf8)
        let processed = try CLI.run(["process", spool])
        #expect(processed.status == 0, "\(processed.output)")
        #expect(
            processed.output.contains("answers Kommunikasjonstest \(msgId)") && processed.output.contains("round trip"),
            "\(processed.output)")
    }

    /// Our RKT sample turned into helsenorge's answer to `msgId`: helsenorge → office, RefToParent = msgId.
    static func answering(_ sample: String, msgId: String) -> String? {
        guard let sender = sample.range(of: "<Sender>"), let senderEnd = sample.range(of: "</Sender>"),
            let receiver = sample.range(of: "<Receiver>"), let receiverEnd = sample.range(of: "</Receiver>")
        else { return nil }
        let senderBody = String(sample[sender.upperBound..<senderEnd.lowerBound])
        let receiverBody = String(sample[receiver.upperBound..<receiverEnd.lowerBound])
        var text = sample.replacingOccurrences(
            of: "<Sender>" + senderBody + "</Sender>", with: "<Sender>@@R@@</Sender>")
        text = text.replacingOccurrences(
            of: "<Receiver>" + receiverBody + "</Receiver>", with: "<Receiver>" + senderBody + "</Receiver>")
        text = text.replacingOccurrences(of: "@@R@@", with: receiverBody)
        text = text.replacing(/<RefToParent>[^<]*<\/RefToParent>/, with: "<RefToParent>\(msgId)</RefToParent>")
        return text.replacing(/<MsgId>[^<]*<\/MsgId>/, with: "<MsgId>\(UUID().uuidString.lowercased())</MsgId>")
    }
}
