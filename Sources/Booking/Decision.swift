/// What a command does to the model: the changes to commit in one transaction, what it created
/// (for the result), the booking events (history, journal, pushes) and a sentence for people.
public struct Decision: Sendable, Hashable {
    public enum Change: Sendable, Hashable {
        case setBookingEnabled(Bool)
        case upsertGP(GP)
        case insertBook(Book)
        case updateBook(Book)
        case insertSlots([Slot])
        case setSlotStatus(slotId: String, status: Slot.Status)
        case replacePatients([ListPatient])
        case upsertPatients([ListPatient])
        case insertAppointment(Appointment)
        case setAppointmentState(
            appointmentId: String, state: Appointment.State, cancellationReason: CancellationCause?)
        case moveAppointment(appointmentId: String, toSlotId: String)
        /// helsenorge answered E35: the patient is not a digitally active user.
        case setPatientDigitallyInactive(fnr: String)
    }

    /// What a command created, for the result (`Created/Ref`).
    public struct Created: Sendable, Hashable {
        public var kind: String
        public var id: String

        public init(kind: String, id: String) {
            self.kind = kind
            self.id = id
        }
    }

    public var changes: [Change]
    public var created: [Created]
    public var events: [AppointmentEvent]
    public var summary: String

    public init(changes: [Change] = [], created: [Created] = [], events: [AppointmentEvent] = [], summary: String) {
        self.changes = changes
        self.created = created
        self.events = events
        self.summary = summary
    }
}
