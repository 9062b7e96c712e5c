internal import Crypto
import Foundation
internal import SwiftASN1
import TimebokXML
public import X509
internal import _CryptoExtras

/// Enveloped XML Signature as PROTOCOL.md §8 prescribes it, and nothing else: `Reference URI=""`,
/// the enveloped-signature transform then exclusive C14N, SHA-256, RSA-SHA256 with PKCS#1 v1.5, the
/// X.509 certificate in `KeyInfo`. Verification accepts exactly that shape (an allowlist), so no
/// signature can make timebok fetch, read or transform anything.
public enum XMLSignature {
    public static let namespace = "http://www.w3.org/2000/09/xmldsig#"
    static let exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    static let envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

    /// Signs a document (a MsgHead message as timebok encoded it): the Signature becomes the last
    /// child of the root element. The result is final: the bytes around the Signature are the
    /// input's, byte for byte, never re-serialised.
    /// `canonicalForm`: the document's exclusive canonical form when the encoder wrote it beside the
    /// document (``XMLWriter`` with `canonical: true`); otherwise the document is parsed and
    /// canonicalized with libxml2.
    public static func sign(
        _ bytes: [UInt8], canonicalForm: [UInt8]? = nil, with identity: SigningIdentity
    ) throws(SigningError) -> [UInt8] {
        guard let closing = closingRootTag(in: bytes) else {
            throw SigningError(.unsignable, "The document has no closing root tag to put the signature before.")
        }
        let digest: [UInt8]
        if let canonicalForm {
            // An empty one is a writer made without `canonical: true`: never a digest of nothing.
            guard !canonicalForm.isEmpty else {
                throw SigningError(.unsignable, "The canonical form given for the document is empty.")
            }
            digest = Array(SHA256.hash(data: canonicalForm))
        } else {
            do {
                digest = Array(SHA256.hash(data: try HardenedXMLParser.parse(bytes).exclusiveCanonicalForm()))
            } catch {
                throw SigningError(.unsignable, "The document cannot be canonicalized: \(error)")
            }
        }
        let signedInfo =
            "<SignedInfo><CanonicalizationMethod Algorithm=\"\(exclusiveC14N)\"></CanonicalizationMethod>"
            + "<SignatureMethod Algorithm=\"\(rsaSHA256)\"></SignatureMethod><Reference URI=\"\"><Transforms>"
            + "<Transform Algorithm=\"\(envelopedSignature)\"></Transform><Transform Algorithm=\"\(exclusiveC14N)\"></Transform>"
            + "</Transforms><DigestMethod Algorithm=\"\(sha256)\"></DigestMethod><DigestValue>\(Data(digest).base64EncodedString())</DigestValue>"
            + "</Reference></SignedInfo>"
        let keyInfo =
            "<KeyInfo><X509Data><X509Certificate>\(Data(identity.certificateDER).base64EncodedString())</X509Certificate></X509Data></KeyInfo>"
        func signature(value: String) -> [UInt8] {
            Array(
                "<Signature xmlns=\"\(namespace)\">\(signedInfo)<SignatureValue>\(value)</SignatureValue>\(keyInfo)</Signature>"
                    .utf8)
        }
        let canonical = canonicalSignedInfo(signedInfo)
        let value = try identity.signature(ofSHA256Digest: Array(SHA256.hash(data: canonical)))
        return Array(bytes[..<closing]) + signature(value: Data(value).base64EncodedString())
            + Array(bytes[closing...])
    }

    /// SignedInfo's exclusive canonical form where it stands in the signed document, without parsing
    /// that document again: exclusive C14N takes nothing from the ancestors but the namespaces an
    /// element visibly uses, and SignedInfo and everything in it use one, the default namespace its
    /// Signature parent declares, which the apex renders. The rest is written in canonical form
    /// already (start and end tags, attributes in order, values and base64 without characters to
    /// escape). ``verify(_:at:trusted:)`` canonicalizes with libxml2, so every signing test checks
    /// this against it.
    static func canonicalSignedInfo(_ signedInfo: String) -> [UInt8] {
        let open = "<SignedInfo>"
        precondition(signedInfo.hasPrefix(open), "SignedInfo is built above")
        return Array(("<SignedInfo xmlns=\"\(namespace)\">" + signedInfo.dropFirst(open.count)).utf8)
    }

    /// A signature that checked out.
    public struct Verified: Sendable {
        /// The signer's certificate subject, e.g. `CN=Fjordvik legesenter,O=Fjordvik legesenter`.
        public var subject: String
        public var certificate: Certificate
    }

    /// Verifies the document's signature; nil when it has none. `trusted`: when given, the signer's
    /// certificate must be one of these. `instant`: when the certificate must be valid.
    public static func verify(
        _ bytes: [UInt8], at instant: Date, trusted: TrustList? = nil
    ) throws(SigningError) -> Verified? {
        let document: XDocument
        do {
            document = try HardenedXMLParser.parse(bytes)
        } catch {
            throw SigningError(.badSignature, "The document is not readable XML: \(error)")
        }
        guard let root = document.root else { throw SigningError(.badSignature, "The document has no root element.") }
        let all: [XElement]
        do {
            all = try document.select("//ds:Signature", namespaces: ["ds": namespace])
        } catch {
            throw SigningError(.badSignature, "\(error)")
        }
        if all.isEmpty { return nil }
        guard all.count == 1 else {
            throw SigningError(
                .signatureNotAllowed, "The document has \(all.count) Signature elements; exactly one is allowed.")
        }
        let signature = all[0]
        guard root.children.contains(where: { $0.isSameNode(as: signature) }) else {
            throw SigningError(
                .signatureNotAllowed, "The Signature is not a child of the root element (\(signature.path)).")
        }
        let parts = signature.children
        guard parts.count == 3, parts[0].isNamed(namespace, "SignedInfo"),
            parts[1].isNamed(namespace, "SignatureValue"), parts[2].isNamed(namespace, "KeyInfo")
        else {
            throw SigningError(
                .signatureNotAllowed, "The Signature must hold exactly SignedInfo, SignatureValue and KeyInfo.")
        }
        let info = parts[0]
        let infoParts = info.children
        guard infoParts.count == 3,
            infoParts[0].isNamed(namespace, "CanonicalizationMethod"),
            infoParts[0].attribute("Algorithm") == exclusiveC14N, infoParts[0].children.isEmpty,
            infoParts[1].isNamed(namespace, "SignatureMethod"), infoParts[1].attribute("Algorithm") == rsaSHA256,
            infoParts[1].children.isEmpty,
            infoParts[2].isNamed(namespace, "Reference")
        else {
            throw SigningError(
                .signatureNotAllowed, "SignedInfo must be exclusive C14N, RSA-SHA256 and exactly one Reference.")
        }
        let reference = infoParts[2]
        let referenceParts = reference.children
        guard reference.attribute("URI") == "", referenceParts.count == 3,
            referenceParts[0].isNamed(namespace, "Transforms"),
            referenceParts[1].isNamed(namespace, "DigestMethod"), referenceParts[1].attribute("Algorithm") == sha256,
            referenceParts[1].children.isEmpty,
            referenceParts[2].isNamed(namespace, "DigestValue")
        else {
            throw SigningError(
                .signatureNotAllowed,
                "The Reference must be URI=\"\" with the two transforms, SHA-256 and its DigestValue.")
        }
        let transforms = referenceParts[0].children
        guard transforms.count == 2,
            transforms.allSatisfy({ $0.isNamed(namespace, "Transform") && $0.children.isEmpty }),
            transforms[0].attribute("Algorithm") == envelopedSignature,
            transforms[1].attribute("Algorithm") == exclusiveC14N
        else {
            throw SigningError(
                .signatureNotAllowed, "The transforms must be exactly enveloped-signature, then exclusive C14N.")
        }
        let keyParts = parts[2].children
        guard keyParts.count == 1, keyParts[0].isNamed(namespace, "X509Data"), keyParts[0].children.count == 1,
            keyParts[0].children[0].isNamed(namespace, "X509Certificate")
        else {
            throw SigningError(
                .signatureNotAllowed,
                "KeyInfo must hold exactly one X509Data with one X509Certificate (no RetrievalMethod, no URL, no key by name)."
            )
        }
        guard let certificateDER = Data(base64Encoded: keyParts[0].children[0].text, options: .ignoreUnknownCharacters),
            let certificate = try? Certificate(derEncoded: Array(certificateDER))
        else {
            throw SigningError(.invalidCertificate, "The X509Certificate cannot be read.")
        }
        guard let expected = Data(base64Encoded: referenceParts[2].text, options: .ignoreUnknownCharacters) else {
            throw SigningError(.badSignature, "The DigestValue is not base64.")
        }
        let digest: [UInt8]
        let canonicalInfo: [UInt8]
        do {
            digest = Array(SHA256.hash(data: try document.exclusiveCanonicalForm(excluding: signature)))
            canonicalInfo = try document.exclusiveCanonicalForm(of: info)
        } catch {
            throw SigningError(.badSignature, "The document cannot be canonicalized: \(error)")
        }
        guard digest == Array(expected) else {
            throw SigningError(.badSignature, "The digest does not match: the signed content was changed.")
        }
        guard let value = Data(base64Encoded: parts[1].text, options: .ignoreUnknownCharacters),
            let publicKey = _RSA.Signing.PublicKey(certificate.publicKey)
        else {
            throw SigningError(.badSignature, "The SignatureValue or the certificate's RSA key cannot be read.")
        }
        guard
            publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: value), for: SHA256.hash(data: canonicalInfo),
                padding: .insecurePKCS1v1_5)
        else {
            throw SigningError(.badSignature, "The SignatureValue does not verify with the certificate's key.")
        }
        try SigningIdentity.checkUsable(certificate, at: instant)
        if let trusted, !trusted.certificates.contains(where: { $0 == certificate }) {
            throw SigningError(
                .invalidCertificate, "The signer (\(certificate.subject)) is not one of the trusted certificates.")
        }
        return Verified(subject: "\(certificate.subject)", certificate: certificate)
    }

    /// Where the root element's closing tag starts (the last `</` of the document).
    static func closingRootTag(in bytes: [UInt8]) -> Int? {
        var index = bytes.count - 1
        while index > 0 {
            if bytes[index - 1] == UInt8(ascii: "<"), bytes[index] == UInt8(ascii: "/") { return index - 1 }
            index -= 1
        }
        return nil
    }

    static func signatureElement(in document: XDocument) throws -> XElement {
        guard let element = try document.select("/*/ds:Signature", namespaces: ["ds": namespace]).last else {
            throw SigningError(.unsignable, "The placed Signature was not found.")
        }
        return element
    }
}

/// The certificates whose signatures are accepted (`signing.trusted-certificates`, `verify --trusted-pem`).
public struct TrustList: Sendable {
    public var certificates: [Certificate]

    public init(certificates: [Certificate]) { self.certificates = certificates }

    /// Every certificate in a PEM file.
    public static func load(_ path: String) throws(SigningError) -> TrustList {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningError(.unreadableKey, "The trusted certificates \(path) cannot be read.")
        }
        do {
            let documents = try PEMDocument.parseMultiple(pemString: String(decoding: data, as: UTF8.self))
            return TrustList(certificates: try documents.map { try Certificate(pemDocument: $0) })
        } catch {
            throw SigningError(.unreadableKey, "\(path) is not a file of PEM certificates (\(error)).")
        }
    }
}
