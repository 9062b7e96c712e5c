import Foundation

/// A calendar date without time zone (xs:date; FraDato, TilDato, birth dates).
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` (an xs:date time-zone suffix is accepted and ignored: dates are Norwegian).
    public init?(_ text: String) {
        var scanner = LexicalScanner(text)
        guard let year = scanner.int(digits: 4), scanner.take("-"),
            let month = scanner.int(digits: 2), scanner.take("-"),
            let day = scanner.int(digits: 2)
        else { return nil }
        guard scanner.atEnd || scanner.remainderIsTimeZone else { return nil }
        guard (1...12).contains(month), (1...LocalDate.daysIn(month: month, year: year)).contains(day) else {
            return nil
        }
        self.init(year: year, month: month, day: day)
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for arithmetic.
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    /// The date `count` days later (or earlier, when negative).
    public func adding(days count: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + count) }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int { ((daysSinceEpoch % 7 + 7 + 3) % 7) + 1 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

/// A wall-clock date and time in Norway (Europe/Oslo), as xCal carries it: no offset.
public struct LocalDateTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var date: LocalDate
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(date: LocalDate, hour: Int, minute: Int, second: Int = 0) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int = 0) {
        self.init(date: LocalDate(year: year, month: month, day: day), hour: hour, minute: minute, second: second)
    }

    /// Parses an xs:dateTime. Without offset it is Oslo wall-clock time; with `Z` or `±HH:MM`
    /// it is converted to Oslo wall-clock time. Fractional seconds are dropped.
    public init?(_ text: String) {
        var scanner = LexicalScanner(text)
        guard let year = scanner.int(digits: 4), scanner.take("-"),
            let month = scanner.int(digits: 2), scanner.take("-"),
            let day = scanner.int(digits: 2), scanner.take("T"),
            let hour = scanner.int(digits: 2), scanner.take(":"),
            let minute = scanner.int(digits: 2), scanner.take(":"),
            let second = scanner.int(digits: 2)
        else { return nil }
        if scanner.take(".") { guard scanner.skipDigits() else { return nil } }
        guard (1...12).contains(month), (1...LocalDate.daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let wall = LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        if scanner.atEnd {
            self = wall
            return
        }
        guard let offsetSeconds = scanner.timeZoneOffsetSeconds(), scanner.atEnd else { return nil }
        let instant = wall.secondsSinceEpochAsUTC - offsetSeconds
        self = Oslo.localDateTime(forSecondsSinceEpoch: instant)
    }

    /// Wall-clock seconds since 1970-01-01T00:00 (no time zone): for wall-clock arithmetic.
    public var secondsSinceEpochAsWallClock: Int { secondsSinceEpochAsUTC }

    /// Seconds since the epoch if this wall-clock time were UTC (arithmetic helper).
    var secondsSinceEpochAsUTC: Int {
        date.daysSinceEpoch * 86_400 + hour * 3_600 + minute * 60 + second
    }

    init(secondsSinceEpochAsUTC seconds: Int) {
        let days = Int((Double(seconds) / 86_400).rounded(.down))
        let rest = seconds - days * 86_400
        self.init(
            date: LocalDate(daysSinceEpoch: days), hour: rest / 3_600, minute: rest % 3_600 / 60, second: rest % 60)
    }

    /// The same wall-clock reading shifted by whole minutes (no time-zone logic).
    public func addingWallClock(minutes: Int) -> LocalDateTime {
        LocalDateTime(secondsSinceEpochAsUTC: secondsSinceEpochAsUTC + minutes * 60)
    }

    /// The instant this wall-clock time denotes in Europe/Oslo.
    public var instant: Date { Oslo.instant(for: self) }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        lhs.secondsSinceEpochAsUTC < rhs.secondsSinceEpochAsUTC
    }

    /// `YYYY-MM-DDTHH:MM:SS` (what xCal carries).
    public var description: String {
        "\(date)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(abs(value))
    let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    return value < 0 ? "-" + padded : padded
}

/// A tiny scanner for ISO 8601 lexical forms (no Foundation formatters on the hot path).
struct LexicalScanner {
    private let scalars: [UInt8]
    private var index = 0

    /// Surrounding white space (xs:date/xs:dateTime collapse it) is skipped.
    init(_ text: String) {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { bytes.removeLast() }
        let leading = bytes.prefix { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.count
        scalars = leading == 0 ? bytes : Array(bytes.dropFirst(leading))
    }

    var atEnd: Bool { index == scalars.count }

    var remainderIsTimeZone: Bool {
        var copy = self
        return copy.timeZoneOffsetSeconds() != nil && copy.atEnd
    }

    mutating func take(_ character: Character) -> Bool {
        guard index < scalars.count, let ascii = character.asciiValue, scalars[index] == ascii else { return false }
        index += 1
        return true
    }

    mutating func int(digits count: Int) -> Int? {
        guard index + count <= scalars.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = scalars[index + offset]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += count
        return value
    }

    mutating func skipDigits() -> Bool {
        let start = index
        while index < scalars.count, scalars[index] >= 0x30, scalars[index] <= 0x39 { index += 1 }
        return index > start
    }

    /// `Z`, `+HH:MM` or `-HH:MM`, as seconds east of UTC.
    mutating func timeZoneOffsetSeconds() -> Int? {
        if take("Z") { return 0 }
        let sign: Int
        if take("+") { sign = 1 } else if take("-") { sign = -1 } else { return nil }
        guard let hours = int(digits: 2), take(":"), let minutes = int(digits: 2), hours <= 14, minutes < 60 else {
            return nil
        }
        return sign * (hours * 3_600 + minutes * 60)
    }
}

extension String {
    /// The string without leading and trailing white space (identifiers arrive with stray spaces:
    /// an official example has `"91095 "`). Returns `self` unchanged, without copying, when there is none.
    public var trimmedWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return self }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return self }
        var slice = Substring(self)
        while let c = slice.first, c.isWhitespace { slice = slice.dropFirst() }
        while let c = slice.last, c.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
