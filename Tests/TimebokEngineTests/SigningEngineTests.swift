import Foundation
import GRDB
import Synchronization
import Testing
import TimebokCore
import TimebokSchemas
import TimebokSigning
import TimebokSpool
import TimebokTestKit
import TimebokXML

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine

/// Two signing pairs for the run, valid 2020–2040 (no date the suite runs at expires them).
enum EngineKeys {
    static let validity = (Date(timeIntervalSince1970: 1_577_836_800), Date(timeIntervalSince1970: 2_208_988_800))
    static func make(_ name: String) -> (keyPEM: String, certificatePEM: String) {
        do {
            return try SigningIdentity.makeSelfSigned(
                commonName: name, organisation: "Fjordvik legesenter", notBefore: validity.0, notAfter: validity.1)
        } catch { preconditionFailure("\(error)") }
    }
    static let office = make("Fjordvik legesenter")
    static let next = make("Fjordvik legesenter 2027")
    static let helsenorge = make("helsenorge test")

    /// Writes a pair into a new folder: (key path, certificate path).
    static func files(_ pair: (keyPEM: String, certificatePEM: String)) throws -> (key: String, certificate: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "timebok-engine-keys-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try pair.keyPEM.write(toFile: folder + "/signing.key", atomically: true, encoding: .utf8)
        #expect(chmod(folder + "/signing.key", 0o600) == 0)
        try pair.certificatePEM.write(toFile: folder + "/signing.crt", atomically: true, encoding: .utf8)
        return (folder + "/signing.key", folder + "/signing.crt")
    }

    static func identity(_ pair: (keyPEM: String, certificatePEM: String)) throws -> SigningIdentity {
        try SigningIdentity(keyPEM: pair.keyPEM, certificatePEM: pair.certificatePEM)
    }
}

@Suite struct SignedConversations {
    static func signingOffice(
        official: Bool = false, incoming: TimebokConfig.IncomingSignatures = .verifyIfPresent, rollover: Date? = nil
    ) throws -> Office {
        let files = try EngineKeys.files(EngineKeys.office)
        let next = try EngineKeys.files(EngineKeys.next)
        return try Office(official: official) { config in
            config.signingKey = files.key
            config.signingCertificate = files.certificate
            config.incomingSignatures = incoming
            if let rollover {
                config.nextSigningKey = next.key
                config.nextSigningCertificate = next.certificate
                config.nextSigningFrom = rollover
            }
        }
    }

    func outboxBytes(_ office: Office) -> [(name: String, bytes: [UInt8])] {
        office.spool.files("outbox").filter { $0.hasSuffix(".xml") }.map {
            ($0, Array(office.spool.read("outbox/" + $0).utf8))
        }
    }

    @Test func everyAnswerAndPushIsSignedAndAppRecsAreNot() throws {
        let office = try Self.signingOffice()
        let hn = office.helsenorge
        _ = try office.send(hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3)))
        _ = try office.send(
            hn.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild,
                slot: try office.freeSlot("influensavaksine"), contact: "1234502"))
        #expect(
            try office.engine().execute(
                CommandEnvelope(
                    id: "push",
                    command: .bookAppointment(
                        slotId: try office.freeSlot("hanne-fjeld").id, fnr: "14035623036", text: nil))
            ).ok)
        let outputs = outboxBytes(office)
        #expect(outputs.count == 4, "SvarLedigeTimer, AppRec, SvarTimeReservasjon 05, Avtale 05")
        for (name, bytes) in outputs {
            let verified = try XMLSignature.verify(bytes, at: office.spool.clock)
            if name.contains("-AppRec-") {
                #expect(verified == nil, "\(name): AppRecs stay unsigned")
            } else {
                #expect(verified?.subject.contains("CN=Fjordvik legesenter") == true, "\(name) is signed")
            }
        }
    }

    /// Counts the renders a test's queue was asked for.
    final class RenderCount: Sendable {
        let value = Mutex(0)
    }

    /// A batch's replies are encoded and signed on other cores while the batch is decided: what is
    /// published is what the ledger records, a second delivery in the batch gets no second answer,
    /// and renders that fail have the batch decided again, each reply signed in its own decision.
    @Test(arguments: [false, true]) func repliesRenderedAsideAreWhatTheLedgerRecords(failingRenders: Bool) throws {
        let office = try Self.signingOffice()
        let inbox = office.spool.root + "/inbox/"
        // Five requests, and one more whose ledger row is refused after its reply went to be
        // rendered: undone alone, and its reply's pending file removed.
        for id in (0..<5).map({ "aside-\($0)" }) + ["aside-poisoned"] {
            var request = office.helsenorge.freeSlots(
                .lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
            request.info.msgId = id
            #expect(
                FileManager.default.createFile(
                    atPath: inbox + id + ".xml", contents: Data(MessageCodec.encode(request))))
        }
        try FileManager.default.copyItem(atPath: inbox + "aside-0.xml", toPath: inbox + "aside-0-again.xml")
        try Batches.refuseLedgerRow(
            of: "aside-poisoned.xml", with: "ABORT, 'poisoned'", named: "poison", in: office.spool)
        let engine = try office.spool.engine()
        let asked = RenderCount()
        engine.makeRenders = { spool in
            RenderQueue(
                render: { dialog, identity throws(SigningError) in
                    asked.value.withLock { $0 += 1 }
                    if failingRenders { throw SigningError(.unsignable, "A render that fails, for the test.") }
                    return try RenderQueue.signed(dialog, with: identity)
                },
                write: { bytes, folder, name in
                    (try? spool.writePending(bytes, to: Spool.Folder(rawValue: folder) ?? .results, name: name)) != nil
                })
        }
        let report = try engine.process()
        #expect(report.retrying.map(\.name) == ["aside-poisoned.xml"], "\(report.retrying)")
        #expect(report.outcomes.count == 6 && report.outcomes.allSatisfy(\.ok))
        #expect(report.outcomes.filter(\.duplicate).count == 1)
        #expect(asked.value.withLock { $0 } == 6, "one render per reply, the undone one's too")
        let replies = outboxBytes(office)
        #expect(replies.count == 5)
        #expect(
            office.spool.files("outbox").allSatisfy { !$0.hasPrefix(".") },
            "no pending file left: \(office.spool.files("outbox").filter { $0.hasPrefix(".") })")
        let recorded = try engine.store.read { reader in
            try Dictionary(
                Row.fetchAll(reader.db, sql: "SELECT name, sha256 FROM ledger_output").map {
                    ($0["name"] as String, $0["sha256"] as String?)
                }, uniquingKeysWith: { first, _ in first })
        }
        for (name, bytes) in replies {
            #expect(bytes.count > 1_000, "\(name): a whole reply")
            #expect(try XMLSignature.verify(bytes, at: office.spool.clock) != nil, "\(name) is signed")
            #expect(recorded[name] == ContentHash.hex(bytes), "\(name): the ledger's hash is the published file's")
        }
    }

    /// SQLite undoes a whole batch while its replies are still being rendered and written: the
    /// renders are waited for, and none of their pending files is left.
    @Test func aBatchUndoneWhileItsRepliesRenderLeavesNoPendingFile() throws {
        let office = try Self.signingOffice()
        for id in ["undone-0", "undone-1", "undone-2"] {
            var request = office.helsenorge.freeSlots(
                .lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
            request.info.msgId = id
            #expect(
                FileManager.default.createFile(
                    atPath: office.spool.root + "/inbox/" + id + ".xml", contents: Data(MessageCodec.encode(request))))
        }
        try Batches.refuseLedgerRow(of: "undone-2.xml", with: "ROLLBACK, 'undone'", named: "undo", in: office.spool)
        let report = try office.spool.engine().process()
        #expect(report.outcomes.isEmpty && report.retrying.count == 3, "\(report.retrying)")
        #expect(office.spool.files("outbox").isEmpty, "\(office.spool.files("outbox"))")
        try office.spool.engine().store.write { try $0.db.execute(sql: "DROP TRIGGER undo") }
        let next = try office.spool.engine().process()
        #expect(next.outcomes.count == 3 && next.outcomes.allSatisfy { $0.ok && !$0.duplicate })
        #expect(outboxBytes(office).count == 3 && office.spool.files("outbox").allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func aRepublishedSignedOutputIsByteIdentical() throws {
        let office = try Self.signingOffice()
        _ = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3)),
            name: "free.xml")
        let (name, bytes) = try #require(outboxBytes(office).first)
        // As if the process died after the commit: the output was never published (the ledger still
        // holds its bytes until then), the input is in processing/.
        try FileManager.default.removeItem(atPath: office.spool.root + "/outbox/" + name)
        try FileManager.default.removeItem(atPath: office.spool.root + "/archive/2026-12-01/free.xml.outputs")
        try office.engine().store.write {
            try $0.db.execute(sql: "UPDATE ledger_output SET published = 0 WHERE name = ?", arguments: [name])
            try $0.db.execute(
                sql:
                    "INSERT INTO ledger_output_bytes (ledger_id, seq, bytes) SELECT ledger_id, seq, ? FROM ledger_output WHERE name = ?",
                arguments: [Data(bytes), name])
        }
        try FileManager.default.moveItem(
            atPath: office.spool.root + "/archive/2026-12-01/free.xml",
            toPath: office.spool.root + "/processing/inbox~free.xml")
        _ = try office.spool.engine().process()
        #expect(Array(office.spool.read("outbox/" + name).utf8) == bytes, "the same bytes, signature included")
        #expect(try XMLSignature.verify(bytes, at: office.spool.clock) != nil)
    }

    @Test func incomingSignaturesAreCheckedByPolicy() throws {
        let office = try Self.signingOffice()
        let hn = office.helsenorge
        let helsenorge = try EngineKeys.identity(EngineKeys.helsenorge)
        let slot = try office.freeSlot("influensavaksine")
        // Signed by helsenorge: served.
        let good = try XMLSignature.sign(
            MessageCodec.encode(
                hn.reserve(.book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502")
            ), with: helsenorge)
        let served = try office.sendRaw(good, name: "signed.xml")
        #expect(appRec(at(served, 0))?.appRecStatus == .ok && answerCode(at(served, 1)) == "05")
        // Changed after signing: S01, nothing booked, error/ with the reason.
        let request = hn.reserve(
            .book(herId: "1234502", name: "Influensavaksine"), .eirik,
            slot: try office.freeSlot("influensavaksine", on: office.today.adding(days: 8)), contact: "1234502")
        let signed = String(
            decoding: try XMLSignature.sign(MessageCodec.encode(request), with: helsenorge), as: UTF8.self)
        let tampered = signed.replacingOccurrences(of: "Jeg skal ta blodprøve.", with: "Jeg skal ta alt.")
        #expect(tampered != signed)
        let refused = try office.sendRaw(Array(tampered.utf8), name: "tampered.xml")
        #expect(refused.count == 1 && appRec(refused.first)?.errorCodes == [.signatureError], "\(refused)")
        #expect(office.spool.read("error/2026-12-01/tampered.xml.reason.txt").contains("TB-0505"))
        // Synchronous and tampered: the function's refusal (26), never an AppRec.
        let sync = String(
            decoding: try XMLSignature.sign(
                MessageCodec.encode(
                    hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))),
                with: helsenorge), as: UTF8.self)
        let answer = try office.sendRaw(
            Array(
                sync.replacingOccurrences(of: "<FraDato>", with: "<FraDato> ").replacingOccurrences(
                    of: "<FraDato> ", with: "<FraDato>"
                ).replacingOccurrences(of: "Åsmundsen", with: "Åsmundsson").utf8), name: "sync.xml")
        #expect(
            answerCode(answer.first) == "26" && dialog(answer.first)?.notat?.tekstNotatInnhold?.contains("S01") == true)
    }

    @Test func requireRefusesUnsignedMessages() throws {
        let office = try Self.signingOffice(incoming: .require)
        let refused = try office.send(
            office.helsenorge.reserve(.lab, .ragnhild, slot: try office.freeSlot("lab"), contact: "1234501"),
            name: "unsigned.xml")
        #expect(appRec(refused.first)?.errorCodes == [.signatureError])
        #expect(office.spool.read("error/2026-12-01/unsigned.xml.reason.txt").contains("TB-0507"))
    }

    @Test func aRolloverSignsWithTheNextPairFromItsInstant() throws {
        let office = try Self.signingOffice(
            rollover: Oslo.instant(for: LocalDateTime(year: 2026, month: 12, day: 1, hour: 12, minute: 0, second: 30)))
        _ = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3)))
        office.spool.clock = office.spool.clock.addingTimeInterval(60)
        _ = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 4)))
        let subjects = try outboxBytes(office).map {
            try XMLSignature.verify($0.bytes, at: office.spool.clock)?.subject ?? ""
        }
        #expect(subjects.count == 2 && !subjects[0].contains("2027") && subjects[1].contains("2027"), "\(subjects)")
    }

    @Test(.needsReferenceMaterial) func signedOutputsValidateAgainstTheOfficialSchemas() throws {
        let office = try Self.signingOffice(official: true)
        let answers = try office.send(
            office.helsenorge.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild,
                slot: try office.freeSlot("influensavaksine"), contact: "1234502"))
        #expect(answers.count == 2, "the office's codec decoded (and so validated) both against the official set")
        let schemas = try #require(
            try SchemaLevel.official(folder: ReferenceMaterial.schemas.path).compileMessageSchemas())
        for (name, bytes) in outboxBytes(office) {
            #expect(schemas.validate(try HardenedXMLParser.parse(bytes)).isEmpty, "\(name)")
        }
    }
}
