import TimebokCore
import TimebokXML

/// What kind of document a root element makes, chosen by namespace URI and local name
/// (never by `xsi:schemaLocation` or prefixes).
public enum DocumentKind: Sendable, Hashable, CustomStringConvertible {
    case msgHead
    case appRec(AppRec.Version)
    /// timebok's Ressursoversikt payload (PROTOCOL.md §9.2), a helsenorge message part.
    case resourceBooks
    /// A known root name in the wrong namespace (a message that must be refused with T10).
    case wrongNamespace(name: String, namespace: String?)
    case unknown(name: String, namespace: String?)

    public init(root: XElement) {
        let name = root.name
        let namespace = root.namespace
        switch (namespace, name) {
        case (Namespace.msgHead, "MsgHead"): self = .msgHead
        case (Namespace.appRec11, "AppRec"): self = .appRec(.v1_1)
        case (Namespace.appRec10, "AppRec"): self = .appRec(.v1_0)
        case (Namespace.resourceBooks, "ResourceBooks"): self = .resourceBooks
        case (_, "MsgHead"), (_, "AppRec"), (_, "ResourceBooks"):
            self = .wrongNamespace(name: name, namespace: namespace)
        default:
            self = .unknown(name: name, namespace: namespace)
        }
    }

    public var description: String {
        switch self {
        case .msgHead: return "MsgHead (Hodemelding 1.2)"
        case .appRec(let version): return "AppRec \(version == .v1_1 ? "1.1" : "1.0")"
        case .resourceBooks: return "timebok resource-book list"
        case .wrongNamespace(let name, let namespace): return "\(name) in the wrong namespace \(namespace ?? "(none)")"
        case .unknown(let name, let namespace): return "unknown document \(namespace.map { "{\($0)}" } ?? "")\(name)"
        }
    }
}

/// Options for decoding messages from helsenorge.
public struct DecodingOptions: Sendable, Hashable {
    /// Accept test fødselsnumre (month + 40 or + 80): test environments only.
    public var allowTestIdentityNumbers: Bool
    /// Check the patient (E30–E34) and inbound-only rules (dtend after dtstart). On for inputs.
    public var checkInboundRules: Bool

    public init(allowTestIdentityNumbers: Bool = false, checkInboundRules: Bool = true) {
        self.allowTestIdentityNumbers = allowTestIdentityNumbers
        self.checkInboundRules = checkInboundRules
    }
}

/// Decodes helsenorge messages from bytes into typed values, and encodes them back to bytes.
///
/// Decoding is: hardened parse (T01) → root by namespace and name (T10) → schema validation when a
/// schema set is given (T02) → typed decode → function (T10) → patient and inbound rules (E30–E34, T99).
/// Every failure is a ``MessageError`` with its AppRec code and, when the envelope could be read,
/// the envelope, so an AppRec can still be addressed.
public struct MessageCodec: Sendable {
    public var schemas: SchemaSet?
    public var options: DecodingOptions
    public var limits: ParseLimits

    public init(schemas: SchemaSet?, options: DecodingOptions = DecodingOptions(), limits: ParseLimits = ParseLimits())
    {
        self.schemas = schemas
        self.options = options
        self.limits = limits
    }

    public func decode(_ bytes: [UInt8], name: String? = nil) throws(MessageError) -> DecodedMessage {
        let document: XDocument
        do {
            document = try HardenedXMLParser.parse(bytes, name: name, limits: limits)
        } catch {
            throw MessageError(xml: error)
        }
        return try decode(document)
    }

    public func decode(_ document: XDocument) throws(MessageError) -> DecodedMessage {
        guard let root = document.root else {
            throw MessageError(.unknownMessage, .notXML, "The document has no root element.")
        }
        let kind = DocumentKind(root: root)
        switch kind {
        case .msgHead, .appRec: break
        default:
            throw MessageError(
                .unknownMessage, .unsupportedFormat,
                "The document is a \(kind), not a MsgHead or AppRec message timebok serves.", line: root.line)
        }
        if let schemas {
            let issues = schemas.validate(document)
            if !issues.isEmpty {
                var error = MessageError(
                    .schemaInvalid, .schemaInvalid,
                    "The message does not validate against the official schemas: \(issues[0].message)",
                    line: issues[0].line, details: issues.map(\.description))
                if case .msgHead = kind, let info = root.child(Namespace.msgHead, "MsgInfo") {
                    error.envelope = try? MsgHeadReader.msgInfo(info)
                    error.function = try? Self.decodeMsgHead(root).function()
                }
                throw error
            }
        }
        if case .appRec(let version) = kind {
            return .appRec(try AppRecCodec.decode(root, version: version))
        }
        let message = try Self.decodeMsgHead(root)
        var recognised: MessageFunction?
        do throws(MessageError) {
            let function = try message.function()
            recognised = function
            if options.checkInboundRules {
                if function.requiresPatient { try checkPatient(message.info) }
                if function.isFromHelsenorge { try checkInboundRules(message, function) }
            }
            return .dialog(message, function)
        } catch {
            var error = error
            error.envelope = error.envelope ?? message.info
            error.function = recognised
            throw error
        }
    }

    static func decodeMsgHead(_ root: XElement) throws(MessageError) -> DialogMessage {
        let mh = Namespace.msgHead
        let info = try MsgHeadReader.msgInfo(try root.required(mh, "MsgInfo"))
        do throws(MessageError) {
            var documents: [MessageDocument] = []
            for element in root.children(mh, "Document") {
                documents.append(try document(element))
            }
            guard !documents.isEmpty else {
                throw MessageError(.missingElement, .otherFormatError, "The MsgHead has no Document.", line: root.line)
            }
            guard case .dialogmelding = documents[0].payload else {
                throw MessageError(
                    .documentOrder, .otherFormatError, "The first Document must be the Dialogmelding (PROTOCOL.md §1).",
                    line: root.children(mh, "Document")[0].line)
            }
            return DialogMessage(
                info: info, documents: documents, isSigned: root.child(Namespace.xmlDSig, "Signature") != nil)
        } catch {
            var error = error
            error.envelope = info
            throw error
        }
    }

    static func document(_ element: XElement) throws(MessageError) -> MessageDocument {
        let mh = Namespace.msgHead
        let refDoc = try element.required(mh, "RefDoc")
        guard let payload = try refDoc.required(mh, "Content").children.first else {
            throw MessageError(
                .missingElement, .otherFormatError, "\(refDoc.path)/Content is empty.", line: refDoc.line)
        }
        let decoded: MessageDocument.Payload
        switch (payload.namespace, payload.name) {
        case (Namespace.dialogmelding, "Dialogmelding"):
            decoded = .dialogmelding(try DialogmeldingCodec.decode(payload))
        case (Namespace.xCal, "icalendar"): decoded = .calendar(try XCalCodec.decode(payload))
        case (Namespace.helsepersonell, "HelsepersonelListe"):
            decoded = .practitioners(try PractitionerListCodec.decode(payload))
        case (Namespace.resourceBooks, "ResourceBooks"):
            decoded = .resourceBooks(try ResourceBookListCodec.decode(payload))
        case ("http://www.kith.no/xmlstds/dialog/2006-10-11", "Dialogmelding"):
            throw MessageError(
                .unsupportedFunction, .unsupportedFormat,
                "Dialogmelding 1.0 is not supported; digital dialog uses Dialogmelding 1.1 (2013-01-23).",
                line: payload.line)
        default: decoded = .unsupported(namespace: payload.namespace, name: payload.name)
        }
        return MessageDocument(
            contentDescription: element.optionalText(mh, "ContentDescription"),
            issueDate: refDoc.child(mh, "IssueDate")?.attribute("V"),
            description: refDoc.optionalText(mh, "Description"),
            payload: decoded)
    }

    /// E30–E34: the patient must be identified by a valid fødselsnummer or D-nummer and named.
    func checkPatient(_ info: MsgInfo) throws(MessageError) {
        guard let patient = info.patient, let number = patient.identityNumber, !number.isEmpty else {
            throw MessageError(
                .patientIdMissing, .patientIdMissing,
                "The message has no patient fødselsnummer or D-nummer (MsgInfo/Patient/Ident with TypeId FNR or DNR).",
                envelope: info)
        }
        let identity: NationalIdentityNumber
        do {
            identity = try NationalIdentityNumber(number, allowTestNumbers: options.allowTestIdentityNumbers)
        } catch {
            throw MessageError(
                .patientIdInvalid, .patientIdInvalid,
                "The patient's identity number \(masked(number)) is not valid: \(error).", envelope: info)
        }
        let declared = patient.idents.first { $0.id.trimmedWhitespace == number }?.type.value
        if declared != identity.kind.rawValue {
            throw MessageError(
                .patientIdInvalid, .patientIdInvalid,
                "The patient's identity number \(masked(number)) is a \(identity.kind == .dNummer ? "D-nummer" : "fødselsnummer") but is sent as \(declared ?? "?").",
                envelope: info)
        }
        let family = patient.familyName?.isEmpty == false
        let given = patient.givenName?.isEmpty == false
        switch (family, given) {
        case (false, false):
            throw MessageError(.patientNameMissing, .patientNameMissing, "The patient has no name.", envelope: info)
        case (false, true):
            throw MessageError(
                .patientNameMissing, .patientFamilyNameMissing, "The patient has no family name.", envelope: info)
        case (true, false):
            throw MessageError(
                .patientNameMissing, .patientGivenNameMissing, "The patient has no given name.", envelope: info)
        case (true, true): break
        }
    }

    /// Rules for requests from helsenorge that the schema cannot express.
    func checkInboundRules(_ message: DialogMessage, _ function: MessageFunction) throws(MessageError) {
        guard function == .reserverAvtale || function == .avbestillAvtale else { return }
        guard let calendar = message.calendar, calendar.events.count == 1, let event = calendar.events.first else {
            throw MessageError(
                .badValue, .otherFormatError,
                "\(function.rawValue) must carry exactly one xCal vevent (the \(function == .reserverAvtale ? "chosen slot" : "appointment")).",
                envelope: message.info)
        }
        guard event.start < event.end else {
            throw MessageError(
                .badInterval, .otherFormatError,
                "The vevent ends (\(event.end)) before or when it starts (\(event.start)).", envelope: message.info)
        }
    }

    // MARK: Encoding

    /// Encodes a MsgHead message (unsigned; TimebokSigning adds the signature).
    public static func encode(_ message: DialogMessage) -> [UInt8] {
        encode(message, canonical: false).document
    }

    /// Encodes a MsgHead message and writes its exclusive canonical form beside it, which is what
    /// an enveloped signature digests: a signer needs not parse the document again.
    public static func encodeWithCanonicalForm(_ message: DialogMessage) -> (document: [UInt8], canonical: [UInt8]) {
        encode(message, canonical: true)
    }

    private static func encode(_ message: DialogMessage, canonical: Bool) -> (document: [UInt8], canonical: [UInt8]) {
        var w = XMLWriter(canonical: canonical)
        w.element("MsgHead", attributes: ["xmlns": Namespace.msgHead]) { w in
            MsgHeadWriter.msgInfo(message.info, into: &w)
            for document in message.documents {
                guard !isUnsupported(document.payload) else { continue }
                w.element("Document") { w in
                    w.optionalElement("ContentDescription", text: document.contentDescription)
                    w.element("RefDoc") { w in
                        if let issueDate = document.issueDate {
                            w.element("IssueDate", attributes: ["V": issueDate], text: nil)
                        }
                        w.element("MsgType", attributes: ["V": "XML", "DN": "XML-instans"], text: nil)
                        w.optionalElement("Description", text: document.description)
                        w.element("Content") { w in
                            switch document.payload {
                            case .dialogmelding(let dialog): DialogmeldingCodec.encode(dialog, into: &w)
                            case .calendar(let calendar): XCalCodec.encode(calendar, into: &w)
                            case .practitioners(let list): PractitionerListCodec.encode(list, into: &w)
                            case .resourceBooks(let books): ResourceBookListCodec.encode(books, into: &w)
                            case .unsupported: break
                            }
                        }
                    }
                }
            }
        }
        return w.finishWithCanonicalForm()
    }

    /// Encodes an AppRec (1.1, or 1.0 when the value says so).
    public static func encode(_ appRec: AppRec) -> [UInt8] {
        AppRecCodec.encode(appRec)
    }

    private static func isUnsupported(_ payload: MessageDocument.Payload) -> Bool {
        if case .unsupported = payload { return true }
        return false
    }
}

/// Shows only the birth date part of an identity number (logs and error files are read by operators).
func masked(_ number: String) -> String {
    number.count == 11 ? String(number.prefix(6)) + "*****" : "(\(number.count) characters)"
}
