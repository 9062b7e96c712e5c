import Foundation

/// Europe/Oslo time, computed from the rule rather than from tzdata so results do not depend on
/// the machine: UTC+1, and UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of
/// October 01:00 UTC (the EU rule Norway has followed since 1996; 1981–1995 summer time ended on
/// the last Sunday of September; 1980 ran from 6 April to 28 September; no summer time 1966–1979).
/// Tests compare it with the system's tz database hour by hour from 1997.
public enum Oslo {
    /// Seconds east of UTC at an instant.
    public static func offsetSeconds(atSecondsSinceEpoch seconds: Int) -> Int {
        guard let first = transitions.first, let last = transitions.last, seconds >= first, seconds < last else {
            return offsetByRule(atSecondsSinceEpoch: seconds)
        }
        // The first transition after the instant: an odd index is a summer time's end, so the
        // instant is inside that summer.
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= seconds { low = middle + 1 } else { high = middle }
        }
        return low % 2 == 1 ? 7_200 : 3_600
    }

    /// The offset worked out from the rule for the instant's year; ``transitions`` holds the same
    /// for the years it covers (every time stamp is converted, and the rule's calendar arithmetic
    /// showed in the daemon's profile).
    static func offsetByRule(atSecondsSinceEpoch seconds: Int) -> Int {
        let year = LocalDateTime(secondsSinceEpochAsUTC: seconds).date.year
        guard let (start, end) = summerTime(year: year) else { return 3_600 }
        return seconds >= start && seconds < end ? 7_200 : 3_600
    }

    /// Summer time's start and end instants, in order, for 1980 to 2199.
    static let transitions: [Int] = (1980...2199).flatMap { year -> [Int] in
        guard let (start, end) = summerTime(year: year) else { return [] }
        return [start, end]
    }

    /// Seconds east of UTC at an instant.
    public static func offsetSeconds(at instant: Date) -> Int {
        offsetSeconds(atSecondsSinceEpoch: Int(instant.timeIntervalSince1970.rounded(.down)))
    }

    /// Wall-clock time in Oslo at an instant.
    public static func localDateTime(at instant: Date) -> LocalDateTime {
        localDateTime(forSecondsSinceEpoch: Int(instant.timeIntervalSince1970.rounded(.down)))
    }

    static func localDateTime(forSecondsSinceEpoch seconds: Int) -> LocalDateTime {
        LocalDateTime(secondsSinceEpochAsUTC: seconds + offsetSeconds(atSecondsSinceEpoch: seconds))
    }

    /// The instant of an Oslo wall-clock time. A time in the spring-forward gap (02:00–03:00 on
    /// the last Sunday of March) is read with the winter offset, i.e. one hour later on the
    /// summer clock; a time in the autumn repeat (02:00–03:00 on the last Sunday of October)
    /// denotes its first occurrence (summer time).
    public static func instant(for local: LocalDateTime) -> Date {
        Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch(for: local)))
    }

    public static func secondsSinceEpoch(for local: LocalDateTime) -> Int {
        let wall = local.secondsSinceEpochAsUTC
        let asSummer = wall - 7_200
        if offsetSeconds(atSecondsSinceEpoch: asSummer) == 7_200 { return asSummer }
        return wall - 3_600
    }

    /// True when the wall-clock time does not exist in Oslo (the spring-forward hour).
    public static func isInGap(_ local: LocalDateTime) -> Bool {
        let wall = local.secondsSinceEpochAsUTC
        return offsetSeconds(atSecondsSinceEpoch: wall - 7_200) != 7_200
            && offsetSeconds(atSecondsSinceEpoch: wall - 3_600) != 3_600
    }

    /// Today's date in Oslo.
    public static func today(at instant: Date) -> LocalDate { localDateTime(at: instant).date }

    /// Summer time [start, end) in seconds since the epoch, or nil for years without it.
    static func summerTime(year: Int) -> (Int, Int)? {
        guard year >= 1980 else { return nil }
        if year == 1980 {
            return (
                LocalDate(year: 1980, month: 4, day: 6).daysSinceEpoch * 86_400 + 3_600,
                LocalDate(year: 1980, month: 9, day: 28).daysSinceEpoch * 86_400 + 3_600
            )
        }
        let start = lastSunday(year: year, month: 3)
        let end = lastSunday(year: year, month: year >= 1996 ? 10 : 9)
        return (start.daysSinceEpoch * 86_400 + 3_600, end.daysSinceEpoch * 86_400 + 3_600)
    }

    static func lastSunday(year: Int, month: Int) -> LocalDate {
        let last = LocalDate(year: year, month: month, day: LocalDate.daysIn(month: month, year: year))
        return last.adding(days: -(last.weekday % 7))
    }

    /// `YYYY-MM-DDTHH:MM:SS±HH:MM` for an instant, in Oslo time (xs:dateTime with offset).
    public static func xsDateTime(_ instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        let offset = offsetSeconds(atSecondsSinceEpoch: seconds)
        let local = LocalDateTime(secondsSinceEpochAsUTC: seconds + offset)
        return "\(local)+\(pad(offset / 3_600, 2)):00"
    }
}

/// Compact UTC time stamps for file names that sort by time: `20261201T091500.123Z`.
public enum UTCStamp {
    public static func compact(_ instant: Date) -> String {
        let milliseconds = Int((instant.timeIntervalSince1970 * 1_000).rounded(.down))
        let seconds = Int((Double(milliseconds) / 1_000).rounded(.down))
        let time = LocalDateTime(secondsSinceEpochAsUTC: seconds)
        let date = time.date
        return
            "\(pad(date.year, 4))\(pad(date.month, 2))\(pad(date.day, 2))T\(pad(time.hour, 2))\(pad(time.minute, 2))\(pad(time.second, 2)).\(pad(milliseconds - seconds * 1_000, 3))Z"
    }
}
