import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// HentPlanlagteTimer (PROTOCOL.md §5).

extension Conversations {
    func planlagteTimer(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        guard message.info.receiver.herId == config.officeHerId else {
            return answer(
                message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarPlanlagteTimer-26",
                text: "Mottakeren finnes ikke ved dette legekontoret.",
                refusal:
                    "HentPlanlagteTimer addressed to HER-id \(message.info.receiver.herId ?? "?"), not this office.")
        }
        guard let fnr = message.info.patient?.identityNumber else {
            return answer(message, meta: meta, code: AnswerCode.ingenBestilteTimer.code, label: "SvarPlanlagteTimer-02")
        }
        var events: [VEvent] = []
        for appointment in try model.upcomingBookings(fnr: fnr, afterSeconds: now) {
            guard let slot = try model.slot(id: appointment.slotId), let book = try model.book(id: appointment.bookId)
            else { continue }
            var event = vevent(slot, book: book, gp: try gp(of: book, model: model))
            event.status =
                appointment.state == .confirmed ? EventStatus.confirmed.rawValue : EventStatus.tentative.rawValue
            if appointment.state == .confirmed { event.relatedTo = appointment.id }
            events.append(event)
        }
        if events.isEmpty {
            return answer(message, meta: meta, code: AnswerCode.ingenBestilteTimer.code, label: "SvarPlanlagteTimer-02")
        }
        return answer(
            message, meta: meta, code: AnswerCode.bestilteTimer.code, label: "SvarPlanlagteTimer-01", calendar: events,
            calendarDescription: "iCalendarBestilteTimer")
    }
}
