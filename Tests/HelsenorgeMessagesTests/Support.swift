import Foundation
import HelsenorgeMessages
import TimebokSchemas
import TimebokTestKit
import TimebokXML

/// Paths to the project and to the official reference material (../shared/reference).
enum Paths {
    static let packageRoot = ReferenceMaterial.packageRoot
    static let reference = ReferenceMaterial.root
    static let officialSchemas = ReferenceMaterial.schemas
    static let examples = ReferenceMaterial.examples
    static let samples = packageRoot.appendingPathComponent("samples")
    static let ownSchemas = packageRoot.appendingPathComponent("schemas")

    static func files(in directory: URL, extension ext: String = "xml") -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }
}

/// Compiled once per test process (compiling the official set takes a while). The official sets
/// are failures, never crashes, where the reference material is missing: the tests that use them
/// are gated with `.needsReferenceMaterial`.
enum Schemas {
    static let catalog = Paths.officialSchemas.appendingPathComponent("catalog.xml").path
    /// The official driver alone.
    static let official: Result<SchemaSet, any Error> = compile {
        try SchemaSet(file: Paths.officialSchemas.appendingPathComponent("driver-all.xsd").path, catalogs: [catalog])
    }
    /// The official driver plus timebok's own schemas (what timebok validates with when configured).
    static let combined: Result<SchemaSet, any Error> = compile {
        try SchemaLevel.official(folder: Paths.officialSchemas.path).compileMessageSchemas()!
    }
    /// timebok's own schemas, built into the binary: always there.
    static let own: Result<SchemaSet, any Error> = Result { try OwnSchemas.compileAll() }

    private static func compile(_ make: () throws -> SchemaSet) -> Result<SchemaSet, any Error> {
        do {
            try ReferenceMaterial.require()
            return .success(try make())
        } catch {
            return .failure(error)
        }
    }
}

extension Result where Failure == any Error {
    /// The value, for a codec (nil: decode without schema validation).
    var value: Success? { try? get() }
}

func validationIssues(_ bytes: [UInt8], _ schemas: Result<SchemaSet, any Error>) throws -> [XMLIssue] {
    try schemas.get().validate(try HardenedXMLParser.parse(bytes))
}
