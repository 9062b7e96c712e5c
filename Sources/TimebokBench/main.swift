// Figures for the closing notes (never a timed test): decode + validate + re-encode of each sample,
// in µs per message, beside xmllint's parse + validate over the same files in the same run.
//
//   swift run -c release timebok-bench [rounds]          benchmark (default 200 rounds over samples/)
//   swift run -c release timebok-bench rss [rounds]      resident memory while decoding, for leak checks
//   scripts/leak-check.sh                                the same loop under valgrind
//   swift run -c release timebok-bench model             free-slot query (1,000 vs 1,000,000 slots), opening 100,000 slots
//   swift run -c release timebok-bench signing [rounds]  signed vs unsigned replies, beside openssl speed rsa2048
import Booking
import Foundation
import HelsenorgeMessages
import TimebokCore
import TimebokXML

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first.flatMap { Int($0) == nil ? $0 : nil } ?? "bench"
let rounds = arguments.compactMap { Int($0) }.first ?? (mode == "bench" ? 200 : 2_000)

if mode == "model" {
    try modelBenchmark()
    exit(0)
}

if mode == "signing" {
    try signingBenchmark(rounds: arguments.compactMap { Int($0) }.first ?? 300)
    exit(0)
}

let root = FileManager.default.currentDirectoryPath
// The benchmark compares with xmllint over the official set, so it needs the bundle:
// $TIMEBOK_SCHEMAS, else ../shared/reference/schemas beside the project.
let officialFolder =
    ProcessInfo.processInfo.environment["TIMEBOK_SCHEMAS"]
    ?? URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/reference/schemas").path
guard FileManager.default.fileExists(atPath: officialFolder + "/driver-all.xsd") else {
    FileHandle.standardError.write(
        Data(
            "The official schema bundle was not found at \(officialFolder) (set TIMEBOK_SCHEMAS to its folder).\n".utf8)
    )
    exit(2)
}
let ownFiles = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/schemas")) ?? []).filter {
    $0.hasSuffix(".xsd")
}.sorted().map { root + "/schemas/" + $0 }
let sampleDir = root + "/samples"
let names = ((try? FileManager.default.contentsOfDirectory(atPath: sampleDir)) ?? []).filter { $0.hasSuffix(".xml") }
    .sorted()
let files = names.map { sampleDir + "/" + $0 }
let inputs = files.map { Array(FileManager.default.contents(atPath: $0)!) }
guard !inputs.isEmpty else {
    print("no samples in \(sampleDir)")
    exit(2)
}

let compileStart = ContinuousClock.now
let schemas = try SchemaSet(
    combining: [officialFolder + "/driver-all.xsd"] + ownFiles, catalogs: [officialFolder + "/catalog.xml"])
let compileTime = ContinuousClock.now - compileStart
let codec = MessageCodec(schemas: schemas)

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

/// Runs `body` over every input `rounds` times; returns µs per message (best of 3 runs).
func measure(_ rounds: Int, _ body: ([UInt8]) throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<3 {
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            for input in inputs { try body(input) }
        }
        best = min(best, microseconds(ContinuousClock.now - start) / Double(rounds * inputs.count))
    }
    return best
}

func residentKiB() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
    let pages = Int(statm.split(separator: " ")[1]) ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

func decodeAndReencode(_ input: [UInt8]) throws {
    switch try codec.decode(input) {
    case .dialog(let message, _): _ = MessageCodec.encode(message)
    case .appRec(let appRec): _ = MessageCodec.encode(appRec)
    }
}

switch mode {
case "rss", "leak":
    // Every path: decode + encode, and the hostile and broken inputs that take the error paths.
    let hostile: [[UInt8]] = [
        Array(#"<!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>"#.utf8),
        Array("<r><a></b></r>".utf8),
        [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#.utf8),
        Array(#"<MsgHead xmlns="urn:wrong"/>"#.utf8),
        Array(
            String(decoding: inputs[0], as: UTF8.self).replacingOccurrences(of: "<MsgId>", with: "<Bogus/><MsgId>").utf8
        ),
    ]
    var marks: [(Int, Int)] = []
    for round in 1...rounds {
        for input in inputs { try decodeAndReencode(input) }
        for input in hostile { _ = try? codec.decode(input) }
        if let document = try? HardenedXMLParser.parse(inputs[0]) { _ = try document.exclusiveCanonicalForm() }
        if round == 1 || round == rounds / 10 || round % max(1, rounds / 5) == 0 {
            marks.append((round, residentKiB()))
        }
    }
    print("messages per round: \(inputs.count + hostile.count + 1), rounds: \(rounds)")
    for (round, kib) in marks { print("after round \(round): RSS \(kib) KiB") }
    if let first = marks.first(where: { $0.0 >= rounds / 10 }), let last = marks.last {
        print("growth from round \(first.0) to \(last.0): \(last.1 - first.1) KiB")
    }

default:
    _ = try measure(5) { try decodeAndReencode($0) }  // warm-up
    let parse = try measure(rounds) { _ = try HardenedXMLParser.parse($0) }
    let parseValidate = try measure(rounds) { input in
        let document = try HardenedXMLParser.parse(input)
        precondition(schemas.validate(document).isEmpty)
    }
    let decode = try measure(rounds) { _ = try codec.decode($0) }
    var decodedMessages: [DecodedMessage] = []
    for input in inputs { decodedMessages.append(try codec.decode(input)) }
    var best = Double.infinity
    for _ in 0..<3 {
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            for decoded in decodedMessages {
                switch decoded {
                case .dialog(let message, _): _ = MessageCodec.encode(message)
                case .appRec(let appRec): _ = MessageCodec.encode(appRec)
                }
            }
        }
        best = min(best, microseconds(ContinuousClock.now - start) / Double(rounds * inputs.count))
    }
    let encode = best
    let full = try measure(rounds) { try decodeAndReencode($0) }

    // xmllint over the same files against the same combined schema set, in this run. Its schema
    // compilation is measured with one file and subtracted.
    let driver = NSTemporaryDirectory() + "timebok-bench-driver-\(getpid()).xsd"
    var source = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">"#
    source += #"<xs:include schemaLocation="\#(officialFolder)/driver-all.xsd"/>"#
    for file in ownFiles {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let namespace = text.firstMatch(of: /targetNamespace="([^"]+)"/).map { String($0.output.1) } ?? ""
        source += #"<xs:import namespace="\#(namespace)" schemaLocation="\#(file)"/>"#
    }
    source += "</xs:schema>"
    try source.write(toFile: driver, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: driver) }
    func xmllint(_ paths: [String]) -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["xmllint", "--nonet", "--noout", "--schema", driver] + paths
        process.environment = ["XML_CATALOG_FILES": officialFolder + "/catalog.xml", "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try? process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { print("warning: xmllint exited \(process.terminationStatus)") }
        return microseconds(ContinuousClock.now - start)
    }
    let xmllintRounds = max(1, rounds / 4)
    let batch = Array(repeating: files, count: xmllintRounds).flatMap { $0 }
    let single = (0..<3).map { _ in xmllint([files[0]]) }.min()!
    let many = (0..<3).map { _ in xmllint(batch) }.min()!
    let xmllintPerMessage = (many - single) / Double(batch.count - 1)

    func row(_ name: String, _ value: Double) -> String {
        name.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.1f µs/message", value)
    }
    print(
        "timebok-bench: \(inputs.count) samples (\(inputs.map(\.count).reduce(0, +) / inputs.count) bytes on average), \(rounds) rounds, best of 3"
    )
    print(
        row("schema set compile (once at start)", microseconds(compileTime)).replacingOccurrences(
            of: "µs/message", with: "µs"))
    print(row("parse (hardened)", parse))
    print(row("parse + validate", parseValidate))
    print(row("decode = parse + validate + typed decode + rules", decode))
    print(row("encode (typed value → bytes)", encode))
    print(row("decode + re-encode", full))
    print(row("xmllint --schema (parse + validate), same files", xmllintPerMessage))
    print(String(format: "ratio decode / xmllint parse+validate: %.2f   (target ≤ 1.5)", decode / xmllintPerMessage))
    print(String(format: "ratio decode + re-encode / xmllint:     %.2f", full / xmllintPerMessage))
}

/// The model's figures: a free-slot query over a 4-week window must not grow with the book's total
/// size (index range scan), and opening 100,000 slots from opening hours must be quick.
func modelBenchmark() throws {
    let directory = NSTemporaryDirectory() + "timebok-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try BookingStore(path: directory + "/timebok.sqlite")  // WAL, synchronous=FULL, as in production
    var counter = 0
    let handler = CommandHandler(
        settings: ModelSettings(maxSlotsPerCommand: 1_000_000),
        newId: {
            counter += 1
            return "s\(counter)"
        })
    let start = LocalDate(year: 2027, month: 1, day: 4)
    func book(_ id: String, _ her: String) -> Book {
        Book(
            id: id, kind: .resource, name: id, category: .lab, herId: her, published: true, slotMinutes: 10, capacity: 2
        )
    }
    // Same density in both books: 36 ten-minute slots a day (08:00–14:00), every day.
    func fill(_ bookId: String, total: Int) throws -> Duration {
        let perDay = 36
        let days = (total + perDay - 1) / perDay
        let began = ContinuousClock.now
        var day = 0
        while day < days {
            let chunk = min(700, days - day)
            try store.write { writer in
                let decision = try handler.decide(
                    CommandEnvelope(
                        id: "fill",
                        command: .openSlotsFromHours(
                            bookId: bookId, from: start.adding(days: day), to: start.adding(days: day + chunk - 1),
                            hours: (1...7).map { WeeklyHours(weekday: $0, startMinute: 480, endMinute: 840) },
                            slotMinutes: nil, closedDays: [])),
                    model: writer.reader, now: 0)
                try writer.apply(decision)
            }
            day += chunk
        }
        return ContinuousClock.now - began
    }
    try store.write { writer in
        try writer.apply(
            Decision(
                changes: [
                    .insertBook(book("small", "1")), .insertBook(book("large", "2")), .insertBook(book("open", "3")),
                ], summary: ""))
    }
    let smallFill = try fill("small", total: 1_000)
    let largeFill = try fill("large", total: 1_000_000)
    let (smallCount, largeCount) = try store.read {
        (try $0.slotCount(bookId: "small"), try $0.slotCount(bookId: "large"))
    }

    // The 4-week window: the small book's whole span; for the large book a window in the middle of its decades.
    func window(_ first: LocalDate) -> (Int, Int) {
        (
            Oslo.secondsSinceEpoch(for: LocalDateTime(date: first, hour: 0, minute: 0)),
            Oslo.secondsSinceEpoch(for: LocalDateTime(date: first.adding(days: 28), hour: 0, minute: 0))
        )
    }
    let smallWindow = window(start)
    let largeWindow = window(start.adding(days: 14_000))
    func query(_ bookId: String, _ window: (Int, Int), rounds: Int) throws -> (Double, Int) {
        var best = Double.infinity
        var rows = 0
        for _ in 0..<5 {
            let began = ContinuousClock.now
            for _ in 0..<rounds {
                rows = try store.read {
                    try $0.freeSlots(bookId: bookId, fromSeconds: window.0, toSeconds: window.1).count
                }
            }
            best = min(best, microseconds(ContinuousClock.now - began) / Double(rounds))
        }
        return (best, rows)
    }
    _ = try query("small", smallWindow, rounds: 20)  // warm the cache
    _ = try query("large", largeWindow, rounds: 20)
    let (smallQuery, smallRows) = try query("small", smallWindow, rounds: 200)
    let (largeQuery, largeRows) = try query("large", largeWindow, rounds: 200)

    // Opening 100,000 slots from opening hours in one command (decide, overlap check, one transaction).
    let began = ContinuousClock.now
    try store.write { writer in
        let decision = try handler.decide(
            CommandEnvelope(
                id: "open",
                command: .openSlotsFromHours(
                    bookId: "open", from: start, to: start.adding(days: 694),
                    hours: (1...7).map { WeeklyHours(weekday: $0, startMinute: 0, endMinute: 1_440) }, slotMinutes: 10,
                    closedDays: [])),
            model: writer.reader, now: 0)
        try writer.apply(decision)
    }
    let openTime = ContinuousClock.now - began
    let opened = try store.read { try $0.slotCount(bookId: "open") }

    print("timebok-bench model: SQLite on disk (WAL, synchronous=FULL), 36 slots a day in both books")
    print(
        "book with \(smallCount) slots: 4-week free-slot query \(String(format: "%.1f", smallQuery)) µs (\(smallRows) rows); filled in \(smallFill)"
    )
    print(
        "book with \(largeCount) slots: 4-week free-slot query \(String(format: "%.1f", largeQuery)) µs (\(largeRows) rows); filled in \(largeFill)"
    )
    print(String(format: "ratio large / small: %.2f   (target < 3)", largeQuery / smallQuery))
    print("opened \(opened) slots from opening hours in one command: \(openTime)")
}
