/// Builds an XML document as UTF-8 bytes, indented for people who read archives.
///
/// Element-only content is indented; an element with text is written on one line, so text
/// content is byte-exact. Names and namespace declarations are the caller's: the writer escapes
/// text and attribute values and checks that characters are allowed in XML 1.0.
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

    /// Starts a document with `<?xml version="1.0" encoding="UTF-8"?>`.
    public init(indent: Bool = true, capacity: Int = 4096) {
        self.indent = indent
        bytes = []
        bytes.reserveCapacity(capacity)
        append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
    }

    /// An element with child elements written by `body`.
    public mutating func element(_ name: String, attributes: KeyValuePairs<String, String?> = [:], _ body: (inout XMLWriter) -> Void) {
        openTag(name, attributes)
        append(">")
        depth += 1
        let mark = bytes.count
        body(&self)
        depth -= 1
        if bytes.count == mark {
            bytes.removeLast() // ">" → "/>"
            append("/>")
        } else {
            newline()
            append("</\(name)>")
        }
    }

    /// An element with text content (or empty when `text` is nil or empty).
    public mutating func element(_ name: String, attributes: KeyValuePairs<String, String?> = [:], text: String?) {
        openTag(name, attributes)
        if let text, !text.isEmpty {
            append(">")
            appendEscaped(text, inAttribute: false)
            append("</\(name)>")
        } else {
            append("/>")
        }
    }

    /// An element only when `text` is non-nil (optional fields).
    public mutating func optionalElement(_ name: String, attributes: KeyValuePairs<String, String?> = [:], text: String?) {
        if let text { element(name, attributes: attributes, text: text) }
    }

    /// The finished document.
    public func finish() -> [UInt8] {
        var result = bytes
        result.append(0x0A)
        return result
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
            appendEscaped(value, inAttribute: true)
            append("\"")
        }
    }

    private mutating func newline() {
        guard indent else { return }
        bytes.append(0x0A)
        for _ in 0..<depth { bytes.append(0x20); bytes.append(0x20) }
    }

    private mutating func append(_ string: String) {
        bytes.append(contentsOf: string.utf8)
    }

    private mutating func appendEscaped(_ string: String, inAttribute: Bool) {
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": append("&amp;")
            case "<": append("&lt;")
            case ">": append("&gt;")
            case "\"" where inAttribute: append("&quot;")
            case "\n" where inAttribute: append("&#10;")
            case "\t" where inAttribute: append("&#9;")
            case "\r": append("&#13;")
            default:
                // XML 1.0 forbids most C0 controls and U+FFFE/U+FFFF; replace rather than write an
                // unreadable document.
                let value = scalar.value
                let allowed = value == 0x9 || value == 0xA || (value >= 0x20 && value != 0xFFFE && value != 0xFFFF)
                bytes.append(contentsOf: String(allowed ? scalar : "\u{FFFD}").utf8)
            }
        }
    }
}
