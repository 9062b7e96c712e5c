import TimebokCore

extension AccessRule {
    /// Whether a patient may use a book with this rule on `today` (Oslo date). Patients not on the
    /// office's list never may; the age comes from the fødselsnummer.
    public func permits(_ patient: ListPatient?, today: LocalDate, allowTestNumbers: Bool = true) -> Bool {
        guard let patient else { return false }
        if minAge != nil || maxAge != nil {
            guard let number = try? NationalIdentityNumber(patient.fnr, allowTestNumbers: allowTestNumbers) else {
                return false
            }
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

/// Why a citizen's booking (or free-slot) request is refused: a reason, never a wire code or a
/// text. The engine maps each reason to its answer code and the citizen's Norwegian text.
public enum BookingRefusal: Sendable, Hashable, CaseIterable {
    /// The book is not published, or it is a GP's personal book he keeps closed.
    case notOnline
    /// The patient may not use this book (not on the list, outside the access rule).
    case noAccess
    /// The office has switched booking in resource books off.
    case bookingSwitchedOff
    /// The subject is longer than ``BookingRules/maxSubject``.
    case subjectTooLong
    /// The text is longer than ``BookingRules/maxText``.
    case textTooLong
    /// The book requires the prerequisites to be accepted, and they were not.
    case prerequisitesNotAccepted
    /// The patient already holds as many bookings in the book as it allows.
    case tooManyActiveBookings
    /// The slot has started or is over.
    case slotStarted
    /// The slot starts within the book's booking cut-off.
    case insideBookingCutoff
    /// The slot is further ahead than the book's booking horizon.
    case beyondHorizon
    /// The patient already holds a place in this slot.
    case alreadyHoldsSlot
    /// The slot is gone, closed or full.
    case slotUnavailable
}

/// Why a citizen may not cancel (AvbestillAvtale).
public enum CancellationRefusal: Sendable, Hashable, CaseIterable {
    /// The booking is already cancelled, rejected, expired or over.
    case notActive
    /// The slot has started or is over.
    case slotStarted
    /// The slot starts within the book's cancellation cut-off.
    case insideCancellationCutoff
}

/// The booking rules for requests from citizens (the office's own bookings skip horizon and cut-offs).
public enum BookingRules {
    public static let maxSubject = 50
    public static let maxText = 1_000

    /// Whether a citizen may use a book at all, in the order the protocol answers: a book that is not
    /// online, then access, then booking switched off. `personalBookOpen` is the GP's setting for a
    /// personal book (ignored for resource books).
    public static func checkBookOpen(
        book: Book, patient: ListPatient?, bookingEnabled: Bool, personalBookOpen: Bool, today: LocalDate,
        allowTestNumbers: Bool
    ) -> BookingRefusal? {
        guard book.published, book.kind == .resource || personalBookOpen else { return .notOnline }
        guard book.access.permits(patient, today: today, allowTestNumbers: allowTestNumbers) else { return .noAccess }
        if book.kind == .resource && !bookingEnabled { return .bookingSwitchedOff }
        return nil
    }

    /// Whether the patient may take one more booking in the book.
    public static func checkBookingLimit(book: Book, activeBookings: Int) -> BookingRefusal? {
        if let limit = book.maxActiveBookingsPerPatient, activeBookings >= limit { return .tooManyActiveBookings }
        return nil
    }

    /// Checks a citizen's request for `slot` in `book`, in the order the protocol answers them:
    /// the book (not online, access, switched off), then rule breaks, then availability, then a
    /// place the patient already holds in the slot.
    public static func checkCitizenRequest(
        book: Book, slot: Slot, patient: ListPatient?, bookingEnabled: Bool, now: Int, activeBookings: Int,
        prerequisitesAccepted: Bool, subject: String?, text: String, personalBookOpen: Bool = true,
        allowTestNumbers: Bool = true, alreadyHoldsSlot: Bool = false
    ) -> BookingRefusal? {
        let today = Oslo.localDateTime(at: .init(timeIntervalSince1970: Double(now))).date
        if let refusal = checkBookOpen(
            book: book, patient: patient, bookingEnabled: bookingEnabled, personalBookOpen: personalBookOpen,
            today: today, allowTestNumbers: allowTestNumbers)
        {
            return refusal
        }
        if let subject, subject.count > maxSubject { return .subjectTooLong }
        if text.count > maxText { return .textTooLong }
        if book.prerequisitesMustBeAccepted && !prerequisitesAccepted { return .prerequisitesNotAccepted }
        if let refusal = checkBookingLimit(book: book, activeBookings: activeBookings) { return refusal }
        let start = slot.startSeconds
        if start <= now { return .slotStarted }
        if start - now < book.bookingCutoffMinutes * 60 { return .insideBookingCutoff }
        if let horizon = book.bookingHorizonDays, slot.start.date > today.adding(days: horizon) {
            return .beyondHorizon
        }
        guard slot.bookId == book.id, slot.freeCapacity > 0 else { return .slotUnavailable }
        if alreadyHoldsSlot { return .alreadyHoldsSlot }
        return nil
    }

    /// Whether a citizen may still cancel (AvbestillAvtale): nil, or why not.
    public static func checkCitizenCancellation(
        book: Book, slot: Slot, appointment: Appointment, now: Int
    ) -> CancellationRefusal? {
        guard appointment.state.holdsPlace else { return .notActive }
        let start = slot.startSeconds
        if start <= now { return .slotStarted }
        if start - now < book.cancellationCutoffMinutes * 60 { return .insideCancellationCutoff }
        return nil
    }

    /// Whether a free slot is offered in a free-slot answer: open with room, in the future and
    /// outside the booking cut-off. (A slot past the booking horizon is offered with the day it
    /// becomes bookable: ``bookableFrom(_:in:today:)``.)
    public static func isOffered(_ slot: Slot, in book: Book, now: Int) -> Bool {
        guard slot.status == .open, slot.freeCapacity > 0 else { return false }
        let start = slot.startSeconds
        return start > now && start - now >= book.bookingCutoffMinutes * 60
    }

    /// The day a slot past the book's booking horizon becomes bookable (nil: bookable now).
    public static func bookableFrom(_ slot: Slot, in book: Book, today: LocalDate) -> LocalDate? {
        guard let horizon = book.bookingHorizonDays, slot.start.date > today.adding(days: horizon) else { return nil }
        return slot.start.date.adding(days: -horizon)
    }
}

extension ModelReader {
    /// Whether the patient holds a place (requested or confirmed) in the slot: capacity is parallel
    /// staff, never the same patient twice.
    public func holdsPlace(fnr: String, inSlot slotId: String) throws -> Bool {
        try appointments(inSlot: slotId).contains { $0.fnr == fnr && $0.state.holdsPlace }
    }
}

/// Lays out slots from weekly opening hours (Oslo wall-clock time).
public enum SlotPlanner {
    /// Slots for every date in [from, to] (inclusive) whose weekday has hours, except closed days.
    /// Slots are `slotMinutes` long, back to back from the start of the hours; a remainder shorter
    /// than a slot is left out. On the spring-forward day, a slot that would start or end in the
    /// missing hour (02:00–03:00) is left out; on the autumn day the repeated hour gives one slot.
    public static func slots(
        from: LocalDate, to: LocalDate, hours: [WeeklyHours], slotMinutes: Int, closedDays: Set<LocalDate>
    ) -> [(start: LocalDateTime, end: LocalDateTime)] {
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
