import Codec
import Engine
import Kernel

/// Per-exchange settings a scenario may override. `nil` keeps the feed's default.
public struct ExchangeSettings: Equatable, Sendable {
    public var enabled: Bool = true
    /// Multiplies every symbol's base rate (exact decimal, e.g. 2.5).
    public var rateMultiplier: Decimal8?
    public var partitions: Int?
    /// Restricts the feed to these symbols (each must be one of the feed's).
    public var symbols: [String]?
    /// Share of messages written with the V1 schema for the whole run.
    public var v1Share: Ratio?
    public var deliveryLatencyMedianMicros: Micros?
    /// Hawkes branching ratio (burstiness), 0 <= b < 1.
    public var burstBranchingRatio: Decimal8?
    /// The topic's `retention.ms`, `retention.bytes`, `segment.ms` and
    /// `segment.bytes` (nil: Kafka's defaults, `TopicRetention.kafkaDefault`).
    public var retentionMicros: Micros?
    public var retentionBytes: Int64?
    public var segmentMicros: Micros?
    public var segmentBytes: Int64?
    public init() {}
}

/// Per-job settings a scenario may override.
public struct JobSettings: Equatable, Sendable {
    public var triggerMicros: Micros?
    public var cores: Int?
    public var maxOffsetsPerTrigger: Int64?
    /// The job's first deployment, as an offset from the start (nil: at the start).
    public var startAtMicros: Micros?
    /// Overrides the profile's executor memory (`--executor-memory`), in MiB.
    public var executorMemoryMiB: Int64?
    public init() {}
}

/// One scripted event of a scenario's timeline. Times are offsets from the
/// scenario start. Every kind carries the source line so reports can point at it.
public struct Fault: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A producer retry re-sends the same bytes at a new offset.
        case producerRetryDuplicates(exchange: ExchangeName, count: Int)
        /// The exchange re-sends the same trade (same message id) in a new message.
        case exchangeResendDuplicates(exchange: ExchangeName, count: Int)
        /// A reconnect backfill delivers `count` trades that are `age` old.
        case lateBackfill(exchange: ExchangeName, count: Int, ageMicros: Micros)
        /// `count` malformed payloads per listed reason.
        case malformed(exchange: ExchangeName, reasons: [DeadLetterReason], count: Int)
        /// Rate multiplier over the window.
        case spike(exchange: ExchangeName, multiplier: Decimal8)
        /// Silence over the window, then optionally the missed trades, late.
        case outage(exchange: ExchangeName, backfill: Bool)
        /// Trade timestamps ahead of ingestion by `skew` over the window.
        case clockSkew(exchange: ExchangeName, skewMicros: Micros)
        /// A share of messages written with the V1 schema over the window.
        case schemaMix(exchange: ExchangeName, v1Share: Ratio)
        /// Commits to `table` take `latency` longer over the window.
        case slowCommits(table: String, extraLatencyMicros: Micros)
        /// Commits to `table` fail with `probability` over the window.
        case commitFailures(table: String, probability: Ratio)
        /// `job` is killed at `point` of the batch running at `at`, restarted after `restartAfter`.
        case crash(job: JobName, point: CrashPoint, restartAfterMicros: Micros)
        /// `job` (a Bronze job) is killed at `at` and its checkpoint deleted; it
        /// restarts after `restartAfter` as a new query (`pipeline.starting_offsets`).
        case checkpointLost(job: JobName, restartAfterMicros: Micros)
    }

    public var kind: Kind
    public var atMicros: Micros
    /// Window length for windowed kinds (0 for instantaneous ones).
    public var forMicros: Micros
    public var line: Int

    public init(kind: Kind, atMicros: Micros, forMicros: Micros, line: Int) {
        self.kind = kind; self.atMicros = atMicros; self.forMicros = forMicros; self.line = line
    }
}

/// The two readings of "Silver latency p99 < 60 s".
public enum SilverLatencyDefinition: String, Sendable, CaseIterable {
    /// A Silver batch's processing time (`k2_silver_batch_processing_seconds`).
    case batchProcessing = "batch_processing"
    /// A record's Kafka create time to the Silver commit that holds it.
    case recordLatency = "record_latency"
}

/// What a scenario promises; the checks hold the run to it.
public struct Expectations: Equatable, Sendable {
    /// `SilverBinanceProcessingBehind` fires (true) or never fires (false).
    public var alertFires: Bool?
    public var minHeadroomMicros: [(JobName, Micros)] = []
    public var maxBatchesBehind: [(JobName, Int64)] = []
    public var minBatchesBehind: [(JobName, Int64)] = []
    /// Headroom band after start-up, for the incident-013 decisions.
    public var maxHeadroomMicros: [(JobName, Micros)] = []
    public var minLateDropped: Int64?
    public var maxLateDropped: Int64?
    public var slaHolds: Bool?
    /// Checks that must fail (a scenario that shows a variant's failure).
    public var failures: [String] = []
    /// Which Silver latency `slaHolds` judges (docs/SCENARIOS.md).
    public var silverSLA: SilverLatencyDefinition = .batchProcessing
    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.alertFires == b.alertFires && a.minLateDropped == b.minLateDropped && a.maxLateDropped == b.maxLateDropped
            && a.slaHolds == b.slaHolds && a.failures == b.failures && a.silverSLA == b.silverSLA
            && a.minHeadroomMicros.elementsEqual(b.minHeadroomMicros, by: { $0 == $1 })
            && a.maxHeadroomMicros.elementsEqual(b.maxHeadroomMicros, by: { $0 == $1 })
            && a.maxBatchesBehind.elementsEqual(b.maxBatchesBehind, by: { $0 == $1 })
            && a.minBatchesBehind.elementsEqual(b.minBatchesBehind, by: { $0 == $1 })
    }
}

/// A parsed scenario file (see docs/SCENARIOS.md for the format).
public struct Scenario: Equatable, Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var startMicros: Micros
    public var durationMicros: Micros
    /// Extra time after the feeds stop, for the jobs to drain.
    public var drainMicros: Micros
    public var profile: String
    public var exchanges: [ExchangeName: ExchangeSettings]
    public var jobs: [JobName: JobSettings]
    public var faults: [Fault]
    public var expect: Expectations
    public var file: String
    /// `golden_tables: full` keeps every row in the golden; `digest` keeps
    /// per-partition counts and digests (for runs too big to review row by row).
    public var goldenTablesInFull: Bool = true
    /// The `explore:` section (`medallion-sim explore`); nil when absent.
    public var explore: ExploreSettings?
    /// The `pipeline:` section: the real code the pipeline stands for.
    public var pipeline = PipelineSettings()

    public static let defaultStart: Micros = UTCDateTime.micros(year: 2026, month: 1, day: 20, hour: 9)
}
