import Dispatch
import HelsenorgeMessages
import Synchronization
import TimebokSigning

/// The signed replies of the batch in hand, encoded and signed on every core while the batch's
/// decisions go on (one RSA signature and one encode of up to 115 KB per reply are most of a reply's
/// cost, and neither needs the store).
///
/// Deciding an input records its ledger row with each signed reply's bytes still empty; a render is
/// started for it at once. When every input of the batch is decided, ``finished()`` waits for them
/// all, and the batch fills the ledger rows and its plans with the bytes before it commits: the commit
/// holds exactly what a serial batch would have recorded. A render that fails makes the whole batch
/// decided again without renders in flight, so that the failure is the one input's alone.
final class RenderQueue: Sendable {
    /// A finished render: the signed bytes, or why there are none.
    typealias Rendered = Result<[UInt8], SigningError>

    /// Encodes and signs one reply (the tests give one that fails).
    typealias Render = @Sendable (DialogMessage, SigningIdentity) throws(SigningError) -> [UInt8]

    private let render: Render
    private let group = DispatchGroup()
    /// Per path, the last render submitted for it (an input undone and decided again under the same
    /// name must not get the bytes of its first decision), and every finished render by its serial.
    private let state = Mutex<(next: Int, submitted: [String: Int], done: [Int: Rendered])>((0, [:], [:]))

    init(render: @escaping Render = RenderQueue.signed) {
        self.render = render
    }

    /// The reply's bytes as a serial decision signs them: over the canonical form written beside it.
    static func signed(_ dialog: DialogMessage, with identity: SigningIdentity) throws(SigningError) -> [UInt8] {
        let encoded = MessageCodec.encodeWithCanonicalForm(dialog)
        return try XMLSignature.sign(encoded.document, canonicalForm: encoded.canonical, with: identity)
    }

    /// Starts encoding and signing `dialog` for the output at `path` (`folder/name`).
    func submit(_ dialog: DialogMessage, path: String, identity: SigningIdentity) {
        let serial = state.withLock { state in
            let serial = state.next
            state.next += 1
            state.submitted[path] = serial
            return serial
        }
        DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in
            let rendered = Rendered(catching: { () throws(SigningError) -> [UInt8] in try render(dialog, identity) })
            state.withLock { $0.done[serial] = rendered }
        }
    }

    /// The last render submitted for each path, once every render has finished.
    func finished() -> [String: Rendered] {
        group.wait()
        return state.withLock { state in state.submitted.compactMapValues { state.done[$0] } }
    }
}

/// A render of the batch failed: the batch is decided again, each reply signed in its own decision.
struct RenderFailed: Error {
    var path: String
    var error: SigningError
}
