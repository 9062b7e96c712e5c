import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// ReserverAvtale (PROTOCOL.md §5).

extension Conversations {
    func reserver(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        let target = try target(message, model: model)
        guard target.known, let book = target.book else {
            var result = Outcome()
            result.messages.append(
                appRec(
                    message.info, meta: meta,
                    errors: [
                        (
                            .receiverUnknown,
                            "Mottakeren \(message.info.receiver.communicationPartyHerId ?? "?") har ingen timebok ved dette legekontoret."
                        )
                    ]))
            result.refusal = Refusal(
                code: .notAddressedHere, "ReserverAvtale for a receiver this office does not have (E21).")
            return result
        }
        var result = Outcome()
        result.messages.append(appRec(message.info, meta: meta, errors: []))
        let request = message.foresporsel
        let wanted = message.calendar!.events[0]
        let gp = try target.gp ?? gp(of: book, model: model)
        let patient = try listPatient(message, model: model)
        let fnr = message.info.patient?.identityNumber ?? ""
        let conversationId = message.info.conversationRef?.refToConversation ?? message.info.msgId
        let slot = try model.slot(id: wanted.uid)
        var refusal: BookingRefusal?
        let activeBookings = try model.activeBookings(fnr: fnr, bookId: book.id, afterSeconds: now)
        if let slot, slot.bookId == book.id {
            refusal = BookingRules.checkCitizenRequest(
                book: book, slot: slot, patient: patient, bookingEnabled: try model.bookingEnabled(), now: now,
                activeBookings: activeBookings,
                prerequisitesAccepted: request?.answeredYes ?? false, subject: request?.emneSporsmal,
                text: request?.sporsmal ?? "",
                personalBookOpen: gp?.personalBookOpen ?? false, allowTestNumbers: settings.allowTestNumbers,
                alreadyHoldsSlot: try model.holdsPlace(fnr: fnr, inSlot: slot.id))
        } else {
            refusal = .slotUnavailable
        }
        if let refusal {
            let code = WireVocabulary.answerCode(for: refusal)
            let text = WireVocabulary.citizenText(for: refusal, book: book, activeBookings: activeBookings)
            var echoed = wanted
            echoed.status = EventStatus.cancelled.rawValue
            let reply = reply(
                to: message, process: nil, code: code.code, text: text, calendar: [echoed],
                calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            send(
                reply, label: "SvarTimeReservasjon-\(code.rawValue)", request: meta, appointmentId: nil, fnr: fnr,
                to: &result)
            do {
                let slot =
                    slot ?? Slot(id: wanted.uid, bookId: book.id, start: wanted.start, end: wanted.end, capacity: 0)
                result.journal.append(
                    JournalRecord(
                        event: .rejected, at: now, actor: .system, book: book, fnr: fnr,
                        familyName: message.info.patient?.familyName ?? "",
                        givenName: message.info.patient?.givenName ?? "",
                        appointmentId: nil, slot: slot, location: book.location, subject: request?.emneSporsmal,
                        text: request?.sporsmal,
                        answerCode: code.rawValue, answerText: text, requestMsgId: message.info.msgId,
                        replyMsgId: reply.info.msgId, conversationId: conversationId))
            }
            result.decision.summary = "ReserverAvtale answered \(code.rawValue) (\(refusal))."
            return result
        }
        guard let slot else { return result }
        let id = newId()
        let automatic = book.confirmation == .automatic
        let appointment = Appointment(
            id: id, bookId: book.id, slotId: slot.id, fnr: fnr, state: automatic ? .confirmed : .requested,
            subject: request?.emneSporsmal, text: request?.sporsmal,
            createdAt: now, holdUntil: automatic ? nil : now + book.holdMinutes * 60, requestMsgId: message.info.msgId,
            conversationId: conversationId)
        result.decision.changes.append(.insertAppointment(appointment))
        if !automatic {
            // Kept so the office's later answer swaps exactly the parties and repeats the patient of the request.
            result.records.append(.request(appointmentId: id, bytes: MessageCodec.encode(message)))
        }
        result.decision.events.append(
            AppointmentEvent(appointmentId: id, kind: .requested, at: now, actor: .citizen, text: request?.sporsmal))
        result.journal.append(
            JournalRecord(
                event: .requested, at: now, actor: .citizen, book: book, fnr: fnr,
                familyName: message.info.patient?.familyName ?? "", givenName: message.info.patient?.givenName ?? "",
                appointmentId: id, slot: slot, location: book.location, subject: request?.emneSporsmal,
                text: request?.sporsmal,
                requestMsgId: message.info.msgId, conversationId: conversationId))
        if automatic {
            let event = AppointmentEvent(appointmentId: id, kind: .confirmed, at: now, actor: .system)
            result.decision.events.append(event)
            let confirmation = confirmationReply(
                appointment: appointment, slot: slot, book: book, gp: gp, to: message,
                text: book.informationText.isEmpty ? nil : book.informationText, staff: nil, meta: meta)
            result.messages.append(confirmation.outgoing)
            result.records.append(
                .sent(
                    SentMessage(
                        msgId: confirmation.outgoing.msgId, kind: "SvarTimeReservasjon 05", appointmentId: id, fnr: fnr,
                        sentAt: now)))
            result.journal.append(
                JournalRecord(
                    event: .confirmed, at: now, actor: .system, book: book, fnr: fnr,
                    familyName: message.info.patient?.familyName ?? "",
                    givenName: message.info.patient?.givenName ?? "",
                    appointmentId: id, slot: slot, location: book.location, answerCode: "05",
                    answerText: confirmation.text,
                    requestMsgId: message.info.msgId, replyMsgId: confirmation.outgoing.msgId,
                    conversationId: conversationId))
            result.decision.summary = "ReserverAvtale confirmed at once (appointment \(id))."
        } else {
            result.decision.summary =
                "ReserverAvtale held for the office (request \(id), until \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(appointment.holdUntil!)))))."
        }
        return result
    }
}
