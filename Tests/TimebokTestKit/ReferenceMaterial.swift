import Foundation
import Testing

/// The official reference material: the official schemas and example messages in
/// `../shared/reference` beside the project (or `$TIMEBOK_REFERENCE`), and the protocol text
/// `../shared/PROTOCOL.md`. A fresh clone has none of it: the tests that need it are then reported
/// as not run, by name and with the reason, and the rest of the suite runs. Where it is required
/// (`TIMEBOK_REQUIRE_REFERENCE=1`, as in CI) they run anyway, so its absence is a failure.
public enum ReferenceMaterial {
    /// The project's root folder.
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `$TIMEBOK_REFERENCE`, else `../shared/reference` beside the project.
    public static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["TIMEBOK_REFERENCE"], !override.isEmpty {
            return URL(fileURLWithPath: override).standardizedFileURL
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
    }()

    public static var schemas: URL { root.appendingPathComponent("schemas") }
    public static var examples: URL { root.appendingPathComponent("examples") }
    /// `PROTOCOL.md`, the wire contract, beside the reference folder.
    public static var protocolText: URL { root.deletingLastPathComponent().appendingPathComponent("PROTOCOL.md") }

    /// What must be there, each with why.
    static var expected: [(path: String, what: String)] {
        [
            (schemas.appendingPathComponent("driver-all.xsd").path, "the official schema set"),
            (schemas.appendingPathComponent("catalog.xml").path, "its catalog"),
            (examples.path, "the official example messages"),
            (protocolText.path, "the protocol text"),
        ]
    }

    /// What is missing, for people (empty when everything is there).
    public static let missing: [String] = expected.filter { !FileManager.default.fileExists(atPath: $0.path) }.map {
        "\($0.what) (\($0.path))"
    }

    public static var isPresent: Bool { missing.isEmpty }

    /// `TIMEBOK_REQUIRE_REFERENCE=1`: the material must be there (CI).
    public static let isRequired = ProcessInfo.processInfo.environment["TIMEBOK_REQUIRE_REFERENCE"] == "1"

    /// Why a gated test did not run.
    public static var notRunReason: String {
        "not run: the official reference material is missing: \(missing.joined(separator: "; ")). Put ../shared/reference beside the project or set TIMEBOK_REFERENCE."
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws, naming what is missing, when the material is not there.
    public static func require() throws {
        guard isPresent else {
            throw Missing(
                description:
                    "The official reference material is required\(isRequired ? " (TIMEBOK_REQUIRE_REFERENCE=1)" : "") but missing: \(missing.joined(separator: "; "))."
            )
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that need the official reference material: where it is missing they are skipped
    /// with the reason (unless it is required, when they run and fail).
    public static var needsReferenceMaterial: Self {
        .enabled(
            if: ReferenceMaterial.isPresent || ReferenceMaterial.isRequired,
            Comment(rawValue: ReferenceMaterial.notRunReason))
    }
}
