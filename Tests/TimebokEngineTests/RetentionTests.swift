import Foundation
import Testing
import TimebokCore
import TimebokTestKit

@testable import Booking
@testable import HelsenorgeMessages
@testable import TimebokEngine

/// Retention with the business clock set forward (issue 13): old day folders go, recent ones and
/// uncollected journal entries stay, and a resent old MsgId inside the ledger window is still a duplicate.
@Suite struct Retention {
    @Test func oldDayFoldersGoRecentOnesAndTheJournalStayDuplicatesAreStillKnown() throws {
        let office = try Office { config in
            config.archiveKeepDays = 90
            config.errorKeepDays = 180
            config.ledgerKeepDays = 120
        }
        let hn = office.helsenorge
        // Day one (2026-12-01): a command file, an answered request, a booking (journal), a broken message (error/).
        let openSlot = command(
            "epj-old",
            "<OpenSlot><BookId>lab</BookId><Start>2026-12-07T07:00:00</Start><End>2026-12-07T07:15:00</End></OpenSlot>")
        try office.spool.drop(openSlot, as: "old-command.xml")
        #expect(try office.spool.engine().process().outcomes.first?.ok == true)
        let first = hn.freeSlots(.lab, .ragnhild, from: office.today, to: office.today.adding(days: 3))
        #expect(answerCode(try office.send(first).first) == "03")
        let slot = try office.freeSlot("influensavaksine")
        _ = try office.send(
            hn.reserve(.book(herId: "1234502", name: "Influensavaksine"), .ragnhild, slot: slot, contact: "1234502"))
        _ = try office.sendRaw(Array("<MsgHead".utf8), name: "broken.xml")
        // A booking from the command line: its push has no input to be archived with, so the ledger
        // keeps its bytes until retention (outputs of inputs are forgotten once the archive links them).
        let labSlot = try office.freeSlot("lab")
        #expect(
            try office.engine().execute(
                CommandEnvelope(
                    id: "cli-book", command: .bookAppointment(slotId: labSlot.id, fnr: Citizen.ragnhild.fnr, text: nil))
            ).ok)
        let kept = try office.engine().store.read {
            try String.fetchAll(
                $0.db,
                sql:
                    "SELECT o.folder FROM ledger_output o JOIN ledger_output_bytes USING (ledger_id, seq) ORDER BY o.folder"
            )
        }
        #expect(
            kept == ["journal", "outbox", "outbox"],
            "the push (.meta, .xml) and its journal entry; every output archived with its input is forgotten")
        let keptBytes = kept.count
        let journal = office.spool.files("journal")
        #expect(!journal.isEmpty)
        // A hundred days later, another request.
        office.spool.clock = office.spool.clock.addingTimeInterval(100 * 86_400)
        let later = office.today
        _ = try office.send(hn.freeSlots(.lab, .ragnhild, from: later, to: later.adding(days: 3)))
        #expect(Set(office.spool.files("archive").map { String($0.prefix(10)) }) == ["2026-12-01", later.description])

        let dry = try office.engine().purge(dryRun: true)
        #expect(
            dry.archiveFolders == ["2026-12-01"] && dry.errorFolders.isEmpty && dry.outputsCleared == keptBytes
                && dry.entriesRemoved == 0)
        #expect(office.spool.files("archive").contains { $0.hasPrefix("2026-12-01/") }, "a dry run removes nothing")

        let report = try office.engine().purge()
        #expect(report.archiveFolders == ["2026-12-01"] && report.outputsCleared == dry.outputsCleared)
        #expect(
            !office.spool.files("archive").contains { $0.hasPrefix("2026-12-01/") },
            "older than archive.keep-days: gone")
        #expect(office.spool.files("archive").contains { $0.hasPrefix(later.description + "/") }, "recent: kept")
        #expect(office.spool.files("error").contains("2026-12-01/broken.xml"), "error.keep-days is 180")
        #expect(office.spool.files("journal") == journal, "uncollected journal entries are never purged")
        #expect(
            office.spool.read("state/purge.log").contains(
                "removed 1 archive day folder (2026-12-01…2026-12-01), 0 error day folders, the stored bytes of \(report.outputsCleared) outputs"
            ))

        // helsenorge delivers the first request again: inside the ledger window, still a duplicate.
        #expect(try office.send(first).isEmpty, "no second answer")
        #expect(
            office.spool.files("archive").allSatisfy { !office.spool.read("archive/" + $0).isEmpty },
            "no empty copies of forgotten outputs")

        // Two hundred days on: error/ goes too, and the ledger forgets day one.
        office.spool.clock = office.spool.clock.addingTimeInterval(100 * 86_400)
        let second = try office.engine().purge()
        #expect(second.errorFolders == ["2026-12-01"] && second.entriesRemoved > 0)
        #expect(office.spool.files("journal") == journal)
        // An EPJ that sends its old command file again: command ids are never forgotten.
        try office.spool.drop(openSlot, as: "old-command-again.xml")
        #expect(try office.spool.engine().process().outcomes.first?.duplicate == true, "never applied twice")
    }
}
