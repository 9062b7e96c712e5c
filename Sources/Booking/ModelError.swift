/// A command or request the model refuses: a stable code, and a sentence a person understands.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let unknownBook = Code(rawValue: "TB-0301")
        public static let bookExists = Code(rawValue: "TB-0302")
        public static let informationTextTooLong = Code(rawValue: "TB-0303")
        public static let invalidBookSettings = Code(rawValue: "TB-0304")
        public static let slotOverlap = Code(rawValue: "TB-0305")
        public static let unknownSlot = Code(rawValue: "TB-0306")
        public static let slotHasBookings = Code(rawValue: "TB-0307")
        public static let invalidIdentityNumber = Code(rawValue: "TB-0308")
        public static let patientNotOnList = Code(rawValue: "TB-0309")
        public static let unknownAppointment = Code(rawValue: "TB-0310")
        public static let wrongState = Code(rawValue: "TB-0311")
        public static let slotFull = Code(rawValue: "TB-0312")
        public static let slotNotBookable = Code(rawValue: "TB-0313")
        public static let invalidTime = Code(rawValue: "TB-0314")
        public static let malformedCommand = Code(rawValue: "TB-0315")
        public static let invalidCommand = Code(rawValue: "TB-0316")
        public static let commandIdReused = Code(rawValue: "TB-0317")
        public static let unknownGP = Code(rawValue: "TB-0318")
        public static let tooManySlots = Code(rawValue: "TB-0319")
        public static let herIdInUse = Code(rawValue: "TB-0320")
        public static let invalidValue = Code(rawValue: "TB-0321")
        public static let storage = Code(rawValue: "TB-0399")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
