import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokXML

/// A journal entry for the EPJ (schemas/journal-v1.xsd): one booking event with who, which book,
/// which time, the citizen's own text, the answer given and the message ids.
struct JournalRecord {
    var event: AppointmentEvent.Kind
    var at: Int
    var actor: Actor
    var book: Book
    var fnr: String
    var familyName: String
    var givenName: String
    var appointmentId: String?
    var slot: Slot
    var location: String?
    var previousSlot: Slot?
    var subject: String?
    var text: String?
    var answerCode: String?
    var answerText: String?
    var requestMsgId: String?
    var replyMsgId: String?
    var conversationId: String?

    func render(id: String) -> [UInt8] {
        var w = XMLWriter()
        w.element("JournalEntry", attributes: ["xmlns": Namespace.journal, "id": id]) { w in
            w.element("Event", text: event.rawValue)
            w.element("At", text: Oslo.xsDateTime(Date(timeIntervalSince1970: Double(at))))
            w.element("Actor") { w in
                switch actor {
                case .citizen: w.element("Citizen", text: nil)
                case .system: w.element("System", text: nil)
                case .office(let name, let hpr):
                    w.element("Office") { w in
                        w.optionalElement("Name", text: name.map { String($0.prefix(100)) })
                        w.optionalElement("Hpr", text: hpr)
                    }
                }
            }
            w.element("Book") { w in
                w.element("Id", text: book.id)
                w.element("Name", text: book.name)
                w.optionalElement("HerId", text: book.herId)
            }
            w.element("Patient") { w in
                w.element("Fnr", text: fnr)
                w.element("FamilyName", text: familyName.isEmpty ? "-" : familyName)
                w.element("GivenName", text: givenName.isEmpty ? "-" : givenName)
            }
            w.element("Appointment") { w in
                w.optionalElement("RequestId", text: requestMsgId == nil ? nil : appointmentId)
                w.optionalElement("AppointmentId", text: appointmentId)
                w.element("SlotId", text: slot.id)
                w.element("Start", text: slot.start.description)
                w.element("End", text: slot.end.description)
                w.optionalElement("Location", text: location)
                if let previousSlot {
                    w.element("PreviousStart", text: previousSlot.start.description)
                    w.element("PreviousEnd", text: previousSlot.end.description)
                }
            }
            w.optionalElement("CitizenSubject", text: subject.flatMap { $0.isEmpty ? nil : String($0.prefix(50)) })
            w.optionalElement("CitizenText", text: text.flatMap { $0.isEmpty ? nil : String($0.prefix(1_000)) })
            if let answerCode {
                w.element("Answer", attributes: ["code": answerCode], text: String((answerText ?? answerCodeText(answerCode)).prefix(1_000)))
            }
            if requestMsgId != nil || replyMsgId != nil || conversationId != nil {
                w.element("Messages") { w in
                    w.optionalElement("RequestMsgId", text: requestMsgId)
                    w.optionalElement("ReplyMsgId", text: replyMsgId)
                    w.optionalElement("ConversationId", text: conversationId)
                }
            }
        }
        return w.finish()
    }

    private func answerCodeText(_ code: String) -> String {
        AnswerCode(rawValue: code)?.displayName ?? (code == "MOA" ? RequestType.meldingOmAvtale.displayName : code)
    }
}
