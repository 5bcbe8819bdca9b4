// swift-tools-version:6.0
// A libFuzzer target over the stream-entry decoder. It lives outside the main package so a
// plain `swift build` never needs libFuzzer; `ops/fuzz-envelope` builds and runs it.
import PackageDescription

let package = Package(
    name: "thepred-fuzz",
    dependencies: [.package(name: "thepred-jobs", path: "../..")],
    targets: [
        .executableTarget(
            name: "EnvelopeFuzz",
            dependencies: [.product(name: "Jobs", package: "thepred-jobs")]
        )
    ]
)
