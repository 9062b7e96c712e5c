/// Namespace URIs timebok reads and writes. Elements are always selected by these, never by prefix.
public enum Namespace {
    public static let msgHead = "http://www.kith.no/xmlstds/msghead/2006-05-24"
    public static let dialogmelding = "http://www.kith.no/xmlstds/dialog/2013-01-23"
    public static let felleskomponent1 = "http://www.kith.no/xmlstds/felleskomponent1"
    public static let xCal = "urn:ietf:params:xml:ns:icalendar-2.0"
    public static let appRec11 = "http://www.kith.no/xmlstds/apprec/2012-02-15"
    public static let appRec10 = "http://www.kith.no/xmlstds/apprec/2004-11-21"
    public static let helsepersonell = "http://www.kith.no/xmlstds/helsepersonell/2015-05-04"
    public static let xmlDSig = "http://www.w3.org/2000/09/xmldsig#"
    public static let xhtml = "http://www.w3.org/1999/xhtml"
    /// timebok's own payload for the Ressursoversikt answer (profile decision, PROTOCOL.md §9.2).
    public static let resourceBooks = "http://timebok.no/xmlstds/resourcebooks/v1"
}
