import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// The office's own events (commands, hold expiry) as answers, pushes and journal entries.

extension Conversations {
    // MARK: The office's own events (commands, expiry): answers and pushes

    /// The answers, pushes and journal entries of an office decision (a command, hold expiry),
    /// rendered from the snapshot before it plus the decision itself: the engine applies the
    /// decision and this outcome once, together. The outcome carries the decision.
    func officeEvents(of decision: Decision, model: some Snapshot) throws -> Outcome {
        var result = Outcome()
        result.decision = decision
        let after = try appointmentsAfter(decision, model: model)
        for event in decision.events {
            guard let appointment = try after[event.appointmentId] ?? model.appointment(id: event.appointmentId),
                let slot = try model.slot(id: appointment.slotId),
                let book = try model.book(id: appointment.bookId)
            else { continue }
            let gp = try gp(of: book, model: model)
            let patient =
                try model.patient(fnr: appointment.fnr)
                ?? ListPatient(fnr: appointment.fnr, familyName: "", givenName: "")
            let previous = try event.previousSlotId.flatMap { try model.slot(id: $0) }
            var record = JournalRecord(
                event: event.kind, at: event.at, actor: event.actor, book: book, fnr: patient.fnr,
                familyName: patient.familyName, givenName: patient.givenName,
                appointmentId: appointment.id, slot: slot, location: book.location, previousSlot: previous,
                subject: nil, text: journalText(event, appointment),
                requestMsgId: appointment.requestMsgId, conversationId: appointment.conversationId)
            var outgoing: OutgoingMessage?
            let request = try model.requestMessage(appointmentId: appointment.id).flatMap(Self.decodeRecorded)
            if appointment.requestMsgId != nil
                && (event.kind == .confirmed || event.kind == .rejected || event.kind == .expired)
                && event.actor != .citizen
            {
                // The late answer in the request's conversation.
                switch event.kind {
                case .confirmed:
                    var staff: HealthcareProfessional?
                    if case .office(let name, let hpr) = event.actor, let name {
                        let parts = name.split(separator: " ")
                        staff = HealthcareProfessional(
                            familyName: parts.last.map(String.init), givenName: parts.dropLast().joined(separator: " "),
                            idents: hpr.map { [.hpr($0)] } ?? [])
                    }
                    let confirmation = confirmationReply(
                        appointment: appointment, slot: slot, book: book, gp: gp, to: request,
                        text: event.text ?? (book.informationText.isEmpty ? nil : book.informationText), staff: staff,
                        patient: patient)
                    outgoing = confirmation.outgoing
                    record.answerCode = AnswerCode.timereservasjonBekreftet.rawValue
                    record.answerText = confirmation.text
                default:
                    let answerCode =
                        event.kind == .expired
                        ? AnswerCode.foresporselAvvist : WireVocabulary.answerCode(for: event.rejection ?? .declined)
                    let code = answerCode.rawValue
                    let text =
                        event.kind == .expired
                        ? WireVocabulary.expiredAnswer : (event.text ?? WireVocabulary.rejectedByOffice)
                    var echoed = vevent(slot, book: book, gp: gp)
                    echoed.status = EventStatus.cancelled.rawValue
                    let message =
                        request.map {
                            reply(
                                to: $0, process: nil, code: answerCode.code, text: text, calendar: [echoed],
                                calendarDescription: "iCalendarBestillTime", acknowledgement: true)
                        }
                        ?? laterAnswer(
                            appointment: appointment, book: book, gp: gp, patient: patient, code: answerCode,
                            text: text, event: echoed)
                    outgoing = OutgoingMessage(
                        body: .dialog(message), label: "SvarTimeReservasjon-\(code)", meta: asyncMeta(for: message))
                    record.answerCode = code
                    record.answerText = text
                }
            } else if event.actor != .citizen, !patient.digitallyInactive, book.published,
                let push = push(
                    for: event, appointment: appointment, slot: slot, previous: previous, book: book, gp: gp,
                    patient: patient)
            {
                outgoing = push
                record.answerCode = push.label.replacingOccurrences(of: "Avtale-", with: "")
            }
            if let outgoing {
                record.replyMsgId = outgoing.msgId
                result.messages.append(outgoing)
                result.records.append(
                    .sent(
                        SentMessage(
                            msgId: outgoing.msgId, kind: outgoing.label.replacingOccurrences(of: "-", with: " "),
                            appointmentId: appointment.id, fnr: patient.fnr, sentAt: now)))
            }
            result.journal.append(record)
        }
        return result
    }

    /// The appointments a decision inserts or changes, as they are after it.
    func appointmentsAfter(_ decision: Decision, model: some Snapshot) throws -> [String: Appointment] {
        var after: [String: Appointment] = [:]
        for change in decision.changes {
            switch change {
            case .insertAppointment(let appointment):
                after[appointment.id] = appointment
            case .setAppointmentState(let id, let state, let reason):
                guard var appointment = try after[id] ?? model.appointment(id: id) else { continue }
                appointment.state = state
                if let reason { appointment.cancellationReason = reason }
                after[id] = appointment
            case .moveAppointment(let id, let slotId):
                guard var appointment = try after[id] ?? model.appointment(id: id) else { continue }
                appointment.slotId = slotId
                after[id] = appointment
            default:
                continue
            }
        }
        return after
    }

    /// The journal's text for an event: what the office or the citizen wrote, else what the patient
    /// was told.
    func journalText(_ event: AppointmentEvent, _ appointment: Appointment) -> String? {
        if let text = event.text { return text }
        switch event.kind {
        case .expired: return WireVocabulary.expiredNote
        case .cancelled where event.actor != .citizen:
            return WireVocabulary.cancellationReason(appointment.cancellationReason ?? .byService).rawValue
        case .rejected where event.actor != .citizen: return WireVocabulary.rejectedByOffice
        default: return nil
        }
    }

    /// A request recorded with its booking, read back (it was valid when it came in).
    static func decodeRecorded(_ bytes: [UInt8]) -> DialogMessage? {
        guard
            case .dialog(let message, _)? = try? MessageCodec(
                schemas: nil, options: DecodingOptions(allowTestIdentityNumbers: true, checkInboundRules: false)
            ).decode(bytes)
        else { return nil }
        return message
    }

    /// The Avtale push for an office event: 05 booked, 07 moved, 08 cancelled, 11 no-show, MOA completed.
    func push(
        for event: AppointmentEvent, appointment: Appointment, slot: Slot, previous: Slot?, book: Book, gp: GP?,
        patient: ListPatient
    ) -> OutgoingMessage? {
        var vevent = vevent(slot, book: book, gp: gp)
        vevent.relatedTo = appointment.id
        let code: Code
        let label: String
        switch event.kind {
        case .confirmed:
            code = AnswerCode.timereservasjonBekreftet.code
            label = "Avtale-05"
            vevent.status = EventStatus.confirmed.rawValue
        case .moved:
            code = AnswerCode.endringAvTimeBekreftet.code
            label = "Avtale-07"
            vevent.status = EventStatus.confirmed.rawValue
        case .cancelled:
            code = AnswerCode.avbestillingBekreftet.code
            label = "Avtale-08"
            vevent.status = EventStatus.cancelled.rawValue
            let reason = WireVocabulary.cancellationReason(appointment.cancellationReason ?? .byService)
            vevent.cancellationReason = reason.rawValue
            vevent.description = event.text ?? reason.rawValue
        case .noShow:
            code = AnswerCode.pasientIkkeMott.code
            label = "Avtale-11"
            vevent.status = EventStatus.confirmed.rawValue
        case .completed:
            code = RequestType.meldingOmAvtale.code
            label = "Avtale-MOA"
            vevent.status = EventStatus.completed.rawValue
        default:
            return nil
        }
        let process: DialogProcess = config.pushProcess == .avtaleutsending ? .avtaleutsending : .timereservasjon
        let info = MsgInfo(
            process: process, genDate: genDate, msgId: newId(), acknowledgementRequested: true, conversationRef: nil,
            sender: parties.office(for: book, gp: gp), receiver: parties.helsenorge, patient: parties.patient(patient))
        let message = DialogMessage(
            info: info, dialogmelding: Dialogmelding(foresporsel: [Foresporsel(typeForesp: code)]),
            contentDescription: code.displayName, issueDate: genDate,
            calendar: XCalendar(productId: productId, events: [vevent]), calendarDescription: "iCalendarBestillTime")
        return OutgoingMessage(body: .dialog(message), label: label, meta: asyncMeta(for: message))
    }
}
