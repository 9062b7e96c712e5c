import Foundation
import TimebokXML

/// Where the schemas are: the official set (a folder with `driver-all.xsd` and `catalog.xml`,
/// as in ../shared/reference/schemas) and timebok's own (`schemas/` of the project).
public struct SchemaLocations: Sendable, Hashable {
    /// Folder holding `driver-all.xsd` and `catalog.xml`.
    public var official: String
    /// Folder holding timebok's own `*.xsd`.
    public var own: String

    public init(official: String, own: String) {
        self.official = official
        self.own = own
    }

    public struct NotFound: Error, CustomStringConvertible {
        public var description: String
    }

    /// Finds the schema folders: explicit paths first, then `TIMEBOK_SCHEMAS` / `TIMEBOK_OWN_SCHEMAS`,
    /// then a search upwards from each of `searchRoots` for `shared/reference/schemas/driver-all.xsd`
    /// and `schemas/command-v1.xsd` (a checkout of the project beside ../shared).
    public static func locate(official: String? = nil, own: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment, searchRoots: [String]) throws -> SchemaLocations {
        let officialDir = official ?? environment["TIMEBOK_SCHEMAS"] ?? search(searchRoots, for: ["shared/reference/schemas", "reference/schemas"], containing: "driver-all.xsd")
        let ownDir = own ?? environment["TIMEBOK_OWN_SCHEMAS"] ?? search(searchRoots, for: ["schemas", "main/schemas"], containing: "command-v1.xsd")
        guard let officialDir, FileManager.default.fileExists(atPath: officialDir + "/driver-all.xsd") else {
            throw NotFound(description: "The official schema set was not found (a folder with driver-all.xsd and catalog.xml, like ../shared/reference/schemas). Name it with --schemas DIR or TIMEBOK_SCHEMAS.")
        }
        guard let ownDir, FileManager.default.fileExists(atPath: ownDir + "/command-v1.xsd") else {
            throw NotFound(description: "timebok's own schemas were not found (the project's schemas/ folder). Name it with --own-schemas DIR or TIMEBOK_OWN_SCHEMAS.")
        }
        return SchemaLocations(official: officialDir, own: ownDir)
    }

    /// timebok's own schema files.
    public var ownFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: own)) ?? []
        return names.filter { $0.hasSuffix(".xsd") }.sorted().map { own + "/" + $0 }
    }

    /// Compiles the official driver and timebok's own schemas into one set (MsgHead's Content is a
    /// strict wildcard, so our payload namespaces must be loaded beside the official ones).
    public func compile() throws(XMLError) -> SchemaSet {
        try SchemaSet(combining: [official + "/driver-all.xsd"] + ownFiles, catalogs: [official + "/catalog.xml"])
    }

    private static func search(_ roots: [String], for candidates: [String], containing file: String) -> String? {
        for root in roots {
            var directory = URL(fileURLWithPath: root).standardizedFileURL
            for _ in 0..<8 {
                for candidate in candidates {
                    let path = directory.appendingPathComponent(candidate).path
                    if FileManager.default.fileExists(atPath: path + "/" + file) { return path }
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}
