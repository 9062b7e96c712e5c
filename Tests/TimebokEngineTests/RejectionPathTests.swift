import Foundation
import GRDB
import Testing
import TimebokCore
import TimebokTestKit
import TimebokXML

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine
@testable import TimebokSpool

/// Every way the office says no, with its code and the text the citizen reads.
@Suite struct RejectionPaths {
    func expectAnswer(
        _ answers: [DecodedMessage], _ code: String, containing text: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let answer = answers.last
        #expect(
            answerCode(answer) == code, "got \(answers.map { answerCode($0) ?? "AppRec" })",
            sourceLocation: sourceLocation)
        if let text {
            #expect(
                dialog(answer)?.notat?.tekstNotatInnhold?.contains(text) == true,
                "\(dialog(answer)?.notat?.tekstNotatInnhold ?? "no text")", sourceLocation: sourceLocation)
        }
    }

    @Test func reservationRuleBreaks() throws {
        let office = try Office()
        let hn = office.helsenorge
        let slot = try office.freeSlot("lab")
        expectAnswer(
            try office.send(hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501", accepted: false)), "26",
            containing: "forutsetningene")
        expectAnswer(
            try office.send(
                hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501", subject: String(repeating: "x", count: 51))),
            "26", containing: "høyst 50 tegn")
        expectAnswer(
            try office.send(
                hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501", text: String(repeating: "x", count: 1_001))),
            "26", containing: "høyst 1000 tegn")
        let gone = Slot(id: "no-such-slot", bookId: "lab", start: slot.start, end: slot.end, capacity: 1)
        expectAnswer(
            try office.send(hn.reserve(.lab, .ragnhild, slot: gone, contact: "1234501")), "06",
            containing: "ikke lenger ledig")
        // Two active bookings are the Lab book's limit.
        let second = try office.freeSlot("lab", on: office.today.adding(days: 4))
        let third = try office.freeSlot("lab", on: office.today.adding(days: 6))
        #expect(
            try office.send(hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")).count == 1, "held: AppRec only"
        )
        #expect(try office.send(hn.reserve(.lab, .ragnhild, slot: second, contact: "1234501")).count == 1)
        expectAnswer(
            try office.send(hn.reserve(.lab, .ragnhild, slot: third, contact: "1234501")), "26",
            containing: "høyst 2 er tillatt")
        // Inside the booking cut-off (60 minutes).
        let engine = try office.engine()
        let soon = Oslo.localDateTime(at: office.spool.clock.addingTimeInterval(30 * 60))
        let soonStart = LocalDateTime(date: soon.date, hour: soon.hour, minute: soon.minute)
        let opened = engine.execute(
            CommandEnvelope(
                id: "soon",
                command: .openSlot(
                    bookId: "lab", start: soonStart, end: soonStart.addingWallClock(minutes: 1), capacity: nil)))
        let soonSlot = try #require(try engine.store.read { try $0.slot(id: opened.created[0].id) })
        expectAnswer(
            try office.send(hn.reserve(.lab, .kari, slot: soonSlot, contact: "1234501")), "26",
            containing: "senere enn 1 timer")
        // The office switched online booking off.
        #expect(engine.execute(CommandEnvelope(id: "off", command: .setBookingEnabled(false))).ok)
        expectAnswer(
            try office.send(hn.reserve(.lab, .kari, slot: third, contact: "1234501")), "26",
            containing: "tar ikke imot timebestillinger")
    }

    @Test func wrongReceiverInvalidPatientUnknownProcessAndBrokenMessages() throws {
        let office = try Office()
        let hn = office.helsenorge
        let slot = try office.freeSlot("lab")
        // A book this office does not have: AppRec E21, no business answer, input to error/.
        let wrong = try office.send(
            hn.reserve(.book(herId: "999999", name: "Ukjent"), .ragnhild, slot: slot, contact: "999999"))
        #expect(
            wrong.count == 1 && appRec(wrong[0])?.appRecStatus == .rejected
                && appRec(wrong[0])?.errorCodes == [.receiverUnknown])
        // An invalid fødselsnummer: E31 for an async message, 26 for a sync one.
        let bad = Citizen(fnr: "14035623037", familyName: "Åsmundsen", givenName: "Ragnhild")
        let e31 = try office.send(hn.reserve(.lab, bad, slot: slot, contact: "1234501"))
        #expect(appRec(e31[0])?.errorCodes == [.patientIdInvalid])
        expectAnswer(
            try office.send(hn.freeSlots(.lab, bad, from: office.today, to: office.today.adding(days: 3))), "26",
            containing: "E31")
        // A process timebok does not serve: T10.
        var ekontakt = hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")
        ekontakt.info.type = Code(value: "DIALOG_INNBYGGER_EKONTAKT", displayName: "e-kontakt")
        let t10 = try office.send(ekontakt)
        #expect(appRec(t10[0])?.errorCodes == [.unsupportedFormat])
        // Not XML: nothing can be addressed; error/ with the reason.
        #expect(try office.sendRaw(Array("<MsgHead".utf8), name: "broken.xml").isEmpty)
        let errors = office.spool.files("error")
        #expect(errors.filter { $0.hasSuffix(".reason.txt") }.count == 5, "\(errors)")
        let reasonFile = try #require(
            errors.first { $0.hasSuffix("broken.xml.reason.txt") }, "the broken message has a reason file")
        let reason = try String(contentsOfFile: office.spool.root + "/error/" + reasonFile, encoding: .utf8)
        #expect(reason.contains("T01") && reason.contains("No answer could be addressed"))
        #expect(try office.engine().store.read { try $0.appointments(states: nil) }.isEmpty, "nothing booked")
    }

    /// Only the official schemas know that an element does not belong in MsgInfo.
    @Test(.needsReferenceMaterial) func aSchemaInvalidMessageGetsT02WithTheOfficialSchemas() throws {
        let office = try Office(official: true)
        let slot = try office.freeSlot("lab")
        let text = String(
            decoding: MessageCodec.encode(office.helsenorge.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")),
            as: UTF8.self
        )
        .replacingOccurrences(of: "<MsgId>", with: "<Bogus/><MsgId>")
        let t02 = try office.sendRaw(Array(text.utf8), name: "invalid.xml")
        #expect(t02.count == 1 && appRec(t02.first)?.errorCodes == [.schemaInvalid])
        let reason = office.spool.read("error/2026-12-01/invalid.xml.reason.txt")
        #expect(reason.contains("T02") && reason.contains("Bogus"), "\(reason)")
        #expect(try office.engine().store.read { try $0.appointments(states: nil) }.isEmpty, "nothing booked")
    }

    @Test func freeSlotQuestionsThatCannotBeAnswered() throws {
        let office = try Office()
        let hn = office.helsenorge
        expectAnswer(
            try office.send(hn.freeSlots(.lab, .ragnhild, from: office.today, to: nil)), "26",
            containing: "både fra-dato og til-dato")
        expectAnswer(
            try office.send(hn.freeSlots(.lab, .ragnhild, from: office.today.adding(days: 3), to: office.today)), "26",
            containing: "etter til-datoen")
        expectAnswer(
            try office.send(hn.freeSlots(.lab, .eirik, from: office.today, to: office.today.adding(days: 3))), "30",
            containing: "ikke tilgang")
        let engine = try office.engine()
        var hide = BookUpdate(id: "lab")
        hide.published = false
        #expect(engine.execute(CommandEnvelope(id: "hide", command: .updateBook(hide))).ok)
        expectAnswer(
            try office.send(hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))), "26",
            containing: "ikke åpen")
    }

    @Test func aPersonalBookAddressedByRole23AndHPR() throws {
        let office = try Office()
        var request = office.helsenorge.freeSlots(.office, .folke, from: office.today, to: office.today.adding(days: 6))
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
        expectAnswer(answer, "03")
        #expect(
            dialog(answer[0])?.calendar?.events.allSatisfy { $0.contact == "91095" && $0.summary == "Hanne Fjeld" }
                == true, "the GP's person HER-id is the contact")
    }

    @Test func horizonAndFourWeekWindow() throws {
        let office = try Office()
        let engine = try office.engine()
        // A slot beyond the Lab book's 28-day horizon is offered with the instant it opens.
        let late = LocalDateTime(date: office.today.adding(days: 35), hour: 8, minute: 0)
        #expect(
            engine.execute(
                CommandEnvelope(
                    id: "late",
                    command: .openSlot(
                        bookId: "lab", start: late, end: late.addingWallClock(minutes: 15), capacity: nil))
            ).ok)
        let from = office.today.adding(days: 20)
        let answer = try office.send(
            office.helsenorge.freeSlots(.lab, .ragnhild, from: from, to: from.adding(days: 40)))
        let events = try #require(dialog(answer[0])?.calendar?.events)
        #expect(events.allSatisfy { $0.start.date <= from.adding(days: 27) }, "only the first four weeks")
        let offered = try #require(events.first { $0.start == late })
        #expect(offered.availableAt == LocalDateTime(date: office.today.adding(days: 7), hour: 0, minute: 0))
        #expect(events.filter { $0.start.date <= office.today.adding(days: 28) }.allSatisfy { $0.availableAt == nil })
    }

    @Test func cancellationsThatCannotBeDone() throws {
        let office = try Office()
        let hn = office.helsenorge
        let engine = try office.engine()
        // Tomorrow's appointment inside the Lab book's 12-hour cancellation cut-off.
        let soon = Oslo.localDateTime(at: office.spool.clock.addingTimeInterval(6 * 3_600))
        let start = LocalDateTime(date: soon.date, hour: soon.hour, minute: 0)
        let opened = engine.execute(
            CommandEnvelope(
                id: "soon",
                command: .openSlot(bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: nil))
        )
        let slot = try #require(try engine.store.read { try $0.slot(id: opened.created[0].id) })
        let booked = engine.execute(
            CommandEnvelope(
                id: "book", command: .bookAppointment(slotId: slot.id, fnr: Citizen.ragnhild.fnr, text: nil)))
        _ = try office.newOutbox()
        let answers = try office.send(
            hn.cancel(.lab, .ragnhild, slot: slot, appointmentId: booked.created[0].id, contact: "1234501"))
        #expect(appRec(answers[0])?.appRecStatus == .ok)
        expectAnswer(answers, "09", containing: "Ring legekontoret")
        // Someone else's appointment is not his to cancel.
        expectAnswer(
            try office.send(
                hn.cancel(.lab, .kari, slot: slot, appointmentId: booked.created[0].id, contact: "1234501")), "09",
            containing: "finner ikke")
        // AVTALEAVBESTILLING is answered in its own process.
        let other = try office.send(
            hn.cancel(.lab, .kari, slot: slot, appointmentId: "nope", contact: "1234501", process: .avtaleavbestilling))
        #expect(
            dialog(other.last)?.info.type.value == "DIALOG_INNBYGGER_AVTALEAVBESTILLING"
                && answerCode(other.last) == "09")
    }

    @Test func overviewsPlannedAppointmentsAndGPSwitches() throws {
        let office = try Office()
        let hn = office.helsenorge
        let engine = try office.engine()
        expectAnswer(try office.send(hn.planned(.ragnhild)), "02")
        let slot = try office.freeSlot("lab")
        _ = try office.send(hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))
        let vaccine = try office.freeSlot("influensavaksine")
        _ = try office.send(
            hn.reserve(
                .book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: vaccine, contact: "1234502",
                subject: nil, text: ""))
        let planned = try office.send(hn.planned(.ragnhild))
        expectAnswer(planned, "01")
        #expect(dialog(planned[0])?.calendar?.events.count == 2)
        #expect(
            dialog(planned[0])?.calendar?.events.contains { $0.eventStatus == .tentative && $0.relatedTo == nil }
                == true, "the held Lab request")
        #expect(
            dialog(planned[0])?.calendar?.events.contains { $0.eventStatus == .confirmed && $0.relatedTo != nil }
                == true)
        // The GP switches Ressursoversikt off: 30. He closes his personal book: 21 in Behandleroversikt.
        #expect(
            engine.execute(
                CommandEnvelope(
                    id: "gp",
                    command: .setGP(
                        GP(
                            herId: "91095", hpr: "9144897", familyName: "Fjeld", givenName: "Hanne",
                            ressursoversiktEnabled: false, personalBookOpen: false)))
            ).ok)
        expectAnswer(
            try office.send(hn.resourceOverview(.gp(herId: "91095"), .ragnhild)), "30",
            containing: "ikke timebestilling i ressurstimebøker")
        let behandlere = hn.message(
            .behandleroversikt, to: .office, from: .ragnhild, ack: false,
            request: Foresporsel(typeForesp: RequestType.hentBehandlere.code))
        expectAnswer(try office.send(behandlere), "21")
        expectAnswer(
            try office.send(
                hn.freeSlots(.gp(herId: "91095"), .ragnhild, from: office.today, to: office.today.adding(days: 3))),
            "26", containing: "ikke åpen")
    }

    @Test func duplicatesReusedIdsAndTransportMetadata() throws {
        let office = try Office()
        let hn = office.helsenorge
        let request = hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        let meta =
            "message-id = amqp-1\ncorrelation-id = corr-7\nreply-to = helsenorge_sync_reply\nsubject = DIALOG_INNBYGGER_TIMERESERVASJON\nfrom-her-id = 8093248\nto-her-id = 1234501\n"
        #expect(try office.send(request, meta: meta).count == 1)
        let metaFile = try #require(office.spool.files("outbox").first { $0.hasSuffix(".meta") })
        let written = try String(contentsOfFile: office.spool.root + "/outbox/" + metaFile, encoding: .utf8)
        #expect(
            written.contains("destination = helsenorge_sync_reply") && written.contains("correlation-id = corr-7")
                && written.contains("from-her-id = 1234501") && written.contains("to-her-id = 8093248"))
        // The transport delivers it again: discarded, nothing new.
        #expect(try office.send(request).isEmpty)
        // The same MsgId with other content on an async message: E10.
        let slot = try office.freeSlot("lab")
        let first = hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501")
        _ = try office.send(first)
        var changed = first
        changed.documents[0] = MessageDocument(
            payload: .dialogmelding(
                Dialogmelding(foresporsel: [
                    Foresporsel(
                        typeForesp: RequestType.reserverTime.code, sporsmal: "Annen tekst",
                        kodetOpplysning: YesNo.ja.code)
                ])))
        let e10 = try office.send(changed)
        #expect(appRec(e10[0])?.errorCodes == [.invalidMessageId])
        // A transport that names another sender than the MsgHead: refused unanswered.
        let spoofed = try office.send(
            hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3)),
            meta: "from-her-id = 666\n")
        #expect(spoofed.isEmpty)
        let reasons = try office.spool.files("error").filter { $0.hasSuffix(".reason.txt") }.map {
            try String(contentsOfFile: office.spool.root + "/error/" + $0, encoding: .utf8)
        }
        #expect(reasons.contains { $0.contains("spoofing") } && reasons.contains { $0.contains("already received") })
    }
}

/// The office's own actions reach the citizen: answers to held requests, pushes, expiry, receipts.
@Suite struct OfficeActions {
    @Test func pushesForBookMoveCancelNoShowAndComplete() throws {
        let office = try Office()
        let engine = try office.engine()
        let slot = try office.freeSlot("hanne-fjeld")
        let other = try office.freeSlot("hanne-fjeld", on: office.today.adding(days: 5))
        let booked = engine.execute(
            CommandEnvelope(id: "b", command: .bookAppointment(slotId: slot.id, fnr: Citizen.folke.fnr, text: nil)))
        let id = booked.created[0].id
        let pushed = try office.newOutbox()
        #expect(
            answerCode(pushed[0]) == "05" && dialog(pushed[0])?.info.conversationRef == nil
                && dialog(pushed[0])?.foresporsel != nil, "an Avtale push is a Foresporsel without ConversationRef")
        #expect(
            dialog(pushed[0])?.info.sender.professional?.herId == "91095"
                && dialog(pushed[0])?.calendar?.events.first?.relatedTo == id)
        #expect(
            engine.execute(CommandEnvelope(id: "m", command: .moveAppointment(appointmentId: id, newSlotId: other.id)))
                .ok)
        #expect(answerCode(try office.newOutbox().first) == "07")
        let second = engine.execute(
            CommandEnvelope(id: "b2", command: .bookAppointment(slotId: slot.id, fnr: Citizen.kari.fnr, text: nil)))
        _ = try office.newOutbox()
        #expect(
            engine.execute(
                CommandEnvelope(
                    id: "c",
                    command: .cancelAppointment(
                        appointmentId: second.created[0].id, reason: .byService, text: "Legen er syk."))
            ).ok)
        let cancel = try office.newOutbox()
        #expect(
            answerCode(cancel.first) == "08"
                && dialog(cancel.first)?.calendar?.events.first?.cancellationReason == "Avlyst av tjeneste")
        // After the appointment time: no-show, and for another, a completed visit.
        office.spool.clock = Oslo.instant(for: other.end).addingTimeInterval(60)
        #expect(try office.engine().execute(CommandEnvelope(id: "n", command: .recordNoShow(appointmentId: id))).ok)
        #expect(answerCode(try office.newOutbox().first) == "11")
        let third = try office.freeSlot("hanne-fjeld", on: office.today.adding(days: 1))
        office.spool.clock = Oslo.instant(for: third.start).addingTimeInterval(-3_600)
        let visit = try office.engine().execute(
            CommandEnvelope(id: "b3", command: .bookAppointment(slotId: third.id, fnr: Citizen.ragnhild.fnr, text: nil))
        )
        _ = try office.newOutbox()
        office.spool.clock = Oslo.instant(for: third.end)
        #expect(
            try office.engine().execute(
                CommandEnvelope(id: "done", command: .completeAppointment(appointmentId: visit.created[0].id))
            ).ok)
        let moa = try office.newOutbox()
        #expect(answerCode(moa.first) == "MOA" && dialog(moa.first)?.calendar?.events.first?.eventStatus == .completed)
        let journal = office.spool.files("journal").map { $0.split(separator: "-")[2] }
        #expect(journal == ["confirmed", "moved", "confirmed", "cancelled", "noShow", "confirmed", "completed"])
    }

    @Test func forceClosingASlotTellsEveryoneInIt() throws {
        let office = try Office()
        let hn = office.helsenorge
        let engine = try office.engine()
        let slot = try office.freeSlot("lab")
        _ = try office.send(hn.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))  // held
        _ = engine.execute(
            CommandEnvelope(id: "b", command: .bookAppointment(slotId: slot.id, fnr: Citizen.kari.fnr, text: nil)))
        _ = try office.newOutbox()
        #expect(
            engine.execute(
                CommandEnvelope(id: "close", command: .closeSlot(slotId: slot.id, force: true, reason: "Sykdom"))
            ).ok)
        let told = try office.newOutbox().compactMap { answerCode($0) }
        #expect(told.sorted() == ["08", "26"], "the appointment is cancelled (08), the held request answered 26")
    }

    @Test func heldRequestsExpireWithA26() throws {
        let office = try Office()
        let slot = try office.freeSlot("lab")
        _ = try office.send(office.helsenorge.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))
        office.spool.clock = office.spool.clock.addingTimeInterval(24 * 3_600 + 1)
        let answers = try office.pass()
        #expect(answerCode(answers.first) == "26")
        #expect(dialog(answers.first)?.notat?.tekstNotatInnhold?.contains("svarte ikke") == true)
        #expect(try office.engine().store.read { try $0.slot(id: slot.id)?.activeBookings } == 0)
        #expect(office.spool.files("journal").last?.contains("-expired-") == true)
    }

    @Test func receiptsAreMatchedAndE35StopsPushes() throws {
        let office = try Office()
        let engine = try office.engine()
        let slot = try office.freeSlot("hanne-fjeld")
        _ = engine.execute(
            CommandEnvelope(id: "b", command: .bookAppointment(slotId: slot.id, fnr: Citizen.kari.fnr, text: nil)))
        let push = try #require(dialog(try office.newOutbox().first))
        // helsenorge answers the push: E35, Kari is not a digitally active user.
        let receipt = AppRec(
            genDate: "2026-12-01T12:00:00Z", id: UUID().uuidString,
            sender: AppRecParty(role: AppRecParty.primaryReceiverRole, organisation: push.info.receiver),
            receiver: AppRecParty(role: AppRecParty.senderRole, organisation: push.info.sender), status: .rejected,
            errors: [AppRecErrorCode.patientNotFound.code],
            original: OriginalMsgId(msgType: push.info.type, issueDate: push.info.genDate, id: push.info.msgId))
        #expect(
            try office.sendRaw(MessageCodec.encode(receipt), name: "receipt.xml").isEmpty, "an AppRec is never answered"
        )
        #expect(try engine.store.read { try $0.sentMessage(msgId: push.info.msgId)?.status } == .failed)
        #expect(try engine.store.read { try $0.patient(fnr: Citizen.kari.fnr)?.digitallyInactive } == true)
        let other = try office.freeSlot("hanne-fjeld", on: office.today.adding(days: 5))
        _ = try office.engine().execute(
            CommandEnvelope(
                id: "m",
                command: .moveAppointment(
                    appointmentId: try engine.store.read { try $0.appointments(states: [.confirmed]) }[0].id,
                    newSlotId: other.id)))
        #expect(try office.newOutbox().isEmpty, "no more pushes for her")
        #expect(office.spool.files("journal").count == 2, "but the journal still records the move")
        // An AppRec for something never sent goes to error/.
        var unknown = receipt
        unknown.id = UUID().uuidString
        unknown.original.id = "never-sent"
        _ = try office.sendRaw(MessageCodec.encode(unknown), name: "stray.xml")
        #expect(office.spool.files("error").contains { $0.hasSuffix("stray.xml.reason.txt") })
    }

    @Test func pushesCanGoThroughAvtaleutsending() throws {
        let office = try Office()
        let path = office.spool.root + "/timebok.conf"
        let config = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "pushes.process = timereservasjon", with: "pushes.process = avtaleutsending")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let engine = try office.engine()
        _ = engine.execute(
            CommandEnvelope(
                id: "b",
                command: .bookAppointment(slotId: try office.freeSlot("lab").id, fnr: Citizen.ragnhild.fnr, text: nil)))
        #expect(dialog(try office.newOutbox().first)?.info.type.value == "DIALOG_INNBYGGER_AVTALEUTSENDING")
    }
}

/// Review-driven edges: each is a rule of PROTOCOL.md that is easy to get wrong.
@Suite struct ConversationEdges {
    @Test func heldRequestsAreRejectedNotCancelledOrMoved() throws {
        let office = try Office()
        let slot = try office.freeSlot("lab")
        _ = try office.send(office.helsenorge.reserve(.lab, .ragnhild, slot: slot, contact: "1234501"))
        let engine = try office.engine()
        let request = try engine.store.read { try $0.appointments(states: [.requested]) }[0]
        let move = engine.execute(
            CommandEnvelope(
                id: "mv",
                command: .moveAppointment(
                    appointmentId: request.id,
                    newSlotId: try office.freeSlot("lab", on: office.today.adding(days: 5)).id)))
        #expect(move.error?.message.contains("confirm or reject it first") == true)
        #expect(
            engine.execute(
                CommandEnvelope(
                    id: "cx", command: .cancelAppointment(appointmentId: request.id, reason: .byService, text: nil))
            ).ok)
        let answer = try office.newOutbox()
        #expect(
            answerCode(answer.first) == "26"
                && dialog(answer.first)?.info.conversationRef?.refToParent == request.requestMsgId,
            "answered in its conversation, never an Avtale push")
    }

    @Test func aLateAnswerSwapsTheRequestsOwnParties() throws {
        let office = try Office()
        // Addressed to the office alone, naming the wanted GP by role 23 + HPR (PROTOCOL.md §9.1).
        let slot = try office.freeSlot("hanne-fjeld")
        var request = office.helsenorge.reserve(.office, .folke, slot: slot, contact: "91095")
        let wanted = RelatedProfessional(
            roleToPatient: RoleToPatient.onsketBehandler.code,
            professional: HealthcareProfessional(familyName: "Fjeld", givenName: "Hanne", idents: [.hpr("9144897")]))
        request.documents[0] = MessageDocument(
            payload: .dialogmelding(
                Dialogmelding(foresporsel: [
                    Foresporsel(
                        typeForesp: RequestType.reserverTime.code, sporsmal: "Vondt i ryggen",
                        kodetOpplysning: YesNo.ja.code, relatedProfessionals: [wanted])
                ])))
        #expect(try office.send(request).count == 1, "held (the GP's book is manual)")
        let engine = try office.engine()
        let held = try engine.store.read { try $0.appointments(states: [.requested]) }[0]
        #expect(
            engine.execute(
                CommandEnvelope(
                    id: "ok",
                    command: .confirmRequest(
                        requestId: held.id, by: Staff(familyName: "Fjeld", givenName: "Hanne"), text: nil))
            ).ok)
        let answer = try #require(dialog(try office.newOutbox().first))
        #expect(answer.info.sender == request.info.receiver, "the office exactly as the request addressed it")
        #expect(answer.info.receiver == request.info.sender && answer.info.patient == request.info.patient)
        #expect(
            answer.info.conversationRef
                == ConversationRef(refToParent: request.info.msgId, refToConversation: request.info.msgId))
    }

    @Test func synchronousMistakesGet26NeverAnAppRec() throws {
        let office = try Office()
        let bad = Citizen(fnr: "14035623037", familyName: "Å", givenName: "R")
        var request = office.helsenorge.freeSlots(.lab, bad, from: office.today, to: office.today.adding(days: 3))
        request.info.ack = Code(value: "J", displayName: "Ja")  // senders are not consistent; the function decides
        let answer = try office.send(request)
        #expect(answer.count == 1 && answerCode(answer[0]) == "26")
        // The same sync MsgId again with other content: 26 (E10), not silence and not an AppRec.
        let good = office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        _ = try office.send(good)
        var changed = good
        changed.documents[0] = MessageDocument(
            payload: .dialogmelding(
                Dialogmelding(foresporsel: [
                    Foresporsel(
                        typeForesp: RequestType.hentLedigeTimer.code, fraDato: office.today,
                        tilDato: office.today.adding(days: 5))
                ])))
        let e10 = try office.send(changed)
        #expect(answerCode(e10.first) == "26" && dialog(e10.first)?.notat?.tekstNotatInnhold?.contains("E10") == true)
        // A Behandleroversikt for another office is not ours: not answered (issue 9), never in that office's name.
        var foreign = office.helsenorge.message(
            .behandleroversikt, to: .office, from: .ragnhild, ack: false,
            request: Foresporsel(typeForesp: RequestType.hentBehandlere.code))
        foreign.info.receiver = Organisation(name: "Annet kontor", idents: [.organisationHerId("777")])
        #expect(try office.send(foreign, name: "foreign-hb.xml").isEmpty)
        #expect(
            office.spool.read("error/2026-12-01/foreign-hb.xml.reason.txt").contains(
                "TB-0401: It is addressed to HER-id 777 (Annet kontor)"))
    }

    @Test func overviewAndSlotsRespectTheListAndTheLimits() throws {
        let office = try Office()
        // A valid number, born 1950, not on the list.
        let notOnList = Citizen(fnr: "01015010033", familyName: "Fremmed", givenName: "Frida")
        #expect(
            answerCode(try office.send(office.helsenorge.resourceOverview(.gp(herId: "91095"), notOnList)).first)
                == "30")
        // Kari holds one Influensavaksine booking (the book's limit): her free-slot question is 26.
        let vaccine = Address.book(herId: "1234502", name: "Influensavaksine")
        _ = try office.send(
            office.helsenorge.reserve(
                vaccine, .kari, slot: try office.freeSlot("influensavaksine"), contact: "1234502", subject: nil,
                text: ""))
        let limited = try office.send(
            office.helsenorge.freeSlots(vaccine, .kari, from: office.today, to: office.today.adding(days: 13)))
        #expect(
            answerCode(limited.first) == "26"
                && dialog(limited.first)?.notat?.tekstNotatInnhold?.contains("aktive bestillinger") == true)
        // A cancellation for a receiver this office does not have: E21.
        let e21 = try office.send(
            office.helsenorge.cancel(
                .book(herId: "55555", name: "X"), .kari, slot: try office.freeSlot("lab"), appointmentId: "x",
                contact: "55555"))
        #expect(appRec(e21.first)?.errorCodes == [.receiverUnknown])
        // The transport delivered it to another HER-id than the MsgHead names: refused unanswered.
        #expect(
            try office.send(
                office.helsenorge.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3)),
                meta: "to-her-id = 4242\n"
            ).isEmpty)
    }

    @Test func outputsCommittedButNotPublishedGoOutOnTheNextPass() throws {
        let office = try Office()
        let engine = try office.engine()
        _ = engine.execute(
            CommandEnvelope(
                id: "b",
                command: .bookAppointment(slotId: try office.freeSlot("lab").id, fnr: Citizen.ragnhild.fnr, text: nil)))
        let pushes = office.spool.files("outbox")
        #expect(pushes.count == 2, "the push and its .meta")
        // As if the process had stopped between commit and publish.
        for name in pushes { try FileManager.default.removeItem(atPath: office.spool.root + "/outbox/" + name) }
        try engine.store.write {
            try $0.db.execute(sql: "UPDATE ledger_output SET published = 0 WHERE folder = 'outbox'")
        }
        _ = try office.pass()
        #expect(office.spool.files("outbox") == pushes, "republished byte-identical under the same names")
        _ = try office.pass()
        #expect(office.spool.files("outbox") == pushes, "and only once")
    }
}
