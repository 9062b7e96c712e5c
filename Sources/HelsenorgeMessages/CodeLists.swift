// The official code lists timebok uses (values and display names as in ../shared/PROTOCOL.md and
// the official examples). OIDs: 2.16.578.1.12.4.1.1.<list number>.

/// 7601 Type forespørsel: what a request asks for (`Foresporsel/TypeForesp`).
public enum RequestType: String, CodeList {
    case hentLedigeTimer = "HLT"
    case reserverTime = "RT"
    case avbestillTime = "ART"
    case hentBestilteTimer = "HBT"
    case hentBehandlere = "HB"
    case meldingOmAvtale = "MOA"

    public static let system = "2.16.578.1.12.4.1.1.7601"
    public var displayName: String {
        switch self {
        case .hentLedigeTimer: return "Hent ledige timer"
        case .reserverTime: return "Reserver time"
        case .avbestillTime: return "Avbestill reservert time"
        case .hentBestilteTimer: return "Hent bestilte timer"
        case .hentBehandlere: return "Hent behandlere"
        case .meldingOmAvtale: return "Melding om avtale"
        }
    }
}

/// 7602 Svar på forespørsel: the business answer (`Notat/TemaKodet`, and the Avtale push's TypeForesp).
public enum AnswerCode: String, CodeList {
    case bestilteTimer = "01"
    case ingenBestilteTimer = "02"
    case ledigeTimer = "03"
    case ingenLedigeTimer = "04"
    case timereservasjonBekreftet = "05"
    case timeIkkeTilgjengelig = "06"
    case endringAvTimeBekreftet = "07"
    case avbestillingBekreftet = "08"
    case timeKunneIkkeAvbestilles = "09"
    case pasientIkkeMott = "11"
    case behandlere = "20"
    case behandlereIkkeFunnet = "21"
    case foresporselAvvist = "26"
    case ikkeTilgang = "30"
    case generellFeil = "31"

    public static let system = "2.16.578.1.12.4.1.1.7602"
    public var displayName: String {
        switch self {
        case .bestilteTimer: return "Bestilte timer"
        case .ingenBestilteTimer: return "Ingen bestilte timer"
        case .ledigeTimer: return "Ledige timer"
        case .ingenLedigeTimer: return "Ingen ledige timer"
        case .timereservasjonBekreftet: return "Timereservasjon bekreftet"
        case .timeIkkeTilgjengelig: return "Time ikke tilgjengelig"
        case .endringAvTimeBekreftet: return "Endring av time bekreftet"
        case .avbestillingBekreftet: return "Avbestilling av time bekreftet"
        case .timeKunneIkkeAvbestilles: return "Time kunne ikke avbestilles"
        case .pasientIkkeMott: return "Pasient ikke møtt"
        case .behandlere: return "Behandlere"
        case .behandlereIkkeFunnet: return "Behandlere ikke funnet"
        case .foresporselAvvist: return "Forespørsel avvist"
        case .ikkeTilgang: return "Ikke tilgang"
        case .generellFeil: return "Generell feil"
        }
    }
}

/// 7603 Kommunikasjonstest.
public enum CommunicationTestCode: String, CodeList {
    case kommunikasjonstest = "KT"
    case svarKommunikasjonstest = "RKT"

    public static let system = "2.16.578.1.12.4.1.1.7603"
    public var displayName: String {
        switch self {
        case .kommunikasjonstest: return "Kommunikasjonstest"
        case .svarKommunikasjonstest: return "Respons kommunikasjonstest"
        }
    }
}

/// 1101 Ja/Nei (`KodetOpplysning`; in ReserverAvtale "Ja" means the prerequisites were accepted).
public enum YesNo: String, CodeList {
    case ja = "1"
    case nei = "2"

    public static let system = "2.16.578.1.12.4.1.1.1101"
    public var displayName: String { self == .ja ? "Ja" : "Nei" }
}

/// 9034 Rolle i forhold til pasient.
public enum RoleToPatient: String, CodeList {
    case fastlege = "6"
    case vikarForFastlege = "15"
    case turnuslege = "16"
    case kontaktIPrimaerhelseteam = "22"
    case onsketBehandler = "23"

    public static let system = "2.16.578.1.12.4.1.1.9034"
    public var displayName: String {
        switch self {
        case .fastlege: return "Fastlege"
        case .vikarForFastlege: return "Vikar for fastlege"
        case .turnuslege: return "Turnuslege"
        case .kontaktIPrimaerhelseteam: return "Kontakt i primærhelseteam"
        case .onsketBehandler: return "Ønsket behandler"
        }
    }
}

/// 8116 Id-type for personer.
public enum PersonIdentifierType: String, CodeList {
    case fodselsnummer = "FNR"
    case dNummer = "DNR"
    case hprNummer = "HPR"
    case herId = "HER"

    public static let system = "2.16.578.1.12.4.1.1.8116"
    public var displayName: String {
        switch self {
        case .fodselsnummer: return "Fødselsnummer"
        case .dNummer: return "D-nummer"
        case .hprNummer: return "HPR-nummer"
        case .herId: return "HER-id"
        }
    }
}

/// 9051 Id-type for organisasjoner.
public enum OrganisationIdentifierType: String, CodeList {
    case herId = "HER"
    case organisationNumber = "ENH"

    public static let system = "2.16.578.1.12.4.1.1.9051"
    public var displayName: String {
        switch self {
        case .herId: return "HER-id"
        case .organisationNumber: return "Organisasjonsnummeret i Enhetsregister"
        }
    }
}

/// 8258 Status for applikasjonskvittering.
public enum AppRecStatus: String, CodeList {
    case ok = "1"
    case rejected = "2"
    case okWithErrors = "3"

    public static let system = "2.16.578.1.12.4.1.1.8258"
    public var displayName: String {
        switch self {
        case .ok: return "OK"
        case .rejected: return "Avvist"
        case .okWithErrors: return "OK, feil i delmelding"
        }
    }
}

/// 8221 Feil i applikasjonskvittering: the errors timebok sends and understands.
public enum AppRecErrorCode: String, CodeList {
    case notXML = "T01"
    case schemaInvalid = "T02"
    case unsupportedFormat = "T10"
    case otherFormatError = "T99"
    case invalidMessageId = "E10"
    case doctorUnknown = "E20"
    case receiverUnknown = "E21"
    case patientIdMissing = "E30"
    case patientIdInvalid = "E31"
    case patientNameMissing = "E32"
    case patientFamilyNameMissing = "E33"
    case patientGivenNameMissing = "E34"
    case patientNotFound = "E35"
    case patientInformationInsufficient = "E36"
    case notInPopulationRegister = "E53"
    case patientNotRegisteredInReceiver = "E54"
    case signatureError = "S01"
    case invalidCertificate = "S02"
    case revokedCertificate = "S03"
    case otherSignatureError = "S99"
    case otherError = "X99"

    public static let system = "2.16.578.1.12.4.1.1.8221"
    public var displayName: String {
        switch self {
        case .notXML: return "Ikke XML / ikke 'well formed' / uleselig"
        case .schemaInvalid: return "XML validerer ikke"
        case .unsupportedFormat: return "Støtter ikke meldingsformatet"
        case .otherFormatError: return "Annen feil på format"
        case .invalidMessageId: return "Ugyldig meldingsidentifikator"
        case .doctorUnknown: return "Lege finnes ikke"
        case .receiverUnknown: return "Mottaker finnes ikke"
        case .patientIdMissing: return "Pasientens fødselsnummer mangler"
        case .patientIdInvalid: return "Pasientens fødselsnummer er feil"
        case .patientNameMissing: return "Pasientens navn mangler"
        case .patientFamilyNameMissing: return "Pasientens etternavn mangler"
        case .patientGivenNameMissing: return "Pasientens fornavn mangler"
        case .patientNotFound: return "Pasienten finnes ikke i mottakersystemet"
        case .patientInformationInsufficient: return "Pasientopplysninger er utilstrekkelige"
        case .notInPopulationRegister:
            return "Pasientens fødselsnummer eller D-nummer finnes ikke registrert i Folkeregisteret."
        case .patientNotRegisteredInReceiver: return "Pasientens fødselsnummer er ikke registrert i mottagersystemet"
        case .signatureError: return "Feil på signatur"
        case .invalidCertificate: return "Ugyldig sertifikat"
        case .revokedCertificate: return "Tilbaketrukket sertifikat"
        case .otherSignatureError: return "Annen feil på signatur eller sertifikat"
        case .otherError: return "Annen feil"
        }
    }
}

/// 7617 Type time (appointment type), carried as text in xCal `categories`.
public enum AppointmentCategory: String, CodeList {
    case ordinaer = "Ordinær"
    case hastetime = "Hastetime"
    case video = "Video"
    case tidsvindu = "Tidsvindu"
    case koronatest = "Koronatest"
    case koronavaksine = "Koronavaksine"
    case lab = "Lab"
    case vaksine = "Vaksine"

    public static let system = "2.16.578.1.12.4.1.1.7617"
    public var displayName: String { rawValue }
    /// The categories a resource book may have (PROTOCOL.md §9).
    public static let resourceBookCategories: [AppointmentCategory] = [.koronatest, .koronavaksine, .lab, .vaksine]
}

/// The processes of digital dialog timebok takes part in (`MsgInfo/Type`).
public enum DialogProcess: String, Sendable, Hashable, CaseIterable {
    case timereservasjon = "DIALOG_INNBYGGER_TIMERESERVASJON"
    case avtaleutsending = "DIALOG_INNBYGGER_AVTALEUTSENDING"
    case avtaleavbestilling = "DIALOG_INNBYGGER_AVTALEAVBESTILLING"
    case behandleroversikt = "DIALOG_INNBYGGER_BEHANDLEROVERSIKT"
    case test = "DIALOG_INNBYGGER_TEST"
    case ressursoversikt = "DIALOG_INNBYGGER_RESSURSOVERSIKT"

    public var displayName: String {
        switch self {
        case .timereservasjon: return "Dialog med innbygger - timereservasjon"
        case .avtaleutsending: return "Dialog med innbygger - avtaleutsending"
        case .avtaleavbestilling: return "Dialog med innbygger - avtaleavbestilling"
        case .behandleroversikt: return "Dialog med innbygger – behandleroversikt"  // en dash, as the official example
        case .test: return "Dialog med innbygger - test"
        case .ressursoversikt: return "Dialog med innbygger - ressursoversikt"
        }
    }

    /// `MsgInfo/Type` as a `CS` code.
    public var code: Code { Code(value: rawValue, displayName: displayName) }

    /// helsenorge's own example messages of the cancellation process spell it without "AV", in the
    /// citizen's request and in the office's answers alike (PROTOCOL.md §2).
    public static let avtalebestillingSpelling = "DIALOG_INNBYGGER_AVTALEBESTILLING"

    /// The process a `MsgInfo/Type` value names, accepting every spelling seen in the wild.
    public init?(wireName: String) {
        if wireName == Self.avtalebestillingSpelling {
            self = .avtaleavbestilling
        } else {
            self.init(rawValue: wireName)
        }
    }
}

/// The four reasons a cancelled appointment may carry (`x-cancellation-reason`).
public enum CancellationReason: String, Sendable, Hashable, CaseIterable {
    case byService = "Avlyst av tjeneste"
    case notAtHome = "Avlyst - ikke hjemme"
    case byRecipient = "Avlyst av tjenestemottaker selv"
    case onBehalfOfRecipient = "Avlyst på vegne av tjenestemottaker"
}
