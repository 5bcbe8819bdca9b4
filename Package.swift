// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thepred-jobs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thepred", targets: ["thepred"]),
        .library(name: "Jobs", targets: ["Jobs"]),
        .library(name: "Producers", targets: ["Producers"]),
        .library(name: "Consumers", targets: ["Consumers"]),
        .library(name: "FakeTelegram", targets: ["FakeTelegram"]),
        .library(name: "HTTPFront", targets: ["HTTPFront"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through swift-nio-extras; the front uses its HMAC.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(name: "CLibpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "Jobs",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Producers",
            dependencies: [
                "Jobs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Consumers",
            dependencies: [
                "Jobs",
                "Producers",
                "CLibpq",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A stand-in for the Telegram Bot API, for tests, ops/dev and benchmarks. Nothing that
        // ships to production depends on it but the `thepred fake-telegram` subcommand.
        .target(
            name: "FakeTelegram",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP front: validates, authenticates and enqueues. No database, so it never imports Consumers.
        .target(
            name: "HTTPFront",
            dependencies: [
                "Jobs", "Producers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("openapi.yaml")]
        ),
        .executableTarget(
            name: "thepred",
            dependencies: [
                "Jobs", "Producers", "Consumers", "FakeTelegram", "HTTPFront",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Jobs"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "TestSupport"]),
        .testTarget(name: "ProducersTests", dependencies: ["Producers", "TestSupport"]),
        // Talks to a real port with URLSession, so it needs no HummingbirdTesting (and no NIOSSL).
        .testTarget(name: "FakeTelegramTests", dependencies: ["FakeTelegram"]),
        // The front through HummingbirdTesting's in-process client; Crypto signs init data as Telegram does.
        .testTarget(
            name: "HTTPFrontTests",
            dependencies: [
                "HTTPFront", "Jobs", "Producers", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Start the real `thepred` binary; `swift build --build-tests` (ops/test) builds it first.
        .testTarget(name: "EndToEndTests", dependencies: ["Jobs", "TestSupport", "FakeTelegram"]),
        .testTarget(
            name: "ConsumersTests",
            dependencies: [
                "Consumers", "Producers", "TestSupport", "FakeTelegram",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
