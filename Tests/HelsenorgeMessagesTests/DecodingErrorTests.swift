import Foundation
import Testing
import TimebokTestKit
import TimebokXML

@testable import HelsenorgeMessages

/// Every way a message can be wrong gets a specific error with the protocol's AppRec code.
@Suite(.needsReferenceMaterial) struct DecodingErrors {
    let codec = MessageCodec(schemas: Schemas.official.value)
    static let reserver = Paths.examples.appendingPathComponent("ReserverAvtale__RT_Reserver_time.xml")

    func exampleText() throws -> String {
        String(decoding: try Paths.bytes(Self.reserver), as: UTF8.self)
    }

    func expectFailure(
        _ text: String, _ appRec: AppRecErrorCode, code: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> MessageError? {
        expectFailure(Array(text.utf8), appRec, code: code, sourceLocation: sourceLocation)
    }

    func expectFailure(
        _ bytes: [UInt8], _ appRec: AppRecErrorCode, code: String? = nil, options: DecodingOptions = DecodingOptions(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> MessageError? {
        var codec = self.codec
        codec.options = options
        do {
            _ = try codec.decode(bytes)
            Issue.record(
                "expected AppRec \(appRec.rawValue) but the message was accepted", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.appRecError == appRec, "\(error)", sourceLocation: sourceLocation)
            if let code { #expect(error.code == code, "\(error)", sourceLocation: sourceLocation) }
            return error
        }
    }

    @Test func notWellFormedIsT01WithLine() throws {
        let text = try exampleText().replacingOccurrences(of: "</MsgId>", with: "</MsgID>")
        let error = expectFailure(text, .notXML, code: "TB-0105")
        #expect(error?.line == 8)
    }

    @Test func schemaInvalidIsT02WithLineAndEnvelope() throws {
        let text = try exampleText().replacingOccurrences(
            of: "<MIGversion>v1.2 2006-05-24</MIGversion>", with: "<MIGversion>v1.2 2006-05-24</MIGversion><Bogus/>")
        let error = expectFailure(text, .schemaInvalid, code: "TB-0202")
        #expect(error?.line == 6)
        #expect(error?.summary.contains("Bogus") == true)
        #expect(error?.envelope?.msgId == "8325fcb5-89a9-11e3-baa8-0800200c9a66", "an AppRec can still be addressed")
    }

    @Test func rightNamesInAWrongNamespaceAreT10() throws {
        let text = try exampleText().replacingOccurrences(
            of: "xmlns=\"http://www.kith.no/xmlstds/msghead/2006-05-24\"",
            with: "xmlns=\"http://www.kith.no/xmlstds/msghead/2006-05-25\"")
        let error = expectFailure(text, .unsupportedFormat, code: "TB-0201")
        #expect(error?.summary.contains("wrong namespace") == true)
        // The payload in a wrong namespace: MsgHead's strict wildcard rejects it (T02), never accepted.
        let payload = try exampleText().replacingOccurrences(
            of: "xmlns=\"http://www.kith.no/xmlstds/dialog/2013-01-23\"",
            with: "xmlns=\"http://www.kith.no/xmlstds/dialog/2099-01-01\"")
        _ = expectFailure(payload, .schemaInvalid)
        // Without a schema set the decoder still refuses it: the first Document is not a Dialogmelding.
        let unvalidated = MessageCodec(schemas: nil)
        #expect(throws: MessageError.self) { _ = try unvalidated.decode(Array(payload.utf8)) }
    }

    @Test func unknownProcessIsT10() throws {
        let text = try exampleText().replacingOccurrences(
            of: "V=\"DIALOG_INNBYGGER_TIMERESERVASJON\"", with: "V=\"DIALOG_INNBYGGER_EKONTAKT\"")
        let error = expectFailure(text, .unsupportedFormat, code: "TB-0203")
        #expect(error?.envelope?.type.value == "DIALOG_INNBYGGER_EKONTAKT")
    }

    @Test func unknownRequestCodeIsT10() throws {
        let text = try exampleText().replacingOccurrences(of: "V=\"RT\"", with: "V=\"XYZ\"")
        _ = expectFailure(text, .unsupportedFormat, code: "TB-0204")
    }

    @Test func patientProblemsAreE30ToE34() throws {
        let text = try exampleText()
        _ = expectFailure(
            text.replacingOccurrences(of: "<Id>13116900216</Id>", with: "<Id>13116900217</Id>"), .patientIdInvalid,
            code: "TB-0207")
        _ = expectFailure(
            text.replacingOccurrences(of: "V=\"FNR\"", with: "V=\"XXX\""), .patientIdMissing, code: "TB-0206")
        _ = expectFailure(
            text.replacingOccurrences(of: "<FamilyName>Danser</FamilyName>", with: ""), .patientFamilyNameMissing)
        _ = expectFailure(
            text.replacingOccurrences(of: "<GivenName>Folke</GivenName>", with: ""), .patientGivenNameMissing)
        _ = expectFailure(
            text.replacingOccurrences(of: "<FamilyName>Danser</FamilyName>", with: "").replacingOccurrences(
                of: "<GivenName>Folke</GivenName>", with: ""), .patientNameMissing)
        let error = expectFailure(
            text.replacingOccurrences(of: "<Id>13116900216</Id>", with: "<Id>13116900217</Id>"), .patientIdInvalid)
        #expect(error?.summary.contains("13116900217") == false, "identity numbers are masked in messages")
    }

    @Test func testNumbersOnlyWhenConfigured() throws {
        // 13 (11+40) 69 002 + check digits: a test fødselsnummer.
        let testNumber = "13516900299"
        let fixed = fixCheckDigits(testNumber)
        let text = try exampleText().replacingOccurrences(of: "<Id>13116900216</Id>", with: "<Id>\(fixed)</Id>")
        _ = expectFailure(text, .patientIdInvalid)
        var allowing = codec
        allowing.options.allowTestIdentityNumbers = true
        #expect(throws: Never.self) { _ = try allowing.decode(Array(text.utf8)) }
    }

    @Test func dtendBeforeDtstartInAReservationIsT99() throws {
        let text = try exampleText().replacingOccurrences(of: "2019-07-05T12:00:00", with: "2019-07-05T11:00:00")
        _ = expectFailure(text, .otherFormatError, code: "TB-0210")
    }

    @Test func badDateTimeIsT02OrT99() throws {
        // xs:dateTime in the schema catches a malformed date-time first.
        let text = try exampleText().replacingOccurrences(of: "2019-07-05T12:00:00", with: "2019-07-05 12:00")
        _ = expectFailure(text, .schemaInvalid)
    }

    @Test func doctypeIsRefusedAndNothingIsRead() throws {
        let text = try exampleText().replacingOccurrences(
            of: "<MsgHead ", with: "<!DOCTYPE MsgHead [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><MsgHead ")
        let error = expectFailure(text, .otherFormatError, code: "TB-0103")
        #expect(error?.description.contains("root:") == false)
    }

    @Test func iso88591MessageDecodes() throws {
        // The same message, transcoded to ISO-8859-1 with a matching declaration.
        let text = try exampleText().replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"ISO-8859-1\"")
        let latin1 = try #require(text.data(using: .isoLatin1))
        guard case .dialog(let message, _) = try codec.decode(Array(latin1)) else {
            Issue.record("not decoded")
            return
        }
        #expect(message.foresporsel?.sporsmal == "Ønsker time fordi jeg har slitt med langvarig migrene.")
        #expect(message.info.patient?.identityNumber == "13116900216")
        // Read as UTF-8 by mistake, the same bytes are refused as not UTF-8 (T01), never garbled.
        let mislabelled = try exampleText()
        _ = expectFailure(Array(mislabelled.data(using: .isoLatin1)!), .notXML)
    }

    @Test func relatedToIsReadFromItsValueNotItsParameters() throws {
        let text = String(
            decoding: try Paths.bytes(
                Paths.examples.appendingPathComponent("AvbestillAvtale__ART_Avbestill_reservert_time.xml")),
            as: UTF8.self
        )
        .replacingOccurrences(
            of: "<related-to>", with: "<related-to><parameters><reltype><text>PARENT</text></reltype></parameters>")
        guard case .dialog(let message, _) = try codec.decode(Array(text.utf8)) else {
            Issue.record("not decoded")
            return
        }
        #expect(message.calendar?.events.first?.relatedTo == "651b1341-26ca-11e4-8c21-0800200c9a66")
    }

    @Test func aPushMayOnlyCarryPushCodes() throws {
        let text = String(
            decoding: try Paths.bytes(
                Paths.examples.appendingPathComponent("Avtale__05_Timereservasjon_bekreftet.xml")), as: UTF8.self
        )
        .replacingOccurrences(
            of: #"V="05" S="2.16.578.1.12.4.1.1.7602""#, with: #"V="03" S="2.16.578.1.12.4.1.1.7602""#)
        _ = expectFailure(text, .unsupportedFormat, code: "TB-0204")
    }

    @Test func identityTypeMustMatchTheNumber() throws {
        let text = try exampleText().replacingOccurrences(
            of: #"V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer""#,
            with: #"V="DNR" S="2.16.578.1.12.4.1.1.8116" DN="D-nummer""#)
        let error = expectFailure(text, .patientIdInvalid)
        #expect(error?.summary.contains("sent as DNR") == true)
    }

    @Test func emptyUidInAReservationIsT99() throws {
        let text = try exampleText().replacingOccurrences(of: "<text>4088E990AD89CB3DBB484909</text>", with: "<text/>")
        let error = expectFailure(text, .otherFormatError)
        #expect(error?.summary.contains("uid") == true)
    }

    @Test func requestAndNoteTogetherAreRefused() throws {
        let text = try exampleText().replacingOccurrences(
            of: "</Foresporsel>",
            with: #"</Foresporsel><Notat><TemaKodet V="05" S="2.16.578.1.12.4.1.1.7602"/></Notat>"#)
        _ = expectFailure(text, .schemaInvalid)
        #expect(throws: MessageError.self) { _ = try MessageCodec(schemas: nil).decode(Array(text.utf8)) }
    }

    @Test func aTimebokCommandIsNotAMessage() {
        _ = expectFailure(
            #"<Command xmlns="http://timebok.no/xmlstds/command/v1" id="x"/>"#, .unsupportedFormat, code: "TB-0201")
    }

    func fixCheckDigits(_ number: String) -> String {
        var digits = number.prefix(9).map { Int(String($0))! }
        while true {
            let k1 = (11 - zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
            let k2 = (11 - zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits + [k1]).reduce(0) { $0 + $1.0 * $1.1 } % 11) % 11
            if k1 < 10 && k2 < 10 { return (digits + [k1, k2]).map(String.init).joined() }
            digits[8] += 1
        }
    }
}
