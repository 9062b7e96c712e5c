import Booking
import TimebokCore
import TimebokEngine

/// The demo office, Fjordvik legesenter: what `timebok demo` and `timebok init --demo` set up, and
/// what the tests run against. Not part of the engine: a real office's books come from its EPJ.
public enum DemoOffice {
    /// The demo office's configuration: Fjordvik legesenter, addressed like the official examples.
    public static func config(officialSchemas: String?, ownSchemas: String?) -> TimebokConfig {
        TimebokConfig(
            officeName: "Fjordvik legesenter", organisationNumber: "987654325", officeHerId: "1234",
            officialSchemas: officialSchemas, ownSchemas: ownSchemas)
    }

    /// The demo office, as the commands an EPJ would send: a GP with a personal book, a Lab and an
    /// Influensavaksine resource book, slots for the next four weeks, list patients and a risk group.
    public static func commands(today: LocalDate) -> [CommandEnvelope] {
        let from = today.adding(days: 1)
        let to = today.adding(days: 28)
        let weekdays = 1...5
        func hours(_ days: some Sequence<Int>, _ start: Int, _ end: Int) -> [WeeklyHours] {
            days.map { WeeklyHours(weekday: $0, startMinute: start, endMinute: end) }
        }
        var lab = Book(
            id: "lab", kind: .resource, name: "Lab", category: .lab, herId: "1234501",
            informationText:
                "Ta med legitimasjon. Faste fra midnatt før blodprøve (vann er lov). Ta medisinene dine som vanlig. Kom 5 minutter før timen og meld deg i luken.",
            location: "Fjordvik legesenter, 2. etasje, Strandgata 4, 1337 Fjordvik", published: true, slotMinutes: 15,
            capacity: 2,
            bookingHorizonDays: 28, cancellationCutoffMinutes: 720, maxActiveBookingsPerPatient: 2,
            confirmation: .manual, holdMinutes: 1_440,
            prerequisitesMustBeAccepted: true, access: AccessRule(minAge: 65))
        lab.bookingCutoffMinutes = 60
        let vaccine = Book(
            id: "influensavaksine", kind: .resource, name: "Influensavaksine", category: .vaksine, herId: "1234502",
            informationText:
                "For pasienter i risikogruppe og helsepersonell. Bruk kortermet trøye. Du må vente 20 minutter etter vaksinen.",
            location: "Fjordvik legesenter, vaksinerommet, Strandgata 4, 1337 Fjordvik", published: true,
            slotMinutes: 5, capacity: 3,
            bookingHorizonDays: 28, cancellationCutoffMinutes: 60, maxActiveBookingsPerPatient: 1,
            confirmation: .automatic,
            access: AccessRule(groups: ["risikogruppe", "helsepersonell"]))
        let personal = Book(
            id: "hanne-fjeld", kind: .personal, name: "Hanne Fjeld", gpHpr: "9144897",
            location: "Fjordvik legesenter, Strandgata 4, 1337 Fjordvik",
            published: true, slotMinutes: 20, bookingHorizonDays: 28, bookingCutoffMinutes: 120,
            cancellationCutoffMinutes: 1_440,
            confirmation: .manual, holdMinutes: 1_440)
        let commands: [Command] = [
            .setGP(
                GP(
                    herId: "91095", hpr: "9144897", familyName: "Fjeld", givenName: "Hanne",
                    ressursoversiktEnabled: true, personalBookOpen: true)),
            .createBook(lab),
            .createBook(vaccine),
            .createBook(personal),
            .openSlotsFromHours(
                bookId: "lab", from: from, to: to, hours: hours(weekdays, 8 * 60, 11 * 60), slotMinutes: nil,
                closedDays: []),
            .openSlotsFromHours(
                bookId: "influensavaksine", from: from, to: to, hours: hours([2, 4], 12 * 60, 15 * 60),
                slotMinutes: nil, closedDays: []),
            .openSlotsFromHours(
                bookId: "hanne-fjeld", from: from, to: to,
                hours: hours(weekdays, 9 * 60, 11 * 60 + 40) + hours(weekdays, 12 * 60 + 20, 15 * 60), slotMinutes: nil,
                closedDays: []),
            .importPatients(
                mode: .replace,
                patients: [
                    ListPatient(
                        fnr: "14035623036", familyName: "Åsmundsen", givenName: "Ragnhild", groups: ["risikogruppe"]),
                    ListPatient(fnr: "22098641169", familyName: "Solbakken", givenName: "Eirik"),
                    ListPatient(fnr: "30064930466", familyName: "Nordbø", givenName: "Kari", groups: ["risikogruppe"]),
                    ListPatient(fnr: "13116900216", familyName: "Danser", givenName: "Folke"),
                ]),
            .setBookingEnabled(true),
        ]
        return commands.enumerated().map {
            CommandEnvelope(
                id: "demo-\($0.offset + 1)-\($0.element.name)", issuedBy: "timebok init --demo", command: $0.element)
        }
    }
}
