import ArgumentParser
import Booking
import Foundation
import TimebokCore
import TimebokEngine

// `timebok gps` and `timebok booking`: the GPs' settings and the office's switch.

struct GPs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gps",
        abstract: "The office's GPs: list, and set whether Ressursoversikt and the personal book are on.",
        discussion: """
            Example:
              timebok gps set --her-id 91095 --hpr 9144897 --family-name Fjeld --given-name Hanne --ressursoversikt on --personal-book open
            """,
        subcommands: [List.self, Set.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the GPs.", discussion: "Example:\n  timebok gps list")
        @OptionGroup var spool: SpoolOption
        func run() throws {
            let engine = try spool.openEngine()
            for gp in try engine.readModel({ try $0.gps() }) {
                print(
                    "\(gp.givenName) \(gp.familyName): HER-id \(gp.herId), HPR \(gp.hpr), Ressursoversikt \(gp.ressursoversiktEnabled ? "on" : "off"), personal book \(gp.personalBookOpen ? "open" : "closed")"
                )
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a GP or change his settings.",
            discussion:
                "Example:\n  timebok gps set --her-id 91095 --hpr 9144897 --family-name Fjeld --given-name Hanne --ressursoversikt off"
        )
        @Option(name: .customLong("her-id")) var herId: String
        @Option var hpr: String
        @Option var familyName: String
        @Option var givenName: String
        @Option(help: "on or off: helsenorge may fetch the office's resource books through him.") var ressursoversikt:
            String
        @Option(help: "open or closed: his personal book on helsenorge.") var personalBook: String
        @OptionGroup var spool: SpoolOption
        @OptionGroup var submission: Submission

        func run() throws {
            try submit(
                .setGP(
                    GP(
                        herId: herId, hpr: hpr, familyName: familyName, givenName: givenName,
                        ressursoversiktEnabled: try Parse.onOff(ressursoversikt, "--ressursoversikt"),
                        personalBookOpen: try Parse.onOff(personalBook, "--personal-book"))), spool: spool,
                submission: submission)
        }
    }
}

struct BookingSwitch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking",
        abstract: "Switch online booking in resource books on or off for the whole office.",
        discussion: "Example:\n  timebok booking off")

    @Argument(help: "on or off.") var state: String
    @OptionGroup var spool: SpoolOption
    @OptionGroup var submission: Submission

    func run() throws {
        try submit(.setBookingEnabled(try Parse.onOff(state, "STATE")), spool: spool, submission: submission)
    }
}
