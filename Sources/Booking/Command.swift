import TimebokCore

/// Opening hours for one weekday (Oslo wall-clock minutes after midnight).
public struct WeeklyHours: Sendable, Hashable, Codable {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int
    public var startMinute: Int
    public var endMinute: Int

    public init(weekday: Int, startMinute: Int, endMinute: Int) {
        self.weekday = weekday
        self.startMinute = startMinute
        self.endMinute = endMinute
    }
}

/// Changes to a book; nil fields stay as they are.
public struct BookUpdate: Sendable, Hashable {
    public var id: String
    public var kind: BookKind?
    public var name: String?
    public var category: BookCategory?
    public var herId: String?
    public var gpHpr: String?
    public var informationText: String?
    public var location: String?
    public var published: Bool?
    public var slotMinutes: Int?
    public var capacity: Int?
    /// Some(nil) removes the limit.
    public var bookingHorizonDays: Int??
    public var bookingCutoffMinutes: Int?
    public var cancellationCutoffMinutes: Int?
    public var maxActiveBookingsPerPatient: Int??
    public var confirmation: ConfirmationMode?
    public var holdMinutes: Int?
    public var prerequisitesMustBeAccepted: Bool?
    public var access: AccessRule?

    public init(id: String) { self.id = id }

    public func applied(to book: Book) -> Book {
        var book = book
        if let kind { book.kind = kind }
        if let name { book.name = name }
        if let category { book.category = category }
        if let herId { book.herId = herId }
        if let gpHpr { book.gpHpr = gpHpr }
        if let informationText { book.informationText = informationText }
        if let location { book.location = location }
        if let published { book.published = published }
        if let slotMinutes { book.slotMinutes = slotMinutes }
        if let capacity { book.capacity = capacity }
        if let bookingHorizonDays { book.bookingHorizonDays = bookingHorizonDays }
        if let bookingCutoffMinutes { book.bookingCutoffMinutes = bookingCutoffMinutes }
        if let cancellationCutoffMinutes { book.cancellationCutoffMinutes = cancellationCutoffMinutes }
        if let maxActiveBookingsPerPatient { book.maxActiveBookingsPerPatient = maxActiveBookingsPerPatient }
        if let confirmation { book.confirmation = confirmation }
        if let holdMinutes { book.holdMinutes = holdMinutes }
        if let prerequisitesMustBeAccepted { book.prerequisitesMustBeAccepted = prerequisitesMustBeAccepted }
        if let access { book.access = access }
        return book
    }
}

/// A member of staff (who confirmed a request).
public struct Staff: Sendable, Hashable, Codable {
    public var familyName: String
    public var givenName: String
    public var hpr: String?

    public init(familyName: String, givenName: String, hpr: String? = nil) {
        self.familyName = familyName
        self.givenName = givenName
        self.hpr = hpr
    }

    public var fullName: String { "\(givenName) \(familyName)" }
}

/// How an import treats patients not in it.
public enum ImportMode: String, Sendable, Hashable, Codable {
    /// The import is the whole list: patients not in it are removed.
    case replace
    /// Patients in the import are added or updated; others stay.
    case update
}

/// Everything the EPJ or an operator can ask of the model (one command model, two doors: command
/// files in `commands/` and `timebok` subcommands).
public enum Command: Sendable, Hashable {
    case setBookingEnabled(Bool)
    case setGP(GP)
    case createBook(Book)
    case updateBook(BookUpdate)
    case openSlot(bookId: String, start: LocalDateTime, end: LocalDateTime, capacity: Int?)
    case openSlotsFromHours(
        bookId: String, from: LocalDate, to: LocalDate, hours: [WeeklyHours], slotMinutes: Int?, closedDays: [LocalDate]
    )
    case closeSlot(slotId: String, force: Bool, reason: String?)
    case importPatients(mode: ImportMode, patients: [ListPatient])
    case confirmRequest(requestId: String, by: Staff, text: String?)
    case rejectRequest(requestId: String, reason: String, kind: RejectionKind?)
    case bookAppointment(slotId: String, fnr: String, text: String?)
    case moveAppointment(appointmentId: String, newSlotId: String)
    case cancelAppointment(appointmentId: String, reason: CancellationCause, text: String?)
    case recordNoShow(appointmentId: String)
    case completeAppointment(appointmentId: String)

    /// The operation's name as in the command file (`CreateBook`, …).
    public var name: String {
        switch self {
        case .setBookingEnabled: return "SetBookingEnabled"
        case .setGP: return "SetGpSettings"
        case .createBook: return "CreateBook"
        case .updateBook: return "UpdateBook"
        case .openSlot: return "OpenSlot"
        case .openSlotsFromHours: return "OpenSlotsFromHours"
        case .closeSlot: return "CloseSlot"
        case .importPatients: return "ImportPatients"
        case .confirmRequest: return "ConfirmRequest"
        case .rejectRequest: return "RejectRequest"
        case .bookAppointment: return "BookAppointment"
        case .moveAppointment: return "MoveAppointment"
        case .cancelAppointment: return "CancelAppointment"
        case .recordNoShow: return "RecordNoShow"
        case .completeAppointment: return "CompleteAppointment"
        }
    }
}

/// A command with its id (unique per command: a second command with the same id is not applied again).
public struct CommandEnvelope: Sendable, Hashable {
    public var id: String
    public var issuedBy: String?
    public var command: Command

    public init(id: String, issuedBy: String? = nil, command: Command) {
        self.id = id
        self.issuedBy = issuedBy
        self.command = command
    }
}
