import Foundation
import GRDB
import Testing
import TimebokCore
import TimebokDemo
import TimebokSchemas
import TimebokTestKit
import TimebokXML

@testable import Booking
@testable import TimebokEngine
@testable import TimebokSpool

/// The engine on a temporary spool: command files in, results and archive/error out, exactly once.
final class TemporarySpool {

    let root: String
    /// The business clock every engine of this spool reads (an engine made earlier sees it move).
    let businessClock = ManualClock(
        Oslo.instant(for: LocalDateTime(year: 2026, month: 12, day: 1, hour: 12, minute: 0)))
    var clock: Date {
        get { businessClock.now }
        set { businessClock.set(newValue) }
    }

    /// `settleSeconds` 0 (the default here): a file that is not well-formed is refused at once, so no
    /// test depends on how long ago the file system says a file was written. `official`: check
    /// messages against the official schema set too (tests that do are gated on the reference
    /// material); otherwise the spool runs at the built-in level, as a fresh clone does.
    init(settleSeconds: Int = 0, official: Bool = false, configure: (inout TimebokConfig) -> Void = { _ in }) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("timebok-engine-\(UUID().uuidString)").path
        var config = DemoOffice.config(
            officialSchemas: official ? ReferenceMaterial.schemas.path : nil, ownSchemas: nil)
        config.settleSeconds = settleSeconds
        configure(&config)
        try SpoolSetup.create(root: root, config: config)
    }

    /// A copy of another temporary spool (its model, its waiting files), at the same business instant.
    init(copying other: String, at instant: Date) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("timebok-engine-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: other, toPath: root)
        businessClock.set(instant)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func engine(fileSystem: FileSystemSeam = .system) throws -> Engine {
        try Engine(spoolRoot: root, clock: businessClock.function, fileSystem: fileSystem)
    }

    func drop(_ text: String, as name: String) throws {
        try text.write(toFile: root + "/commands/" + name, atomically: true, encoding: .utf8)
    }

    func files(_ folder: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root + "/" + folder)
        var result: [String] = []
        while let item = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + folder + "/" + item, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result.append(item)
            }
        }
        return result.sorted()
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: root + "/" + path, encoding: .utf8)) ?? "" }
}

func command(_ id: String, _ body: String) -> String {
    #"<?xml version="1.0" encoding="UTF-8"?><Command xmlns="http://timebok.no/xmlstds/command/v1" id="\#(id)">\#(body)</Command>"#
}

let createLab =
    "<CreateBook><Id>lab</Id><Kind>resource</Kind><Name>Lab</Name><Category>Lab</Category><HerId>1234501</HerId><InformationText>Faste.</InformationText><SlotMinutes>15</SlotMinutes><Capacity>2</Capacity></CreateBook>"

@Suite struct CommandFiles {
    @Test func aCommandIsAppliedAnsweredAndArchived() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "create.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.count == 1 && report.outcomes[0].ok)
        #expect(spool.files("commands").isEmpty && spool.files("processing").isEmpty)
        let results = spool.files("results")
        #expect(results.count == 1 && results[0].hasSuffix("-c-1.xml"))
        let result = spool.read("results/" + results[0])
        #expect(result.contains("<Status>ok</Status>") && result.contains(#"<Ref kind="book" id="lab"/>"#))
        let schema = try OwnSchemas.compile(OwnSchemas.command)
        #expect(
            schema.validate(try HardenedXMLParser.parse(string: result)).isEmpty, "the result follows command-v1.xsd")
        #expect(
            spool.files("archive") == ["2026-12-01/create.xml", "2026-12-01/create.xml.outputs/results-\(results[0])"])
        #expect(try spool.engine().store.read { try $0.book(id: "lab") } != nil)
    }

    @Test func aPublishedResultIsNotPublishedAgain() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "create.xml")
        _ = try spool.engine().process()
        // The EPJ reads and removes its result; the transport delivers the same command again.
        for name in spool.files("results") {
            try FileManager.default.removeItem(atPath: spool.root + "/results/" + name)
        }
        try spool.drop(command("c-1", createLab), as: "again.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.first?.duplicate == true)
        #expect(spool.files("results").isEmpty, "a consumed result does not come back")
    }

    @Test func aSecondRunWaitsForTheFirstOnesLock() throws {
        let spool = try TemporarySpool()
        let engine = try spool.engine()
        let held = try engine.spool.lock()
        #expect(throws: (any Error).self) { _ = try spool.engine().process() }
        withExtendedLifetime(held) {}
    }

    @Test func theSameCommandTwiceIsAppliedOnce() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "create.xml")
        _ = try spool.engine().process()
        try spool.drop(command("c-1", createLab), as: "create-again.xml")
        let again = try spool.engine().process()
        #expect(
            again.outcomes.first?.duplicate == true && again.outcomes.first?.ok == true,
            "not an error: the transport may deliver twice")
        #expect(
            spool.files("results").count == 1, "the recorded result is republished, byte-identical, not a second one")
        #expect(spool.files("archive").contains("2026-12-01/create-again.xml"))
    }

    @Test func aReusedIdWithOtherContentIsRefused() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "create.xml")
        _ = try spool.engine().process()
        try spool.drop(
            command("c-1", "<SetBookingEnabled><Enabled>false</Enabled></SetBookingEnabled>"), as: "other.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.first?.error?.code == ModelError.Code.commandIdReused.rawValue)
        #expect(try spool.engine().store.read { try $0.bookingEnabled() }, "nothing changed")
        #expect(spool.files("error") == ["2026-12-01/other.xml", "2026-12-01/other.xml.reason.txt"])
        #expect(spool.read("error/2026-12-01/other.xml.reason.txt").contains("TB-0317"))
    }

    @Test func badFilesGetSpecificErrorsAndChangeNothing() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "a-create.xml")
        _ = try spool.engine().process()
        let before = try spool.engine().store.read {
            (try $0.books(), try $0.slotCount(bookId: "lab"), try $0.patientCount())
        }
        let cases: [(String, String, String)] = [
            (
                "b-unknown-book.xml",
                command(
                    "c-2",
                    "<OpenSlot><BookId>nosuch</BookId><Start>2026-12-07T08:00:00</Start><End>2026-12-07T08:15:00</End></OpenSlot>"
                ), "TB-0301"
            ),
            (
                "c-long-text.xml",
                command(
                    "c-3",
                    "<UpdateBook><Id>lab</Id><InformationText>\(String(repeating: "x", count: 301))</InformationText></UpdateBook>"
                ), "TB-0316"
            ),
            (
                "d-bad-fnr.xml",
                command(
                    "c-4",
                    #"<ImportPatients mode="update"><Patient><Fnr>12345678901</Fnr><FamilyName>X</FamilyName><GivenName>Y</GivenName></Patient></ImportPatients>"#
                ), "TB-0308"
            ),
            (
                "e-malformed.xml", "<Command xmlns=\"http://timebok.no/xmlstds/command/v1\" id=\"c-5\"><OpenSlot>",
                "TB-0315"
            ),
            ("f-invalid.xml", command("c-6", "<OpenSlot><BookId>lab</BookId></OpenSlot>"), "TB-0316"),
            (
                "g-doctype.xml",
                "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Command xmlns=\"http://timebok.no/xmlstds/command/v1\" id=\"c-7\">&e;</Command>",
                "TB-0315"
            ),
        ]
        for (name, text, _) in cases { try spool.drop(text, as: name) }
        // Slot overlap needs a slot first.
        try spool.drop(
            command(
                "c-8",
                "<OpenSlot><BookId>lab</BookId><Start>2026-12-07T08:00:00</Start><End>2026-12-07T08:15:00</End></OpenSlot>"
            ), as: "h-slot.xml")
        try spool.drop(
            command(
                "c-9",
                "<OpenSlot><BookId>lab</BookId><Start>2026-12-07T08:05:00</Start><End>2026-12-07T08:20:00</End></OpenSlot>"
            ), as: "i-overlap.xml")
        let report = try spool.engine().process()
        let codes = report.outcomes.map { $0.error?.code ?? "ok" }
        #expect(codes == cases.map(\.2) + ["ok", "TB-0305"])
        let errorFiles = spool.files("error")
        for (name, _, code) in cases + [("i-overlap.xml", "", "TB-0305")] {
            #expect(errorFiles.contains("2026-12-01/\(name)"))
            #expect(
                spool.read("error/2026-12-01/\(name).reason.txt").contains(code), "\(name) has a reason naming \(code)")
        }
        #expect(spool.read("error/2026-12-01/c-long-text.xml.reason.txt").contains("InformationText"))
        #expect(spool.files("results").count == 1 + cases.count + 2, "every file got a result")
        let after = try spool.engine().store.read {
            (try $0.books(), try $0.slotCount(bookId: "lab"), try $0.patientCount())
        }
        #expect(
            after.0 == before.0 && after.1 == before.1 + 1 && after.2 == before.2, "only the good slot changed anything"
        )
    }

    /// The business clock (fixed here far from the real date, either way) never decides whether a
    /// file is young: the file system's own clock does.
    @Test(arguments: [2000, 2026, 2100])
    func aYoungIncompleteFileWaitsAndALeftoverIsRecovered(businessYear: Int) throws {
        let spool = try TemporarySpool(settleSeconds: 3_600)
        spool.clock = Oslo.instant(for: LocalDateTime(year: businessYear, month: 12, day: 1, hour: 12, minute: 0))
        try spool.drop("<Command xmlns=\"http://timebok.no/xmlstds/command/v1\" id=\"c-1\"><Create", as: "young.xml")
        let first = try spool.engine().process()
        #expect(first.waiting == ["young.xml"] && first.outcomes.isEmpty)
        #expect(spool.files("commands") == ["young.xml"], "not rejected: still being written")
        // A run interrupted after claiming: the file sits in processing/.
        try command("c-2", createLab).write(
            toFile: spool.root + "/processing/left.xml", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: spool.root + "/commands/young.xml")
        let second = try spool.engine().process()
        #expect(second.outcomes.map(\.commandId) == ["c-2"] && second.outcomes[0].ok)
        #expect(spool.files("processing").isEmpty && spool.files("archive").contains("\(businessYear)-12-01/left.xml"))
    }

    @Test func recoveryAfterCommitButBeforePublishingRepublishesTheRecordedResult() throws {
        let spool = try TemporarySpool()
        try spool.drop(command("c-1", createLab), as: "create.xml")
        _ = try spool.engine().process()
        let result = spool.files("results")[0]
        let bytes = spool.read("results/" + result)
        // Simulate a crash after the commit: the result was never published (the ledger still holds its
        // bytes, as it does until publishing) and the input is still in processing/.
        try FileManager.default.removeItem(atPath: spool.root + "/results/" + result)
        try FileManager.default.removeItem(atPath: spool.root + "/archive/2026-12-01/create.xml.outputs")
        try spool.engine().store.write {
            try $0.db.execute(sql: "UPDATE ledger_output SET published = 0 WHERE name = ?", arguments: [result])
            try $0.db.execute(
                sql:
                    "INSERT INTO ledger_output_bytes (ledger_id, seq, bytes) SELECT ledger_id, seq, ? FROM ledger_output WHERE name = ?",
                arguments: [Data(bytes.utf8), result])
        }
        try FileManager.default.moveItem(
            atPath: spool.root + "/archive/2026-12-01/create.xml",
            toPath: spool.root + "/processing/commands~create.xml")
        let report = try spool.engine().process()
        #expect(report.outcomes.first?.duplicate == true)
        #expect(
            spool.files("results") == [result] && spool.read("results/" + result) == bytes, "byte-identical, same name")
        #expect(try spool.engine().store.read { try $0.books().count } == 1)
    }

    @Test func restartingKeepsEverything() throws {
        let spool = try TemporarySpool()
        do {
            let engine = try spool.engine()
            for envelope in DemoOffice.commands(today: LocalDate(year: 2026, month: 12, day: 1)) {
                #expect(engine.execute(envelope).ok)
            }
        }
        let reopened = try spool.engine()
        let (books, slots, patients) = try reopened.store.read {
            (try $0.books().map(\.id), try $0.slotCount(bookId: "lab"), try $0.patientCount())
        }
        #expect(books == ["hanne-fjeld", "influensavaksine", "lab"])
        #expect(slots == 20 * 12, "four weeks of weekdays, 08:00–11:00 in 15-minute slots")
        #expect(patients == 4)
    }
}

@Suite struct Configuration {
    @Test func clearErrorsWithLineNumbers() {
        let good = DemoOffice.config(officialSchemas: "/a", ownSchemas: "/b").rendered()
        #expect((try? TimebokConfig.parse(good)) != nil)
        let cases: [(String, String)] = [
            (
                good.replacingOccurrences(of: "office.her-id = 1234", with: "office.her-id = 12a4"),
                "line 6: office.her-id must be 1 to 9 digits"
            ),
            (
                good.replacingOccurrences(of: "987654325", with: "987654321"),
                "not a valid Norwegian organisation number"
            ),
            (good + "\nofice.name = typo\n", "unknown key \"ofice.name\""),
            (good + "\nnot a setting\n", "expected `key = value`"),
            (
                good.replacingOccurrences(
                    of: "identity.allow-test-numbers = false", with: "identity.allow-test-numbers = maybe"),
                "must be true or false"
            ),
            (good.replacingOccurrences(of: "office.name = Fjordvik legesenter\n", with: ""), "office.name is required"),
        ]
        for (text, expected) in cases {
            do {
                _ = try TimebokConfig.parse(text)
                Issue.record("accepted: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
