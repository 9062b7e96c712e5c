import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats

/// A message to publish in `outbox/`, with its transport metadata.
struct OutgoingMessage {
    enum Body {
        case dialog(DialogMessage)
        case appRec(AppRec)
    }

    var body: Body
    /// For the file name: `SvarTimeReservasjon-05`, `AppRec`, …
    var label: String
    var meta: TransportMeta

    var msgId: String {
        switch body {
        case .dialog(let message): return message.info.msgId
        case .appRec(let appRec): return appRec.id
        }
    }

    var bytes: [UInt8] {
        switch body {
        case .dialog(let message): return MessageCodec.encode(message)
        case .appRec(let appRec): return MessageCodec.encode(appRec)
        }
    }
}

/// What one input (or one office command) causes: the model's decision, the engine's records, the
/// messages and journal entries to publish, and any refusal. A handler returns it; the engine
/// commits it in one transaction.
struct Outcome {
    var decision = Decision(summary: "")
    var records: [RecordChange] = []
    var messages: [OutgoingMessage] = []
    var journal: [JournalRecord] = []
    /// Set when the input is refused (it goes to `error/` with this reason, after its answer is sent).
    var refusal: Refusal?
}

/// What a handler reads: the model and the engine's records, both as of the start of the decision.
protocol Snapshot: ModelReader, RecordReader {}

extension StoreReader: Snapshot {}

/// What a decision may depend on besides its input and the snapshot: the instant, a source of new
/// ids and the configuration. The engine builds one per input; handlers never read a clock or make
/// an id themselves, so a decision can be replayed and every rule tested without files.
struct DecisionContext {
    /// The business clock's instant (seconds since the epoch).
    let now: Int
    let newId: () -> String
    let config: TimebokConfig

    init(now: Int, config: TimebokConfig, newId: @escaping () -> String) {
        self.now = now
        self.config = config
        self.newId = newId
    }
}

/// The helsenorge side of the office: each function of PROTOCOL.md §5 as a pure handler
/// `(input, snapshot, context) -> Outcome`, one file each (FreeSlots, Reserve, Cancel, Planned,
/// Overviews, Receipts, OfficeEvents). Reads the snapshot; writes nothing.
struct Conversations {
    let context: DecisionContext
    let parties: Parties
    let settings: ModelSettings

    init(context: DecisionContext) {
        self.context = context
        self.parties = Parties(config: context.config)
        self.settings = ModelSettings(
            allowTestNumbers: context.config.allowTestNumbers, maxSlotsPerCommand: context.config.maxSlotsPerCommand)
    }

    var config: TimebokConfig { context.config }
    var now: Int { context.now }
    func newId() -> String { context.newId() }
    var genDate: String { Oslo.xsDateTime(Date(timeIntervalSince1970: Double(now))) }
    var today: LocalDate { Oslo.today(at: Date(timeIntervalSince1970: Double(now))) }

    // MARK: Messages from helsenorge

    func handle(
        _ message: DialogMessage, _ function: MessageFunction, meta: TransportMeta?, model: some Snapshot
    ) throws -> Outcome {
        if let refused = try notOurs(message.info, asynchronous: function.expectsAppRec, meta: meta, model: model) {
            return refused
        }
        if function.isAnswer { return try receiveAnswer(message, function, model: model) }
        switch function {
        case .kommunikasjonstest:
            return answer(
                message, meta: meta, code: CommunicationTestCode.svarKommunikasjonstest.code,
                label: "Kommunikasjonstest-RKT")
        case .hentBehandlere:
            return try behandleroversikt(message, meta: meta, model: model)
        case .hentRessurstimeboker:
            return try ressursoversikt(message, meta: meta, model: model)
        case .hentLedigeTimer:
            return try ledigeTimer(message, meta: meta, model: model)
        case .hentPlanlagteTimer:
            return try planlagteTimer(message, meta: meta, model: model)
        case .reserverAvtale:
            return try reserver(message, meta: meta, model: model)
        case .avbestillAvtale:
            return try avbestill(message, meta: meta, model: model)
        default:
            // An answer or push sent to the office: not a function the office serves.
            var result = Outcome()
            if function.expectsAppRec {
                result.messages.append(
                    appRec(
                        message.info, meta: meta,
                        errors: [(.unsupportedFormat, "\(function.rawValue) is sent by the office, not to it.")]))
            }
            result.refusal = Refusal(
                code: .officeSideMessage, "\(function.rawValue) is a message the office sends, not one it serves.")
            return result
        }
    }
}

/// The version written into AppRecs (SoftwareVersion).
/// timebok's version: `timebok --version` and the AppRec's SoftwareVersion say the same.
public let timebokVersion = "0.4.0"
