/// Read access to the model, as a handler sees it inside the transaction that will commit its decision.
public protocol ModelReader {
    func bookingEnabled() throws -> Bool
    func book(id: String) throws -> Book?
    func book(herId: String) throws -> Book?
    func books() throws -> [Book]
    func gp(hpr: String) throws -> GP?
    func gp(herId: String) throws -> GP?
    func gps() throws -> [GP]
    func slot(id: String) throws -> Slot?
    /// Slots of a book that overlap [fromSeconds, toSeconds), by start.
    func slots(bookId: String, overlappingFrom fromSeconds: Int, to toSeconds: Int) throws -> [Slot]
    func patient(fnr: String) throws -> ListPatient?
    func patientCount() throws -> Int
    func appointment(id: String) throws -> Appointment?
    /// Requests still waiting whose hold ran out at or before `now`.
    func expiredHolds(now: Int) throws -> [Appointment]
    /// Every booking ever made in a slot, oldest first.
    func appointments(inSlot slotId: String) throws -> [Appointment]
    /// Requested or confirmed bookings of a patient in a book whose slot starts after `afterSeconds`.
    func activeBookings(fnr: String, bookId: String, afterSeconds: Int) throws -> Int
    /// Open slots of a book with free capacity that start in [fromSeconds, toSeconds), by start.
    func freeSlots(bookId: String, fromSeconds: Int, toSeconds: Int) throws -> [Slot]
    /// The patient's requested and confirmed bookings whose slot starts after `afterSeconds`, by start.
    func upcomingBookings(fnr: String, afterSeconds: Int) throws -> [Appointment]
}

/// Settings of the model that come from the configuration, not from commands.
public struct ModelSettings: Sendable, Hashable {
    /// Accept test fødselsnumre (month + 40/80) in patient lists and requests.
    public var allowTestNumbers: Bool
    /// The most slots one command may open (a typo in a date range must not open a million).
    public var maxSlotsPerCommand: Int

    public init(allowTestNumbers: Bool = false, maxSlotsPerCommand: Int = 200_000) {
        self.allowTestNumbers = allowTestNumbers
        self.maxSlotsPerCommand = maxSlotsPerCommand
    }
}
