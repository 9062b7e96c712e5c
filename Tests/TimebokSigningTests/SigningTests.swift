import Foundation
import Testing
import TimebokSigning
import TimebokXML

@Suite struct Placeholder {
    @Test func placeholder() {}
}
