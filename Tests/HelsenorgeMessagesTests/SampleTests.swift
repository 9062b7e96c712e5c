import Foundation
import Testing
import TimebokXML
@testable import HelsenorgeMessages

/// Our own samples: each validates, decodes into the function its file name says, and round-trips.
@Suite struct Samples {
    let codec = MessageCodec(schemas: Schemas.combined)

    static let messageFiles = Paths.files(in: Paths.samples).map(\.lastPathComponent)
    static let ownFormatFiles = ["commands", "results", "journal"].flatMap { folder in
        Paths.files(in: Paths.samples.appendingPathComponent(folder)).map { "\(folder)/\($0.lastPathComponent)" }
    }

    /// `in-ReserverAvtale-…` → ReserverAvtale; `out-SvarTimeReservasjon-05` → SvarTimeReservasjon.
    static func expectedFunction(_ name: String) -> MessageFunction? {
        let function = name.replacingOccurrences(of: ".xml", with: "").split(separator: "-")[1]
        switch function {
        case "Behandleroversikt": return name.hasPrefix("in-") ? .hentBehandlere : .svarBehandlere
        case "Ressursoversikt": return name.hasPrefix("in-") ? .hentRessurstimeboker : .svarRessurstimeboker
        case "Kommunikasjonstest": return name.hasPrefix("in-") ? .kommunikasjonstest : .svarKommunikasjonstest
        case "SvarAvbestilling": return .svarTimeReservasjon
        case "SvarLedigeTimer" where name.contains("-30"): return .svarAvvist
        default: return MessageFunction(rawValue: String(function))
        }
    }

    @Test func thereIsASampleForEveryFunctionBothWays() {
        #expect(Self.messageFiles.count >= 30)
        let covered = Set(Self.messageFiles.compactMap(Self.expectedFunction))
        let all = Set(MessageFunction.allCases)
        #expect(all.subtracting(covered).isEmpty, "functions without a sample: \(all.subtracting(covered))")
        #expect(Self.messageFiles.contains { $0.hasPrefix("in-AppRec") } && Self.messageFiles.contains { $0.hasPrefix("out-AppRec") })
    }

    @Test(arguments: messageFiles)
    func messageSampleDecodesAndRoundTrips(_ name: String) throws {
        let bytes = try Paths.bytes(Paths.samples.appendingPathComponent(name))
        let decoded = try codec.decode(bytes, name: name)
        switch decoded {
        case .appRec(let appRec):
            #expect(name.contains("AppRec"))
            let encoded = MessageCodec.encode(appRec)
            #expect(try validationIssues(encoded, Schemas.combined).isEmpty)
            #expect(try codec.decode(encoded) == decoded)
        case .dialog(let message, let function):
            #expect(function == Self.expectedFunction(name), "\(name) decoded as \(function)")
            #expect(function.isFromHelsenorge == name.hasPrefix("in-"))
            let encoded = MessageCodec.encode(message)
            let issues = try validationIssues(encoded, Schemas.combined)
            #expect(issues.isEmpty, "\(issues)")
            #expect(try codec.decode(encoded) == decoded)
            // Only our Ressursoversikt payload needs our schema; everything else is plain official.
            if message.resourceBooks == nil {
                #expect(try validationIssues(encoded, Schemas.official).isEmpty)
            }
        }
    }

    @Test(arguments: ownFormatFiles)
    func ownFormatSampleValidates(_ name: String) throws {
        let issues = try validationIssues(try Paths.bytes(Paths.samples.appendingPathComponent(name)), Schemas.combined)
        #expect(issues.isEmpty, "\(issues)")
    }

    @Test func iso88591SampleKeepsNorwegianLetters() throws {
        let url = Paths.samples.appendingPathComponent("in-ReserverAvtale-personal-iso8859.xml")
        let bytes = try Paths.bytes(url)
        #expect(!bytes.contains(0xC3), "the sample must really be ISO-8859-1, not UTF-8")
        guard case .dialog(let message, _) = try codec.decode(bytes) else {
            Issue.record("not decoded")
            return
        }
        let text = (message.foresporsel?.emneSporsmal ?? "") + (message.foresporsel?.sporsmal ?? "")
        #expect(text.contains("ø") || text.contains("å") || text.contains("æ"), "\(text)")
        #expect(message.foresporsel?.relatedProfessionals.first?.role == .onsketBehandler)
    }

    @Test func ressursoversiktPayload() throws {
        let bytes = try Paths.bytes(Paths.samples.appendingPathComponent("out-Ressursoversikt-20.xml"))
        guard case .dialog(let message, _) = try codec.decode(bytes) else {
            Issue.record("not decoded")
            return
        }
        let books = try #require(message.resourceBooks)
        #expect(books.map(\.category) == [.lab, .vaksine])
        #expect(books.allSatisfy { $0.informationText.count <= 300 })
        // Without our schema loaded, the official set refuses the payload (strict wildcard).
        #expect(try !validationIssues(bytes, Schemas.official).isEmpty)
    }
}
