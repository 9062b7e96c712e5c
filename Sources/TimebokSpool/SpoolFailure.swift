import SystemPackage
import TimebokCore

extension Spool {
    /// A spool operation that did not complete: a stable code (TB-06xx), a sentence a person
    /// understands (naming the path and what the system said), and the `Errno` behind it.
    /// Nothing that failed half-way is lost: the next pass finishes it (claim, publish, archive
    /// and quarantine are resumable).
    public struct Failure: TimebokError {
        /// The kind of failure; only this module makes one.
        public struct Code: Sendable, Hashable, CustomStringConvertible {
            public let rawValue: String
            private init(_ rawValue: String) { self.rawValue = rawValue }
            public var description: String { rawValue }

            /// A folder of the spool (a day folder, a `NAME.outputs/`) cannot be created, synced, or
            /// given its mode or group.
            public static let cannotCreateFolder = Code("TB-0601")
            /// A file cannot be published durably (temporary file, write, fsync, link, folder fsync).
            public static let cannotPublish = Code("TB-0602")
            /// A file of that name already exists with other content; it was not overwritten.
            public static let nameTaken = Code("TB-0603")
            /// A waiting input cannot be moved into `processing/`.
            public static let cannotClaim = Code("TB-0604")
            /// A processed input cannot be moved into `archive/DAY/`.
            public static let cannotArchive = Code("TB-0605")
            /// An input, or an entry that is not one, cannot be moved into `error/DAY/`.
            public static let cannotQuarantine = Code("TB-0606")
            /// A claimed input cannot be read.
            public static let cannotRead = Code("TB-0607")
            /// A claimed input is not a regular file (a link, a FIFO … was put in its place).
            public static let notRegularFile = Code("TB-0608")
            /// Another timebok holds the spool's lock: try again later.
            public static let busy = Code("TB-0609")
            /// The spool's lock file cannot be opened or locked.
            public static let cannotLock = Code("TB-0610")
            /// A file of timebok's own (the database before SQLite opens it, a key, a log in
            /// `state/`, the probe that reads the file system's clock) cannot be written.
            public static let cannotWrite = Code("TB-0611")
            /// A day folder of `archive/` or `error/` cannot be removed (retention).
            public static let cannotRemove = Code("TB-0612")
            /// The group named by `spool.group` does not exist on this machine.
            public static let unknownGroup = Code("TB-0613")

            /// Every code, for tests that check they are distinct.
            static let all: [Code] = [
                .cannotCreateFolder, .cannotPublish, .nameTaken, .cannotClaim, .cannotArchive, .cannotQuarantine,
                .cannotRead, .notRegularFile, .busy, .cannotLock, .cannotWrite, .cannotRemove, .unknownGroup,
            ]
        }

        public let code: Code
        /// The sentence, without the code.
        public let message: String
        /// What the system call said, when the failure comes from one.
        public let systemError: Errno?

        init(_ code: Code, _ message: String, _ systemError: Errno? = nil) {
            self.code = code
            self.message = message
            self.systemError = systemError
        }

        /// The raw `errno` behind it, when there is one.
        public var errorNumber: Int32? { systemError?.rawValue }
        /// Another process holds the spool's lock (try again later).
        public var isBusy: Bool { code == .busy }
        public var errorCode: String { code.rawValue }
    }
}
