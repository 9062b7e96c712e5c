import TimebokCore
import TimebokXML

/// A unit of an AppRec party: `Inst`, `Dept`, `HCPerson` or `HCProf` (name, id, id type).
public struct AppRecUnit: Sendable, Hashable {
    public var name: String?
    public var id: String?
    public var typeId: Code?

    public init(name: String?, id: String?, typeId: Code? = Code(value: "HER", displayName: "HER-id")) {
        self.name = name
        self.id = id
        self.typeId = typeId
    }
}

/// `Sender` or `Receiver` of an AppRec: a role, and an institution with its departments and
/// persons (or, rarely, a lone professional).
public struct AppRecParty: Sendable, Hashable {
    public var role: Code?
    public var institution: AppRecUnit?
    public var departments: [AppRecUnit]
    public var persons: [AppRecUnit]
    /// `HCProf`, the alternative to `Inst`.
    public var professional: AppRecUnit?

    public init(
        role: Code?, institution: AppRecUnit?, departments: [AppRecUnit] = [], persons: [AppRecUnit] = [],
        professional: AppRecUnit? = nil
    ) {
        self.role = role
        self.institution = institution
        self.departments = departments
        self.persons = persons
        self.professional = professional
    }

    /// The party's communication HER-id: its department's or person's, else the institution's.
    public var communicationPartyHerId: String? {
        (departments.first ?? persons.first ?? institution ?? professional)?.id?.trimmedWhitespace
    }

    /// The AppRec form of a MsgHead organisation: the enterprise as `Inst`, a nested service as `Dept`,
    /// a GP as `HCPerson`.
    public init(role: Code, organisation: Organisation) {
        self.init(role: role, institution: AppRecUnit(name: organisation.name, id: organisation.herId))
        switch organisation.unit {
        case .organisation(let service): departments = [AppRecUnit(name: service.name, id: service.herId)]
        case .professional(let person): persons = [AppRecUnit(name: person.fullName, id: person.herId)]
        case nil: break
        }
    }

    public static let primaryReceiverRole = Code(value: "PRIM", displayName: "Primærmottaker")
    public static let senderRole = Code(value: "AVS", displayName: "Avsender")
}

/// `OriginalMsgId`: which message an AppRec answers.
public struct OriginalMsgId: Sendable, Hashable {
    /// The original `MsgInfo/Type`.
    public var msgType: Code
    /// The original `GenDate`.
    public var issueDate: String
    /// The original `MsgId`.
    public var id: String

    public init(msgType: Code, issueDate: String, id: String) {
        self.msgType = msgType
        self.issueDate = issueDate
        self.id = id
    }
}

/// Applikasjonskvittering (AppRec 1.1; 1.0 is read too).
public struct AppRec: Sendable, Hashable {
    public enum Version: Sendable, Hashable {
        case v1_0
        case v1_1
        var namespace: String { self == .v1_0 ? Namespace.appRec10 : Namespace.appRec11 }
        /// The schemas' default `MIGversion`.
        public var migVersion: String { self == .v1_0 ? "1.0 2004-11-21" : "v1.1 2012-02-15" }
    }

    public var version: Version
    public var migVersion: String
    public var softwareName: String?
    public var softwareVersion: String?
    public var genDate: String
    public var id: String
    public var sender: AppRecParty
    public var receiver: AppRecParty
    /// `Status` (8258).
    public var status: Code
    /// `Error` (8221), with optional `OT` free text.
    public var errors: [Code]
    public var original: OriginalMsgId

    public init(
        version: Version = .v1_1, softwareName: String? = nil, softwareVersion: String? = nil, genDate: String,
        id: String, sender: AppRecParty, receiver: AppRecParty, status: AppRecStatus, errors: [Code] = [],
        original: OriginalMsgId
    ) {
        self.version = version
        self.migVersion = version.migVersion
        self.softwareName = softwareName
        self.softwareVersion = softwareVersion
        self.genDate = genDate
        self.id = id
        self.sender = sender
        self.receiver = receiver
        self.status = status.simpleCode
        self.errors = errors
        self.original = original
    }

    /// The AppRec answering `message`: we (its receiver) are the sender with role PRIM, its sender
    /// is the receiver with role AVS, `OriginalMsgId` repeats its type, GenDate and MsgId.
    /// Status is 1 (OK) without errors and 2 (Avvist) with them: the protocol requires an Error for 2.
    public static func answering(
        _ message: MsgInfo, id: String, genDate: String, errors: [(AppRecErrorCode, String?)] = [],
        softwareName: String? = nil, softwareVersion: String? = nil
    ) -> AppRec {
        AppRec(
            softwareName: softwareName, softwareVersion: softwareVersion, genDate: genDate, id: id,
            sender: AppRecParty(role: AppRecParty.primaryReceiverRole, organisation: message.receiver),
            receiver: AppRecParty(role: AppRecParty.senderRole, organisation: message.sender),
            status: errors.isEmpty ? .ok : .rejected,
            errors: errors.map { code, text in
                Code(
                    value: code.rawValue, system: AppRecErrorCode.system, displayName: code.displayName,
                    originalText: text)
            },
            original: OriginalMsgId(
                msgType: Code(value: message.type.value, displayName: message.type.displayName),
                issueDate: message.genDate, id: message.msgId))
    }

    public var appRecStatus: AppRecStatus? { AppRecStatus(rawValue: status.value) }
    public var errorCodes: [AppRecErrorCode] { errors.compactMap { AppRecErrorCode(rawValue: $0.value) } }
}

enum AppRecCodec {
    static func decode(_ root: XElement, version: AppRec.Version) throws(MessageError) -> AppRec {
        let ns = version.namespace
        let original = try root.required(ns, "OriginalMsgId")
        var appRec = AppRec(
            version: version, genDate: try root.requiredText(ns, "GenDate"),
            id: try root.requiredText(ns, "Id").trimmedWhitespace,
            sender: try party(try root.required(ns, "Sender"), ns),
            receiver: try party(try root.required(ns, "Receiver"), ns),
            status: .ok,
            errors: root.children(ns, "Error").map(\.code),
            original: OriginalMsgId(
                msgType: try original.requiredCode(ns, "MsgType"),
                issueDate: try original.requiredText(ns, "IssueDate"),
                id: try original.requiredText(ns, "Id").trimmedWhitespace))
        appRec.migVersion = try root.requiredText(ns, "MIGversion")
        appRec.softwareName = root.optionalText(ns, "SoftwareName")
        appRec.softwareVersion = root.optionalText(ns, "SoftwareVersion")
        appRec.status = try root.requiredCode(ns, "Status")
        return appRec
    }

    static func party(_ element: XElement, _ ns: String) throws(MessageError) -> AppRecParty {
        let hcp = try element.required(ns, "HCP")
        var party = AppRecParty(role: element.optionalCode(ns, "Role"), institution: nil)
        if let inst = hcp.child(ns, "Inst") {
            party.institution = unit(inst, ns)
            party.departments = inst.children(ns, "Dept").map { unit($0, ns) }
            party.persons = inst.children(ns, "HCPerson").map { unit($0, ns) }
        } else if let professional = hcp.child(ns, "HCProf") {
            party.professional = unit(professional, ns)
        } else {
            throw MessageError(
                .missingElement, .otherFormatError, "\(hcp.path) has neither Inst nor HCProf.", line: hcp.line)
        }
        return party
    }

    static func unit(_ element: XElement, _ ns: String) -> AppRecUnit {
        AppRecUnit(
            name: element.optionalText(ns, "Name"), id: element.optionalText(ns, "Id"),
            typeId: element.optionalCode(ns, "TypeId"))
    }

    static func encode(_ appRec: AppRec) -> [UInt8] {
        var w = XMLWriter()
        w.element("AppRec", attributes: ["xmlns": appRec.version.namespace]) { w in
            w.element("MsgType", attributes: ["V": "APPREC", "DN": "Applikasjonskvittering"], text: nil)
            w.element("MIGversion", text: appRec.migVersion)
            w.optionalElement("SoftwareName", text: appRec.softwareName)
            w.optionalElement("SoftwareVersion", text: appRec.softwareVersion)
            w.element("GenDate", text: appRec.genDate)
            w.element("Id", text: appRec.id)
            party("Sender", appRec.sender, into: &w)
            party("Receiver", appRec.receiver, into: &w)
            w.element("Status", attributes: ["V": appRec.status.value, "DN": appRec.status.displayName], text: nil)
            for error in appRec.errors { w.code("Error", error) }
            w.element("OriginalMsgId") { w in
                w.element(
                    "MsgType",
                    attributes: ["V": appRec.original.msgType.value, "DN": appRec.original.msgType.displayName],
                    text: nil)
                w.element("IssueDate", text: appRec.original.issueDate)
                w.element("Id", text: appRec.original.id)
            }
        }
        return w.finish()
    }

    static func party(_ name: String, _ party: AppRecParty, into w: inout XMLWriter) {
        w.element(name) { w in
            if let role = party.role {
                w.element("Role", attributes: ["V": role.value, "DN": role.displayName], text: nil)
            }
            w.element("HCP") { w in
                if let institution = party.institution {
                    w.element("Inst") { w in
                        unitFields(institution, into: &w)
                        for department in party.departments {
                            w.element("Dept") { w in unitFields(department, into: &w) }
                        }
                        for person in party.persons { w.element("HCPerson") { w in unitFields(person, into: &w) } }
                    }
                } else if let professional = party.professional {
                    w.element("HCProf") { w in unitFields(professional, into: &w) }
                }
            }
        }
    }

    static func unitFields(_ unit: AppRecUnit, into w: inout XMLWriter) {
        w.optionalElement("Name", text: unit.name)
        w.optionalElement("Id", text: unit.id)
        if let typeId = unit.typeId {
            w.element("TypeId", attributes: ["V": typeId.value, "DN": typeId.displayName], text: nil)
        }
    }
}
