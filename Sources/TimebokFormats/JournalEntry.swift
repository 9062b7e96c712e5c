import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokXML

/// A journal entry for the EPJ (schemas/journal-v1.xsd): one booking event with who, which book,
/// which time, the citizen's own text, the answer given and the message ids.
public struct JournalRecord: Sendable, Hashable {
    public var event: AppointmentEvent.Kind
    public var at: Int
    public var actor: Actor
    public var book: Book
    public var fnr: String
    public var familyName: String
    public var givenName: String
    public var appointmentId: String?
    public var slot: Slot
    public var location: String?
    public var previousSlot: Slot?
    public var subject: String?
    public var text: String?
    public var answerCode: String?
    public var answerText: String?
    public var requestMsgId: String?
    public var replyMsgId: String?
    public var conversationId: String?

    public init(
        event: AppointmentEvent.Kind, at: Int, actor: Actor, book: Book, fnr: String, familyName: String,
        givenName: String, appointmentId: String? = nil, slot: Slot, location: String? = nil, previousSlot: Slot? = nil,
        subject: String? = nil, text: String? = nil, answerCode: String? = nil, answerText: String? = nil,
        requestMsgId: String? = nil, replyMsgId: String? = nil, conversationId: String? = nil
    ) {
        self.event = event
        self.at = at
        self.actor = actor
        self.book = book
        self.fnr = fnr
        self.familyName = familyName
        self.givenName = givenName
        self.appointmentId = appointmentId
        self.slot = slot
        self.location = location
        self.previousSlot = previousSlot
        self.subject = subject
        self.text = text
        self.answerCode = answerCode
        self.answerText = answerText
        self.requestMsgId = requestMsgId
        self.replyMsgId = replyMsgId
        self.conversationId = conversationId
    }

    /// The entry's bytes, with its own id.
    public func render(id: String) -> [UInt8] {
        var w = XMLWriter()
        w.element("JournalEntry", attributes: ["xmlns": OfficeNamespace.journal, "id": id]) { w in
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
                w.element(
                    "Answer", attributes: ["code": answerCode],
                    text: String((answerText ?? answerCodeText(answerCode)).prefix(1_000)))
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
