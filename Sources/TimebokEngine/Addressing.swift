import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

// Who a message is for: "only what is ours" (PROTOCOL.md §2, §7) and the book or GP it addresses.

extension Conversations {
    /// PROTOCOL.md §7 "Who may send" and §2 "Only what is ours": the citizen functions come from
    /// helsenorge (its enterprise HER-id, one of its accepted services), and timebok answers only
    /// what is addressed to this office: its organisation, one of its resource books, or one of its
    /// GPs. nil when the message is ours. Otherwise the refusal: unanswered, except an asynchronous
    /// message from helsenorge, which gets AppRec E21 in the office's own name.
    func notOurs(_ info: MsgInfo, asynchronous: Bool, meta: TransportMeta?, model: some Snapshot) throws -> Outcome? {
        var result = Outcome()
        let sender = info.sender
        let service = sender.service?.herId
        guard sender.herId == config.helsenorgeHerId, let service,
            config.acceptedHelsenorgeServiceHerIds.contains(service)
        else {
            result.refusal = Refusal(
                code: .senderNotHelsenorge,
                "It comes from \(Parties.describe(sender)) and is addressed to \(Parties.describe(info.receiver)); only messages from helsenorge.no (HER-id \(config.helsenorgeHerId) with one of the services \(config.acceptedHelsenorgeServiceHerIds.joined(separator: ", "))) to this office are served. Refused unanswered."
            )
            return result
        }
        let receiver = info.receiver
        var ours = receiver.herId == config.officeHerId
        switch receiver.unit {
        case .organisation(let unit):
            // The office itself as the communication party (helsenorge's examples do this), or one of its resource books.
            ours =
                try ours
                && (unit.herId == config.officeHerId
                    || unit.herId.flatMap { try model.book(herId: $0) }?.kind == .resource)
        case .professional(let professional):
            // One of its GPs, or (as in helsenorge's examples) a person under the office's own HER-id.
            ours =
                try ours
                && (professional.herId == config.officeHerId
                    || professional.herId.flatMap { try model.gp(herId: $0) } != nil)
        case nil:
            break
        }
        if ours { return nil }
        let addressed =
            "It is addressed to \(Parties.describe(receiver)), which is not this office (HER-id \(config.officeHerId)), one of its resource books or one of its GPs"
        if asynchronous {
            // In the office's own name: never as the party it was (wrongly) addressed to.
            var own = info
            own.receiver = Organisation(name: config.officeName, idents: [.organisationHerId(config.officeHerId)])
            result.messages.append(
                appRec(
                    own, meta: meta,
                    errors: [
                        (
                            .receiverUnknown,
                            "Mottakeren \(receiver.communicationPartyHerId ?? receiver.herId ?? "?") finnes ikke ved dette legekontoret."
                        )
                    ]))
            result.refusal = Refusal(
                code: .notAddressedHere, addressed + "; answered with AppRec E21 in the office's own name.")
        } else {
            result.refusal = Refusal(
                code: .notAddressedHere, addressed + "; a synchronous message to someone else is not answered.")
        }
        return result
    }

    /// The book (and GP) a message is addressed to: Receiver = office / Organisation(book HER-id),
    /// office / HealthcareProfessional(GP HER-id), or the office with role 23 + HPR in the request.
    func target(_ message: DialogMessage, model: some Snapshot) throws -> (book: Book?, gp: GP?, known: Bool) {
        let receiver = message.info.receiver
        guard receiver.herId == config.officeHerId else { return (nil, nil, false) }
        // The office's own HER-id as the second level (as helsenorge's examples do) is the office itself.
        var unit = receiver.unit
        switch unit {
        case .organisation(let service) where service.herId == config.officeHerId: unit = nil
        case .professional(let person) where person.herId == config.officeHerId: unit = nil
        default: break
        }
        switch unit {
        case .organisation(let service):
            guard let herId = service.herId, let book = try model.book(herId: herId), book.kind == .resource else {
                return (nil, nil, false)
            }
            return (book, nil, true)
        case .professional(let professional):
            guard let herId = professional.herId, let gp = try model.gp(herId: herId) else { return (nil, nil, false) }
            return (try personalBook(of: gp, model: model), gp, true)
        case nil:
            let wanted = message.foresporsel?.relatedProfessionals.first { $0.role == .onsketBehandler }?.professional
                .hprNumber
            if let wanted, let gp = try model.gp(hpr: wanted) {
                return (try personalBook(of: gp, model: model), gp, true)
            }
            return (nil, nil, true)
        }
    }

    func personalBook(of gp: GP, model: some Snapshot) throws -> Book? {
        try model.books().first { $0.kind == .personal && $0.gpHpr == gp.hpr }
    }

    func gp(of book: Book, model: some Snapshot) throws -> GP? {
        guard book.kind == .personal, let hpr = book.gpHpr else { return nil }
        return try model.gp(hpr: hpr)
    }

    /// 26 Forespørsel avvist, or 31 Generell feil where the process allows only 20/21/30/31.
    static func rejectionCode(for process: DialogProcess?) -> Code {
        switch process {
        case .behandleroversikt?, .ressursoversikt?: return AnswerCode.generellFeil.code
        default: return AnswerCode.foresporselAvvist.code
        }
    }

    func listPatient(_ message: DialogMessage, model: some Snapshot) throws -> ListPatient? {
        guard let fnr = message.info.patient?.identityNumber else { return nil }
        return try model.patient(fnr: fnr)
    }
}
