internal import CLibXML2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed XML document. Not `Sendable`: confine it to the task that parsed it.
/// Elements handed out keep the document alive.
public final class XDocument {
    let pointer: xmlDocPtr

    init(_ pointer: xmlDocPtr) {
        self.pointer = pointer
    }

    deinit {
        xmlFreeDoc(pointer)
    }

    /// The root element.
    public var root: XElement? {
        xmlDocGetRootElement(pointer).map { XElement($0, owner: self) }
    }

    /// The encoding named in the XML declaration, if any (e.g. `ISO-8859-1`).
    public var declaredEncoding: String? {
        pointer.pointee.encoding.map { String(cString: $0) }
    }

    /// Evaluates an XPath expression and returns the element nodes it selects.
    /// - Parameters:
    ///   - expression: XPath 1.0, using only the prefixes in `namespaces`.
    ///   - namespaces: prefix → namespace URI. Documents' own prefixes are never used.
    ///   - context: the context node (default: the root element).
    public func select(
        _ expression: String, namespaces: [String: String] = [:], from context: XElement? = nil
    ) throws(XMLError) -> [XElement] {
        try withXPath(expression, namespaces: namespaces, context: context) { result in
            guard result.pointee.type == XPATH_NODESET, let set = result.pointee.nodesetval else { return [] }
            var elements: [XElement] = []
            let count = Int(set.pointee.nodeNr)
            elements.reserveCapacity(count)
            for index in 0..<count {
                if let node = set.pointee.nodeTab[index], node.pointee.type == XML_ELEMENT_NODE {
                    elements.append(XElement(node, owner: self))
                }
            }
            return elements
        }
    }

    /// Evaluates an XPath expression and returns its string value (XPath `string()`).
    public func string(
        _ expression: String, namespaces: [String: String] = [:], from context: XElement? = nil
    ) throws(XMLError) -> String {
        try withXPath(expression, namespaces: namespaces, context: context) { result in
            guard let cString = xmlXPathCastToString(result) else { return "" }
            defer { timebok_xmlFree(cString) }
            return String(cString: cString)
        }
    }

    private func withXPath<T>(
        _ expression: String, namespaces: [String: String], context: XElement?, _ body: (xmlXPathObjectPtr) -> T
    ) throws(XMLError) -> T {
        guard let xpath = xmlXPathNewContext(pointer) else {
            throw XMLError(.xpathFailed, "Could not create an XPath context.")
        }
        defer { xmlXPathFreeContext(xpath) }
        for (prefix, uri) in namespaces where xmlXPathRegisterNs(xpath, prefix, uri) != 0 {
            throw XMLError(.xpathFailed, "Could not register the XPath namespace prefix \(prefix).")
        }
        xpath.pointee.node = context?.node ?? xmlDocGetRootElement(pointer)
        let collector = IssueCollector()
        let opaque = Unmanaged.passUnretained(collector).toOpaque()
        let evaluated = withStructuredErrors(opaque, collectIssue) { xmlXPathEvalExpression(expression, xpath) }
        guard let result = evaluated else {
            throw XMLError(
                .xpathFailed, "The XPath expression \(expression) could not be evaluated.", issues: collector.issues)
        }
        defer { xmlXPathFreeObject(result) }
        return body(result)
    }
}

/// An element of an ``XDocument``. Navigation selects by namespace URI and local name, never by prefix.
public struct XElement {
    let node: xmlNodePtr
    let owner: XDocument

    init(_ node: xmlNodePtr, owner: XDocument) {
        self.node = node
        self.owner = owner
    }

    /// The local name.
    /// True when both are the same element of the same document.
    public func isSameNode(as other: XElement) -> Bool { node == other.node }

    public var name: String { String(cString: node.pointee.name) }

    /// The namespace URI, or nil for no namespace.
    public var namespace: String? { node.pointee.ns?.pointee.href.map { String(cString: $0) } }

    /// The line where the element starts in the input.
    public var line: Int { Int(xmlGetLineNo(node)) }

    /// True when the element has this namespace URI and local name.
    public func isNamed(_ namespace: String?, _ localName: String) -> Bool {
        XElement.node(node, isNamed: namespace, localName)
    }

    /// Name comparison without creating C strings (decoding compares names constantly).
    static func node(_ node: xmlNodePtr, isNamed namespace: String?, _ localName: String) -> Bool {
        guard equal(node.pointee.name, localName) else { return false }
        guard let href = node.pointee.ns?.pointee.href else { return namespace == nil }
        guard let namespace else { return false }
        return equal(href, namespace)
    }

    /// The child elements, in document order.
    public var children: [XElement] {
        var result: [XElement] = []
        var cursor = node.pointee.children
        while let current = cursor {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(XElement(current, owner: owner)) }
            cursor = current.pointee.next
        }
        return result
    }

    /// The child elements with this namespace URI and local name.
    public func children(_ namespace: String?, _ localName: String) -> [XElement] {
        var result: [XElement] = []
        var cursor = node.pointee.children
        while let current = cursor {
            if current.pointee.type == XML_ELEMENT_NODE, XElement.node(current, isNamed: namespace, localName) {
                result.append(XElement(current, owner: owner))
            }
            cursor = current.pointee.next
        }
        return result
    }

    /// The first child element with this namespace URI and local name.
    public func child(_ namespace: String?, _ localName: String) -> XElement? {
        var cursor = node.pointee.children
        while let current = cursor {
            if current.pointee.type == XML_ELEMENT_NODE, XElement.node(current, isNamed: namespace, localName) {
                return XElement(current, owner: owner)
            }
            cursor = current.pointee.next
        }
        return nil
    }

    /// An attribute without namespace (`V`, `DN`, …).
    public func attribute(_ name: String) -> String? {
        var cursor = node.pointee.properties
        while let attribute = cursor {
            if attribute.pointee.ns == nil, XElement.equal(attribute.pointee.name, name) {
                // An attribute's value is a single text node unless it held entity references.
                if let text = attribute.pointee.children, text.pointee.next == nil, text.pointee.type == XML_TEXT_NODE,
                    let content = text.pointee.content
                {
                    return String(cString: content)
                }
                guard let value = xmlGetNoNsProp(node, name) else { return nil }
                defer { timebok_xmlFree(value) }
                return String(cString: value)
            }
            cursor = attribute.pointee.next
        }
        return nil
    }

    /// The text of the element and its descendants, concatenated (entities are never expanded:
    /// documents with entity declarations are refused at parse time).
    public var text: String {
        // Fast path: no child, or one text node (almost every element timebok reads).
        guard let first = node.pointee.children else { return "" }
        if first.pointee.next == nil, first.pointee.type == XML_TEXT_NODE, let content = first.pointee.content {
            return String(cString: content)
        }
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { timebok_xmlFree(content) }
        return String(cString: content)
    }

    /// Compares a NUL-terminated UTF-8 string with a Swift string without allocating.
    static func equal(_ cString: UnsafePointer<xmlChar>?, _ string: String) -> Bool {
        guard let cString else { return false }
        if let result = string.utf8.withContiguousStorageIfAvailable({ buffer -> Bool in
            guard let base = buffer.baseAddress else { return cString.pointee == 0 }
            // strncmp stops at the C string's NUL, so it never reads past a shorter name.
            return strncmp(
                UnsafeRawPointer(cString).assumingMemoryBound(to: CChar.self),
                UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), buffer.count) == 0
                && cString[buffer.count] == 0
        }) {
            return result
        }
        var cursor = cString
        for byte in string.utf8 {
            guard cursor.pointee == byte else { return false }
            cursor += 1
        }
        return cursor.pointee == 0
    }

    /// The element's path of local names from the root, e.g. `/MsgHead/MsgInfo/MsgId` (for messages).
    public var path: String {
        var names: [String] = []
        var cursor: xmlNodePtr? = node
        while let current = cursor, current.pointee.type == XML_ELEMENT_NODE {
            names.append(String(cString: current.pointee.name))
            cursor = current.pointee.parent
        }
        return "/" + names.reversed().joined(separator: "/")
    }

    /// XPath evaluated with this element as the context node.
    public func select(_ expression: String, namespaces: [String: String] = [:]) throws(XMLError) -> [XElement] {
        try owner.select(expression, namespaces: namespaces, from: self)
    }
}

/// Collects libxml2 errors reported through a structured error handler.
final class IssueCollector {
    var issues: [XMLIssue] = []
    var warnings: [XMLIssue] = []
}

let collectIssue: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    let collector = Unmanaged<IssueCollector>.fromOpaque(context).takeUnretainedValue()
    if error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue {
        if collector.issues.count < 500 { collector.issues.append(makeIssue(error)) }
    } else if collector.warnings.count < 100 {
        collector.warnings.append(makeIssue(error))
    }
}
