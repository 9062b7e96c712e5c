import Crypto
import Dispatch
import Foundation
import Synchronization
import Testing
import TimebokTestKit
import TimebokXML
import _CryptoExtras

@testable import TimebokSigning

/// One key pair for the whole run (RSA key generation is slow), valid 2020–2040 so that no date the
/// suite runs at (faketime included) makes it expire.
enum TestKeys {
    static let validity = (Date(timeIntervalSince1970: 1_577_836_800), Date(timeIntervalSince1970: 2_208_988_800))
    static let pair: (keyPEM: String, certificatePEM: String) = {
        do {
            return try SigningIdentity.makeSelfSigned(
                commonName: "Fjordvik legesenter", organisation: "Fjordvik legesenter", notBefore: validity.0,
                notAfter: validity.1)
        } catch { preconditionFailure("\(error)") }
    }()
    static let identity: SigningIdentity = {
        do { return try SigningIdentity(keyPEM: pair.keyPEM, certificatePEM: pair.certificatePEM) } catch {
            preconditionFailure("\(error)")
        }
    }()
    static let now = Date(timeIntervalSince1970: 1_796_122_800)  // 2026-12-01 12:00 Oslo

    /// The pair as files in a new folder (the key 0600), for xmlsec1.
    static func files() throws -> (folder: URL, key: String, certificate: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("timebok-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = folder.appendingPathComponent("signing.key").path
        let certificate = folder.appendingPathComponent("signing.crt").path
        try pair.keyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        #expect(chmod(key, 0o600) == 0)
        try pair.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        return (folder, key, certificate)
    }
}

enum Sample {
    static let root = ReferenceMaterial.packageRoot.appendingPathComponent("samples")
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(name)))
    }
}

/// Runs xmlsec1 (Debian package xmlsec1).
func xmlsec1(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try runProcess("/usr/bin/xmlsec1", arguments)
}

@Suite struct Signing {
    @Test func aSignedMessageVerifiesAndKeepsItsBytes() throws {
        let original = try Sample.bytes("out-SvarTimeReservasjon-05.xml")
        let signed = try XMLSignature.sign(original, with: TestKeys.identity)
        let closing = try #require(XMLSignature.closingRootTag(in: original))
        #expect(
            Array(signed.prefix(closing)) == Array(original.prefix(closing))
                && Array(signed.suffix(original.count - closing)) == Array(original.suffix(original.count - closing)),
            "the bytes around the Signature are the input's")
        let verified = try #require(try XMLSignature.verify(signed, at: TestKeys.now))
        #expect(verified.subject.contains("CN=Fjordvik legesenter"))
        #expect(
            try XMLSignature.sign(original, with: TestKeys.identity) == signed,
            "RSA PKCS#1 v1.5 is deterministic: a re-signed output is byte-identical")
        #expect(try XMLSignature.verify(original, at: TestKeys.now) == nil, "unsigned")
    }

    /// The private-key operation is OpenSSL's (``RSASigner``): its signatures are swift-crypto's,
    /// byte for byte, from the threads of a render queue at once, and a digest of another length
    /// is refused rather than signed.
    @Test func openSSLSignsAsSwiftCryptoDoesFromEveryThread() throws {
        let digests = (0..<16).map { index in Array(SHA256.hash(data: Array("digest \(index)".utf8))) }
        let expected = try digests.map { digest in
            [UInt8](
                try TestKeys.identity.privateKey.signature(
                    for: SHA256.hash(data: Array("digest \(digests.firstIndex(of: digest)!)".utf8)),
                    padding: .insecurePKCS1v1_5
                ).rawRepresentation)
        }
        #expect(try digests.map { try TestKeys.identity.signer.sign(digest: $0) } == expected)
        let results = Mutex<[Int: [UInt8]]>([:])
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let signature = try? TestKeys.identity.signer.sign(digest: digests[index % digests.count])
            results.withLock { $0[index] = signature }
        }
        let signed = results.withLock { $0 }
        #expect(signed.count == 64)
        #expect((0..<64).allSatisfy { signed[$0] == expected[$0 % digests.count] })
        #expect(throws: SigningError.self) { try TestKeys.identity.signer.sign(digest: Array(repeating: 7, count: 20)) }
    }

    /// SignedInfo is canonicalized without parsing the signed document again: the same bytes as
    /// libxml2's exclusive C14N of the SignedInfo where it stands, for every sample answer.
    @Test(arguments: [
        "out-SvarTimeReservasjon-05.xml", "out-SvarLedigeTimer-03.xml", "out-Avtale-05.xml",
    ])
    func signedInfoIsCanonicalAsLibxml2HasIt(_ sample: String) throws {
        let signed = try XMLSignature.sign(try Sample.bytes(sample), with: TestKeys.identity)
        let document = try HardenedXMLParser.parse(signed)
        let info = try #require(
            try XMLSignature.signatureElement(in: document).child(XMLSignature.namespace, "SignedInfo"))
        let libxml2 = try document.exclusiveCanonicalForm(of: info)
        // SignedInfo as the signer wrote it into the document.
        let text = String(decoding: signed, as: UTF8.self)
        let start = try #require(text.range(of: "<SignedInfo>"))
        let end = try #require(text.range(of: "</SignedInfo>"))
        let written = String(text[start.lowerBound..<end.upperBound])
        #expect(XMLSignature.canonicalSignedInfo(written) == libxml2)
    }

    @Test func xmlsec1AcceptsOurSignaturesAndEachFlippedByteFailsBoth() throws {
        let keys = try TestKeys.files()
        defer { try? FileManager.default.removeItem(at: keys.folder) }
        let signed = try XMLSignature.sign(try Sample.bytes("out-SvarLedigeTimer-03.xml"), with: TestKeys.identity)
        let file = keys.folder.appendingPathComponent("signed.xml").path
        try Data(signed).write(to: URL(fileURLWithPath: file))
        let accepted = try xmlsec1(["--verify", "--trusted-pem", keys.certificate, file])
        #expect(accepted.status == 0, "\(accepted.output)")
        let text = String(decoding: signed, as: UTF8.self)
        func flipped(after marker: String, offset: Int = 5) throws -> [UInt8] {
            let index = try #require(text.utf8.firstRange(of: marker.utf8)).upperBound
            var bytes = signed
            let position = text.utf8.distance(from: text.utf8.startIndex, to: index) + offset
            bytes[position] = bytes[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            return bytes
        }
        for (what, bytes) in [
            ("the signed content", try flipped(after: "<MsgId>", offset: 2)),
            ("the SignatureValue", try flipped(after: "<SignatureValue>")),
            ("the certificate", try flipped(after: "<X509Certificate>", offset: 40)),
        ] {
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            #expect(
                try xmlsec1(["--verify", "--trusted-pem", keys.certificate, file]).status != 0,
                "xmlsec1 refuses a flip in \(what)")
            #expect(throws: SigningError.self, "timebok refuses a flip in \(what)") {
                _ = try XMLSignature.verify(
                    bytes, at: TestKeys.now, trusted: TrustList(certificates: [TestKeys.identity.certificate]))
            }
        }
    }

    @Test func aMessageSignedByXmlsec1Verifies() throws {
        let keys = try TestKeys.files()
        defer { try? FileManager.default.removeItem(at: keys.folder) }
        let original = String(decoding: try Sample.bytes("out-SvarPlanlagteTimer-01.xml"), as: UTF8.self)
        let template = """
            <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
            <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms>\
            <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>\
            <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/>\
            <KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>
            """
        let closing = try #require(original.range(of: "</MsgHead>", options: .backwards))
        let input = keys.folder.appendingPathComponent("template.xml").path
        let output = keys.folder.appendingPathComponent("signed.xml").path
        try (original[..<closing.lowerBound] + template + original[closing.lowerBound...]).write(
            toFile: input, atomically: true, encoding: .utf8)
        let signed = try xmlsec1([
            "--sign", "--privkey-pem", "\(keys.key),\(keys.certificate)", "--output", output, input,
        ])
        #expect(signed.status == 0, "\(signed.output)")
        let verified = try XMLSignature.verify(
            Array(try Data(contentsOf: URL(fileURLWithPath: output))), at: TestKeys.now,
            trusted: TrustList(certificates: [TestKeys.identity.certificate]))
        #expect(verified?.subject.contains("Fjordvik") == true)
    }

    /// Signature wrapping and hostile signatures: refused, and nothing is read or fetched.
    @Test func hostileSignaturesAreRefusedWithoutAnyFileOrConnection() throws {
        let listener = try LoopbackListener()
        let keys = try TestKeys.files()
        defer { try? FileManager.default.removeItem(at: keys.folder) }
        // A FIFO: anything that opened it for reading would hang here.
        let fifo = keys.folder.appendingPathComponent("key.pem").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let signed = String(
            decoding: try XMLSignature.sign(
                try Sample.bytes("out-SvarTimeReservasjon-05.xml"), with: TestKeys.identity), as: UTF8.self)
        let signature = try #require(signed.range(of: "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"))
        let end = try #require(signed.range(of: "</Signature>"))
        let signatureText = String(signed[signature.lowerBound..<end.upperBound])
        let unsigned = signed.replacingOccurrences(of: signatureText, with: "")
        let body = unsigned.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        let cases: [(String, String)] = [
            (
                "a wrapped MsgHead copy",
                unsigned.replacingOccurrences(of: "05</", with: "06</").replacingOccurrences(
                    of: "</MsgHead>",
                    with:
                        "<Document><RefDoc><MsgType V=\"XML\"/><Content>\(body.replacingOccurrences(of: "</MsgHead>", with: signatureText + "</MsgHead>"))</Content></RefDoc></Document></MsgHead>"
                )
            ),
            (
                "the signature moved onto other content",
                unsigned.replacingOccurrences(of: "Timereservasjon bekreftet", with: "Timereservasjon avvist")
                    .replacingOccurrences(of: "</MsgHead>", with: signatureText + "</MsgHead>")
            ),
            (
                "a second Reference to an Id",
                signed.replacingOccurrences(
                    of: "</Reference>",
                    with:
                        "</Reference><Reference URI=\"#evil\"><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue>AA==</DigestValue></Reference>"
                )
            ),
            (
                "an XPath transform",
                signed.replacingOccurrences(
                    of: "<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></Transform>",
                    with:
                        "<Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><XPath>not(ancestor-or-self::x)</XPath></Transform>"
                )
            ),
            (
                "an XSLT transform",
                signed.replacingOccurrences(
                    of: "<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></Transform>",
                    with: "<Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"></Transform>")
            ),
            (
                "a RetrievalMethod to a file",
                signed.replacingOccurrences(of: "<KeyInfo>", with: "<KeyInfo><RetrievalMethod URI=\"file://\(fifo)\"/>")
            ),
            (
                "a RetrievalMethod to a loopback URL",
                signed.replacingOccurrences(
                    of: "<KeyInfo>", with: "<KeyInfo><RetrievalMethod URI=\"http://127.0.0.1:\(listener.port)/key\"/>")
            ),
            (
                "a KeyInfo by URL only",
                signed.replacingOccurrences(
                    of: try #require(signed.range(of: "<KeyInfo>.*</KeyInfo>", options: .regularExpression)).description
                        .isEmpty
                        ? ""
                        : String(
                            signed[try #require(signed.range(of: "<KeyInfo>.*</KeyInfo>", options: .regularExpression))]
                        ),
                    with:
                        "<KeyInfo><X509Data><X509Certificate>http://127.0.0.1:\(listener.port)/cert</X509Certificate></X509Data></KeyInfo>"
                )
            ),
            (
                "HMAC with a short output",
                signed.replacingOccurrences(
                    of:
                        "<SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"></SignatureMethod>",
                    with:
                        "<SignatureMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#hmac-sha1\"><HMACOutputLength>8</HMACOutputLength></SignatureMethod>"
                )
            ),
            (
                "an embedded DTD",
                signed.replacingOccurrences(
                    of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                    with:
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE MsgHead [<!ENTITY x SYSTEM \"file://\(fifo)\">]>"
                )
            ),
            ("two signatures", signed.replacingOccurrences(of: "</MsgHead>", with: signatureText + "</MsgHead>")),
        ]
        for (what, text) in cases {
            #expect(text != signed, "\(what) changed the document")
            #expect(throws: SigningError.self, "\(what) is refused") {
                _ = try XMLSignature.verify(Array(text.utf8), at: TestKeys.now)
            }
        }
        #expect(listener.pendingConnections(waitMilliseconds: 200) == 0, "no connection was made")
    }

    @Test func keysAndCertificatesThatMayNotSignAreRefused() throws {
        let keys = try TestKeys.files()
        defer { try? FileManager.default.removeItem(at: keys.folder) }
        #expect(chmod(keys.key, 0o644) == 0)
        let exposed = #expect(throws: SigningError.self) {
            _ = try SigningIdentity.load(keyFile: keys.key, certificateFile: keys.certificate)
        }
        #expect(exposed?.code == .exposedKey && exposed?.message.contains("chmod 600 \(keys.key)") == true)
        #expect(chmod(keys.key, 0o600) == 0)
        let identity = try SigningIdentity.load(keyFile: keys.key, certificateFile: keys.certificate)
        #expect(try identity.check(at: TestKeys.now) == nil)
        #expect(
            try identity.check(at: TestKeys.validity.1.addingTimeInterval(-10 * 86_400))?.contains("expires") == true,
            "a warning within 30 days")
        #expect(throws: SigningError.self, "expired") {
            try identity.check(at: TestKeys.validity.1.addingTimeInterval(86_400))
        }
        #expect(throws: SigningError.self, "not yet valid") {
            try identity.check(at: TestKeys.validity.0.addingTimeInterval(-86_400))
        }
        let caOnly = try SigningIdentity.makeSelfSigned(
            commonName: "CA", organisation: "CA", notBefore: TestKeys.validity.0, notAfter: TestKeys.validity.1,
            mayAlsoSign: false)
        let ca = try SigningIdentity(keyPEM: caOnly.keyPEM, certificatePEM: caOnly.certificatePEM)
        let usage = #expect(throws: SigningError.self) { try ca.check(at: TestKeys.now) }
        #expect(usage?.message.contains("key usage") == true)
        #expect(throws: SigningError.self, "a key of another certificate") {
            _ = try SigningIdentity(keyPEM: caOnly.keyPEM, certificatePEM: TestKeys.pair.certificatePEM)
        }
    }
}
