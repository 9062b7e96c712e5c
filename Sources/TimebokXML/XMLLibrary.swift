internal import CLibXML2
import Synchronization

/// Process-wide libxml2 set-up. Every entry point of this module calls ``ensureInitialized()``
/// first, so callers never have to remember it; it is idempotent and thread-safe.
public enum XMLLibrary {
    private static let state = Mutex<Set<String>>([])
    private static let initialized: Bool = {
        xmlInitParser()
        // Resolve system ids through the loaded catalogs and never fetch anything over the network.
        // Documents never reach the loader at all (DOCTYPE is refused before any entity is declared);
        // this only serves schema compilation.
        // Embedded schema files (``XMLLibrary/embed(_:at:)``) are served from memory first.
        xmlSetExternalEntityLoader(embeddedOrNoNetLoader)
        return true
    }()

    private static let embedded = Mutex<[String: [UInt8]]>([:])

    /// Makes `bytes` the content of `url` for schema compilation: a schema that imports or
    /// includes `url`, or a ``SchemaSet`` compiled from it, reads these bytes and never a file. This
    /// is how a program carries its own schemas inside its binary. Use a URL of a scheme of your own
    /// (`timebok:schemas/command-v1.xsd`); registering the same URL again replaces its bytes.
    public static func embed(_ bytes: [UInt8], at url: String) {
        ensureInitialized()
        embedded.withLock { $0[url] = bytes }
    }

    /// The bytes embedded at `url`, if any.
    public static func embeddedContent(at url: String) -> [UInt8]? {
        embedded.withLock { $0[url] }
    }

    /// Initializes libxml2 once (`xmlInitParser`, the no-network entity loader).
    public static func ensureInitialized() {
        _ = initialized
    }

    /// Loads an OASIS XML catalog (once per path) so schema imports resolve to local files.
    static func loadCatalog(_ path: String) throws(XMLError) {
        ensureInitialized()
        let failed: Bool = state.withLock { loaded in
            if loaded.contains(path) { return false }
            if xmlLoadCatalog(path) != 0 { return true }
            loaded.insert(path)
            return false
        }
        if failed {
            throw XMLError(.schemaUnusable, "The XML catalog \(path) could not be loaded.")
        }
    }
}

/// libxml2's loader for external resources (schema imports and includes): embedded files from
/// memory, everything else through the no-network loader (which also consults the catalogs).
private func embeddedOrNoNetLoader(
    _ url: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?, _ context: xmlParserCtxtPtr?
) -> xmlParserInputPtr? {
    guard let url, let bytes = XMLLibrary.embeddedContent(at: String(cString: url)) else {
        return xmlNoNetExternalEntityLoader(url, id, context)
    }
    // The buffer copies the bytes, so they need not outlive this call.
    let buffer: xmlParserInputBufferPtr? = bytes.withUnsafeBufferPointer { raw in
        raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) {
            xmlParserInputBufferCreateMem($0, Int32(raw.count), XML_CHAR_ENCODING_NONE)
        }
    }
    guard let buffer else { return nil }
    guard let input = xmlNewIOInputStream(context, buffer, XML_CHAR_ENCODING_NONE) else {
        xmlFreeParserInputBuffer(buffer)
        return nil
    }
    // libxml2 frees `filename` with the input; it names the file in errors and resolves relative imports.
    input.pointee.filename = url.withMemoryRebound(to: xmlChar.self, capacity: 1) { UnsafePointer(xmlStrdup($0)) }
        .map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
    return input
}

/// Runs `body` with this thread's structured error handler set, then restores the previous one
/// (libxml2 keeps it per thread; a caller's handler must survive our calls).
func withStructuredErrors<T, E: Error>(
    _ context: UnsafeMutableRawPointer?, _ handler: xmlStructuredErrorFunc, _ body: () throws(E) -> T
) throws(E) -> T {
    let previousHandler = __xmlStructuredError().pointee
    let previousContext = __xmlStructuredErrorContext().pointee
    xmlSetStructuredErrorFunc(context, handler)
    defer { xmlSetStructuredErrorFunc(previousContext, previousHandler) }
    return try body()
}

/// Reads a libxml2 error into an ``XMLIssue``.
func makeIssue(_ error: UnsafePointer<xmlError>) -> XMLIssue {
    let raw = error.pointee.message.map { String(cString: $0) } ?? "unknown libxml2 error"
    let message = raw.trimmingWhitespace()
    let line = Int(error.pointee.line)
    let column = Int(error.pointee.int2)
    return XMLIssue(line: line > 0 ? line : nil, column: column > 0 ? column : nil, message: message)
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
