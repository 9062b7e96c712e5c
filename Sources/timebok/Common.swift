import ArgumentParser
import Booking
import Foundation
import TimebokCore
import TimebokEngine
import TimebokFormats
import TimebokSchemas

/// `--spool DIR`, shared by every command that works on a spool.
struct SpoolOption: ParsableArguments {
    @Option(
        name: .customLong("spool"),
        help: ArgumentHelp("The spool folder (default: $TIMEBOK_SPOOL, else the current folder).", valueName: "dir"))
    var path: String?

    var resolved: String {
        path ?? ProcessInfo.processInfo.environment["TIMEBOK_SPOOL"] ?? FileManager.default.currentDirectoryPath
    }

    func openEngine() throws -> Engine {
        try openSpool(resolved)
    }
}

/// Opens the spool at `directory` for a command: its start-up warnings said, and a refusal turned
/// into a message with its code and what to type next.
func openSpool(_ directory: String, warn: Bool = true) throws -> Engine {
    do {
        let engine = try Engine(spoolRoot: directory, clock: BusinessClock.now)
        if warn { sayWarnings(engine) }
        return engine
    } catch let error as any TimebokError {
        throw CLIError("\(error)" + SpoolOption.hint(for: error.errorCode, spool: directory))
    }
}

extension SpoolOption {
    /// What to type next, for the engine's start-up refusals (the engine itself knows no commands).
    static func hint(for code: String, spool: String) -> String {
        switch code {
        case TimebokConfig.Invalid.Code.notASpool.rawValue: return " Create one with `timebok init \(spool)`."
        case Engine.DatabaseProblem.Code.missing.rawValue: return " Only `timebok init` creates a new one."
        case Engine.DatabaseProblem.Code.damaged.rawValue:
            return " `timebok check \(spool)` runs the full integrity check."
        default: return ""
        }
    }
}

/// The business clock of this run (rules, holds, cut-offs, "today"): the real time, unless
/// `TIMEBOK_NOW` names a fixed instant (`2026-12-01T12:00:00+01:00`), for tests, replays and
/// demonstrations of a given day; with `TIMEBOK_CLOCK=running` the clock starts at that instant
/// and runs (a daemon replaying a given day). File ages never use it: they follow the file
/// system's clock.
enum BusinessClock {
    /// `TIMEBOK_CLOCK=running`: the fixed instant is where the clock starts, not where it stays.
    static let runs = ProcessInfo.processInfo.environment["TIMEBOK_CLOCK"] == "running"
    /// When this process started its business clock (real time), for a running clock.
    static let started = Date()

    static let fixed: Date? = {
        guard let text = ProcessInfo.processInfo.environment["TIMEBOK_NOW"], !text.isEmpty else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let instant = formatter.date(from: text) else {
            FileHandle.standardError.write(
                Data(
                    "timebok: TIMEBOK_NOW must be an instant with its offset, like 2026-12-01T12:00:00+01:00, not \"\(text)\".\n"
                        .utf8))
            exit(64)
        }
        return instant
    }()

    @Sendable static func now() -> Date {
        guard let fixed else { return Date() }
        return runs ? fixed.addingTimeInterval(Date().timeIntervalSince(started)) : fixed
    }
    static func today() -> LocalDate { Oslo.today(at: now()) }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    /// Masked: error texts are read by people too.
    init(_ description: String) { self.description = IdentityMasking.mask(description) }
}

/// `--id` and `--issued-by` for commands that change the model.
struct Submission: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The command's id (default: a new one). Give the same id to retry safely: a command id is applied once.",
            valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("Who issues the command (default: $USER).", valueName: "name"))
    var issuedBy: String?
}

/// Submits a command through the engine (the same path as a command file) and prints the result.
func submit(_ command: Command, spool: SpoolOption, submission: Submission) throws {
    let engine = try spool.openEngine()
    let envelope = CommandEnvelope(
        id: submission.id ?? "cli-" + UUID().uuidString.lowercased(),
        issuedBy: submission.issuedBy ?? ProcessInfo.processInfo.environment["USER"], command: command)
    let outcome = engine.execute(envelope)
    printOutcome(outcome)
    if !outcome.ok { throw ExitCode(1) }
}

func printOutcome(_ outcome: Engine.CommandOutcome, prefix: String = "") {
    if let error = outcome.error {
        print("\(prefix)error \(error.code): \(error.message)")
    } else {
        print("\(prefix)ok: \(outcome.summary)")
        for ref in outcome.created { print("\(prefix)  created \(ref.kind) \(ref.id)") }
    }
}

/// Parses dates and times given on the command line.
enum Parse {
    static func date(_ text: String, _ what: String) throws -> LocalDate {
        guard let date = LocalDate(text) else {
            throw ValidationError("\(what) must be a date like 2026-12-07, not \"\(text)\".")
        }
        return date
    }

    static func dateTime(_ text: String, _ what: String) throws -> LocalDateTime {
        // Slot times are Norwegian wall-clock times: an offset would be ambiguous in the autumn's repeated hour.
        let time = text.split(separator: "T").last ?? ""
        guard !text.hasSuffix("Z"), !time.contains("+"), !time.contains("-"),
            let value = LocalDateTime(text.count == 16 ? text + ":00" : text)
        else {
            throw ValidationError("\(what) must be a local date-time like 2026-12-07T08:00, not \"\(text)\".")
        }
        return value
    }

    /// "mon-fri 08:00-11:00", "tue,thu 12:00-15:00", "sat 10:00-12:00".
    static func hours(_ text: String) throws -> [WeeklyHours] {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let usage = "Opening hours look like \"mon-fri 08:00-11:00\" or \"tue,thu 12:00-15:00\", not \"\(text)\"."
        guard parts.count == 2 else { throw ValidationError(usage) }
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        var days: [Int] = []
        for item in parts[0].lowercased().split(separator: ",") {
            let range = item.split(separator: "-")
            let indexes = try range.map { name -> Int in
                guard let index = names.firstIndex(of: String(name.prefix(3))) else { throw ValidationError(usage) }
                return index + 1
            }
            if indexes.count == 2 && indexes[0] <= indexes[1] {
                days += Array(indexes[0]...indexes[1])
            } else if indexes.count == 1 {
                days.append(indexes[0])
            } else {
                throw ValidationError(usage)
            }
        }
        let times = parts[1].split(separator: "-")
        guard times.count == 2, let start = parseTimeOfDay(String(times[0])),
            let end = parseTimeOfDay(String(times[1])), start < end
        else { throw ValidationError(usage) }
        return days.map { WeeklyHours(weekday: $0, startMinute: start, endMinute: end) }
    }

    static func onOff(_ text: String, _ what: String) throws -> Bool {
        switch text.lowercased() {
        case "on", "true", "yes", "open": return true
        case "off", "false", "no", "closed": return false
        default: throw ValidationError("\(what) must be on or off, not \"\(text)\".")
        }
    }
}

func describe(_ slot: Slot) -> String {
    "\(slot.id)  \(slot.start)–\(pad(slot.end.hour)):\(pad(slot.end.minute))  \(slot.activeBookings)/\(slot.capacity) booked  \(slot.status.rawValue)"
}

func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

/// `--schemas` and `--own-schemas`: where the official schema bundle is, if the operator has one.
/// Without it, timebok checks with its built-in rules; it never searches for schemas by itself.
struct SchemaOptions: ParsableArguments {
    @Option(
        name: .customLong("schemas"),
        help: ArgumentHelp(
            "The official schema bundle: the folder with driver-all.xsd and catalog.xml (default: $TIMEBOK_SCHEMAS; without either, the built-in rules only).",
            valueName: "dir"))
    var official: String?

    @Option(
        name: .customLong("own-schemas"),
        help: ArgumentHelp(
            "A folder that replaces timebok's built-in own schemas (default: $TIMEBOK_OWN_SCHEMAS; for changing the schemas).",
            valueName: "dir"))
    var own: String?

    /// The official folder as an absolute path, checked; nil for the built-in level.
    func officialFolder() throws -> String? {
        guard let folder = official ?? nonEmpty(ProcessInfo.processInfo.environment["TIMEBOK_SCHEMAS"]) else {
            return nil
        }
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: absolute + "/driver-all.xsd") else {
            throw ValidationError(
                "The official schema folder \(absolute) has no driver-all.xsd. Name the folder of the official bundle (with driver-all.xsd and catalog.xml), or leave out --schemas and TIMEBOK_SCHEMAS to check with the built-in rules."
            )
        }
        return absolute
    }

    /// The replacement folder for timebok's own schemas as an absolute path, checked; nil for the built-in ones.
    func ownFolder() throws -> String? {
        guard let folder = own ?? nonEmpty(ProcessInfo.processInfo.environment["TIMEBOK_OWN_SCHEMAS"]) else {
            return nil
        }
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: absolute + "/" + OwnSchemas.command.name) else {
            throw ValidationError(
                "The folder \(absolute) has no \(OwnSchemas.command.name), so it cannot replace timebok's own schemas.")
        }
        return absolute
    }

    private func nonEmpty(_ value: String?) -> String? { value?.isEmpty == false ? value : nil }
}

/// Everything this program prints goes through here (it shadows `Swift.print` in this module):
/// fødselsnumre and D-numre are masked to their birth date (`130169*****`) wherever people read.
/// Only a listing given `--show-identity` prints them whole, with `Swift.print`.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(IdentityMasking.mask(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}

/// `--show-identity` for listings: print fødselsnumre whole (the default masks them).
struct IdentityOption: ParsableArguments {
    @Flag(
        name: .customLong("show-identity"),
        help: "Show fødselsnumre and D-numre whole (by default only the birth date part: 130169*****).")
    var show = false

    /// Prints one listing line, masked unless `--show-identity`.
    func line(_ text: String) {
        if show { Swift.print(text) } else { print(text) }
    }
}

/// What `timebok process` exits with: one meaning each (sysexits.h numbers where one fits).
enum ExitStatus {
    /// Some inputs were refused (answered or quarantined; nothing is left).
    static let refused: Int32 = 1
    /// Inputs are left in processing/ to retry: storage trouble (EX_IOERR).
    static let retry: Int32 = 74
    /// Another timebok holds the spool's lock (EX_TEMPFAIL): try again later.
    static let busy: Int32 = 75
    /// The configuration, the schemas or the database are unusable (EX_CONFIG): nothing was claimed.
    static let configuration: Int32 = 78
}

/// Warnings said on every start (a signing certificate that expires within 30 days), on stderr.
func sayWarnings(_ engine: Engine) {
    for warning in engine.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
}
