import Foundation
import GRDB
import Testing
import TimebokCore
import TimebokDemo
import TimebokSchemas
import TimebokTestKit
import TimebokXML

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine
@testable import TimebokSpool

/// A spool with the demo office, a clock that moves only when told, and helpers to read answers.
final class Office {
    let spool: TemporarySpool
    var sequence = 0
    let helsenorge = Helsenorge()
    /// Reads every answer; on an `official` spool it also validates each against the official set.
    let codec: MessageCodec

    init(official: Bool = false, configure: (inout TimebokConfig) -> Void = { _ in }) throws {
        spool = try TemporarySpool(official: official, configure: configure)
        codec = MessageCodec(
            schemas: official
                ? try SchemaLevel.official(folder: ReferenceMaterial.schemas.path).compileMessageSchemas() : nil)
        let engine = try spool.engine()
        for envelope in DemoOffice.commands(today: LocalDate(year: 2026, month: 12, day: 1)) {
            #expect(engine.execute(envelope).ok)
        }
    }

    var today: LocalDate { Oslo.today(at: spool.clock) }

    /// Drops a message in inbox/ (optionally with a .meta), runs one pass, returns the new outbox messages in order.
    @discardableResult
    func send(_ message: DialogMessage, meta: String? = nil, name: String? = nil) throws -> [DecodedMessage] {
        sequence += 1
        let file = name ?? String(format: "%03d-in.xml", sequence)
        if let meta {
            try meta.write(
                toFile: spool.root + "/inbox/" + (file as NSString).deletingPathExtension + ".meta", atomically: true,
                encoding: .utf8)
        }
        _ = FileManager.default.createFile(
            atPath: spool.root + "/inbox/" + file, contents: Data(MessageCodec.encode(message)))
        return try pass()
    }

    func sendRaw(_ bytes: [UInt8], name: String) throws -> [DecodedMessage] {
        _ = FileManager.default.createFile(atPath: spool.root + "/inbox/" + name, contents: Data(bytes))
        return try pass()
    }

    var seen = Set<String>()

    /// One `process` pass; every new outbox message, decoded (and checked valid against driver-all.xsd).
    func pass() throws -> [DecodedMessage] {
        spool.clock = spool.clock.addingTimeInterval(1)
        _ = try spool.engine().process()
        return try newOutbox()
    }

    func newOutbox() throws -> [DecodedMessage] {
        var result: [DecodedMessage] = []
        for name in spool.files("outbox") where name.hasSuffix(".xml") && !seen.contains(name) {
            seen.insert(name)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: spool.root + "/outbox/" + name)))
            #expect(
                FileManager.default.fileExists(
                    atPath: spool.root + "/outbox/" + (name as NSString).deletingPathExtension + ".meta"),
                "\(name) has its .meta")
            var strict = codec
            strict.options.checkInboundRules = false
            result.append(try strict.decode(bytes, name: name))
        }
        return result
    }

    func engine() throws -> Engine { try spool.engine() }

    func freeSlot(_ bookId: String, on date: LocalDate? = nil) throws -> Slot {
        let day = date ?? today.adding(days: 3)
        let slots = try engine().store.read {
            try $0.freeSlots(
                bookId: bookId, fromSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: day, hour: 0, minute: 0)),
                toSeconds: Oslo.secondsSinceEpoch(for: LocalDateTime(date: day.adding(days: 7), hour: 0, minute: 0)))
        }
        return try #require(slots.first)
    }
}

func dialog(_ decoded: DecodedMessage?) -> DialogMessage? {
    if case .dialog(let message, _)? = decoded { return message }
    return nil
}

func appRec(_ decoded: DecodedMessage?) -> AppRec? {
    if case .appRec(let appRec)? = decoded { return appRec }
    return nil
}

/// The answer at `index`, or nil (a missing answer fails the expectation, never crashes the run).
func at(_ answers: [DecodedMessage], _ index: Int) -> DecodedMessage? {
    answers.indices.contains(index) ? answers[index] : nil
}

func answerCode(_ decoded: DecodedMessage?) -> String? {
    dialog(decoded)?.notat?.temaKodet.value ?? dialog(decoded)?.foresporsel?.typeForesp.value
}

@Suite struct OfficialExamples {
    /// Each official request example, dropped in the inbox of an office configured like the examples.
    @Test(.needsReferenceMaterial) func eachRequestExampleGetsTheRightAnswer() throws {
        let office = try Office(official: true)
        func example(_ name: String) throws -> [DecodedMessage] {
            let bytes = Array(try Data(contentsOf: ReferenceMaterial.examples.appendingPathComponent(name)))
            return try office.sendRaw(bytes, name: name)
        }
        func checkReply(
            _ reply: DialogMessage?, to msgId: String, ack: Bool, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(
                reply?.info.conversationRef == ConversationRef(refToParent: msgId, refToConversation: msgId),
                sourceLocation: sourceLocation)
            #expect(
                reply?.info.sender.herId == "1234" && reply?.info.receiver.herId == "115851"
                    && reply?.info.receiver.service?.herId == "8093248", sourceLocation: sourceLocation)
            #expect(reply?.info.patient?.identityNumber == "13116900216", sourceLocation: sourceLocation)
            #expect(reply?.info.acknowledgementRequested == ack, sourceLocation: sourceLocation)
            #expect(reply?.info.msgId != msgId, sourceLocation: sourceLocation)
        }
        let hlt = try example("HentLedigeTimer__HLT.xml")
        #expect(hlt.count == 1 && answerCode(at(hlt, 0)) == "04", "2014 has no free slots")
        checkReply(dialog(at(hlt, 0)), to: "8325fcb2-89a9-11e3-baa8-0800200c9a66", ack: false)
        #expect(
            dialog(at(hlt, 0))?.info.sender.professional?.herId == "91095", "answered by the GP it was addressed to")

        let rt = try example("ReserverAvtale__RT_Reserver_time.xml")
        #expect(rt.count == 2)
        #expect(
            appRec(at(rt, 0))?.appRecStatus == .ok
                && appRec(at(rt, 0))?.original.id == "8325fcb5-89a9-11e3-baa8-0800200c9a66")
        #expect(answerCode(at(rt, 1)) == "06", "the example's slot does not exist here")
        checkReply(dialog(at(rt, 1)), to: "8325fcb5-89a9-11e3-baa8-0800200c9a66", ack: true)

        let art = try example("AvbestillAvtale__ART_Avbestill_reservert_time.xml")
        #expect(appRec(at(art, 0))?.appRecStatus == .ok && answerCode(at(art, 1)) == "09")
        #expect(dialog(at(art, 1))?.notat?.tekstNotatInnhold?.contains("finner ikke") == true)

        let hb = try example("Behandleroversikt_Hent__HB_Hent_behandlere.xml")
        #expect(answerCode(at(hb, 0)) == "20" && dialog(at(hb, 0))?.practitioners?.first?.hprNumber == "9144897")
        #expect(dialog(at(hb, 0))?.info.type.value == "DIALOG_INNBYGGER_BEHANDLEROVERSIKT")

        let kt = try example("Kommunikasjonstest_Kommunikasjonstest__Foresporsel_Helsenorge.xml")
        #expect(answerCode(at(kt, 0)) == "RKT")
        #expect(office.spool.files("archive").filter { $0.hasSuffix(".xml") && !$0.contains(".outputs/") }.count == 5)
    }
}

@Suite struct ResourceBookStory {
    @Test func aLabBookForPatientsOver65FromOverviewToCancellation() throws {
        try labStory(try Office())
    }

    /// The same story with the official schema set configured: every input is validated against it,
    /// and so is every answer (the office's codec decodes each with the official set).
    @Test(.needsReferenceMaterial) func theLabStoryWithTheOfficialSchemasValidatesEveryAnswer() throws {
        try labStory(try Office(official: true))
    }

    private func labStory(_ office: Office) throws {
        let hn = office.helsenorge
        // The overview through the GP: Lab (65+) and Influensavaksine (risikogruppe) for Ragnhild.
        let overview = try office.send(hn.resourceOverview(.gp(herId: "91095"), .ragnhild))
        #expect(answerCode(overview[0]) == "20")
        let books = try #require(dialog(overview[0])?.resourceBooks)
        #expect(books.map(\.id) == ["influensavaksine", "lab"])
        let lab = try #require(books.first { $0.id == "lab" })
        #expect(
            lab.herId == "1234501" && lab.prerequisitesMustBeAccepted && !lab.automaticConfirmation
                && lab.informationText.hasPrefix("Ta med legitimasjon"))

        // Free slots in the Lab book.
        let from = office.today.adding(days: 1)
        let free = try office.send(hn.freeSlots(.lab, .ragnhild, from: from, to: from.adding(days: 13)))
        #expect(answerCode(free[0]) == "03")
        let events = try #require(dialog(free[0])?.calendar?.events)
        #expect(
            !events.isEmpty
                && events.allSatisfy {
                    $0.contact == "1234501" && $0.summary == "Lab" && $0.location?.contains("Strandgata") == true
                        && $0.categories == ["Lab"]
                })

        // She books one (manual book): an AppRec now, the answer when the office confirms.
        let slot = try #require(try office.engine().store.read { try $0.slot(id: events[0].uid) })
        let reserved = try office.send(hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))
        #expect(reserved.count == 1 && appRec(reserved[0])?.appRecStatus == .ok)
        let request = try #require(try office.engine().store.read { try $0.appointments(states: [.requested]) }.first)
        #expect(request.requestMsgId != nil && request.subject == "Blodprøve")

        let confirmed = try office.engine().execute(
            CommandEnvelope(
                id: "confirm-1",
                command: .confirmRequest(
                    requestId: request.id, by: Staff(familyName: "Nes", givenName: "Sigrid", hpr: "9231476"),
                    text: "Velkommen til laboratoriet.")))
        #expect(confirmed.ok)
        let answer = try office.newOutbox()
        #expect(answer.count == 1 && answerCode(answer[0]) == "05")
        let five = try #require(dialog(answer[0]))
        #expect(
            five.info.conversationRef?.refToParent == request.requestMsgId,
            "the answer continues the request's conversation")
        #expect(
            five.calendar?.events.first?.relatedTo == request.id
                && five.calendar?.events.first?.eventStatus == .confirmed)
        #expect(
            five.notat?.relatedProfessionals.first?.professional.hprNumber == "9231476",
            "the answer names who confirmed")
        #expect(five.info.sender.service?.herId == "1234501")

        // She cancels: AppRec and 08.
        let cancelled = try office.send(
            hn.cancel(.lab, .ragnhild, slot: slot, appointmentId: request.id, contact: "1234501"))
        #expect(appRec(cancelled[0])?.appRecStatus == .ok && answerCode(cancelled[1]) == "08")
        #expect(
            dialog(cancelled[1])?.calendar?.events.first?.cancellationReason == CancellationReason.byRecipient.rawValue)

        // Eirik (40) gets 30 in every function that names the book, and no Lab in his overview.
        #expect(
            answerCode(try office.send(hn.freeSlots(.lab, .eirik, from: from, to: from.adding(days: 13)))[0]) == "30")
        let refused = try office.send(hn.reserve(.lab, .eirik, slot: try office.freeSlot("lab"), contact: "1234501"))
        #expect(appRec(refused[0])?.appRecStatus == .ok && answerCode(refused[1]) == "30")
        #expect(answerCode(try office.send(hn.resourceOverview(.gp(herId: "91095"), .eirik))[0]) == "21")

        // The outbox, journal and archive hold exactly what happened, in order.
        let outbox = office.spool.files("outbox").filter { $0.hasSuffix(".xml") }.map {
            String($0.split(separator: "-")[2]) + "-" + String($0.split(separator: "-")[3])
        }
        #expect(
            outbox.map { $0.split(separator: "-").first.map(String.init) ?? "" } == [
                "Ressursoversikt", "SvarLedigeTimer", "AppRec", "SvarTimeReservasjon", "AppRec", "SvarTimeReservasjon",
                "SvarLedigeTimer", "AppRec", "SvarTimeReservasjon", "Ressursoversikt",
            ])
        let journal = office.spool.files("journal").map { $0.split(separator: "-")[2] }
        #expect(journal == ["requested", "confirmed", "cancelled", "rejected"])
        let journalText = try String(
            contentsOfFile: office.spool.root + "/journal/" + office.spool.files("journal")[1], encoding: .utf8)
        #expect(
            journalText.contains("<Answer code=\"05\">Velkommen til laboratoriet.</Answer>")
                && journalText.contains("<Name>Sigrid Nes</Name>"))
        let schema = try OwnSchemas.compile(OwnSchemas.journal)
        for name in office.spool.files("journal") {
            #expect(
                schema.validate(
                    try HardenedXMLParser.parse(
                        Array(try Data(contentsOf: URL(fileURLWithPath: office.spool.root + "/journal/" + name))))
                ).isEmpty, "\(name) follows journal-v1.xsd")
        }
        #expect(
            office.spool.files("archive").filter { !$0.contains(".outputs/") && $0.hasSuffix(".xml") }.count == 7,
            "every input archived")
        #expect(office.spool.files("error").isEmpty)
    }

    @Test func capacityTwoThreeReservationsTwoConfirmedOneRefused() throws {
        let office = try Office()
        let engine = try office.engine()
        var update = BookUpdate(id: "influensavaksine")
        update.capacity = 2
        update.maxActiveBookingsPerPatient = .some(nil)
        #expect(engine.execute(CommandEnvelope(id: "cap", command: .updateBook(update))).ok)
        let start = LocalDateTime(date: office.today.adding(days: 5), hour: 7, minute: 0)
        let opened = engine.execute(
            CommandEnvelope(
                id: "slot",
                command: .openSlot(
                    bookId: "influensavaksine", start: start, end: start.addingWallClock(minutes: 5), capacity: 2)))
        let slot = try #require(try engine.store.read { try $0.slot(id: opened.created[0].id) })
        let address = Address.book(herId: "1234502", name: "Influensavaksine")
        var codes: [String?] = []
        for citizen in [Citizen.ragnhild, .kari, .folke] {
            if citizen.fnr == Citizen.folke.fnr {
                // Folke must be in a risk group to get past the access rule and meet a full slot.
                #expect(
                    engine.execute(
                        CommandEnvelope(
                            id: "group",
                            command: .importPatients(
                                mode: .update,
                                patients: [
                                    ListPatient(
                                        fnr: citizen.fnr, familyName: citizen.familyName, givenName: citizen.givenName,
                                        groups: ["helsepersonell"])
                                ]))
                    ).ok)
            }
            let answers = try office.send(
                office.helsenorge.reserve(address, citizen, slot: slot, contact: "1234502", subject: nil, text: ""))
            codes.append(answerCode(answers.last))
        }
        #expect(codes == ["05", "05", "06"])
        #expect(try engine.store.read { try $0.slot(id: slot.id)?.activeBookings } == 2)
    }
}
