/// A command or request the model refuses: a stable code, and a sentence a person understands.
import TimebokCore

public struct ModelError: TimebokError, Hashable {
    /// Opaque codes (`TB-03xx`): only this module makes them.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let unknownBook = Code("TB-0301")
        public static let bookExists = Code("TB-0302")
        public static let informationTextTooLong = Code("TB-0303")
        public static let invalidBookSettings = Code("TB-0304")
        public static let slotOverlap = Code("TB-0305")
        public static let unknownSlot = Code("TB-0306")
        public static let slotHasBookings = Code("TB-0307")
        public static let invalidIdentityNumber = Code("TB-0308")
        public static let patientNotOnList = Code("TB-0309")
        public static let unknownAppointment = Code("TB-0310")
        public static let wrongState = Code("TB-0311")
        public static let slotFull = Code("TB-0312")
        public static let slotNotBookable = Code("TB-0313")
        public static let invalidTime = Code("TB-0314")
        public static let malformedCommand = Code("TB-0315")
        public static let invalidCommand = Code("TB-0316")
        public static let commandIdReused = Code("TB-0317")
        public static let unknownGP = Code("TB-0318")
        public static let tooManySlots = Code("TB-0319")
        public static let herIdInUse = Code("TB-0320")
        public static let invalidValue = Code("TB-0321")
        public static let storage = Code("TB-0399")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var errorCode: String { code.rawValue }
}
