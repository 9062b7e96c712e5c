import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// AvbestillAvtale (PROTOCOL.md §5).

extension Conversations {
    func avbestill(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        var result = Outcome()
        let event = message.calendar!.events[0]
        let fnr = message.info.patient?.identityNumber ?? ""
        // Profile decision (PROTOCOL.md §4): match the appointment on related-to, else on uid.
        guard try target(message, model: model).known else {
            result.messages.append(
                appRec(
                    message.info, meta: meta,
                    errors: [
                        (
                            .receiverUnknown,
                            "Mottakeren \(message.info.receiver.communicationPartyHerId ?? "?") finnes ikke ved dette legekontoret."
                        )
                    ]))
            result.refusal = Refusal(
                code: .notAddressedHere, "AvbestillAvtale for a receiver this office does not have (E21).")
            return result
        }
        var appointment = try event.relatedTo.flatMap { try model.appointment(id: $0) }.flatMap {
            $0.fnr == fnr ? $0 : nil
        }
        if appointment == nil {
            appointment = try model.appointments(inSlot: event.uid).first { $0.fnr == fnr && $0.state.holdsPlace }
        }
        result.messages.append(appRec(message.info, meta: meta, errors: []))
        let process: DialogProcess? = message.info.process
        guard let found = appointment, found.fnr == fnr, let slot = try model.slot(id: found.slotId),
            let book = try model.book(id: found.bookId)
        else {
            let text = "Vi finner ikke denne timen. Ring legekontoret om du mener den finnes."
            let reply = reply(
                to: message, process: process, code: AnswerCode.timeKunneIkkeAvbestilles.code, text: text,
                calendar: [event], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            send(reply, label: "SvarTimeReservasjon-09", request: meta, appointmentId: nil, fnr: fnr, to: &result)
            result.decision.summary = "AvbestillAvtale answered 09: unknown appointment."
            return result
        }
        let gp = try gp(of: book, model: model)
        let conversationId = message.info.conversationRef?.refToConversation ?? message.info.msgId
        if let refusal = BookingRules.checkCitizenCancellation(book: book, slot: slot, appointment: found, now: now) {
            let reason = WireVocabulary.citizenText(for: refusal, book: book)
            var echoed = vevent(slot, book: book, gp: gp)
            echoed.relatedTo = found.id
            echoed.status = found.state == .confirmed ? EventStatus.confirmed.rawValue : EventStatus.tentative.rawValue
            let reply = reply(
                to: message, process: process, code: AnswerCode.timeKunneIkkeAvbestilles.code, text: reason,
                calendar: [echoed], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            send(reply, label: "SvarTimeReservasjon-09", request: meta, appointmentId: found.id, fnr: fnr, to: &result)
            result.decision.summary = "AvbestillAvtale answered 09: \(reason)"
            return result
        }
        result.decision.changes.append(
            .setAppointmentState(appointmentId: found.id, state: .cancelled, cancellationReason: .byRecipient))
        result.decision.events.append(
            AppointmentEvent(
                appointmentId: found.id, kind: .cancelled, at: now, actor: .citizen, text: message.foresporsel?.sporsmal
            ))
        var cancelled = vevent(slot, book: book, gp: gp)
        cancelled.relatedTo = found.id
        cancelled.status = EventStatus.cancelled.rawValue
        cancelled.cancellationReason = CancellationReason.byRecipient.rawValue
        let reply = reply(
            to: message, process: process, code: AnswerCode.avbestillingBekreftet.code, text: nil,
            calendar: [cancelled], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
        send(reply, label: "SvarTimeReservasjon-08", request: meta, appointmentId: found.id, fnr: fnr, to: &result)
        let patient = try model.patient(fnr: fnr)
        result.journal.append(
            JournalRecord(
                event: .cancelled, at: now, actor: .citizen, book: book, fnr: fnr,
                familyName: patient?.familyName ?? message.info.patient?.familyName ?? "",
                givenName: patient?.givenName ?? message.info.patient?.givenName ?? "",
                appointmentId: found.id, slot: slot, location: book.location, text: message.foresporsel?.sporsmal,
                answerCode: "08",
                requestMsgId: message.info.msgId, replyMsgId: reply.info.msgId, conversationId: conversationId))
        result.decision.summary = "AvbestillAvtale: appointment \(found.id) cancelled (08)."
        return result
    }
}
