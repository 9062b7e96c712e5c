internal import CLibXML2
import Foundation

/// A compiled XML Schema, compiled once and shared read-only; every validation uses its own
/// validation context, so one `SchemaSet` may validate on many tasks at once.
public final class SchemaSet: @unchecked Sendable {
    private let schema: xmlSchemaPtr
    /// What the set was compiled from (for messages).
    public let name: String

    /// Compiles the schema in `path` (imports resolve relative to it, and through `catalogs`).
    public convenience init(file path: String, catalogs: [String] = []) throws(XMLError) {
        try self.init(name: path, catalogs: catalogs) { xmlSchemaNewParserCtxt(path) }
    }

    /// Compiles one set from several schema files: each file with a target namespace is imported;
    /// a file without one (a driver such as the official `driver-all.xsd`) contributes its own imports.
    /// This is how timebok validates messages that carry its own payloads inside official envelopes:
    /// MsgHead's `RefDoc/Content` is a strict wildcard, so every payload namespace must be loaded.
    public convenience init(combining files: [String], catalogs: [String] = []) throws(XMLError) {
        var imports: [(namespace: String, location: String)] = []
        for file in files {
            imports += try Self.imports(contributedBy: file)
        }
        var seen = Set<String>()
        var source = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">"#
        for item in imports where seen.insert(item.namespace).inserted {
            source +=
                #"<xs:import namespace="\#(escapeAttribute(item.namespace))" schemaLocation="\#(escapeAttribute(item.location))"/>"#
        }
        source += "</xs:schema>"
        let bytes = Array(source.utf8)
        try self.init(name: files.joined(separator: " + "), catalogs: catalogs) {
            bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    xmlSchemaNewMemParserCtxt($0, Int32(buffer.count))
                }
            }
        }
    }

    private init(name: String, catalogs: [String], makeParser: () -> xmlSchemaParserCtxtPtr?) throws(XMLError) {
        XMLLibrary.ensureInitialized()
        for catalog in catalogs { try XMLLibrary.loadCatalog(catalog) }
        self.name = name
        guard let parser = makeParser() else {
            throw XMLError(.schemaUnusable, "The schema \(name) could not be opened.")
        }
        defer { xmlSchemaFreeParserCtxt(parser) }
        let collector = IssueCollector()
        let opaque = Unmanaged.passUnretained(collector).toOpaque()
        xmlSchemaSetParserStructuredErrors(parser, collectIssue, opaque)
        let compiled = withStructuredErrors(opaque, collectIssue) { xmlSchemaParse(parser) }
        guard let schema = compiled, collector.issues.isEmpty else {
            if let compiled { xmlSchemaFree(compiled) }
            throw XMLError(.schemaUnusable, "The schema \(name) could not be compiled.", issues: collector.issues)
        }
        self.schema = schema
    }

    deinit {
        xmlSchemaFree(schema)
    }

    /// Validates a document; returns every error with its line (empty when valid).
    public func validate(_ document: XDocument) -> [XMLIssue] {
        guard let context = xmlSchemaNewValidCtxt(schema) else {
            return [XMLIssue(message: "libxml2 could not create a validation context (out of memory)")]
        }
        defer { xmlSchemaFreeValidCtxt(context) }
        let collector = IssueCollector()
        let opaque = Unmanaged.passUnretained(collector).toOpaque()
        xmlSchemaSetValidStructuredErrors(context, collectIssue, opaque)
        let status = xmlSchemaValidateDoc(context, document.pointer)
        if status != 0 && collector.issues.isEmpty {
            collector.issues.append(XMLIssue(message: "validation failed (libxml2 status \(status))"))
        }
        return collector.issues
    }

    /// Validates and throws ``XMLError/Code/schemaInvalid`` with every issue when invalid.
    public func check(_ document: XDocument) throws(XMLError) {
        let issues = validate(document)
        if !issues.isEmpty {
            throw XMLError(.schemaInvalid, "The document does not validate against \(name).", issues: issues)
        }
    }

    /// `file` is a path, or a URL embedded with ``XMLLibrary/embed(_:at:)``.
    private static func imports(contributedBy file: String) throws(XMLError) -> [(namespace: String, location: String)]
    {
        if let bytes = XMLLibrary.embeddedContent(at: file) {
            let document = try HardenedXMLParser.parse(bytes, name: file)
            guard let root = document.root, root.isNamed(xsdNamespace, "schema"),
                let target = root.attribute("targetNamespace")
            else {
                throw XMLError(.schemaUnusable, "The embedded \(file) is not an XML Schema with a target namespace.")
            }
            return [(target, file)]
        }
        let url = URL(fileURLWithPath: file).standardizedFileURL
        guard let data = try? Data(contentsOf: url) else {
            throw XMLError(.schemaUnusable, "The schema file \(file) could not be read.")
        }
        let document = try HardenedXMLParser.parse(Array(data), name: file)
        guard let root = document.root, root.isNamed(xsdNamespace, "schema") else {
            throw XMLError(.schemaUnusable, "\(file) is not an XML Schema (its root is not xs:schema).")
        }
        if let target = root.attribute("targetNamespace") {
            return [(target, url.path)]
        }
        let directory = url.deletingLastPathComponent()
        return root.children(xsdNamespace, "import").compactMap { element in
            guard let namespace = element.attribute("namespace"), let location = element.attribute("schemaLocation")
            else { return nil }
            let resolved =
                location.hasPrefix("/") ? location : directory.appendingPathComponent(location).standardizedFileURL.path
            return (namespace, resolved)
        }
    }
}

let xsdNamespace = "http://www.w3.org/2001/XMLSchema"

func escapeAttribute(_ value: String) -> String {
    var out = ""
    for char in value {
        switch char {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case "\"": out += "&quot;"
        default: out.append(char)
        }
    }
    return out
}
