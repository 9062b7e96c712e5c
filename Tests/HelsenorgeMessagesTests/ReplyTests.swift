import Foundation
import Testing
import TimebokCore
import TimebokTestKit

@testable import HelsenorgeMessages

/// Building answers: envelope rules of PROTOCOL.md §1 and AppRec rules of §6, valid against driver-all.xsd.
@Suite(.needsReferenceMaterial) struct Replies {
    let codec = MessageCodec(schemas: Schemas.combined.value)

    func request(_ name: String) throws -> DialogMessage {
        guard
            case .dialog(let message, _) = try codec.decode(try Paths.bytes(Paths.samples.appendingPathComponent(name)))
        else {
            throw MessageError(.unknownMessage, .unsupportedFormat, "not a dialog message")
        }
        return message
    }

    @Test func replyEnvelopeSwapsPartiesAndChainsTheConversation() throws {
        let incoming = try request("in-ReserverAvtale-resourcebook.xml")
        let reply = incoming.info.reply(
            msgId: "11111111-2222-3333-4444-555555555555", genDate: "2026-12-01T10:00:00+01:00",
            acknowledgementRequested: true)
        #expect(reply.sender == incoming.info.receiver)
        #expect(reply.receiver == incoming.info.sender)
        #expect(reply.patient == incoming.info.patient)
        #expect(
            reply.conversationRef
                == ConversationRef(refToParent: incoming.info.msgId, refToConversation: incoming.info.msgId))
        #expect(reply.acknowledgementRequested)
        // A reply to a message that is itself in a thread keeps the thread's first id.
        var threaded = incoming.info
        threaded.conversationRef = ConversationRef(refToParent: "parent", refToConversation: "first")
        #expect(
            threaded.reply(msgId: "x", genDate: "2026-12-01T10:00:00+01:00", acknowledgementRequested: false)
                .conversationRef == ConversationRef(refToParent: incoming.info.msgId, refToConversation: "first"))

        let answer = DialogMessage(
            info: reply,
            dialogmelding: Dialogmelding(notat: [
                Notat(temaKodet: AnswerCode.timereservasjonBekreftet.code, tekstNotatInnhold: "Velkommen")
            ]),
            contentDescription: "Timereservasjon bekreftet",
            calendar: XCalendar(
                productId: "timebok",
                events: [
                    VEvent(
                        start: LocalDateTime(year: 2026, month: 12, day: 7, hour: 8, minute: 0),
                        end: LocalDateTime(year: 2026, month: 12, day: 7, hour: 8, minute: 15),
                        uid: "slot-1", contact: "1234501", relatedTo: "appointment-1", status: .confirmed,
                        summary: "Lab", location: "Fjordvik")
                ]))
        let bytes = MessageCodec.encode(answer)
        #expect(try validationIssues(bytes, Schemas.official).isEmpty)
        guard case .dialog(let decoded, let function) = try codec.decode(bytes) else {
            Issue.record("not decoded")
            return
        }
        #expect(function == .svarTimeReservasjon)
        #expect(decoded == answer)
    }

    @Test func appRecAnsweringAMessage() throws {
        let incoming = try request("in-ReserverAvtale-resourcebook.xml")
        let ok = AppRec.answering(
            incoming.info, id: "a-1", genDate: "2026-12-01T10:00:00+01:00", softwareName: "timebok",
            softwareVersion: "0.1.0")
        #expect(ok.sender.role?.value == "PRIM")
        #expect(ok.receiver.role?.value == "AVS")
        #expect(ok.sender.communicationPartyHerId == incoming.info.receiver.communicationPartyHerId)
        #expect(ok.receiver.communicationPartyHerId == incoming.info.sender.communicationPartyHerId)
        #expect(
            ok.original
                == OriginalMsgId(
                    msgType: Code(
                        value: DialogProcess.timereservasjon.rawValue,
                        displayName: DialogProcess.timereservasjon.displayName), issueDate: incoming.info.genDate,
                    id: incoming.info.msgId))

        let rejected = AppRec.answering(
            incoming.info, id: "a-2", genDate: "2026-12-01T10:00:00+01:00",
            errors: [(.schemaInvalid, "line 7: Element 'Bogus' is not expected")])
        for appRec in [ok, rejected] {
            let bytes = MessageCodec.encode(appRec)
            #expect(try validationIssues(bytes, Schemas.official).isEmpty)
            #expect(try codec.decode(bytes) == .appRec(appRec))
        }
        #expect(rejected.errorCodes == [.schemaInvalid])
        #expect(rejected.appRecStatus == .rejected && ok.appRecStatus == .ok, "status follows the errors")
        #expect(rejected.errors.first?.displayName == "XML validerer ikke")
    }

    @Test func appRecToAGPNamesHimAsHCPerson() throws {
        let incoming = try request("in-ReserverAvtale-personal-iso8859.xml")
        let appRec = AppRec.answering(incoming.info, id: "a-3", genDate: "2026-12-01T10:00:00+01:00")
        #expect(appRec.sender.persons.first?.id == "91095")
        #expect(appRec.sender.departments.isEmpty)
        #expect(try validationIssues(MessageCodec.encode(appRec), Schemas.official).isEmpty)
    }
}
