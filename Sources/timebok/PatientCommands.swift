import ArgumentParser
import Booking
import Foundation
internal import SwiftCSV
import TimebokCore
import TimebokEngine

// `timebok patients`: import the office's list (CSV) and list it.

struct Patients: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and import the office's list patients and their groups.",
        discussion: """
            The import file is CSV with a header: fnr;family_name;given_name;groups (groups separated by |). \
            --replace makes the file the whole list (patients not in it are removed); otherwise patients are \
            added or updated. Importing the same file twice changes nothing the second time.

            Example:
              timebok patients import liste.csv --replace
            """,
        subcommands: [List.self, Import.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the patients.", discussion: "Example:\n  timebok patients list --show-identity")
        @OptionGroup var spool: SpoolOption
        @OptionGroup var identity: IdentityOption

        func run() throws {
            let engine = try spool.openEngine()
            let patients = try engine.readModel { try $0.patients() }
            for patient in patients {
                identity.line(
                    "\(patient.fnr)  \(patient.familyName), \(patient.givenName)\(patient.groups.isEmpty ? "" : "  [\(patient.groups.joined(separator: ", "))]")\(patient.digitallyInactive ? "  (not a digital user)" : "")"
                )
            }
            print("\(patients.count) patient\(patients.count == 1 ? "" : "s").")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import patients from a CSV file.",
            discussion: "Example:\n  timebok patients import liste.csv --replace")
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "The file is the whole list.") var replace = false
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("Cannot read \(file).") }
            var text = String(decoding: data, as: UTF8.self)
            // Excel and others start a UTF-8 file with a byte-order mark.
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            // SwiftCSV: quoted fields (with ; or line breaks inside) stay whole.
            let csv: EnumeratedCSV
            do {
                csv = try EnumeratedCSV(string: text, delimiter: .semicolon, loadColumns: false)
            } catch {
                throw CLIError("\(file) is not readable CSV: \(error).")
            }
            var patients: [ListPatient] = []
            for (index, row) in ([csv.header] + csv.rows).enumerated() {
                let fields = row.map { $0.trimmingCharacters(in: .whitespaces) }
                if fields.allSatisfy(\.isEmpty) { continue }
                if index == 0 && fields.first?.lowercased() == "fnr" { continue }
                guard fields.count >= 3 else {
                    throw CLIError(
                        "\(file) row \(index + 1): expected fnr;family_name;given_name;groups, found \"\(row.joined(separator: ";"))\"."
                    )
                }
                let groups =
                    fields.count > 3
                    ? fields[3].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                        !$0.isEmpty
                    } : []
                patients.append(
                    ListPatient(fnr: fields[0], familyName: fields[1], givenName: fields[2], groups: groups))
            }
            try submit(
                .importPatients(mode: replace ? .replace : .update, patients: patients), spool: spool,
                submission: submission)
        }
    }
}
