import Kernel

/// How one sink's commit of a batch ended.
public enum SinkOutcome: String, Sendable, Equatable {
    /// A new snapshot was made.
    case committed
    /// The table already had this (query id, batch id): nothing written (replay).
    case skippedAlreadyCommitted = "skipped_already_committed"
    /// Every attempt failed; the batch failed.
    case failed
    /// The batch crashed or the run ended before this sink was reached.
    case notReached = "not_reached"
}

public struct SinkCommitRecord: Sendable, Equatable {
    public var table: TableName
    /// Rows in the batch's output for this sink.
    public var rows: Int
    public var outcome: SinkOutcome
    /// Commit attempts made (retries included).
    public var attempts: Int
    public var finishedAtMicros: Micros?
}

/// How a batch ended.
public enum BatchOutcome: Sendable, Equatable {
    /// Every sink committed (or skipped as already committed) and the batch id
    /// reached the commit log.
    case committed
    /// The job was killed at this point; the batch re-runs on restart if its
    /// offset-log entry was written.
    case crashed(CrashPoint)
    /// Commit retries were exhausted; the job stopped and restarts from its checkpoint.
    case failed(table: TableName)
    /// The run ended while the batch was still running.
    case inFlightAtEnd
    /// A task threw (from_avro in FAILFAST mode on a malformed record): the
    /// query terminated and restarts from its checkpoint.
    case taskFailed(String)
}

/// One micro-batch attempt of one job: everything a headroom report or an
/// independent checker needs.
public struct BatchRecord: Sendable, Equatable {
    public var job: JobName
    public var batchId: Int64
    /// 1 for the first run of the job, +1 for every restart.
    public var runNumber: Int
    /// A re-run, after a restart, of a batch found in the offset log but not the commit log.
    public var isReplay: Bool
    /// Ran without new input because the previous batch moved the watermark.
    public var isNoDataBatch: Bool
    /// Per source position (Kafka: per partition; Silver: the Bronze row
    /// position; Gold: the two Silver row positions), [start, end).
    public var startOffsets: [Int64]
    public var endOffsets: [Int64]
    public var rowsIn: Int
    public var sinks: [SinkCommitRecord]
    public var triggerMicros: Micros
    /// When the trigger fired (the batch's start).
    public var startMicros: Micros
    /// Batch timestamp from the offset log (ms precision, as Spark's).
    public var batchTimestampMs: Int64
    public var endMicros: Micros?
    /// end - start, in virtual microseconds (nil while unfinished).
    public var processingMicros: Micros?
    /// trigger - processing (negative when behind).
    public var headroomMicros: Micros?
    /// Spark's "falling behind": elapsed ms > interval ms, strictly.
    public var behind: Bool
    /// The batch's watermark (offset log).
    public var watermarkMs: Int64
    /// The late-row threshold: the previous batch's watermark.
    public var lateThresholdMs: Int64
    /// The global watermark after the batch (what the next batch will use).
    public var watermarkAfterMs: Int64?
    public var lateRows: Int
    public var duplicateRows: Int
    public var stateKeys: Int
    public var stateBytes: Int64
    public var stateExceedsMemory: Bool
    public var outcome: BatchOutcome
    /// Per watermark input (Gold: silver_binance, silver_kraken), the event
    /// times the batch read; empty for jobs without event time.
    public var eventTimeStats: [EventTimeStats?] = []
    /// Per source position, the latest offsets available when the batch was
    /// planned (before `maxOffsetsPerTrigger`); a re-run batch: its end offsets.
    public var latestOffsets: [Int64] = []
    /// When the run's previous trigger fired (nil for the run's first trigger).
    public var previousTriggerMicros: Micros?
}

/// Spark's `EventTimeStats`: count, min, max and running average of the
/// event times (ms) one watermarked input saw in a batch. The average is
/// updated as Spark does (`avg += (t - avg) / count`, in doubles), so it
/// prints the same value.
public struct EventTimeStats: Sendable, Equatable {
    public var count: Int64 = 0
    public var minMs: Int64 = .max
    public var maxMs: Int64 = .min
    public var avgMs: Double = 0

    public init() {}

    public mutating func add(_ ms: Int64) {
        count += 1
        minMs = min(minMs, ms); maxMs = max(maxMs, ms)
        avgMs += (Double(ms) - avgMs) / Double(count)
    }
}

public enum LogLevel: String, Sendable { case info = "INFO", warn = "WARN", error = "ERROR" }

/// A line of a job's driver log, on the virtual clock.
public struct LogLine: Sendable, Equatable {
    public var timeMicros: Micros
    public var job: JobName
    public var level: LogLevel
    public var message: String
}

public struct MetricLabel: Sendable, Equatable, Comparable {
    public var name: String
    public var value: String

    public init(name: String, value: String) { self.name = name; self.value = value }
    public static func < (a: Self, b: Self) -> Bool { (a.name, a.value) < (b.name, b.value) }
}

/// One process of a job, from its start (or restart) to its death (a crash
/// or a failed commit; nil when it was still up at the end of the run).
/// The process holds the job's metrics: a restart starts them from zero.
public struct ProcessRun: Sendable, Equatable {
    public var job: JobName
    public var runNumber: Int
    public var startMicros: Micros
    public var endMicros: Micros?

    /// Up at `t`: started at or before it, not yet dead.
    public func isUp(at t: Micros) -> Bool { startMicros <= t && (endMicros.map { t < $0 } ?? true) }
}

/// A row Gold dropped: late (event time <= the previous batch's watermark)
/// or a duplicate `message_id`. Kept so a checker can verify each one.
public struct DroppedRow: Sendable, Equatable {
    public enum Kind: String, Sendable { case late, duplicate }
    public var kind: Kind
    public var goldBatchId: Int64
    public var sourceTable: TableName
    public var sourceRow: Int
    public var messageId: String
    public var eventTimeMs: Int64
    /// The late threshold the batch applied (the previous batch's watermark).
    public var lateThresholdMs: Int64
}

/// When Gold's never-evicted dedup state first outgrew executor memory.
public struct StateMemoryExhaustion: Sendable, Equatable {
    public var timeMicros: Micros
    public var batchId: Int64
    public var stateKeys: Int
    public var stateBytes: Int64
    public var executorMemoryBytes: Int64
}
