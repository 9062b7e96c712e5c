import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore

// Answers to what timebok sent: TemaKodet answers and RKT (never answered themselves), and AppRecs.

extension Conversations {
    /// A message that is itself an answer (a TemaKodet answer, an RKT) is never answered: it is
    /// matched to what timebok sent (its RefToParent) and recorded, or refused when it matches nothing.
    func receiveAnswer(_ message: DialogMessage, _ function: MessageFunction, model: some Snapshot) throws -> Outcome {
        var result = Outcome()
        let code = message.notat?.temaKodet.value ?? "?"
        guard let parent = message.info.conversationRef?.refToParent, let sent = try model.sentMessage(msgId: parent)
        else {
            result.refusal = Refusal(
                code: .unmatchedAnswer,
                "It is an answer (\(function.rawValue) \(code)) to MsgId \(message.info.conversationRef?.refToParent ?? "(no RefToParent)"), which timebok did not send (or no longer knows); answers are never answered."
            )
            return result
        }
        // An earlier negative AppRec (failed) stays failed.
        if sent.status == .sent { result.records.append(.delivery(msgId: sent.msgId, status: .delivered, errors: nil)) }
        let roundTrip = max(0, now - sent.sentAt)
        result.decision.summary =
            "\(function.rawValue) \(code) answers \(sent.kind) \(sent.msgId), sent \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(sent.sentAt)))): round trip \(roundTrip) s."
        return result
    }

    /// An AppRec from helsenorge, matched to the message it answers: delivered or failed, and E35
    /// marks the patient as not digitally active. nil when it answers nothing timebok sent.
    func receive(_ appRec: AppRec, model: some Snapshot) throws -> Outcome? {
        guard let sent = try model.sentMessage(msgId: appRec.original.id) else { return nil }
        var result = Outcome()
        let status = appRec.appRecStatus ?? .rejected
        let errors = appRec.errors.map { "\($0.value)\($0.originalText.map { " \($0)" } ?? "")" }.joined(
            separator: "; ")
        result.records.append(
            .delivery(
                msgId: sent.msgId, status: status == .rejected ? .failed : .delivered,
                errors: errors.isEmpty ? nil : errors))
        if appRec.errorCodes.contains(.patientNotFound), let fnr = sent.fnr {
            result.decision.changes.append(.setPatientDigitallyInactive(fnr: fnr))
        }
        result.decision.summary =
            "AppRec \(status.displayName) for \(sent.kind) \(sent.msgId)" + (errors.isEmpty ? "" : ": \(errors)")
        return result
    }
}
