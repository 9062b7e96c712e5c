import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// HentLedigeTimer (PROTOCOL.md §5).

extension Conversations {
    func ledigeTimer(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        let request = message.foresporsel
        guard let from = request?.fraDato, let to = request?.tilDato else {
            return answer(
                message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26",
                text: "Oppgi både fra-dato og til-dato.")
        }
        guard from <= to else {
            return answer(
                message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26",
                text: "Fra-datoen er etter til-datoen.")
        }
        let target = try target(message, model: model)
        guard target.known, let book = target.book else {
            return answer(
                message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26",
                text: "Denne timeboken finnes ikke ved legekontoret.",
                refusal:
                    "HentLedigeTimer for a book this office does not have (receiver \(message.info.receiver.communicationPartyHerId ?? "?"))."
            )
        }
        let gp = try target.gp ?? gp(of: book, model: model)
        let fnr = message.info.patient?.identityNumber ?? ""
        let activeBookings = try model.activeBookings(fnr: fnr, bookId: book.id, afterSeconds: now)
        // The same rules as ReserverAvtale, in the same order: the book, then the patient's limit.
        let refusal =
            try BookingRules.checkBookOpen(
                book: book, patient: listPatient(message, model: model), bookingEnabled: model.bookingEnabled(),
                personalBookOpen: gp?.personalBookOpen ?? false, today: today,
                allowTestNumbers: settings.allowTestNumbers)
            ?? BookingRules.checkBookingLimit(book: book, activeBookings: activeBookings)
        if let refusal {
            let code = WireVocabulary.answerCode(for: refusal)
            return answer(
                message, meta: meta, code: code.code, label: "SvarLedigeTimer-\(code.rawValue)",
                text: WireVocabulary.citizenText(for: refusal, book: book, activeBookings: activeBookings))
        }
        // Both dates are inclusive: up to 28 days after FraDato is one four-week request (helsenorge
        // asks 30.01–27.02), answered whole; a longer span is answered for FraDato … FraDato + 28.
        let last = min(to, from.adding(days: 28))
        let window = (
            Oslo.secondsSinceEpoch(for: LocalDateTime(date: from, hour: 0, minute: 0)),
            Oslo.secondsSinceEpoch(for: LocalDateTime(date: last.adding(days: 1), hour: 0, minute: 0))
        )
        var events: [VEvent] = []
        for slot in try model.freeSlots(bookId: book.id, fromSeconds: max(window.0, now), toSeconds: window.1) {
            guard BookingRules.isOffered(slot, in: book, now: now) else { continue }
            // A slot he already holds is not offered again.
            if slot.activeBookings > 0, try model.holdsPlace(fnr: fnr, inSlot: slot.id) { continue }
            var event = vevent(slot, book: book, gp: gp)
            if let day = BookingRules.bookableFrom(slot, in: book, today: today) {
                // Profile decision (isolated here): a slot past the booking horizon is listed with the
                // instant it becomes bookable (x-available-at), so the citizen sees when to come back.
                event.availableAt = LocalDateTime(date: day, hour: 0, minute: 0)
            }
            events.append(event)
        }
        if events.isEmpty {
            return answer(message, meta: meta, code: AnswerCode.ingenLedigeTimer.code, label: "SvarLedigeTimer-04")
        }
        return answer(
            message, meta: meta, code: AnswerCode.ledigeTimer.code, label: "SvarLedigeTimer-03", calendar: events,
            calendarDescription: "iCalendarLedigeTimer")
    }
}
