internal import COpenSSL
internal import Crypto
import Foundation
internal import _CryptoExtras

/// The RSA private-key operation of an XML signature (RSASSA-PKCS1-v1_5 over a SHA-256 digest), by
/// the system's OpenSSL libcrypto. Keys, certificates, digests and verification stay with
/// swift-crypto; this one operation does not, because it is most of a signed reply's cost and
/// OpenSSL 3 does it in less than half the time BoringSSL takes on processors with AVX-512 IFMA
/// (measured on this project's 2-core build machine: about 250 µs against 585 µs per signature;
/// `timebok-bench signing` prints both). PKCS#1 v1.5 signatures are deterministic: both libraries give the same
/// bytes for the same key and digest, which loading checks and the tests compare.
///
/// One `EVP_PKEY`, shared: OpenSSL 3 lets any number of threads sign with one key at once, each
/// with a context of its own (the render queue signs on every core).
final class RSASigner: @unchecked Sendable {
    private let key: OpaquePointer

    /// The key swift-crypto parsed, handed to OpenSSL as its DER (PKCS#1) form; checked by signing
    /// a digest with OpenSSL and verifying it with swift-crypto.
    init(_ privateKey: _RSA.Signing.PrivateKey) throws(SigningError) {
        var der = [UInt8](privateKey.derRepresentation)
        ERR_clear_error()
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
        }
        // The private key's bytes are not left behind in freed memory.
        der.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
        guard let parsed else {
            throw SigningError(.unreadableKey, "OpenSSL cannot read the RSA private key: \(Self.openSSLError()).")
        }
        key = parsed
        let probe = Array(SHA256.hash(data: Array("timebok: OpenSSL and swift-crypto sign alike".utf8)))
        let signature: [UInt8]
        do {
            signature = try sign(digest: probe)
        } catch {
            throw SigningError(.unreadableKey, "OpenSSL cannot sign with the private key: \(error.message)")
        }
        guard
            privateKey.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: SHA256.hash(data: Array("timebok: OpenSSL and swift-crypto sign alike".utf8)),
                padding: .insecurePKCS1v1_5)
        else {
            throw SigningError(
                .unreadableKey, "OpenSSL's signature with the private key does not verify with swift-crypto.")
        }
    }

    deinit { EVP_PKEY_free(key) }

    /// The PKCS#1 v1.5 signature of a SHA-256 digest (32 bytes).
    func sign(digest: [UInt8]) throws(SigningError) -> [UInt8] {
        guard digest.count == 32 else {
            throw SigningError(.unsignable, "RSA signing needs a SHA-256 digest (32 bytes), not \(digest.count) bytes.")
        }
        ERR_clear_error()
        guard let context = EVP_PKEY_CTX_new(key, nil) else {
            throw SigningError(.unsignable, "RSA signing failed: \(Self.openSSLError()).")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()) == 1
        else {
            throw SigningError(.unsignable, "RSA signing could not be set up: \(Self.openSSLError()).")
        }
        var length = 0
        guard EVP_PKEY_sign(context, nil, &length, digest, digest.count) == 1, length > 0 else {
            throw SigningError(.unsignable, "RSA signing failed: \(Self.openSSLError()).")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(context, &signature, &length, digest, digest.count) == 1 else {
            throw SigningError(.unsignable, "RSA signing failed: \(Self.openSSLError()).")
        }
        return Array(signature.prefix(length))
    }

    /// The reason OpenSSL queued last (the failing call's), as text; the thread's queue emptied.
    private static func openSSLError() -> String {
        let code = ERR_peek_last_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return "no reason given" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
