import Foundation
import TimebokSigning

/// The office's signing keys as `timebok.conf` names them: the current pair and, for a rollover,
/// the next pair with the instant it takes over; and what incoming signatures are checked against.
struct Signer {
    let current: SigningIdentity
    let next: (identity: SigningIdentity, from: Date)?
    /// Warnings for people (a certificate expiring within 30 days), said on every start.
    let warnings: [String]

    /// nil when signing is not configured. Refuses unusable keys and certificates at start.
    init?(config: TimebokConfig, spoolRoot: String, now: Date) throws {
        guard let key = config.signingKey, let certificate = config.signingCertificate else { return nil }
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : spoolRoot + "/" + path }
        var warnings: [String] = []
        current = try SigningIdentity.load(keyFile: resolve(key), certificateFile: resolve(certificate))
        if let nextKey = config.nextSigningKey, let nextCertificate = config.nextSigningCertificate {
            let identity = try SigningIdentity.load(
                keyFile: resolve(nextKey), certificateFile: resolve(nextCertificate))
            let from = config.nextSigningFrom ?? now
            next = (identity, from)
            if now >= from {
                if let warning = try identity.check(at: now) { warnings.append(warning) }
            } else {
                if let warning = try current.check(at: now) { warnings.append(warning) }
                try SigningIdentity.checkValid(identity, at: from)
            }
        } else {
            next = nil
            if let warning = try current.check(at: now) { warnings.append(warning) }
        }
        self.warnings = warnings
    }

    /// The pair that signs at `instant`.
    func identity(at instant: Date) -> SigningIdentity {
        if let next, instant >= next.from { return next.identity }
        return current
    }

    /// Both pairs' certificates: our own archive verifies with either.
    var ownCertificates: TrustList {
        TrustList(certificates: [current.certificate] + (next.map { [$0.identity.certificate] } ?? []))
    }
}

extension Engine {
    /// The signing certificates in force, for people (`timebok verify --status`).
    public var signingStatus: String {
        guard let signer else { return "Signing: off (no signing.key in timebok.conf)." }
        func line(_ identity: SigningIdentity, _ role: String) -> String {
            "\(role): \(identity.subject), valid \(identity.certificate.notValidBefore) to \(identity.certificate.notValidAfter)"
        }
        var lines = [line(signer.current, "signing with")]
        if let next = signer.next { lines.append(line(next.identity, "from \(next.from) on, signing with")) }
        return lines.joined(separator: "\n")
    }
}
