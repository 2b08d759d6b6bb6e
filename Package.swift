// swift-tools-version: 6.0
//
// The module list is the architecture (see docs/ARCHITECTURE.md). Dependencies
// point one way: Kernel <- Codec; Broker <- Kernel only (and libzstd for sealed segments); Exchanges, Replay and
// Engine each on Kernel, Codec and Broker (never on one another) <- Scenarios
// (wires them) <- Checks <- Planning <- CLI. The engine never sees the
// exchanges' ground-truth labels; only the checks do.
import PackageDescription

/// A system library found with pkg-config (`Sources/<name>/module.modulemap`),
/// installed from its Debian package.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "medallion-sim",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "medallion-sim", targets: ["MedallionSimCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries: the project's two named C dependencies, zlib
        // (gzip-compressed Kafka batches and Spark exports) and SQLite (below).
        systemLibrary("CAvro", pkgConfig: "avro-c", apt: "libavro-dev"),
        systemLibrary("CZstd", pkgConfig: "libzstd", apt: "libzstd-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),

        // SQLite (the system library): the tables of a run as one SQL database.
        systemLibrary("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),

        // Deterministic kernel: virtual clock, scheduler, PRNG streams, exact values.
        .target(
            name: "Kernel",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // Avro trade codec (libavro) and zstd files (libzstd).
        .target(name: "Codec", dependencies: ["Kernel", "CAvro", "CZstd"]),
        // Simulated Kafka: topics, partitions, offsets, the default partitioner.
        .target(name: "Broker", dependencies: ["Kernel", "CZstd"]),
        // Synthetic Binance and Kraken feeds with labelled fault injection.
        .target(name: "Exchanges", dependencies: ["Kernel", "Codec", "Broker", .product(name: "HeapModule", package: "swift-collections")]),
        // Captures of Kafka traffic (JSON Lines, a compact zstd format), Kafka log
        // segments, Spark exports of Bronze and Schema Registry exports.
        .target(name: "Replay", dependencies: ["Kernel", "Codec", "Broker", "CZstd", "CZlib", .product(name: "OrderedCollections", package: "swift-collections")]),
        // Micro-batch runtime, checkpoints, Iceberg-style tables, the five jobs.
        .target(name: "Engine", dependencies: ["Kernel", "Codec", "Broker"]),
        // Scenario files (YAML) and the runner that wires feeds, broker and engine.
        .target(
            name: "Scenarios",
            dependencies: ["Kernel", "Codec", "Broker", "Exchanges", "Engine", "Replay", "Yams"]
        ),
        // Independent oracle, golden files, reports.
        .target(name: "Checks", dependencies: ["Kernel", "Codec", "Broker", "Exchanges", "Engine", "Replay", "Scenarios", "CSQLite", .product(name: "OrderedCollections", package: "swift-collections")]),
        // Capacity planning: what-if sweeps, shards and their merge, reports.
        .target(name: "Planning", dependencies: ["Kernel", "Codec", "Exchanges", "Engine", "Scenarios", "Checks"]),
        // The `medallion-sim` command.
        .executableTarget(
            name: "MedallionSimCLI",
            dependencies: [
                "Kernel", "Codec", "Broker", "Exchanges", "Engine", "Replay", "Scenarios", "Checks", "Planning",
                // libavro itself, for bench codec's raw baseline (BenchCodecBaseline.swift).
                "CAvro",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // What several test targets share: the repository root, the CLI run as a child process.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelTests", dependencies: ["Kernel"]),
        .testTarget(name: "CodecTests", dependencies: ["TestSupport", "Codec", "Kernel"]),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "Kernel"]),
        .testTarget(name: "ExchangesTests", dependencies: ["Exchanges", "Broker", "Codec", "Kernel"]),
        // Fixtures: a capture written by an independent Avro implementation (fastavro)
        // and the script that wrote it; the tests read them by path.
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Codec", "Broker", "Kernel"], exclude: ["Fixtures"]),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine", "Broker", "Codec", "Kernel"]),
        .testTarget(name: "ScenariosTests", dependencies: ["TestSupport", "Scenarios", "Engine", "Exchanges", "Codec", "Kernel"]),
        .testTarget(name: "ChecksTests", dependencies: ["TestSupport", "Checks", "Scenarios", "Replay", "Engine", "Codec", "Broker", "Kernel"]),
        .testTarget(name: "PlanningTests", dependencies: ["TestSupport", "Planning", "Checks", "Scenarios", "Engine", "Kernel", "Replay"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["MedallionSimCLI", "TestSupport"]),
    ]
)

// Release builds of the project's modules leave out the runtime exclusivity
// checks (the compiler's static checks stay, and debug builds, the tests and
// the sanitizer runs keep the dynamic ones): every read of a class's stored
// property went through `swift_beginAccess`, about 5% of a week-long run with
// its checks.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}

// libFuzzer targets (Fuzz/, see docs/RELIABILITY.md), only when MEDALLION_FUZZ=1:
// they define LLVMFuzzerTestOneInput instead of main and link only with
// `-sanitize=fuzzer` (`make fuzz` builds them into .build-fuzz).
if Context.environment["MEDALLION_FUZZ"] == "1" {
    let fuzz: [(String, [Target.Dependency])] = [
        ("Payload", ["Checks", "Codec", "Kernel"]),
        ("CaptureJSONL", ["Replay", "Kernel"]),
        ("CaptureCompact", ["Replay", "Kernel"]),
        ("Scenario", ["Scenarios", "Kernel"]),
        ("Profile", ["Scenarios", "Engine", "Kernel"]),
        ("Golden", ["Checks", "Kernel"]),
    ]
    package.targets.append(.target(name: "FuzzDriver", dependencies: ["Kernel"], path: "Fuzz/Driver"))
    for (name, deps) in fuzz {
        package.targets.append(.executableTarget(
            name: "Fuzz\(name)", dependencies: ["FuzzDriver"] + deps, path: "Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: "fuzz-\(name.lowercased())", targets: ["Fuzz\(name)"]))
    }
}
