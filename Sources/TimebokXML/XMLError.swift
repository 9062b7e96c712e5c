import TimebokCore

/// One problem reported by libxml2 (parser or schema validator), with its position when known.
public struct XMLIssue: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line in the input, when libxml2 knows it.
    public var line: Int?
    /// 1-based column, when libxml2 knows it.
    public var column: Int?
    /// libxml2's message, trimmed.
    public var message: String

    public init(line: Int? = nil, column: Int? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        switch (line, column) {
        case let (l?, c?) where l > 0 && c > 0: return "line \(l), column \(c): \(message)"
        case let (l?, _) where l > 0: return "line \(l): \(message)"
        default: return message
        }
    }
}

/// An error of the XML layer. Its ``code`` is stable (operators and log searches rely on it);
/// its ``summary`` is a sentence a person understands; ``issues`` carry libxml2's details with lines.
public struct XMLError: TimebokError, Hashable {
    /// Stable error codes of the XML layer (`TB-01xx`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input has no bytes.
        public static let emptyInput = Code("TB-0101")
        /// The input is larger than the configured cap; it was not parsed.
        public static let inputTooLarge = Code("TB-0102")
        /// The document has a DOCTYPE; timebok refuses every DTD (entity attacks).
        public static let doctypeForbidden = Code("TB-0103")
        /// The byte-order mark says one encoding and the XML declaration another.
        public static let encodingConflict = Code("TB-0104")
        /// The input is not well-formed XML (or not readable in its declared encoding).
        public static let notWellFormed = Code("TB-0105")
        /// A schema could not be loaded or compiled.
        public static let schemaUnusable = Code("TB-0106")
        /// The document does not validate against the schema.
        public static let schemaInvalid = Code("TB-0107")
        /// An XPath expression could not be evaluated.
        public static let xpathFailed = Code("TB-0108")
        /// Canonicalization (C14N) failed.
        public static let canonicalizationFailed = Code("TB-0109")
    }

    public var code: Code
    public var summary: String
    public var issues: [XMLIssue]

    public init(_ code: Code, _ summary: String, issues: [XMLIssue] = []) {
        self.code = code
        self.summary = summary
        self.issues = issues
    }

    public var errorCode: String { code.rawValue }
    public var message: String { summary }

    /// The first line number among the issues, if any (what a person looks at first).
    public var line: Int? { issues.lazy.compactMap(\.line).first { $0 > 0 } }

    public var description: String {
        var text = "\(code.rawValue): \(summary)"
        for issue in issues.prefix(20) { text += "\n  \(issue)" }
        if issues.count > 20 { text += "\n  … and \(issues.count - 20) more" }
        return text
    }
}
