import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokFormats
import TimebokSigning
import TimebokSpool
import TimebokXML

extension Engine {
    func conversations(_ context: DecisionContext) -> Conversations {
        Conversations(context: context)
    }

    /// The files an input causes: each message as `NAME.meta` then `NAME.xml` in `outbox/` (the
    /// metadata exists before the message appears), and journal entries in `journal/`.
    /// Names are `<UTC time>-<ledger sequence><index>-<what>-<id>`: they sort by time, also within
    /// one millisecond, and are unique.
    func outputFiles(_ result: Outcome, context: DecisionContext, model: StoreReader) throws -> [LedgerEntry.Output] {
        var outputs: [LedgerEntry.Output] = []
        let sequence = try model.nextLedgerSequence()
        var index = 0
        func prefix() -> String {
            index += 1
            // 12 digits: never mistaken for (or masked as) an 11-digit fødselsnummer.
            return "\(UTCStamp.compact(clock()))-\(String(format: "%09d%03d", sequence, index))"
        }
        let schemas = try messageSchemas()
        let identity = signer?.identity(at: clock())
        for message in result.messages {
            let base = "\(prefix())-\(message.label)-\(message.msgId)"
            var bytes: [UInt8]
            // Every MsgHead message is signed (AppRecs stay unsigned: their schema has no Signature),
            // over the canonical form its encoder wrote beside it. The signed bytes are final: they
            // are what the ledger records and what is published.
            if let identity, case .dialog(let dialog) = message.body, schemas == nil, let renders {
                // In a batch, the reply is encoded and signed on another core while the batch goes on;
                // the batch fills these bytes (and the ledger's) before it commits.
                renders.submit(dialog, folder: Spool.Folder.outbox.rawValue, name: base + ".xml", identity: identity)
                bytes = []
            } else if let identity, case .dialog(let dialog) = message.body {
                bytes = try RenderQueue.signed(dialog, with: identity)
            } else {
                bytes = message.bytes
            }
            // With the official schemas configured, every output is validated before it is recorded:
            // an answer helsenorge would refuse with T02 is never sent (the transaction is undone).
            if let schemas {
                let issues = schemas.validate(try HardenedXMLParser.parse(bytes, name: base + ".xml"))
                if let first = issues.first {
                    throw Refusal(
                        code: .invalidOutput,
                        "timebok built \(message.label) \(message.msgId), which does not validate against the official schemas (line \(first.line.map(String.init) ?? "?"): \(first.message)); nothing was recorded or sent. This is a bug in timebok: keep the input for its report."
                    )
                }
            }
            outputs.append(
                LedgerEntry.Output(
                    folder: Spool.Folder.outbox.rawValue, name: base + ".meta", bytes: message.meta.rendered()))
            outputs.append(LedgerEntry.Output(folder: Spool.Folder.outbox.rawValue, name: base + ".xml", bytes: bytes))
        }
        for record in result.journal {
            let id = context.newId()
            outputs.append(
                LedgerEntry.Output(
                    folder: Spool.Folder.journal.rawValue,
                    name: "\(prefix())-\(record.event.rawValue)-\(record.appointmentId ?? id).xml",
                    bytes: record.render(id: id)))
        }
        return outputs
    }

    /// Requests nobody answered within the hold time: expired, answered 26, journalled (one transaction).
    func expireHolds() throws -> Int {
        let context = decisionContext()
        let now = context.now
        let key = "expiry:\(now):\(context.newId())"
        let (count, outputs) = try store.write { writer -> (Int, [LedgerEntry.Output]) in
            let decision = try CommandHandler(settings: settings, newId: context.newId).expireHolds(
                model: writer.reader, now: now)
            guard !decision.changes.isEmpty else { return (0, []) }
            let conversation = try conversations(context).officeEvents(of: decision, model: writer.reader)
            try writer.apply(conversation)
            let outputs = try outputFiles(conversation, context: context, model: writer.reader)
            try record(
                LedgerEntry(
                    key: key, source: "hold expiry", contentSHA256: "", appliedAt: now, outcome: "ok",
                    summary: decision.summary, outputs: outputs), writer: writer)
            return (decision.events.count, outputs)
        }
        if count > 0 { try publish(outputs, key: key) }
        return count
    }

    /// One message from `inbox/`, decided in the batch's transaction (with its `.meta`, when the
    /// transport wrote one, which follows its input to the archive or to `error/`).
    func planMessage(_ claimed: Spool.Claimed, writer: StoreWriter) throws -> Plan {
        let context = decisionContext()
        let now = context.now
        let day = Oslo.today(at: clock()).description
        // Read and decoded on another core while the batch's earlier inputs were decided, or here.
        let prepared = try
            (prefetch?.take(claimed)
            ?? Result { try PreparedMessage.prepare(claimed, spool: spool, checks: try messageChecks()) }).get()
        let bytes: [UInt8]
        let metaData: Data?
        let decodedOrError: Result<DecodedMessage, MessageError>
        let hash: String
        let signatureProblem: SigningError?
        switch prepared {
        case .tooLarge(let size):
            let refusal = Refusal(
                XMLError(
                    .inputTooLarge,
                    "The input has \(size) bytes, more than limits.max-input-bytes (\(config.maxInputBytes)); it was not read, so it cannot be answered."
                ))
            return Plan(
                claimed: claimed, key: nil, outputs: [],
                disposition: .quarantine("inbox/\(claimed.name) was refused unread.\n\(refusal)\n"),
                outcome: CommandOutcome(
                    commandId: nil, error: refusal, summary: refusal.message, created: [], duplicate: false),
                day: day)
        case .read(let read, let meta, let decoded, let sha256, let problem):
            (bytes, metaData, decodedOrError, hash, signatureProblem) = (read, meta, decoded, sha256, problem)
        }
        var meta: TransportMeta?
        if let metaData {
            do {
                meta = try TransportMeta.parse(String(decoding: metaData, as: UTF8.self))
            } catch {
                return planTransportRefusal(
                    claimed, reason: "Its transport metadata (.meta) is unreadable: \(error)", day: day)
            }
        }
        let decoded: DecodedMessage
        switch decodedOrError {
        case .success(let message): decoded = message
        case .failure(let error):
            return try planUndecodable(claimed, error: error, meta: meta, bytes: bytes, day: day, writer: writer)
        }
        switch decoded {
        case .appRec(let appRec):
            return try planReceipt(appRec, claimed: claimed, bytes: bytes, day: day, writer: writer)
        case .dialog(let message, let function):
            // The transport's HER-ids must match the MsgHead (a mismatch is a spoofing attempt).
            if let from = meta?["from-her-id"], from != message.info.sender.communicationPartyHerId,
                from != message.info.sender.herId
            {
                return planTransportRefusal(
                    claimed,
                    reason:
                        "The transport says the message came from HER-id \(from), but its MsgHead names \(message.info.sender.communicationPartyHerId ?? "?"); refused unanswered as a possible spoofing attempt. Nothing changed.",
                    day: day)
            }
            if let to = meta?["to-her-id"], to != message.info.receiver.communicationPartyHerId,
                to != message.info.receiver.herId
            {
                return planTransportRefusal(
                    claimed,
                    reason:
                        "The transport delivered it to HER-id \(to), but its MsgHead is addressed to \(message.info.receiver.communicationPartyHerId ?? "?"); refused unanswered. Nothing changed.",
                    day: day)
            }
            if let subject = meta?["subject"], subject != message.info.type.value {
                return planTransportRefusal(
                    claimed,
                    reason:
                        "The transport's subject \(subject) is not the message's process \(message.info.type.value); refused unanswered. Nothing changed.",
                    day: day)
            }
            let key = "message:\(message.info.sender.communicationPartyHerId ?? "?"):\(message.info.msgId)"
            let committed: (LedgerEntry, Bool, Refusal?)
            do {
                committed = try writer.savepoint { writer -> (LedgerEntry, Bool, Refusal?) in
                    let previous = try writer.reader.ledger(key: key)
                    if let previous, previous.contentSHA256 == hash { return (previous, true, nil) }
                    let conversations = conversations(context)
                    // A refusal is recorded once (under the MsgId, or MsgId + content when the MsgId is taken),
                    // so a second delivery is never answered twice.
                    func refuse(_ result: Outcome, _ refusal: Refusal) throws -> (LedgerEntry, Bool, Refusal?) {
                        let entryKey = previous == nil ? key : "\(key):\(hash)"
                        if let recorded = try writer.reader.ledger(key: entryKey) { return (recorded, false, refusal) }
                        let entry = LedgerEntry(
                            key: entryKey, source: claimed.name, contentSHA256: hash, appliedAt: now,
                            outcome: "rejected",
                            summary: refusal.description,
                            outputs: try outputFiles(result, context: context, model: writer.reader))
                        try record(entry, writer: writer)
                        return (entry, false, refusal)
                    }
                    // The answer to a refused message of ours: an AppRec for an asynchronous one, the function's refusal for a synchronous one.
                    func refusalAnswer(_ error: AppRecErrorCode, _ reason: String, citizenText: String) -> Outcome {
                        var result = Outcome()
                        if function.expectsAppRec {
                            result.messages.append(
                                conversations.appRec(message.info, meta: meta, errors: [(error, reason)]))
                        } else {
                            let code = Conversations.rejectionCode(for: message.info.process)
                            result.messages +=
                                conversations.answer(
                                    message, meta: meta, code: code, label: "Svar-\(code.value)", text: citizenText
                                ).messages
                        }
                        return result
                    }
                    // Not ours: refused before anything could answer it, also a reused MsgId (never E10 in someone else's name).
                    if let refused = try conversations.notOurs(
                        message.info, asynchronous: function.expectsAppRec, meta: meta, model: writer.reader)
                    {
                        return try refuse(
                            refused,
                            refused.refusal ?? Refusal(code: .notAddressedHere, "Not addressed to this office."))
                    }
                    // A bad signature (or none where one is required): S01/S02, or the function's refusal; nothing changes.
                    if let problem = signatureProblem {
                        let result = refusalAnswer(
                            problem.appRecCode == "S02" ? .invalidCertificate : .signatureError, problem.message,
                            citizenText: "Meldingens signatur kunne ikke godtas (\(problem.appRecCode ?? "S01")).")
                        return try refuse(result, Refusal(problem))
                    }
                    if let previous {
                        // The same MsgId with other content: E10; nothing changes.
                        let reason =
                            "MsgId \(message.info.msgId) was already received (\(previous.source)) with other content."
                        let result = refusalAnswer(
                            .invalidMessageId, reason,
                            citizenText: "Meldingen er allerede mottatt med annet innhold (E10).")
                        return try refuse(
                            result, Refusal(code: .messageIdReused, reason + " Answered E10; nothing changed."))
                    }
                    let result = try conversations.handle(message, function, meta: meta, model: writer.reader)
                    try writer.apply(result)
                    let entry = LedgerEntry(
                        key: key, source: claimed.name, contentSHA256: hash, appliedAt: now,
                        outcome: result.refusal == nil ? "ok" : "rejected",
                        summary: result.refusal?.description ?? "\(function.rawValue): \(result.decision.summary)",
                        outputs: try outputFiles(result, context: context, model: writer.reader))
                    try record(entry, writer: writer)
                    return (entry, false, result.refusal)
                }
            } catch let invalid as Refusal where invalid.isInvalidOutput {
                // Nothing was recorded or sent; the input goes to error/ for its bug report.
                return Plan(
                    claimed: claimed, key: nil, outputs: [],
                    disposition: .quarantine(
                        "inbox/\(claimed.name) (\(function.rawValue), MsgId \(message.info.msgId)) was not answered; nothing changed.\n\(invalid)\n"
                    ),
                    outcome: CommandOutcome(
                        commandId: message.info.msgId, error: invalid, summary: invalid.message, created: [],
                        duplicate: false),
                    day: day)
            }
            let (entry, duplicate, refusal) = committed
            if let refusal {
                let answered = entry.outputs.filter { $0.name.hasSuffix(".xml") }.map { "\($0.folder)/\($0.name)" }
                return Plan(
                    claimed: claimed, key: entry.key, outputs: entry.outputs,
                    disposition: .quarantine(
                        "inbox/\(claimed.name) (\(function.rawValue), MsgId \(message.info.msgId)) was refused.\n\(refusal)\n"
                            + (answered.isEmpty
                                ? "Not answered.\n" : "Answered with: \(answered.joined(separator: ", "))\n")),
                    outcome: CommandOutcome(
                        commandId: message.info.msgId, error: refusal, summary: refusal.message, created: [],
                        duplicate: false),
                    day: day)
            }
            return Plan(
                claimed: claimed, key: entry.key, outputs: entry.outputs, disposition: .archive,
                outcome: CommandOutcome(
                    commandId: message.info.msgId, error: nil,
                    summary: duplicate ? "Already received: \(entry.summary)" : entry.summary, created: [],
                    duplicate: duplicate),
                day: day)
        }
    }

    /// What preparing an inbox message needs of the engine's settings, the business clock's now.
    func messageChecks() throws -> PreparedMessage.Checks {
        PreparedMessage.Checks(
            limit: config.maxInputBytes,
            codec: MessageCodec(
                schemas: try messageSchemas(),
                options: DecodingOptions(allowTestIdentityNumbers: config.allowTestNumbers),
                limits: ParseLimits(maxBytes: config.maxInputBytes)),
            incomingSignatures: config.incomingSignatures, trusted: trustedCertificates, now: clock())
    }

    /// A message that cannot be decoded: an AppRec error for an asynchronous one, 26 for a
    /// synchronous one (when its envelope could be read), and the input to `error/`.
    private func planUndecodable(
        _ claimed: Spool.Claimed, error: MessageError, meta: TransportMeta?, bytes: [UInt8], day: String,
        writer: StoreWriter
    ) throws -> Plan {
        let context = decisionContext()
        let now = context.now
        var result = Outcome()
        let conversations = conversations(context)
        if let envelope = error.envelope {
            // The function decides (PROTOCOL.md §1: senders are not consistent with Ack); Ack only when unknown.
            let synchronous = error.function.map(\.isSynchronous) ?? !envelope.acknowledgementRequested
            let process = DialogProcess(wireName: envelope.type.value)
            // Not ours: never answered in the name of whoever it was addressed to.
            if let refused = try conversations.notOurs(
                envelope, asynchronous: !synchronous, meta: meta, model: writer.reader)
            {
                result = refused
            } else if synchronous, process != nil {
                let request = DialogMessage(info: envelope, documents: [])
                let code = Conversations.rejectionCode(for: process)
                result.messages +=
                    conversations.answer(
                        request, meta: meta, code: code, label: "Svar-\(code.value)",
                        text:
                            "Forespørselen kunne ikke behandles (\(error.appRecError.rawValue) \(error.appRecError.displayName))."
                    ).messages
            } else if !synchronous {
                result.messages.append(
                    conversations.appRec(
                        envelope, meta: meta, errors: [(error.appRecError, String(error.summary.prefix(500)))]))
            }
        }
        // Keyed like any message when its envelope could be read: a second delivery is not answered twice.
        let key =
            error.envelope.map { "message:\($0.sender.communicationPartyHerId ?? "?"):\($0.msgId)" }
            ?? "undecodable:\(claimed.name):\(ContentHash.hex(bytes))"
        var unanswerable: Refusal?
        let entry = try recordOnce(key: key, writer: writer) { writer in
            var outputs: [LedgerEntry.Output] = []
            do {
                outputs = try outputFiles(result, context: context, model: writer.reader)
            } catch let refusal as Refusal where refusal.isInvalidOutput {
                // An answer built from a broken envelope that would itself be refused: none is sent.
                unanswerable = refusal
            }
            return LedgerEntry(
                key: key, source: claimed.name, contentSHA256: ContentHash.hex(bytes), appliedAt: now,
                outcome: "rejected", summary: error.description, outputs: outputs)
        }
        let answered = entry.outputs.filter { $0.name.hasSuffix(".xml") }.map { "\($0.folder)/\($0.name)" }
        var reason =
            "inbox/\(claimed.name) could not be processed; nothing in the model changed.\n\(error.description)\n"
            + (answered.isEmpty
                ? "No answer could be addressed.\n" : "Answered with: \(answered.joined(separator: ", "))\n")
        if let unanswerable { reason += "Its answer was not sent: \(unanswerable)\n" }
        return Plan(
            claimed: claimed, key: key, outputs: entry.outputs, disposition: .quarantine(reason),
            outcome: CommandOutcome(
                commandId: error.envelope?.msgId, error: Refusal(error), summary: error.description, created: [],
                duplicate: false),
            day: day)
    }

    /// An AppRec from helsenorge: matched to the message it answers; E35 marks the patient as not digitally active.
    private func planReceipt(
        _ appRec: AppRec, claimed: Spool.Claimed, bytes: [UInt8], day: String, writer: StoreWriter
    ) throws -> Plan {
        let context = decisionContext()
        let key = "apprec:\(appRec.sender.communicationPartyHerId ?? "?"):\(appRec.id)"
        let outcome = try writer.savepoint { writer -> String? in
            if try writer.reader.ledger(key: key) != nil { return "duplicate" }
            guard let receipt = try conversations(context).receive(appRec, model: writer.reader) else { return nil }
            try writer.apply(receipt)
            try record(
                LedgerEntry(
                    key: key, source: claimed.name, contentSHA256: ContentHash.hex(bytes), appliedAt: context.now,
                    outcome: "ok", summary: receipt.decision.summary, outputs: []), writer: writer)
            return receipt.decision.summary
        }
        guard let outcome else {
            let refusal = Refusal(
                code: .unmatchedAnswer,
                "It is an AppRec for message \(appRec.original.id), which timebok did not send (or no longer knows). Nothing changed."
            )
            return Plan(
                claimed: claimed, key: nil, outputs: [],
                disposition: .quarantine("inbox/\(claimed.name) was refused.\n\(refusal)\n"),
                outcome: CommandOutcome(
                    commandId: appRec.id, error: refusal, summary: refusal.message, created: [], duplicate: false),
                day: day)
        }
        return Plan(
            claimed: claimed, key: nil, outputs: [], disposition: .archive,
            outcome: CommandOutcome(
                commandId: appRec.id, error: nil, summary: outcome == "duplicate" ? "Already received." : outcome,
                created: [], duplicate: outcome == "duplicate"),
            day: day)
    }

    /// Refused unanswered because of its transport metadata.
    private func planTransportRefusal(_ claimed: Spool.Claimed, reason: String, day: String) -> Plan {
        let refusal = Refusal(code: .transportMismatch, reason)
        return Plan(
            claimed: claimed, key: nil, outputs: [],
            disposition: .quarantine("inbox/\(claimed.name) was refused.\n\(refusal)\n"),
            outcome: CommandOutcome(
                commandId: nil, error: refusal, summary: reason, created: [], duplicate: false),
            day: day)
    }
}

extension StoreWriter {
    /// Commits a handler's outcome: the model's decision and the engine's records, in this transaction.
    func apply(_ outcome: Outcome) throws {
        try apply(outcome.decision)
        try apply(outcome.records)
    }
}
