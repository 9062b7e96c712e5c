import TimebokCore

/// The office's books: a resource book (a service of the office) or a GP's personal book.
public enum BookKind: String, Sendable, Hashable, Codable, CaseIterable {
    case resource
    case personal
}

/// The category of a resource book (code list 7617, the resource-book values).
public enum BookCategory: String, Sendable, Hashable, Codable, CaseIterable {
    case koronatest = "Koronatest"
    case koronavaksine = "Koronavaksine"
    case lab = "Lab"
    case vaksine = "Vaksine"
}

/// How requests from helsenorge are answered.
public enum ConfirmationMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Answered 05 at once.
    case automatic
    /// Held until the office confirms or rejects, or the hold time runs out.
    case manual
}

/// Who of the office's list patients may use a book (PROTOCOL.md §9.4).
///
/// Patients not on the list never have access. With no age limits and no groups, everyone on the
/// list may; otherwise the patient's age (from the fødselsnummer) must be in the range AND, when
/// groups are named, he must belong to at least one of them.
public struct AccessRule: Sendable, Hashable, Codable {
    public var minAge: Int?
    public var maxAge: Int?
    public var groups: [String]

    public init(minAge: Int? = nil, maxAge: Int? = nil, groups: [String] = []) {
        self.minAge = minAge
        self.maxAge = maxAge
        self.groups = groups
    }

    /// Everyone on the office's list.
    public static let allListPatients = AccessRule()

    public var isAllListPatients: Bool { minAge == nil && maxAge == nil && groups.isEmpty }

    /// A sentence for operators: "patients aged 65 or older", "everyone on the list", …
    public var description: String {
        var parts: [String] = []
        switch (minAge, maxAge) {
        case let (min?, max?): parts.append("aged \(min) to \(max)")
        case let (min?, nil): parts.append("aged \(min) or older")
        case let (nil, max?): parts.append("aged \(max) or younger")
        case (nil, nil): break
        }
        if !groups.isEmpty { parts.append("in group \(groups.joined(separator: " or "))") }
        return parts.isEmpty ? "everyone on the list" : "list patients " + parts.joined(separator: " and ")
    }
}

/// An appointment book and its settings.
public struct Book: Sendable, Hashable, Codable {
    public var id: String
    public var kind: BookKind
    public var name: String
    /// Resource books only.
    public var category: BookCategory?
    /// The book's own HER-id (resource books; its xCal `contact`).
    public var herId: String?
    /// The GP's HPR number (personal books).
    public var gpHpr: String?
    /// Prerequisites shown on helsenorge before a citizen picks a time (≤ 300 characters).
    public var informationText: String
    /// Oppmøtested.
    public var location: String?
    /// Shown on helsenorge.
    public var published: Bool
    public var slotMinutes: Int
    /// Patients per slot (staff working the book in parallel).
    public var capacity: Int
    /// How far ahead citizens may book (nil: no limit).
    public var bookingHorizonDays: Int?
    /// Citizens may not book later than this many minutes before the start.
    public var bookingCutoffMinutes: Int
    /// Citizens may not cancel later than this many minutes before the start.
    public var cancellationCutoffMinutes: Int
    /// Requested or confirmed future bookings a patient may hold in this book (nil: no limit).
    public var maxActiveBookingsPerPatient: Int?
    public var confirmation: ConfirmationMode
    /// Manual books: minutes a request is held before it expires unanswered.
    public var holdMinutes: Int
    /// ReserverAvtale must carry KodetOpplysning 1 (the prerequisites were accepted).
    public var prerequisitesMustBeAccepted: Bool
    public var access: AccessRule

    public static let maxInformationText = 300

    public init(
        id: String, kind: BookKind, name: String, category: BookCategory? = nil, herId: String? = nil,
        gpHpr: String? = nil, informationText: String = "", location: String? = nil, published: Bool = false,
        slotMinutes: Int, capacity: Int = 1, bookingHorizonDays: Int? = nil, bookingCutoffMinutes: Int = 0,
        cancellationCutoffMinutes: Int = 0, maxActiveBookingsPerPatient: Int? = nil,
        confirmation: ConfirmationMode = .automatic, holdMinutes: Int = 1_440,
        prerequisitesMustBeAccepted: Bool = false, access: AccessRule = .allListPatients
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.category = category
        self.herId = herId
        self.gpHpr = gpHpr
        self.informationText = informationText
        self.location = location
        self.published = published
        self.slotMinutes = slotMinutes
        self.capacity = capacity
        self.bookingHorizonDays = bookingHorizonDays
        self.bookingCutoffMinutes = bookingCutoffMinutes
        self.cancellationCutoffMinutes = cancellationCutoffMinutes
        self.maxActiveBookingsPerPatient = maxActiveBookingsPerPatient
        self.confirmation = confirmation
        self.holdMinutes = holdMinutes
        self.prerequisitesMustBeAccepted = prerequisitesMustBeAccepted
        self.access = access
    }
}

/// A GP of the office and his settings.
public struct GP: Sendable, Hashable, Codable {
    public var herId: String
    public var hpr: String
    public var familyName: String
    public var givenName: String
    /// Lets helsenorge fetch the office's resource books through him (process Ressursoversikt).
    public var ressursoversiktEnabled: Bool
    /// His personal book is open to helsenorge.
    public var personalBookOpen: Bool

    public init(
        herId: String, hpr: String, familyName: String, givenName: String, ressursoversiktEnabled: Bool,
        personalBookOpen: Bool
    ) {
        self.herId = herId
        self.hpr = hpr
        self.familyName = familyName
        self.givenName = givenName
        self.ressursoversiktEnabled = ressursoversiktEnabled
        self.personalBookOpen = personalBookOpen
    }
}

/// A bookable time in a book. Times are Oslo wall-clock; `startInstant` orders and indexes them.
public struct Slot: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case open
        case closed
    }

    public var id: String
    public var bookId: String
    public var start: LocalDateTime
    public var end: LocalDateTime
    public var capacity: Int
    public var status: Status
    /// Requested or confirmed bookings in this slot.
    public var activeBookings: Int

    public init(
        id: String, bookId: String, start: LocalDateTime, end: LocalDateTime, capacity: Int, status: Status = .open,
        activeBookings: Int = 0
    ) {
        self.id = id
        self.bookId = bookId
        self.start = start
        self.end = end
        self.capacity = capacity
        self.status = status
        self.activeBookings = activeBookings
    }

    /// Seconds since the epoch of the start in Oslo time (the stored sort key).
    public var startSeconds: Int { Oslo.secondsSinceEpoch(for: start) }
    public var endSeconds: Int { Oslo.secondsSinceEpoch(for: end) }
    public var freeCapacity: Int { status == .open ? max(0, capacity - activeBookings) : 0 }
}

/// A patient on the office's list (supplied by the EPJ), with his groups.
public struct ListPatient: Sendable, Hashable, Codable {
    public var fnr: String
    public var familyName: String
    public var givenName: String
    public var groups: [String]
    /// Set when helsenorge answered E35: not a digitally active user; no pushes for him.
    public var digitallyInactive: Bool

    public init(
        fnr: String, familyName: String, givenName: String, groups: [String] = [], digitallyInactive: Bool = false
    ) {
        self.fnr = fnr
        self.familyName = familyName
        self.givenName = givenName
        self.groups = groups
        self.digitallyInactive = digitallyInactive
    }
}

/// Who caused a change.
public enum Actor: Sendable, Hashable, Codable {
    case citizen
    case office(name: String?, hpr: String?)
    case system

    public var description: String {
        switch self {
        case .citizen: return "citizen"
        case .office(let name, let hpr):
            return "office" + (name.map { " (\($0)\(hpr.map { ", HPR \($0)" } ?? ""))" } ?? "")
        case .system: return "system"
        }
    }
}

/// A booking: a citizen's request (held, tentative) that becomes an appointment when confirmed, or
/// an appointment the office made. Its id is the appointment id (xCal `related-to`) for its whole life.
public struct Appointment: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case requested
        case confirmed
        case rejected
        case expired
        case cancelled
        case noShow
        case completed

        /// Requested and confirmed bookings hold a place in their slot.
        public var holdsPlace: Bool { self == .requested || self == .confirmed }
    }

    public var id: String
    public var bookId: String
    public var slotId: String
    public var fnr: String
    public var state: State
    /// The subject and text the citizen wrote (EmneSporsmal, Sporsmal) or the office's note.
    public var subject: String?
    public var text: String?
    public var createdAt: Int
    /// Manual books: the request expires unanswered at this instant (seconds since the epoch).
    public var holdUntil: Int?
    /// The helsenorge conversation, when the booking came from there.
    public var requestMsgId: String?
    public var conversationId: String?
    /// Why it was cancelled, when cancelled.
    public var cancellationReason: CancellationCause?

    public init(
        id: String, bookId: String, slotId: String, fnr: String, state: State, subject: String? = nil,
        text: String? = nil, createdAt: Int, holdUntil: Int? = nil, requestMsgId: String? = nil,
        conversationId: String? = nil, cancellationReason: CancellationCause? = nil
    ) {
        self.id = id
        self.bookId = bookId
        self.slotId = slotId
        self.fnr = fnr
        self.state = state
        self.subject = subject
        self.text = text
        self.createdAt = createdAt
        self.holdUntil = holdUntil
        self.requestMsgId = requestMsgId
        self.conversationId = conversationId
        self.cancellationReason = cancellationReason
    }
}

/// One entry of an appointment's history (what the journal and the pushes are made from).
public struct AppointmentEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case requested, confirmed, rejected, expired, cancelled, moved, noShow, completed
    }

    public var appointmentId: String
    public var kind: Kind
    public var at: Int
    public var actor: Actor
    /// Free text: the reason, the answer text, …
    public var text: String?
    /// For moves: the slot before.
    public var previousSlotId: String?
    /// How the office turned a request down, where it chose (rejections only).
    public var rejection: RejectionKind?

    public init(
        appointmentId: String, kind: Kind, at: Int, actor: Actor, text: String? = nil, previousSlotId: String? = nil,
        rejection: RejectionKind? = nil
    ) {
        self.appointmentId = appointmentId
        self.kind = kind
        self.at = at
        self.actor = actor
        self.text = text
        self.previousSlotId = previousSlotId
        self.rejection = rejection
    }
}

/// Why a booking was cancelled (the engine writes it as the protocol's x-cancellation-reason text).
public enum CancellationCause: String, Sendable, Hashable, Codable, CaseIterable {
    /// By the office (the service).
    case byService
    /// The patient was not at home (home visits).
    case notAtHome
    /// By the patient himself (on helsenorge or by calling).
    case byRecipient
    /// By someone on the patient's behalf.
    case onBehalfOfRecipient

    /// For people: "by the service", …
    public var description: String {
        switch self {
        case .byService: return "by the service"
        case .notAtHome: return "not at home"
        case .byRecipient: return "by the patient"
        case .onBehalfOfRecipient: return "on the patient's behalf"
        }
    }
}

/// How the office turned down a held request.
public enum RejectionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The request is declined (the default).
    case declined
    /// The slot is no longer available.
    case slotTaken
}
