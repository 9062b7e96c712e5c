import Foundation
import Testing
import TimebokTestKit

@testable import HelsenorgeMessages

/// Code values and display names are the official ones: checked against PROTOCOL.md (the project's
/// source of truth) and the official examples, not against a copy in this test.
@Suite(.needsReferenceMaterial) struct CodeLists {
    static let protocolText: String = {
        let raw = (try? String(contentsOf: ReferenceMaterial.protocolText, encoding: .utf8)) ?? ""
        // Lines are wrapped in the middle of names ("15 Vikar for\n  fastlege"): fold white space.
        return raw.replacing(/\s+/, with: " ")
    }()

    @Test func answerCodesMatchProtocol() {
        #expect(!Self.protocolText.isEmpty, "../shared/PROTOCOL.md must be readable")
        for code in AnswerCode.allCases {
            #expect(
                Self.protocolText.contains("\(code.rawValue) \(code.displayName)"),
                "7602 \(code.rawValue) \(code.displayName) is not in PROTOCOL.md")
            #expect(code.code.system == "2.16.578.1.12.4.1.1.7602")
        }
    }

    @Test func otherListsMatchProtocol() {
        let text = Self.protocolText
        for code in AppRecStatus.allCases { #expect(text.contains("\(code.rawValue) \(code.displayName)")) }
        for code in RoleToPatient.allCases { #expect(text.contains("\(code.rawValue) \(code.displayName)")) }
        for code in YesNo.allCases { #expect(text.contains("\(code.rawValue) \(code.displayName)")) }
        #expect(
            text.contains("HBT` Hent bestilte timer")
                && RequestType.hentBestilteTimer.displayName == "Hent bestilte timer")
        #expect(
            text.contains("`MOA` Melding om avtale") && RequestType.meldingOmAvtale.displayName == "Melding om avtale")
        for category in AppointmentCategory.allCases { #expect(text.contains(category.rawValue)) }
        for reason in CancellationReason.allCases { #expect(text.contains(reason.rawValue)) }
        // Every AppRec error code PROTOCOL.md §6 names is modelled.
        let named = Set(text.matches(of: /\*\*([TEXS]\d\d)\*\*/).map { String($0.output.1) })
        #expect(named.count >= 12)
        #expect(
            named.isSubset(of: Set(AppRecErrorCode.allCases.map(\.rawValue))),
            "missing: \(named.subtracting(AppRecErrorCode.allCases.map(\.rawValue)))")
        for process in DialogProcess.allCases { #expect(text.contains(process.rawValue)) }
    }

    /// Every 8221 text is the official one, verbatim, as PROTOCOL.md §6 lists it (single quotes in T01).
    @Test func appRecErrorTextsAreTheOfficialOnes() throws {
        let raw = try String(contentsOf: ReferenceMaterial.protocolText, encoding: .utf8)
        var listed: [String: String] = [:]
        for line in raw.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            for index in stride(from: 1, to: cells.count - 1, by: 1)
            where cells[index].wholeMatch(of: /[TEXS]\d\d/) != nil && index + 1 < cells.count {
                listed[cells[index]] = cells[index + 1]
            }
        }
        #expect(listed.count >= 21, "PROTOCOL.md §6 lists the 8221 texts")
        for (code, text) in listed {
            let known = try #require(AppRecErrorCode(rawValue: code), "\(code) is modelled")
            #expect(known.displayName == text, "\(code): \"\(known.displayName)\" is not the official \"\(text)\"")
        }
        #expect(Self.protocolText.contains("**RKT** \(CommunicationTestCode.svarKommunikasjonstest.displayName)"))
    }

    @Test func displayNamesMatchTheOfficialExamples() throws {
        // Every V/S/DN triple in the official examples that belongs to one of our lists must agree with it.
        var checked = 0
        for url in Paths.files(in: Paths.examples) {
            let text = String(decoding: try Paths.bytes(url), as: UTF8.self)
            // MsgInfo/Type has no S: compare process display names directly.
            for match in text.matches(of: /<Type V="([^"]+)" DN="([^"]+)"/) {
                if let process = DialogProcess(rawValue: String(match.output.1)) {
                    #expect(
                        process.displayName == String(match.output.2), "\(url.lastPathComponent): \(process.rawValue)")
                    checked += 1
                }
            }
            for match in text.matches(of: /V="([^"]+)" S="([0-9.]+)" DN="([^"]+)"/) {
                let (value, system, name) = (String(match.output.1), String(match.output.2), String(match.output.3))
                let expected: String? =
                    switch system {
                    case RequestType.system: RequestType(rawValue: value)?.displayName
                    case AnswerCode.system: AnswerCode(rawValue: value)?.displayName
                    case CommunicationTestCode.system: CommunicationTestCode(rawValue: value)?.displayName
                    case YesNo.system: YesNo(rawValue: value)?.displayName
                    case RoleToPatient.system: RoleToPatient(rawValue: value)?.displayName
                    case OrganisationIdentifierType.system: OrganisationIdentifierType(rawValue: value)?.displayName
                    case PersonIdentifierType.system: PersonIdentifierType(rawValue: value)?.displayName
                    default: nil
                    }
                guard let expected else { continue }
                #expect(
                    expected == name,
                    "\(url.lastPathComponent): \(value) in \(system) is \"\(name)\", we say \"\(expected)\"")
                checked += 1
            }
        }
        #expect(checked > 50)
    }

    @Test func codeDecodingChecksTheSystem() {
        #expect(Code(value: "05", system: AnswerCode.system).decode(as: AnswerCode.self) == .timereservasjonBekreftet)
        #expect(Code(value: "05", system: RequestType.system).decode(as: AnswerCode.self) == nil)
        #expect(Code(value: "05").decode(as: AnswerCode.self) == .timereservasjonBekreftet)
    }
}
