import Foundation
import Testing
import TimebokTestKit

/// Runs the built `timebok` binary (it sits beside the test bundle in the build folder).
struct CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is <build>/<config>/timebokPackageTests.xctest.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("timebok")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue
            {
                return candidate
            }
            directory.deleteLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/timebok")
    }()

    /// The instant every run of the binary takes as "now" (`TIMEBOK_NOW`).
    static let businessNow = "2026-12-01T12:00:00+01:00"

    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs the binary and waits; with `umask`, through a shell that sets it first.
    static func run(_ arguments: [String], in directory: URL = packageRoot, umask: String? = nil) throws -> Result {
        // The business clock of every run: the tests' dates (2027-01-04 …) stay in the future on any real date.
        // No official schemas from the caller's environment: a test that wants them says --schemas.
        var environment = ProcessInfo.processInfo.environment.merging(["TIMEBOK_NOW": businessNow]) { _, fixed in fixed
        }
        environment["TIMEBOK_SCHEMAS"] = nil
        environment["TIMEBOK_OWN_SCHEMAS"] = nil
        let result: (status: Int32, output: String)
        if let umask {
            let quoted = ([binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
                .joined(separator: " ")
            result = try runProcess(
                "/bin/sh", ["-c", "umask \(umask); exec \(quoted)"], environment: environment, in: directory)
        } else {
            result = try runProcess(binary.path, arguments, environment: environment, in: directory)
        }
        return Result(status: result.status, output: result.output)
    }

    static func sampleFiles() -> [String] {
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("samples").path))
            ?? []
        return names.filter { $0.hasSuffix(".xml") }.sorted().map { "samples/" + $0 }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("timebok-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// It starts the built binary: a test that hangs fails by name after five minutes instead of stopping the run.
@Suite(.timeLimit(.minutes(5))) struct ValidateCommand {
    @Test func everySamplePassesTheBuiltInRules() throws {
        let files = CLI.sampleFiles()
        #expect(files.count >= 30)
        let result = try CLI.run(["validate"] + files)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("Checking: built-in rules"), "the level in force comes first")
        #expect(result.output.contains("passes the built-in rules (the official schemas were not used)"))
        #expect(result.output.contains("\(files.count) of \(files.count) files passed."))
        #expect(result.output.contains("ReserverAvtale, TypeForesp RT (Reserver time)"))
        #expect(result.output.contains("(ISO-8859-1)"))
    }

    @Test(.needsReferenceMaterial) func everySampleValidatesAgainstTheOfficialSchemas() throws {
        let files = CLI.sampleFiles()
        let result = try CLI.run(["validate", "--schemas", ReferenceMaterial.schemas.path] + files)
        #expect(result.status == 0, "\(result.output)")
        #expect(
            result.output.hasPrefix(
                "Checking: built-in rules and the official schema set in \(ReferenceMaterial.schemas.path)."))
        #expect(result.output.contains("valid against the official schema set and timebok's schemas"))
        #expect(result.output.contains("\(files.count) of \(files.count) files passed."))
    }

    @Test func aBrokenFileExitsOneNamingTheLineAndTheProblem() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml"), encoding: .utf8)
        let broken = directory.appendingPathComponent("broken.xml")
        try sample.replacingOccurrences(of: "</MsgId>", with: "</MsgID>").write(
            to: broken, atomically: true, encoding: .utf8)
        let foreign = directory.appendingPathComponent("foreign.xml")
        try sample.replacingOccurrences(of: "msghead/2006-05-24", with: "msghead/2099-01-01").write(
            to: foreign, atomically: true, encoding: .utf8)
        let journal = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/journal/requested.xml"), encoding: .utf8)
        let badJournal = directory.appendingPathComponent("journal.xml")
        try journal.replacingOccurrences(of: "</JournalEntry>", with: "<Bogus/></JournalEntry>").write(
            to: badJournal, atomically: true, encoding: .utf8)

        let result = try CLI.run([
            "validate", broken.path, foreign.path, badJournal.path, "samples/in-Kommunikasjonstest.xml",
        ])
        #expect(result.status == 1)
        let brokenLine = try #require(sample.components(separatedBy: "\n").firstIndex { $0.contains("<MsgId>") }) + 1
        #expect(
            result.output.contains(
                "broken.xml: FAILED\n  line \(brokenLine): The input is not well-formed XML. [TB-0105, AppRec T01"),
            "\(result.output)")
        #expect(result.output.contains("Opening and ending tag mismatch"))
        #expect(result.output.contains("foreign.xml: FAILED"))
        #expect(result.output.contains("AppRec T10"))
        #expect(result.output.contains("journal.xml: FAILED"), "timebok's own schemas are built in")
        #expect(result.output.contains("Bogus"))
        #expect(result.output.contains("in-Kommunikasjonstest.xml: ok"))
        #expect(result.output.contains("1 of 4 files passed."))
    }

    @Test(.needsReferenceMaterial) func aSchemaInvalidMessageFailsWithTheOfficialSchemas() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml"), encoding: .utf8)
        let invalid = directory.appendingPathComponent("invalid.xml")
        try sample.replacingOccurrences(of: "<MsgId>", with: "<Bogus/><MsgId>").write(
            to: invalid, atomically: true, encoding: .utf8)
        let line = try #require(sample.components(separatedBy: "\n").firstIndex { $0.contains("<MsgId>") }) + 1
        let result = try CLI.run(["validate", "--schemas", ReferenceMaterial.schemas.path, invalid.path])
        #expect(result.status == 1)
        #expect(result.output.contains("invalid.xml: FAILED"))
        #expect(
            result.output.contains(
                "line \(line): The message does not validate against the official schemas: Element '{http://www.kith.no/xmlstds/msghead/2006-05-24}Bogus'"
            ), "\(result.output)")
    }

    @Test func validButNotServedPassesWithANoteAndFailsWhenStrict() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("samples/in-HentPlanlagteTimer.xml"), encoding: .utf8)
        let other = directory.appendingPathComponent("ekontakt.xml")
        try sample.replacingOccurrences(of: "DIALOG_INNBYGGER_TIMERESERVASJON", with: "DIALOG_INNBYGGER_EKONTAKT")
            .write(to: other, atomically: true, encoding: .utf8)
        let lenient = try CLI.run(["validate", other.path])
        #expect(lenient.status == 0, "\(lenient.output)")
        #expect(
            lenient.output.contains("ekontakt.xml: ok")
                && lenient.output.contains(
                    "note: timebok would not serve it: The process DIALOG_INNBYGGER_EKONTAKT is not served by timebok. [TB-0203"
                ))
        let strict = try CLI.run(["validate", "--strict", other.path])
        #expect(strict.status == 1 && strict.output.contains("ekontakt.xml: FAILED"), "\(strict.output)")
        // A broken message is not "valid but not served": it fails without --strict.
        try sample.replacingOccurrences(of: "</MsgId>", with: "</MsgID>").write(
            to: other, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["validate", other.path]).status == 1)
    }

    @Test(.needsReferenceMaterial) func everyOfficialExampleIsValid() throws {
        let examples = ((try? FileManager.default.contentsOfDirectory(atPath: ReferenceMaterial.examples.path)) ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
            .map { ReferenceMaterial.examples.appendingPathComponent($0).path }
        #expect(examples.count >= 11)
        let result = try CLI.run(["validate", "--schemas", ReferenceMaterial.schemas.path] + examples)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func aSchemaFolderWithoutTheOfficialSetIsAClearUsageError() throws {
        let result = try CLI.run(["validate", "--schemas", "/nonexistent", "samples/in-Kommunikasjonstest.xml"])
        #expect(result.status == 64)
        #expect(
            result.output.contains("The official schema folder /nonexistent has no driver-all.xsd"), "\(result.output)")
    }

    @Test func aBadBusinessClockIsAClearUsageError() throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["books", "--spool", "/nonexistent"]
        process.environment = ["TIMEBOK_NOW": "tomorrow"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitForExit()
        #expect(process.terminationStatus == 64)
        #expect(output.contains("TIMEBOK_NOW must be an instant with its offset"), "\(output)")
    }

    @Test func helpExplainsWithAnExample() throws {
        let result = try CLI.run(["validate", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("timebok validate samples/*.xml"))
    }
}
