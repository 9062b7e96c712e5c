import Foundation

/// Runs a program to its end and returns its exit status and everything it wrote (stdout and stderr).
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, in directory: URL? = nil
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = childEnvironment(environment ?? ProcessInfo.processInfo.environment)
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitForExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

extension Process {
    /// Waits until the program has exited, without `waitUntilExit()`: that spins a run loop whose
    /// 50 ms timer is all that catches an exit signalled before it began waiting, and under
    /// libfaketime (`scripts/date-proof.sh`) that timer may never fire, so a test would hang.
    /// `isRunning` is set by Foundation's own child-exit handler, which needs no timer.
    public func waitForExit() {
        while isRunning { usleep(2_000) }
    }
}

/// The environment for a program a test starts: without libfaketime. `scripts/date-proof.sh` runs the
/// test binary under faketime to prove the tests do not depend on the date; a program they start
/// gets its business time from `TIMEBOK_NOW` instead, and must not inherit the fake clock: under
/// libfaketime with a date in the past, Swift's `Task.sleep` never returns (Dispatch's timers), so
/// an async program (the daemon, the demo) would hang.
public func childEnvironment(_ environment: [String: String]) -> [String: String] {
    var environment = environment
    for key in ["LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED", "FAKETIME_NO_CACHE", "DONT_FAKE_MONOTONIC"] {
        environment[key] = nil
    }
    return environment
}
