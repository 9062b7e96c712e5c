import TimebokXML

/// The namespaces of timebok's own files (schemas/), never selected by prefix.
public enum OfficeNamespace {
    /// Command files and their results (schemas/command-v1.xsd).
    public static let command = "http://timebok.no/xmlstds/command/v1"
    /// Journal entries (schemas/journal-v1.xsd).
    public static let journal = "http://timebok.no/xmlstds/journal/v1"
}

/// Which of timebok's own files a root element makes (by namespace and local name).
public enum OfficeDocumentKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case command
    case commandResult
    case journalEntry

    /// nil when the root is none of timebok's own files.
    public init?(root: XElement) {
        switch (root.namespace, root.name) {
        case (OfficeNamespace.command, "Command"): self = .command
        case (OfficeNamespace.command, "CommandResult"): self = .commandResult
        case (OfficeNamespace.journal, "JournalEntry"): self = .journalEntry
        default: return nil
        }
    }

    /// Its root element's local name.
    public var rootName: String {
        switch self {
        case .command: return "Command"
        case .commandResult: return "CommandResult"
        case .journalEntry: return "JournalEntry"
        }
    }

    public var description: String {
        switch self {
        case .command: return "timebok command"
        case .commandResult: return "timebok command result"
        case .journalEntry: return "timebok journal entry"
        }
    }
}
