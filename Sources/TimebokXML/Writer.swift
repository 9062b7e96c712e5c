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
    public mutating func element(
        _ name: String, attributes: KeyValuePairs<String, String?> = [:], _ body: (inout XMLWriter) -> Void
    ) {
        openTag(name, attributes)
        append(">")
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
        var string = string
        string.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func appendEscaped(_ string: String, inAttribute: Bool) {
        for scalar in string.unicodeScalars {
            let value = scalar.value
            if value >= 0x80 {
                // XML 1.0 forbids U+FFFE and U+FFFF; replace rather than write an unreadable document.
                if value == 0xFFFE || value == 0xFFFF {
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                } else {
                    UTF8.encode(scalar) { bytes.append($0) }
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
        }
    }
}
