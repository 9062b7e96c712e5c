/// A coded value as KITH messages carry it: `V` (value), `S` (code system OID), `DN` (display name),
/// `OT` (original text). `CS` elements use only `V` and `DN`.
public struct Code: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    public var system: String?
    public var displayName: String?
    public var originalText: String?

    public init(value: String, system: String? = nil, displayName: String? = nil, originalText: String? = nil) {
        self.value = value
        self.system = system
        self.displayName = displayName
        self.originalText = originalText
    }

    /// Interprets the value in a code list; nil when the value is not in it or the system differs.
    public func decode<List: CodeList>(as list: List.Type) -> List? {
        if let system, system != List.system { return nil }
        return List(rawValue: value)
    }

    public var description: String {
        displayName.map { "\(value) (\($0))" } ?? value
    }
}

/// An official code list (volven.no) as a Swift enum: raw value = `V`, ``displayName`` = `DN`.
public protocol CodeList: RawRepresentable<String>, CaseIterable, Sendable, Hashable {
    /// The code system's OID (`S`).
    static var system: String { get }
    /// The official display name (`DN`).
    var displayName: String { get }
}

extension CodeList {
    /// The value as a ``Code`` with `V`, `S` and `DN`.
    public var code: Code { Code(value: rawValue, system: Self.system, displayName: displayName) }
    /// The value as a `CS` code (`V` and `DN`, no system).
    public var simpleCode: Code { Code(value: rawValue, displayName: displayName) }
}
