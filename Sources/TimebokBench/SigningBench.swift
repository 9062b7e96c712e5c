import Crypto
import Foundation
import HelsenorgeMessages
import TimebokSigning
import _CryptoExtras

/// Signed vs unsigned reply rate, beside `openssl speed rsa2048` in the same run.
func signingBenchmark(rounds: Int) throws {
    let root = FileManager.default.currentDirectoryPath
    guard let sample = FileManager.default.contents(atPath: root + "/samples/out-SvarTimeReservasjon-05.xml"),
        case .dialog(let message, _) = try MessageCodec(
            schemas: nil, options: DecodingOptions(checkInboundRules: false)
        ).decode(Array(sample))
    else {
        print("run from the project folder (samples/out-SvarTimeReservasjon-05.xml)")
        exit(2)
    }
    let now = Date()
    let pair = try SigningIdentity.makeSelfSigned(
        commonName: "bench", organisation: "bench", notBefore: now.addingTimeInterval(-86_400),
        notAfter: now.addingTimeInterval(86_400))
    let identity = try SigningIdentity(keyPEM: pair.keyPEM, certificatePEM: pair.certificatePEM)
    func measure(_ body: () throws -> Int) rethrows -> Double {
        let start = ContinuousClock.now
        var bytes = 0
        for _ in 0..<rounds { bytes &+= try body() }
        let elapsed = ContinuousClock.now - start
        precondition(bytes > 0)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds / Double(rounds) * 1e6
    }
    // The private-key operation alone: by OpenSSL, as timebok signs, and by swift-crypto's BoringSSL,
    // which signed before (RSASigner.swift says why it changed).
    let digest = SHA256.hash(data: Array("timebok-bench signing".utf8))
    let byOpenSSL = try measure { try identity.signature(ofSHA256Digest: Array(digest)).count }
    let byBoringSSL = try measure {
        try identity.privateKey.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation.count
    }
    let unsigned = measure { MessageCodec.encode(message).count }
    let signed = try measure { try XMLSignature.sign(MessageCodec.encode(message), with: identity).count }
    let verify =
        try measure {
            (try XMLSignature.verify(try XMLSignature.sign(MessageCodec.encode(message), with: identity), at: now)
                != nil) ? 1 : 0
        } - signed
    print(
        String(
            format: "encode a SvarTimeReservasjon 05:            %8.1f µs  (%6.0f replies/s)", unsigned, 1e6 / unsigned)
    )
    print(
        String(format: "encode + sign (RSA-2048, exc-c14n twice):   %8.1f µs  (%6.0f replies/s)", signed, 1e6 / signed))
    print(
        String(
            format: "signing adds                                %8.1f µs per reply; verifying one costs %.1f µs",
            signed - unsigned, verify))
    print(
        String(
            format: "one RSA-2048 signature: OpenSSL (timebok's) %8.1f µs, BoringSSL (swift-crypto) %.1f µs: %.2f",
            byOpenSSL, byBoringSSL, byBoringSSL / byOpenSSL))
    // The floor: one RSA-2048 signature by OpenSSL on this machine, now.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["speed", "-seconds", "2", "rsa2048"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("rsa 2048 bits") }) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count >= 6, let perSecond = Double(fields[5]) {
                let openssl = 1e6 / perSecond
                print(
                    String(
                        format: "openssl speed rsa2048: one signature        %8.1f µs  (%6.0f sign/s)", openssl,
                        perSecond))
                print(String(format: "ratio signing overhead / openssl signature: %.2f", (signed - unsigned) / openssl))
            }
        }
    } catch {
        print("openssl not found: no floor in this run")
    }
}
