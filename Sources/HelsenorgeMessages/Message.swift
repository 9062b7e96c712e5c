import TimebokCore
import TimebokXML

/// The functions of PROTOCOL.md §2, as recognised from process and codes.
public enum MessageFunction: String, Sendable, Hashable, CaseIterable {
    case hentLedigeTimer = "HentLedigeTimer"
    case svarLedigeTimer = "SvarLedigeTimer"
    case reserverAvtale = "ReserverAvtale"
    case avbestillAvtale = "AvbestillAvtale"
    case svarTimeReservasjon = "SvarTimeReservasjon"
    case hentPlanlagteTimer = "HentPlanlagteTimer"
    case svarPlanlagteTimer = "SvarPlanlagteTimer"
    case avtale = "Avtale"
    case hentBehandlere = "HentBehandlere"
    case svarBehandlere = "SvarBehandlere"
    case kommunikasjonstest = "Kommunikasjonstest"
    case svarKommunikasjonstest = "SvarKommunikasjonstest"
    case hentRessurstimeboker = "HentRessurstimeboker"
    case svarRessurstimeboker = "SvarRessurstimeboker"
    /// A synchronous 26/30 answer (no calendar, Ack N): SvarLedigeTimer or SvarPlanlagteTimer (the code alone cannot tell).
    case svarAvvist = "SvarAvvist"

    /// True for the functions helsenorge sends (role Innbygger).
    public var isFromHelsenorge: Bool {
        switch self {
        case .hentLedigeTimer, .reserverAvtale, .avbestillAvtale, .hentPlanlagteTimer, .hentBehandlere,
            .kommunikasjonstest, .hentRessurstimeboker:
            return true
        default: return false
        }
    }

    /// Synchronous functions are answered at once and never get an AppRec.
    public var isSynchronous: Bool {
        switch self {
        case .reserverAvtale, .avbestillAvtale, .svarTimeReservasjon, .avtale: return false
        default: return true
        }
    }

    /// True when the receiver must answer with an AppRec (every asynchronous message).
    public var expectsAppRec: Bool { !isSynchronous }

    /// True for answers (a TemaKodet `Notat`, an RKT): never answered themselves, only matched to
    /// the message they answer.
    public var isAnswer: Bool {
        switch self {
        case .svarLedigeTimer, .svarTimeReservasjon, .svarPlanlagteTimer, .svarBehandlere, .svarKommunikasjonstest,
            .svarRessurstimeboker, .svarAvvist:
            return true
        default: return false
        }
    }

    /// True when the message must identify a patient (MsgInfo/Patient): every request helsenorge
    /// sends on a citizen's behalf. A Kommunikasjonstest and its answer carry none.
    public var requiresPatient: Bool { isFromHelsenorge && self != .kommunikasjonstest }
}

/// One `Document` of a MsgHead.
public struct MessageDocument: Sendable, Hashable {
    public enum Payload: Sendable, Hashable {
        case dialogmelding(Dialogmelding)
        case calendar(XCalendar)
        case practitioners([Practitioner])
        case resourceBooks([ResourceBookSummary])
        /// A payload timebok does not model (e.g. Pasientrelasjon): visible after decoding, never re-encoded.
        case unsupported(namespace: String?, name: String)
    }

    public var contentDescription: String?
    /// `RefDoc/IssueDate V`.
    public var issueDate: String?
    /// `RefDoc/Description`, e.g. `iCalendarLedigeTimer`.
    public var description: String?
    public var payload: Payload

    public init(
        contentDescription: String? = nil, issueDate: String? = nil, description: String? = nil, payload: Payload
    ) {
        self.contentDescription = contentDescription
        self.issueDate = issueDate
        self.description = description
        self.payload = payload
    }
}

/// A MsgHead message of digital dialog: envelope, Dialogmelding first, further payloads after it.
public struct DialogMessage: Sendable, Hashable {
    public var info: MsgInfo
    public var documents: [MessageDocument]
    /// Whether the input carried an enveloped `ds:Signature` (checked by TimebokSigning).
    public var isSigned: Bool

    public init(info: MsgInfo, documents: [MessageDocument], isSigned: Bool = false) {
        self.info = info
        self.documents = documents
        self.isSigned = isSigned
    }

    /// A message with a Dialogmelding and optional further payloads.
    public init(
        info: MsgInfo, dialogmelding: Dialogmelding, contentDescription: String? = nil, issueDate: String? = nil,
        calendar: XCalendar? = nil, calendarDescription: String? = nil, practitioners: [Practitioner]? = nil,
        resourceBooks: [ResourceBookSummary]? = nil
    ) {
        var documents = [
            MessageDocument(
                contentDescription: contentDescription, issueDate: issueDate, payload: .dialogmelding(dialogmelding))
        ]
        if let calendar {
            documents.append(
                MessageDocument(issueDate: issueDate, description: calendarDescription, payload: .calendar(calendar)))
        }
        if let practitioners {
            documents.append(MessageDocument(issueDate: issueDate, payload: .practitioners(practitioners)))
        }
        if let resourceBooks {
            documents.append(MessageDocument(issueDate: issueDate, payload: .resourceBooks(resourceBooks)))
        }
        self.init(info: info, documents: documents)
    }

    /// The Dialogmelding (always the first Document of a decoded message).
    public var dialogmelding: Dialogmelding? {
        guard case .dialogmelding(let dialog)? = documents.first?.payload else { return nil }
        return dialog
    }

    /// The first Foresporsel, for requests (and the Avtale push).
    public var foresporsel: Foresporsel? { dialogmelding?.foresporsel.first }
    /// The first Notat, for answers.
    public var notat: Notat? { dialogmelding?.notat.first }

    public var calendar: XCalendar? {
        documents.lazy.compactMap {
            if case .calendar(let calendar) = $0.payload { return calendar } else { return nil }
        }.first
    }

    public var practitioners: [Practitioner]? {
        documents.lazy.compactMap { if case .practitioners(let list) = $0.payload { return list } else { return nil } }
            .first
    }

    public var resourceBooks: [ResourceBookSummary]? {
        documents.lazy.compactMap { if case .resourceBooks(let list) = $0.payload { return list } else { return nil } }
            .first
    }

    /// The function this message performs, from its process and codes.
    public func function() throws(MessageError) -> MessageFunction {
        guard let process = info.process else {
            throw MessageError(
                .unsupportedProcess, .unsupportedFormat, "The process \(info.type.value) is not served by timebok.",
                envelope: info)
        }
        guard let dialog = dialogmelding else {
            throw MessageError(
                .documentOrder, .otherFormatError, "The first Document is not a Dialogmelding.", envelope: info)
        }
        let unsupported = { (code: Code, element: String) in
            MessageError(
                .unsupportedFunction, .unsupportedFormat,
                "\(element) \(code.value) (system \(code.system ?? "none")) is not a function of \(process.rawValue).",
                envelope: info)
        }
        if let request = dialog.foresporsel.first {
            let code = request.typeForesp
            switch process {
            case .timereservasjon, .avtaleutsending:
                // The push carries 05, 07, 08 or 11 (7602) or MOA (7601) in TypeForesp.
                switch request.answerCode {
                case .timereservasjonBekreftet?, .endringAvTimeBekreftet?, .avbestillingBekreftet?, .pasientIkkeMott?:
                    return .avtale
                case nil: if request.requestType == .meldingOmAvtale { return .avtale }
                default: throw unsupported(code, "TypeForesp")
                }
                guard process == .timereservasjon else { throw unsupported(code, "TypeForesp") }
                switch request.requestType {
                case .reserverTime: return .reserverAvtale
                case .avbestillTime: return .avbestillAvtale
                case .hentBestilteTimer: return .hentPlanlagteTimer
                // An HLT with neither date is read as HentPlanlagteTimer (an official example does this).
                case .hentLedigeTimer:
                    return request.fraDato == nil && request.tilDato == nil ? .hentPlanlagteTimer : .hentLedigeTimer
                default: throw unsupported(code, "TypeForesp")
                }
            case .avtaleavbestilling:
                guard request.requestType == .avbestillTime else { throw unsupported(code, "TypeForesp") }
                return .avbestillAvtale
            case .behandleroversikt, .ressursoversikt:
                guard request.requestType == .hentBehandlere else { throw unsupported(code, "TypeForesp") }
                return process == .behandleroversikt ? .hentBehandlere : .hentRessurstimeboker
            case .test:
                guard code.decode(as: CommunicationTestCode.self) == .kommunikasjonstest else {
                    throw unsupported(code, "TypeForesp")
                }
                return .kommunikasjonstest
            }
        }
        guard let note = dialog.notat.first else {
            throw MessageError(
                .missingElement, .otherFormatError, "The Dialogmelding has neither a Foresporsel nor a Notat.",
                envelope: info)
        }
        let code = note.temaKodet
        if process == .test {
            guard code.decode(as: CommunicationTestCode.self) == .svarKommunikasjonstest else {
                throw unsupported(code, "TemaKodet")
            }
            return .svarKommunikasjonstest
        }
        guard let answer = note.answerCode else { throw unsupported(code, "TemaKodet") }
        switch (process, answer) {
        case (.timereservasjon, .ledigeTimer), (.timereservasjon, .ingenLedigeTimer): return .svarLedigeTimer
        case (.timereservasjon, .bestilteTimer), (.timereservasjon, .ingenBestilteTimer): return .svarPlanlagteTimer
        case (.timereservasjon, .timereservasjonBekreftet), (.timereservasjon, .timeIkkeTilgjengelig),
            (.timereservasjon, .avbestillingBekreftet), (.timereservasjon, .timeKunneIkkeAvbestilles),
            (.avtaleavbestilling, .avbestillingBekreftet), (.avtaleavbestilling, .timeKunneIkkeAvbestilles):
            return .svarTimeReservasjon
        case (.avtaleavbestilling, .foresporselAvvist), (.avtaleavbestilling, .ikkeTilgang):
            return .svarTimeReservasjon
        case (.timereservasjon, .foresporselAvvist), (.timereservasjon, .ikkeTilgang):
            // The code alone cannot tell: the async SvarTimeReservasjon carries the appointment or asks
            // for an AppRec; the sync answers to HentLedigeTimer/HentPlanlagteTimer do neither.
            return calendar != nil || info.acknowledgementRequested ? .svarTimeReservasjon : .svarAvvist
        case (.behandleroversikt, .behandlere), (.behandleroversikt, .behandlereIkkeFunnet),
            (.behandleroversikt, .ikkeTilgang), (.behandleroversikt, .generellFeil):
            return .svarBehandlere
        case (.ressursoversikt, .behandlere), (.ressursoversikt, .behandlereIkkeFunnet),
            (.ressursoversikt, .ikkeTilgang), (.ressursoversikt, .generellFeil), (.ressursoversikt, .foresporselAvvist):
            return .svarRessurstimeboker
        default:
            throw unsupported(code, "TemaKodet")
        }
    }
}

/// A decoded input: a MsgHead message or an application receipt.
public enum DecodedMessage: Sendable, Hashable {
    case dialog(DialogMessage, MessageFunction)
    case appRec(AppRec)
}
