/// The shape of every error a person can meet (DESIGN.md, Conventions): a stable, opaque code
/// (`TB-` and four digits; only the module that defines an error can make its codes, through a
/// private initialiser), a sentence a person understands, and the AppRec error code (code list
/// 8221) where one answers it. Log lines, reason files and the command line print
/// `CODE: message`, which is ``description``.
///
/// Ranges: TB-01xx XML, TB-02xx helsenorge messages, TB-03xx the model and commands, TB-04xx the
/// conversations and the transport, TB-05xx signatures, TB-06xx the spool, TB-07xx timebok's own
/// files, TB-08xx configuration and the database.
public protocol TimebokError: Error, Sendable, CustomStringConvertible {
    /// The stable code, e.g. `TB-0301`.
    var errorCode: String { get }
    /// A sentence a person understands.
    var message: String { get }
    /// The AppRec error code that answers this error, where one applies.
    var appRecCode: String? { get }
}

extension TimebokError {
    public var appRecCode: String? { nil }
    public var description: String { "\(errorCode): \(message)" }
}
