import CLibXML2

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
    ///   - context: the context node (default: the document).
    public func select(_ expression: String, namespaces: [String: String] = [:], from context: XElement? = nil) throws(XMLError) -> [XElement] {
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
    public func string(_ expression: String, namespaces: [String: String] = [:], from context: XElement? = nil) throws(XMLError) -> String {
        try withXPath(expression, namespaces: namespaces, context: context) { result in
            guard let cString = xmlXPathCastToString(result) else { return "" }
            defer { timebok_xmlFree(cString) }
            return String(cString: cString)
        }
    }

    private func withXPath<T>(_ expression: String, namespaces: [String: String], context: XElement?, _ body: (xmlXPathObjectPtr) -> T) throws(XMLError) -> T {
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
        xmlSetStructuredErrorFunc(opaque, collectIssue)
        defer { xmlSetStructuredErrorFunc(nil, nil) }
        guard let result = xmlXPathEvalExpression(expression, xpath) else {
            throw XMLError(.xpathFailed, "The XPath expression \(expression) could not be evaluated.", issues: collector.issues)
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
    public var name: String { String(cString: node.pointee.name) }

    /// The namespace URI, or nil for no namespace.
    public var namespace: String? { node.pointee.ns?.pointee.href.map { String(cString: $0) } }

    /// The line where the element starts in the input.
    public var line: Int { Int(xmlGetLineNo(node)) }

    /// True when the element has this namespace URI and local name.
    public func isNamed(_ namespace: String?, _ localName: String) -> Bool {
        guard xmlStrEqual(node.pointee.name, localName) != 0 else { return false }
        guard let href = node.pointee.ns?.pointee.href else { return namespace == nil }
        guard let namespace else { return false }
        return xmlStrEqual(href, namespace) != 0
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
        children.filter { $0.isNamed(namespace, localName) }
    }

    /// The first child element with this namespace URI and local name.
    public func child(_ namespace: String?, _ localName: String) -> XElement? {
        var cursor = node.pointee.children
        while let current = cursor {
            if current.pointee.type == XML_ELEMENT_NODE {
                let element = XElement(current, owner: owner)
                if element.isNamed(namespace, localName) { return element }
            }
            cursor = current.pointee.next
        }
        return nil
    }

    /// An attribute without namespace (`V`, `DN`, …).
    public func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { timebok_xmlFree(value) }
        return String(cString: value)
    }

    /// The text of the element and its descendants, concatenated (entities are never expanded:
    /// documents with entity declarations are refused at parse time).
    public var text: String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { timebok_xmlFree(content) }
        return String(cString: content)
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
