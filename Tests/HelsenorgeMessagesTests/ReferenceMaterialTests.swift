import Testing
import TimebokTestKit

/// The gate itself: where the reference material is required (CI sets TIMEBOK_REQUIRE_REFERENCE=1),
/// its absence fails here, naming what is missing, besides failing every gated test.
@Suite struct ReferenceMaterialGate {
    @Test func theReferenceMaterialIsThereWhereItIsRequired() throws {
        if ReferenceMaterial.isRequired {
            try ReferenceMaterial.require()
        }
        if !ReferenceMaterial.isPresent {
            #expect(
                ReferenceMaterial.notRunReason.contains(ReferenceMaterial.root.path),
                "the reason names where it was looked for")
        }
    }
}
