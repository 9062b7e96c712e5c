import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore

// Builders for helsenorge's side of a conversation: the demo office's citizens, the addresses of its
// books and GPs, and requests as helsenorge sends them (built with the codec's own types).

/// helsenorge's side, as tests need it: requests built with the codec, dropped in inbox/.
public struct Citizen: Sendable, Hashable {
    public init(fnr: String, familyName: String, givenName: String) {
        self.fnr = fnr
        self.familyName = familyName
        self.givenName = givenName
    }

    public var fnr: String
    public var familyName: String
    public var givenName: String

    /// 70, in risikogruppe.
    public static let ragnhild = Citizen(fnr: "14035623036", familyName: "Åsmundsen", givenName: "Ragnhild")
    public static let eirik = Citizen(fnr: "22098641169", familyName: "Solbakken", givenName: "Eirik")  // 40
    public static let kari = Citizen(fnr: "30064930466", familyName: "Nordbø", givenName: "Kari")  // 77, risikogruppe
    public static let folke = Citizen(fnr: "13116900216", familyName: "Danser", givenName: "Folke")  // 57
}

public enum Address: Sendable, Hashable {
    case book(herId: String, name: String)
    case gp(herId: String)
    case office

    public func receiver() -> Organisation {
        var office = Organisation(name: "Fjordvik legesenter", idents: [.organisationHerId("1234")])
        switch self {
        case .book(let herId, let name):
            office.unit = .organisation(Organisation(name: name, idents: [.organisationHerId(herId)]))
        case .gp(let herId):
            office.unit = .professional(
                HealthcareProfessional(familyName: "Fjeld", givenName: "Hanne", idents: [.personHerId(herId)]))
        case .office: break
        }
        return office
    }

    public static let lab = Address.book(herId: "1234501", name: "Lab")
}

public struct Helsenorge: Sendable {
    public init() {}

    public let sender = Organisation(
        name: "DIREKTORATET FOR E-HELSE", idents: [.organisationHerId("115851")],
        unit: .organisation(Organisation(name: "Digitale innbyggertjenester", idents: [.organisationHerId("8093248")])))

    public func message(
        _ process: DialogProcess = .timereservasjon, to address: Address, from citizen: Citizen, ack: Bool,
        request: Foresporsel, event: VEvent? = nil, msgId: String = UUID().uuidString.lowercased()
    ) -> DialogMessage {
        let info = MsgInfo(
            process: process, genDate: "2026-12-01T11:00:00Z", msgId: msgId, acknowledgementRequested: ack,
            sender: sender, receiver: address.receiver(),
            patient: Patient(familyName: citizen.familyName, givenName: citizen.givenName, identityNumber: citizen.fnr))
        return DialogMessage(
            info: info, dialogmelding: Dialogmelding(foresporsel: [request]),
            calendar: event.map { XCalendar(productId: "helsenorge", events: [$0]) },
            calendarDescription: "iCalendarBestillTime")
    }

    public func freeSlots(_ address: Address, _ citizen: Citizen, from: LocalDate?, to: LocalDate?) -> DialogMessage {
        message(
            to: address, from: citizen, ack: false,
            request: Foresporsel(typeForesp: RequestType.hentLedigeTimer.code, fraDato: from, tilDato: to))
    }

    public func reserve(
        _ address: Address, _ citizen: Citizen, slot: Slot, contact: String, accepted: Bool = true,
        subject: String? = "Blodprøve", text: String = "Jeg skal ta blodprøve."
    ) -> DialogMessage {
        message(
            to: address, from: citizen, ack: true,
            request: Foresporsel(
                typeForesp: RequestType.reserverTime.code, emneSporsmal: subject, sporsmal: text,
                kodetOpplysning: (accepted ? YesNo.ja : YesNo.nei).code),
            event: VEvent(start: slot.start, end: slot.end, uid: slot.id, contact: contact))
    }

    public func cancel(
        _ address: Address, _ citizen: Citizen, slot: Slot, appointmentId: String, contact: String,
        process: DialogProcess = .timereservasjon
    ) -> DialogMessage {
        message(
            process, to: address, from: citizen, ack: true,
            request: Foresporsel(
                typeForesp: RequestType.avbestillTime.code, sporsmal: "Jeg kan ikke komme.",
                kodetOpplysning: YesNo.nei.code),
            event: VEvent(start: slot.start, end: slot.end, uid: slot.id, contact: contact, relatedTo: appointmentId))
    }

    public func resourceOverview(_ address: Address, _ citizen: Citizen) -> DialogMessage {
        message(
            .ressursoversikt, to: address, from: citizen, ack: false,
            request: Foresporsel(typeForesp: RequestType.hentBehandlere.code))
    }

    public func planned(_ citizen: Citizen) -> DialogMessage {
        message(
            to: .office, from: citizen, ack: false, request: Foresporsel(typeForesp: RequestType.hentBestilteTimer.code)
        )
    }
}
