import TimebokCore
import TimebokXML

/// `RollerRelatertNotat`: a professional related to the note, with a role (9034), e.g. 23 Ønsket behandler.
public struct RelatedProfessional: Sendable, Hashable {
    public var roleToPatient: Code?
    public var professional: HealthcareProfessional

    public init(roleToPatient: Code?, professional: HealthcareProfessional) {
        self.roleToPatient = roleToPatient
        self.professional = professional
    }

    public var role: RoleToPatient? { roleToPatient?.decode(as: RoleToPatient.self) }
}

/// `Foresporsel`: a request (and, by exception, the Avtale push).
public struct Foresporsel: Sendable, Hashable {
    /// `TypeForesp`: 7601 (requests), 7603 (KT) or 7602 (the Avtale push).
    public var typeForesp: Code
    /// `EmneSporsmal` (≤ 50 characters in the user interface).
    public var emneSporsmal: String?
    /// `Sporsmal`: plain text (XHTML content is read as its text).
    public var sporsmal: String?
    public var fraDato: LocalDate?
    public var tilDato: LocalDate?
    /// `KodetOpplysning` (1101): for ReserverAvtale, "1 Ja" means the prerequisites were accepted.
    public var kodetOpplysning: Code?
    public var relatedProfessionals: [RelatedProfessional]

    public init(
        typeForesp: Code, emneSporsmal: String? = nil, sporsmal: String? = nil, fraDato: LocalDate? = nil,
        tilDato: LocalDate? = nil, kodetOpplysning: Code? = nil, relatedProfessionals: [RelatedProfessional] = []
    ) {
        self.typeForesp = typeForesp
        self.emneSporsmal = emneSporsmal
        self.sporsmal = sporsmal
        self.fraDato = fraDato
        self.tilDato = tilDato
        self.kodetOpplysning = kodetOpplysning
        self.relatedProfessionals = relatedProfessionals
    }

    public var requestType: RequestType? { typeForesp.decode(as: RequestType.self) }
    public var answerCode: AnswerCode? { typeForesp.decode(as: AnswerCode.self) }
    /// True when `KodetOpplysning` is 1 Ja.
    public var answeredYes: Bool { kodetOpplysning?.decode(as: YesNo.self) == .ja }
}

/// `Notat`: every reply's content.
public struct Notat: Sendable, Hashable {
    /// `TemaKodet`: 7602 (or 7603 RKT).
    public var temaKodet: Code
    public var tema: String?
    /// `TekstNotatInnhold` (≤ 1000 characters): text for the citizen.
    public var tekstNotatInnhold: String?
    public var relatedProfessionals: [RelatedProfessional]

    public init(
        temaKodet: Code, tema: String? = nil, tekstNotatInnhold: String? = nil,
        relatedProfessionals: [RelatedProfessional] = []
    ) {
        self.temaKodet = temaKodet
        self.tema = tema
        self.tekstNotatInnhold = tekstNotatInnhold
        self.relatedProfessionals = relatedProfessionals
    }

    public var answerCode: AnswerCode? { temaKodet.decode(as: AnswerCode.self) }
}

/// Dialogmelding 1.1: requests (`Foresporsel`) or notes (`Notat`), never both (an XSD choice).
public struct Dialogmelding: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case foresporsel([Foresporsel])
        case notat([Notat])
    }

    public var body: Body

    public init(foresporsel: [Foresporsel]) { body = .foresporsel(foresporsel) }
    public init(notat: [Notat]) { body = .notat(notat) }

    /// The requests (empty for a note).
    public var foresporsel: [Foresporsel] {
        if case .foresporsel(let items) = body { return items }
        return []
    }

    /// The notes (empty for a request).
    public var notat: [Notat] {
        if case .notat(let items) = body { return items }
        return []
    }
}

enum DialogmeldingCodec {
    static let dia = Namespace.dialogmelding
    static let fk1 = Namespace.felleskomponent1

    static func decode(_ root: XElement) throws(MessageError) -> Dialogmelding {
        var requests: [Foresporsel] = []
        var notes: [Notat] = []
        for element in root.children {
            if element.isNamed(dia, "Foresporsel") {
                requests.append(try foresporsel(element))
            } else if element.isNamed(dia, "Notat") {
                notes.append(try notat(element))
            }
        }
        switch (requests.isEmpty, notes.isEmpty) {
        case (false, true): return Dialogmelding(foresporsel: requests)
        case (true, false): return Dialogmelding(notat: notes)
        case (false, false):
            throw MessageError(
                .badValue, .schemaInvalid,
                "The Dialogmelding has both Foresporsel and Notat; it may have only one kind.", line: root.line)
        case (true, true):
            throw MessageError(
                .missingElement, .otherFormatError, "The Dialogmelding has neither a Foresporsel nor a Notat.",
                line: root.line)
        }
    }

    static func foresporsel(_ element: XElement) throws(MessageError) -> Foresporsel {
        Foresporsel(
            typeForesp: try element.requiredCode(dia, "TypeForesp"),
            emneSporsmal: element.optionalText(dia, "EmneSporsmal"),
            sporsmal: element.optionalText(dia, "Sporsmal"),
            fraDato: try date(element, "FraDato"),
            tilDato: try date(element, "TilDato"),
            kodetOpplysning: element.optionalCode(dia, "KodetOpplysning"),
            relatedProfessionals: try related(element))
    }

    static func notat(_ element: XElement) throws(MessageError) -> Notat {
        Notat(
            temaKodet: try element.requiredCode(dia, "TemaKodet"),
            tema: element.optionalText(dia, "Tema"),
            tekstNotatInnhold: element.optionalText(dia, "TekstNotatInnhold"),
            relatedProfessionals: try related(element))
    }

    static func date(_ element: XElement, _ name: String) throws(MessageError) -> LocalDate? {
        guard let child = element.child(dia, name) else { return nil }
        guard let date = LocalDate(child.text) else {
            throw MessageError(
                .badDateTime, .otherFormatError, "\(child.path) is not a date (YYYY-MM-DD): \"\(child.text)\".",
                line: child.line)
        }
        return date
    }

    static func related(_ element: XElement) throws(MessageError) -> [RelatedProfessional] {
        var result: [RelatedProfessional] = []
        for role in element.children(dia, "RollerRelatertNotat") {
            // Only a HealthcareProfessional is meaningful to timebok (role 23 Ønsket behandler + HPR).
            guard let professional = role.child(dia, "HealthcareProfessional") else { continue }
            result.append(
                RelatedProfessional(
                    roleToPatient: role.optionalCode(dia, "RoleToPatient"),
                    professional: try MsgHeadReader.healthcareProfessional(
                        professional, namespace: dia, identNamespace: fk1)))
        }
        return result
    }

    static func encode(_ dialog: Dialogmelding, into w: inout XMLWriter) {
        w.element("Dialogmelding", attributes: ["xmlns": dia, "xmlns:fk1": fk1]) { w in
            switch dialog.body {
            case .foresporsel(let items): for item in items { foresporsel(item, into: &w) }
            case .notat(let items): for item in items { notat(item, into: &w) }
            }
        }
    }

    static func foresporsel(_ item: Foresporsel, into w: inout XMLWriter) {
        w.element("Foresporsel") { w in
            w.code("TypeForesp", item.typeForesp)
            w.optionalElement("EmneSporsmal", text: item.emneSporsmal)
            w.optionalElement("Sporsmal", text: item.sporsmal)
            w.optionalElement("FraDato", text: item.fraDato?.description)
            w.optionalElement("TilDato", text: item.tilDato?.description)
            w.optionalCode("KodetOpplysning", item.kodetOpplysning)
            related(item.relatedProfessionals, into: &w)
        }
    }

    static func notat(_ item: Notat, into w: inout XMLWriter) {
        w.element("Notat") { w in
            w.code("TemaKodet", item.temaKodet)
            w.optionalElement("Tema", text: item.tema)
            w.optionalElement("TekstNotatInnhold", text: item.tekstNotatInnhold)
            related(item.relatedProfessionals, into: &w)
        }
    }

    static func related(_ items: [RelatedProfessional], into w: inout XMLWriter) {
        for item in items {
            w.element("RollerRelatertNotat") { w in
                w.optionalCode("RoleToPatient", item.roleToPatient)
                MsgHeadWriter.healthcareProfessional(item.professional, identPrefix: "fk1:", into: &w)
            }
        }
    }
}
