import ArgumentParser
import TimebokCore
import TimebokEngine

@main
struct Timebok: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timebok",
        abstract: "The GP office's side of appointment booking on helsenorge.no, by files.",
        discussion: """
            timebok reads helsenorge.no's digital-dialog messages (Hodemelding + Dialogmelding + xCal), \
            applies them to the office's appointment books and answers with XML replies and receipts.
            """,
        version: timebokVersion,
        subcommands: [
            Demo.self, Init.self, Run.self, ProcessCommand.self, Books.self, Slots.self, Patients.self, Requests.self,
            Appointments.self, GPs.self, BookingSwitch.self, TestConnection.self, Purge.self, Check.self, Backup.self,
            Keygen.self, Verify.self, Validate.self,
        ]
    )

    static func main() async {
        // A bad TIMEBOK_NOW stops every command before it does anything.
        _ = BusinessClock.fixed
        _ = BusinessClock.started
        do {
            var command = try parseAsRoot()
            if var daemon = command as? AsyncParsableCommand {
                try await daemon.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            exit(withError: ValidationError(IdentityMasking.mask(error.message)))
        } catch {
            exit(withError: error)
        }
    }
}
