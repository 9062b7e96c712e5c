import Booking
import HelsenorgeMessages
import TimebokCore

/// The communication parties as MsgHead carries them, built from the configuration and the model:
/// for answers that come later (confirmations, expiry) and for pushes, when there is no request to swap.
struct Parties {
    let config: TimebokConfig

    /// helsenorge.no: the enterprise and its service "Digitale innbyggertjenester".
    var helsenorge: Organisation {
        Organisation(
            name: config.helsenorgeName, idents: [.organisationHerId(config.helsenorgeHerId)],
            unit: .organisation(
                Organisation(
                    name: config.helsenorgeServiceName, idents: [.organisationHerId(config.helsenorgeServiceHerId)])))
    }

    /// The office as the owner of a book: a resource book as a nested organisation, a personal book as its GP.
    func office(for book: Book, gp: GP?) -> Organisation {
        var office = Organisation(
            name: config.officeName,
            idents: [.organisationNumber(config.organisationNumber), .organisationHerId(config.officeHerId)])
        switch book.kind {
        case .resource:
            if let herId = book.herId {
                office.unit = .organisation(Organisation(name: book.name, idents: [.organisationHerId(herId)]))
            }
        case .personal:
            if let gp { office.unit = .professional(professional(gp)) }
        }
        return office
    }

    func professional(_ gp: GP) -> HealthcareProfessional {
        HealthcareProfessional(
            roleToPatient: RoleToPatient.fastlege.code, familyName: gp.familyName, givenName: gp.givenName,
            idents: [.personHerId(gp.herId)])
    }

    func patient(_ patient: ListPatient) -> Patient {
        let kind: PersonIdentifierType =
            (try? NationalIdentityNumber(patient.fnr, allowTestNumbers: true))?.kind == .dNummer
            ? .dNummer : .fodselsnummer
        return Patient(
            familyName: patient.familyName, givenName: patient.givenName, identityNumber: patient.fnr, kind: kind)
    }

    /// The xCal contact of a book: its own HER-id, or its GP's.
    func contact(for book: Book, gp: GP?) -> String { book.herId ?? gp?.herId ?? config.officeHerId }

    /// A party for people: `HER-id 87688 (Name) / HER-id 95316 (Unit)`.
    static func describe(_ party: Organisation) -> String {
        var text = "HER-id \(party.herId ?? "?")\(party.name.isEmpty ? "" : " (\(party.name))")"
        switch party.unit {
        case .organisation(let unit):
            text += " / HER-id \(unit.herId ?? "?")\(unit.name.isEmpty ? "" : " (\(unit.name))")"
        case .professional(let person):
            text +=
                " / HER-id \(person.herId ?? "?") (\([person.givenName, person.familyName].compactMap { $0 }.joined(separator: " ")))"
        case nil: break
        }
        return text
    }
}
