import Foundation
import Testing

@testable import TimebokCore

@Suite struct OsloTime {
    @Test func agreesWithTheTzDatabaseHourByHour() throws {
        let zone = try #require(
            TimeZone(identifier: "Europe/Oslo"), "tzdata must be installed (CI installs the tzdata package)")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // 1997-01-01 to 2038-01-01, every hour: offsets and wall-clock readings.
        let start = 852_076_800
        let end = 2_145_916_800
        var mismatches: [String] = []
        for seconds in stride(from: start, to: end, by: 3_600) {
            let instant = Date(timeIntervalSince1970: TimeInterval(seconds))
            let expected = zone.secondsFromGMT(for: instant)
            let actual = Oslo.offsetSeconds(at: instant)
            if expected != actual, mismatches.count < 5 {
                mismatches.append("\(instant): tz \(expected), ours \(actual)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        let sample = Date(timeIntervalSince1970: 1_801_234_567)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: sample)
        let local = Oslo.localDateTime(at: sample)
        #expect(
            [local.date.year, local.date.month, local.date.day, local.hour, local.minute, local.second]
                == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second])
    }

    /// The table of transitions answers as the rule does: every hour from 1979 to 2201 (the
    /// table's edges and beyond them), and to the second around each transition.
    @Test func theTransitionTableAgreesWithTheRule() {
        var mismatches: [String] = []
        func check(_ seconds: Int) {
            let table = Oslo.offsetSeconds(atSecondsSinceEpoch: seconds)
            let rule = Oslo.offsetByRule(atSecondsSinceEpoch: seconds)
            if table != rule, mismatches.count < 5 { mismatches.append("\(seconds): table \(table), rule \(rule)") }
        }
        // 1979-01-01 to 2202-01-01.
        for seconds in stride(from: 283_996_800, to: 7_289_654_400, by: 3_600) { check(seconds) }
        for transition in Oslo.transitions {
            for delta in -2...2 { check(transition + delta) }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(Oslo.transitions.count == 2 * 220)
    }

    @Test func springForwardDay2026() {
        // 2026-03-29: 02:00 becomes 03:00.
        let before = LocalDateTime(year: 2026, month: 3, day: 29, hour: 1, minute: 59)
        let after = LocalDateTime(year: 2026, month: 3, day: 29, hour: 3, minute: 0)
        #expect(Oslo.secondsSinceEpoch(for: after) - Oslo.secondsSinceEpoch(for: before) == 60)
        #expect(Oslo.isInGap(LocalDateTime(year: 2026, month: 3, day: 29, hour: 2, minute: 30)))
        #expect(!Oslo.isInGap(before) && !Oslo.isInGap(after))
        #expect(Oslo.xsDateTime(after.instant) == "2026-03-29T03:00:00+02:00")
    }

    @Test func fallBackDay2026() {
        // 2026-10-25: 03:00 summer time becomes 02:00 winter time; 02:30 happens twice.
        let repeated = LocalDateTime(year: 2026, month: 10, day: 25, hour: 2, minute: 30)
        let first = Oslo.secondsSinceEpoch(for: repeated)
        #expect(Oslo.offsetSeconds(atSecondsSinceEpoch: first) == 7_200, "the first occurrence is summer time")
        let oneHourLater = Date(timeIntervalSince1970: TimeInterval(first + 3_600))
        #expect(Oslo.localDateTime(at: oneHourLater) == repeated, "an hour later the clock reads 02:30 again")
        let midnight = LocalDateTime(year: 2026, month: 10, day: 25, hour: 0, minute: 0)
        let nextMidnight = LocalDateTime(year: 2026, month: 10, day: 26, hour: 0, minute: 0)
        #expect(Oslo.secondsSinceEpoch(for: nextMidnight) - Oslo.secondsSinceEpoch(for: midnight) == 25 * 3_600)
    }

    @Test func parsesLocalAndOffsetDateTimes() throws {
        #expect(LocalDateTime("2025-01-21T13:30:00")?.description == "2025-01-21T13:30:00")
        #expect(LocalDateTime("2025-01-21T12:30:00Z")?.description == "2025-01-21T13:30:00")
        #expect(LocalDateTime("2025-07-21T11:30:00.123Z")?.description == "2025-07-21T13:30:00")
        #expect(LocalDateTime("2025-07-21T13:30:00+02:00")?.description == "2025-07-21T13:30:00")
        #expect(LocalDateTime("2025-07-21T09:30:00-02:00")?.description == "2025-07-21T13:30:00")
        #expect(LocalDateTime("2025-02-30T10:00:00") == nil)
        #expect(LocalDateTime("2025-01-21 13:30:00") == nil)
        #expect(LocalDateTime("2025-01-21T25:00:00") == nil)
        #expect(LocalDate("2024-02-29") != nil)
        #expect(LocalDate("2025-02-29") == nil)
        #expect(LocalDate("2025-02-28+01:00")?.description == "2025-02-28")
        #expect(LocalDate(year: 2026, month: 11, day: 21).weekday == 6)
        #expect(LocalDate(year: 2026, month: 11, day: 21).adding(days: 10).description == "2026-12-01")
    }
}

@Suite struct IdentityNumbers {
    @Test func acceptsValidFodselsnummerAndComputesAge() throws {
        let number = try NationalIdentityNumber("13116900216")
        #expect(number.kind == .fodselsnummer)
        #expect(number.birthDate == LocalDate(year: 1969, month: 11, day: 13))
        #expect(number.age(on: LocalDate(year: 2026, month: 11, day: 12)) == 56)
        #expect(number.age(on: LocalDate(year: 2026, month: 11, day: 13)) == 57)
    }

    @Test func refusesBadCheckDigitsAndShapes() {
        #expect(throws: NationalIdentityNumber.Problem.checkDigitMismatch) { try NationalIdentityNumber("13116900217") }
        #expect(throws: NationalIdentityNumber.Problem.notElevenDigits) { try NationalIdentityNumber("1311690021") }
        #expect(throws: NationalIdentityNumber.Problem.notElevenDigits) { try NationalIdentityNumber("1311690021a") }
    }

    @Test func dNummerAndTestNumbers() throws {
        let d = try NationalIdentityNumber(Self.withCheckDigits("531169002"))
        #expect(d.kind == .dNummer)
        #expect(d.birthDate == LocalDate(year: 1969, month: 11, day: 13))
        let test = Self.withCheckDigits("135169002")  // month 11 + 40
        #expect(throws: NationalIdentityNumber.Problem.testNumberNotAllowed) { try NationalIdentityNumber(test) }
        #expect(try NationalIdentityNumber(test, allowTestNumbers: true).isTestNumber)
        let synthetic = Self.withCheckDigits("139169002")  // month 11 + 80
        #expect(try NationalIdentityNumber(synthetic, allowTestNumbers: true).birthDate.month == 11)
        #expect(throws: NationalIdentityNumber.Problem.impossibleDate) {
            try NationalIdentityNumber(Self.withCheckDigits("321369002"))
        }
        #expect(throws: NationalIdentityNumber.Problem.impossibleDate, "month 60 is no month, test or not") {
            try NationalIdentityNumber(Self.withCheckDigits("136069002"))
        }
    }

    /// Appends valid check digits to nine digits (retrying the individual number when k1 or k2 is 10).
    static func withCheckDigits(_ nine: String) -> String {
        var digits = nine.map { Int(String($0))! }
        for _ in 0..<50 {
            let k1 = (11 - zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
            if k1 != 10 {
                let k2 =
                    (11 - zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits + [k1]).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
                if k2 != 10 { return (digits + [k1, k2]).map(String.init).joined() }
            }
            digits[8] = (digits[8] + 1) % 10
        }
        fatalError("no valid number")
    }
}

@Suite struct Masking {
    @Test func fodselsnumreKeepOnlyTheirBirthDate() {
        #expect(IdentityMasking.mask("patient 14035623036.") == "patient 140356*****.")
        #expect(IdentityMasking.mask("14035623037") == "140356*****", "a mistyped number is still someone's")
        #expect(IdentityMasking.mask("D-nummer 54035623036") == "D-nummer 540356*****")
        #expect(IdentityMasking.mask("test 14435623036") == "test 144356*****", "month + 40")
        #expect(IdentityMasking.mask("æ14035623036ø") == "æ140356*****ø", "beside multi-byte letters")
    }

    @Test func otherNumbersAreLeftAlone() {
        let name = "20261201T202651.641Z-001010000001-SvarLedigeTimer-03-5c1860ab-08a8-4cf6-98f7-5ee9dbeff805.xml"
        #expect(IdentityMasking.mask(name) == name, "12-digit sequences, times, UUIDs")
        #expect(IdentityMasking.mask("uid a14035623036b") == "uid a14035623036b", "inside a word")
        #expect(
            IdentityMasking.mask("HER-id 8093248, org 987654325, 00000012001")
                == "HER-id 8093248, org 987654325, 00000012001")
        #expect(IdentityMasking.mask("140356236") == "140356236")
    }
}
