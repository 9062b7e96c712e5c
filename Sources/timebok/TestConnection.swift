import ArgumentParser
import Foundation
import TimebokEngine

struct TestConnection: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-connection",
        abstract: "Send a Kommunikasjonstest to helsenorge and report its answer.",
        discussion: """
            Writes a Kommunikasjonstest (TypeForesp KT, process DIALOG_INNBYGGER_TEST) from the office to \
            helsenorge into outbox/ (with its .meta: destination <helsenorge service>_sync). When helsenorge's \
            answer (RKT) arrives in inbox/, `timebok process` matches it to the test and reports the round \
            trip; with --wait, this command runs those passes itself until the answer comes or the time is up \
            (exit status 1 then).

            Examples:
              timebok test-connection /srv/timebok
              timebok test-connection /srv/timebok --wait 30
            """)

    @Argument(help: ArgumentHelp("The spool folder.", valueName: "dir"))
    var directory: String

    @Option(
        help: ArgumentHelp(
            "Wait up to this many seconds for the answer, processing the spool meanwhile.", valueName: "seconds"))
    var wait: Double = 0

    func run() throws {
        let engine: Engine
        engine = try openSpool(directory, warn: false)
        let sent = try engine.sendCommunicationTest()
        print("Kommunikasjonstest \(sent.msgId) sent: \(sent.file)")
        guard wait > 0 else {
            print(
                "Its answer (RKT) is matched and reported by `timebok process \(directory)` when it arrives in inbox/.")
            return
        }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .milliseconds(Int(wait * 1000)) {
            let report = try engine.process()
            if let answer = report.outcomes.first(where: { $0.error == nil && $0.summary.contains(sent.msgId) }) {
                let elapsed = ContinuousClock.now - started
                print(
                    "ok: \(answer.summary) (this command waited \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))))"
                )
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        print(
            "error: no answer to Kommunikasjonstest \(sent.msgId) within \(wait) s. Check that the transport carries outbox/ to helsenorge and its answers into inbox/."
        )
        throw ExitCode(1)
    }
}
