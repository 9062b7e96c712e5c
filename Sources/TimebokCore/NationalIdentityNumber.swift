/// A Norwegian fødselsnummer or D-nummer: 11 digits, two mod-11 check digits.
///
/// D-numbers add 4 to the first digit. Test numbers of the test environments add 40 (NAV / Helsenorge
/// test persons) or 80 (Skatteetaten's synthetic persons) to the month; they are refused unless
/// `allowTestNumbers` is set (configured for test).
public struct NationalIdentityNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Fødselsnummer (`FNR`).
        case fodselsnummer = "FNR"
        /// D-nummer (`DNR`).
        case dNummer = "DNR"
    }

    /// Why a number was refused.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notElevenDigits
        case checkDigitMismatch
        case impossibleDate
        case testNumberNotAllowed

        public var description: String {
            switch self {
            case .notElevenDigits: return "a fødselsnummer or D-nummer has exactly 11 digits"
            case .checkDigitMismatch: return "the check digits do not match (mod 11)"
            case .impossibleDate: return "the first six digits are not a valid date of birth"
            case .testNumberNotAllowed:
                return "it is a test number (month plus 40 or 80), which this installation does not accept"
            }
        }
    }

    /// The 11 digits.
    public let digits: String
    public let kind: Kind
    /// True for a test number (month + 40 or + 80).
    public let isTestNumber: Bool
    /// The date of birth the number encodes.
    public let birthDate: LocalDate

    public init(_ text: String, allowTestNumbers: Bool = false) throws(Problem) {
        let bytes = Array(text.utf8)
        guard bytes.count == 11, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .notElevenDigits }
        let d = bytes.map { Int($0 - 0x30) }
        let weights1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
        let weights2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
        func check(_ weights: [Int]) -> Int? {
            let sum = zip(weights, d).reduce(0) { $0 + $1.0 * $1.1 }
            let k = 11 - sum % 11
            return k == 11 ? 0 : (k == 10 ? nil : k)
        }
        guard check(weights1) == d[9], check(weights2) == d[10] else { throw .checkDigitMismatch }

        var day = d[0] * 10 + d[1]
        var month = d[2] * 10 + d[3]
        let kind: Kind = day > 40 ? .dNummer : .fodselsnummer
        if kind == .dNummer { day -= 40 }
        var isTest = false
        if month > 80 { month -= 80; isTest = true } else if month > 40 { month -= 40; isTest = true }
        guard (1...12).contains(month) else { throw .impossibleDate }
        if isTest && !allowTestNumbers { throw .testNumberNotAllowed }
        let yy = d[4] * 10 + d[5]
        let individual = d[6] * 100 + d[7] * 10 + d[8]
        // Century from the individual number (Skatteetaten's rules).
        let year: Int
        switch individual {
        case 0...499: year = 1900 + yy
        case 500...749 where yy >= 54: year = 1800 + yy
        case 900...999 where yy >= 40: year = 1900 + yy
        case 500...999 where yy < 40: year = 2000 + yy
        default: throw .impossibleDate
        }
        guard (1...12).contains(month), (1...LocalDate.daysIn(month: month, year: year)).contains(day) else {
            throw .impossibleDate
        }
        self.digits = text
        self.kind = kind
        self.isTestNumber = isTest
        self.birthDate = LocalDate(year: year, month: month, day: day)
    }

    /// Age in whole years on `date`.
    public func age(on date: LocalDate) -> Int {
        var age = date.year - birthDate.year
        if (date.month, date.day) < (birthDate.month, birthDate.day) { age -= 1 }
        return age
    }

    public var description: String { digits }
}

/// Hides fødselsnumre and D-numre wherever people read (terminal output, log lines, reason files):
/// each run of exactly 11 digits whose first six could be a birth date (DDMMYY, with the D-nummer's
/// +40 on the day and the test numbers' +40/+80 on the month) keeps its birth date and loses the
/// rest: `13016900216` → `130169*****`. Valid or not: a mistyped number is still someone's. Other
/// numbers (HER-ids, organisation numbers, ledger sequences, times) are left alone.
public enum IdentityMasking {
    public static func mask(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var index = 0
        var changed = false
        while index < bytes.count {
            guard isDigit(bytes[index]) else {
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, isDigit(bytes[end]) { end += 1 }
            // Inside a word (hex in a UUID, an identifier) it is not an identity number.
            let standalone =
                (index == 0 || !isLetter(bytes[index - 1])) && (end == bytes.count || !isLetter(bytes[end]))
            if end - index == 11, standalone, looksLikeBirthDate(bytes[index..<index + 6]) {
                for position in index + 6..<end { bytes[position] = UInt8(ascii: "*") }
                changed = true
            }
            index = end
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    private static func looksLikeBirthDate(_ digits: ArraySlice<UInt8>) -> Bool {
        let values = digits.map { Int($0) - 0x30 }
        let day = values[0] * 10 + values[1]
        let month = values[2] * 10 + values[3]
        let dayOK = (1...31).contains(day) || (41...71).contains(day)
        let monthOK = (1...12).contains(month) || (41...52).contains(month) || (81...92).contains(month)
        return dayOK && monthOK
    }
}
