import Foundation
import Testing
import TimebokTestKit

@testable import TimebokXML

@Suite struct Writer {
    @Test func escapesTextAndAttributesAndRoundTrips() throws {
        var writer = XMLWriter()
        let tricky = "a < b & c > d \"quoted\" 'single' æøå 😀\ttab\nnewline"
        writer.element("r", attributes: ["xmlns": "urn:test", "v": tricky, "absent": nil]) { w in
            w.element("t", text: tricky)
            w.element("empty", text: "")
            w.optionalElement("skipped", text: nil)
            w.element("nested") { w in w.element("leaf", attributes: ["V": "1"], text: nil) }
            w.element("hollow") { _ in }
        }
        let bytes = writer.finish()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"#))
        #expect(!text.contains("absent="))
        #expect(!text.contains("skipped"))
        #expect(text.contains("<hollow/>"))
        #expect(text.contains("<empty/>"))
        let doc = try HardenedXMLParser.parse(bytes)
        let root = try #require(doc.root)
        #expect(
            root.attribute("v") == tricky, "attribute values keep tabs and newlines (escaped as character references)")
        #expect(root.child("urn:test", "t")?.text == tricky)
        #expect(root.child("urn:test", "nested")?.child("urn:test", "leaf")?.attribute("V") == "1")
    }

    @Test func characterThatXMLCannotCarryIsReplacedNotWritten() throws {
        var writer = XMLWriter()
        writer.element("r", text: "bell\u{07}nul\u{0}fffe\u{FFFE}")
        let doc = try HardenedXMLParser.parse(writer.finish())
        #expect(doc.root?.text == "bell\u{FFFD}nul\u{FFFD}fffe\u{FFFD}")
    }
}

@Suite struct Schemas {
    static let xsd = """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" elementFormDefault="qualified">
          <xs:element name="r">
            <xs:complexType><xs:sequence>
              <xs:element name="n" type="xs:positiveInteger" maxOccurs="unbounded"/>
            </xs:sequence></xs:complexType>
          </xs:element>
        </xs:schema>
        """

    func withSchemaFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString).xsd").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func reportsEveryErrorWithItsLine() throws {
        try withSchemaFile(Self.xsd) { path in
            let set = try SchemaSet(file: path)
            let valid = try HardenedXMLParser.parse(string: #"<r xmlns="urn:t"><n>1</n></r>"#)
            #expect(set.validate(valid).isEmpty)
            let invalid = try HardenedXMLParser.parse(string: "<r xmlns=\"urn:t\">\n<n>0</n>\n<n>x</n>\n<m/>\n</r>")
            let issues = set.validate(invalid)
            #expect(issues.map(\.line) == [2, 3, 4])
            #expect(issues[0].message.contains("positiveInteger") || issues[0].message.contains("'0'"))
            #expect(throws: XMLError.self) { try set.check(invalid) }
        }
    }

    @Test func combiningImportsNamespacedFilesAndDriverImports() throws {
        try withSchemaFile(Self.xsd) { ours in
            let set = try SchemaSet(combining: [ours])
            #expect(set.validate(try HardenedXMLParser.parse(string: #"<r xmlns="urn:t"><n>7</n></r>"#)).isEmpty)
            #expect(!set.validate(try HardenedXMLParser.parse(string: #"<r xmlns="urn:other"><n>7</n></r>"#)).isEmpty)
        }
    }

    @Test func aBrokenSchemaIsAClearError() throws {
        try withSchemaFile(
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"r\" type=\"nosuch\"/></xs:schema>"
        ) { path in
            do {
                _ = try SchemaSet(file: path)
                Issue.record("a schema referring to an unknown type compiled")
            } catch let error as XMLError {
                #expect(error.code == .schemaUnusable)
                #expect(!error.issues.isEmpty)
            }
        }
        #expect(throws: XMLError.self) { _ = try SchemaSet(file: "/nonexistent/x.xsd") }
    }
}

/// The writer's own exclusive canonical form (what a signer digests without parsing again) is
/// libxml2's, also for the awkward cases: declarations used only deep down, undeclared defaults,
/// prefixed and xml: attributes, attributes out of order, every character that is escaped.
@Suite struct WriterCanonicalForm {
    static func both(indent: Bool = true, _ body: (inout XMLWriter) -> Void) throws -> (writer: String, libxml2: String)
    {
        var writer = XMLWriter(indent: indent, canonical: true)
        body(&writer)
        let (document, canonical) = writer.finishWithCanonicalForm()
        let libxml2 = try HardenedXMLParser.parse(document).exclusiveCanonicalForm()
        return (String(decoding: canonical, as: UTF8.self), String(decoding: libxml2, as: UTF8.self))
    }

    @Test(arguments: [true, false])
    func namespacesAttributesAndEscapesAreAsLibxml2HasThem(indent: Bool) throws {
        let (writer, libxml2) = try Self.both(indent: indent) { w in
            w.element(
                "MsgHead",
                attributes: [
                    "xmlns": "urn:msghead", "xmlns:fk1": "urn:fk1", "xmlns:xsi": "urn:xsi", "zeta": "1", "alpha": "2",
                ]
            ) { w in
                w.element("Empty", attributes: ["V": "a", "DN": "b", "S": "c"], text: nil)
                w.element("Text", text: "a & b < c > d \" e ' f \r g \t h\ni æøå \u{FFFE} \u{1}")
                w.element("Attr", attributes: ["v": "a & b < c > d \" e ' f \r g \t h\ni"], text: "x")
                w.element("Dialog", attributes: ["xmlns": "urn:dialog"]) { w in
                    w.element("fk1:Person", attributes: ["xsi:type": "fk1:T", "plain": "p"]) { w in
                        w.element("fk1:Name", text: "N")
                        w.element("Inner", text: "default again")
                    }
                    w.element("Other", attributes: ["xml:lang": "nb"], text: "o")
                }
                w.element("Nothing", attributes: ["xmlns": ""]) { w in
                    w.element("Deeper", text: "no namespace")
                    w.element("Again", attributes: ["xmlns": "urn:msghead"], text: "back")
                }
                w.element("Body") { _ in }
            }
        }
        #expect(writer == libxml2)
        #expect(
            writer.hasPrefix(#"<MsgHead xmlns="urn:msghead" alpha="2" zeta="1">"#),
            "xmlns:fk1 and xmlns:xsi wait until used")
        #expect(writer.contains(#"<fk1:Person xmlns:fk1="urn:fk1" xmlns:xsi="urn:xsi" plain="p" xsi:type="fk1:T">"#))
    }
}

/// An element on one line (the vevents of a long free-slot list): its subtree has no whitespace,
/// what follows it is indented again, and the canonical form is still libxml2's.
@Suite struct WriterLineElements {
    static func document(cache: XMLFragmentCache<String>? = nil) -> (document: [UInt8], canonical: [UInt8]) {
        var w = XMLWriter(canonical: true)
        func item(_ w: inout XMLWriter) {
            let body: (inout XMLWriter) -> Void = { w in
                w.element("Item") { w in w.element("Text", text: "a & b") }
            }
            if let cache { w.fragment("item", cache: cache, body) } else { body(&w) }
        }
        w.element("List", attributes: ["xmlns": "urn:l"]) { w in
            w.lineElement("Entry", attributes: ["n": "1"]) { w in
                item(&w)
                w.element("Empty") { _ in }
            }
            w.element("Group") { w in item(&w) }
        }
        return w.finishWithCanonicalForm()
    }

    @Test func aLineElementHasNoWhitespaceInsideAndTheRestIsIndented() throws {
        let (document, canonical) = Self.document()
        let text = String(decoding: document, as: UTF8.self)
        #expect(
            text == """
                <?xml version="1.0" encoding="UTF-8"?>
                <List xmlns="urn:l">
                  <Entry n="1"><Item><Text>a &amp; b</Text></Item><Empty/></Entry>
                  <Group>
                    <Item>
                      <Text>a &amp; b</Text>
                    </Item>
                  </Group>
                </List>

                """)
        let libxml2 = try HardenedXMLParser.parse(document).exclusiveCanonicalForm()
        #expect(String(decoding: canonical, as: UTF8.self) == String(decoding: libxml2, as: UTF8.self))
    }

    @Test func aFragmentWrittenOnALineIsNotReusedWhereItIsIndented() {
        let cache = XMLFragmentCache<String>()
        let cached = Self.document(cache: cache)
        #expect(cache.count == 2, "the same depth and namespaces, once on a line and once indented: two places")
        #expect(cached.document == Self.document().document)
        #expect(cached.canonical == Self.document().canonical)
    }
}

@Suite struct WriterFragments {
    /// A document with the same fragment at two places: inside `<Outer xmlns="urn:o">` at depth 2,
    /// and in the root's scope at depth 1.
    static func document(
        cache: XMLFragmentCache<String>?, indent: Bool, canonical: Bool
    ) -> (
        document: [UInt8], canonical: [UInt8]
    ) {
        var w = XMLWriter(indent: indent, canonical: canonical)
        func fragment(_ w: inout XMLWriter) {
            let body: (inout XMLWriter) -> Void = { w in
                w.element("Frag") { w in
                    w.element("Item", attributes: ["b": "2", "a": "1 & 2"], text: "æ < ø")
                    w.element("fk:Used", attributes: ["xmlns:fk": "urn:fk"], text: nil)
                }
            }
            if let cache { w.fragment("frag", cache: cache, body) } else { body(&w) }
        }
        w.element("Root", attributes: ["xmlns": "urn:r"]) { w in
            w.element("Outer", attributes: ["xmlns": "urn:o"]) { w in fragment(&w) }
            fragment(&w)
            w.element("Second", attributes: ["xmlns": "urn:o"]) { w in fragment(&w) }
        }
        return w.finishWithCanonicalForm()
    }

    @Test(arguments: [true, false], [true, false])
    func aFragmentWrittenAgainIsByteIdenticalAndOnlyReusedInTheSamePlace(indent: Bool, canonical: Bool) throws {
        let plain = Self.document(cache: nil, indent: indent, canonical: canonical)
        let cache = XMLFragmentCache<String>()
        let first = Self.document(cache: cache, indent: indent, canonical: canonical)
        // Two places (depth and namespace in scope differ): two fragments; the third use is a hit.
        #expect(cache.count == 2)
        let second = Self.document(cache: cache, indent: indent, canonical: canonical)
        #expect(cache.count == 2)
        #expect(first.document == plain.document)
        #expect(second.document == plain.document)
        #expect(first.canonical == plain.canonical)
        #expect(second.canonical == plain.canonical)
        if canonical {
            let libxml2 = try HardenedXMLParser.parse(second.document).exclusiveCanonicalForm()
            #expect(String(decoding: second.canonical, as: UTF8.self) == String(decoding: libxml2, as: UTF8.self))
        } else {
            #expect(second.canonical.isEmpty)
        }
    }

    @Test func aFullCacheForgetsAndWritesAgain() {
        let cache = XMLFragmentCache<Int>(capacity: 2)
        var calls = 0
        for key in [1, 2, 1, 3, 1] {
            var w = XMLWriter()
            w.element("Root") { w in
                w.fragment(key, cache: cache) { w in
                    calls += 1
                    w.element("K", text: "\(key)")
                }
            }
            #expect(String(decoding: w.finish(), as: UTF8.self).contains("<K>\(key)</K>"))
        }
        // 1 and 2 written, 1 reused; 3 fills the cache (forgotten: 1, 2), so 1 is written again.
        #expect(calls == 4)
        #expect(cache.count == 2)
    }
}

@Suite struct Canonicalization {
    @Test func exclusiveC14NOfAKnownDocument() throws {
        let doc = try HardenedXMLParser.parse(
            string: """
                <?xml version="1.0" encoding="UTF-8"?>
                <a:root xmlns:a="urn:a" xmlns:unused="urn:unused" z="2" b='1'><!-- comment --><a:child   attr="x&amp;y"/><b:x xmlns:b="urn:b">t&lt;</b:x></a:root>
                """)
        let canonical = String(decoding: try doc.exclusiveCanonicalForm(), as: UTF8.self)
        // Exclusive C14N: unused namespace dropped, attributes sorted, empty elements expanded, no comments.
        #expect(
            canonical
                == #"<a:root xmlns:a="urn:a" b="1" z="2"><a:child attr="x&amp;y"></a:child><b:x xmlns:b="urn:b">t&lt;</b:x></a:root>"#
        )
        let inclusive = String(decoding: try doc.inclusiveCanonicalForm(), as: UTF8.self)
        #expect(inclusive.contains("xmlns:unused"))
    }

    @Test func excludingASubtreeIsTheEnvelopedSignatureTransform() throws {
        let doc = try HardenedXMLParser.parse(
            string:
                #"<r xmlns="urn:r"><keep>1</keep><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></r>"#
        )
        let signature = try #require(doc.root?.child("http://www.w3.org/2000/09/xmldsig#", "Signature"))
        let canonical = String(decoding: try doc.exclusiveCanonicalForm(excluding: signature), as: UTF8.self)
        #expect(canonical == #"<r xmlns="urn:r"><keep>1</keep></r>"#)
    }

    @Test func agreesWithXmllintExcC14N() throws {
        // xmllint --exc-c14n over a real sample gives the same bytes (CI installs libxml2-utils).
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("samples/out-SvarTimeReservasjon-05.xml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        process.arguments = ["--nonet", "--exc-c14n", sample.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let expected = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        #expect(process.terminationStatus == 0)
        let ours = try HardenedXMLParser.parse(Array(try Data(contentsOf: sample))).exclusiveCanonicalForm()
        #expect(ours == Array(expected))
    }
}
