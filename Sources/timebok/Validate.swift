import ArgumentParser
import Foundation
import HelsenorgeMessages
import TimebokFormats
import TimebokSchemas
import TimebokXML

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check XML files: well-formed, which message, valid against the official and timebok's schemas.",
        discussion: """
            For each file, says whether it is well-formed, which message it is (process, function, codes), \
            and whether it is valid, and why not (with line numbers and the AppRec code helsenorge would get). \
            A valid message that timebok would not serve (another process or function, no valid patient) \
            passes with a note; --strict fails it too. Exits 0 only when every file passes.

            Two levels: the built-in rules (hardened parse, the typed decoder with the protocol's inbound \
            rules, timebok's own schemas, built in), which need nothing outside timebok; and, with --schemas \
            DIR or $TIMEBOK_SCHEMAS, also the official schema bundle (a folder with driver-all.xsd and \
            catalog.xml). The first line of the output says which level was used.

            Example:
              timebok validate samples/*.xml
              timebok validate --schemas /srv/helsenorge/schemas inbox/incoming.xml
            """
    )

    @OptionGroup var schemas: SchemaOptions

    @Flag(help: "Accept test fødselsnumre (month + 40 or + 80), as in test environments.")
    var allowTestNumbers = false

    @Flag(
        help:
            "Also fail files that are valid but that timebok would not serve (another process, an unknown function, no valid patient)."
    )
    var strict = false

    @Flag(name: .shortAndLong, help: "Only print files that fail.")
    var quiet = false

    @Argument(help: ArgumentHelp("The files to check.", valueName: "file"))
    var files: [String]

    func run() throws {
        let official = try schemas.officialFolder()
        let level = SchemaLevel(officialFolder: official)
        let checker: FileChecker
        do {
            let own = try schemas.ownFolder()
            checker = FileChecker(
                codec: MessageCodec(
                    schemas: try level.compileMessageSchemas(ownFolder: own),
                    options: DecodingOptions(allowTestIdentityNumbers: allowTestNumbers)),
                ownSchemas: try OwnSchemas.compileAll(folder: own), strict: strict)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("The schemas could not be compiled: \(error)")
        }
        if !quiet { print(level) }
        var failures = 0
        for file in files {
            let report = checker.check(file)
            if !report.passed { failures += 1 }
            if !quiet || !report.passed { print(report.text) }
        }
        if files.count > 1 || failures > 0 {
            print("\(files.count - failures) of \(files.count) file\(files.count == 1 ? "" : "s") passed.")
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Checks one file and describes it for a person.
struct FileChecker {
    /// Checks helsenorge messages (with the official set, or without schemas at the built-in level).
    let codec: MessageCodec
    /// timebok's own schemas, for its own files.
    let ownSchemas: SchemaSet
    /// Fail what is valid but not served, too.
    var strict = false

    struct Report {
        var passed: Bool
        var text: String
    }

    func check(_ path: String) -> Report {
        guard let data = FileManager.default.contents(atPath: path) else {
            return Report(
                passed: false, text: "\(path): FAILED\n  cannot read the file (missing, unreadable, or a directory)")
        }
        let document: XDocument
        do {
            document = try HardenedXMLParser.parse(Array(data), name: path, limits: codec.limits)
        } catch {
            return failure(path, MessageError(xml: error))
        }
        var lines = ["well-formed XML (\(document.declaredEncoding ?? "UTF-8"))"]
        guard let root = document.root else { return Report(passed: false, text: "\(path): FAILED\n  no root element") }
        if let office = OfficeDocumentKind(root: root) {
            lines.append(office.description)
            let issues = ownSchemas.validate(document)
            guard issues.isEmpty else {
                return failure(
                    path,
                    MessageError(
                        .schemaInvalid, .schemaInvalid, "The \(office) does not validate against timebok's schema.",
                        line: issues[0].line, details: issues.map(\.description)), known: lines)
            }
            lines.append("valid against timebok's schemas")
            return Report(passed: true, text: "\(path): ok\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
        }
        let kind = DocumentKind(root: root)
        switch kind {
        case .msgHead, .appRec:
            // Valid (against the official set, when given) and served by timebok are two questions.
            if let schemas = codec.schemas {
                let issues = schemas.validate(document)
                if let first = issues.first {
                    return failure(
                        path,
                        MessageError(
                            .schemaInvalid, .schemaInvalid,
                            "The message does not validate against the official schemas: \(first.message)",
                            line: first.line, details: issues.map(\.description)), known: lines)
                }
            }
            var rules = codec
            rules.schemas = nil
            let validLine =
                codec.schemas == nil
                ? "passes the built-in rules (the official schemas were not used)"
                : "valid against the official schema set and timebok's schemas"
            do {
                let decoded = try rules.decode(document)
                lines.append(describe(decoded))
                lines.append(validLine)
            } catch  where Self.meansNotServed(error) && !strict {
                lines.append(
                    codec.schemas == nil ? "readable as a message (the official schemas were not used)" : validLine)
                lines.append(
                    "note: timebok would not serve it: \(error.summary) [\(error.code), AppRec \(error.appRecError.rawValue) \(error.appRecError.displayName)] (--strict makes this a failure)"
                )
            } catch {
                return failure(path, error, known: lines)
            }
        case .resourceBooks:
            lines.append(kind.description)
            let issues = (codec.schemas ?? ownSchemas).validate(document)
            guard issues.isEmpty else {
                return failure(
                    path,
                    MessageError(
                        .schemaInvalid, .schemaInvalid, "The \(kind) does not validate against timebok's schema.",
                        line: issues[0].line, details: issues.map(\.description)), known: lines)
            }
            lines.append("valid against timebok's schemas")
        case .wrongNamespace, .unknown:
            return failure(
                path,
                MessageError(
                    .unknownMessage, .unsupportedFormat, "The document is a \(kind), not a message timebok knows.",
                    line: root.line), known: lines)
        }
        return Report(passed: true, text: "\(path): ok\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
    }

    /// Errors that say "not one of timebok's functions or patients", not "broken": another process
    /// (TB-0203) or function (TB-0204), a patient without a valid identity or name (TB-0206–0208).
    static func meansNotServed(_ error: MessageError) -> Bool {
        let notServed: [MessageError.Code] = [
            .unsupportedProcess, .unsupportedFunction, .patientIdMissing, .patientIdInvalid, .patientNameMissing,
        ]
        return notServed.map(\.rawValue).contains(error.code)
    }

    private func describe(_ decoded: DecodedMessage) -> String {
        switch decoded {
        case .appRec(let appRec):
            let errors = appRec.errors.map { "\($0.value)\($0.originalText.map { " \"\($0)\"" } ?? "")" }.joined(
                separator: ", ")
            return
                "AppRec \(appRec.version == .v1_1 ? "1.1" : "1.0"), status \(appRec.status)\(errors.isEmpty ? "" : ", errors \(errors)"), answering \(appRec.original.msgType.value) \(appRec.original.id)"
        case .dialog(let message, let function):
            var parts = ["\(message.info.type.value) \(function.rawValue)"]
            if let request = message.foresporsel { parts.append("TypeForesp \(request.typeForesp)") }
            if let note = message.notat { parts.append("TemaKodet \(note.temaKodet)") }
            parts.append("MsgId \(message.info.msgId)")
            parts.append(
                "from HER \(message.info.sender.communicationPartyHerId ?? "?") to HER \(message.info.receiver.communicationPartyHerId ?? "?")"
            )
            if let events = message.calendar?.events, !events.isEmpty {
                parts.append("\(events.count) vevent\(events.count == 1 ? "" : "s")")
            }
            return parts.joined(separator: ", ")
        }
    }

    private func failure(_ path: String, _ error: MessageError, known: [String] = []) -> Report {
        var text = "\(path): FAILED\n"
        for line in known { text += "  \(line)\n" }
        let position = error.line.map { "line \($0): " } ?? ""
        text +=
            "  \(position)\(error.summary) [\(error.code), AppRec \(error.appRecError.rawValue) \(error.appRecError.displayName)]"
        for detail in error.details.prefix(10) { text += "\n    \(detail)" }
        if error.details.count > 10 { text += "\n    … and \(error.details.count - 10) more" }
        return Report(passed: false, text: text)
    }
}
