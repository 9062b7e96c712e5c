import Foundation
import Testing
import TimebokTestKit

@testable import TimebokXML

private func parse(_ text: String, limits: ParseLimits = ParseLimits()) throws(XMLError) -> XDocument {
    try HardenedXMLParser.parse(string: text, limits: limits)
}

private func expectError(
    _ code: XMLError.Code, _ body: () throws(XMLError) -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> XMLError? {
    do {
        try body()
        Issue.record("expected \(code.rawValue), but the input was accepted", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    }
}

@Suite struct ParserBasics {
    @Test func parsesNamespacedElementsAndAttributes() throws {
        let doc = try parse(#"<a:r xmlns:a="urn:x"><a:k V="1" DN="Ja">tekst</a:k><k/></a:r>"#)
        let root = try #require(doc.root)
        #expect(root.name == "r")
        #expect(root.namespace == "urn:x")
        #expect(root.isNamed("urn:x", "r"))
        #expect(!root.isNamed("urn:y", "r"))
        #expect(root.children.count == 2)
        let k = try #require(root.child("urn:x", "k"))
        #expect(k.attribute("V") == "1")
        #expect(k.attribute("DN") == "Ja")
        #expect(k.attribute("S") == nil)
        #expect(k.text == "tekst")
        #expect(root.child(nil, "k") != nil, "the un-namespaced k is a different element")
        #expect(root.children("urn:x", "k").count == 1)
    }

    @Test func xpathUsesRegisteredPrefixesNotTheDocumentsOwn() throws {
        let doc = try parse(#"<x:r xmlns:x="urn:one"><x:c>1</x:c><x:c>2</x:c></x:r>"#)
        let found = try doc.select("/p:r/p:c", namespaces: ["p": "urn:one"])
        #expect(found.map(\.text) == ["1", "2"])
        #expect(try doc.select("/x:r/x:c", namespaces: ["x": "urn:other"]).isEmpty)
        #expect(try doc.string("count(/p:r/p:c)", namespaces: ["p": "urn:one"]) == "2")
        let error = expectError(.xpathFailed) { () throws(XMLError) in
            _ = try doc.select("/p:r[", namespaces: ["p": "urn:one"])
        }
        #expect(error != nil)
    }

    @Test func readsIso88591AsDeclared() throws {
        var bytes = Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><r>"#.utf8)
        bytes += [0xE6, 0xF8, 0xE5, 0x20, 0xC6, 0xD8, 0xC5]  // æøå ÆØÅ in Latin-1
        bytes += Array("</r>".utf8)
        let doc = try HardenedXMLParser.parse(bytes)
        #expect(doc.root?.text == "æøå ÆØÅ")
        #expect(doc.declaredEncoding == "ISO-8859-1")
    }

    @Test func reportsLineOfAWellFormednessError() {
        let error = expectError(.notWellFormed) { () throws(XMLError) in _ = try parse("<r>\n<a>\n</b>\n</r>") }
        #expect(error?.line == 3)
        #expect(error?.description.contains("line 3") == true)
    }

    @Test func emptyInputIsRefused() {
        _ = expectError(.emptyInput) { () throws(XMLError) in _ = try HardenedXMLParser.parse([UInt8]()) }
    }

    @Test func lineNumbersOfElements() throws {
        let doc = try parse("<r>\n\n<a/>\n</r>")
        #expect(doc.root?.children.first?.line == 3)
        #expect(doc.root?.children.first?.path == "/r/a")
    }
}

/// Hostile inputs: each is refused with a specific error and touches nothing.
@Suite struct HostileInput {
    @Test func billionLaughsIsRefusedAtTheDoctype() {
        var text = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            text += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        text += "]><lolz>&lol9;</lolz>"
        _ = expectError(.doctypeForbidden) { () throws(XMLError) in _ = try parse(text) }
    }

    @Test func quadraticBlowupIsRefused() {
        let big = String(repeating: "a", count: 50_000)
        let text = "<!DOCTYPE r [<!ENTITY a \"\(big)\">]><r>" + String(repeating: "&a;", count: 50_000) + "</r>"
        _ = expectError(.doctypeForbidden) { () throws(XMLError) in _ = try parse(text) }
    }

    @Test func externalEntityToALocalFileNeverReadsIt() throws {
        let secret = "TOPSECRET-\(UUID().uuidString)"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("xxe-\(UUID().uuidString).txt").path
        try secret.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://\#(path)">]><r>&x;</r>"#
        let error = expectError(.doctypeForbidden) { () throws(XMLError) in _ = try parse(text) }
        #expect(error?.description.contains(secret) == false)
        // Without a DOCTYPE there is no entity; an undeclared reference is an error, never a file read.
        let error2 = expectError(.notWellFormed) { () throws(XMLError) in _ = try parse("<r>&x;</r>") }
        #expect(error2?.description.contains(secret) == false)
    }

    @Test func externalDtdAndParameterEntitiesNeverConnect() throws {
        let listener = try LoopbackListener()
        let port = listener.port
        let inputs = [
            #"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:\#(port)/evil.dtd"><r/>"#,
            #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:\#(port)/p.ent"> %p;]><r/>"#,
            #"<?xml version="1.0"?><!DOCTYPE r PUBLIC "-//X//Y" "http://127.0.0.1:\#(port)/pub.dtd"><r/>"#,
            #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "http://127.0.0.1:\#(port)/e">]><r>&e;</r>"#,
        ]
        for input in inputs {
            _ = expectError(.doctypeForbidden) { () throws(XMLError) in _ = try parse(input) }
        }
        #expect(listener.pendingConnections(waitMilliseconds: 200) == 0)
    }

    @Test func xincludeIsNeverProcessed() throws {
        let secret = "XINCLUDED-\(UUID().uuidString)"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("xi-\(UUID().uuidString).txt").path
        try secret.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = #"<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="\#(path)" parse="text"/></r>"#
        let doc = try parse(text)
        #expect(doc.root?.text.contains(secret) == false)
        #expect(try doc.exclusiveCanonicalForm().contains(subsequence: Array(secret.utf8)) == false)
    }

    @Test func nestingDeeperThanTheLimitIsRefused() {
        let depth = 5_000
        let text = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        let error = expectError(.notWellFormed) { () throws(XMLError) in _ = try parse(text) }
        #expect(error?.description.lowercased().contains("depth") == true)
    }

    @Test func twelveMegabyteTextNodeIsRefusedEvenUnderARaisedCap() {
        let text = "<r>" + String(repeating: "x", count: 12 * 1024 * 1024) + "</r>"
        let error = expectError(.notWellFormed) { () throws(XMLError) in
            _ = try parse(text, limits: ParseLimits(maxBytes: 64 * 1024 * 1024))
        }
        #expect(error?.description.lowercased().contains("huge") == true)
    }

    @Test func oversizeInputIsRefusedBeforeParsing() {
        let bytes = [UInt8](repeating: 0x20, count: 9 * 1024 * 1024)  // not even XML: never read
        let error = expectError(.inputTooLarge) { () throws(XMLError) in _ = try HardenedXMLParser.parse(bytes) }
        #expect(error?.summary.contains("\(9 * 1024 * 1024)") == true)
    }

    @Test func invalidUtf8IsRefused() {
        let bytes = Array(#"<?xml version="1.0" encoding="UTF-8"?><r>"#.utf8) + [0xC3, 0x28, 0xFF] + Array("</r>".utf8)
        let error = expectError(.notWellFormed) { () throws(XMLError) in _ = try HardenedXMLParser.parse(bytes) }
        #expect(error?.description.contains("UTF-8") == true)
    }

    @Test func byteOrderMarkContradictingTheDeclarationIsRefused() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><r>æ</r>"#.utf8)
        let error = expectError(.encodingConflict) { () throws(XMLError) in _ = try HardenedXMLParser.parse(bytes) }
        #expect(error?.summary.contains("ISO-8859-1") == true)
        // A matching BOM is fine.
        let fine: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0" encoding="utf-8"?><r>æ</r>"#.utf8)
        #expect((try? HardenedXMLParser.parse(fine))?.root?.text == "æ")
        // UTF-16 BOM with a UTF-8 declaration.
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in #"<?xml version="1.0" encoding="UTF-8"?><r/>"#.utf16 {
            utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        _ = expectError(.encodingConflict) { () throws(XMLError) in _ = try HardenedXMLParser.parse(utf16) }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
