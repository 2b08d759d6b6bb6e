import Kernel

/// Where in a batch's checkpoint sequence a job is killed (docs/REFERENCE.md §3).
public enum CrashPoint: String, Sendable, CaseIterable, Equatable {
    /// At the scheduled time, whatever the job is doing (an in-flight commit
    /// that has not finished does not happen).
    case immediately
    /// The batch is planned but its offset-log entry is not written: the
    /// batch never existed; a restart plans afresh.
    case beforeOffsetLog = "before_offset_log"
    /// The offset-log entry is written, nothing committed.
    case afterOffsetLog = "after_offset_log"
    /// After the first sink's commit, before the second's (Silver: Silver
    /// table committed, DLQ not). For one-sink jobs, same as `beforeCommitLog`.
    case betweenSinks = "between_sinks"
    /// Every sink committed, the commit log not written.
    case beforeCommitLog = "before_commit_log"
}

/// "Crash job X at time T at point P, restart D later." A point crash fires
/// the first time, at or after T, that the job reaches P: in the batch
/// running at T if it has not passed P yet, else in the next batch that
/// reaches it. `immediately` fires at T. Each plan fires once.
/// `restartAfterMicros` nil: the job stays down.
public struct CrashPlan: Sendable, Equatable {
    public var job: JobName
    public var atMicros: Micros
    public var point: CrashPoint
    public var restartAfterMicros: Micros?
    /// The job's checkpoint (offset log, commit log, initial offsets, query
    /// id) is deleted before the restart: it starts as a new query.
    public var deleteCheckpoint: Bool

    public init(job: JobName, atMicros: Micros, point: CrashPoint, restartAfterMicros: Micros?,
                deleteCheckpoint: Bool = false) {
        self.job = job; self.atMicros = atMicros; self.point = point; self.restartAfterMicros = restartAfterMicros
        self.deleteCheckpoint = deleteCheckpoint
    }
}

/// Table commit retries (docs/REFERENCE.md §3): attempt k that fails waits
/// `min(base x 2^(k-1), cap)` before attempt k+1; after `maxRetries`
/// retries the batch fails.
public struct CommitRetryPolicy: Sendable, Equatable {
    public var baseBackoffMicros: Micros = 100 * Time.microsPerMilli
    public var maxBackoffMicros: Micros = 60 * Time.microsPerSecond
    public var maxRetries: Int = 4
    public init() {}

    public func backoff(afterFailedAttempt k: Int) -> Micros {
        precondition(k >= 1)
        if k - 1 >= 40 { return maxBackoffMicros }
        return min(baseBackoffMicros << Int64(k - 1), maxBackoffMicros)
    }
}

/// One job's settings in a run.
public struct JobConfig: Sendable, Equatable {
    public var job: JobName
    public var enabled: Bool
    /// Processing-time trigger interval; must be a whole number of ms (Spark's unit).
    public var triggerMicros: Micros
    /// Overrides the profile's executor cores when set.
    public var executorCores: Int?
    /// Spark's `maxOffsetsPerTrigger` (Kafka) and, for the Iceberg-fed jobs,
    /// the same cap on rows per batch; nil = no limit.
    public var maxOffsetsPerTrigger: Int64?
    /// When the query starts; nil = the run's start.
    public var startMicros: Micros?

    public init(job: JobName, enabled: Bool = true, triggerMicros: Micros? = nil, executorCores: Int? = nil,
                maxOffsetsPerTrigger: Int64? = nil, startMicros: Micros? = nil) {
        self.job = job; self.enabled = enabled; self.triggerMicros = triggerMicros ?? job.defaultTriggerMicros
        self.executorCores = executorCores; self.maxOffsetsPerTrigger = maxOffsetsPerTrigger
        self.startMicros = startMicros
    }

    /// The five jobs with docs/REFERENCE.md §2's triggers.
    public static var defaults: [JobConfig] { JobName.allCases.map { JobConfig(job: $0) } }
}

/// How the Silver jobs write their two tables (a scenario's
/// `pipeline.silver_sinks`): the real code each value stands for is in
/// docs/ENGINE.md.
public enum SilverSinkMode: String, Sendable, CaseIterable, Equatable {
    /// `writeStream.toTable` per sink: Iceberg skips a batch id its query
    /// already committed.
    case idempotent
    /// `foreachBatch` appending Silver then the DLQ: a batch re-run after a
    /// crash appends again.
    case foreachBatch = "foreach_batch"
    /// The same, with the batch id written into each snapshot's summary and
    /// checked before appending.
    case foreachBatchIdempotent = "foreach_batch_idempotent"
    /// One query per sink (`valid.writeStream.toTable(silver)` and
    /// `invalid.writeStream.toTable(dlq)`): two queries per Silver job, each
    /// with its own checkpoint, triggers and batches, each decoding every
    /// Bronze row; both run in the job's application and share its cores.
    case twoQueries = "two_queries"
}

/// Where a Kafka query with no checkpoint starts (`startingOffsets`; a
/// scenario's `pipeline.starting_offsets`). Spark's default for streaming
/// reads is `latest`; the design's is `earliest`.
public enum StartingOffsets: String, Sendable, CaseIterable, Equatable {
    case earliest
    /// The latest offsets when the query first plans a batch, kept in the
    /// checkpoint (Spark's `sources/0/0` initial-offset file).
    case latest
}

/// How Silver decodes the Kafka value (`pipeline.silver_decoder`).
public enum SilverDecoderMode: String, Sendable, CaseIterable, Equatable {
    /// The Confluent wire format: magic byte and schema id checked, V1 resolved to V2.
    case confluent
    /// `from_avro` on the value with the header stripped, V2 only, PERMISSIVE.
    case fromAvroPermissive = "from_avro_permissive"
    /// The same in the default mode, FAILFAST.
    case fromAvroFailfast = "from_avro_failfast"
}

/// Which Gold inputs carry `withWatermark` (`pipeline.gold_watermark`).
public enum GoldWatermarkMode: String, Sendable, CaseIterable, Equatable {
    /// Both Silver streams: Spark's min policy over two watermark operators.
    case both
    /// Only `binance_df`, as the design record's snippet writes it: one
    /// watermark operator, so the global watermark is Binance's alone; the
    /// union's event-time column keeps the first child's watermark metadata,
    /// so the late filter still applies to Kraken rows.
    case binanceOnly = "binance_only"
}

/// Where Gold's dedup state lives (`pipeline.state_store`).
public enum StateStoreMode: String, Sendable, CaseIterable, Equatable {
    /// Spark's default `HDFSBackedStateStoreProvider`: every key on the
    /// executor's heap. State past executor memory is an OutOfMemoryError.
    case hdfs
    /// `RocksDBStateStoreProvider`: keys off-heap and on local disk; survives
    /// any size, at a cost per row.
    case rocksdb
}

/// An offset-log entry: written before the batch runs, the only thing a
/// restart needs to re-run it identically.
public struct OffsetLogEntry: Sendable, Equatable {
    public var batchId: Int64
    public var startOffsets: [Int64]
    public var endOffsets: [Int64]
    public var batchTimestampMs: Int64
    public var batchWatermarkMs: Int64
}

/// Event priorities on the shared scheduler: at equal times, lower runs first.
/// Producers appending to Kafka "as time goes" should use a priority below
/// `commit` so that a trigger at time t sees records appended at t.
public enum EnginePriority {
    public static let crash = 10
    public static let commit = 20
    public static let restart = 25
    public static let trigger = 30
}

/// Spark's `maxOffsetsPerTrigger` split (KafkaMicroBatchStream.rateLimit):
/// each source position with a backlog gets `limit x (size / total)` computed
/// in IEEE doubles exactly as Spark computes it (basic operations only, so
/// bit-identical everywhere), rounded down, except that a share below 1 is
/// rounded up to 1 so that a small partition is never starved (the cap can
/// therefore be exceeded by up to one record per partition). Positions
/// without backlog keep their end.
public enum RateLimit {
    public static func apply(limit: Int64, from: [Int64], until: [Int64]) -> [Int64] {
        precondition(from.count == until.count)
        var total: Int64 = 0
        for i in 0..<until.count where until[i] - from[i] > 0 { total += until[i] - from[i] }
        let totalD = Double(total)
        if totalD < 1 { return until }
        return (0..<until.count).map { i in
            let size = until[i] - from[i]
            guard size > 0 else { return until[i] }
            let prorate = Double(limit) * (Double(size) / totalD)
            let share = Int64(prorate < 1 ? prorate.rounded(.up) : prorate.rounded(.down))
            let off = share > Int64.max - from[i] ? Int64.max : from[i] + share
            return min(until[i], off)
        }
    }
}

/// What a job computes for one batch (its rows are staged in the sinks).
struct BatchOutput {
    var rowsIn = 0
    var rowsOut: [Int]
    var lateRows = 0
    var duplicateRows = 0
    /// Per watermark input: max event time (ms) seen in the batch; nil = no rows.
    var maxEventMs: [Int64?] = []
    /// A task threw: the batch fails before any commit.
    var taskFailure: String?
    /// Warnings the batch's tasks logged (e.g. Kafka offsets skipped).
    var warnings: [String] = []
    /// Per watermark input: what Spark's `EventTimeWatermarkExec` accumulates
    /// (every row of the input, late ones included); nil = no rows.
    var eventTimeStats: [EventTimeStats?] = []
}

/// The job-specific part of a micro-batch query: sources, transformation, sinks.
protocol MicroBatchLogic: AnyObject {
    var sinkTables: [TableName] { get }
    /// Number of event-time watermark inputs (0: the job has no watermark).
    var watermarkInputs: Int { get }
    /// Where a query with an empty checkpoint starts reading ("earliest").
    func initialOffsets() -> [Int64]
    /// Where a query with an empty checkpoint starts under `startingOffsets`
    /// (Kafka sources; the Iceberg-fed jobs always start at the first snapshot).
    func startingOffsets(_ mode: StartingOffsets, at t: Micros) -> [Int64]
    /// The latest positions available at planning time.
    func availableOffsets(at t: Micros) -> [Int64]
    /// Reads [start, end), stages output in the sinks, updates state tentatively.
    func execute(_ e: OffsetLogEntry, lateThresholdMs: Int64) -> BatchOutput
    /// Whether the sink table already holds this batch (Iceberg's check, before any work).
    func alreadyCommitted(sink: TableName, queryId: String, batchId: Int64) -> Bool
    /// Commits the sink table (or skips it if already committed). Returns whether a snapshot was made.
    func commit(sink: TableName, queryId: String, batchId: Int64, batchTimestampMicros: Micros, at t: Micros) -> Bool
    /// The batch reached the commit log: make its state and drop records durable.
    func batchCompleted(batchId: Int64)
    /// The batch was abandoned (crash, failure): discard staged rows and tentative state.
    func abandonBatch()
    /// The checkpoint was deleted: state kept in it (Gold's dedup state store) is gone.
    func checkpointDeleted()
    var stateKeys: Int { get }
}

extension MicroBatchLogic {
    func checkpointDeleted() {}
    func startingOffsets(_ mode: StartingOffsets, at t: Micros) -> [Int64] { initialOffsets() }
}
