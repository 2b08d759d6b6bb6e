import ArgumentParser

/// The `medallion-sim` command. Exit status: 0 all checks hold, 1 a check or
/// golden comparison failed, 2 bad input or usage.
@main
struct MedallionSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medallion-sim",
        abstract: "Deterministic simulation and replay of a Kafka -> Spark -> Iceberg medallion pipeline.",
        subcommands: [Bench.self]
    )
}

/// `medallion-sim bench ...`: release-build throughput figures.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (use a release build).",
        subcommands: [BenchCodec.self]
    )
}
