import TimebokCore
import TimebokXML

/// An identifier with its type (`Ident`: `Id` + `TypeId`).
public struct Ident: Sendable, Hashable {
    public var id: String
    public var type: Code

    public init(id: String, type: Code) {
        self.id = id
        self.type = type
    }

    /// An organisation HER-id (`TypeId V="HER" S="…9051"`).
    public static func organisationHerId(_ id: String) -> Ident {
        Ident(id: id, type: OrganisationIdentifierType.herId.code)
    }
    /// An organisation number (`ENH`).
    public static func organisationNumber(_ id: String) -> Ident {
        Ident(id: id, type: OrganisationIdentifierType.organisationNumber.code)
    }
    /// A person's HER-id (`TypeId V="HER" S="…8116"`).
    public static func personHerId(_ id: String) -> Ident { Ident(id: id, type: PersonIdentifierType.herId.code) }
    /// An HPR number.
    public static func hpr(_ id: String) -> Ident { Ident(id: id, type: PersonIdentifierType.hprNummer.code) }
}

extension [Ident] {
    /// The first identifier whose `TypeId V` is `type`.
    public func first(ofType type: String) -> String? {
        first { $0.type.value == type }?.id.trimmedWhitespace
    }
}

/// A health professional (`HealthcareProfessional` in MsgHead and Dialogmelding).
public struct HealthcareProfessional: Sendable, Hashable {
    public var roleToPatient: Code?
    public var familyName: String?
    public var middleName: String?
    public var givenName: String?
    public var idents: [Ident]

    public init(
        roleToPatient: Code? = nil, familyName: String? = nil, middleName: String? = nil, givenName: String? = nil,
        idents: [Ident]
    ) {
        self.roleToPatient = roleToPatient
        self.familyName = familyName
        self.middleName = middleName
        self.givenName = givenName
        self.idents = idents
    }

    public var herId: String? { idents.first(ofType: PersonIdentifierType.herId.rawValue) }
    public var hprNumber: String? { idents.first(ofType: PersonIdentifierType.hprNummer.rawValue) }
    /// "Given Middle Family".
    public var fullName: String {
        [givenName, middleName, familyName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// An organisation with its second level: a service (nested organisation) or a professional.
public struct Organisation: Sendable, Hashable {
    public indirect enum Unit: Sendable, Hashable {
        case organisation(Organisation)
        case professional(HealthcareProfessional)
    }

    public var name: String
    public var idents: [Ident]
    /// The communication party below the enterprise, if any.
    public var unit: Unit?

    public init(name: String, idents: [Ident], unit: Unit? = nil) {
        self.name = name
        self.idents = idents
        self.unit = unit
    }

    public var herId: String? { idents.first(ofType: OrganisationIdentifierType.herId.rawValue) }
    public var organisationNumber: String? {
        idents.first(ofType: OrganisationIdentifierType.organisationNumber.rawValue)
    }

    /// The nested service organisation, if the second level is one.
    public var service: Organisation? {
        if case .organisation(let organisation) = unit { return organisation }
        return nil
    }

    /// The professional, if the second level is one.
    public var professional: HealthcareProfessional? {
        if case .professional(let professional) = unit { return professional }
        return nil
    }

    /// The HER-id of the communication party: the second level's when there is one, else the enterprise's.
    public var communicationPartyHerId: String? {
        switch unit {
        case .organisation(let organisation): return organisation.herId
        case .professional(let professional): return professional.herId
        case nil: return herId
        }
    }
}

/// The patient (`MsgInfo/Patient`).
public struct Patient: Sendable, Hashable {
    public var familyName: String?
    public var middleName: String?
    public var givenName: String?
    public var idents: [Ident]

    public init(familyName: String?, middleName: String? = nil, givenName: String?, idents: [Ident]) {
        self.familyName = familyName
        self.middleName = middleName
        self.givenName = givenName
        self.idents = idents
    }

    /// A patient identified by fødselsnummer or D-nummer.
    public init(
        familyName: String, givenName: String, identityNumber: String, kind: PersonIdentifierType = .fodselsnummer
    ) {
        self.init(familyName: familyName, givenName: givenName, idents: [Ident(id: identityNumber, type: kind.code)])
    }

    /// The fødselsnummer or D-nummer, as sent.
    public var identityNumber: String? {
        idents.first(ofType: PersonIdentifierType.fodselsnummer.rawValue)
            ?? idents.first(ofType: PersonIdentifierType.dNummer.rawValue)
    }
}

/// `MsgInfo/ConversationRef`.
public struct ConversationRef: Sendable, Hashable {
    public var refToParent: String
    public var refToConversation: String

    public init(refToParent: String, refToConversation: String) {
        self.refToParent = refToParent
        self.refToConversation = refToConversation
    }
}

/// `MsgInfo`: the envelope.
public struct MsgInfo: Sendable, Hashable {
    /// `Type`: the process (see ``process``).
    public var type: Code
    public var migVersion: String
    /// `GenDate`, as sent (xs:dateTime); an AppRec repeats it in `OriginalMsgId/IssueDate`.
    public var genDate: String
    public var msgId: String
    public var ack: Code?
    public var conversationRef: ConversationRef?
    public var sender: Organisation
    public var receiver: Organisation
    public var patient: Patient?

    public static let migVersion12 = "v1.2 2006-05-24"

    /// Every field as read (decoding).
    init(
        type: Code, migVersion: String, genDate: String, msgId: String, ack: Code?, conversationRef: ConversationRef?,
        sender: Organisation, receiver: Organisation, patient: Patient?
    ) {
        self.type = type
        self.migVersion = migVersion
        self.genDate = genDate
        self.msgId = msgId
        self.ack = ack
        self.conversationRef = conversationRef
        self.sender = sender
        self.receiver = receiver
        self.patient = patient
    }

    public init(
        process: DialogProcess, genDate: String, msgId: String, acknowledgementRequested: Bool,
        conversationRef: ConversationRef? = nil, sender: Organisation, receiver: Organisation, patient: Patient?
    ) {
        self.type = process.code
        self.migVersion = Self.migVersion12
        self.genDate = genDate
        self.msgId = msgId
        self.ack = acknowledgementRequested ? Code(value: "J", displayName: "Ja") : Code(value: "N", displayName: "Nei")
        self.conversationRef = conversationRef
        self.sender = sender
        self.receiver = receiver
        self.patient = patient
    }

    /// The process, when timebok serves it.
    public var process: DialogProcess? { DialogProcess(wireName: type.value) }

    /// True when the sender asks for an AppRec (`Ack V="J"`). Senders are not consistent; the
    /// protocol decides per function (``MessageFunction/expectsAppRec``).
    public var acknowledgementRequested: Bool { ack?.value == "J" }

    /// The envelope of a reply: new id and date, sender and receiver swapped on both levels, the
    /// patient repeated, `RefToParent` = this message, `RefToConversation` = this thread's first.
    /// A reply in this message's own process keeps its spelling of it (`MsgInfo/Type` as received).
    public func reply(
        process: DialogProcess? = nil, msgId: String, genDate: String, acknowledgementRequested: Bool
    ) -> MsgInfo {
        var reply = self
        if let process, process != self.process { reply.type = process.code }
        reply.migVersion = Self.migVersion12
        reply.msgId = msgId
        reply.genDate = genDate
        reply.ack =
            acknowledgementRequested ? Code(value: "J", displayName: "Ja") : Code(value: "N", displayName: "Nei")
        reply.conversationRef = ConversationRef(
            refToParent: self.msgId, refToConversation: conversationRef?.refToConversation ?? self.msgId)
        reply.sender = receiver
        reply.receiver = sender
        return reply
    }
}

// MARK: - Decoding

enum MsgHeadReader {
    static let mh = Namespace.msgHead

    static func msgInfo(_ element: XElement) throws(MessageError) -> MsgInfo {
        let ackElement = element.child(mh, "Ack")
        let conversation: ConversationRef?
        if let ref = element.child(mh, "ConversationRef") {
            conversation = ConversationRef(
                refToParent: try ref.requiredText(mh, "RefToParent").trimmedWhitespace,
                refToConversation: try ref.requiredText(mh, "RefToConversation").trimmedWhitespace)
        } else {
            conversation = nil
        }
        return MsgInfo(
            type: try element.requiredCode(mh, "Type"),
            migVersion: try element.requiredText(mh, "MIGversion"),
            genDate: try element.requiredText(mh, "GenDate"),
            msgId: try element.requiredText(mh, "MsgId").trimmedWhitespace,
            ack: ackElement?.code,
            conversationRef: conversation,
            sender: try organisation(try element.required(mh, "Sender").required(mh, "Organisation")),
            receiver: try organisation(try element.required(mh, "Receiver").required(mh, "Organisation")),
            patient: try element.child(mh, "Patient").map { (p: XElement) throws(MessageError) -> Patient in
                try patient(p)
            })
    }

    static func organisation(_ element: XElement) throws(MessageError) -> Organisation {
        var unit: Organisation.Unit?
        if let nested = element.child(mh, "Organisation") {
            unit = .organisation(try organisation(nested))
        } else if let professional = element.child(mh, "HealthcareProfessional") {
            unit = .professional(try healthcareProfessional(professional, namespace: mh, identNamespace: mh))
        }
        return Organisation(
            name: try element.requiredText(mh, "OrganisationName"),
            idents: try idents(element, namespace: mh, identNamespace: mh),
            unit: unit)
    }

    static func healthcareProfessional(
        _ element: XElement, namespace: String, identNamespace: String
    ) throws(MessageError) -> HealthcareProfessional {
        HealthcareProfessional(
            roleToPatient: element.optionalCode(namespace, "RoleToPatient"),
            familyName: element.optionalText(namespace, "FamilyName"),
            middleName: element.optionalText(namespace, "MiddleName"),
            givenName: element.optionalText(namespace, "GivenName"),
            idents: try idents(element, namespace: namespace, identNamespace: identNamespace))
    }

    static func patient(_ element: XElement) throws(MessageError) -> Patient {
        Patient(
            familyName: element.optionalText(mh, "FamilyName"),
            middleName: element.optionalText(mh, "MiddleName"),
            givenName: element.optionalText(mh, "GivenName"),
            idents: try idents(element, namespace: mh, identNamespace: mh))
    }

    /// `Ident` children; their `Id`/`TypeId` are in `identNamespace` (felleskomponent1 inside Dialogmelding).
    static func idents(_ element: XElement, namespace: String, identNamespace: String) throws(MessageError) -> [Ident] {
        var result: [Ident] = []
        for ident in element.children(namespace, "Ident") {
            result.append(
                Ident(
                    id: try ident.requiredText(identNamespace, "Id").trimmedWhitespace,
                    type: try ident.requiredCode(identNamespace, "TypeId")))
        }
        return result
    }
}

// MARK: - Encoding

enum MsgHeadWriter {
    static func msgInfo(_ info: MsgInfo, into w: inout XMLWriter) {
        w.element("MsgInfo") { w in
            w.element("Type", attributes: ["V": info.type.value, "DN": info.type.displayName], text: nil)
            w.element("MIGversion", text: info.migVersion)
            w.element("GenDate", text: info.genDate)
            w.element("MsgId", text: info.msgId)
            if let ack = info.ack { w.element("Ack", attributes: ["V": ack.value, "DN": ack.displayName], text: nil) }
            if let ref = info.conversationRef {
                w.element("ConversationRef") { w in
                    w.element("RefToParent", text: ref.refToParent)
                    w.element("RefToConversation", text: ref.refToConversation)
                }
            }
            w.element("Sender") { w in organisation(info.sender, into: &w) }
            w.element("Receiver") { w in organisation(info.receiver, into: &w) }
            if let patient = info.patient {
                w.element("Patient") { w in
                    w.optionalElement("FamilyName", text: patient.familyName)
                    w.optionalElement("MiddleName", text: patient.middleName)
                    w.optionalElement("GivenName", text: patient.givenName)
                    idents(patient.idents, identPrefix: "", into: &w)
                }
            }
        }
    }

    static func organisation(_ organisation: Organisation, into w: inout XMLWriter) {
        w.element("Organisation") { w in
            w.element("OrganisationName", text: organisation.name)
            idents(organisation.idents, identPrefix: "", into: &w)
            switch organisation.unit {
            case .organisation(let nested): self.organisation(nested, into: &w)
            case .professional(let professional): healthcareProfessional(professional, identPrefix: "", into: &w)
            case nil: break
            }
        }
    }

    static func healthcareProfessional(
        _ professional: HealthcareProfessional, identPrefix: String, into w: inout XMLWriter
    ) {
        w.element("HealthcareProfessional") { w in
            w.optionalCode("RoleToPatient", professional.roleToPatient)
            w.optionalElement("FamilyName", text: professional.familyName)
            w.optionalElement("MiddleName", text: professional.middleName)
            w.optionalElement("GivenName", text: professional.givenName)
            idents(professional.idents, identPrefix: identPrefix, into: &w)
        }
    }

    static func idents(_ idents: [Ident], identPrefix: String, into w: inout XMLWriter) {
        for ident in idents {
            w.element("Ident") { w in
                w.element(identPrefix + "Id", text: ident.id)
                w.code(identPrefix + "TypeId", ident.type)
            }
        }
    }
}
