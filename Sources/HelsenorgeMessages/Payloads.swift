import TimebokXML

/// One practitioner in the Behandleroversikt answer (Helsepersonell list 2015-05-04).
public struct Practitioner: Sendable, Hashable {
    public var familyName: String?
    public var middleName: String?
    public var givenName: String?
    public var idents: [Ident]
    /// `Merknad` of the list entry.
    public var note: String?

    public init(
        familyName: String?, middleName: String? = nil, givenName: String?, idents: [Ident], note: String? = nil
    ) {
        self.familyName = familyName
        self.middleName = middleName
        self.givenName = givenName
        self.idents = idents
        self.note = note
    }

    public var hprNumber: String? { idents.first(ofType: PersonIdentifierType.hprNummer.rawValue) }
}

/// One resource book in the Ressursoversikt answer (timebok's payload, PROTOCOL.md §9.2).
public struct ResourceBookSummary: Sendable, Hashable {
    public var id: String
    public var herId: String
    public var name: String
    public var category: AppointmentCategory
    /// The prerequisites text (≤ 300 characters).
    public var informationText: String
    public var location: String?
    public var slotMinutes: Int
    public var automaticConfirmation: Bool
    public var prerequisitesMustBeAccepted: Bool

    public init(
        id: String, herId: String, name: String, category: AppointmentCategory, informationText: String,
        location: String?, slotMinutes: Int, automaticConfirmation: Bool, prerequisitesMustBeAccepted: Bool
    ) {
        self.id = id
        self.herId = herId
        self.name = name
        self.category = category
        self.informationText = informationText
        self.location = location
        self.slotMinutes = slotMinutes
        self.automaticConfirmation = automaticConfirmation
        self.prerequisitesMustBeAccepted = prerequisitesMustBeAccepted
    }
}

enum PractitionerListCodec {
    static let hcp = Namespace.helsepersonell
    static let fk1 = Namespace.felleskomponent1

    static func decode(_ root: XElement) throws(MessageError) -> [Practitioner] {
        var result: [Practitioner] = []
        for entry in root.children(hcp, "Helsepersonell") {
            let note = entry.optionalText(hcp, "Merknad")
            for person in entry.children(hcp, "Helsepersonell") {
                var practitioner = Practitioner(
                    familyName: person.optionalText(fk1, "FamilyName"),
                    middleName: person.optionalText(fk1, "MiddleName"),
                    givenName: person.optionalText(fk1, "GivenName"),
                    idents: try MsgHeadReader.idents(person, namespace: fk1, identNamespace: fk1))
                practitioner.note = note
                result.append(practitioner)
            }
        }
        return result
    }

    static func encode(_ list: [Practitioner], into w: inout XMLWriter) {
        w.element("HelsepersonelListe", attributes: ["xmlns": hcp, "xmlns:fk1": fk1]) { w in
            for practitioner in list {
                w.element("Helsepersonell") { w in
                    w.element("Helsepersonell") { w in
                        w.optionalElement("fk1:FamilyName", text: practitioner.familyName)
                        w.optionalElement("fk1:MiddleName", text: practitioner.middleName)
                        w.optionalElement("fk1:GivenName", text: practitioner.givenName)
                        for ident in practitioner.idents {
                            w.element("fk1:Ident") { w in
                                w.element("fk1:Id", text: ident.id)
                                w.code("fk1:TypeId", ident.type)
                            }
                        }
                    }
                    w.optionalElement("Merknad", text: practitioner.note)
                }
            }
        }
    }
}

enum ResourceBookListCodec {
    static let rb = Namespace.resourceBooks

    static func decode(_ root: XElement) throws(MessageError) -> [ResourceBookSummary] {
        var result: [ResourceBookSummary] = []
        for book in root.children(rb, "ResourceBook") {
            let categoryText = try book.requiredText(rb, "Category")
            guard let category = AppointmentCategory(rawValue: categoryText),
                AppointmentCategory.resourceBookCategories.contains(category)
            else {
                throw MessageError(
                    .badValue, .otherFormatError,
                    "\"\(categoryText)\" is not a resource-book category (Koronatest, Koronavaksine, Lab, Vaksine).",
                    line: book.line)
            }
            let minutesText = try book.requiredText(rb, "SlotMinutes")
            guard let minutes = Int(minutesText), minutes > 0 else {
                throw MessageError(
                    .badValue, .otherFormatError,
                    "SlotMinutes must be a positive number of minutes, not \"\(minutesText)\".", line: book.line)
            }
            result.append(
                ResourceBookSummary(
                    id: try book.requiredText(rb, "Id"),
                    herId: try book.requiredText(rb, "HerId"),
                    name: try book.requiredText(rb, "Name"),
                    category: category,
                    informationText: book.optionalText(rb, "InformationText") ?? "",
                    location: book.optionalText(rb, "Location"),
                    slotMinutes: minutes,
                    automaticConfirmation: try boolean(book, "AutomaticConfirmation"),
                    prerequisitesMustBeAccepted: try boolean(book, "PrerequisitesMustBeAccepted")))
        }
        return result
    }

    static func boolean(_ element: XElement, _ name: String) throws(MessageError) -> Bool {
        switch try element.requiredText(rb, name) {
        case "true", "1": return true
        case "false", "0": return false
        case let other:
            throw MessageError(
                .badValue, .otherFormatError, "\(name) must be true or false, not \"\(other)\".", line: element.line)
        }
    }

    static func encode(_ books: [ResourceBookSummary], into w: inout XMLWriter) {
        w.element("ResourceBooks", attributes: ["xmlns": rb]) { w in
            for book in books {
                w.element("ResourceBook") { w in
                    w.element("Id", text: book.id)
                    w.element("HerId", text: book.herId)
                    w.element("Name", text: book.name)
                    w.element("Category", text: book.category.rawValue)
                    w.element("InformationText", text: book.informationText)
                    w.optionalElement("Location", text: book.location)
                    w.element("SlotMinutes", text: String(book.slotMinutes))
                    w.element("AutomaticConfirmation", text: String(book.automaticConfirmation))
                    w.element("PrerequisitesMustBeAccepted", text: String(book.prerequisitesMustBeAccepted))
                }
            }
        }
    }
}
