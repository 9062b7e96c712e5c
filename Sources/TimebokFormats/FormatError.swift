/// A file in one of timebok's own formats that cannot be read: a stable code and a sentence.
import TimebokCore

public struct FormatError: TimebokError, Hashable {
    /// Opaque codes: only this module makes them.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A `.meta` line that is not `key = value`.
        public static let metaLine = Code("TB-0701")
        /// A `.meta` key timebok does not know.
        public static let metaUnknownKey = Code("TB-0702")
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var errorCode: String { code.rawValue }
}
