import TimebokCore
import TimebokXML

/// `status` of a vevent.
public enum EventStatus: String, Sendable, Hashable, CaseIterable {
    case tentative = "TENTATIVE"
    case confirmed = "CONFIRMED"
    case cancelled = "CANCELLED"
    case completed = "COMPLETED"
}

/// One slot or appointment (xCal `vevent`). Times are Oslo wall-clock times (PROTOCOL.md §4).
public struct VEvent: Sendable, Hashable {
    public var start: LocalDateTime
    public var end: LocalDateTime
    /// The slot's id.
    public var uid: String
    /// The HER-id of the communication party the time belongs to (book or GP), trimmed.
    public var contact: String
    /// The appointment's id (profile decision: uid = slot, related-to = appointment).
    public var relatedTo: String?
    /// The raw `status` text (see ``eventStatus``).
    public var status: String?
    public var summary: String?
    public var description: String?
    /// Oppmøtested.
    public var location: String?
    /// Appointment type texts (7617) and `MustCall`.
    public var categories: [String]
    /// When the slot becomes bookable (SvarLedigeTimer only).
    public var availableAt: LocalDateTime?
    /// With CANCELLED: the reason text.
    public var cancellationReason: String?

    public init(
        start: LocalDateTime, end: LocalDateTime, uid: String, contact: String, relatedTo: String? = nil,
        status: EventStatus? = nil, summary: String? = nil, description: String? = nil, location: String? = nil,
        categories: [String] = [], availableAt: LocalDateTime? = nil, cancellationReason: CancellationReason? = nil
    ) {
        self.start = start
        self.end = end
        self.uid = uid
        self.contact = contact
        self.relatedTo = relatedTo
        self.status = status?.rawValue
        self.summary = summary
        self.description = description
        self.location = location
        self.categories = categories
        self.availableAt = availableAt
        self.cancellationReason = cancellationReason?.rawValue
    }

    public var eventStatus: EventStatus? { status.flatMap(EventStatus.init(rawValue:)) }
    /// True for a slot that cannot be booked online (`categories` MustCall).
    public var mustCall: Bool { categories.contains("MustCall") }
}

/// An xCal calendar (`icalendar/vcalendar`) with its vevents.
public struct XCalendar: Sendable, Hashable {
    public var version: String
    public var productId: String
    public var events: [VEvent]

    public init(productId: String, events: [VEvent], version: String = "2.0") {
        self.version = version
        self.productId = productId
        self.events = events
    }
}

enum XCalCodec {
    static let xcal = Namespace.xCal

    static func decode(_ root: XElement) throws(MessageError) -> XCalendar {
        let calendar = try root.required(xcal, "vcalendar")
        let properties = try calendar.required(xcal, "properties")
        var events: [VEvent] = []
        // The schema allows several vcalendars; their events are read together so none is overlooked.
        for vcalendar in root.children(xcal, "vcalendar") {
            for event in try vcalendar.required(xcal, "components").children(xcal, "vevent") {
                events.append(try vevent(event))
            }
        }
        return XCalendar(
            productId: try text(properties, "prodid") ?? "",
            events: events,
            version: try text(properties, "version") ?? "")
    }

    static func vevent(_ element: XElement) throws(MessageError) -> VEvent {
        let properties = try element.required(xcal, "properties")
        func required<T>(_ value: T?, _ name: String) throws(MessageError) -> T {
            guard let value, (value as? String)?.isEmpty != true else {
                throw MessageError(
                    .missingElement, .otherFormatError, "A vevent (line \(element.line)) has no \(name).",
                    line: element.line)
            }
            return value
        }
        var event = VEvent(
            start: try required(try dateTime(properties, "dtstart"), "dtstart"),
            end: try required(try dateTime(properties, "dtend"), "dtend"),
            // Trimmed before the check: a value of white space only is missing.
            uid: try required(try text(properties, "uid")?.trimmedWhitespace, "uid"),
            contact: try required(try text(properties, "contact")?.trimmedWhitespace, "contact"))
        // related-to holds a uri, uid or text value, possibly after parameters (reltype).
        if let relatedTo = properties.child(xcal, "related-to") {
            event.relatedTo =
                (relatedTo.child(xcal, "uri") ?? relatedTo.child(xcal, "uid") ?? relatedTo.child(xcal, "text"))?.text
                .trimmedWhitespace
        }
        event.status = try text(properties, "status")
        event.summary = try text(properties, "summary")
        event.description = try text(properties, "description")
        event.location = try text(properties, "location")
        event.categories = properties.children(xcal, "categories").flatMap { $0.children(xcal, "text").map(\.text) }
        event.availableAt = try dateTime(properties, "x-available-at")
        event.cancellationReason = try text(properties, "x-cancellation-reason")
        return event
    }

    /// The `text` value of a text property.
    static func text(_ properties: XElement, _ name: String) throws(MessageError) -> String? {
        guard let property = properties.child(xcal, name) else { return nil }
        return property.child(xcal, "text")?.text ?? ""
    }

    static func dateTime(_ properties: XElement, _ name: String) throws(MessageError) -> LocalDateTime? {
        guard let property = properties.child(xcal, name) else { return nil }
        guard let value = property.child(xcal, "date-time") else {
            throw MessageError(
                .badDateTime, .otherFormatError,
                "The \(name) at line \(property.line) has no date-time value (a date alone is not a time slot).",
                line: property.line)
        }
        guard let parsed = LocalDateTime(value.text) else {
            throw MessageError(
                .badDateTime, .otherFormatError,
                "The \(name) at line \(value.line) is not a date-time: \"\(value.text)\".", line: value.line)
        }
        return parsed
    }

    /// Calendars of many events written before: a list of free slots is usually asked for again,
    /// unchanged, by the next citizen (a few confirmations in between do not evict it).
    static let written = XMLFragmentCache<XCalendar>(capacity: 8)
    /// From this many events a calendar is kept in ``written``; smaller ones cost little to write.
    static let memoizedFrom = 8

    static func encode(_ calendar: XCalendar, into w: inout XMLWriter) {
        if calendar.events.count >= memoizedFrom {
            w.fragment(calendar, cache: written) { w in write(calendar, into: &w) }
        } else {
            write(calendar, into: &w)
        }
    }

    private static func write(_ calendar: XCalendar, into w: inout XMLWriter) {
        w.element("icalendar", attributes: ["xmlns": xcal]) { w in
            w.element("vcalendar") { w in
                w.element("properties") { w in
                    textProperty("version", calendar.version, into: &w)
                    textProperty("prodid", calendar.productId, into: &w)
                }
                w.element("components") { w in
                    for event in calendar.events { vevent(event, into: &w) }
                }
            }
        }
    }

    /// One vevent per line: a free-slot answer lists up to a few hundred, and indenting their
    /// properties made half of its bytes whitespace.
    static func vevent(_ event: VEvent, into w: inout XMLWriter) {
        w.lineElement("vevent") { w in
            w.element("properties") { w in
                dateTimeProperty("dtstart", event.start, into: &w)
                dateTimeProperty("dtend", event.end, into: &w)
                textProperty("uid", event.uid, into: &w)
                if let relatedTo = event.relatedTo {
                    w.element("related-to") { w in w.element("uri", text: relatedTo) }
                }
                textProperty("contact", event.contact, into: &w)
                textProperty("status", event.status, into: &w)
                textProperty("summary", event.summary, into: &w)
                textProperty("description", event.description, into: &w)
                textProperty("location", event.location, into: &w)
                if !event.categories.isEmpty {
                    w.element("categories") { w in
                        for category in event.categories { w.element("text", text: category) }
                    }
                }
                if let availableAt = event.availableAt { dateTimeProperty("x-available-at", availableAt, into: &w) }
                textProperty("x-cancellation-reason", event.cancellationReason, into: &w)
            }
            w.element("components") { _ in }
        }
    }

    static func textProperty(_ name: String, _ value: String?, into w: inout XMLWriter) {
        guard let value else { return }
        w.element(name) { w in w.element("text", text: value) }
    }

    static func dateTimeProperty(_ name: String, _ value: LocalDateTime, into w: inout XMLWriter) {
        w.element(name) { w in w.element("date-time", text: value.description) }
    }
}
