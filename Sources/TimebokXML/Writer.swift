import Synchronization

/// Builds an XML document as UTF-8 bytes, indented for people who read archives.
///
/// Element-only content is indented; an element with text is written on one line, so text
/// content is byte-exact. Names and namespace declarations are the caller's: the writer escapes
/// text and attribute values and checks that characters are allowed in XML 1.0.
///
/// With `canonical: true` it also writes the document's exclusive canonical form (Exclusive XML
/// Canonicalization 1.0, without comments: what an enveloped XML Signature digests) as it goes, so
/// a signer need not parse the document again: no XML declaration, every element as a start and an
/// end tag, namespace declarations only where a name visibly uses them and no output ancestor has
/// rendered them (default first, then by prefix), attributes sorted by namespace and name, and the
/// canonical escapes.
///
/// ```swift
/// var writer = XMLWriter()
/// writer.element("MsgHead", attributes: [("xmlns", msgHeadNamespace)]) { w in
///     w.element("MsgInfo") { w in
///         w.element("MsgId", text: id)
///     }
/// }
/// let bytes = writer.finish()
/// ```
public struct XMLWriter: Sendable {
    private var bytes: [UInt8]
    private var depth = 0
    private let indent: Bool
    /// Above zero while an element is written on one line (``lineElement(_:attributes:_:)``).
    private var inline = 0
    /// The exclusive canonical form, when asked for.
    private var canonical: [UInt8]?
    /// Per open element, for the canonical form: the namespaces in scope and those rendered.
    private var scopes: [Scope] = []

    private struct Scope: Sendable {
        /// The default namespace in scope ("" when none) and as the closest output ancestor
        /// rendered it ("" when none did): kept per element, as nearly every element needs them.
        var defaultNamespace: String
        var renderedDefault: String
        /// Prefixed namespaces this element declares, and those its start tag rendered (rare).
        var declared: [(prefix: String, uri: String)] = []
        var rendered: [(prefix: String, uri: String)] = []
    }

    /// Starts a document with `<?xml version="1.0" encoding="UTF-8"?>`. `canonical`: also write its
    /// exclusive canonical form (``finishWithCanonicalForm()``).
    public init(indent: Bool = true, capacity: Int = 4096, canonical: Bool = false) {
        self.indent = indent
        bytes = []
        bytes.reserveCapacity(capacity)
        if canonical {
            self.canonical = []
            self.canonical?.reserveCapacity(capacity)
        }
        append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
    }

    /// An element with child elements written by `body`.
    public mutating func element(
        _ name: String, attributes: KeyValuePairs<String, String?> = [:], _ body: (inout XMLWriter) -> Void
    ) {
        openTag(name, attributes)
        append(">")
        canonicalAppend(">")
        depth += 1
        let mark = bytes.count
        body(&self)
        depth -= 1
        if bytes.count == mark {
            bytes.removeLast()  // ">" → "/>"
            append("/>")
        } else {
            newline()
            append("</\(name)>")
        }
        closeTag(name)
    }

    /// An element written on one line, its children included, where an indented element would
    /// start: for the many small, alike elements of a long list (the vevents of a free-slot answer),
    /// where indenting every child would double the document and all that hashes and stores it.
    public mutating func lineElement(
        _ name: String, attributes: KeyValuePairs<String, String?> = [:], _ body: (inout XMLWriter) -> Void
    ) {
        newline()
        inline += 1
        element(name, attributes: attributes, body)
        inline -= 1
    }

    /// An element with text content (or empty when `text` is nil or empty).
    public mutating func element(_ name: String, attributes: KeyValuePairs<String, String?> = [:], text: String?) {
        openTag(name, attributes)
        canonicalAppend(">")
        if let text, !text.isEmpty {
            append(">")
            appendEscaped(text, inAttribute: false)
            append("</\(name)>")
        } else {
            append("/>")
        }
        closeTag(name)
    }

    /// An element only when `text` is non-nil (optional fields).
    public mutating func optionalElement(
        _ name: String, attributes: KeyValuePairs<String, String?> = [:], text: String?
    ) {
        if let text { element(name, attributes: attributes, text: text) }
    }

    /// The finished document.
    public func finish() -> [UInt8] {
        var result = bytes
        result.append(0x0A)
        return result
    }

    /// The finished document and its exclusive canonical form (empty unless the writer was made
    /// with `canonical: true`).
    public func finishWithCanonicalForm() -> (document: [UInt8], canonical: [UInt8]) {
        (finish(), canonical ?? [])
    }

    private mutating func openTag(_ name: String, _ attributes: KeyValuePairs<String, String?>) {
        newline()
        append("<")
        append(name)
        for (key, value) in attributes {
            guard let value else { continue }
            append(" ")
            append(key)
            append("=\"")
            // The canonical start tag is written apart (its attributes sorted).
            appendEscaped(value, inAttribute: true, canonicalToo: false)
            append("\"")
        }
        if canonical != nil { canonicalStartTag(name, attributes) }
    }

    private mutating func closeTag(_ name: String) {
        guard canonical != nil else { return }
        canonicalAppend("</")
        canonicalAppend(name)
        canonicalAppend(">")
        scopes.removeLast()
    }

    private mutating func newline() {
        guard indent, inline == 0 else { return }
        bytes.append(0x0A)
        for _ in 0..<depth { bytes.append(0x20); bytes.append(0x20) }
        // Whitespace outside the document element is not part of the canonical form.
        guard canonical != nil, !scopes.isEmpty else { return }
        canonical?.append(0x0A)
        for _ in 0..<depth { canonical?.append(0x20); canonical?.append(0x20) }
    }

    private mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// True when `string` needs no escape and no replacement, in the document or its canonical form.
    private static func isPlain(_ string: String) -> Bool {
        string.utf8.allSatisfy { byte in
            byte >= 0x20 && byte < 0x80 && byte != 0x26 && byte != 0x3C && byte != 0x3E && byte != 0x22
        }
    }

    private mutating func appendEscaped(_ string: String, inAttribute: Bool, canonicalToo: Bool = true) {
        let canonicalToo = canonicalToo && canonical != nil
        if Self.isPlain(string) {
            var string = string
            string.withUTF8 { utf8 in
                bytes.append(contentsOf: utf8)
                if canonicalToo { canonical?.append(contentsOf: utf8) }
            }
            return
        }
        for scalar in string.unicodeScalars {
            let value = scalar.value
            if value >= 0x80 {
                // XML 1.0 forbids U+FFFE and U+FFFF; replace rather than write an unreadable document.
                if value == 0xFFFE || value == 0xFFFF {
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    if canonicalToo { canonical?.append(contentsOf: [0xEF, 0xBF, 0xBD]) }
                } else {
                    UTF8.encode(scalar) { bytes.append($0) }
                    if canonicalToo { UTF8.encode(scalar) { canonical?.append($0) } }
                }
                continue
            }
            switch value {
            case 0x26: append("&amp;")
            case 0x3C: append("&lt;")
            case 0x3E: append("&gt;")
            case 0x22 where inAttribute: append("&quot;")
            case 0x0A where inAttribute: append("&#10;")
            case 0x09 where inAttribute: append("&#9;")
            case 0x0D: append("&#13;")
            case 0x09, 0x0A, 0x20...: bytes.append(UInt8(value))
            default: bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // other C0 controls are not XML
            }
            if canonicalToo { Self.canonicalEscape(UInt8(value), inAttribute: inAttribute, into: &canonical!) }
        }
    }

    /// One ASCII character in canonical form (C14N 1.0 §2.3): text escapes & < > and CR; attribute
    /// values escape & < " and TAB, LF, CR, and leave > as it is. Other C0 controls are replaced,
    /// as in the document.
    private static func canonicalEscape(_ value: UInt8, inAttribute: Bool, into out: inout [UInt8]) {
        switch value {
        case 0x26: out.append(contentsOf: Array("&amp;".utf8))
        case 0x3C: out.append(contentsOf: Array("&lt;".utf8))
        case 0x3E where !inAttribute: out.append(contentsOf: Array("&gt;".utf8))
        case 0x22 where inAttribute: out.append(contentsOf: Array("&quot;".utf8))
        case 0x0A where inAttribute: out.append(contentsOf: Array("&#xA;".utf8))
        case 0x09 where inAttribute: out.append(contentsOf: Array("&#x9;".utf8))
        case 0x0D: out.append(contentsOf: Array("&#xD;".utf8))
        case 0x09, 0x0A, 0x20...: out.append(value)
        default: out.append(contentsOf: [0xEF, 0xBF, 0xBD])
        }
    }

    // MARK: The exclusive canonical form

    private mutating func canonicalAppend(_ string: String) {
        guard canonical != nil else { return }
        var string = string
        string.withUTF8 { canonical?.append(contentsOf: $0) }
    }

    /// The prefixed namespace `prefix` is bound to here (nil when undeclared).
    private func binding(of prefix: String) -> String? {
        for scope in scopes.reversed() {
            if let found = scope.declared.last(where: { $0.prefix == prefix }) { return found.uri }
        }
        return nil
    }

    /// What the closest output ancestors rendered for the prefixed namespace `prefix`.
    private func rendered(_ prefix: String) -> String? {
        for scope in scopes.reversed() {
            if let found = scope.rendered.last(where: { $0.prefix == prefix }) { return found.uri }
        }
        return nil
    }

    /// The part of a qualified name before its colon ("" when it has none).
    private static func prefix(of qualified: String) -> String {
        guard let colon = qualified.utf8.firstIndex(of: UInt8(ascii: ":")) else { return "" }
        return String(qualified[..<colon])
    }

    private mutating func canonicalStartTag(_ name: String, _ attributes: KeyValuePairs<String, String?>) {
        var scope = Scope(
            defaultNamespace: scopes.last?.defaultNamespace ?? "", renderedDefault: scopes.last?.renderedDefault ?? "")
        var plain: [(uri: String, local: String, name: String, value: String)] = []
        for (key, value) in attributes {
            guard let value else { continue }
            if key == "xmlns" {
                scope.defaultNamespace = value
            } else if key.hasPrefix("xmlns:") {
                scope.declared.append((String(key.dropFirst(6)), value))
            } else {
                plain.append(("", key, key, value))
            }
        }
        scopes.append(scope)
        let elementPrefix = Self.prefix(of: name)
        // What this start tag visibly uses: its own prefix (or the default namespace) and those of
        // its attributes (an unprefixed attribute is in no namespace; xml: is never declared).
        var usedPrefixes: [String] = elementPrefix.isEmpty ? [] : [elementPrefix]
        for index in plain.indices {
            let attributePrefix = Self.prefix(of: plain[index].name)
            guard !attributePrefix.isEmpty else { continue }
            plain[index].local = String(plain[index].name.dropFirst(attributePrefix.count + 1))
            plain[index].uri =
                attributePrefix == "xml" ? "http://www.w3.org/XML/1998/namespace" : binding(of: attributePrefix) ?? ""
            if attributePrefix != "xml", !usedPrefixes.contains(attributePrefix) {
                usedPrefixes.append(attributePrefix)
            }
        }
        canonicalAppend("<")
        canonicalAppend(name)
        // The default namespace first (an element without a prefix uses it), then by prefix.
        if elementPrefix.isEmpty, scope.defaultNamespace != scope.renderedDefault {
            canonicalAppend(" xmlns=\"")
            canonicalAttributeValue(scope.defaultNamespace)
            canonicalAppend("\"")
            scopes[scopes.count - 1].renderedDefault = scope.defaultNamespace
        }
        if !usedPrefixes.isEmpty {
            var renders: [(prefix: String, uri: String)] = []
            for used in usedPrefixes.sorted() {
                let uri = binding(of: used) ?? ""
                if uri != rendered(used) ?? "" { renders.append((used, uri)) }
            }
            for (prefix, uri) in renders {
                canonicalAppend(" xmlns:")
                canonicalAppend(prefix)
                canonicalAppend("=\"")
                canonicalAttributeValue(uri)
                canonicalAppend("\"")
            }
            scopes[scopes.count - 1].rendered = renders
        }
        if plain.count > 1 { plain.sort { ($0.uri, $0.local) < ($1.uri, $1.local) } }
        for attribute in plain {
            canonicalAppend(" ")
            canonicalAppend(attribute.name)
            canonicalAppend("=\"")
            canonicalAttributeValue(attribute.value)
            canonicalAppend("\"")
        }
    }

    /// An attribute value in canonical form only (the document's own bytes are written apart).
    private mutating func canonicalAttributeValue(_ value: String) {
        guard canonical != nil else { return }
        if Self.isPlain(value) { return canonicalAppend(value) }
        for scalar in value.unicodeScalars {
            if scalar.value >= 0x80 {
                if scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    canonical!.append(contentsOf: [0xEF, 0xBF, 0xBD])
                } else {
                    UTF8.encode(scalar) { canonical!.append($0) }
                }
            } else {
                Self.canonicalEscape(UInt8(scalar.value), inAttribute: true, into: &canonical!)
            }
        }
    }

    // MARK: Fragments written once

    /// Writes what `body` writes, or, when `cache` holds what a writer in the same place wrote for
    /// the same `key`, those bytes (and their canonical form) again without running `body`.
    ///
    /// "The same place" is the depth, the indentation (and whether it is on one line), whether a canonical form is written, and the
    /// namespaces in scope and rendered there: what decides the fragment's bytes besides `body`
    /// itself. `body` must write complete elements and depend on nothing but `key`.
    public mutating func fragment<Key: Hashable & Sendable>(
        _ key: Key, cache: XMLFragmentCache<Key>, _ body: (inout XMLWriter) -> Void
    ) {
        let place = FragmentPlace(
            depth: depth, indent: indent && inline == 0, canonical: canonical != nil,
            defaultNamespace: scopes.last?.defaultNamespace ?? "", renderedDefault: scopes.last?.renderedDefault ?? "",
            prefixes: scopes.flatMap { scope in
                scope.declared.map { "d\($0.prefix)=\($0.uri)" } + scope.rendered.map { "r\($0.prefix)=\($0.uri)" }
            })
        if let written = cache.lookup(key, at: place) {
            bytes.append(contentsOf: written.document)
            canonical?.append(contentsOf: written.canonical)
            return
        }
        let mark = bytes.count
        let canonicalMark = canonical?.count ?? 0
        let openScopes = scopes.count
        body(&self)
        precondition(depth == place.depth && scopes.count == openScopes, "a fragment must write whole elements")
        cache.store(
            key, at: place,
            XMLFragmentCache<Key>.Written(
                document: Array(bytes[mark...]), canonical: canonical.map { Array($0[canonicalMark...]) } ?? []))
    }
}

/// Where a fragment is written: what decides its bytes besides its content (``XMLWriter/fragment(_:cache:_:)``).
struct FragmentPlace: Hashable, Sendable {
    var depth: Int
    var indent: Bool
    var canonical: Bool
    var defaultNamespace: String
    var renderedDefault: String
    var prefixes: [String]
}

/// Fragments an ``XMLWriter`` wrote, by content and place, for writers on any thread: the answers
/// that list the same free slots to many citizens are encoded once. It holds at most `capacity`
/// fragments and forgets them all when full (what is asked for again is written again).
public final class XMLFragmentCache<Key: Hashable & Sendable>: Sendable {
    struct Written: Sendable {
        var document: [UInt8]
        var canonical: [UInt8]
    }

    private struct Entry: Hashable, Sendable {
        var key: Key
        var place: FragmentPlace
    }

    private let entries = Mutex<[Entry: Written]>([:])
    private let capacity: Int

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    /// The number of fragments held.
    public var count: Int { entries.withLock { $0.count } }

    func lookup(_ key: Key, at place: FragmentPlace) -> Written? {
        entries.withLock { $0[Entry(key: key, place: place)] }
    }

    func store(_ key: Key, at place: FragmentPlace, _ written: Written) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[Entry(key: key, place: place)] = written
        }
    }
}
