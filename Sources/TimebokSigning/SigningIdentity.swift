internal import Crypto
import Foundation
internal import SwiftASN1
import TimebokCore
public import X509
public import _CryptoExtras

/// What went wrong with a key, a certificate or a signature: a stable code (TB-05xx), a sentence,
/// and the AppRec code helsenorge gets for a bad incoming signature (S01, S02).
public struct SigningError: TimebokError, Hashable {
    public struct Code: Sendable, Hashable {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        /// The key or certificate file cannot be read, or they do not belong together.
        public static let unreadableKey = Code("TB-0501")
        /// The key file can be read by other users.
        public static let exposedKey = Code("TB-0502")
        /// The certificate is expired, not yet valid, or lacks digitalSignature/nonRepudiation.
        public static let invalidCertificate = Code("TB-0503")
        /// The document cannot be signed (no root to put the Signature in, not canonicalizable).
        public static let unsignable = Code("TB-0504")
        /// The signature does not verify (digest or signature value).
        public static let badSignature = Code("TB-0505")
        /// The signature is not of the one allowed shape (PROTOCOL.md §8).
        public static let signatureNotAllowed = Code("TB-0506")
        /// A signature is required and there is none.
        public static let missingSignature = Code("TB-0507")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var errorCode: String { code.rawValue }

    /// The 8221 code for an incoming message with this problem: S02 for the certificate, else S01.
    public var appRecCode: String? { code == .invalidCertificate ? "S02" : "S01" }
}

/// A private key and its certificate, loaded from PEM and checked.
public struct SigningIdentity: Sendable {
    public let privateKey: _RSA.Signing.PrivateKey
    public let certificate: Certificate
    public let certificateDER: [UInt8]
    /// The same key, for the private-key operation of a signature (``RSASigner``).
    let signer: RSASigner

    public init(keyPEM: String, certificatePEM: String) throws(SigningError) {
        do {
            privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        } catch {
            throw SigningError(.unreadableKey, "The private key is not an RSA key in PEM (\(error)).")
        }
        signer = try RSASigner(privateKey)
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            certificateDER = serializer.serializedBytes
        } catch {
            throw SigningError(.unreadableKey, "The certificate is not an X.509 certificate in PEM (\(error)).")
        }
        guard let publicKey = _RSA.Signing.PublicKey(certificate.publicKey),
            publicKey.derRepresentation == privateKey.publicKey.derRepresentation
        else {
            throw SigningError(
                .unreadableKey, "The private key does not belong to the certificate (\(certificate.subject)).")
        }
    }

    /// The RSASSA-PKCS1-v1_5 signature of a SHA-256 digest with this identity's key: the private-key
    /// operation of an XML signature (``XMLSignature/sign(_:canonicalForm:with:)``), by OpenSSL
    /// (``RSASigner``). Public for `timebok-bench signing`, which times it beside swift-crypto's.
    public func signature(ofSHA256Digest digest: [UInt8]) throws(SigningError) -> [UInt8] {
        try signer.sign(digest: digest)
    }

    /// Loads a key and a certificate from PEM files. The key file must not be readable by other users.
    public static func load(keyFile: String, certificateFile: String) throws(SigningError) -> SigningIdentity {
        var info = stat()
        guard stat(keyFile, &info) == 0 else {
            throw SigningError(.unreadableKey, "The signing key \(keyFile) cannot be found (signing.key).")
        }
        if info.st_mode & 0o077 != 0 {
            throw SigningError(
                .exposedKey,
                "The signing key \(keyFile) can be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))). Run: chmod 600 \(keyFile)"
            )
        }
        guard let key = FileManager.default.contents(atPath: keyFile),
            let certificate = FileManager.default.contents(atPath: certificateFile)
        else {
            throw SigningError(.unreadableKey, "\(keyFile) or \(certificateFile) cannot be read.")
        }
        return try SigningIdentity(
            keyPEM: String(decoding: key, as: UTF8.self), certificatePEM: String(decoding: certificate, as: UTF8.self))
    }

    /// The subject, for people.
    public var subject: String { "\(certificate.subject)" }

    /// Refuses a certificate that is not valid at `instant` or may not sign; returns a warning when
    /// it expires within 30 days.
    @discardableResult
    public func check(at instant: Date) throws(SigningError) -> String? {
        try Self.checkUsable(certificate, at: instant)
        let left = certificate.notValidAfter.timeIntervalSince(instant)
        if left <= 30 * 86_400 {
            return
                "The signing certificate \(subject) expires on \(Self.day(certificate.notValidAfter)), in \(Int(left / 86_400)) days: renew it and configure the new pair (signing.next-key, signing.next-certificate, signing.next-from)."
        }
        return nil
    }

    /// The next pair of a rollover must be valid when it takes over.
    public static func checkValid(_ identity: SigningIdentity, at instant: Date) throws(SigningError) {
        try checkUsable(identity.certificate, at: instant)
    }

    static func checkUsable(_ certificate: Certificate, at instant: Date) throws(SigningError) {
        guard certificate.notValidBefore <= instant else {
            throw SigningError(
                .invalidCertificate,
                "The certificate \(certificate.subject) is not valid before \(day(certificate.notValidBefore)).")
        }
        guard instant <= certificate.notValidAfter else {
            throw SigningError(
                .invalidCertificate,
                "The certificate \(certificate.subject) expired on \(day(certificate.notValidAfter)).")
        }
        if let usage = try? certificate.extensions.keyUsage, !usage.digitalSignature, !usage.nonRepudiation {
            throw SigningError(
                .invalidCertificate,
                "The certificate \(certificate.subject) may not sign: its key usage has neither digitalSignature nor nonRepudiation."
            )
        }
    }

    static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }

    /// A new RSA-2048 key and a self-signed certificate (digitalSignature, nonRepudiation), for tests
    /// and the demo. Returns the key (PKCS#8) and the certificate in PEM.
    public static func makeSelfSigned(
        commonName: String, organisation: String, notBefore: Date, notAfter: Date
    ) throws(SigningError) -> (keyPEM: String, certificatePEM: String) {
        try makeSelfSigned(
            commonName: commonName, organisation: organisation, notBefore: notBefore, notAfter: notAfter,
            mayAlsoSign: true)
    }

    /// `mayAlsoSign` false: a certificate for certificate signing only (tests of the key-usage check).
    static func makeSelfSigned(
        commonName: String, organisation: String, notBefore: Date, notAfter: Date, mayAlsoSign: Bool
    ) throws(SigningError) -> (keyPEM: String, certificatePEM: String) {
        do {
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let name = try DistinguishedName {
                CountryName("NO")
                OrganizationName(organisation)
                CommonName(commonName)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: name, subject: name,
                signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions {
                    Critical(
                        mayAlsoSign
                            ? KeyUsage(digitalSignature: true, nonRepudiation: true) : KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
            return (key.pkcs8PEMRepresentation, try certificate.serializeAsPEM().pemString)
        } catch {
            throw SigningError(.unreadableKey, "A key and certificate could not be made: \(error)")
        }
    }
}
