import TimebokCore

extension AccessRule {
    /// Whether a patient may use a book with this rule on `today` (Oslo date). Patients not on the
    /// office's list never may; the age comes from the fødselsnummer.
    public func permits(_ patient: ListPatient?, today: LocalDate, allowTestNumbers: Bool = true) -> Bool {
        guard let patient else { return false }
        if minAge != nil || maxAge != nil {
            guard let number = try? NationalIdentityNumber(patient.fnr, allowTestNumbers: allowTestNumbers) else { return false }
            let age = number.age(on: today)
            if let minAge, age < minAge { return false }
            if let maxAge, age > maxAge { return false }
        }
        if !groups.isEmpty {
            guard patient.groups.contains(where: groups.contains) else { return false }
        }
        return true
    }
}

/// Why a citizen's booking request is refused, and which answer code it gets (PROTOCOL.md §5).
public enum RequestRefusal: Sendable, Hashable {
    /// 30: the patient may not use this book.
    case noAccess
    /// 06: the slot is gone, closed or full.
    case slotUnavailable
    /// 26 with a reason a citizen understands.
    case rejected(String)

    public var answerCode: String {
        switch self {
        case .noAccess: return "30"
        case .slotUnavailable: return "06"
        case .rejected: return "26"
        }
    }

    /// The text for the citizen (TekstNotatInnhold).
    public var citizenText: String {
        switch self {
        case .noAccess: return "Du har ikke tilgang til å bestille time i denne timeboken."
        case .slotUnavailable: return "Timen er ikke lenger ledig. Velg en annen time."
        case .rejected(let reason): return reason
        }
    }
}

/// The booking rules for requests from citizens (the office's own bookings skip horizon and cut-offs).
public enum BookingRules {
    public static let maxSubject = 50
    public static let maxText = 1_000

    /// Checks a citizen's request for `slot` in `book`, in the order the protocol answers them:
    /// access (30), then rule breaks (26), then availability (06).
    /// `personalBookOpen` is the GP's setting for a personal book (ignored for resource books).
    public static func checkCitizenRequest(book: Book, slot: Slot, patient: ListPatient?, bookingEnabled: Bool, now: Int, activeBookings: Int, prerequisitesAccepted: Bool, subject: String?, text: String, personalBookOpen: Bool = true, allowTestNumbers: Bool = true) -> RequestRefusal? {
        let today = Oslo.localDateTime(at: .init(timeIntervalSince1970: Double(now))).date
        guard book.published, book.kind == .resource || personalBookOpen else {
            return .rejected("Denne timeboken er ikke åpen for bestilling på nett.")
        }
        guard book.access.permits(patient, today: today, allowTestNumbers: allowTestNumbers) else { return .noAccess }
        if book.kind == .resource && !bookingEnabled {
            return .rejected("Legekontoret tar ikke imot timebestillinger på nett for denne tjenesten nå.")
        }
        if let subject, subject.count > maxSubject {
            return .rejected("Emnet kan være på høyst \(maxSubject) tegn.")
        }
        if text.count > maxText {
            return .rejected("Meldingen kan være på høyst \(maxText) tegn.")
        }
        if book.prerequisitesMustBeAccepted && !prerequisitesAccepted {
            return .rejected("Du må bekrefte at du har lest og godtar forutsetningene for timen: \(book.informationText)")
        }
        if let limit = book.maxActiveBookingsPerPatient, activeBookings >= limit {
            return .rejected("Du har allerede \(activeBookings) aktive bestillinger i denne timeboken; høyst \(limit) er tillatt.")
        }
        let start = slot.startSeconds
        if start <= now {
            return .rejected("Timen har allerede begynt eller er passert.")
        }
        if start - now < book.bookingCutoffMinutes * 60 {
            return .rejected("Timen kan ikke bestilles senere enn \(describeMinutes(book.bookingCutoffMinutes)) før den begynner.")
        }
        if let horizon = book.bookingHorizonDays, slot.start.date > today.adding(days: horizon) {
            return .rejected("Timen kan ikke bestilles så langt fram i tid (høyst \(horizon) dager).")
        }
        guard slot.bookId == book.id, slot.freeCapacity > 0 else { return .slotUnavailable }
        return nil
    }

    /// Whether a citizen may still cancel (AvbestillAvtale): nil, or the reason for 09.
    public static func checkCitizenCancellation(book: Book, slot: Slot, appointment: Appointment, now: Int) -> String? {
        guard appointment.state.holdsPlace else { return "Timen er allerede avbestilt eller avsluttet." }
        let start = slot.startSeconds
        if start <= now { return "Timen har allerede begynt eller er passert." }
        if start - now < book.cancellationCutoffMinutes * 60 {
            return "Timen kan ikke avbestilles på nett senere enn \(describeMinutes(book.cancellationCutoffMinutes)) før den begynner. Ring legekontoret."
        }
        return nil
    }

    /// Whether a slot is offered to this patient in a free-slot answer (capacity, future, horizon, cut-off).
    public static func isOffered(_ slot: Slot, in book: Book, now: Int, today: LocalDate) -> Bool {
        guard slot.status == .open, slot.freeCapacity > 0 else { return false }
        let start = slot.startSeconds
        guard start > now, start - now >= book.bookingCutoffMinutes * 60 else { return false }
        if let horizon = book.bookingHorizonDays, slot.start.date > today.adding(days: horizon) { return false }
        return true
    }

    static func describeMinutes(_ minutes: Int) -> String {
        if minutes % 1_440 == 0 { return "\(minutes / 1_440) døgn" }
        if minutes % 60 == 0 { return "\(minutes / 60) timer" }
        return "\(minutes) minutter"
    }
}

/// Lays out slots from weekly opening hours (Oslo wall-clock time).
public enum SlotPlanner {
    /// Slots for every date in [from, to] (inclusive) whose weekday has hours, except closed days.
    /// Slots are `slotMinutes` long, back to back from the start of the hours; a remainder shorter
    /// than a slot is left out. On the spring-forward day, a slot that would start or end in the
    /// missing hour (02:00–03:00) is left out; on the autumn day the repeated hour gives one slot.
    public static func slots(from: LocalDate, to: LocalDate, hours: [WeeklyHours], slotMinutes: Int, closedDays: Set<LocalDate>) -> [(start: LocalDateTime, end: LocalDateTime)] {
        guard slotMinutes > 0, from <= to else { return [] }
        var result: [(LocalDateTime, LocalDateTime)] = []
        let byWeekday = Dictionary(grouping: hours, by: \.weekday)
        var day = from
        while day <= to {
            if !closedDays.contains(day), let todays = byWeekday[day.weekday] {
                for window in todays.sorted(by: { $0.startMinute < $1.startMinute }) {
                    var minute = window.startMinute
                    while minute + slotMinutes <= window.endMinute {
                        let start = LocalDateTime(date: day, hour: 0, minute: 0).addingWallClock(minutes: minute)
                        let end = start.addingWallClock(minutes: slotMinutes)
                        if !Oslo.isInGap(start) && !Oslo.isInGap(end) {
                            result.append((start, end))
                        }
                        minute += slotMinutes
                    }
                }
            }
            day = day.adding(days: 1)
        }
        return result
    }
}
