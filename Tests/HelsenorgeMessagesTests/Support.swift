import Foundation
import HelsenorgeMessages
import TimebokXML

/// Paths to the project and to the official reference material (../shared/reference).
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let reference: URL = {
        if let override = ProcessInfo.processInfo.environment["TIMEBOK_REFERENCE"] { return URL(fileURLWithPath: override) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
    }()
    static let officialSchemas = reference.appendingPathComponent("schemas")
    static let examples = reference.appendingPathComponent("examples")
    static let samples = packageRoot.appendingPathComponent("samples")
    static let ownSchemas = packageRoot.appendingPathComponent("schemas")

    static func files(in directory: URL, extension ext: String = "xml") -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }
}

/// Compiled once per test process (compiling the official set takes a while).
enum Schemas {
    static let catalog = Paths.officialSchemas.appendingPathComponent("catalog.xml").path
    /// The official driver alone.
    static let official: SchemaSet = {
        do { return try SchemaSet(file: Paths.officialSchemas.appendingPathComponent("driver-all.xsd").path, catalogs: [catalog]) } catch { fatalError("\(error)") }
    }()
    /// The official driver plus timebok's own schemas (what timebok validates with).
    static let combined: SchemaSet = {
        do {
            return try SchemaSet(combining: [Paths.officialSchemas.appendingPathComponent("driver-all.xsd").path]
                + Paths.files(in: Paths.ownSchemas, extension: "xsd").map(\.path), catalogs: [catalog])
        } catch { fatalError("\(error)") }
    }()
}

func validationIssues(_ bytes: [UInt8], _ schemas: SchemaSet) throws -> [XMLIssue] {
    schemas.validate(try HardenedXMLParser.parse(bytes))
}
