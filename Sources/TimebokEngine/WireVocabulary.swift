import Booking
import HelsenorgeMessages

/// The one table from the model's reasons to the protocol's codes and the citizen's Norwegian texts
/// (PROTOCOL.md §4–§5). Booking returns reasons; only this file says how they are answered.
enum WireVocabulary {
    // MARK: Booking requests (ReserverAvtale, HentLedigeTimer)

    /// The answer code for a refused booking or free-slot request: 30 for no access, 06 for a slot
    /// that is gone, 26 for every rule the request breaks.
    static func answerCode(for refusal: BookingRefusal) -> AnswerCode {
        switch refusal {
        case .noAccess: return .ikkeTilgang
        case .slotUnavailable: return .timeIkkeTilgjengelig
        default: return .foresporselAvvist
        }
    }

    /// The text for the citizen (TekstNotatInnhold).
    static func citizenText(for refusal: BookingRefusal, book: Book, activeBookings: Int) -> String {
        switch refusal {
        case .notOnline: return "Denne timeboken er ikke åpen for bestilling på nett."
        case .noAccess: return "Du har ikke tilgang til å bestille time i denne timeboken."
        case .bookingSwitchedOff: return "Legekontoret tar ikke imot timebestillinger på nett for denne tjenesten nå."
        case .subjectTooLong: return "Emnet kan være på høyst \(BookingRules.maxSubject) tegn."
        case .textTooLong: return "Meldingen kan være på høyst \(BookingRules.maxText) tegn."
        case .prerequisitesNotAccepted:
            return "Du må bekrefte at du har lest og godtar forutsetningene for timen: \(book.informationText)"
        case .tooManyActiveBookings:
            return
                "Du har allerede \(activeBookings) aktive bestillinger i denne timeboken; høyst \(book.maxActiveBookingsPerPatient ?? activeBookings) er tillatt."
        case .slotStarted: return "Timen har allerede begynt eller er passert."
        case .insideBookingCutoff:
            return
                "Timen kan ikke bestilles senere enn \(describe(minutes: book.bookingCutoffMinutes)) før den begynner."
        case .beyondHorizon:
            return "Timen kan ikke bestilles så langt fram i tid (høyst \(book.bookingHorizonDays ?? 0) dager)."
        case .alreadyHoldsSlot: return "Du har allerede bestilt denne timen."
        case .slotUnavailable: return "Timen er ikke lenger ledig. Velg en annen time."
        }
    }

    // MARK: Cancellations (AvbestillAvtale, answered 09)

    static func citizenText(for refusal: CancellationRefusal, book: Book) -> String {
        switch refusal {
        case .notActive: return "Timen er allerede avbestilt eller avsluttet."
        case .slotStarted: return "Timen har allerede begynt eller er passert."
        case .insideCancellationCutoff:
            return
                "Timen kan ikke avbestilles på nett senere enn \(describe(minutes: book.cancellationCutoffMinutes)) før den begynner. Ring legekontoret."
        }
    }

    static func cancellationReason(_ cause: CancellationCause) -> CancellationReason {
        switch cause {
        case .byService: return .byService
        case .notAtHome: return .notAtHome
        case .byRecipient: return .byRecipient
        case .onBehalfOfRecipient: return .onBehalfOfRecipient
        }
    }

    static func cause(_ reason: CancellationReason) -> CancellationCause {
        switch reason {
        case .byService: return .byService
        case .notAtHome: return .notAtHome
        case .byRecipient: return .byRecipient
        case .onBehalfOfRecipient: return .onBehalfOfRecipient
        }
    }

    // MARK: The office's answers

    /// 26 for a declined request, 06 when the office says the slot is taken.
    static func answerCode(for rejection: RejectionKind) -> AnswerCode {
        switch rejection {
        case .declined: return .foresporselAvvist
        case .slotTaken: return .timeIkkeTilgjengelig
        }
    }

    /// Said when the office rejects a request without a text of its own.
    static let rejectedByOffice = "Legekontoret kan ikke gi deg denne timen."
    /// The citizen's answer when nobody at the office answered within the hold time.
    static let expiredAnswer =
        "Legekontoret svarte ikke på forespørselen i tide. Timen er ikke reservert; du kan bestille en ny."
    /// The journal's note on an expired request.
    static let expiredNote = "Ingen svar innen fristen."

    /// "2 døgn", "3 timer", "90 minutter".
    static func describe(minutes: Int) -> String {
        if minutes % 1_440 == 0 { return "\(minutes / 1_440) døgn" }
        if minutes % 60 == 0 { return "\(minutes / 60) timer" }
        return "\(minutes) minutter"
    }
}
