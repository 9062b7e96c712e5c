import Foundation
import TimebokCore

/// The spool's configuration file, `timebok.conf`: `key = value` lines, `#` starts a comment.
/// Every key is documented in ``TimebokConfig/template(...)``; unknown keys and bad values are
/// errors that name the line.
public struct TimebokConfig: Sendable, Hashable {
    public var officeName: String
    public var organisationNumber: String
    public var officeHerId: String
    public var helsenorgeHerId: String
    public var helsenorgeServiceHerId: String
    /// The services of helsenorge whose messages are accepted (PROTOCOL.md §7: helsenorge uses more
    /// than one): always including ``helsenorgeServiceHerId``.
    public var acceptedHelsenorgeServiceHerIds: [String] {
        [helsenorgeServiceHerId] + helsenorgeOtherServiceHerIds.filter { $0 != helsenorgeServiceHerId }
    }
    /// `helsenorge.accepted-service-her-ids`: the services accepted besides the one timebok sends to.
    public var helsenorgeOtherServiceHerIds: [String] = ["8130047", "8093239"]
    /// Folder with the official schemas (driver-all.xsd, catalog.xml).
    public var officialSchemas: String?
    /// Folder with timebok's own schemas.
    public var ownSchemas: String?
    public var maxInputBytes: Int
    public var maxSlotsPerCommand: Int
    public var allowTestNumbers: Bool
    /// A file that is not yet well-formed and was modified less than this many seconds ago (by the
    /// file system's clock) is taken to be still being written and left for the next pass; 0 refuses
    /// it at once (for producers that always write a temporary name and rename it in).
    public var settleSeconds: Int = 2
    /// `limits.batch-size`: the most inputs decided in one SQLite transaction and made durable with
    /// one sync of the spool (a batch closes on this size or when nothing more is waiting; nothing
    /// ever waits for company).
    public var batchSize: Int = 64
    /// `spool.group`: the group the transport and the EPJ share; the spool's folders are then 2770
    /// and owned by it (else 0750).
    public var spoolGroup: String?
    /// `archive.keep-days`, `error.keep-days`: day folders older than this are removed by `timebok purge`.
    public var archiveKeepDays = 90
    public var errorKeepDays = 180
    /// `ledger.keep-days`: how long what duplicate detection needs (sender, MsgId, content hash) is
    /// kept: at least as long as helsenorge may deliver a message again.
    public var ledgerKeepDays = 90
    /// `signing.key`, `signing.certificate`: PEM files; every outgoing MsgHead message is signed.
    public var signingKey: String?
    public var signingCertificate: String?
    /// A second pair for a rollover: used from `signing.next-from` (an instant) on.
    public var nextSigningKey: String?
    public var nextSigningCertificate: String?
    public var nextSigningFrom: Date?
    /// `signing.incoming`: what to do with signatures on incoming messages.
    public var incomingSignatures: IncomingSignatures = .verifyIfPresent
    /// `signing.trusted-certificates`: a PEM file of the certificates incoming signatures must be made with (optional).
    public var trustedCertificates: String?

    public enum IncomingSignatures: String, Sendable, Hashable {
        case ignore
        case verifyIfPresent = "verify-if-present"
        case require
    }
    /// helsenorge's names as MsgHead carries them.
    public var helsenorgeName = "DIREKTORATET FOR E-HELSE"
    public var helsenorgeServiceName = "Digitale innbyggertjenester"
    /// The process of the office's own pushes (Avtale): TIMERESERVASJON or AVTALEUTSENDING.
    public var pushProcess: PushProcess = .timereservasjon

    public enum PushProcess: String, Sendable, Hashable {
        case timereservasjon
        case avtaleutsending
    }

    public static let fileName = "timebok.conf"

    /// A spool or configuration that cannot be used: nothing was read or changed.
    public struct Invalid: TimebokError, Hashable {
        /// Opaque codes (`TB-080x`): only this module makes them.
        public struct Code: Sendable, Hashable, CustomStringConvertible {
            public let rawValue: String
            private init(_ rawValue: String) { self.rawValue = rawValue }
            public var description: String { rawValue }

            /// The folder is not a timebok spool (its folders or timebok.conf are missing).
            public static let notASpool = Code("TB-0801")
            /// The folder is already a spool (`init` never overwrites).
            public static let alreadyASpool = Code("TB-0802")
            /// Other users can read or write the spool.
            public static let exposedSpool = Code("TB-0803")
            /// timebok.conf has a line or value timebok cannot use.
            public static let badSetting = Code("TB-0804")
            /// A configured schema folder lacks its schemas.
            public static let badSchemaFolder = Code("TB-0805")
        }

        public let code: Code
        public let message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var errorCode: String { code.rawValue }
    }

    public init(
        officeName: String, organisationNumber: String, officeHerId: String, helsenorgeHerId: String = "115851",
        helsenorgeServiceHerId: String = "8093248", officialSchemas: String? = nil, ownSchemas: String? = nil,
        maxInputBytes: Int = 8 * 1024 * 1024, maxSlotsPerCommand: Int = 200_000, allowTestNumbers: Bool = false
    ) {
        self.officeName = officeName
        self.organisationNumber = organisationNumber
        self.officeHerId = officeHerId
        self.helsenorgeHerId = helsenorgeHerId
        self.helsenorgeServiceHerId = helsenorgeServiceHerId
        self.officialSchemas = officialSchemas
        self.ownSchemas = ownSchemas
        self.maxInputBytes = maxInputBytes
        self.maxSlotsPerCommand = maxSlotsPerCommand
        self.allowTestNumbers = allowTestNumbers
    }

    /// Reads and validates `timebok.conf`.
    public static func load(path: String) throws -> TimebokConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(.notASpool, "\(path) is missing or unreadable.")
        }
        return try parse(String(decoding: data, as: UTF8.self), name: path)
    }

    public static func parse(_ text: String, name: String = fileName) throws -> TimebokConfig {
        var values: [String: (value: String, line: Int)] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
                ?? ""
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Invalid(
                    .badSetting,
                    "\(name) line \(index + 1): expected `key = value`, found \"\(line.trimmedWhitespace)\".")
            }
            let key = String(line[..<equals]).trimmedWhitespace
            let value = String(line[line.index(after: equals)...]).trimmedWhitespace
            guard knownKeys.contains(key) else {
                throw Invalid(
                    .badSetting,
                    "\(name) line \(index + 1): unknown key \"\(key)\". Known keys: \(knownKeys.sorted().joined(separator: ", "))."
                )
            }
            guard values[key] == nil else {
                throw Invalid(.badSetting, "\(name) line \(index + 1): \(key) is set twice.")
            }
            values[key] = (value, index + 1)
        }
        func required(_ key: String) throws -> (String, Int) {
            guard let entry = values[key], !entry.value.isEmpty else {
                throw Invalid(.badSetting, "\(name): \(key) is required.")
            }
            return entry
        }
        func digits(_ key: String, max: Int, default fallback: String? = nil) throws -> String {
            guard let entry = values[key] else {
                if let fallback { return fallback }
                throw Invalid(.badSetting, "\(name): \(key) is required.")
            }
            guard !entry.value.isEmpty, entry.value.count <= max, entry.value.allSatisfy({ $0.isASCII && $0.isNumber })
            else {
                throw Invalid(
                    .badSetting,
                    "\(name) line \(entry.line): \(key) must be 1 to \(max) digits, not \"\(entry.value)\".")
            }
            return entry.value
        }
        func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let entry = values[key] else { return fallback }
            guard let value = Int(entry.value), range.contains(value) else {
                throw Invalid(
                    .badSetting,
                    "\(name) line \(entry.line): \(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(entry.value)\"."
                )
            }
            return value
        }
        func boolean(_ key: String) throws -> Bool {
            guard let entry = values[key] else { return false }
            switch entry.value {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default:
                throw Invalid(
                    .badSetting, "\(name) line \(entry.line): \(key) must be true or false, not \"\(entry.value)\".")
            }
        }
        let organisationNumber = try digits("office.organisation-number", max: 9)
        if organisationNumber.count != 9 || !isValidOrganisationNumber(organisationNumber) {
            throw Invalid(
                .badSetting,
                "\(name) line \(values["office.organisation-number"]!.line): office.organisation-number \(organisationNumber) is not a valid Norwegian organisation number (9 digits, mod-11 check digit)."
            )
        }
        return try TimebokConfig(
            officeName: try required("office.name").0,
            organisationNumber: organisationNumber,
            officeHerId: try digits("office.her-id", max: 9),
            helsenorgeHerId: try digits("helsenorge.her-id", max: 9, default: "115851"),
            helsenorgeServiceHerId: try digits("helsenorge.service-her-id", max: 9, default: "8093248"),
            officialSchemas: values["schemas.official"]?.value,
            ownSchemas: values["schemas.own"]?.value,
            maxInputBytes: try integer(
                "limits.max-input-bytes", default: 8 * 1024 * 1024, range: 1_024...(256 * 1024 * 1024)),
            maxSlotsPerCommand: try integer("limits.max-slots-per-command", default: 200_000, range: 1...10_000_000),
            allowTestNumbers: try boolean("identity.allow-test-numbers")
        )
        .with { config in
            if let entry = values["pushes.process"] {
                guard let process = PushProcess(rawValue: entry.value) else {
                    throw Invalid(
                        .badSetting,
                        "\(name) line \(entry.line): pushes.process must be timereservasjon or avtaleutsending, not \"\(entry.value)\"."
                    )
                }
                config.pushProcess = process
            }
            config.settleSeconds = try integer("limits.settle-seconds", default: 2, range: 0...3_600)
            config.batchSize = try integer("limits.batch-size", default: 64, range: 1...10_000)
            if let entry = values["spool.group"], !entry.value.isEmpty { config.spoolGroup = entry.value }
            func path(_ key: String) -> String? { values[key].flatMap { $0.value.isEmpty ? nil : $0.value } }
            config.signingKey = path("signing.key")
            config.signingCertificate = path("signing.certificate")
            config.nextSigningKey = path("signing.next-key")
            config.nextSigningCertificate = path("signing.next-certificate")
            config.trustedCertificates = path("signing.trusted-certificates")
            if (config.signingKey == nil) != (config.signingCertificate == nil)
                || (config.nextSigningKey == nil) != (config.nextSigningCertificate == nil)
            {
                throw Invalid(
                    .badSetting,
                    "\(name): a signing key and its certificate go together (signing.key with signing.certificate, signing.next-key with signing.next-certificate)."
                )
            }
            if let entry = values["signing.next-from"] {
                let formatter = ISO8601DateFormatter()
                guard let instant = formatter.date(from: entry.value) else {
                    throw Invalid(
                        .badSetting,
                        "\(name) line \(entry.line): signing.next-from must be an instant with its offset, like 2027-03-01T00:00:00+01:00, not \"\(entry.value)\"."
                    )
                }
                config.nextSigningFrom = instant
            }
            if let entry = values["signing.incoming"] {
                guard let policy = IncomingSignatures(rawValue: entry.value) else {
                    throw Invalid(
                        .badSetting,
                        "\(name) line \(entry.line): signing.incoming must be ignore, verify-if-present or require, not \"\(entry.value)\"."
                    )
                }
                config.incomingSignatures = policy
            }
            config.archiveKeepDays = try integer("archive.keep-days", default: 90, range: 1...36_500)
            config.errorKeepDays = try integer("error.keep-days", default: 180, range: 1...36_500)
            config.ledgerKeepDays = try integer("ledger.keep-days", default: 90, range: 1...36_500)
            if let entry = values["helsenorge.accepted-service-her-ids"] {
                let ids = entry.value.split(separator: ",").map { String($0).trimmedWhitespace }.filter { !$0.isEmpty }
                guard ids.allSatisfy({ $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
                    throw Invalid(
                        .badSetting,
                        "\(name) line \(entry.line): helsenorge.accepted-service-her-ids must be HER-ids separated by commas, not \"\(entry.value)\"."
                    )
                }
                config.helsenorgeOtherServiceHerIds = ids
            }
        }
    }

    private func with(_ change: (inout TimebokConfig) throws -> Void) rethrows -> TimebokConfig {
        var copy = self
        try change(&copy)
        return copy
    }

    static let knownKeys: Set<String> = [
        "office.name", "office.organisation-number", "office.her-id", "helsenorge.her-id", "helsenorge.service-her-id",
        "schemas.official", "schemas.own", "limits.max-input-bytes", "limits.max-slots-per-command",
        "identity.allow-test-numbers",
        "pushes.process", "limits.settle-seconds", "limits.batch-size", "helsenorge.accepted-service-her-ids",
        "spool.group", "archive.keep-days", "error.keep-days", "ledger.keep-days",
        "signing.key", "signing.certificate", "signing.next-key", "signing.next-certificate", "signing.next-from",
        "signing.incoming",
        "signing.trusted-certificates",
    ]

    /// The file `timebok init` writes: every key, documented.
    public func rendered() -> String {
        """
        # timebok configuration. `key = value`; `#` starts a comment. Restart timebok after a change.

        # The GP office (as registered in Enhetsregisteret and the address register, Adresseregisteret).
        office.name = \(officeName)
        office.organisation-number = \(organisationNumber)
        office.her-id = \(officeHerId)

        # helsenorge.no's communication parties (the enterprise, and the service "Digitale innbyggertjenester").
        helsenorge.her-id = \(helsenorgeHerId)
        helsenorge.service-her-id = \(helsenorgeServiceHerId)
        # Messages are accepted from the service above and these (helsenorge uses more than one).
        helsenorge.accepted-service-her-ids = \(helsenorgeOtherServiceHerIds.joined(separator: ", "))

        # Checking. Every message is checked by the built-in rules (hardened XML parse, the typed decoder
        # with the protocol's inbound rules, timebok's own schemas, which are built in). With
        # schemas.official, every message is also validated against the official schema bundle:
        # the folder with driver-all.xsd and catalog.xml.
        \(officialSchemas.map { "schemas.official = \($0)" } ?? "# schemas.official = /srv/helsenorge/schemas")
        # Only for someone changing timebok's own schemas: a folder that replaces the built-in ones.
        \(ownSchemas.map { "schemas.own = \($0)" } ?? "# schemas.own = /path/to/timebok/schemas")

        # Inputs larger than this many bytes are refused unread.
        limits.max-input-bytes = \(maxInputBytes)
        # The most slots one command may open (a typo in a date range must not open a million).
        limits.max-slots-per-command = \(maxSlotsPerCommand)
        # A file written in place that is not yet well-formed and was modified less than this many
        # seconds ago (by the file system's clock) is left for the next pass; 0 refuses it at once.
        limits.settle-seconds = \(settleSeconds)
        # At most this many waiting inputs are decided in one transaction and made durable with one
        # sync of the spool (a lone input is never kept waiting for company).
        limits.batch-size = \(batchSize)

        # Every file here holds health data. Folders are 0750, files 0640, the database 0600; with a
        # group that the transport and the EPJ share, folders are 2770 and owned by it.
        \(spoolGroup.map { "spool.group = \($0)" } ?? "# spool.group = timebok")

        # Retention (timebok purge): day folders in archive/ and error/ older than this many days are
        # removed, with the copies of outputs the ledger keeps for them; what duplicate detection needs
        # (sender, MsgId, content hash) is kept for ledger.keep-days (at least as long as helsenorge
        # may deliver a message again). journal/ and results/ are never purged: the EPJ removes them.
        archive.keep-days = \(archiveKeepDays)
        error.keep-days = \(errorKeepDays)
        ledger.keep-days = \(ledgerKeepDays)

        # Signing (PROTOCOL.md §8): every outgoing MsgHead message is signed with this key and certificate
        # (PEM; the key readable by its owner only). `timebok keygen DIR` makes a self-signed pair for
        # tests; the README says how to turn an enterprise certificate (.p12) into the two files.
        \(signingKey.map { "signing.key = \($0)" } ?? "# signing.key = /etc/timebok/signing.key")
        \(signingCertificate.map { "signing.certificate = \($0)" } ?? "# signing.certificate = /etc/timebok/signing.crt")
        # A rollover: the next pair, used from an instant on (the archive is verified with both).
        \(nextSigningKey.map { "signing.next-key = \($0)" } ?? "# signing.next-key = /etc/timebok/signing-2027.key")
        \(nextSigningCertificate.map { "signing.next-certificate = \($0)" } ?? "# signing.next-certificate = /etc/timebok/signing-2027.crt")
        \(nextSigningFrom.map { "signing.next-from = \(ISO8601DateFormatter().string(from: $0))" } ?? "# signing.next-from = 2027-03-01T00:00:00+01:00")
        # Incoming signatures: ignore, verify-if-present (default) or require; a bad one gets AppRec S01.
        signing.incoming = \(incomingSignatures.rawValue)
        \(trustedCertificates.map { "signing.trusted-certificates = \($0)" } ?? "# signing.trusted-certificates = /etc/timebok/helsenorge.pem")

        # Accept test fødselsnumre (month + 40 or + 80). Only in test environments.
        identity.allow-test-numbers = \(allowTestNumbers)

        # The process of the office's own appointment messages (Avtale 05/07/08/11/MOA):
        # timereservasjon (DIALOG_INNBYGGER_TIMERESERVASJON) or avtaleutsending (DIALOG_INNBYGGER_AVTALEUTSENDING).
        pushes.process = \(pushProcess.rawValue)

        """
    }
}

/// Norwegian organisation number: 9 digits, weights 3 2 7 6 5 4 3 2, mod 11.
public func isValidOrganisationNumber(_ number: String) -> Bool {
    let digits = number.compactMap { $0.wholeNumberValue }
    guard digits.count == 9, number.count == 9 else { return false }
    let sum = zip([3, 2, 7, 6, 5, 4, 3, 2], digits).reduce(0) { $0 + $1.0 * $1.1 }
    let check = (11 - sum % 11) % 11
    return check != 10 && check == digits[8]
}
