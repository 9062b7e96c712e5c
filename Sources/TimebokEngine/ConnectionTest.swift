import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokSpool

extension Conversations {
    /// The office's own Kommunikasjonstest (TypeForesp KT, DIALOG_INNBYGGER_TEST) to helsenorge, in
    /// the office's name; synchronous, so no AppRec. helsenorge answers RKT.
    func communicationTest(msgId: String) -> OutgoingMessage {
        let office = Organisation(
            name: config.officeName,
            idents: [.organisationNumber(config.organisationNumber), .organisationHerId(config.officeHerId)])
        let info = MsgInfo(
            process: .test, genDate: genDate, msgId: msgId, acknowledgementRequested: false, sender: office,
            receiver: parties.helsenorge, patient: nil)
        let message = DialogMessage(
            info: info,
            dialogmelding: Dialogmelding(foresporsel: [
                Foresporsel(typeForesp: CommunicationTestCode.kommunikasjonstest.code)
            ]),
            contentDescription: CommunicationTestCode.kommunikasjonstest.displayName, issueDate: genDate)
        var meta = syncMeta(for: message, request: nil)
        meta.values["destination"] = "\(config.helsenorgeServiceHerId)_sync"
        meta.values["correlation-id"] = msgId
        return OutgoingMessage(body: .dialog(message), label: "Kommunikasjonstest-KT", meta: meta)
    }
}

extension Engine {
    /// What `sendCommunicationTest()` sent.
    public struct SentTest: Sendable {
        public var msgId: String
        /// `outbox/NAME.xml`.
        public var file: String
    }

    /// Sends a Kommunikasjonstest to helsenorge (recorded, then published to `outbox/` with its
    /// `.meta`). When helsenorge's RKT arrives in `inbox/`, `process` matches it and reports the
    /// round-trip time.
    public func sendCommunicationTest() throws -> SentTest {
        let context = decisionContext()
        let now = context.now
        let msgId = context.newId()
        let key = "connection-test:\(msgId)"
        let entry = try recordOnce(key: key) { writer in
            var result = Outcome()
            result.messages.append(conversations(context).communicationTest(msgId: msgId))
            result.records.append(
                .sent(SentMessage(msgId: msgId, kind: "Kommunikasjonstest", appointmentId: nil, fnr: nil, sentAt: now)))
            result.decision.summary = "Kommunikasjonstest \(msgId) sent."
            try writer.apply(result)
            return LedgerEntry(
                key: key, source: "test-connection", contentSHA256: "", appliedAt: now, outcome: "ok",
                summary: result.decision.summary,
                outputs: try outputFiles(result, context: context, model: writer.reader))
        }
        try publish(entry.outputs, key: key)
        let file = entry.outputs.first { $0.name.hasSuffix(".xml") }.map { "\($0.folder)/\($0.name)" } ?? ""
        return SentTest(msgId: msgId, file: file)
    }
}
