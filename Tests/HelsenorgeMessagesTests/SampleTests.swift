import Foundation
import Testing
import TimebokSchemas
import TimebokTestKit
import TimebokXML

@testable import HelsenorgeMessages

/// Our own samples: each decodes into the function its file name says, round-trips, and validates
/// (against timebok's own schemas always, against the official set where the reference material is).
@Suite struct Samples {
    /// The built-in level: hardened parse, typed decoder, inbound rules.
    let codec = MessageCodec(schemas: nil)

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
        #expect(
            Self.messageFiles.contains { $0.hasPrefix("in-AppRec") }
                && Self.messageFiles.contains { $0.hasPrefix("out-AppRec") })
    }

    @Test(arguments: messageFiles)
    func messageSampleDecodesAndRoundTrips(_ name: String) throws {
        let bytes = try Paths.bytes(Paths.samples.appendingPathComponent(name))
        let decoded = try codec.decode(bytes, name: name)
        switch decoded {
        case .appRec(let appRec):
            #expect(name.contains("AppRec"))
            #expect(try codec.decode(MessageCodec.encode(appRec)) == decoded)
        case .dialog(let message, let function):
            #expect(function == Self.expectedFunction(name), "\(name) decoded as \(function)")
            #expect(function.isFromHelsenorge == name.hasPrefix("in-"))
            #expect(try codec.decode(MessageCodec.encode(message)) == decoded)
        }
    }

    /// The exclusive canonical form the encoder writes beside a message (what its signature digests)
    /// is byte for byte libxml2's exclusive C14N of the encoded document.
    @Test(arguments: messageFiles)
    func theEncodersCanonicalFormIsLibxml2s(_ name: String) throws {
        guard
            case .dialog(let message, _) = try codec.decode(try Paths.bytes(Paths.samples.appendingPathComponent(name)))
        else { return }
        let encoded = MessageCodec.encodeWithCanonicalForm(message)
        #expect(encoded.document == MessageCodec.encode(message), "the document itself is unchanged")
        let libxml2 = try HardenedXMLParser.parse(encoded.document).exclusiveCanonicalForm()
        #expect(
            encoded.canonical == libxml2,
            "\(name): \(String(decoding: encoded.canonical.prefix(300), as: UTF8.self)) …")
    }

    @Test(.needsReferenceMaterial, arguments: messageFiles)
    func messageSampleAndItsReEncodingValidateAgainstTheOfficialSchemas(_ name: String) throws {
        let bytes = try Paths.bytes(Paths.samples.appendingPathComponent(name))
        #expect(try validationIssues(bytes, Schemas.combined).isEmpty)
        let official = MessageCodec(schemas: try Schemas.combined.get())
        let decoded = try official.decode(bytes, name: name)
        switch decoded {
        case .appRec(let appRec):
            let encoded = MessageCodec.encode(appRec)
            #expect(try validationIssues(encoded, Schemas.combined).isEmpty)
            #expect(try official.decode(encoded) == decoded)
        case .dialog(let message, _):
            let encoded = MessageCodec.encode(message)
            let issues = try validationIssues(encoded, Schemas.combined)
            #expect(issues.isEmpty, "\(issues)")
            #expect(try official.decode(encoded) == decoded)
            // Only our Ressursoversikt payload needs our schema; everything else is plain official.
            if message.resourceBooks == nil {
                #expect(try validationIssues(encoded, Schemas.official).isEmpty)
            } else {
                // Without our schema loaded, the official set refuses the payload (strict wildcard).
                #expect(try !validationIssues(bytes, Schemas.official).isEmpty)
            }
        }
    }

    @Test(arguments: ownFormatFiles)
    func ownFormatSampleValidates(_ name: String) throws {
        let issues = try validationIssues(try Paths.bytes(Paths.samples.appendingPathComponent(name)), Schemas.own)
        #expect(issues.isEmpty, "\(issues)")
    }

    @Test func theBuiltInSchemasAreTheFilesOfTheSchemasFolder() throws {
        let files = Paths.files(in: Paths.ownSchemas, extension: "xsd")
        #expect(
            Set(OwnSchemas.all.map(\.name)) == Set(files.map(\.lastPathComponent)), "every file of schemas/ is built in"
        )
        for file in OwnSchemas.all {
            #expect(
                OwnSchemas.bytes(of: file) == (try Paths.bytes(Paths.ownSchemas.appendingPathComponent(file.name))),
                "\(file.name) is built in byte for byte")
        }
    }

    @Test func theBuiltInSchemasCatchAnInvalidOwnFile() throws {
        let text = String(
            decoding: try Paths.bytes(Paths.samples.appendingPathComponent("journal/requested.xml")), as: UTF8.self)
        let broken = text.replacingOccurrences(of: "</JournalEntry>", with: "<Bogus/></JournalEntry>")
        #expect(broken != text)
        #expect(try !validationIssues(Array(broken.utf8), Schemas.own).isEmpty)
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
    }
}

/// Every 8221 code helsenorge may send is understood in an incoming AppRec.
@Suite struct IncomingAppRecCodes {
    @Test(arguments: ["E20", "E36", "E53", "E54", "S03", "S99"])
    func anAppRecWithTheCodeDecodes(_ code: String) throws {
        let text = String(
            decoding: try Paths.bytes(Paths.samples.appendingPathComponent("in-AppRec-E35.xml")), as: UTF8.self)
        let changed = text.replacingOccurrences(of: #"V="E35""#, with: #"V="\#(code)""#)
        #expect(changed != text)
        guard case .appRec(let appRec) = try MessageCodec(schemas: nil).decode(Array(changed.utf8)) else {
            Issue.record("not an AppRec")
            return
        }
        #expect(appRec.errorCodes.map(\.rawValue) == [code])
    }
}
