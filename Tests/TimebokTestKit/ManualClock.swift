import Foundation
import Synchronization

/// A business clock that moves only when a test says so (rules, holds, cut-offs). File ages are
/// never judged by it: timebok reads those from the file system's own clock (issue 7), so this clock
/// deliberately does not stamp file times.
public final class ManualClock: Sendable {
    private let instant: Mutex<Date>

    public init(_ start: Date) { instant = Mutex(start) }

    /// The current instant.
    public var now: Date { instant.withLock { $0 } }

    /// Moves the clock forward (or back) by `seconds`.
    public func advance(by seconds: TimeInterval) { instant.withLock { $0 += seconds } }

    /// Sets the clock to `date`.
    public func set(_ date: Date) { instant.withLock { $0 = date } }

    /// The clock as the engine takes it.
    public var function: @Sendable () -> Date { { [self] in now } }
}
