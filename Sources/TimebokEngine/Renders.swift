import Dispatch
import HelsenorgeMessages
import Synchronization
import TimebokSigning

/// The signed replies of the batch in hand, encoded, signed, hashed and written to their pending
/// files on every core while the batch's decisions go on (one RSA signature, one encode of up to
/// 115 KB and one new file per reply are most of a reply's cost, and none of them needs the store).
///
/// Deciding an input records its ledger row with each signed reply's bytes still empty; a render is
/// started for it at once. When every input of the batch is decided, ``finished()`` waits for them
/// all, and the batch fills its plans and the ledger's hashes before it commits: the commit holds
/// exactly what a serial batch would have recorded. A render that fails makes the whole batch
/// decided again without renders in flight, so that the failure is the one input's alone.
final class RenderQueue: Sendable {
    /// A finished reply: its bytes and their SHA-256.
    struct Reply: Sendable {
        var bytes: [UInt8]
        var sha256: String
    }

    /// A finished render: the reply, or why there is none.
    typealias Rendered = Result<Reply, SigningError>

    /// Encodes and signs one reply (the tests give one that fails).
    typealias Render = @Sendable (DialogMessage, SigningIdentity) throws(SigningError) -> [UInt8]
    /// Writes a reply's pending file (`folder`, `name`); false when it could not (the batch then
    /// writes it itself, and says why).
    typealias Write = @Sendable ([UInt8], String, String) -> Bool

    private let render: Render
    private let write: Write?
    private let group = DispatchGroup()
    /// Per path, the last render submitted for it and how many were (an input undone and decided
    /// again under the same name must not get the bytes of its first decision), every finished
    /// render by its serial, and every path a render wrote.
    private struct State {
        var next = 0
        var submitted: [String: (serial: Int, count: Int)] = [:]
        var done: [Int: Rendered] = [:]
        var written: Set<String> = []
        var finished = false
    }
    private let state = Mutex(State())

    init(render: @escaping Render = RenderQueue.signed, write: Write? = nil) {
        self.render = render
        self.write = write
    }

    /// The reply's bytes as a serial decision signs them: over the canonical form written beside it.
    static func signed(_ dialog: DialogMessage, with identity: SigningIdentity) throws(SigningError) -> [UInt8] {
        let encoded = MessageCodec.encodeWithCanonicalForm(dialog)
        return try XMLSignature.sign(encoded.document, canonicalForm: encoded.canonical, with: identity)
    }

    /// Starts encoding and signing `dialog` for the output `name` in `folder`.
    func submit(_ dialog: DialogMessage, folder: String, name: String, identity: SigningIdentity) {
        let path = folder + "/" + name
        let (serial, alone) = state.withLock { state in
            let serial = state.next
            state.next += 1
            let count = (state.submitted[path]?.count ?? 0) + 1
            state.submitted[path] = (serial, count)
            return (serial, count == 1)
        }
        DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in
            var wrote = false
            let rendered = Rendered(catching: { () throws(SigningError) -> Reply in
                let bytes = try render(dialog, identity)
                // A name submitted twice is written by the batch, once, with the last bytes.
                if alone, write?(bytes, folder, name) == true { wrote = true }
                return Reply(bytes: bytes, sha256: ContentHash.hex(bytes))
            })
            state.withLock { state in
                state.done[serial] = rendered
                if wrote { state.written.insert(path) }
            }
        }
    }

    /// True once ``finished()`` has been called (every render has finished).
    var isFinished: Bool { state.withLock { $0.finished } }

    /// Once every render has finished: the last one submitted for each path, every path a render
    /// wrote, and the paths submitted more than once (the batch writes those itself, with the last
    /// bytes).
    func finished() -> (replies: [String: Rendered], written: Set<String>, rewrite: Set<String>) {
        group.wait()
        return state.withLock { state in
            state.finished = true
            return (
                state.submitted.compactMapValues { state.done[$0.serial] }, state.written,
                Set(state.submitted.filter { $0.value.count > 1 }.keys)
            )
        }
    }
}

/// A render of the batch failed: the batch is decided again, each reply signed in its own decision.
struct RenderFailed: Error {
    var path: String
    var error: SigningError
}
