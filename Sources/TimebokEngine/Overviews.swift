import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// Behandleroversikt and Ressursoversikt (PROTOCOL.md §5).

extension Conversations {
    func behandleroversikt(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        guard message.info.receiver.herId == config.officeHerId else {
            return answer(
                message, meta: meta, code: AnswerCode.generellFeil.code, label: "Behandleroversikt-31",
                refusal: "Behandleroversikt addressed to HER-id \(message.info.receiver.herId ?? "?"), not this office."
            )
        }
        var practitioners: [Practitioner] = []
        for gp in try model.gps() where gp.personalBookOpen {
            guard let book = try personalBook(of: gp, model: model), book.published else { continue }
            practitioners.append(
                Practitioner(familyName: gp.familyName, givenName: gp.givenName, idents: [.hpr(gp.hpr)]))
        }
        if practitioners.isEmpty {
            return answer(
                message, meta: meta, code: AnswerCode.behandlereIkkeFunnet.code, label: "Behandleroversikt-21")
        }
        return answer(
            message, meta: meta, code: AnswerCode.behandlere.code, label: "Behandleroversikt-20",
            practitioners: practitioners)
    }

    func ressursoversikt(_ message: DialogMessage, meta: TransportMeta?, model: some Snapshot) throws -> Outcome {
        let target = try target(message, model: model)
        guard target.known else {
            return answer(
                message, meta: meta, code: AnswerCode.generellFeil.code, label: "Ressursoversikt-31",
                text: "Mottakeren finnes ikke ved dette legekontoret.",
                refusal:
                    "Ressursoversikt addressed to HER-id \(message.info.receiver.communicationPartyHerId ?? "?"), which is not this office or one of its GPs."
            )
        }
        if let gp = target.gp, !gp.ressursoversiktEnabled {
            return answer(
                message, meta: meta, code: AnswerCode.ikkeTilgang.code, label: "Ressursoversikt-30",
                text: "Legekontoret tilbyr ikke timebestilling i ressurstimebøker via denne legen.")
        }
        guard let patient = try listPatient(message, model: model) else {
            return answer(
                message, meta: meta, code: AnswerCode.ikkeTilgang.code, label: "Ressursoversikt-30",
                text: "Du står ikke på listen til dette legekontoret.")
        }
        var books: [ResourceBookSummary] = []
        if try model.bookingEnabled() {
            for book in try model.books()
            where book.kind == .resource && book.published
                && book.access.permits(patient, today: today, allowTestNumbers: settings.allowTestNumbers)
            {
                guard let herId = book.herId,
                    let category = AppointmentCategory(rawValue: book.category?.rawValue ?? "")
                else { continue }
                books.append(
                    ResourceBookSummary(
                        id: book.id, herId: herId, name: book.name, category: category,
                        informationText: book.informationText, location: book.location,
                        slotMinutes: book.slotMinutes, automaticConfirmation: book.confirmation == .automatic,
                        prerequisitesMustBeAccepted: book.prerequisitesMustBeAccepted))
            }
        }
        if books.isEmpty {
            return answer(message, meta: meta, code: AnswerCode.behandlereIkkeFunnet.code, label: "Ressursoversikt-21")
        }
        return answer(
            message, meta: meta, code: AnswerCode.behandlere.code, label: "Ressursoversikt-20", resourceBooks: books)
    }
}
