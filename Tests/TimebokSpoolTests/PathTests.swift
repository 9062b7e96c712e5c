import SystemPackage
import Testing

@testable import TimebokSpool

/// The spool's path helpers that work on text instead of FilePath's components must give what
/// FilePath gives.
@Suite struct SpoolPaths {
    @Test(arguments: [
        "/spool/processing/inbox~m0001.xml", "/spool/processing/x.tar.gz", "/spool/processing/.hidden",
        "/spool/processing/noext", "/spool/processing/file.", "/spool/dir.d/name.xml", "name.xml", "/name",
        "/spool/processing/",
    ])
    func aCompanionFromTextIsTheOneFilePathGives(path: String) {
        #expect(
            Spool.companion(ofPath: path, suffix: ".meta")
                == Spool.companion(of: FilePath(path), suffix: ".meta").string)
    }

    @Test func onlyTheRootAndWhatIsBelowItAreInside() {
        let spool = Spool(root: "/tmp/a-spool")
        #expect(spool.isInsideRoot(FilePath("/tmp/a-spool")))
        #expect(spool.isInsideRoot(FilePath("/tmp/a-spool/archive/2026-12-01")))
        #expect(!spool.isInsideRoot(FilePath("/tmp/a-spool-2/archive")))
        #expect(!spool.isInsideRoot(FilePath("/tmp")))
        #expect(!spool.isInsideRoot(FilePath("/")))
    }
}
