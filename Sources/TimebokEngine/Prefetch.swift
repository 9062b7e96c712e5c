import Dispatch
import Foundation
import HelsenorgeMessages
import Synchronization
import TimebokSigning
import TimebokSpool

/// What deciding an inbox message needs from its files and none of the store: the message read,
/// its transport metadata, the message decoded and its incoming signature checked.
enum PreparedMessage: Sendable {
    /// Larger than `limits.max-input-bytes`: not read.
    case tooLarge(size: Int)
    /// Read: `decoded` is the message or why it cannot be; `signatureProblem` is why a dialog
    /// message's signature is not accepted (nil: accepted, not checked, or not a dialog message).
    case read(
        bytes: [UInt8], metaData: Data?, decoded: Result<DecodedMessage, MessageError>, sha256: String,
        signatureProblem: SigningError?)

    /// What preparing a message needs of the engine's settings.
    struct Checks: Sendable {
        var limit: Int
        var codec: MessageCodec
        var incomingSignatures: TimebokConfig.IncomingSignatures
        var trusted: TrustList?
        /// The business clock's instant certificates are judged at.
        var now: Date
    }

    /// Reads and decodes `claimed` as its decision would; throws when it cannot be read at all.
    static func prepare(_ claimed: Spool.Claimed, spool: Spool, checks: Checks) throws -> PreparedMessage {
        // The size comes from the open file: an oversized one is refused without being read.
        let read = try spool.read(claimed, limit: checks.limit)
        guard let bytes = read.bytes else { return .tooLarge(size: read.size) }
        let decoded = Result { () throws(MessageError) in try checks.codec.decode(bytes, name: claimed.name) }
        var signatureProblem: SigningError?
        if case .success(.dialog) = decoded {
            signatureProblem = Self.signatureProblem(bytes, checks: checks)
        }
        return .read(
            bytes: bytes, metaData: FileManager.default.contents(atPath: claimed.companionPath), decoded: decoded,
            sha256: ContentHash.hex(bytes), signatureProblem: signatureProblem)
    }

    /// Why a message's signature is not accepted under `signing.incoming` (nil: it is, or it is not checked).
    static func signatureProblem(_ bytes: [UInt8], checks: Checks) -> SigningError? {
        guard checks.incomingSignatures != .ignore else { return nil }
        do {
            let verified = try XMLSignature.verify(bytes, at: checks.now, trusted: checks.trusted)
            if verified == nil, checks.incomingSignatures == .require {
                return SigningError(.missingSignature, "The message is not signed, and signing.incoming = require.")
            }
            return nil
        } catch {
            return error
        }
    }
}

/// The inbox messages of the batch in hand, prepared (``PreparedMessage``) on every core before the
/// batch's decisions reach them: reading, parsing, decoding and checking a signature need no store,
/// and they were a third of the deciding thread's time. A decision takes its input's result,
/// waiting for it when it is not ready; it is what the decision would have computed itself.
final class MessagePrefetch: Sendable {
    private final class Entry: Sendable {
        let group = DispatchGroup()
        let prepared = Mutex<Result<PreparedMessage, any Error>?>(nil)
    }

    private let entries: [String: Entry]

    /// Starts preparing every inbox message among `claimed`.
    init(_ claimed: [Spool.Claimed], spool: Spool, checks: PreparedMessage.Checks) {
        var entries: [String: Entry] = [:]
        for input in claimed where input.origin == .inbox && entries[input.name] == nil {
            let entry = Entry()
            entries[input.name] = entry
            entry.group.enter()
            DispatchQueue.global(qos: .userInitiated).async {
                let prepared = Result { try PreparedMessage.prepare(input, spool: spool, checks: checks) }
                entry.prepared.withLock { $0 = prepared }
                entry.group.leave()
            }
        }
        self.entries = entries
    }

    /// `claimed` prepared, once it is ready (nil: it is not one of this batch's messages).
    func take(_ claimed: Spool.Claimed) -> Result<PreparedMessage, any Error>? {
        guard let entry = entries[claimed.name] else { return nil }
        entry.group.wait()
        return entry.prepared.withLock { $0 }
    }

    /// Waits for every preparation still running (none outlives its batch).
    func waitForAll() {
        for entry in entries.values { entry.group.wait() }
    }
}
