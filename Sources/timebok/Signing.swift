import ArgumentParser
import Foundation
import TimebokEngine
import TimebokSigning

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a self-signed RSA-2048 key and certificate for tests and demonstrations.",
        discussion: """
            Writes DIR/signing.key (PKCS#8 PEM, mode 0600) and DIR/signing.crt (X.509 PEM, key usage \
            digitalSignature and nonRepudiation), and prints the two timebok.conf lines that use them. An \
            office in production uses its enterprise certificate instead (README: Signing).

            Example:
              timebok keygen /etc/timebok --common-name "Fjordvik legesenter" --days 365
            """)

    @Argument(help: ArgumentHelp("The folder to write the pair into.", valueName: "dir"))
    var directory: String

    @Option(help: "The certificate's common name.") var commonName = "timebok test"
    @Option(help: "The certificate's organisation.") var organisation = "timebok"
    @Option(help: "Days the certificate is valid from now (it is valid from 30 days ago).") var days = 365

    func run() throws {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL.path
        let key = folder + "/signing.key"
        let certificate = folder + "/signing.crt"
        for path in [key, certificate] where FileManager.default.fileExists(atPath: path) {
            throw CLIError("\(path) already exists; keygen never overwrites a key.")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let now = BusinessClock.now()
        let pair = try SigningIdentity.makeSelfSigned(
            commonName: commonName, organisation: organisation,
            notBefore: now.addingTimeInterval(-30 * 86_400), notAfter: now.addingTimeInterval(Double(days) * 86_400))
        let fd = open(key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("Could not create \(key): \(String(cString: strerror(errno))).") }
        _ = fchmod(fd, 0o600)
        let bytes = Array(pair.keyPEM.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        try pair.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        _ = chmod(certificate, 0o640)
        print("ok: \(key) (0600) and \(certificate), valid for \(days) days. In timebok.conf:")
        print("signing.key = \(key)")
        print("signing.certificate = \(certificate)")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the XML signatures of messages (timebok's or anyone's).",
        discussion: """
            For each file: the digest of the signed content, the signature value, the certificate (valid now, \
            allowed to sign) and the one shape PROTOCOL.md §8 allows (exactly one Signature, a child of the \
            root, Reference URI="", enveloped-signature then exclusive C14N, SHA-256, RSA-SHA256, the \
            certificate in KeyInfo; nothing is ever fetched or read). One line per file with the signer; exit \
            status 1 when any file fails or is unsigned. --status shows a spool's signing certificates.

            Examples:
              timebok verify outbox/*.xml
              timebok verify --trusted-pem /etc/timebok/helsenorge.pem inbox/message.xml
              timebok verify --status --spool /srv/timebok
            """)

    @Option(help: ArgumentHelp("Accept only signatures made with these certificates (PEM).", valueName: "file"))
    var trustedPem: String?

    @Flag(help: "Show the spool's signing certificates and when they expire, instead of checking files.")
    var status = false

    @OptionGroup var spool: SpoolOption

    @Argument(help: ArgumentHelp("The files to check.", valueName: "file"))
    var files: [String] = []

    func run() throws {
        if status {
            let engine = try spool.openEngine()
            print(engine.signingStatus)
            for warning in engine.warnings { print("warning: \(warning)") }
            return
        }
        guard !files.isEmpty else { throw ValidationError("Name the files to check (or --status).") }
        let trusted = try trustedPem.map { path throws(SigningError) in try TrustList.load(path) }
        var failures = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                failures += 1
                print("\(file): FAILED: cannot be read")
                continue
            }
            do {
                if let verified = try XMLSignature.verify(Array(data), at: BusinessClock.now(), trusted: trusted) {
                    print("\(file): ok, signed by \(verified.subject)")
                } else {
                    failures += 1
                    print("\(file): FAILED: not signed")
                }
            } catch {
                failures += 1
                print("\(file): FAILED: \(error) [AppRec \(error.appRecCode ?? "S01")]")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
