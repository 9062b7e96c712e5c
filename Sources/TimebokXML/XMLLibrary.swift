import CLibXML2
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
        xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader)
        return true
    }()

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

/// Runs `body` with this thread's structured error handler set, then restores the previous one
/// (libxml2 keeps it per thread; a caller's handler must survive our calls).
func withStructuredErrors<T, E: Error>(_ context: UnsafeMutableRawPointer?, _ handler: xmlStructuredErrorFunc, _ body: () throws(E) -> T) throws(E) -> T {
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
