import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore

/// Transport metadata beside a message (PROTOCOL.md §7; format in the README): `key = value` lines.
public struct TransportMeta: Sendable, Hashable {
    public var values: [String: String]

    public init(values: [String: String] = [:]) { self.values = values }

    public subscript(key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }

    public static let inputKeys: Set<String> = ["message-id", "correlation-id", "reply-to", "subject", "from-her-id", "to-her-id"]

    /// Parses an input's `.meta`. Unknown keys and lines that are not `key = value` are errors.
    public static func parse(_ text: String) throws -> TransportMeta {
        var values: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasPrefix("#") ? "" : String(raw)
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let equals = line.firstIndex(of: "=") else { throw ModelError(.invalidValue, "The .meta file's line \(index + 1) is not `key = value`.") }
            let key = String(line[..<equals]).trimmedWhitespace
            guard inputKeys.contains(key) else { throw ModelError(.invalidValue, "The .meta file's line \(index + 1) has the unknown key \"\(key)\".") }
            values[key] = String(line[line.index(after: equals)...]).trimmedWhitespace
        }
        return TransportMeta(values: values)
    }

    /// The `.meta` timebok writes beside an output.
    func rendered() -> [UInt8] {
        var text = "# timebok transport metadata v1\n"
        // A key without a value is left out, never written empty.
        for key in ["destination", "correlation-id", "subject", "from-her-id", "to-her-id", "message-id"] {
            if let value = values[key], !value.isEmpty { text += "\(key) = \(value)\n" }
        }
        return Array(text.utf8)
    }
}

/// A message to publish in `outbox/`, with its transport metadata.
struct OutgoingMessage {
    enum Body {
        case dialog(DialogMessage)
        case appRec(AppRec)
    }

    var body: Body
    /// For the file name: `SvarTimeReservasjon-05`, `AppRec`, …
    var label: String
    var meta: TransportMeta

    var msgId: String {
        switch body {
        case .dialog(let message): return message.info.msgId
        case .appRec(let appRec): return appRec.id
        }
    }

    var bytes: [UInt8] {
        switch body {
        case .dialog(let message): return MessageCodec.encode(message)
        case .appRec(let appRec): return MessageCodec.encode(appRec)
        }
    }
}

/// What one input (or one office command) causes: model changes, messages and journal entries.
struct ConversationResult {
    var decision = Decision(summary: "")
    var messages: [OutgoingMessage] = []
    var journal: [JournalRecord] = []
    /// Set when the input is refused (it goes to `error/` with this reason, after its answer is sent).
    var refusal: Refusal?
}

/// The helsenorge side of the office: each function of PROTOCOL.md §5 as a decision against the model.
/// Reads the model through the transaction's reader; writes nothing itself.
struct Conversations {
    let config: TimebokConfig
    let parties: Parties
    let now: Int
    let newId: () -> String
    let settings: ModelSettings

    init(config: TimebokConfig, now: Int, newId: @escaping () -> String = { UUID().uuidString.lowercased() }) {
        self.config = config
        self.parties = Parties(config: config)
        self.now = now
        self.newId = newId
        self.settings = ModelSettings(allowTestNumbers: config.allowTestNumbers, maxSlotsPerCommand: config.maxSlotsPerCommand)
    }

    var genDate: String { Oslo.xsDateTime(Date(timeIntervalSince1970: Double(now))) }
    var today: LocalDate { Oslo.today(at: Date(timeIntervalSince1970: Double(now))) }

    // MARK: Messages from helsenorge

    func handle(_ message: DialogMessage, _ function: MessageFunction, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        if let refused = try notOurs(message.info, asynchronous: function.expectsAppRec, meta: meta, model: model) { return refused }
        if function.isAnswer { return try receiveAnswer(message, function, model: model) }
        switch function {
        case .kommunikasjonstest:
            return answer(message, meta: meta, code: CommunicationTestCode.svarKommunikasjonstest.code, label: "Kommunikasjonstest-RKT")
        case .hentBehandlere:
            return try behandleroversikt(message, meta: meta, model: model)
        case .hentRessurstimeboker:
            return try ressursoversikt(message, meta: meta, model: model)
        case .hentLedigeTimer:
            return try ledigeTimer(message, meta: meta, model: model)
        case .hentPlanlagteTimer:
            return try planlagteTimer(message, meta: meta, model: model)
        case .reserverAvtale:
            return try reserver(message, meta: meta, model: model)
        case .avbestillAvtale:
            return try avbestill(message, meta: meta, model: model)
        default:
            // An answer or push sent to the office: not a function the office serves.
            var result = ConversationResult()
            if function.expectsAppRec {
                result.messages.append(appRec(message.info, meta: meta, errors: [(.unsupportedFormat, "\(function.rawValue) is sent by the office, not to it.")]))
            }
            result.refusal = Refusal(code: .officeSideMessage, "\(function.rawValue) is a message the office sends, not one it serves.")
            return result
        }
    }

    /// PROTOCOL.md §7 "Who may send" and §2 "Only what is ours": the citizen functions come from
    /// helsenorge (its enterprise HER-id, one of its accepted services), and timebok answers only
    /// what is addressed to this office: its organisation, one of its resource books, or one of its
    /// GPs. nil when the message is ours. Otherwise the refusal: unanswered, except an asynchronous
    /// message from helsenorge, which gets AppRec E21 in the office's own name.
    func notOurs(_ info: MsgInfo, asynchronous: Bool, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult? {
        var result = ConversationResult()
        let sender = info.sender
        let service = sender.service?.herId
        guard sender.herId == config.helsenorgeHerId, let service, config.acceptedHelsenorgeServiceHerIds.contains(service) else {
            result.refusal = Refusal(code: .senderNotHelsenorge, "It comes from \(Parties.describe(sender)) and is addressed to \(Parties.describe(info.receiver)); only messages from helsenorge.no (HER-id \(config.helsenorgeHerId) with one of the services \(config.acceptedHelsenorgeServiceHerIds.joined(separator: ", "))) to this office are served. Refused unanswered.")
            return result
        }
        let receiver = info.receiver
        var ours = receiver.herId == config.officeHerId
        switch receiver.unit {
        case .organisation(let unit):
            // The office itself as the communication party (helsenorge's examples do this), or one of its resource books.
            ours = try ours && (unit.herId == config.officeHerId || unit.herId.flatMap { try model.book(herId: $0) }?.kind == .resource)
        case .professional(let professional):
            // One of its GPs, or (as in helsenorge's examples) a person under the office's own HER-id.
            ours = try ours && (professional.herId == config.officeHerId || professional.herId.flatMap { try model.gp(herId: $0) } != nil)
        case nil:
            break
        }
        if ours { return nil }
        let addressed = "It is addressed to \(Parties.describe(receiver)), which is not this office (HER-id \(config.officeHerId)), one of its resource books or one of its GPs"
        if asynchronous {
            // In the office's own name: never as the party it was (wrongly) addressed to.
            var own = info
            own.receiver = Organisation(name: config.officeName, idents: [.organisationHerId(config.officeHerId)])
            result.messages.append(appRec(own, meta: meta, errors: [(.receiverUnknown, "Mottakeren \(receiver.communicationPartyHerId ?? receiver.herId ?? "?") finnes ikke ved dette legekontoret.")]))
            result.refusal = Refusal(code: .notAddressedHere, addressed + "; answered with AppRec E21 in the office's own name.")
        } else {
            result.refusal = Refusal(code: .notAddressedHere, addressed + "; a synchronous message to someone else is not answered.")
        }
        return result
    }

    /// A message that is itself an answer (a TemaKodet answer, an RKT) is never answered: it is
    /// matched to what timebok sent (its RefToParent) and recorded, or refused when it matches nothing.
    func receiveAnswer(_ message: DialogMessage, _ function: MessageFunction, model: StoreReader) throws -> ConversationResult {
        var result = ConversationResult()
        let code = message.notat?.temaKodet.value ?? "?"
        guard let parent = message.info.conversationRef?.refToParent, let sent = try model.sentMessage(msgId: parent) else {
            result.refusal = Refusal(code: .unmatchedAnswer, "It is an answer (\(function.rawValue) \(code)) to MsgId \(message.info.conversationRef?.refToParent ?? "(no RefToParent)"), which timebok did not send (or no longer knows); answers are never answered.")
            return result
        }
        // An earlier negative AppRec (failed) stays failed.
        if sent.status == .sent { result.decision.changes.append(.setSentMessageStatus(msgId: sent.msgId, status: .delivered, errors: nil)) }
        let roundTrip = max(0, now - sent.sentAt)
        result.decision.summary = "\(function.rawValue) \(code) answers \(sent.kind) \(sent.msgId), sent \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(sent.sentAt)))): round trip \(roundTrip) s."
        return result
    }

    /// The book (and GP) a message is addressed to: Receiver = office / Organisation(book HER-id),
    /// office / HealthcareProfessional(GP HER-id), or the office with role 23 + HPR in the request.
    func target(_ message: DialogMessage, model: StoreReader) throws -> (book: Book?, gp: GP?, known: Bool) {
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
            guard let herId = service.herId, let book = try model.book(herId: herId), book.kind == .resource else { return (nil, nil, false) }
            return (book, nil, true)
        case .professional(let professional):
            guard let herId = professional.herId, let gp = try model.gp(herId: herId) else { return (nil, nil, false) }
            return (try personalBook(of: gp, model: model), gp, true)
        case nil:
            let wanted = message.foresporsel?.relatedProfessionals.first { $0.role == .onsketBehandler }?.professional.hprNumber
            if let wanted, let gp = try model.gp(hpr: wanted) {
                return (try personalBook(of: gp, model: model), gp, true)
            }
            return (nil, nil, true)
        }
    }

    func personalBook(of gp: GP, model: StoreReader) throws -> Book? {
        try model.books().first { $0.kind == .personal && $0.gpHpr == gp.hpr }
    }

    func gp(of book: Book, model: StoreReader) throws -> GP? {
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

    func behandleroversikt(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        guard message.info.receiver.herId == config.officeHerId else {
            return answer(message, meta: meta, code: AnswerCode.generellFeil.code, label: "Behandleroversikt-31", refusal: "Behandleroversikt addressed to HER-id \(message.info.receiver.herId ?? "?"), not this office.")
        }
        var practitioners: [Practitioner] = []
        for gp in try model.gps() where gp.personalBookOpen {
            guard let book = try personalBook(of: gp, model: model), book.published else { continue }
            practitioners.append(Practitioner(familyName: gp.familyName, givenName: gp.givenName, idents: [.hpr(gp.hpr)]))
        }
        if practitioners.isEmpty {
            return answer(message, meta: meta, code: AnswerCode.behandlereIkkeFunnet.code, label: "Behandleroversikt-21")
        }
        return answer(message, meta: meta, code: AnswerCode.behandlere.code, label: "Behandleroversikt-20", practitioners: practitioners)
    }

    func ressursoversikt(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        let target = try target(message, model: model)
        guard target.known else { return answer(message, meta: meta, code: AnswerCode.generellFeil.code, label: "Ressursoversikt-31", text: "Mottakeren finnes ikke ved dette legekontoret.", refusal: "Ressursoversikt addressed to HER-id \(message.info.receiver.communicationPartyHerId ?? "?"), which is not this office or one of its GPs.") }
        if let gp = target.gp, !gp.ressursoversiktEnabled {
            return answer(message, meta: meta, code: AnswerCode.ikkeTilgang.code, label: "Ressursoversikt-30", text: "Legekontoret tilbyr ikke timebestilling i ressurstimebøker via denne legen.")
        }
        guard let patient = try listPatient(message, model: model) else {
            return answer(message, meta: meta, code: AnswerCode.ikkeTilgang.code, label: "Ressursoversikt-30", text: "Du står ikke på listen til dette legekontoret.")
        }
        var books: [ResourceBookSummary] = []
        if try model.bookingEnabled() {
            for book in try model.books() where book.kind == .resource && book.published && book.access.permits(patient, today: today, allowTestNumbers: settings.allowTestNumbers) {
                guard let herId = book.herId, let category = AppointmentCategory(rawValue: book.category?.rawValue ?? "") else { continue }
                books.append(ResourceBookSummary(id: book.id, herId: herId, name: book.name, category: category, informationText: book.informationText, location: book.location,
                                                 slotMinutes: book.slotMinutes, automaticConfirmation: book.confirmation == .automatic, prerequisitesMustBeAccepted: book.prerequisitesMustBeAccepted))
            }
        }
        if books.isEmpty { return answer(message, meta: meta, code: AnswerCode.behandlereIkkeFunnet.code, label: "Ressursoversikt-21") }
        return answer(message, meta: meta, code: AnswerCode.behandlere.code, label: "Ressursoversikt-20", resourceBooks: books)
    }

    func ledigeTimer(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        let request = message.foresporsel
        guard let from = request?.fraDato, let to = request?.tilDato else {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26", text: "Oppgi både fra-dato og til-dato.")
        }
        guard from <= to else {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26", text: "Fra-datoen er etter til-datoen.")
        }
        let target = try target(message, model: model)
        guard target.known, let book = target.book else {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26", text: "Denne timeboken finnes ikke ved legekontoret.",
                          refusal: "HentLedigeTimer for a book this office does not have (receiver \(message.info.receiver.communicationPartyHerId ?? "?")).")
        }
        let gp = try target.gp ?? gp(of: book, model: model)
        if let refusal = try availability(book: book, gp: gp, message: message, meta: meta, model: model) { return refusal }
        let fnr = message.info.patient?.identityNumber ?? ""
        if let limit = book.maxActiveBookingsPerPatient, try model.activeBookings(fnr: fnr, bookId: book.id, afterSeconds: now) >= limit {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarLedigeTimer-26", text: "Du har allerede så mange aktive bestillinger i denne timeboken som tillatt (\(limit)).")
        }
        // Both dates are inclusive: up to 28 days after FraDato is one four-week request (helsenorge
        // asks 30.01–27.02), answered whole; a longer span is answered for FraDato … FraDato + 28.
        let last = min(to, from.adding(days: 28))
        let window = (Oslo.secondsSinceEpoch(for: LocalDateTime(date: from, hour: 0, minute: 0)), Oslo.secondsSinceEpoch(for: LocalDateTime(date: last.adding(days: 1), hour: 0, minute: 0)))
        var events: [VEvent] = []
        for slot in try model.freeSlots(bookId: book.id, fromSeconds: max(window.0, now), toSeconds: window.1) {
            let start = slot.startSeconds
            guard start > now, start - now >= book.bookingCutoffMinutes * 60 else { continue }
            // A slot he already holds is not offered again.
            if slot.activeBookings > 0, try model.appointments(inSlot: slot.id).contains(where: { $0.fnr == fnr && $0.state.holdsPlace }) { continue }
            var event = vevent(slot, book: book, gp: gp)
            if let horizon = book.bookingHorizonDays, slot.start.date > today.adding(days: horizon) {
                // Profile decision (isolated here): a slot past the booking horizon is listed with the
                // instant it becomes bookable (x-available-at), so the citizen sees when to come back.
                event.availableAt = LocalDateTime(date: slot.start.date.adding(days: -horizon), hour: 0, minute: 0)
            }
            events.append(event)
        }
        if events.isEmpty { return answer(message, meta: meta, code: AnswerCode.ingenLedigeTimer.code, label: "SvarLedigeTimer-04") }
        return answer(message, meta: meta, code: AnswerCode.ledigeTimer.code, label: "SvarLedigeTimer-03", calendar: events, calendarDescription: "iCalendarLedigeTimer")
    }

    /// 26/30 for a book the citizen cannot use at all (unpublished, switched off, outside the access rule).
    func availability(book: Book, gp: GP?, message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult? {
        let label = "SvarLedigeTimer"
        guard book.published, book.kind == .resource || gp?.personalBookOpen == true else {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "\(label)-26", text: "Denne timeboken er ikke åpen for bestilling på nett.")
        }
        if book.kind == .resource, try !model.bookingEnabled() {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "\(label)-26", text: "Legekontoret tar ikke imot timebestillinger på nett for denne tjenesten nå.")
        }
        guard book.access.permits(try listPatient(message, model: model), today: today, allowTestNumbers: settings.allowTestNumbers) else {
            return answer(message, meta: meta, code: AnswerCode.ikkeTilgang.code, label: "\(label)-30", text: RequestRefusal.noAccess.citizenText)
        }
        return nil
    }

    func planlagteTimer(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        guard message.info.receiver.herId == config.officeHerId else {
            return answer(message, meta: meta, code: AnswerCode.foresporselAvvist.code, label: "SvarPlanlagteTimer-26", text: "Mottakeren finnes ikke ved dette legekontoret.",
                          refusal: "HentPlanlagteTimer addressed to HER-id \(message.info.receiver.herId ?? "?"), not this office.")
        }
        guard let fnr = message.info.patient?.identityNumber else {
            return answer(message, meta: meta, code: AnswerCode.ingenBestilteTimer.code, label: "SvarPlanlagteTimer-02")
        }
        var events: [VEvent] = []
        for appointment in try model.upcomingBookings(fnr: fnr, afterSeconds: now) {
            guard let slot = try model.slot(id: appointment.slotId), let book = try model.book(id: appointment.bookId) else { continue }
            var event = vevent(slot, book: book, gp: try gp(of: book, model: model))
            event.status = appointment.state == .confirmed ? EventStatus.confirmed.rawValue : EventStatus.tentative.rawValue
            if appointment.state == .confirmed { event.relatedTo = appointment.id }
            events.append(event)
        }
        if events.isEmpty { return answer(message, meta: meta, code: AnswerCode.ingenBestilteTimer.code, label: "SvarPlanlagteTimer-02") }
        return answer(message, meta: meta, code: AnswerCode.bestilteTimer.code, label: "SvarPlanlagteTimer-01", calendar: events, calendarDescription: "iCalendarBestilteTimer")
    }

    func reserver(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        let target = try target(message, model: model)
        guard target.known, let book = target.book else {
            var result = ConversationResult()
            result.messages.append(appRec(message.info, meta: meta, errors: [(.receiverUnknown, "Mottakeren \(message.info.receiver.communicationPartyHerId ?? "?") har ingen timebok ved dette legekontoret.")]))
            result.refusal = Refusal(code: .notAddressedHere, "ReserverAvtale for a receiver this office does not have (E21).")
            return result
        }
        var result = ConversationResult()
        result.messages.append(appRec(message.info, meta: meta, errors: []))
        let request = message.foresporsel
        let wanted = message.calendar!.events[0]
        let gp = try target.gp ?? gp(of: book, model: model)
        let patient = try listPatient(message, model: model)
        let fnr = message.info.patient?.identityNumber ?? ""
        let conversationId = message.info.conversationRef?.refToConversation ?? message.info.msgId
        let slot = try model.slot(id: wanted.uid)
        var refusal: RequestRefusal?
        if let slot, slot.bookId == book.id {
            refusal = BookingRules.checkCitizenRequest(
                book: book, slot: slot, patient: patient, bookingEnabled: try model.bookingEnabled(), now: now,
                activeBookings: try model.activeBookings(fnr: fnr, bookId: book.id, afterSeconds: now),
                prerequisitesAccepted: request?.answeredYes ?? false, subject: request?.emneSporsmal, text: request?.sporsmal ?? "",
                personalBookOpen: gp?.personalBookOpen ?? false, allowTestNumbers: settings.allowTestNumbers)
            if refusal == nil, try model.appointments(inSlot: slot.id).contains(where: { $0.fnr == fnr && $0.state.holdsPlace }) {
                refusal = .rejected("Du har allerede bestilt denne timen.")
            }
        } else {
            refusal = .slotUnavailable
        }
        if let refusal {
            var echoed = wanted
            echoed.status = EventStatus.cancelled.rawValue
            let reply = reply(to: message, process: nil, code: AnswerCode(rawValue: refusal.answerCode)!.code, text: refusal.citizenText, calendar: [echoed], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            result.messages.append(OutgoingMessage(body: .dialog(reply), label: "SvarTimeReservasjon-\(refusal.answerCode)", meta: asyncMeta(for: reply, request: meta)))
            result.decision.changes.append(.recordSentMessage(SentMessage(msgId: reply.info.msgId, kind: "SvarTimeReservasjon \(refusal.answerCode)", appointmentId: nil, fnr: fnr, sentAt: now)))
            do {
                let slot = slot ?? Slot(id: wanted.uid, bookId: book.id, start: wanted.start, end: wanted.end, capacity: 0)
                result.journal.append(JournalRecord(event: .rejected, at: now, actor: .system, book: book, fnr: fnr, familyName: message.info.patient?.familyName ?? "", givenName: message.info.patient?.givenName ?? "",
                                                    appointmentId: nil, slot: slot, location: book.location, subject: request?.emneSporsmal, text: request?.sporsmal,
                                                    answerCode: refusal.answerCode, answerText: refusal.citizenText, requestMsgId: message.info.msgId, replyMsgId: reply.info.msgId, conversationId: conversationId))
            }
            result.decision.summary = "ReserverAvtale answered \(refusal.answerCode)."
            return result
        }
        guard let slot else { return result }
        let id = newId()
        let automatic = book.confirmation == .automatic
        let appointment = Appointment(id: id, bookId: book.id, slotId: slot.id, fnr: fnr, state: automatic ? .confirmed : .requested, subject: request?.emneSporsmal, text: request?.sporsmal,
                                      createdAt: now, holdUntil: automatic ? nil : now + book.holdMinutes * 60, requestMsgId: message.info.msgId, conversationId: conversationId)
        result.decision.changes.append(.insertAppointment(appointment))
        if !automatic {
            // Kept so the office's later answer swaps exactly the parties and repeats the patient of the request.
            result.decision.changes.append(.recordRequestMessage(appointmentId: id, bytes: MessageCodec.encode(message)))
        }
        result.decision.events.append(AppointmentEvent(appointmentId: id, kind: .requested, at: now, actor: .citizen, text: request?.sporsmal))
        result.journal.append(JournalRecord(event: .requested, at: now, actor: .citizen, book: book, fnr: fnr, familyName: message.info.patient?.familyName ?? "", givenName: message.info.patient?.givenName ?? "",
                                            appointmentId: id, slot: slot, location: book.location, subject: request?.emneSporsmal, text: request?.sporsmal,
                                            requestMsgId: message.info.msgId, conversationId: conversationId))
        if automatic {
            let event = AppointmentEvent(appointmentId: id, kind: .confirmed, at: now, actor: .system)
            result.decision.events.append(event)
            let confirmation = confirmationReply(appointment: appointment, slot: slot, book: book, gp: gp, to: message, text: book.informationText.isEmpty ? nil : book.informationText, staff: nil, meta: meta)
            result.messages.append(confirmation.outgoing)
            result.decision.changes.append(.recordSentMessage(SentMessage(msgId: confirmation.outgoing.msgId, kind: "SvarTimeReservasjon 05", appointmentId: id, fnr: fnr, sentAt: now)))
            result.journal.append(JournalRecord(event: .confirmed, at: now, actor: .system, book: book, fnr: fnr, familyName: message.info.patient?.familyName ?? "", givenName: message.info.patient?.givenName ?? "",
                                                appointmentId: id, slot: slot, location: book.location, answerCode: "05", answerText: confirmation.text,
                                                requestMsgId: message.info.msgId, replyMsgId: confirmation.outgoing.msgId, conversationId: conversationId))
            result.decision.summary = "ReserverAvtale confirmed at once (appointment \(id))."
        } else {
            result.decision.summary = "ReserverAvtale held for the office (request \(id), until \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(appointment.holdUntil!)))))."
        }
        return result
    }

    func avbestill(_ message: DialogMessage, meta: TransportMeta?, model: StoreReader) throws -> ConversationResult {
        var result = ConversationResult()
        let event = message.calendar!.events[0]
        let fnr = message.info.patient?.identityNumber ?? ""
        // Profile decision (PROTOCOL.md §4): match the appointment on related-to, else on uid.
        guard try target(message, model: model).known else {
            result.messages.append(appRec(message.info, meta: meta, errors: [(.receiverUnknown, "Mottakeren \(message.info.receiver.communicationPartyHerId ?? "?") finnes ikke ved dette legekontoret.")]))
            result.refusal = Refusal(code: .notAddressedHere, "AvbestillAvtale for a receiver this office does not have (E21).")
            return result
        }
        var appointment = try event.relatedTo.flatMap { try model.appointment(id: $0) }.flatMap { $0.fnr == fnr ? $0 : nil }
        if appointment == nil {
            appointment = try model.appointments(inSlot: event.uid).first { $0.fnr == fnr && $0.state.holdsPlace }
        }
        result.messages.append(appRec(message.info, meta: meta, errors: []))
        let process: DialogProcess? = message.info.process
        guard let found = appointment, found.fnr == fnr, let slot = try model.slot(id: found.slotId), let book = try model.book(id: found.bookId) else {
            let text = "Vi finner ikke denne timen. Ring legekontoret om du mener den finnes."
            let reply = reply(to: message, process: process, code: AnswerCode.timeKunneIkkeAvbestilles.code, text: text, calendar: [event], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            result.messages.append(OutgoingMessage(body: .dialog(reply), label: "SvarTimeReservasjon-09", meta: asyncMeta(for: reply, request: meta)))
            result.decision.changes.append(.recordSentMessage(SentMessage(msgId: reply.info.msgId, kind: "SvarTimeReservasjon 09", appointmentId: nil, fnr: fnr, sentAt: now)))
            result.decision.summary = "AvbestillAvtale answered 09: unknown appointment."
            return result
        }
        let gp = try gp(of: book, model: model)
        let conversationId = message.info.conversationRef?.refToConversation ?? message.info.msgId
        if let reason = BookingRules.checkCitizenCancellation(book: book, slot: slot, appointment: found, now: now) {
            var echoed = vevent(slot, book: book, gp: gp)
            echoed.relatedTo = found.id
            echoed.status = found.state == .confirmed ? EventStatus.confirmed.rawValue : EventStatus.tentative.rawValue
            let reply = reply(to: message, process: process, code: AnswerCode.timeKunneIkkeAvbestilles.code, text: reason, calendar: [echoed], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
            result.messages.append(OutgoingMessage(body: .dialog(reply), label: "SvarTimeReservasjon-09", meta: asyncMeta(for: reply, request: meta)))
            result.decision.changes.append(.recordSentMessage(SentMessage(msgId: reply.info.msgId, kind: "SvarTimeReservasjon 09", appointmentId: found.id, fnr: fnr, sentAt: now)))
            result.decision.summary = "AvbestillAvtale answered 09: \(reason)"
            return result
        }
        result.decision.changes.append(.setAppointmentState(appointmentId: found.id, state: .cancelled, cancellationReason: CancellationReason.byRecipient.rawValue))
        result.decision.events.append(AppointmentEvent(appointmentId: found.id, kind: .cancelled, at: now, actor: .citizen, text: message.foresporsel?.sporsmal))
        var cancelled = vevent(slot, book: book, gp: gp)
        cancelled.relatedTo = found.id
        cancelled.status = EventStatus.cancelled.rawValue
        cancelled.cancellationReason = CancellationReason.byRecipient.rawValue
        let reply = reply(to: message, process: process, code: AnswerCode.avbestillingBekreftet.code, text: nil, calendar: [cancelled], calendarDescription: "iCalendarBestillTime", acknowledgement: true)
        result.messages.append(OutgoingMessage(body: .dialog(reply), label: "SvarTimeReservasjon-08", meta: asyncMeta(for: reply, request: meta)))
        result.decision.changes.append(.recordSentMessage(SentMessage(msgId: reply.info.msgId, kind: "SvarTimeReservasjon 08", appointmentId: found.id, fnr: fnr, sentAt: now)))
        let patient = try model.patient(fnr: fnr)
        result.journal.append(JournalRecord(event: .cancelled, at: now, actor: .citizen, book: book, fnr: fnr, familyName: patient?.familyName ?? message.info.patient?.familyName ?? "", givenName: patient?.givenName ?? message.info.patient?.givenName ?? "",
                                            appointmentId: found.id, slot: slot, location: book.location, text: message.foresporsel?.sporsmal, answerCode: "08",
                                            requestMsgId: message.info.msgId, replyMsgId: reply.info.msgId, conversationId: conversationId))
        result.decision.summary = "AvbestillAvtale: appointment \(found.id) cancelled (08)."
        return result
    }

    // MARK: The office's own events (commands, expiry): answers and pushes

    /// Answers and pushes for the events of a committed decision, read after it was applied.
    func render(events: [AppointmentEvent], model: StoreReader) throws -> ConversationResult {
        var result = ConversationResult()
        for event in events {
            guard let appointment = try model.appointment(id: event.appointmentId), let slot = try model.slot(id: appointment.slotId),
                  let book = try model.book(id: appointment.bookId) else { continue }
            let gp = try gp(of: book, model: model)
            let patient = try model.patient(fnr: appointment.fnr) ?? ListPatient(fnr: appointment.fnr, familyName: "", givenName: "")
            let previous = try event.previousSlotId.flatMap { try model.slot(id: $0) }
            var record = JournalRecord(event: event.kind, at: event.at, actor: event.actor, book: book, fnr: patient.fnr, familyName: patient.familyName, givenName: patient.givenName,
                                       appointmentId: appointment.id, slot: slot, location: book.location, previousSlot: previous, subject: nil, text: event.text,
                                       requestMsgId: appointment.requestMsgId, conversationId: appointment.conversationId)
            var outgoing: OutgoingMessage?
            let request = try model.requestMessage(appointmentId: appointment.id).flatMap(Self.decodeRecorded)
            if appointment.requestMsgId != nil && (event.kind == .confirmed || event.kind == .rejected || event.kind == .expired) && event.actor != .citizen {
                // The late answer in the request's conversation.
                switch event.kind {
                case .confirmed:
                    var staff: HealthcareProfessional?
                    if case .office(let name, let hpr) = event.actor, let name {
                        let parts = name.split(separator: " ")
                        staff = HealthcareProfessional(familyName: parts.last.map(String.init), givenName: parts.dropLast().joined(separator: " "), idents: hpr.map { [.hpr($0)] } ?? [])
                    }
                    let confirmation = confirmationReply(appointment: appointment, slot: slot, book: book, gp: gp, to: request, text: event.text ?? (book.informationText.isEmpty ? nil : book.informationText), staff: staff, patient: patient)
                    outgoing = confirmation.outgoing
                    record.answerCode = "05"
                    record.answerText = confirmation.text
                default:
                    let code = event.answerCode ?? "26"
                    let text = event.kind == .expired ? "Legekontoret svarte ikke på forespørselen i tide. Timen er ikke reservert; du kan bestille en ny." : (event.text ?? "Legekontoret kan ikke gi deg denne timen.")
                    var echoed = vevent(slot, book: book, gp: gp)
                    echoed.status = EventStatus.cancelled.rawValue
                    let answerCode = AnswerCode(rawValue: code) ?? .foresporselAvvist
                    let message = request.map { reply(to: $0, process: nil, code: answerCode.code, text: text, calendar: [echoed], calendarDescription: "iCalendarBestillTime", acknowledgement: true) }
                        ?? laterAnswer(appointment: appointment, book: book, gp: gp, patient: patient, code: answerCode, text: text, event: echoed)
                    outgoing = OutgoingMessage(body: .dialog(message), label: "SvarTimeReservasjon-\(code)", meta: asyncMeta(for: message))
                    record.answerCode = code
                    record.answerText = text
                }
            } else if event.actor != .citizen, !patient.digitallyInactive, book.published, let push = push(for: event, appointment: appointment, slot: slot, previous: previous, book: book, gp: gp, patient: patient) {
                outgoing = push
                record.answerCode = push.label.replacingOccurrences(of: "Avtale-", with: "")
            }
            if let outgoing {
                record.replyMsgId = outgoing.msgId
                result.messages.append(outgoing)
                result.decision.changes.append(.recordSentMessage(SentMessage(msgId: outgoing.msgId, kind: outgoing.label.replacingOccurrences(of: "-", with: " "), appointmentId: appointment.id, fnr: patient.fnr, sentAt: now)))
            }
            result.journal.append(record)
        }
        return result
    }

    /// A request recorded with its booking, read back (it was valid when it came in).
    static func decodeRecorded(_ bytes: [UInt8]) -> DialogMessage? {
        guard case .dialog(let message, _)? = try? MessageCodec(schemas: nil, options: DecodingOptions(allowTestIdentityNumbers: true, checkInboundRules: false)).decode(bytes) else { return nil }
        return message
    }

    /// The Avtale push for an office event: 05 booked, 07 moved, 08 cancelled, 11 no-show, MOA completed.
    func push(for event: AppointmentEvent, appointment: Appointment, slot: Slot, previous: Slot?, book: Book, gp: GP?, patient: ListPatient) -> OutgoingMessage? {
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
            vevent.cancellationReason = appointment.cancellationReason ?? CancellationReason.byService.rawValue
            if let text = event.text { vevent.description = text }
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
        let info = MsgInfo(process: process, genDate: genDate, msgId: newId(), acknowledgementRequested: true, conversationRef: nil,
                           sender: parties.office(for: book, gp: gp), receiver: parties.helsenorge, patient: parties.patient(patient))
        let message = DialogMessage(info: info, dialogmelding: Dialogmelding(foresporsel: [Foresporsel(typeForesp: code)]), contentDescription: code.displayName, issueDate: genDate,
                                    calendar: XCalendar(productId: productId, events: [vevent]), calendarDescription: "iCalendarBestillTime")
        return OutgoingMessage(body: .dialog(message), label: label, meta: asyncMeta(for: message))
    }

    // MARK: Building answers

    var productId: String { "timebok \(config.officeName)" }

    func vevent(_ slot: Slot, book: Book, gp: GP?) -> VEvent {
        VEvent(start: slot.start, end: slot.end, uid: slot.id, contact: parties.contact(for: book, gp: gp), summary: book.name, location: book.location,
               categories: [book.category?.rawValue ?? AppointmentCategory.ordinaer.rawValue])
    }

    func confirmationReply(appointment: Appointment, slot: Slot, book: Book, gp: GP?, to request: DialogMessage?, text: String?, staff: HealthcareProfessional?, patient: ListPatient? = nil, meta: TransportMeta? = nil) -> (outgoing: OutgoingMessage, text: String?) {
        var event = vevent(slot, book: book, gp: gp)
        event.relatedTo = appointment.id
        event.status = EventStatus.confirmed.rawValue
        // The practitioner, where known (PROTOCOL.md §3): the staff member who confirmed (with an
        // HPR number), else the one the citizen asked for (role 23 + HPR), else the book's GP, else
        // the staff member's name alone.
        let related: [RelatedProfessional]
        if let staff, staff.hprNumber != nil {
            related = [RelatedProfessional(roleToPatient: nil, professional: staff)]
        } else if let wanted = request?.foresporsel?.relatedProfessionals.first(where: { $0.role == .onsketBehandler && $0.professional.hprNumber != nil }) {
            related = [wanted]
        } else if let gp {
            related = [RelatedProfessional(roleToPatient: RoleToPatient.fastlege.code,
                                           professional: HealthcareProfessional(familyName: gp.familyName, givenName: gp.givenName, idents: [.hpr(gp.hpr)]))]
        } else {
            related = staff.map { [RelatedProfessional(roleToPatient: nil, professional: $0)] } ?? []
        }
        let message: DialogMessage
        if let request {
            message = reply(to: request, process: nil, code: AnswerCode.timereservasjonBekreftet.code, text: text, calendar: [event], calendarDescription: "iCalendarBestillTime", acknowledgement: true, related: related)
        } else {
            message = laterAnswer(appointment: appointment, book: book, gp: gp, patient: patient ?? ListPatient(fnr: appointment.fnr, familyName: "", givenName: ""), code: .timereservasjonBekreftet, text: text, event: event, related: related)
        }
        return (OutgoingMessage(body: .dialog(message), label: "SvarTimeReservasjon-05", meta: asyncMeta(for: message, request: meta)), text)
    }

    /// An answer in a request's conversation after the request itself is gone from memory.
    func laterAnswer(appointment: Appointment, book: Book, gp: GP?, patient: ListPatient, code: AnswerCode, text: String?, event: VEvent, related: [RelatedProfessional] = []) -> DialogMessage {
        let info = MsgInfo(process: .timereservasjon, genDate: genDate, msgId: newId(), acknowledgementRequested: true,
                           conversationRef: ConversationRef(refToParent: appointment.requestMsgId ?? appointment.id, refToConversation: appointment.conversationId ?? appointment.requestMsgId ?? appointment.id),
                           sender: parties.office(for: book, gp: gp), receiver: parties.helsenorge, patient: parties.patient(patient))
        return DialogMessage(info: info, dialogmelding: Dialogmelding(notat: [Notat(temaKodet: code.code, tekstNotatInnhold: text, relatedProfessionals: related)]), contentDescription: code.displayName, issueDate: genDate,
                             calendar: XCalendar(productId: productId, events: [event]), calendarDescription: "iCalendarBestillTime")
    }

    func reply(to message: DialogMessage, process: DialogProcess?, code: Code, text: String?, calendar: [VEvent]? = nil, calendarDescription: String? = nil, practitioners: [Practitioner]? = nil, resourceBooks: [ResourceBookSummary]? = nil, acknowledgement: Bool, related: [RelatedProfessional] = []) -> DialogMessage {
        let info = message.info.reply(process: process, msgId: newId(), genDate: genDate, acknowledgementRequested: acknowledgement)
        return DialogMessage(info: info, dialogmelding: Dialogmelding(notat: [Notat(temaKodet: code, tekstNotatInnhold: text, relatedProfessionals: related)]), contentDescription: code.displayName, issueDate: genDate,
                             calendar: calendar.map { XCalendar(productId: productId, events: $0) }, calendarDescription: calendarDescription, practitioners: practitioners, resourceBooks: resourceBooks)
    }

    /// A synchronous answer (Ack N) to the request's reply-to queue with its correlation id.
    func answer(_ message: DialogMessage, meta: TransportMeta?, code: Code, label: String, text: String? = nil, calendar: [VEvent]? = nil, calendarDescription: String? = nil, practitioners: [Practitioner]? = nil, resourceBooks: [ResourceBookSummary]? = nil, refusal: String? = nil) -> ConversationResult {
        let reply = reply(to: message, process: nil, code: code, text: text, calendar: calendar, calendarDescription: calendarDescription, practitioners: practitioners, resourceBooks: resourceBooks, acknowledgement: false)
        var result = ConversationResult()
        result.messages.append(OutgoingMessage(body: .dialog(reply), label: label, meta: syncMeta(for: reply, request: meta)))
        result.decision.summary = "\(label) answered."
        result.refusal = refusal.map { Refusal(code: .refusedRequest, $0) }
        return result
    }

    /// An AppRec for an asynchronous message: OK without errors, Avvist with them.
    func appRec(_ info: MsgInfo, meta: TransportMeta?, errors: [(AppRecErrorCode, String?)]) -> OutgoingMessage {
        let appRec = AppRec.answering(info, id: newId(), genDate: genDate, errors: errors, softwareName: "timebok", softwareVersion: timebokVersion)
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
        values["destination"] = request?["reply-to"] ?? "\(message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId)_sync"
        // The transport's correlation id, else its message id, else (no .meta) the request's MsgId.
        if let correlation = request?["correlation-id"] ?? request?["message-id"] { values["correlation-id"] = correlation }
        return TransportMeta(values: values)
    }

    /// An asynchronous message's metadata; an answer to an input with a `.meta` correlates with the
    /// request's transport correlation id (else its message id), PROTOCOL.md §7; otherwise with the
    /// request's MsgId (a late answer, whose request's `.meta` is gone); a push with nothing.
    func asyncMeta(for message: DialogMessage, request: TransportMeta? = nil) -> TransportMeta {
        var values = baseMeta(message)
        values["destination"] = "\(message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId)_async"
        if let correlation = request?["correlation-id"] ?? request?["message-id"] { values["correlation-id"] = correlation }
        return TransportMeta(values: values)
    }

    private func baseMeta(_ message: DialogMessage) -> [String: String] {
        var values = ["subject": message.info.type.value, "from-her-id": message.info.sender.communicationPartyHerId ?? config.officeHerId,
                      "to-her-id": message.info.receiver.communicationPartyHerId ?? config.helsenorgeServiceHerId, "message-id": message.info.msgId]
        // An answer correlates with the request it answers; a push (no ConversationRef) with nothing.
        if let parent = message.info.conversationRef?.refToParent { values["correlation-id"] = parent }
        return values
    }

    func listPatient(_ message: DialogMessage, model: StoreReader) throws -> ListPatient? {
        guard let fnr = message.info.patient?.identityNumber else { return nil }
        return try model.patient(fnr: fnr)
    }
}

/// The version written into AppRecs (SoftwareVersion).
/// timebok's version: `timebok --version` and the AppRec's SoftwareVersion say the same.
public let timebokVersion = "0.4.0"
