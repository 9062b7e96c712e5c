import TimebokCore

/// Transport metadata beside a message (PROTOCOL.md §7; format in the README): `key = value` lines.
public struct TransportMeta: Sendable, Hashable {
    public var values: [String: String]

    public init(values: [String: String] = [:]) { self.values = values }

    public subscript(key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }

    public static let inputKeys: Set<String> = [
        "message-id", "correlation-id", "reply-to", "subject", "from-her-id", "to-her-id",
    ]

    /// Parses an input's `.meta`. Unknown keys and lines that are not `key = value` are errors.
    public static func parse(_ text: String) throws -> TransportMeta {
        var values: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasPrefix("#") ? "" : String(raw)
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw FormatError(.metaLine, "The .meta file's line \(index + 1) is not `key = value`.")
            }
            let key = String(line[..<equals]).trimmedWhitespace
            guard inputKeys.contains(key) else {
                throw FormatError(.metaUnknownKey, "The .meta file's line \(index + 1) has the unknown key \"\(key)\".")
            }
            values[key] = String(line[line.index(after: equals)...]).trimmedWhitespace
        }
        return TransportMeta(values: values)
    }

    /// The `.meta` timebok writes beside an output.
    public func rendered() -> [UInt8] {
        var text = "# timebok transport metadata v1\n"
        // A key without a value is left out, never written empty.
        for key in ["destination", "correlation-id", "subject", "from-her-id", "to-her-id", "message-id"] {
            if let value = values[key], !value.isEmpty { text += "\(key) = \(value)\n" }
        }
        return Array(text.utf8)
    }
}
