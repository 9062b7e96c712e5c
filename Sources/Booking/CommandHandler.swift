import Foundation
import TimebokCore

/// Turns a command into a decision against a snapshot of the model. Pure: reads through the
/// reader, never writes; ids come from `newId` (the engine's generator) so tests and replays are
/// deterministic.
public struct CommandHandler {
    public var settings: ModelSettings
    public var newId: () -> String

    public init(settings: ModelSettings = ModelSettings(), newId: @escaping () -> String) {
        self.settings = settings
        self.newId = newId
    }

    public func decide(_ envelope: CommandEnvelope, model: some ModelReader, now: Int) throws -> Decision {
        let actor = Actor.office(name: envelope.issuedBy, hpr: nil)
        switch envelope.command {
        case .setBookingEnabled(let enabled):
            return Decision(
                changes: [.setBookingEnabled(enabled)],
                summary: "Booking in resource books is now \(enabled ? "on" : "off").")

        case .setGP(let gp):
            try requireDigits(gp.herId, "The GP's HER-id", maxLength: 9)
            try requireDigits(gp.hpr, "The GP's HPR number", maxLength: 9)
            if let other = try model.gp(herId: gp.herId), other.hpr != gp.hpr {
                throw ModelError(.herIdInUse, "HER-id \(gp.herId) already belongs to the GP with HPR \(other.hpr).")
            }
            return Decision(
                changes: [.upsertGP(gp)],
                summary:
                    "GP \(gp.givenName) \(gp.familyName) (HPR \(gp.hpr)): Ressursoversikt \(gp.ressursoversiktEnabled ? "on" : "off"), personal book \(gp.personalBookOpen ? "open" : "closed")."
            )

        case .createBook(let book):
            if try model.book(id: book.id) != nil {
                throw ModelError(
                    .bookExists, "A book with id \"\(book.id)\" already exists; use UpdateBook to change it.")
            }
            try validate(book, model: model)
            return Decision(
                changes: [.insertBook(book)], created: [.init(kind: "book", id: book.id)],
                summary:
                    "Created \(book.kind) book \"\(book.name)\" (\(book.id)), \(book.published ? "published" : "not published")."
            )

        case .updateBook(let update):
            guard let existing = try model.book(id: update.id) else {
                throw ModelError(.unknownBook, "There is no book with id \"\(update.id)\".")
            }
            let book = update.applied(to: existing)
            try validate(book, model: model)
            return Decision(changes: [.updateBook(book)], summary: "Updated book \"\(book.name)\" (\(book.id)).")

        case .openSlot(let bookId, let start, let end, let capacity):
            let book = try requireBook(bookId, model)
            let slot = try makeSlot(book: book, start: start, end: end, capacity: capacity)
            try checkOverlaps([slot], book: book, model: model)
            return Decision(
                changes: [.insertSlots([slot])], created: [.init(kind: "slot", id: slot.id)],
                summary:
                    "Opened slot \(slot.start)–\(pad2(slot.end.hour)):\(pad2(slot.end.minute)) in \"\(book.name)\".")

        case .openSlotsFromHours(let bookId, let from, let to, let hours, let slotMinutes, let closedDays):
            let book = try requireBook(bookId, model)
            guard from <= to else { throw ModelError(.invalidTime, "From (\(from)) is after To (\(to)).") }
            for window in hours
            where !(1...7).contains(window.weekday) || window.startMinute < 0 || window.endMinute > 1_440
                || window.startMinute >= window.endMinute
            {
                throw ModelError(
                    .invalidTime,
                    "Opening hours must end after they start on a real weekday (got weekday \(window.weekday), \(window.startMinute / 60):\(pad2(window.startMinute % 60))–\(window.endMinute / 60):\(pad2(window.endMinute % 60)))."
                )
            }
            let minutes = slotMinutes ?? book.slotMinutes
            guard minutes > 0, minutes <= 1_440 else {
                throw ModelError(.invalidValue, "Slot length must be 1 to 1440 minutes, not \(minutes).")
            }
            let days = to.daysSinceEpoch - from.daysSinceEpoch + 1
            guard days <= 366 * 2 else {
                throw ModelError(
                    .tooManySlots, "Slots can be opened for at most two years at a time (asked for \(days) days).")
            }
            let planned = SlotPlanner.slots(
                from: from, to: to, hours: hours, slotMinutes: minutes, closedDays: Set(closedDays))
            guard planned.count <= settings.maxSlotsPerCommand else {
                throw ModelError(
                    .tooManySlots,
                    "That would open \(planned.count) slots; one command may open at most \(settings.maxSlotsPerCommand)."
                )
            }
            // Slots already open with the same start and end are skipped: sending the command again extends a range.
            var existing = Set<String>()
            if let first = planned.first, let last = planned.last {
                for slot in try model.slots(
                    bookId: book.id, overlappingFrom: Oslo.secondsSinceEpoch(for: first.start),
                    to: Oslo.secondsSinceEpoch(for: last.end)) where slot.status == .open
                {
                    existing.insert("\(slot.start)|\(slot.end)")
                }
            }
            let fresh = planned.filter { !existing.contains("\($0.start)|\($0.end)") }
            let slots = fresh.map {
                Slot(id: newId(), bookId: book.id, start: $0.start, end: $0.end, capacity: book.capacity)
            }
            try checkOverlaps(slots, book: book, model: model)
            let skipped = planned.count - fresh.count
            return Decision(
                changes: slots.isEmpty ? [] : [.insertSlots(slots)],
                summary: "Opened \(slots.count) slots in \"\(book.name)\" from \(from) to \(to)"
                    + (skipped > 0 ? " (\(skipped) already open)." : "."))

        case .closeSlot(let slotId, let force, let reason):
            guard let slot = try model.slot(id: slotId) else {
                throw ModelError(.unknownSlot, "There is no slot with id \"\(slotId)\".")
            }
            guard slot.status == .open else { throw ModelError(.wrongState, "Slot \(slotId) is already closed.") }
            var changes: [Decision.Change] = [.setSlotStatus(slotId: slotId, status: .closed)]
            var events: [AppointmentEvent] = []
            if slot.activeBookings > 0 {
                guard force else {
                    throw ModelError(
                        .slotHasBookings,
                        "Slot \(slot.start) has \(slot.activeBookings) booking\(slot.activeBookings == 1 ? "" : "s"); close it with Force to cancel \(slot.activeBookings == 1 ? "it" : "them") (the patients are told)."
                    )
                }
                // The store knows the bookings of the slot; the handler names them through the reader.
                for appointment in try bookings(inSlot: slot, model: model) {
                    let state: Appointment.State = appointment.state == .requested ? .rejected : .cancelled
                    changes.append(
                        .setAppointmentState(
                            appointmentId: appointment.id, state: state,
                            cancellationReason: state == .cancelled ? .byService : nil))
                    // No reason given: the engine tells the patient the office cancelled.
                    events.append(
                        AppointmentEvent(
                            appointmentId: appointment.id, kind: state == .cancelled ? .cancelled : .rejected, at: now,
                            actor: actor, text: reason))
                }
            }
            return Decision(
                changes: changes, events: events,
                summary: "Closed slot \(slot.start)"
                    + (events.isEmpty ? "." : "; \(events.count) booking\(events.count == 1 ? "" : "s") cancelled."))

        case .importPatients(let mode, let patients):
            var seen = Set<String>()
            for patient in patients {
                do {
                    _ = try NationalIdentityNumber(patient.fnr, allowTestNumbers: settings.allowTestNumbers)
                } catch {
                    throw ModelError(
                        .invalidIdentityNumber,
                        "The fødselsnummer of \(patient.givenName) \(patient.familyName) (\(patient.fnr.prefix(6))*****) is not valid: \(error). Nothing was imported."
                    )
                }
                guard seen.insert(patient.fnr).inserted else {
                    throw ModelError(
                        .invalidValue,
                        "Patient \(patient.fnr.prefix(6))***** appears twice in the import. Nothing was imported.")
                }
            }
            let groups = Set(patients.flatMap(\.groups))
            return Decision(
                changes: [mode == .replace ? .replacePatients(patients) : .upsertPatients(patients)],
                summary:
                    "\(mode == .replace ? "Replaced the list with" : "Added or updated") \(patients.count) patient\(patients.count == 1 ? "" : "s") in \(groups.count) group\(groups.count == 1 ? "" : "s")."
            )

        case .confirmRequest(let requestId, let staff, let text):
            let appointment = try requireAppointment(requestId, model)
            guard appointment.state == .requested else {
                throw ModelError(
                    .wrongState, "Request \(requestId) is \(appointment.state.rawValue), not waiting for confirmation.")
            }
            if let holdUntil = appointment.holdUntil, holdUntil <= now {
                throw ModelError(
                    .wrongState,
                    "Request \(requestId) was held until \(Oslo.xsDateTime(Date(timeIntervalSince1970: Double(holdUntil)))) and has expired; the citizen is told it was not answered."
                )
            }
            return Decision(
                changes: [.setAppointmentState(appointmentId: requestId, state: .confirmed, cancellationReason: nil)],
                events: [
                    AppointmentEvent(
                        appointmentId: requestId, kind: .confirmed, at: now,
                        actor: .office(name: staff.fullName, hpr: staff.hpr), text: text)
                ],
                summary: "Confirmed request \(requestId) (by \(staff.fullName)).")

        case .rejectRequest(let requestId, let reason, let kind):
            let appointment = try requireAppointment(requestId, model)
            guard appointment.state == .requested else {
                throw ModelError(
                    .wrongState, "Request \(requestId) is \(appointment.state.rawValue), not waiting for confirmation.")
            }
            let rejection = kind ?? .declined
            return Decision(
                changes: [.setAppointmentState(appointmentId: requestId, state: .rejected, cancellationReason: nil)],
                events: [
                    AppointmentEvent(
                        appointmentId: requestId, kind: .rejected, at: now, actor: actor, text: reason,
                        rejection: rejection)
                ],
                summary:
                    "Rejected request \(requestId) (\(rejection == .slotTaken ? "the slot is taken" : "declined")).")

        case .bookAppointment(let slotId, let fnr, let text):
            guard let slot = try model.slot(id: slotId) else {
                throw ModelError(.unknownSlot, "There is no slot with id \"\(slotId)\".")
            }
            guard try model.patient(fnr: fnr) != nil else {
                throw ModelError(
                    .patientNotOnList, "Patient \(fnr.prefix(6))***** is not on the office's list; import him first.")
            }
            guard slot.status == .open else { throw ModelError(.slotNotBookable, "Slot \(slot.start) is closed.") }
            guard slot.freeCapacity > 0 else {
                throw ModelError(.slotFull, "Slot \(slot.start) is full (\(slot.capacity) of \(slot.capacity) taken).")
            }
            guard slot.startSeconds > now else {
                throw ModelError(.slotNotBookable, "Slot \(slot.start) is in the past.")
            }
            try refuseSecondBooking(of: fnr, in: slot, model: model)
            let id = newId()
            let appointment = Appointment(
                id: id, bookId: slot.bookId, slotId: slotId, fnr: fnr, state: .confirmed, text: text, createdAt: now)
            return Decision(
                changes: [.insertAppointment(appointment)], created: [.init(kind: "appointment", id: id)],
                events: [AppointmentEvent(appointmentId: id, kind: .confirmed, at: now, actor: actor, text: text)],
                summary: "Booked \(slot.start) for patient \(fnr.prefix(6))*****.")

        case .moveAppointment(let appointmentId, let newSlotId):
            let appointment = try requireAppointment(appointmentId, model)
            guard appointment.state == .confirmed else {
                throw ModelError(
                    .wrongState,
                    appointment.state == .requested
                        ? "\(appointmentId) is a request waiting for confirmation; confirm or reject it first (the citizen has not been told it is booked)."
                        : "Appointment \(appointmentId) is \(appointment.state.rawValue) and cannot be moved.")
            }
            guard newSlotId != appointment.slotId else {
                throw ModelError(.invalidValue, "The appointment is already in slot \(newSlotId).")
            }
            guard let slot = try model.slot(id: newSlotId) else {
                throw ModelError(.unknownSlot, "There is no slot with id \"\(newSlotId)\".")
            }
            guard slot.bookId == appointment.bookId else {
                throw ModelError(
                    .invalidValue,
                    "Slot \(newSlotId) belongs to book \"\(slot.bookId)\"; an appointment moves within its own book (\"\(appointment.bookId)\"). Cancel it and book the other instead."
                )
            }
            guard slot.status == .open, slot.startSeconds > now else {
                throw ModelError(.slotNotBookable, "Slot \(slot.start) is closed or in the past.")
            }
            guard slot.freeCapacity > 0 else { throw ModelError(.slotFull, "Slot \(slot.start) is full.") }
            try refuseSecondBooking(of: appointment.fnr, in: slot, model: model)
            return Decision(
                changes: [.moveAppointment(appointmentId: appointmentId, toSlotId: newSlotId)],
                events: [
                    AppointmentEvent(
                        appointmentId: appointmentId, kind: .moved, at: now, actor: actor,
                        previousSlotId: appointment.slotId)
                ],
                summary: "Moved appointment \(appointmentId) to \(slot.start).")

        case .cancelAppointment(let appointmentId, let reason, let text):
            let appointment = try requireAppointment(appointmentId, model)
            guard appointment.state.holdsPlace else {
                throw ModelError(
                    .wrongState,
                    "Appointment \(appointmentId) is \(appointment.state.rawValue) and cannot be cancelled.")
            }
            if appointment.state == .requested {
                // A held request was never confirmed: it is rejected (answered 26 in its conversation), not cancelled.
                return Decision(
                    changes: [
                        .setAppointmentState(appointmentId: appointmentId, state: .rejected, cancellationReason: nil)
                    ],
                    events: [
                        AppointmentEvent(
                            appointmentId: appointmentId, kind: .rejected, at: now, actor: actor, text: text,
                            rejection: .declined)
                    ],
                    summary: "Rejected the waiting request \(appointmentId) (it was never confirmed).")
            }
            return Decision(
                changes: [
                    .setAppointmentState(appointmentId: appointmentId, state: .cancelled, cancellationReason: reason)
                ],
                events: [
                    AppointmentEvent(appointmentId: appointmentId, kind: .cancelled, at: now, actor: actor, text: text)
                ],
                summary: "Cancelled appointment \(appointmentId) (\(reason.description)).")

        case .recordNoShow(let appointmentId), .completeAppointment(let appointmentId):
            let noShow: Bool
            if case .recordNoShow = envelope.command { noShow = true } else { noShow = false }
            let appointment = try requireAppointment(appointmentId, model)
            guard appointment.state == .confirmed else {
                throw ModelError(
                    .wrongState,
                    "Appointment \(appointmentId) is \(appointment.state.rawValue); only a confirmed appointment can be \(noShow ? "recorded as a no-show" : "completed")."
                )
            }
            guard let slot = try model.slot(id: appointment.slotId), slot.startSeconds <= now else {
                throw ModelError(.wrongState, "Appointment \(appointmentId) has not started yet.")
            }
            return Decision(
                changes: [
                    .setAppointmentState(
                        appointmentId: appointmentId, state: noShow ? .noShow : .completed, cancellationReason: nil)
                ],
                events: [
                    AppointmentEvent(
                        appointmentId: appointmentId, kind: noShow ? .noShow : .completed, at: now, actor: actor)
                ],
                summary: noShow
                    ? "Recorded a no-show for appointment \(appointmentId)." : "Completed appointment \(appointmentId)."
            )
        }
    }

    /// Requests nobody answered within their book's hold time: expired, their places released.
    /// (The conversations answer each with 26 in the same transaction.)
    public func expireHolds(model: some ModelReader, now: Int) throws -> Decision {
        let expired = try model.expiredHolds(now: now)
        return Decision(
            changes: expired.map {
                .setAppointmentState(appointmentId: $0.id, state: .expired, cancellationReason: nil)
            },
            events: expired.map { AppointmentEvent(appointmentId: $0.id, kind: .expired, at: now, actor: .system) },
            summary: "\(expired.count) request\(expired.count == 1 ? "" : "s") expired unanswered.")
    }

    // MARK: Checks

    private func validate(_ book: Book, model: some ModelReader) throws {
        guard !book.id.isEmpty, book.id.count <= 64, !book.id.contains(where: \.isWhitespace) else {
            throw ModelError(
                .invalidBookSettings, "A book id is 1 to 64 characters without spaces, not \"\(book.id)\".")
        }
        // The same limits as schemas/command-v1.xsd, counted the same way (characters = Unicode code points),
        // so a command from the command line and one from a file are judged alike.
        guard (1...100).contains(book.name.unicodeScalars.count) else {
            throw ModelError(.invalidBookSettings, "A book name is 1 to 100 characters.")
        }
        let informationLength = book.informationText.unicodeScalars.count
        guard informationLength <= Book.maxInformationText else {
            throw ModelError(
                .informationTextTooLong,
                "The information text has \(informationLength) characters; helsenorge shows at most \(Book.maxInformationText)."
            )
        }
        if let location = book.location, !(1...200).contains(location.unicodeScalars.count) {
            throw ModelError(
                .invalidBookSettings, "The location is 1 to 200 characters (it has \(location.unicodeScalars.count)).")
        }
        guard (1...1_440).contains(book.slotMinutes) else {
            throw ModelError(.invalidBookSettings, "Slot length must be 1 to 1440 minutes, not \(book.slotMinutes).")
        }
        guard (1...Self.maxCapacity).contains(book.capacity) else {
            throw ModelError(
                .invalidBookSettings,
                "Capacity must be 1 to \(Self.maxCapacity) patients per slot, not \(book.capacity).")
        }
        guard (0...525_600).contains(book.bookingCutoffMinutes), (0...525_600).contains(book.cancellationCutoffMinutes),
            (1...525_600).contains(book.holdMinutes)
        else {
            throw ModelError(
                .invalidBookSettings, "Cut-offs must be 0 to 525600 minutes and the hold time 1 to 525600 minutes.")
        }
        if let horizon = book.bookingHorizonDays, !(1...3_660).contains(horizon) {
            throw ModelError(.invalidBookSettings, "The booking horizon is 1 to 3660 days, not \(horizon).")
        }
        if let limit = book.maxActiveBookingsPerPatient, !(1...1_000).contains(limit) {
            throw ModelError(.invalidBookSettings, "The limit on active bookings is 1 to 1000, not \(limit).")
        }
        for age in [book.access.minAge, book.access.maxAge].compactMap({ $0 }) where !(0...150).contains(age) {
            throw ModelError(.invalidBookSettings, "An age limit is 0 to 150, not \(age).")
        }
        if let min = book.access.minAge, let max = book.access.maxAge, min > max {
            throw ModelError(.invalidBookSettings, "The age range \(min)–\(max) is empty.")
        }
        for group in book.access.groups
        where !(1...50).contains(group.unicodeScalars.count) || group.first?.isWhitespace == true
            || group.last?.isWhitespace == true
        {
            throw ModelError(
                .invalidBookSettings,
                "A group name is 1 to 50 characters without leading or trailing spaces, not \"\(group)\".")
        }
        switch book.kind {
        case .resource:
            guard book.category != nil else {
                throw ModelError(
                    .invalidBookSettings,
                    "A resource book needs a category (Koronatest, Koronavaksine, Lab or Vaksine).")
            }
            guard let herId = book.herId else {
                throw ModelError(
                    .invalidBookSettings, "A resource book needs its own HER-id (from the address register).")
            }
            try requireDigits(herId, "The book's HER-id", maxLength: 9)
            if let other = try model.book(herId: herId), other.id != book.id {
                throw ModelError(.herIdInUse, "HER-id \(herId) already belongs to book \"\(other.id)\".")
            }
            if let gp = try model.gp(herId: herId) {
                throw ModelError(
                    .herIdInUse,
                    "HER-id \(herId) is GP \(gp.givenName) \(gp.familyName)'s; a resource book needs its own.")
            }
        case .personal:
            guard book.herId == nil else {
                throw ModelError(
                    .invalidBookSettings,
                    "A personal book is addressed by its GP's HER-id; give the book no HER-id of its own.")
            }
            guard let hpr = book.gpHpr else {
                throw ModelError(.invalidBookSettings, "A personal book needs the GP's HPR number (GpHpr).")
            }
            guard try model.gp(hpr: hpr) != nil else {
                throw ModelError(.unknownGP, "There is no GP with HPR \(hpr); register him with SetGpSettings first.")
            }
        }
    }

    private func requireDigits(_ value: String, _ what: String, maxLength: Int) throws {
        guard !value.isEmpty, value.count <= maxLength, value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber) else {
            throw ModelError(.invalidValue, "\(what) must be 1 to \(maxLength) digits, not \"\(value)\".")
        }
    }

    private func requireBook(_ id: String, _ model: some ModelReader) throws -> Book {
        guard let book = try model.book(id: id) else {
            throw ModelError(.unknownBook, "There is no book with id \"\(id)\".")
        }
        return book
    }

    private func requireAppointment(_ id: String, _ model: some ModelReader) throws -> Appointment {
        guard let appointment = try model.appointment(id: id) else {
            throw ModelError(.unknownAppointment, "There is no request or appointment with id \"\(id)\".")
        }
        return appointment
    }

    private func makeSlot(book: Book, start: LocalDateTime, end: LocalDateTime, capacity: Int?) throws -> Slot {
        guard start < end else {
            throw ModelError(.invalidTime, "A slot must end after it starts (\(start) – \(end)).")
        }
        guard end.secondsSinceEpochAsWallClock - start.secondsSinceEpochAsWallClock <= 86_400 else {
            throw ModelError(.invalidTime, "A slot is at most one day long (\(start) – \(end)).")
        }
        guard !Oslo.isInGap(start), !Oslo.isInGap(end) else {
            throw ModelError(
                .invalidTime,
                "\(Oslo.isInGap(start) ? start : end) does not exist in Norway (the clocks skip that hour on the day summer time starts)."
            )
        }
        let capacity = capacity ?? book.capacity
        guard (1...Self.maxCapacity).contains(capacity) else {
            throw ModelError(.invalidValue, "Capacity must be 1 to \(Self.maxCapacity), not \(capacity).")
        }
        return Slot(id: newId(), bookId: book.id, start: start, end: end, capacity: capacity)
    }

    /// New slots may not overlap each other or the book's open slots (parallel staff is capacity).
    private func checkOverlaps(_ slots: [Slot], book: Book, model: some ModelReader) throws {
        guard !slots.isEmpty else { return }
        let sorted = slots.sorted { $0.startSeconds < $1.startSeconds }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.startSeconds < previous.endSeconds {
            throw ModelError(.slotOverlap, "The new slots \(previous.start) and \(next.start) overlap.")
        }
        let existing = try model.slots(
            bookId: book.id, overlappingFrom: sorted.first!.startSeconds, to: sorted.map(\.endSeconds).max()!
        )
        .filter { $0.status == .open }
        guard !existing.isEmpty else { return }
        var index = 0
        for slot in sorted {
            while index < existing.count, existing[index].endSeconds <= slot.startSeconds { index += 1 }
            var probe = index
            while probe < existing.count, existing[probe].startSeconds < slot.endSeconds {
                if existing[probe].endSeconds > slot.startSeconds {
                    throw ModelError(
                        .slotOverlap,
                        "The slot \(slot.start)–\(slot.end) overlaps the open slot \(existing[probe].start)–\(existing[probe].end) (id \(existing[probe].id)) in \"\(book.name)\". Close it first or choose other times; nothing was opened."
                    )
                }
                probe += 1
            }
        }
    }

    /// Capacity is per slot: parallel staff, not the same patient twice.
    private func refuseSecondBooking(of fnr: String, in slot: Slot, model: some ModelReader) throws {
        if try model.holdsPlace(fnr: fnr, inSlot: slot.id) {
            throw ModelError(
                .invalidValue, "Patient \(fnr.prefix(6))***** already has a booking in slot \(slot.start).")
        }
    }

    /// The most patients one slot can take.
    public static let maxCapacity = 1_000

    private func bookings(inSlot slot: Slot, model: some ModelReader) throws -> [Appointment] {
        try model.appointments(inSlot: slot.id).filter { $0.state.holdsPlace }
    }
}

func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
