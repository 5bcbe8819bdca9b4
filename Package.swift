// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thepred-jobs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thepred", targets: ["thepred"]),
        .library(name: "Jobs", targets: ["Jobs"]),
        .library(name: "JobsRedis", targets: ["JobsRedis"]),
        .library(name: "ThePredKinds", targets: ["ThePredKinds"]),
        .library(name: "Producers", targets: ["Producers"]),
        .library(name: "JobsWorker", targets: ["JobsWorker"]),
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
        // Already in the graph through hummingbird; the front's connection handlers use them.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(name: "CLibpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The job platform core: model, kinds registry, retry policies, driver protocols, the
        // memory driver, clocks. No C library and nothing of ThePred.
        .target(
            name: "Jobs",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Sources/Jobs/Core"
        ),
        // The Redis-streams driver with its hiredis connection, Lua scripts and key names.
        .target(
            name: "JobsRedis",
            dependencies: [
                "Jobs", "CHiredis", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/Jobs/JobsRedis"
        ),
        // ThePred's job kinds: payload types, their `JobKind` definitions and periodic schedules,
        // and the broadcast board's typed status that workers, the CLI and the front share.
        .target(name: "ThePredKinds", dependencies: ["Jobs", "Producers"], path: "Sources/Jobs/ThePredKinds"),
        // ThePred's structures in Redis beyond the queues: the broadcast board.
        .target(name: "ThePredRedis", dependencies: ["ThePredKinds", "JobsRedis"], path: "Sources/Jobs/ThePredRedis"),
        .target(
            name: "Producers",
            dependencies: [
                "Jobs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The worker runtime: fetch and reclaim, execution and outcomes, completions, watchdog,
        // heartbeat. It sees drivers only through the protocols of Jobs.
        .target(
            name: "JobsWorker",
            dependencies: [
                "Jobs", "Producers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Consumers/Worker"
        ),
        // The one wrapper of libpq: connection, pool, COPY, cancellation, migrator, row and value helpers.
        .target(
            name: "Postgres",
            dependencies: [
                "Jobs", "CLibpq", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/Consumers/Postgres"
        ),
        // The one wrapper of libcurl, the Bot API, Telegram's limits and the fleet send limiter.
        .target(
            name: "Telegram",
            dependencies: ["Jobs", "JobsRedis", "CCurl", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Consumers/Telegram"
        ),
        // The game: one handler per job kind and the domain they share.
        .target(
            name: "Game",
            dependencies: [
                "Jobs", "ThePredKinds", "Producers", "JobsWorker", "Postgres", "Telegram",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Consumers/Game"
        ),
        // Seed, audit and domain admin, for operators and benchmarks.
        .target(
            name: "OperatorTools",
            dependencies: [
                "Jobs", "ThePredKinds", "Producers", "Postgres", "Game",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Consumers/OperatorTools"
        ),
        // A stand-in for the Telegram Bot API, for tests, ops/dev and benchmarks. Nothing that
        // ships to production depends on it but the `thepred fake-telegram` subcommand.
        .target(
            name: "FakeTelegram",
            dependencies: [
                "Jobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Prometheus text on a listener of its own, and the gauges every process shows (queues,
        // process start). No driver and no C library: the figures are handed to it.
        .target(
            name: "MetricsExport",
            dependencies: [
                "Jobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP front: validates, authenticates and enqueues. It links no Consumers target, so
        // a database call in it does not build.
        .target(
            name: "HTTPFront",
            dependencies: [
                "Jobs", "ThePredKinds", "Producers", "MetricsExport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
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
                "Jobs", "JobsRedis", "ThePredKinds", "ThePredRedis", "Producers", "JobsWorker", "Postgres", "Telegram",
                "Game", "OperatorTools", "FakeTelegram", "HTTPFront", "MetricsExport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Jobs", "JobsRedis"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "JobsRedis", "ThePredKinds", "TestSupport"]),
        .testTarget(name: "ProducersTests", dependencies: ["Producers", "JobsRedis", "ThePredKinds", "TestSupport"]),
        // Talks to a real port with URLSession, so it needs no HummingbirdTesting (and no NIOSSL).
        .testTarget(name: "FakeTelegramTests", dependencies: ["FakeTelegram", "Jobs"]),
        // The front through HummingbirdTesting's in-process client; Crypto signs init data as Telegram does.
        .testTarget(
            name: "HTTPFrontTests",
            dependencies: [
                "HTTPFront", "Jobs", "JobsRedis", "ThePredKinds", "ThePredRedis", "Producers", "TestSupport", "MetricsExport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Start the real `thepred` binary; `swift build --build-tests` (ops/test) builds it first.
        .testTarget(name: "EndToEndTests", dependencies: ["Jobs", "JobsRedis", "TestSupport", "FakeTelegram"]),
        .testTarget(
            name: "ConsumersTests",
            dependencies: [
                "Jobs", "JobsRedis", "ThePredKinds", "ThePredRedis", "Producers", "JobsWorker", "Postgres", "Telegram", "Game",
                "OperatorTools", "TestSupport", "FakeTelegram",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
