internal import CLibXML2

extension XDocument {
    /// Exclusive XML Canonicalization 1.0 without comments (`http://www.w3.org/2001/10/xml-exc-c14n#`)
    /// of the whole document, leaving out `excluded` and its subtree (the enveloped-signature
    /// transform of XMLDSig leaves out the Signature element this way).
    public func exclusiveCanonicalForm(excluding excluded: XElement? = nil) throws(XMLError) -> [UInt8] {
        try canonicalize(mode: XML_C14N_EXCLUSIVE_1_0, excluding: excluded)
    }

    /// Exclusive C14N 1.0 without comments of `element` and its subtree alone, in its place in this
    /// document (XMLDSig's canonical form of `SignedInfo`).
    public func exclusiveCanonicalForm(of element: XElement) throws(XMLError) -> [UInt8] {
        try canonicalize(
            mode: XML_C14N_EXCLUSIVE_1_0, callback: timebok_c14n_only_subtree,
            data: UnsafeMutableRawPointer(element.node))
    }

    /// Canonical XML 1.0 without comments, for callers that need inclusive C14N.
    public func inclusiveCanonicalForm(excluding excluded: XElement? = nil) throws(XMLError) -> [UInt8] {
        try canonicalize(mode: XML_C14N_1_0, excluding: excluded)
    }

    private func canonicalize(mode: xmlC14NMode, excluding excluded: XElement?) throws(XMLError) -> [UInt8] {
        try canonicalize(
            mode: mode, callback: timebok_c14n_exclude_subtree, data: excluded.map { UnsafeMutableRawPointer($0.node) })
    }

    private func canonicalize(
        mode: xmlC14NMode, callback: xmlC14NIsVisibleCallback, data: UnsafeMutableRawPointer?
    ) throws(XMLError) -> [UInt8] {
        guard let output = xmlAllocOutputBuffer(nil) else {
            throw XMLError(.canonicalizationFailed, "Could not allocate an output buffer.")
        }
        let collector = IssueCollector()
        let status = withStructuredErrors(Unmanaged.passUnretained(collector).toOpaque(), collectIssue) {
            xmlC14NExecute(pointer, callback, data, Int32(mode.rawValue), nil, 0, output)
        }
        var result: [UInt8] = []
        if status >= 0, let content = xmlOutputBufferGetContent(output) {
            let size = Int(xmlOutputBufferGetSize(output))
            result = Array(UnsafeBufferPointer(start: content, count: size))
        }
        xmlOutputBufferClose(output)
        guard status >= 0 else {
            throw XMLError(
                .canonicalizationFailed, "libxml2 could not canonicalize the document.", issues: collector.issues)
        }
        return result
    }
}
