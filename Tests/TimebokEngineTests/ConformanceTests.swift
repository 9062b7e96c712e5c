import Foundation
import Testing
import TimebokCore
import TimebokTestKit

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine

/// PROTOCOL.md §2 "Only what is ours" and the other findings of an interoperability run (issue 9):
/// each test failed on the main before it.
@Suite struct Conformance {
    /// The office's own parties, as office-side messages carry them.
    static let office = Organisation(name: "Fjordvik legesenter", idents: [.organisationHerId("1234")])

    /// The KT the office would send to helsenorge, dropped into the office's own inbox.
    static func officeSideKT() -> DialogMessage {
        let info = MsgInfo(
            process: .test, genDate: "2026-12-01T11:00:00Z", msgId: UUID().uuidString.lowercased(),
            acknowledgementRequested: false,
            sender: office, receiver: Helsenorge().sender, patient: nil)
        return DialogMessage(
            info: info,
            dialogmelding: Dialogmelding(foresporsel: [
                Foresporsel(typeForesp: CommunicationTestCode.kommunikasjonstest.code)
            ]))
    }

    /// helsenorge's RKT answering the message `msgId`.
    static func rkt(answering msgId: String) -> DialogMessage {
        let info = MsgInfo(
            process: .test, genDate: "2026-12-01T11:00:01Z", msgId: UUID().uuidString.lowercased(),
            acknowledgementRequested: false,
            conversationRef: ConversationRef(refToParent: msgId, refToConversation: msgId), sender: Helsenorge().sender,
            receiver: office, patient: nil)
        return DialogMessage(
            info: info,
            dialogmelding: Dialogmelding(notat: [Notat(temaKodet: CommunicationTestCode.svarKommunikasjonstest.code)]))
    }

    @Test func aKommunikasjonstestFromTheOfficeItselfIsNotAnsweredInHelsenorgesName() throws {
        let office = try Office()
        #expect(
            try office.send(Self.officeSideKT(), name: "own-kt.xml").isEmpty,
            "no RKT from 'helsenorge' to the office's own queue")
        let reason = office.spool.read("error/2026-12-01/own-kt.xml.reason.txt")
        #expect(reason.contains("TB-0402") && reason.contains("addressed to HER-id 115851"), "\(reason)")
    }

    @Test func officeSideAnswersAndPushesDroppedInGetNoAppRec() throws {
        let office = try Office()
        let slot = try office.freeSlot("lab")
        // A SvarTimeReservasjon and an Avtale push as the office sends them (Sender = office, Receiver = helsenorge).
        var answer = office.helsenorge.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")
        answer.info.sender = Self.office
        answer.info.receiver = office.helsenorge.sender
        answer.documents[0] = MessageDocument(
            payload: .dialogmelding(Dialogmelding(notat: [Notat(temaKodet: AnswerCode.timereservasjonBekreftet.code)])))
        #expect(try office.send(answer, name: "own-answer.xml").isEmpty)
        var push = answer
        push.info.msgId = UUID().uuidString.lowercased()
        push.documents[0] = MessageDocument(
            payload: .dialogmelding(
                Dialogmelding(foresporsel: [Foresporsel(typeForesp: AnswerCode.timereservasjonBekreftet.code)])))
        #expect(try office.send(push, name: "own-push.xml").isEmpty)
        for name in ["own-answer.xml", "own-push.xml"] {
            #expect(
                office.spool.read("error/2026-12-01/\(name).reason.txt").contains("addressed to HER-id 115851"),
                "\(name)")
        }
        #expect(office.spool.files("outbox").isEmpty)
    }

    @Test func aRequestForAnotherOfficeIsRefusedAndNeverAnsweredInItsName() throws {
        let office = try Office()
        let hn = office.helsenorge
        // HentPlanlagteTimer to 87688 / 95316, which this spool does not own: synchronous, not answered.
        var planned = hn.planned(.ragnhild)
        planned.info.receiver = Organisation(
            name: "Annet legekontor", idents: [.organisationHerId("87688")],
            unit: .organisation(Organisation(name: "Timebok", idents: [.organisationHerId("95316")])))
        #expect(try office.send(planned, name: "other-office.xml").isEmpty)
        #expect(
            office.spool.read("error/2026-12-01/other-office.xml.reason.txt").contains(
                "TB-0401: It is addressed to HER-id 87688 (Annet legekontor) / HER-id 95316"))
        // An asynchronous one: AppRec E21 in the office's own name (Sender = 1234 alone), never as 87688/95316.
        var reserve = hn.reserve(.lab, .ragnhild, slot: try office.freeSlot("lab"), contact: "95316")
        reserve.info.receiver = planned.info.receiver
        let answers = try office.send(reserve, name: "other-office-rt.xml")
        let receipt = try #require(appRec(answers.first))
        #expect(answers.count == 1 && receipt.errorCodes == [.receiverUnknown])
        #expect(
            receipt.sender.institution?.id == "1234" && receipt.sender.departments.isEmpty
                && receipt.sender.communicationPartyHerId == "1234", "in the office's own name")
        #expect(receipt.receiver.institution?.id == "115851")
        #expect(try office.engine().store.read { try $0.appointments(states: nil) }.isEmpty)
    }

    /// The paths that answer before any function runs (a reused MsgId, an undecodable message) keep the rule too.
    @Test func aReusedMsgIdOrABrokenMessageForAnotherOfficeIsNeverAnsweredInItsName() throws {
        let office = try Office()
        let hn = office.helsenorge
        let other = Organisation(
            name: "Annet legekontor", idents: [.organisationHerId("87688")],
            unit: .organisation(Organisation(name: "Timebok", idents: [.organisationHerId("95316")])))
        var planned = hn.planned(.ragnhild)
        planned.info.receiver = other
        #expect(try office.send(planned, name: "first.xml").isEmpty)
        var changed = planned
        changed.info.genDate = "2026-12-01T11:30:00Z"
        #expect(try office.send(changed, name: "again.xml").isEmpty, "no E10 answer in 87688's name")
        // An asynchronous one with a wrong fødselsnummer: E21 in the office's own name, not E31 as 87688.
        var reserve = hn.reserve(
            .lab, Citizen(fnr: "14035623037", familyName: "Å", givenName: "R"), slot: try office.freeSlot("lab"),
            contact: "95316")
        reserve.info.receiver = other
        let answers = try office.send(reserve, name: "broken-fnr.xml")
        let receipt = try #require(appRec(answers.first))
        #expect(
            answers.count == 1 && receipt.errorCodes == [.receiverUnknown] && receipt.sender.institution?.id == "1234"
                && receipt.sender.departments.isEmpty)
    }

    @Test func theOfficeAsItsOwnSecondLevelWithRole23ReachesTheGPsBook() throws {
        let office = try Office()
        var request = office.helsenorge.freeSlots(.office, .folke, from: office.today, to: office.today.adding(days: 6))
        request.info.receiver.unit = .organisation(
            Organisation(name: "Fjordvik legesenter", idents: [.organisationHerId("1234")]))
        let wanted = RelatedProfessional(
            roleToPatient: RoleToPatient.onsketBehandler.code,
            professional: HealthcareProfessional(familyName: "Fjeld", givenName: "Hanne", idents: [.hpr("9144897")]))
        request.documents[0] = MessageDocument(
            payload: .dialogmelding(
                Dialogmelding(foresporsel: [
                    Foresporsel(
                        typeForesp: RequestType.hentLedigeTimer.code, fraDato: office.today,
                        tilDato: office.today.adding(days: 6), relatedProfessionals: [wanted])
                ])))
        let answer = try office.send(request)
        #expect(answerCode(answer.first) == "03")
        #expect(dialog(answer.first)?.calendar?.events.first?.contact == "91095")
    }

    @Test func aMessageFromSomeoneElseThanHelsenorgeIsRefusedUnanswered() throws {
        let office = try Office()
        var request = office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        request.info.sender = Organisation(
            name: "Ukjent", idents: [.organisationHerId("115851")],
            unit: .organisation(Organisation(name: "Feil tjeneste", idents: [.organisationHerId("666")])))
        #expect(try office.send(request, name: "stranger.xml").isEmpty)
        #expect(
            office.spool.read("error/2026-12-01/stranger.xml.reason.txt").contains(
                "TB-0402: It comes from HER-id 115851 (Ukjent) / HER-id 666"))
        // helsenorge's other services (as in its own examples) are accepted.
        var other = office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        other.info.sender.unit = .organisation(
            Organisation(name: "Digitale innbyggertjenester", idents: [.organisationHerId("8130047")]))
        #expect(answerCode(try office.send(other).first) == "03")
    }

    @Test func answersAreMatchedNeverAnswered() throws {
        let office = try Office()
        // An RKT for a test timebok never sent: error/, no answer (it carries no patient: not E30).
        #expect(try office.send(Self.rkt(answering: "no-such-test"), name: "stray-rkt.xml").isEmpty)
        let stray = office.spool.read("error/2026-12-01/stray-rkt.xml.reason.txt")
        #expect(stray.contains("TB-0405") && !stray.contains("E30"), "\(stray)")
        // Any TemaKodet answer from helsenorge: the same, never a 26.
        var svar = office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today)
        svar.info.conversationRef = ConversationRef(refToParent: "something-else", refToConversation: "something-else")
        svar.documents[0] = MessageDocument(
            payload: .dialogmelding(Dialogmelding(notat: [Notat(temaKodet: AnswerCode.ingenLedigeTimer.code)])))
        #expect(try office.send(svar, name: "stray-svar.xml").isEmpty)
        #expect(office.spool.read("error/2026-12-01/stray-svar.xml.reason.txt").contains("TB-0405"))
        #expect(office.spool.files("outbox").isEmpty)
    }

    @Test func theOfficeTestsItsLineAndTheRKTIsMatchedWithTheRoundTrip() throws {
        let office = try Office()
        let sent = try office.engine().sendCommunicationTest()
        let kt = try #require(dialog(office.newOutbox().first))
        #expect(
            kt.info.msgId == sent.msgId && kt.info.type.value == "DIALOG_INNBYGGER_TEST"
                && kt.foresporsel?.typeForesp.value == "KT")
        #expect(
            kt.info.sender.herId == "1234" && kt.info.receiver.herId == "115851"
                && kt.info.receiver.service?.herId == "8093248")
        #expect(kt.info.patient == nil && !kt.info.acknowledgementRequested)
        #expect(
            office.spool.read(sent.file.replacingOccurrences(of: ".xml", with: ".meta")).contains(
                "destination = 8093248_sync"))
        // helsenorge answers four seconds later (by the business clock).
        office.spool.clock = office.spool.clock.addingTimeInterval(4)
        _ = FileManager.default.createFile(
            atPath: office.spool.root + "/inbox/rkt.xml",
            contents: Data(MessageCodec.encode(Self.rkt(answering: sent.msgId))))
        let report = try office.spool.engine().process()
        let outcome = try #require(report.outcomes.first)
        #expect(
            outcome.error == nil && outcome.summary.contains("answers Kommunikasjonstest \(sent.msgId)")
                && outcome.summary.contains("round trip 4 s"), "\(outcome.summary)")
        #expect(try office.newOutbox().isEmpty, "an answer is never answered")
        #expect(office.spool.files("archive").contains("2026-12-01/rkt.xml"))
        let entry = try office.engine().store.read { try $0.sentMessage(msgId: sent.msgId) }
        #expect(entry?.status == .delivered)
        let ledger = try office.engine().store.read { reader in try reader.keysWithUnpublishedOutputs() }
        #expect(ledger.isEmpty)
    }

    @Test func theCancellationProcessSpelledWithoutAVIsServedInItsOwnSpelling() throws {
        let office = try Office()
        let hn = office.helsenorge
        let slot = try office.freeSlot("influensavaksine")
        let booked = try office.send(
            hn.reserve(.book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502"))
        let appointmentId = try #require(dialog(at(booked, 1))?.calendar?.events.first?.relatedTo)
        var cancel = hn.cancel(
            .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, appointmentId: appointmentId,
            contact: "1234502", process: .avtaleavbestilling)
        cancel.info.type = Code(
            value: "DIALOG_INNBYGGER_AVTALEBESTILLING", displayName: "Dialog med innbygger - avtalebestilling")
        let answers = try office.send(cancel)
        #expect(appRec(at(answers, 0))?.appRecStatus == .ok, "not T10")
        #expect(answerCode(at(answers, 1)) == "08")
        #expect(
            dialog(at(answers, 1))?.info.type.value == "DIALOG_INNBYGGER_AVTALEBESTILLING",
            "answered in the spelling the request used")
        #expect(appRec(at(answers, 0))?.original.msgType.value == "DIALOG_INNBYGGER_AVTALEBESTILLING")
        #expect(try office.engine().store.read { try $0.appointment(id: appointmentId) }?.state == .cancelled)
    }

    @Test func aFourWeekRequestIncludesItsLastDay() throws {
        let office = try Office()
        let engine = try office.engine()
        let from = office.today.adding(days: 1)
        for (id, day) in [("last", 28), ("after", 29)] {
            let start = LocalDateTime(date: from.adding(days: day), hour: 7, minute: 0)
            #expect(
                engine.execute(
                    CommandEnvelope(
                        id: id,
                        command: .openSlot(
                            bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: nil))
                ).ok)
        }
        let answer = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: from, to: from.adding(days: 28)))
        let days = Set(try #require(dialog(answer.first)?.calendar?.events).map(\.start.date))
        #expect(
            days.contains(from.adding(days: 28)), "TilDato is inclusive: 28 days after FraDato is one four-week request"
        )
        let longer = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: from, to: from.adding(days: 40)))
        let cut = Set(try #require(dialog(longer.first)?.calendar?.events).map(\.start.date))
        #expect(
            cut.contains(from.adding(days: 28)) && !cut.contains(from.adding(days: 29)),
            "a longer span: FraDato … FraDato + 28")
    }

    @Test func aSlotUidWithSurroundingWhiteSpaceIsTrimmed() throws {
        let office = try Office()
        let slot = try office.freeSlot("influensavaksine")
        var padded = slot
        padded.id = "  \(slot.id)\n"
        let answers = try office.send(
            office.helsenorge.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: padded, contact: " 1234502 "))
        #expect(answerCode(at(answers, 1)) == "05", "the slot is found, not 06")
    }

    @Test func answerMetadataCorrelatesWithTheRequestWithoutEmptyLines() throws {
        let office = try Office()
        let request = office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        _ = try office.send(request)
        let metas = office.spool.files("outbox").filter { $0.hasSuffix(".meta") }
        let meta = office.spool.read("outbox/" + (try #require(metas.first)))
        #expect(
            meta.contains("correlation-id = \(request.info.msgId)\n"),
            "no .meta on the input: the request's MsgId\n\(meta)")
        // A push has no conversation: no correlation-id line, and never an empty one.
        let slot = try office.freeSlot("hanne-fjeld")
        #expect(
            try office.engine().execute(
                CommandEnvelope(id: "book", command: .bookAppointment(slotId: slot.id, fnr: "14035623036", text: nil))
            ).ok)
        for name in office.spool.files("outbox") where name.hasSuffix(".meta") {
            let text = office.spool.read("outbox/" + name)
            #expect(
                !text.split(separator: "\n").contains { $0.hasSuffix("=") || $0.hasSuffix("= ") }, "\(name): \(text)")
            if name.contains("Avtale-05") { #expect(!text.contains("correlation-id")) }
        }
    }

    @Test func aConfirmationNamesThePractitioner() throws {
        let office = try Office()
        let hn = office.helsenorge
        // The personal book, confirmed by the office without naming anyone: the GP's HPR.
        let slot = try office.freeSlot("hanne-fjeld")
        _ = try office.send(hn.reserve(.gp(herId: "91095"), .folke, slot: slot, contact: "91095"))
        let held = try #require(try office.engine().store.read { try $0.appointments(states: [.requested]) }.first)
        #expect(
            try office.engine().execute(
                CommandEnvelope(
                    id: "confirm",
                    command: .confirmRequest(
                        requestId: held.id, by: Staff(familyName: "Fjeld", givenName: "Hanne"), text: nil))
            ).ok)
        let confirmation = try #require(dialog(office.newOutbox().first { answerCode($0) == "05" }))
        let named = try #require(confirmation.notat?.relatedProfessionals.first)
        #expect(named.professional.hprNumber == "9144897" && named.professional.familyName == "Fjeld")
    }
}

/// The end-to-end case of issue 9: one pass, four kinds of input, exactly the expected outputs,
/// each in this office's name.
@Suite struct OnlyWhatIsOurs {
    @Test func onePassWithForeignOfficeSideAnswerAndMisspelledInputs() throws {
        let office = try Office()
        let hn = office.helsenorge
        let slot = try office.freeSlot("influensavaksine")
        let booked = try office.send(
            hn.reserve(.book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502"))
        let appointmentId = try #require(dialog(at(booked, 1))?.calendar?.events.first?.relatedTo)
        let before = Set(office.spool.files("outbox"))

        var foreign = hn.reserve(.lab, .kari, slot: try office.freeSlot("lab"), contact: "95316")
        foreign.info.receiver = Organisation(
            name: "Annet legekontor", idents: [.organisationHerId("87688")],
            unit: .organisation(Organisation(name: "Timebok", idents: [.organisationHerId("95316")])))
        var cancel = hn.cancel(
            .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, appointmentId: appointmentId,
            contact: "1234502", process: .avtaleavbestilling)
        cancel.info.type = Code(
            value: "DIALOG_INNBYGGER_AVTALEBESTILLING", displayName: "Dialog med innbygger - avtalebestilling")
        for (name, message) in [
            ("a-foreign.xml", foreign), ("b-office-side.xml", Conformance.officeSideKT()),
            ("c-answer.xml", Conformance.rkt(answering: "unknown")), ("d-cancel.xml", cancel),
        ] {
            _ = FileManager.default.createFile(
                atPath: office.spool.root + "/inbox/" + name, contents: Data(MessageCodec.encode(message)))
        }
        let outputs = try office.pass()
        let labels = office.spool.files("outbox").filter { !before.contains($0) && $0.hasSuffix(".xml") }.map {
            $0.split(separator: "-")[2]
        }
        #expect(
            labels == ["AppRec", "AppRec", "SvarTimeReservasjon"],
            "E21 for the foreign request; AppRec and 08 for the cancellation; nothing else")
        #expect(outputs.count == 3)
        for output in outputs {
            let sender = appRec(output)?.sender.institution?.id ?? dialog(output)?.info.sender.herId
            #expect(sender == "1234", "every output in this office's name")
        }
        #expect(appRec(at(outputs, 0))?.errorCodes == [.receiverUnknown])
        #expect(answerCode(at(outputs, 2)) == "08")
        let errors = office.spool.files("error").filter { $0.hasSuffix(".reason.txt") }
        #expect(
            errors == [
                "2026-12-01/a-foreign.xml.reason.txt", "2026-12-01/b-office-side.xml.reason.txt",
                "2026-12-01/c-answer.xml.reason.txt",
            ])
        #expect(office.spool.files("archive").contains("2026-12-01/d-cancel.xml"))
    }
}
