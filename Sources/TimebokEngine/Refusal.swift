import Booking
import HelsenorgeMessages
import TimebokCore
import TimebokSigning
import TimebokXML

/// Why an input was refused, with the stable code of the layer that refused it: TB-01xx the XML
/// layer, TB-02xx the message layer, TB-03xx the model and commands, TB-04xx the conversations and
/// the transport (below). `timebok process` prints it; the reason file says the same.
public struct Refusal: TimebokError, Hashable {
    public let code: String
    public let message: String

    init(code: Code, _ message: String) {
        self.code = code.rawValue
        self.message = message
    }

    /// The refusal of a layer below: its own code and sentence.
    public init(_ error: some TimebokError) {
        code = error.errorCode
        message = error.message
    }

    public var errorCode: String { code }

    /// An answer timebok built does not validate against the official schemas (TB-0408).
    var isInvalidOutput: Bool { code == Code.invalidOutput.rawValue }

    /// The engine's own codes; only this module makes them.
    struct Code: Sendable, Hashable {
        let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The message is not addressed to this office (its organisation, a book or a GP).
        static let notAddressedHere = Code("TB-0401")
        /// The sender is not helsenorge (enterprise HER-id, or a service not in the accepted list).
        static let senderNotHelsenorge = Code("TB-0402")
        /// The transport's metadata is unreadable, or contradicts the MsgHead (possible spoofing).
        static let transportMismatch = Code("TB-0403")
        /// A message the office sends (an answer or a push), sent to it as if it were a request.
        static let officeSideMessage = Code("TB-0404")
        /// An answer or receipt that matches nothing timebok sent.
        static let unmatchedAnswer = Code("TB-0405")
        /// The same MsgId was received before with other content (AppRec E10).
        static let messageIdReused = Code("TB-0406")
        /// A request the office refuses in its answer (for example a Behandleroversikt it does not offer).
        static let refusedRequest = Code("TB-0407")
        /// An output timebok built does not validate against the official schemas (a bug): not sent.
        static let invalidOutput = Code("TB-0408")
    }
}
