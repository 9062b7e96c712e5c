// swift-tools-version:6.0
import PackageDescription

// Module layout and dependency direction: ../shared/DESIGN.md (dependencies point down the list only).
let package = Package(
    name: "timebok",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex; timebok runs on Linux
    products: [
        .executable(name: "timebok", targets: ["timebok"]),
        .library(name: "HelsenorgeMessages", targets: ["HelsenorgeMessages"]),
        .library(name: "TimebokXML", targets: ["TimebokXML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        .target(name: "TimebokXML", dependencies: ["CLibXML2", "TimebokCore"]),
        // Norwegian identity numbers and Europe/Oslo time: shared by the codec and (later) the model.
        .target(name: "TimebokCore"),
        .target(name: "HelsenorgeMessages", dependencies: ["TimebokXML", "TimebokCore"]),
        // timebok's own XSDs (the project's schemas/ folder, the one source), compiled into the binary.
        // Sources/TimebokSchemas/schemas is a symbolic link to schemas/.
        .target(name: "TimebokSchemas", dependencies: ["TimebokXML"], resources: [.embedInCode("schemas")]),
        // The appointment model, its rules and its store. Knows nothing of XML.
        .target(name: "Booking", dependencies: ["TimebokCore", .product(name: "GRDB", package: "GRDB.swift")]),
        // XML Signature (PROTOCOL.md §8): sign, verify against an allowlist, keys and certificates.
        // The system's libcrypto (OpenSSL 3), for the RSA private-key operation only: it signs in
        // less than half the time BoringSSL takes on processors with AVX-512 IFMA (TimebokSigning/RSASigner.swift).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .target(
            name: "TimebokSigning",
            dependencies: [
                "TimebokXML", "TimebokCore", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // The office-side files timebok defines: command files and results, journal entries, the
        // transport `.meta`. Their vocabulary is the model's (commands) and the wire's code lists
        // (answer codes, cancellation reasons), so it sits above both (DESIGN.md puts it lower; see
        // the issue 8 note).
        .target(name: "TimebokFormats", dependencies: ["Booking", "HelsenorgeMessages", "TimebokXML", "TimebokCore"]),
        // The folders: claiming, durable publishing, archiving, quarantine. Knows files, not messages.
        .target(
            name: "TimebokSpool",
            dependencies: ["TimebokCore", .product(name: "SystemPackage", package: "swift-system")]),
        // Commands and messages in, decisions committed, outputs published.
        .target(
            name: "TimebokEngine",
            dependencies: [
                "Booking", "TimebokFormats", "TimebokSpool", "HelsenorgeMessages", "TimebokSchemas", "TimebokSigning",
                "TimebokXML", "TimebokCore",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        // The demo office (Fjordvik legesenter): for `timebok demo`, `init --demo` and the tests.
        .target(name: "TimebokDemo", dependencies: ["TimebokEngine", "Booking", "TimebokCore"]),
        .executableTarget(
            name: "timebok",
            dependencies: [
                "TimebokEngine", "TimebokDemo", "Booking", "TimebokFormats", "HelsenorgeMessages", "TimebokSchemas",
                "TimebokSigning", "TimebokXML", "TimebokCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `swift run -c release timebok-bench`: figures for the closing notes, never a timed test.
        .executableTarget(
            name: "timebok-bench",
            dependencies: [
                "HelsenorgeMessages", "TimebokXML", "Booking", "TimebokCore", "TimebokSigning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Sources/TimebokBench"),
        // What several test targets share: the reference-material gate, builders for helsenorge's
        // requests and citizens, a manual business clock, a process runner, a loopback listener.
        .target(
            name: "TimebokTestKit", dependencies: ["HelsenorgeMessages", "Booking", "TimebokCore"],
            path: "Tests/TimebokTestKit"),
        .testTarget(name: "TimebokXMLTests", dependencies: ["TimebokXML", "TimebokTestKit"]),
        .testTarget(
            name: "TimebokSigningTests",
            dependencies: [
                "TimebokSigning", "TimebokXML", "TimebokTestKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),
        .testTarget(name: "TimebokCoreTests", dependencies: ["TimebokCore"]),
        // The spool alone, failures injected through its file-system seam (no engine).
        .testTarget(
            name: "TimebokSpoolTests",
            dependencies: ["TimebokSpool", .product(name: "SystemPackage", package: "swift-system")]),
        .testTarget(name: "BookingTests", dependencies: ["Booking", "TimebokCore"]),
        .testTarget(
            name: "TimebokEngineTests",
            dependencies: [
                "TimebokEngine", "TimebokDemo", "Booking", "TimebokFormats", "HelsenorgeMessages", "TimebokSpool",
                "TimebokSchemas", "TimebokSigning", "TimebokCore", "TimebokTestKit",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "HelsenorgeMessagesTests",
            dependencies: ["HelsenorgeMessages", "TimebokSchemas", "TimebokXML", "TimebokTestKit"]),
        // Drives the built `timebok` binary as a user would (the dependency makes `swift test` build it).
        .testTarget(name: "TimebokCLITests", dependencies: ["timebok", "TimebokTestKit"]),
    ],
    swiftLanguageModes: [.v6]
)
