import ArgumentParser
import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokDemo
import TimebokEngine
import TimebokSchemas
import TimebokSigning
import TimebokSpool

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a spool: the folders, timebok.conf and the database.",
        discussion: """
            Creates DIR with inbox/, commands/, outbox/, journal/, results/, processing/, archive/, error/ and \
            state/, a documented timebok.conf and an empty appointment model. --demo fills it with a demo office \
            (Fjordvik legesenter, HER-id 1234): GP Hanne Fjeld (HER-id 91095) with a personal book, a Lab and an \
            Influensavaksine resource book, slots for the next four weeks, list patients and a risk group.

            Examples:
              timebok init /tmp/demo --demo
              timebok init /srv/timebok --office-name "Nanset legekontor" --organisation-number 971318864 --her-id 1234
              timebok init /srv/timebok --demo --schemas /srv/helsenorge/schemas     # also validate against the official bundle
              timebok init /srv/timebok --demo --group timebok     # folders 2770, shared with the transport and the EPJ

            Without --schemas (or $TIMEBOK_SCHEMAS) every message is checked by the built-in rules; with it, \
            also against the official schema bundle (written into timebok.conf as schemas.official).
            """)

    @Argument(help: ArgumentHelp("The spool folder to create.", valueName: "dir"))
    var directory: String

    @Flag(help: "Fill the spool with the demo office.")
    var demo = false

    @Option(help: "The office's name.") var officeName: String?
    @Option(help: "The office's organisation number (9 digits).") var organisationNumber: String?
    @Option(name: .customLong("her-id"), help: "The office's HER-id.") var herId: String?
    @OptionGroup var schemas: SchemaOptions
    @Flag(help: "Accept test fødselsnumre (test environments only).") var allowTestNumbers = false
    @Option(
        help: ArgumentHelp(
            "The group the transport and the EPJ share: folders become 2770 and owned by it (spool.group).",
            valueName: "group")) var group: String?

    func run() throws {
        let official = try schemas.officialFolder()
        let own = try schemas.ownFolder()
        var config: TimebokConfig
        if demo {
            config = DemoOffice.config(officialSchemas: official, ownSchemas: own)
        } else {
            guard let officeName, let organisationNumber, let herId else {
                throw ValidationError(
                    "Name the office: --office-name, --organisation-number and --her-id (or use --demo).")
            }
            config = TimebokConfig(
                officeName: officeName, organisationNumber: organisationNumber, officeHerId: herId,
                officialSchemas: official, ownSchemas: own)
        }
        config.allowTestNumbers = allowTestNumbers
        config.spoolGroup = group
        // The demo signs its replies with a self-signed pair made here (state/signing.key, .crt).
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        if demo {
            config.signingKey = root + "/state/signing.key"
            config.signingCertificate = root + "/state/signing.crt"
        }
        do {
            try SpoolSetup.create(root: directory, config: config)
            if demo {
                let now = BusinessClock.now()
                let pair = try SigningIdentity.makeSelfSigned(
                    commonName: config.officeName, organisation: config.officeName,
                    notBefore: now.addingTimeInterval(-30 * 86_400), notAfter: now.addingTimeInterval(3 * 365 * 86_400))
                _ = try SpoolSetup.installSigningPair(
                    root: root, keyPEM: pair.keyPEM, certificatePEM: pair.certificatePEM)
            }
        } catch {
            throw CLIError("\(error)")
        }
        print(
            "Created the spool \(URL(fileURLWithPath: directory).standardizedFileURL.path) for \(config.officeName) (HER-id \(config.officeHerId))."
        )
        print(SchemaLevel(officialFolder: official))
        print(
            demo
                ? "Signing: every outgoing MsgHead message is signed with a self-signed demo certificate (state/signing.crt)."
                : "Signing: off (set signing.key and signing.certificate in timebok.conf; `timebok keygen DIR` makes a test pair)."
        )
        if demo {
            let engine = try Engine(spoolRoot: directory, clock: BusinessClock.now)
            for envelope in DemoOffice.commands(today: BusinessClock.today()) {
                let outcome = engine.execute(envelope, source: "init --demo")
                printOutcome(outcome, prefix: "  ")
                if !outcome.ok { throw ExitCode(1) }
            }
        }
        print(
            """

            Next:
              timebok books --spool \(directory)                 the books
              timebok slots list lab --spool \(directory)        the Lab book's slots
              timebok process \(directory)                       apply command files dropped in \(directory)/commands/
            """)
    }
}

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Apply every command file in DIR/commands/ and every message in DIR/inbox/ once, then stop.",
        discussion: """
            Each command file (schemas/command-v1.xsd, samples in samples/commands/) is checked, applied in one \
            transaction and answered by a result file in results/; the file is archived in archive/YYYY-MM-DD/ \
            with a copy of its result. A file that cannot be applied gets an error result and goes to \
            error/YYYY-MM-DD/ with NAME.reason.txt; nothing in the model changes. A command id already applied \
            with the same content is not applied again. Files left in processing/ by an interrupted run are \
            finished first. Messages from helsenorge in inbox/ (with NAME.meta from the transport when there is \
            one) are answered in outbox/ (each NAME.xml with its NAME.meta) and journalled in journal/; requests \
            held past their hold time are answered 26.

            Exit status: 0 all done; 1 some inputs refused (answered or quarantined, nothing left); 74 inputs left \
            in processing/ to retry (storage trouble); 75 the spool is busy (another timebok holds its lock); 78 the \
            configuration, the schemas or the database are unusable (nothing was claimed).

            Example:
              cp samples/commands/open-slot.xml /tmp/demo/commands/ && timebok process /tmp/demo
            """)

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    func run() throws {
        let engine: Engine
        let report: Engine.Report
        do {
            engine = try openSpool(directory)
            report = try engine.process()
        } catch let failure as Spool.Failure where failure.isBusy {
            FileHandle.standardError.write(Data("timebok: \(failure)\n".utf8))
            throw ExitCode(ExitStatus.busy)
        } catch let error as Spool.Failure {
            FileHandle.standardError.write(Data(IdentityMasking.mask("timebok: \(error)\n").utf8))
            throw ExitCode(ExitStatus.retry)
        } catch {
            // The configuration, the schemas or the database: nothing was claimed.
            FileHandle.standardError.write(Data(IdentityMasking.mask("timebok: \(error)\n").utf8))
            throw ExitCode(ExitStatus.configuration)
        }
        var rejected = 0
        for outcome in report.outcomes {
            let id = outcome.commandId ?? "(no id)"
            if let error = outcome.error {
                rejected += 1
                print("\(id): error \(error.code): \(error.message)")
            } else {
                print("\(id): \(outcome.duplicate ? "duplicate, " : "")ok: \(outcome.summary)")
            }
            if let result = outcome.resultFile { print("  result \(result)") }
            if let moved = outcome.inputMovedTo {
                print("  input  \(moved.replacingOccurrences(of: engine.spool.root + "/", with: ""))")
            }
        }
        for (name, what) in report.setAside {
            rejected += 1
            print("\(name): not an input: \(what)")
        }
        if report.leftoversRemoved > 0 {
            print(
                "Removed \(report.leftoversRemoved) temporary file\(report.leftoversRemoved == 1 ? "" : "s") an interrupted run left behind."
            )
        }
        for name in report.waiting {
            print("\(name): not complete yet (young and not well-formed); left for the next run")
        }
        for (name, problem) in report.retrying { print("\(name): left in processing/ for the next run: \(problem)") }
        if report.expired > 0 {
            print("\(report.expired) request\(report.expired == 1 ? "" : "s") expired unanswered (answered 26).")
        }
        print(
            "\(report.outcomes.count + report.setAside.count) file\(report.outcomes.count + report.setAside.count == 1 ? "" : "s") processed, \(rejected) refused\(report.retrying.isEmpty ? "" : ", \(report.retrying.count) left to retry")."
        )
        if !report.retrying.isEmpty { throw ExitCode(ExitStatus.retry) }
        if rejected > 0 { throw ExitCode(ExitStatus.refused) }
    }
}
