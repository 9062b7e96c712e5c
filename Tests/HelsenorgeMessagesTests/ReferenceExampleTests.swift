import Foundation
import Testing
import TimebokCore
import TimebokTestKit
import TimebokXML

@testable import HelsenorgeMessages

/// Every official example decodes into the right typed message; re-encoding gives a document that
/// validates against driver-all.xsd and decodes to an equal value.
@Suite(.needsReferenceMaterial) struct ReferenceExamples {
    static let expectedFunctions: [String: MessageFunction] = [
        "AvbestillAvtale__ART_Avbestill_reservert_time.xml": .avbestillAvtale,
        "Avtale__05_Timereservasjon_bekreftet.xml": .avtale,
        "Behandleroversikt_Hent__HB_Hent_behandlere.xml": .hentBehandlere,
        "HentLedigeTimer__HLT.xml": .hentLedigeTimer,
        "Kommunikasjonstest_Kommunikasjonstest__Foresporsel_Helsenorge.xml": .kommunikasjonstest,
        "ReserverAvtale__RT_Reserver_time.xml": .reserverAvtale,
        "SvarLedigeTimer__03_Ledige_timer.xml": .svarLedigeTimer,
        "SvarLedigeTimer__04_Ingen_ledige_timer.xml": .svarLedigeTimer,
        "SvarTimeReservasjon__05_Timereservasjon_bekreftet.xml": .svarTimeReservasjon,
        "SvarTimeReservasjon__08_Avbestilling_av_time_bekreftet.xml": .svarTimeReservasjon,
    ]

    let codec = MessageCodec(schemas: Schemas.official.value)

    @Test func everyExampleIsCovered() {
        let names = Paths.files(in: Paths.examples).map(\.lastPathComponent)
        #expect(names.count == 11, "the reference folder must be there: \(Paths.examples.path)")
        for name in names where !name.hasPrefix("AppRec") {
            #expect(Self.expectedFunctions[name] != nil, "no expectation for \(name)")
        }
    }

    @Test(arguments: Array(expectedFunctions.keys).sorted())
    func decodesAndRoundTrips(_ name: String) throws {
        let bytes = try Paths.bytes(Paths.examples.appendingPathComponent(name))
        guard case .dialog(let message, let function) = try codec.decode(bytes, name: name) else {
            Issue.record("\(name) did not decode as a MsgHead message")
            return
        }
        #expect(function == Self.expectedFunctions[name])
        let encoded = MessageCodec.encode(message)
        let issues = try validationIssues(encoded, Schemas.official)
        #expect(issues.isEmpty, "re-encoded \(name) is invalid: \(issues)\n\(String(decoding: encoded, as: UTF8.self))")
        guard case .dialog(let again, let functionAgain) = try codec.decode(encoded) else {
            Issue.record("re-encoded \(name) did not decode")
            return
        }
        #expect(again == message)
        #expect(functionAgain == function)
    }

    @Test func reserverAvtaleFields() throws {
        let message = try dialog("ReserverAvtale__RT_Reserver_time.xml")
        #expect(message.info.process == .timereservasjon)
        #expect(message.info.msgId == "8325fcb5-89a9-11e3-baa8-0800200c9a66")
        #expect(message.info.sender.herId == "115851")
        #expect(message.info.sender.service?.herId == "8093248")
        #expect(message.info.receiver.herId == "1234")
        #expect(message.info.receiver.organisationNumber == "971318864")
        #expect(message.info.receiver.professional?.herId == "91095")
        #expect(message.info.receiver.communicationPartyHerId == "91095")
        #expect(message.info.patient?.identityNumber == "13116900216")
        #expect(message.info.patient?.familyName == "Danser")
        let request = try #require(message.foresporsel)
        #expect(request.requestType == .reserverTime)
        #expect(request.answeredYes)
        #expect(request.sporsmal == "Ønsker time fordi jeg har slitt med langvarig migrene.")
        let wanted = try #require(request.relatedProfessionals.first)
        #expect(wanted.role == .onsketBehandler)
        #expect(wanted.professional.hprNumber == "9141200")
        let event = try #require(message.calendar?.events.first)
        #expect(event.start == LocalDateTime(year: 2019, month: 7, day: 5, hour: 11, minute: 45))
        #expect(event.end == LocalDateTime(year: 2019, month: 7, day: 5, hour: 12, minute: 0))
        #expect(event.uid == "4088E990AD89CB3DBB484909")
        #expect(event.contact == "91095")
        #expect(message.documents[1].description == "iCalendarBestillTime")
    }

    @Test func svarLedigeTimerFieldsIncludingKnownDefects() throws {
        let message = try dialog("SvarLedigeTimer__03_Ledige_timer.xml")
        #expect(message.notat?.answerCode == .ledigeTimer)
        #expect(
            message.info.conversationRef
                == ConversationRef(
                    refToParent: "8325fcb2-89a9-11e3-baa8-0800200c9a66",
                    refToConversation: "8325fcb2-89a9-11e3-baa8-0800200c9a66"))
        let events = try #require(message.calendar?.events)
        #expect(events.count == 2)
        #expect(events[0].contact == "91095", "the trailing space in the example is trimmed")
        #expect(events[0].eventStatus == .tentative)
        #expect(events[0].categories == ["Video"])
        #expect(events[0].summary == "")
        #expect(events[1].location == "Verkstedveien 1")
        #expect(events[1].availableAt == LocalDateTime(year: 2018, month: 7, day: 25, hour: 8, minute: 0))
        #expect(
            events[1].end < events[1].start,
            "the official example's dtend typo is read as sent (it is an outgoing-type message)")
    }

    @Test func otherExamples() throws {
        let hlt = try dialog("HentLedigeTimer__HLT.xml")
        #expect(hlt.foresporsel?.fraDato == LocalDate(year: 2014, month: 1, day: 30))
        #expect(hlt.foresporsel?.tilDato == LocalDate(year: 2014, month: 2, day: 27))
        let cancel = try dialog("AvbestillAvtale__ART_Avbestill_reservert_time.xml")
        #expect(cancel.calendar?.events.first?.relatedTo == "651b1341-26ca-11e4-8c21-0800200c9a66")
        #expect(cancel.foresporsel?.kodetOpplysning?.decode(as: YesNo.self) == .nei)
        let push = try dialog("Avtale__05_Timereservasjon_bekreftet.xml")
        #expect(push.foresporsel?.answerCode == .timereservasjonBekreftet)
        #expect(push.info.conversationRef == nil)
        let confirmed = try dialog("SvarTimeReservasjon__05_Timereservasjon_bekreftet.xml")
        #expect(
            confirmed.notat?.tekstNotatInnhold
                == "Din timereservasjon er bekreftet. SMS varsel blir sendt 24 timer før.")
        #expect(confirmed.notat?.relatedProfessionals.first?.role == .turnuslege)
        let test = try dialog("Kommunikasjonstest_Kommunikasjonstest__Foresporsel_Helsenorge.xml")
        #expect(test.info.process == .test)
    }

    @Test func appRecExample() throws {
        let bytes = try Paths.bytes(Paths.examples.appendingPathComponent("AppRec_v1.1_OK__HelsenorgeMessaging.xml"))
        guard case .appRec(let appRec) = try codec.decode(bytes) else {
            Issue.record("not an AppRec")
            return
        }
        #expect(appRec.version == .v1_1)
        #expect(appRec.appRecStatus == .ok)
        #expect(appRec.id == "C829A5F9-5BBF-4376-A37F-ADE4B399916C")
        #expect(appRec.original.id == "de1a95c0-4d0c-11e7-9598-0800200c9a66")
        #expect(appRec.original.msgType.value == "DIALOG_HELSEFAGLIG")
        #expect(appRec.sender.institution?.name == ">Kattskinnet legesenter")
        #expect(appRec.sender.persons.first?.id == "258521")
        #expect(appRec.receiver.departments.first?.id == "90998")
        #expect(appRec.receiver.communicationPartyHerId == "90998")
        let encoded = MessageCodec.encode(appRec)
        #expect(try validationIssues(encoded, Schemas.official).isEmpty)
        guard case .appRec(let again) = try codec.decode(encoded) else {
            Issue.record("re-encoded AppRec did not decode")
            return
        }
        // The example's Role elements lack some DN texts; the encoder writes what the value holds.
        #expect(again == appRec)
    }

    private func dialog(_ name: String) throws -> DialogMessage {
        let bytes = try Paths.bytes(Paths.examples.appendingPathComponent(name))
        guard case .dialog(let message, _) = try codec.decode(bytes, name: name) else {
            throw MessageError(.unknownMessage, .unsupportedFormat, "not a dialog message")
        }
        return message
    }
}
