import Checks
import Engine
import Kernel
import Scenarios

/// The figures of one job at one point. Times in milliseconds (floor).
public struct JobResult: Equatable, Sendable {
    public var triggerMs: Int64
    public var batches: Int64
    /// Over every finished batch attempt, start-up included (as `run` reports).
    public var p50Ms: Int64?
    public var p99Ms: Int64?
    public var maxMs: Int64?
    /// Smallest trigger - processing time over data batches after start-up.
    public var minHeadroomMs: Int64?
    public var batchesBehindAfterStartup: Int64
    /// Batches at the end of the feed much bigger than in its middle.
    public var backlogGrowing: Bool
    public var maxBatchRows: Int64
    /// Per finished batch attempt: start (ms after the scenario start), processing ms, rows read.
    public var batchSeries: [BatchSample]

    public struct BatchSample: Equatable, Sendable {
        public var startMs: Int64
        public var processingMs: Int64
        public var rows: Int64
    }
}

/// Everything the report needs about one point; written to result files
/// and read back by `whatif-merge`, so it is plain integers and strings.
public struct PointResult: Equatable, Sendable {
    public var index: Int
    public var overrides: [String]
    /// Names of the oracle's correctness checks that failed (an engine bug,
    /// not an answer): the command exits 1 when any point has one.
    public var checksFailed: [String]
    public var produced: Int64
    public var alertFired: Bool
    public var silverP99Ms: Int64?
    public var endToEndP99Ms: Int64?
    /// Per exchange (`binance`, `kraken`) and layer (`bronze`, `silver`, `gold`):
    /// p99 of a record's Kafka create time to that layer's commit, ms.
    public var recordLatencyP99Ms: [String: [String: Int64]] = [:]
    public var lateDropped: Int64
    public var dedupStateKeys: Int64
    public var dedupStateBytes: Int64
    public var stateBytesPerKey: Int64
    public var executorMemoryBytes: Int64
    /// Hours until the dedup state reaches executor memory at this point's key rate.
    public var stateExhaustionHours: Int64?
    /// When (ms after the start) it reached executor memory during the run, if it did.
    public var stateExhaustedAtMs: Int64?
    public var jobs: [JobName: JobResult]
    /// Gold batch start (ms after the start) and watermark lag (ms), once the watermark is set.
    public var watermarkLag: [(startMs: Int64, lagMs: Int64)]
    /// Gold batch start (ms after the start) and dedup state keys.
    public var stateSeries: [(startMs: Int64, keys: Int64)]

    public var slaHolds: Bool {
        (silverP99Ms ?? 0) < Oracle.silverLatencySLAMicros / 1_000 && (endToEndP99Ms ?? 0) < Oracle.endToEndSLAMicros / 1_000
    }

    public static func == (a: PointResult, b: PointResult) -> Bool { a.json == b.json }
}

extension PointResult {
    /// Extracts a point's figures from a finished run and the oracle's verdicts.
    public init(index: Int, overrides: [String], run: ScenarioRun, oracle o: OracleResult) {
        let start = run.scenario.startMicros
        func offsetMs(_ t: Micros) -> Int64 { Time.floorDiv(t - start, 1_000) }
        func msOf(_ m: Int64) -> Int64 { Time.floorDiv(m, 1_000) }
        self.index = index
        self.overrides = overrides
        checksFailed = o.checks.filter { !$0.passed }.map(\.name)
        if case .object(let acc)? = o.figures["accounting"], case .int(let n)? = acc["produced"] { produced = n } else { produced = 0 }
        alertFired = o.alertFired
        silverP99Ms = o.silverLatencyP99Micros.map(msOf)
        endToEndP99Ms = o.endToEndP99Micros.map(msOf)
        recordLatencyP99Ms = o.recordLatencyP99Micros.mapValues { $0.mapValues(msOf) }.filter { !$0.value.isEmpty }
        lateDropped = o.lateDropped
        dedupStateKeys = o.dedupStateKeys
        dedupStateBytes = o.dedupStateBytes
        stateBytesPerKey = run.profile[.gold].stateBytesPerKey
        executorMemoryBytes = run.profile[.gold].executorMemoryBytes
        stateExhaustionHours = o.stateExhaustionHours
        stateExhaustedAtMs = run.pipeline.stateExhaustion.map { offsetMs($0.timeMicros) }
        var jobs: [JobName: JobResult] = [:]
        for (job, f) in o.jobs {
            let sorted = f.processingMicros.sorted()
            jobs[job] = JobResult(
                triggerMs: msOf(f.triggerMicros), batches: Int64(f.batches),
                p50Ms: percentile(sorted, 50).map(msOf), p99Ms: percentile(sorted, 99).map(msOf), maxMs: sorted.last.map(msOf),
                minHeadroomMs: f.minHeadroomAfterStartup.map(msOf), batchesBehindAfterStartup: f.behindAfterStartup,
                backlogGrowing: f.backlogGrowing, maxBatchRows: f.batchRows.max() ?? 0,
                batchSeries: (0..<f.processingMicros.count).map {
                    .init(startMs: offsetMs(f.batchStarts[$0]), processingMs: msOf(f.processingMicros[$0]), rows: f.batchRows[$0])
                })
        }
        self.jobs = jobs
        // The series come from the engine's Gold batch log, whose watermarks and
        // dedup key counts the oracle's gold_exactly_once and dedup_state checks
        // hold to its recomputation, batch by batch.
        let gold = run.pipeline.batchLog.filter { $0.job == .gold && $0.outcome == .committed }.sorted { $0.batchId < $1.batchId }
        // Before both inputs have data the watermark is 0 (the epoch): no lag to plot.
        watermarkLag = gold.compactMap { b in
            guard let after = b.watermarkAfterMs, after != 0 else { return nil }
            return (offsetMs(b.startMicros), msOf(b.startMicros - after * 1_000))
        }
        stateSeries = gold.map { (offsetMs($0.startMicros), Int64($0.stateKeys)) }
    }

    public var json: JSONValue {
        var jobsJSON: [String: JSONValue] = [:]
        for (job, j) in jobs {
            jobsJSON[job.rawValue] = .object([
                "trigger_ms": .int(j.triggerMs), "batches": .int(j.batches),
                "processing_ms": .object(["p50": .optional(j.p50Ms), "p99": .optional(j.p99Ms), "max": .optional(j.maxMs)]),
                "min_headroom_ms_after_startup": .optional(j.minHeadroomMs),
                "batches_behind_after_startup": .int(j.batchesBehindAfterStartup),
                "backlog_growing": .bool(j.backlogGrowing), "max_batch_rows": .int(j.maxBatchRows),
                "batch_series": .array(j.batchSeries.map { .array([.int($0.startMs), .int($0.processingMs), .int($0.rows)]) }),
            ])
        }
        return .object([
            "index": .int(index),
            "overrides": .array(overrides.map { .string($0) }),
            "checks_failed": .array(checksFailed.map { .string($0) }),
            "produced": .int(produced),
            "alert_fired": .bool(alertFired),
            "silver_p99_ms": .optional(silverP99Ms),
            "end_to_end_p99_ms": .optional(endToEndP99Ms),
            "record_latency_p99_ms": .object(recordLatencyP99Ms.mapValues { .object($0.mapValues { .int($0) }) }),
            "late_dropped": .int(lateDropped),
            "dedup_state": .object([
                "keys": .int(dedupStateKeys), "bytes": .int(dedupStateBytes), "bytes_per_key": .int(stateBytesPerKey),
                "executor_memory_bytes": .int(executorMemoryBytes),
                "hours_until_memory_exhausted": .optional(stateExhaustionHours),
                "exhausted_at_ms": .optional(stateExhaustedAtMs),
            ]),
            "jobs": .object(jobsJSON),
            "gold_watermark_lag_series": .array(watermarkLag.map { .array([.int($0.startMs), .int($0.lagMs)]) }),
            "dedup_state_series": .array(stateSeries.map { .array([.int($0.startMs), .int($0.keys)]) }),
        ])
    }

    init(json v: JSONValue, file: String) throws(InputError) {
        let r = JSONFields(v, file: file, context: "point")
        index = Int(try r.int("index"))
        let c = JSONFields(v, file: file, context: "point \(index)")
        overrides = try c.array("overrides").map { f throws(InputError) in try f.asString() }
        checksFailed = try c.array("checks_failed").map { f throws(InputError) in try f.asString() }
        produced = try c.int("produced")
        alertFired = try c.bool("alert_fired")
        silverP99Ms = try c.optionalInt("silver_p99_ms")
        endToEndP99Ms = try c.optionalInt("end_to_end_p99_ms")
        if case .object(let o) = c.value, o["record_latency_p99_ms"] != nil {
            for (e, layers) in try c.object("record_latency_p99_ms").members() {
                for (layer, v) in try layers.members() { recordLatencyP99Ms[e, default: [:]][layer] = try v.asInt() }
            }
        }
        lateDropped = try c.int("late_dropped")
        let d = try c.object("dedup_state")
        dedupStateKeys = try d.int("keys")
        dedupStateBytes = try d.int("bytes")
        stateBytesPerKey = try d.int("bytes_per_key")
        executorMemoryBytes = try d.int("executor_memory_bytes")
        stateExhaustionHours = try d.optionalInt("hours_until_memory_exhausted")
        stateExhaustedAtMs = try d.optionalInt("exhausted_at_ms")
        var jobs: [JobName: JobResult] = [:]
        for (name, j) in try c.object("jobs").members() {
            guard let job = JobName(rawValue: name) else { throw c.error("unknown job '\(name)'") }
            let p = try j.object("processing_ms")
            jobs[job] = JobResult(
                triggerMs: try j.int("trigger_ms"), batches: try j.int("batches"),
                p50Ms: try p.optionalInt("p50"), p99Ms: try p.optionalInt("p99"), maxMs: try p.optionalInt("max"),
                minHeadroomMs: try j.optionalInt("min_headroom_ms_after_startup"),
                batchesBehindAfterStartup: try j.int("batches_behind_after_startup"),
                backlogGrowing: try j.bool("backlog_growing"), maxBatchRows: try j.int("max_batch_rows"),
                batchSeries: try j.intRows("batch_series", width: 3).map { .init(startMs: $0[0], processingMs: $0[1], rows: $0[2]) })
        }
        self.jobs = jobs
        watermarkLag = try c.intRows("gold_watermark_lag_series", width: 2).map { ($0[0], $0[1]) }
        stateSeries = try c.intRows("dedup_state_series", width: 2).map { ($0[0], $0[1]) }
    }
}
