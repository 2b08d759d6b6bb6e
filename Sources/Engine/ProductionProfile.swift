import Kernel

extension CostProfile {
    /// The `production` profile, calibrated to the design record's
    /// observations (docs/REFERENCE.md §5). The same numbers, with their reasoning, are in
    /// `scenarios/profiles/production.yaml`; a test keeps the two equal.
    public static let production = CostProfile(name: "production", jobs: [
        .bronzeBinance: JobProfile(
            startupMicros: 20 * Time.microsPerSecond,
            batchOverheadMicros: 2 * Time.microsPerSecond,
            writeNanosPerRecord: 200_000,
            executorCores: 2,
            commitLatency: CommitLatency(medianMicros: 1_500_000, sigma: 0.25, maxMicros: 30 * Time.microsPerSecond),
            executorMemoryBytes: 1 << 30),
        .bronzeKraken: JobProfile(
            startupMicros: 20 * Time.microsPerSecond,
            batchOverheadMicros: 2 * Time.microsPerSecond,
            writeNanosPerRecord: 200_000,
            executorCores: 2,
            commitLatency: CommitLatency(medianMicros: 1_500_000, sigma: 0.25, maxMicros: 30 * Time.microsPerSecond),
            executorMemoryBytes: 1 << 30),
        .silverBinance: JobProfile(
            startupMicros: 105 * Time.microsPerSecond,
            batchOverheadMicros: 25 * Time.microsPerSecond,
            decodeNanosPerRecord: 2_000_000,
            validateNanosPerRecord: 1_000_000,
            writeNanosPerRecord: 2_000_000,
            executorCores: 2,
            commitLatency: CommitLatency(medianMicros: 5 * Time.microsPerSecond, sigma: 0.15, maxMicros: 60 * Time.microsPerSecond),
            executorMemoryBytes: 1 << 30),
        .silverKraken: JobProfile(
            startupMicros: 100 * Time.microsPerSecond,
            batchOverheadMicros: 8 * Time.microsPerSecond,
            decodeNanosPerRecord: 2_000_000,
            validateNanosPerRecord: 1_000_000,
            writeNanosPerRecord: 2_000_000,
            executorCores: 2,
            commitLatency: CommitLatency(medianMicros: 2_500_000, sigma: 0.15, maxMicros: 60 * Time.microsPerSecond),
            executorMemoryBytes: 1 << 30),
        .gold: JobProfile(
            startupMicros: 60 * Time.microsPerSecond,
            batchOverheadMicros: 18 * Time.microsPerSecond,
            // The design record submits Gold with --total-executor-cores 1;
            // its per-record costs are fitted per core (half the figures once
            // fitted on 2 cores: the same batch times).
            decodeNanosPerRecord: 250_000,
            validateNanosPerRecord: 500_000,
            writeNanosPerRecord: 1_250_000,
            executorCores: 1,
            commitLatency: CommitLatency(medianMicros: 8 * Time.microsPerSecond, sigma: 0.15, maxMicros: 60 * Time.microsPerSecond),
            stateBytesPerKey: 224,
            executorMemoryBytes: 512 << 20),
    ])
}
