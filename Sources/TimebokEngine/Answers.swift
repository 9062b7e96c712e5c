import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// Building answers, AppRecs and their transport metadata.

extension Conversations {
    // MARK: Building answers

    var productId: String { "timebok \(config.officeName)" }

    func vevent(_ slot: Slot, book: Book, gp: GP?) -> VEvent {
        VEvent(
            start: slot.start, end: slot.end, uid: slot.id, contact: parties.contact(for: book, gp: gp),
            summary: book.name, location: book.location,
            categories: [book.category?.rawValue ?? AppointmentCategory.ordinaer.rawValue])
    }

    func confirmationReply(
        appointment: Appointment, slot: Slot, book: Book, gp: GP?, to request: DialogMessage?, text: String?,
        staff: HealthcareProfessional?, patient: ListPatient? = nil, meta: TransportMeta? = nil
    ) -> (outgoing: OutgoingMessage, text: String?) {
        var event = vevent(slot, book: book, gp: gp)
        event.relatedTo = appointment.id
        event.status = EventStatus.confirmed.rawValue
        // The practitioner, where known (PROTOCOL.md §3): the staff member who confirmed (with an
        // HPR number), else the one the citizen asked for (role 23 + HPR), else the book's GP, else
        // the staff member's name alone.
        let related: [RelatedProfessional]
        if let staff, staff.hprNumber != nil {
            related = [RelatedProfessional(roleToPatient: nil, professional: staff)]
        } else if let wanted = request?.foresporsel?.relatedProfessionals.first(where: {
            $0.role == .onsketBehandler && $0.professional.hprNumber != nil
        }) {
            related = [wanted]
        } else if let gp {
            related = [
                RelatedProfessional(
                    roleToPatient: RoleToPatient.fastlege.code,
                    professional: HealthcareProfessional(
                        familyName: gp.familyName, givenName: gp.givenName, idents: [.hpr(gp.hpr)]))
            ]
        } else {
            related = staff.map { [RelatedProfessional(roleToPatient: nil, professional: $0)] } ?? []
        }
        let message: DialogMessage
        if let request {
            message = reply(
                to: request, process: nil, code: AnswerCode.timereservasjonBekreftet.code, text: text,
                calendar: [event], calendarDescription: "iCalendarBestillTime", acknowledgement: true, related: related)
        } else {
            message = laterAnswer(
                appointment: appointment, book: book, gp: gp,
                patient: patient ?? ListPatient(fnr: appointment.fnr, familyName: "", givenName: ""),
                code: .timereservasjonBekreftet, text: text, event: event, related: related)
        }
        return (
            OutgoingMessage(
                body: .dialog(message), label: "SvarTimeReservasjon-05", meta: asyncMeta(for: message, request: meta)),
            text
        )
    }

    /// An answer in a request's conversation after the request itself is gone from memory.
    func laterAnswer(
        appointment: Appointment, book: Book, gp: GP?, patient: ListPatient, code: AnswerCode, text: String?,
        event: VEvent, related: [RelatedProfessional] = []
    ) -> DialogMessage {
        let info = MsgInfo(
            process: .timereservasjon, genDate: genDate, msgId: newId(), acknowledgementRequested: true,
            conversationRef: ConversationRef(
                refToParent: appointment.requestMsgId ?? appointment.id,
                refToConversation: appointment.conversationId ?? appointment.requestMsgId ?? appointment.id),
            sender: parties.office(for: book, gp: gp), receiver: parties.helsenorge, patient: parties.patient(patient))
        return DialogMessage(
            info: info,
            dialogmelding: Dialogmelding(notat: [
                Notat(temaKodet: code.code, tekstNotatInnhold: text, relatedProfessionals: related)
            ]), contentDescription: code.displayName, issueDate: genDate,
            calendar: XCalendar(productId: productId, events: [event]), calendarDescription: "iCalendarBestillTime")
    }

    func reply(
        to message: DialogMessage, process: DialogProcess?, code: Code, text: String?, calendar: [VEvent]? = nil,
        calendarDescription: String? = nil, practitioners: [Practitioner]? = nil,
        resourceBooks: [ResourceBookSummary]? = nil, acknowledgement: Bool, related: [RelatedProfessional] = []
    ) -> DialogMessage {
        let info = message.info.reply(
            process: process, msgId: newId(), genDate: genDate, acknowledgementRequested: acknowledgement)
        return DialogMessage(
            info: info,
            dialogmelding: Dialogmelding(notat: [
                Notat(temaKodet: code, tekstNotatInnhold: text, relatedProfessionals: related)
            ]), contentDescription: code.displayName, issueDate: genDate,
            calendar: calendar.map { XCalendar(productId: productId, events: $0) },
            calendarDescription: calendarDescription, practitioners: practitioners, resourceBooks: resourceBooks)
    }

    /// A synchronous answer (Ack N) to the request's reply-to queue with its correlation id.
    func answer(
        _ message: DialogMessage, meta: TransportMeta?, code: Code, label: String, text: String? = nil,
        calendar: [VEvent]? = nil, calendarDescription: String? = nil, practitioners: [Practitioner]? = nil,
        resourceBooks: [ResourceBookSummary]? = nil, refusal: String? = nil
    ) -> Outcome {
        let reply = reply(
            to: message, process: nil, code: code, text: text, calendar: calendar,
            calendarDescription: calendarDescription, practitioners: practitioners, resourceBooks: resourceBooks,
            acknowledgement: false)
        var result = Outcome()
        result.messages.append(
            OutgoingMessage(body: .dialog(reply), label: label, meta: syncMeta(for: reply, request: meta)))
        result.decision.summary = "\(label) answered."
        result.refusal = refusal.map { Refusal(code: .refusedRequest, $0) }
        return result
    }

    /// An AppRec for an asynchronous message: OK without errors, Avvist with them.
    func appRec(_ info: MsgInfo, meta: TransportMeta?, errors: [(AppRecErrorCode, String?)]) -> OutgoingMessage {
        let appRec = AppRec.answering(
            info, id: newId(), genDate: genDate, errors: errors, softwareName: "timebok",
            softwareVersion: timebokVersion)
        var values = [
            "destination": "\(appRec.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId)_async",
            "subject": "APPREC",
            "from-her-id": appRec.sender.communicationPartyHerId ?? config.officeHerId,
            "to-her-id": appRec.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId,
            "message-id": appRec.id,
        ]
        // Copied from the request (PROTOCOL.md §7): its correlation id, else its message id, else its MsgId.
        values["correlation-id"] = meta?["correlation-id"] ?? meta?["message-id"] ?? info.msgId
        return OutgoingMessage(body: .appRec(appRec), label: "AppRec", meta: TransportMeta(values: values))
    }

    func syncMeta(for message: DialogMessage, request: TransportMeta?) -> TransportMeta {
        var values = baseMeta(message)
        values["destination"] =
            request?["reply-to"]
            ?? "\(message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId)_sync"
        // The transport's correlation id, else its message id, else (no .meta) the request's MsgId.
        if let correlation = request?["correlation-id"] ?? request?["message-id"] {
            values["correlation-id"] = correlation
        }
        return TransportMeta(values: values)
    }

    /// An asynchronous message's metadata; an answer to an input with a `.meta` correlates with the
    /// request's transport correlation id (else its message id), PROTOCOL.md §7; otherwise with the
    /// request's MsgId (a late answer, whose request's `.meta` is gone); a push with nothing.
    func asyncMeta(for message: DialogMessage, request: TransportMeta? = nil) -> TransportMeta {
        var values = baseMeta(message)
        values["destination"] =
            "\(message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId)_async"
        if let correlation = request?["correlation-id"] ?? request?["message-id"] {
            values["correlation-id"] = correlation
        }
        return TransportMeta(values: values)
    }

    private func baseMeta(_ message: DialogMessage) -> [String: String] {
        var values = [
            "subject": message.info.type.value,
            "from-her-id": message.info.sender.communicationPartyHerId ?? config.officeHerId,
            "to-her-id": message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId,
            "message-id": message.info.msgId,
        ]
        // An answer correlates with the request it answers; a push (no ConversationRef) with nothing.
        if let parent = message.info.conversationRef?.refToParent { values["correlation-id"] = parent }
        return values
    }

    /// An asynchronous answer (helsenorge sends an AppRec for it): published with its metadata, and
    /// remembered as sent so the AppRec can be matched.
    func send(
        _ reply: DialogMessage, label: String, request meta: TransportMeta?, appointmentId: String?, fnr: String?,
        to result: inout Outcome
    ) {
        result.messages.append(
            OutgoingMessage(body: .dialog(reply), label: label, meta: asyncMeta(for: reply, request: meta)))
        result.records.append(
            .sent(
                SentMessage(
                    msgId: reply.info.msgId, kind: label.replacingOccurrences(of: "-", with: " "),
                    appointmentId: appointmentId,
                    fnr: fnr, sentAt: now)))
    }
}
