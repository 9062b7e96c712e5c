import Foundation
import TimebokXML

/// timebok's own XML Schemas, the project's `schemas/` folder, compiled into the binary: a fresh
/// clone, an installed binary or a test harness needs nothing beside it to check command files,
/// results, journal entries and the resource-book list.
///
/// libxml2 reads them from memory under `timebok:schemas/NAME` (see ``XMLLibrary/embed(_:at:)``).
/// A folder may replace them (`schemas.own` in `timebok.conf`, for someone changing the schemas).
public enum OwnSchemas {
    /// One of timebok's schema files.
    public struct File: Sendable, Hashable {
        /// The file name in `schemas/`.
        public var name: String
        /// Where libxml2 finds the built-in copy.
        public var url: String { "timebok:schemas/" + name }
    }

    public static let command = File(name: "command-v1.xsd")
    public static let journal = File(name: "journal-v1.xsd")
    public static let resourceBooks = File(name: "resourcebooks-v1.xsd")
    /// Every file of `schemas/` (a test checks that none is missing).
    public static let all = [command, journal, resourceBooks]

    private static let registered: Bool = {
        for (file, bytes) in [
            (command, PackageResources.command_v1_xsd), (journal, PackageResources.journal_v1_xsd),
            (resourceBooks, PackageResources.resourcebooks_v1_xsd),
        ] {
            XMLLibrary.embed(bytes, at: file.url)
        }
        return true
    }()

    /// The built-in bytes of a file.
    public static func bytes(of file: File) -> [UInt8] {
        _ = registered
        return XMLLibrary.embeddedContent(at: file.url) ?? []
    }

    /// Where to read `file` from: the folder that replaces the built-in copies, else the built-in copy.
    public static func location(of file: File, folder: String? = nil) -> String {
        _ = registered
        if let folder { return folder + "/" + file.name }
        return file.url
    }

    /// Compiles one of timebok's schemas.
    public static func compile(_ file: File, folder: String? = nil) throws(XMLError) -> SchemaSet {
        try SchemaSet(file: location(of: file, folder: folder))
    }

    /// All of timebok's own schemas in one set: what checks timebok's files when no official set is configured.
    public static func compileAll(folder: String? = nil) throws(XMLError) -> SchemaSet {
        try SchemaSet(combining: all.map { location(of: $0, folder: folder) })
    }
}

/// The two levels of checking helsenorge messages (DESIGN.md): the built-in one, which needs
/// nothing outside timebok, and the official schema set on top of it, when an operator has it.
public enum SchemaLevel: Sendable, Hashable, CustomStringConvertible {
    /// Hardened parse, the typed decoder with its inbound rules, and timebok's own schemas.
    case builtIn
    /// All of that, and every message validated against the official schemas in this folder.
    case official(folder: String)

    public init(officialFolder: String?) {
        self = officialFolder.map { .official(folder: $0) } ?? .builtIn
    }

    /// One line for people: which level is in force.
    public var description: String {
        switch self {
        case .builtIn:
            return
                "Checking: built-in rules (hardened XML parse, typed decoder with the protocol's inbound rules, timebok's own schemas); the official schemas are not configured."
        case .official(let folder):
            return "Checking: built-in rules and the official schema set in \(folder)."
        }
    }

    /// The official set (driver-all.xsd, with its catalog.xml) with timebok's own schemas in one
    /// compiled set: MsgHead's `RefDoc/Content` is a strict wildcard, so timebok's payload
    /// namespaces must be loaded beside the official ones. nil at the built-in level.
    public func compileMessageSchemas(ownFolder: String? = nil) throws(XMLError) -> SchemaSet? {
        guard case .official(let folder) = self else { return nil }
        guard FileManager.default.fileExists(atPath: folder + "/driver-all.xsd") else {
            throw XMLError(
                .schemaUnusable,
                "The official schema folder \(folder) has no driver-all.xsd (the official bundle has driver-all.xsd and catalog.xml at its top)."
            )
        }
        let catalog = folder + "/catalog.xml"
        return try SchemaSet(
            combining: [folder + "/driver-all.xsd"]
                + OwnSchemas.all.map { OwnSchemas.location(of: $0, folder: ownFolder) },
            catalogs: FileManager.default.fileExists(atPath: catalog) ? [catalog] : [])
    }
}
