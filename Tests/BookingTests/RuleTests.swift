import Foundation
import Testing
import TimebokCore

@testable import Booking

/// A fødselsnummer with valid check digits for a birth date (individual number 0xx → 1900s, 5xx → 2000s).
func fnr(born date: LocalDate, individual: Int = 123) -> String {
    var individual = date.year >= 2000 ? 500 + individual % 250 : individual % 500
    while true {
        let nine = String(format: "%02d%02d%02d%03d", date.day, date.month, date.year % 100, individual)
        let digits = nine.map { Int(String($0))! }
        let k1 = (11 - zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
        let k2 = (11 - zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits + [k1]).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
        if k1 < 10 && k2 < 10 { return nine + "\(k1)\(k2)" }
        individual += 1
    }
}

let today = LocalDate(year: 2026, month: 12, day: 1)

@Suite struct Access {
    @Test func onlyListPatients() {
        #expect(!AccessRule.allListPatients.permits(nil, today: today), "not on the list: never")
        #expect(
            AccessRule.allListPatients.permits(
                ListPatient(fnr: fnr(born: LocalDate(year: 1990, month: 1, day: 1)), familyName: "A", givenName: "B"),
                today: today))
    }

    @Test func ageRangeFromTheFodselsnummerWithBirthdayEdges() {
        let rule = AccessRule(minAge: 65)
        let turns65Today = ListPatient(
            fnr: fnr(born: LocalDate(year: 1961, month: 12, day: 1)), familyName: "A", givenName: "B")
        let turns65Tomorrow = ListPatient(
            fnr: fnr(born: LocalDate(year: 1961, month: 12, day: 2)), familyName: "A", givenName: "B")
        #expect(rule.permits(turns65Today, today: today))
        #expect(!rule.permits(turns65Tomorrow, today: today))
        let upTo17 = AccessRule(maxAge: 17)
        let child = ListPatient(
            fnr: fnr(born: LocalDate(year: 2008, month: 12, day: 2)), familyName: "A", givenName: "B")
        #expect(upTo17.permits(child, today: today), "17 until tomorrow")
        #expect(!upTo17.permits(child, today: today.adding(days: 1)), "18 tomorrow")
    }

    @Test func groupsAndCombinations() {
        let old = LocalDate(year: 1950, month: 5, day: 5)
        let young = LocalDate(year: 1990, month: 5, day: 5)
        let oldAtRisk = ListPatient(fnr: fnr(born: old), familyName: "A", givenName: "B", groups: ["risikogruppe"])
        let oldHealthy = ListPatient(fnr: fnr(born: old, individual: 200), familyName: "A", givenName: "B")
        let youngAtRisk = ListPatient(fnr: fnr(born: young), familyName: "A", givenName: "B", groups: ["risikogruppe"])
        let groupsOnly = AccessRule(groups: ["risikogruppe", "helsepersonell"])
        #expect(
            groupsOnly.permits(oldAtRisk, today: today) && groupsOnly.permits(youngAtRisk, today: today)
                && !groupsOnly.permits(oldHealthy, today: today))
        let both = AccessRule(minAge: 65, groups: ["risikogruppe"])
        #expect(both.permits(oldAtRisk, today: today))
        #expect(!both.permits(youngAtRisk, today: today), "age AND group")
        #expect(!both.permits(oldHealthy, today: today), "age AND group")
        #expect(both.description == "list patients aged 65 or older and in group risikogruppe")
    }
}

@Suite struct CitizenRequests {
    let now = Oslo.secondsSinceEpoch(for: LocalDateTime(date: today, hour: 12, minute: 0))
    var book = Book(
        id: "lab", kind: .resource, name: "Lab", category: .lab, herId: "1", informationText: "Faste.", published: true,
        slotMinutes: 15, capacity: 2,
        bookingHorizonDays: 14, bookingCutoffMinutes: 60, maxActiveBookingsPerPatient: 1,
        prerequisitesMustBeAccepted: true, access: AccessRule(minAge: 65))
    let patient = ListPatient(fnr: fnr(born: LocalDate(year: 1950, month: 1, day: 1)), familyName: "A", givenName: "B")

    func slot(_ date: LocalDate, _ hour: Int, _ minute: Int = 0, active: Int = 0, status: Slot.Status = .open) -> Slot {
        let start = LocalDateTime(date: date, hour: hour, minute: minute)
        return Slot(
            id: "s", bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: 2, status: status,
            activeBookings: active)
    }

    func check(
        _ slot: Slot, patient: ListPatient? = nil, enabled: Bool = true, active: Int = 0, accepted: Bool = true,
        subject: String? = nil, text: String = "", book: Book? = nil, holds: Bool = false
    ) -> BookingRefusal? {
        BookingRules.checkCitizenRequest(
            book: book ?? self.book, slot: slot, patient: patient ?? self.patient, bookingEnabled: enabled, now: now,
            activeBookings: active, prerequisitesAccepted: accepted, subject: subject, text: text,
            alreadyHoldsSlot: holds)
    }

    @Test func aGoodRequestPasses() {
        #expect(check(slot(today.adding(days: 2), 9)) == nil)
    }

    /// Every reason, in the protocol's order (the engine's table gives each its answer code and text:
    /// TimebokEngineTests.WireVocabularyTests).
    @Test func everyRefusalHasItsReason() {
        let good = slot(today.adding(days: 2), 9)
        let young = ListPatient(
            fnr: fnr(born: LocalDate(year: 1990, month: 1, day: 1)), familyName: "A", givenName: "B")
        #expect(check(good, patient: young) == .noAccess)
        var unpublished = book
        unpublished.published = false
        #expect(check(good, book: unpublished) == .notOnline, "the office does not serve it: not a question of access")
        #expect(
            check(good, patient: young, book: unpublished) == .notOnline,
            "a book that is not online is said before access")
        #expect(check(good, enabled: false) == .bookingSwitchedOff)
        #expect(check(good, patient: young, enabled: false) == .noAccess, "access before booking switched off")
        #expect(check(good, accepted: false) == .prerequisitesNotAccepted)
        #expect(check(good, active: 1) == .tooManyActiveBookings)
        #expect(check(good, subject: String(repeating: "x", count: 51)) == .subjectTooLong)
        #expect(check(good, subject: String(repeating: "x", count: 50)) == nil)
        #expect(check(good, text: String(repeating: "x", count: 1_001)) == .textTooLong)
        #expect(check(good, text: String(repeating: "ø", count: 1_000)) == nil, "limits count characters, not bytes")
        #expect(check(slot(today, 11)) == .slotStarted, "in the past")
        #expect(check(slot(today.adding(days: 15), 9)) == .beyondHorizon, "beyond the 14-day horizon")
        #expect(check(slot(today.adding(days: 14), 9)) == nil, "the last day of the horizon")
        #expect(check(slot(today.adding(days: 2), 9, active: 2)) == .slotUnavailable)
        #expect(check(slot(today.adding(days: 2), 9, status: .closed)) == .slotUnavailable)
        #expect(check(slot(today.adding(days: 2), 9, active: 1), holds: true) == .alreadyHoldsSlot)
        #expect(
            check(slot(today.adding(days: 2), 9, active: 2), holds: true) == .slotUnavailable,
            "a full slot is full, whoever holds it")
    }

    @Test func capacityEdges() {
        #expect(check(slot(today.adding(days: 2), 9, active: 1)) == nil, "one of two taken: free")
        #expect(check(slot(today.adding(days: 2), 9, active: 2)) == .slotUnavailable, "two of two: full")
        #expect(slot(today, 9, active: 3).freeCapacity == 0, "never negative")
    }

    @Test func bookingCutoffEdges() {
        // now is 12:00; cut-off 60 minutes.
        #expect(check(slot(today, 13, 0)) == nil, "exactly at the cut-off")
        #expect(check(slot(today, 12, 59)) == .insideBookingCutoff, "one minute inside the cut-off")
    }

    @Test func cancellationCutoff() {
        var book = self.book
        book.cancellationCutoffMinutes = 720
        let appointment = Appointment(
            id: "a", bookId: "lab", slotId: "s", fnr: patient.fnr, state: .confirmed, createdAt: 0)
        #expect(
            BookingRules.checkCitizenCancellation(
                book: book, slot: slot(today.adding(days: 1), 0), appointment: appointment, now: now) == nil,
            "exactly 12 hours before")
        #expect(
            BookingRules.checkCitizenCancellation(
                book: book, slot: slot(today.adding(days: 1), 0), appointment: appointment, now: now + 60)
                == .insideCancellationCutoff)
        var cancelled = appointment
        cancelled.state = .cancelled
        #expect(
            BookingRules.checkCitizenCancellation(
                book: book, slot: slot(today.adding(days: 3), 0), appointment: cancelled, now: now) == .notActive)
        #expect(
            BookingRules.checkCitizenCancellation(book: book, slot: slot(today, 11), appointment: appointment, now: now)
                == .slotStarted)
    }

    @Test func cutoffAcrossTheAutumnClockChange() {
        // 2026-10-25: 03:00 summer time becomes 02:00. From 01:30 to 03:30 wall-clock is 3 hours.
        let night = Oslo.secondsSinceEpoch(for: LocalDateTime(year: 2026, month: 10, day: 25, hour: 1, minute: 30))
        var book = self.book
        book.bookingCutoffMinutes = 150
        book.bookingHorizonDays = nil
        let start = LocalDateTime(year: 2026, month: 10, day: 25, hour: 3, minute: 30)
        let slot = Slot(id: "s", bookId: "lab", start: start, end: start.addingWallClock(minutes: 15), capacity: 2)
        #expect(slot.startSeconds - night == 3 * 3_600)
        #expect(
            BookingRules.checkCitizenRequest(
                book: book, slot: slot, patient: patient, bookingEnabled: true, now: night, activeBookings: 0,
                prerequisitesAccepted: true, subject: nil, text: "") == nil,
            "3 real hours ahead is outside a 150-minute cut-off, although the clock shows 2 hours")
    }
}

@Suite struct Planning {
    @Test func weekdaysClosedDaysAndRemainders() {
        // 2026-12-07 is a Monday.
        let monday = LocalDate(year: 2026, month: 12, day: 7)
        let slots = SlotPlanner.slots(
            from: monday, to: monday.adding(days: 6),
            hours: [
                WeeklyHours(weekday: 1, startMinute: 8 * 60, endMinute: 9 * 60 + 10),
                WeeklyHours(weekday: 3, startMinute: 8 * 60, endMinute: 9 * 60),
            ],
            slotMinutes: 20, closedDays: [monday.adding(days: 2)])
        #expect(
            slots.count == 3, "Monday 08:00–09:00 in three slots, the 10-minute remainder left out; Wednesday closed")
        #expect(
            slots.map(\.start.description) == ["2026-12-07T08:00:00", "2026-12-07T08:20:00", "2026-12-07T08:40:00"])
    }

    @Test func springForwardDayLeavesOutTheMissingHour() {
        // 2026-03-29 (Sunday): 02:00–03:00 does not exist.
        let day = LocalDate(year: 2026, month: 3, day: 29)
        let slots = SlotPlanner.slots(
            from: day, to: day, hours: [WeeklyHours(weekday: 7, startMinute: 0, endMinute: 1_440)], slotMinutes: 60,
            closedDays: [])
        #expect(slots.count == 22, "00–01 kept; 01–02 ends at 02:00 (exists); 02–03 starts in the gap; 03–04 … 23–24")
        #expect(!slots.contains { $0.start.hour == 2 })
        #expect(slots.allSatisfy { Oslo.secondsSinceEpoch(for: $0.end) > Oslo.secondsSinceEpoch(for: $0.start) })
    }

    @Test func fallBackDayHasTheRepeatedHourOnce() {
        let day = LocalDate(year: 2026, month: 10, day: 25)
        let slots = SlotPlanner.slots(
            from: day, to: day, hours: [WeeklyHours(weekday: 7, startMinute: 0, endMinute: 1_440)], slotMinutes: 60,
            closedDays: [])
        #expect(slots.count == 24)
        #expect(slots.filter { $0.start.hour == 2 }.count == 1)
        // Wall-clock 02:00–03:00 runs from the first 02:00 (summer time) to 03:00 (winter time): two real hours.
        let two = slots.first { $0.start.hour == 2 }!
        #expect(Oslo.secondsSinceEpoch(for: two.end) - Oslo.secondsSinceEpoch(for: two.start) == 2 * 3_600)
    }
}
