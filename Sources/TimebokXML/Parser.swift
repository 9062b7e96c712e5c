internal import CLibXML2

/// Limits applied before and while parsing. The defaults suit helsenorge messages and command files.
public struct ParseLimits: Sendable, Hashable {
    /// Inputs larger than this are refused before libxml2 sees a byte.
    public var maxBytes: Int
    /// A text node longer than this (in UTF-8 bytes) stops the parse. libxml2's own cap (10 MB)
    /// does not hold for text that arrives in chunks, so timebok enforces its own.
    public var maxTextBytes: Int

    public init(maxBytes: Int = 8 * 1024 * 1024, maxTextBytes: Int = 2 * 1024 * 1024) {
        self.maxBytes = maxBytes
        self.maxTextBytes = maxTextBytes
    }
}

/// Hardened XML parsing (../shared/DESIGN.md, "XML handling rules").
///
/// - parses from bytes with `XML_PARSE_NONET` only: never entity substitution, DTD loading,
///   DTD attribute defaults, DTD validation, XInclude, "huge" mode or recovery;
/// - refuses every document with a DOCTYPE, stopping the parser at the declaration, before any
///   entity is declared (billion laughs, quadratic blow-up, XXE and parameter entities all need one);
/// - caps the input size before parsing; libxml2's own limits (depth 256, 10 MB text nodes) stay on;
/// - honours the XML declaration's encoding and refuses a byte-order mark that contradicts it.
public enum HardenedXMLParser {
    /// Parses `bytes` into a document. `name` is only used in messages (a file name, say).
    public static func parse(
        _ bytes: [UInt8], name: String? = nil, limits: ParseLimits = ParseLimits()
    ) throws(XMLError) -> XDocument {
        try bytes.withUnsafeBufferPointer { buffer throws(XMLError) in
            try parse(buffer, name: name, limits: limits)
        }
    }

    /// Parses a UTF-8 string (tests and tools).
    public static func parse(
        string: String, name: String? = nil, limits: ParseLimits = ParseLimits()
    ) throws(XMLError) -> XDocument {
        try parse(Array(string.utf8), name: name, limits: limits)
    }

    /// Parses raw bytes into a document.
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, name: String? = nil, limits: ParseLimits = ParseLimits()
    ) throws(XMLError) -> XDocument {
        XMLLibrary.ensureInitialized()
        guard !buffer.isEmpty else {
            throw XMLError(.emptyInput, "The input is empty: there is no XML to read.")
        }
        guard buffer.count <= limits.maxBytes else {
            throw XMLError(
                .inputTooLarge,
                "The input has \(buffer.count) bytes, more than the limit of \(limits.maxBytes) bytes; it was not parsed."
            )
        }
        if let conflict = EncodingSniffer.conflict(in: buffer) {
            throw XMLError(.encodingConflict, conflict)
        }
        guard buffer.count <= Int(Int32.max), let ctxt = xmlNewParserCtxt() else {
            throw XMLError(.notWellFormed, "libxml2 could not create a parser context (out of memory).")
        }
        defer { xmlFreeParserCtxt(ctxt) }

        let state = ParseState(maxTextBytes: limits.maxTextBytes)
        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        ctxt.pointee._private = unmanaged.toOpaque()
        if let sax = ctxt.pointee.sax {
            sax.pointee.serror = parseErrorHandler
            sax.pointee.internalSubset = refuseDoctype
            sax.pointee.characters = limitedCharacters
            sax.pointee.cdataBlock = limitedCDATA
        }
        // Errors raised outside the parser domain (encoding conversion, I/O) go to the thread's
        // structured handler; route them to the same place while this thread parses.
        let options = Int32(XML_PARSE_NONET.rawValue)
        let doc = withStructuredErrors(UnsafeMutableRawPointer(ctxt), parseErrorHandler) {
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                xmlCtxtReadMemory(ctxt, base, Int32(buffer.count), name ?? "input.xml", nil, options)
            }
        }
        if state.sawDoctype {
            if let doc { xmlFreeDoc(doc) }
            throw XMLError(
                .doctypeForbidden,
                "The document has a DOCTYPE declaration; timebok refuses every DTD and entity declaration.",
                issues: state.issues.filter { !$0.message.contains("User stop") })
        }
        // libxml2 may stop on a resource limit (huge text node) without clearing wellFormed, so any
        // error-level report means failure, never a truncated document.
        guard let doc, ctxt.pointee.wellFormed != 0, state.issues.isEmpty else {
            if let doc { xmlFreeDoc(doc) }
            let issues = state.issues.isEmpty ? [XMLIssue(message: "libxml2 gave up without a message")] : state.issues
            throw XMLError(.notWellFormed, "The input is not well-formed XML.", issues: issues)
        }
        return XDocument(doc)
    }
}

/// Per-parse state reachable from libxml2 callbacks through `ctxt->_private`.
private final class ParseState {
    var issues: [XMLIssue] = []
    var sawDoctype = false
    let maxTextBytes: Int
    init(maxTextBytes: Int) { self.maxTextBytes = maxTextBytes }
}

private func state(of context: UnsafeMutableRawPointer?) -> ParseState? {
    guard let context else { return nil }
    let ctxt = context.assumingMemoryBound(to: xmlParserCtxt.self)
    guard let opaque = ctxt.pointee._private else { return nil }
    return Unmanaged<ParseState>.fromOpaque(opaque).takeUnretainedValue()
}

private let parseErrorHandler: xmlStructuredErrorFunc = { context, error in
    guard let error, let state = state(of: context) else { return }
    guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    if state.issues.count < 100 { state.issues.append(makeIssue(error)) }
}

private let refuseDoctype: internalSubsetSAXFunc = { context, _, _, _ in
    guard let context else { return }
    state(of: context)?.sawDoctype = true
    xmlStopParser(context.assumingMemoryBound(to: xmlParserCtxt.self))
}

private let limitedCharacters: charactersSAXFunc = { context, characters, length in
    xmlSAX2Characters(context, characters, length)
    checkTextLength(context)
}

private let limitedCDATA: cdataBlockSAXFunc = { context, characters, length in
    xmlSAX2CDataBlock(context, characters, length)
    checkTextLength(context)
}

/// `ctxt->nodelen` is the length of the text node being built (SAX2 coalesces chunks into it).
private func checkTextLength(_ context: UnsafeMutableRawPointer?) {
    guard let context, let state = state(of: context) else { return }
    let ctxt = context.assumingMemoryBound(to: xmlParserCtxt.self)
    guard Int(ctxt.pointee.nodelen) > state.maxTextBytes, ctxt.pointee.instate != XML_PARSER_EOF else { return }
    state.issues.append(
        XMLIssue(
            line: Int(ctxt.pointee.input?.pointee.line ?? 0),
            message: "huge text node: more than \(state.maxTextBytes) bytes of text in one element"))
    xmlStopParser(ctxt)
}

/// Compares a byte-order mark with the XML declaration's encoding.
enum EncodingSniffer {
    static func conflict(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let bom: (name: String, length: Int, step: Int, offset: Int)?
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bom = ("UTF-8", 3, 1, 0)
        } else if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) {
            bom = ("UTF-32", 4, 4, bytes[0] == 0 ? 3 : 0)
        } else if bytes.starts(with: [0xFE, 0xFF]) {
            bom = ("UTF-16", 2, 2, 1)
        } else if bytes.starts(with: [0xFF, 0xFE]) {
            bom = ("UTF-16", 2, 2, 0)
        } else {
            bom = nil
        }
        guard let bom else { return nil }
        // Read the declaration as ASCII, picking the low byte of each code unit.
        var ascii: [UInt8] = []
        var index = bom.length + bom.offset
        while index < bytes.count, ascii.count < 256 {
            ascii.append(bytes[index])
            if ascii.count >= 2, ascii.suffix(2) == [0x3F, 0x3E] { break }  // "?>"
            index += bom.step
        }
        let head = String(decoding: ascii, as: UTF8.self)
        guard head.hasPrefix("<?xml"), let declared = declaredEncoding(in: head) else { return nil }
        let normalized = declared.uppercased().replacingDashes()
        let compatible: Bool
        switch bom.name {
        case "UTF-8": compatible = normalized == "UTF8"
        case "UTF-16": compatible = normalized.hasPrefix("UTF16") || normalized == "UCS2"
        default: compatible = normalized.hasPrefix("UTF32") || normalized == "UCS4"
        }
        return compatible
            ? nil
            : "The byte-order mark says \(bom.name) but the XML declaration says encoding=\"\(declared)\"; the file's encoding is ambiguous."
    }

    private static func declaredEncoding(in head: String) -> String? {
        guard let range = head.range(of: "encoding") else { return nil }
        var rest = head[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        rest = rest.dropFirst()
        return String(rest.prefix { $0 != quote })
    }
}

private extension String {
    func replacingDashes() -> String { filter { $0 != "-" && $0 != "_" } }
}
