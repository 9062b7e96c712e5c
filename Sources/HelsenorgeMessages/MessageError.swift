import TimebokCore
import TimebokXML

/// Why a message could not be accepted: a stable code, the AppRec error code the protocol
/// prescribes, and a sentence a person understands (with the line when known).
public struct MessageError: TimebokError, Hashable {
    /// Stable codes of the message layer (`TB-02xx`); XML-layer failures keep their `TB-01xx` code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The root element is not a message timebok knows (or is in the wrong namespace).
        public static let unknownMessage = Code("TB-0201")
        /// The message does not validate against the official schemas.
        public static let schemaInvalid = Code("TB-0202")
        /// `MsgInfo/Type` names a process timebok does not serve.
        public static let unsupportedProcess = Code("TB-0203")
        /// The request or answer code is not one of this process's functions.
        public static let unsupportedFunction = Code("TB-0204")
        /// A required element or attribute is missing or empty.
        public static let missingElement = Code("TB-0205")
        /// The patient has no fødselsnummer or D-nummer.
        public static let patientIdMissing = Code("TB-0206")
        /// The patient's fødselsnummer or D-nummer is not valid.
        public static let patientIdInvalid = Code("TB-0207")
        /// The patient's name is missing (both, family or given name).
        public static let patientNameMissing = Code("TB-0208")
        /// A date or date-time value cannot be read.
        public static let badDateTime = Code("TB-0209")
        /// An appointment ends before (or when) it starts.
        public static let badInterval = Code("TB-0210")
        /// Documents are not in the order the protocol requires (Dialogmelding first).
        public static let documentOrder = Code("TB-0211")
        /// A value is not allowed here (wrong code, more than one where one is allowed, …).
        public static let badValue = Code("TB-0212")
    }

    /// `TB-01xx` (XML layer) or `TB-02xx` (message layer).
    public var code: String
    /// The AppRec error (code list 8221) the protocol prescribes for this failure.
    public var appRecError: AppRecErrorCode
    /// A sentence a person understands.
    public var summary: String
    /// The line in the input, when known.
    public var line: Int?
    /// libxml2's details (schema errors with their lines, …).
    public var details: [String]
    /// The envelope, when it could be read: what an AppRec answering this message needs.
    public var envelope: MsgInfo?
    /// The function, when it could be recognised (decides between an AppRec and a 26 answer).
    public var function: MessageFunction?

    public init(
        _ code: Code, _ appRecError: AppRecErrorCode, _ summary: String, line: Int? = nil, details: [String] = [],
        envelope: MsgInfo? = nil
    ) {
        self.code = code.rawValue
        self.appRecError = appRecError
        self.summary = summary
        self.line = line
        self.details = details
        self.envelope = envelope
    }

    /// The message-layer form of an XML-layer failure (T01 for unreadable input, T99 for refused DTDs and oversize input).
    public init(xml error: XMLError) {
        switch error.code {
        case .notWellFormed, .emptyInput, .encodingConflict:
            appRecError = .notXML
        case .schemaInvalid:
            appRecError = .schemaInvalid
        default:
            appRecError = .otherFormatError  // DOCTYPE refused, input too large
        }
        code = error.code.rawValue
        summary = error.summary
        line = error.line
        details = error.issues.map(\.description)
        envelope = nil
    }

    public var errorCode: String { code }
    public var message: String { summary }
    public var appRecCode: String? { appRecError.rawValue }

    public var description: String {
        var text = "\(code) [AppRec \(appRecError.rawValue)]: "
        if let line { text += "line \(line): " }
        text += summary
        for detail in details.prefix(20) { text += "\n  \(detail)" }
        if details.count > 20 { text += "\n  … and \(details.count - 20) more" }
        return text
    }
}

// Reading helpers: required/optional children with errors that name the element and its line.
// Documents are schema-validated before decoding, so what is missing here is something the protocol
// requires beyond the schema: AppRec T99 (other format error), not T02.
extension XElement {
    func required(_ namespace: String, _ name: String) throws(MessageError) -> XElement {
        guard let element = child(namespace, name) else {
            throw MessageError(.missingElement, .otherFormatError, "\(path) has no \(name) element.", line: line)
        }
        return element
    }

    func requiredText(_ namespace: String, _ name: String) throws(MessageError) -> String {
        let element = try required(namespace, name)
        let text = element.text
        guard !text.isEmpty else {
            throw MessageError(.missingElement, .otherFormatError, "\(element.path) is empty.", line: element.line)
        }
        return text
    }

    func optionalText(_ namespace: String, _ name: String) -> String? {
        child(namespace, name)?.text
    }

    /// A code element's attributes (`V`, `S`, `DN`, `OT`).
    var code: Code {
        Code(
            value: attribute("V") ?? "", system: attribute("S"), displayName: attribute("DN"),
            originalText: attribute("OT"))
    }

    func requiredCode(_ namespace: String, _ name: String) throws(MessageError) -> Code {
        let element = try required(namespace, name)
        let code = element.code
        guard !code.value.isEmpty else {
            throw MessageError(
                .missingElement, .otherFormatError, "\(element.path) has no V attribute.", line: element.line)
        }
        return code
    }

    func optionalCode(_ namespace: String, _ name: String) -> Code? {
        child(namespace, name)?.code
    }
}

extension XMLWriter {
    /// A code element: `V`, then `S`, `DN`, `OT` where set.
    mutating func code(_ name: String, _ code: Code) {
        element(
            name, attributes: ["V": code.value, "S": code.system, "DN": code.displayName, "OT": code.originalText],
            text: nil)
    }

    mutating func optionalCode(_ name: String, _ code: Code?) {
        if let code { self.code(name, code) }
    }
}
