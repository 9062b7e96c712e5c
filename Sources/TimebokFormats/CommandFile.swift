import Booking
import HelsenorgeMessages
import TimebokCore
import TimebokXML

/// timebok's command files (schemas/command-v1.xsd) to ``CommandEnvelope``, and results to XML.
public enum CommandFile {
    static let ns = OfficeNamespace.command

    /// Decodes a parsed, schema-valid command document.
    public static func decode(_ document: XDocument) throws -> CommandEnvelope {
        guard let root = document.root, root.isNamed(ns, "Command") else {
            throw ModelError(.invalidCommand, "The file is not a timebok command (root element Command in \(ns)).")
        }
        guard let id = root.attribute("id"), !id.isEmpty else {
            throw ModelError(.invalidCommand, "The command has no id attribute.")
        }
        guard let operation = root.children.first else {
            throw ModelError(.invalidCommand, "Command \(id) names no operation.")
        }
        return CommandEnvelope(
            id: id.trimmedWhitespace, issuedBy: root.attribute("issuedBy"), command: try command(operation))
    }

    static func command(_ e: XElement) throws -> Command {
        switch e.name {
        case "SetBookingEnabled":
            return .setBookingEnabled(try bool(e, "Enabled"))
        case "SetGpSettings":
            return .setGP(
                GP(
                    herId: try text(e, "HerId"), hpr: try text(e, "Hpr"), familyName: try text(e, "FamilyName"),
                    givenName: try text(e, "GivenName"),
                    ressursoversiktEnabled: try bool(e, "RessursoversiktEnabled"),
                    personalBookOpen: try bool(e, "PersonalBookOpen")))
        case "CreateBook":
            let update = try bookUpdate(e)
            guard let kind = update.kind, let name = update.name, let minutes = update.slotMinutes else {
                throw ModelError(.invalidCommand, "CreateBook needs Kind, Name and SlotMinutes.")
            }
            let book = update.applied(to: Book(id: update.id, kind: kind, name: name, slotMinutes: minutes))
            return .createBook(book)
        case "UpdateBook":
            return .updateBook(try bookUpdate(e))
        case "OpenSlot":
            return .openSlot(
                bookId: try text(e, "BookId"), start: try dateTime(e, "Start"), end: try dateTime(e, "End"),
                capacity: try optionalInt(e, "Capacity"))
        case "OpenSlotsFromHours":
            var hours: [WeeklyHours] = []
            for window in e.children(ns, "Hours") {
                hours.append(
                    WeeklyHours(
                        weekday: try weekday(try text(window, "Weekday")),
                        startMinute: try minuteOfDay(window, "Start"), endMinute: try minuteOfDay(window, "End")))
            }
            var closed: [LocalDate] = []
            for day in e.children(ns, "ClosedDay") {
                guard let date = LocalDate(day.text) else {
                    throw ModelError(.invalidTime, "ClosedDay \"\(day.text)\" is not a date.")
                }
                closed.append(date)
            }
            return .openSlotsFromHours(
                bookId: try text(e, "BookId"), from: try date(e, "From"), to: try date(e, "To"), hours: hours,
                slotMinutes: try optionalInt(e, "SlotMinutes"), closedDays: closed)
        case "CloseSlot":
            return .closeSlot(
                slotId: try text(e, "SlotId"), force: try optionalBool(e, "Force") ?? false,
                reason: e.optionalChildText(ns, "Reason"))
        case "ImportPatients":
            let mode = ImportMode(rawValue: e.attribute("mode") ?? "") ?? .update
            var patients: [ListPatient] = []
            for p in e.children(ns, "Patient") {
                let groups = p.child(ns, "Groups")?.children(ns, "Group").map { $0.text.trimmedWhitespace } ?? []
                patients.append(
                    ListPatient(
                        fnr: try text(p, "Fnr"), familyName: try text(p, "FamilyName"),
                        givenName: try text(p, "GivenName"), groups: groups))
            }
            return .importPatients(mode: mode, patients: patients)
        case "ConfirmRequest":
            let by = try required(e, "ConfirmedBy")
            return .confirmRequest(
                requestId: try text(e, "RequestId"),
                by: Staff(
                    familyName: try text(by, "FamilyName"), givenName: try text(by, "GivenName"),
                    hpr: by.optionalChildText(ns, "Hpr")), text: e.optionalChildText(ns, "Text"))
        case "RejectRequest":
            return .rejectRequest(
                requestId: try text(e, "RequestId"), reason: try text(e, "Reason"),
                kind: try rejectionKind(e.optionalChildText(ns, "AnswerCode")))
        case "BookAppointment":
            return .bookAppointment(
                slotId: try text(e, "SlotId"), fnr: try text(e, "Fnr"), text: e.optionalChildText(ns, "Text"))
        case "MoveAppointment":
            return .moveAppointment(appointmentId: try text(e, "AppointmentId"), newSlotId: try text(e, "NewSlotId"))
        case "CancelAppointment":
            return .cancelAppointment(
                appointmentId: try text(e, "AppointmentId"), reason: try cancellationCause(text(e, "Reason")),
                text: e.optionalChildText(ns, "Text"))
        case "RecordNoShow":
            return .recordNoShow(appointmentId: try text(e, "AppointmentId"))
        case "CompleteAppointment":
            return .completeAppointment(appointmentId: try text(e, "AppointmentId"))
        default:
            throw ModelError(.invalidCommand, "\(e.name) is not a timebok command.")
        }
    }

    /// AnswerCode 26 (declined, the default) or 06 (the slot is taken): the codes the citizen is answered with.
    public static func rejectionKind(_ code: String?) throws -> RejectionKind? {
        switch code?.trimmedWhitespace {
        case nil: return nil
        case AnswerCode.foresporselAvvist.rawValue?: return .declined
        case AnswerCode.timeIkkeTilgjengelig.rawValue?: return .slotTaken
        case let other?: throw ModelError(.invalidValue, "A rejection is answered 26 or 06, not \(other).")
        }
    }

    /// The x-cancellation-reason texts of PROTOCOL.md §4, as the model's causes.
    public static func cancellationCause(_ text: String) throws -> CancellationCause {
        switch CancellationReason(rawValue: text.trimmedWhitespace) {
        case .byService?: return .byService
        case .notAtHome?: return .notAtHome
        case .byRecipient?: return .byRecipient
        case .onBehalfOfRecipient?: return .onBehalfOfRecipient
        case nil:
            throw ModelError(
                .invalidValue,
                "The reason must be one of: \(CancellationReason.allCases.map(\.rawValue).joined(separator: "; ")).")
        }
    }

    static func bookUpdate(_ e: XElement) throws -> BookUpdate {
        var update = BookUpdate(id: try text(e, "Id"))
        if let kind = e.optionalChildText(ns, "Kind") {
            guard let value = BookKind(rawValue: kind) else {
                throw ModelError(.invalidCommand, "Kind must be resource or personal, not \"\(kind)\".")
            }
            update.kind = value
        }
        update.name = e.optionalChildText(ns, "Name")
        if let category = e.optionalChildText(ns, "Category") {
            guard let value = BookCategory(rawValue: category) else {
                throw ModelError(
                    .invalidCommand, "Category must be Koronatest, Koronavaksine, Lab or Vaksine, not \"\(category)\".")
            }
            update.category = value
        }
        update.herId = e.optionalChildText(ns, "HerId")
        update.gpHpr = e.optionalChildText(ns, "GpHpr")
        // Text is kept exactly as written (no trimming): its length is what helsenorge shows.
        update.informationText = e.child(ns, "InformationText")?.text
        update.location = e.optionalChildText(ns, "Location")
        update.published = try optionalBool(e, "Published")
        update.slotMinutes = try optionalInt(e, "SlotMinutes")
        update.capacity = try optionalInt(e, "Capacity")
        if let days = try optionalInt(e, "BookingHorizonDays") { update.bookingHorizonDays = .some(days) }
        update.bookingCutoffMinutes = try optionalInt(e, "BookingCutoffMinutes")
        update.cancellationCutoffMinutes = try optionalInt(e, "CancellationCutoffMinutes")
        if let limit = try optionalInt(e, "MaxActiveBookingsPerPatient") {
            update.maxActiveBookingsPerPatient = .some(limit)
        }
        if let mode = e.optionalChildText(ns, "Confirmation") {
            guard let value = ConfirmationMode(rawValue: mode) else {
                throw ModelError(.invalidCommand, "Confirmation must be automatic or manual, not \"\(mode)\".")
            }
            update.confirmation = value
        }
        update.holdMinutes = try optionalInt(e, "HoldMinutes")
        update.prerequisitesMustBeAccepted = try optionalBool(e, "PrerequisitesMustBeAccepted")
        if let access = e.child(ns, "Access") {
            var rule = AccessRule(groups: access.children(ns, "Group").map { $0.text.trimmedWhitespace })
            if let range = access.child(ns, "AgeRange") {
                rule.minAge = try range.attribute("MinAge").map { try int($0, "MinAge") }
                rule.maxAge = try range.attribute("MaxAge").map { try int($0, "MaxAge") }
            }
            update.access = rule
        }
        return update
    }

    // MARK: Field readers

    static func required(_ e: XElement, _ name: String) throws -> XElement {
        guard let child = e.child(ns, name) else {
            throw ModelError(.invalidCommand, "\(e.name) has no \(name) (line \(e.line)).")
        }
        return child
    }

    static func text(_ e: XElement, _ name: String) throws -> String {
        let value = try required(e, name).text.trimmedWhitespace
        guard !value.isEmpty else { throw ModelError(.invalidCommand, "\(e.name)/\(name) is empty (line \(e.line)).") }
        return value
    }

    static func int(_ text: String, _ name: String) throws -> Int {
        guard let value = Int(text.trimmedWhitespace) else {
            throw ModelError(.invalidCommand, "\(name) must be a whole number, not \"\(text)\".")
        }
        return value
    }

    static func optionalInt(_ e: XElement, _ name: String) throws -> Int? {
        try e.optionalChildText(ns, name).map { try int($0, name) }
    }

    static func bool(_ e: XElement, _ name: String) throws -> Bool {
        switch try text(e, name) {
        case "true": return true
        case "false": return false
        case let other: throw ModelError(.invalidCommand, "\(name) must be true or false, not \"\(other)\".")
        }
    }

    static func optionalBool(_ e: XElement, _ name: String) throws -> Bool? {
        e.child(ns, name) == nil ? nil : try bool(e, name)
    }

    static func date(_ e: XElement, _ name: String) throws -> LocalDate {
        let value = try text(e, name)
        guard let date = LocalDate(value) else {
            throw ModelError(.invalidTime, "\(name) \"\(value)\" is not a date (YYYY-MM-DD).")
        }
        return date
    }

    static func dateTime(_ e: XElement, _ name: String) throws -> LocalDateTime {
        let value = try text(e, name)
        guard let dateTime = LocalDateTime(value) else {
            throw ModelError(.invalidTime, "\(name) \"\(value)\" is not a date-time (YYYY-MM-DDTHH:MM:SS, Oslo time).")
        }
        return dateTime
    }

    static func minuteOfDay(_ e: XElement, _ name: String) throws -> Int {
        let value = try text(e, name)
        guard let minutes = parseTimeOfDay(value) else {
            throw ModelError(.invalidTime, "\(name) \"\(value)\" is not a time of day (HH:MM or HH:MM:SS).")
        }
        return minutes
    }

    static func weekday(_ name: String) throws -> Int {
        guard let index = weekdayNames.firstIndex(of: name.lowercased()) else {
            throw ModelError(.invalidCommand, "\"\(name)\" is not a weekday (monday … sunday).")
        }
        return index + 1
    }

    public static let weekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    // MARK: Results

    /// The `CommandResult` file for a command.
    public static func result(
        commandId: String?, error: ModelError?, message: String?, created: [Decision.Created], processedAt: String
    ) -> [UInt8] {
        var w = XMLWriter()
        w.element("CommandResult", attributes: ["xmlns": ns, "commandId": commandId]) { w in
            w.element("Status", text: error == nil ? "ok" : "error")
            if let error {
                w.element("Error", attributes: ["code": error.code.rawValue], text: String(error.message.prefix(1_000)))
            }
            if error == nil, let message, !message.isEmpty { w.element("Message", text: String(message.prefix(1_000))) }
            if !created.isEmpty {
                w.element("Created") { w in
                    for ref in created { w.element("Ref", attributes: ["kind": ref.kind, "id": ref.id], text: nil) }
                }
            }
            w.element("ProcessedAt", text: processedAt)
        }
        return w.finish()
    }
}

/// "07:30", "07:30:00" → minutes after midnight; "24:00" is the end of the day.
public func parseTimeOfDay(_ text: String) -> Int? {
    let parts = text.trimmedWhitespace.split(separator: ":")
    guard parts.count == 2 || parts.count == 3, let hour = Int(parts[0]), let minute = Int(parts[1]),
        (0...59).contains(minute)
    else { return nil }
    if parts.count == 3 { guard let second = Int(parts[2]), second == 0 else { return nil } }
    guard (0...23).contains(hour) || (hour == 24 && minute == 0) else { return nil }
    return hour * 60 + minute
}

extension XElement {
    /// The trimmed text of a child element, nil when absent.
    public func optionalChildText(_ namespace: String, _ name: String) -> String? {
        guard let text = child(namespace, name)?.text.trimmedWhitespace, !text.isEmpty else { return nil }
        return text
    }
}
