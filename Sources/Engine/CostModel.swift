import Kernel

/// A seeded distribution of a table-commit latency: log-normal with a median
/// and a shape. (Producer-to-broker delivery latency is Broker's
/// `LatencyDistribution`.)
///
/// `sigma` is the standard deviation of the underlying normal; 0 makes the
/// latency constant (the median). Draws are quantized to whole microseconds
/// (see `RandomStream.logNormalMicros`), and clamped to `maxMicros` when set,
/// so a long tail can never produce an absurd value.
public struct CommitLatency: Sendable, Equatable {
    public var medianMicros: Micros
    public var sigma: Double
    public var maxMicros: Micros?

    public init(medianMicros: Micros, sigma: Double = 0, maxMicros: Micros? = nil) {
        self.medianMicros = medianMicros; self.sigma = sigma; self.maxMicros = maxMicros
    }

    public static func constant(_ micros: Micros) -> CommitLatency {
        CommitLatency(medianMicros: micros, sigma: 0)
    }

    func draw(_ rng: inout RandomStream) -> Micros {
        let v = sigma == 0 ? medianMicros : rng.logNormalMicros(median: medianMicros, sigma: sigma)
        if let cap = maxMicros { return min(v, cap) }
        return v
    }
}

/// The cost model of one job (docs/REFERENCE.md §5): how much virtual time a batch takes.
///
/// A batch's processing time is
///
///     (first batch since start or restart ? startupMicros : 0)
///     + batchOverheadMicros
///     + ((decode + validate) x rows in + write x rows out) / executorCores
///     + ioRead x rows in + ioWrite x rows out        (not divided by cores)
///     + statePerMillionKeys x keys in state / 1e6     (not divided by cores)
///
/// followed by one commit per sink, each `commitLatency` (drawn from the
/// job's seeded stream). Per-record costs are in nanoseconds so that small
/// costs stay exact integers. Scenario overrides (`CostOverride`) scale and
/// extend these over windows of virtual time.
public struct JobProfile: Sendable, Equatable {
    /// Charged once, to the first batch that runs after the query starts or
    /// restarts (JVM, session, catalog and executor warm-up, first codegen).
    public var startupMicros: Micros
    /// Fixed cost of every batch, including a no-data batch: planning, task
    /// scheduling, reading table metadata.
    public var batchOverheadMicros: Micros
    public var decodeNanosPerRecord: Int64
    public var validateNanosPerRecord: Int64
    /// Charged per row written (all sinks together).
    public var writeNanosPerRecord: Int64
    /// Per-record work that more cores do not speed up (I/O-bound: object
    /// store reads and writes, small-file commits): charged in full whatever
    /// `executorCores` is.
    public var ioReadNanosPerRecord: Int64 = 0
    public var ioWriteNanosPerRecord: Int64 = 0
    /// Per batch, per million keys in the state store when the batch starts
    /// (the state-size effect of a stateful query: loading, snapshotting).
    public var statePerMillionKeysMicros: Int64 = 0
    /// CPU per-record work (decode, validate, write) is divided by this (>= 1).
    public var executorCores: Int
    /// Latency of one table commit (one attempt), per sink.
    public var commitLatency: CommitLatency
    /// Memory one dedup key holds in the state store (key row, value row,
    /// map entry and object headers). Zero for stateless jobs.
    public var stateBytesPerKey: Int64
    public var executorMemoryBytes: Int64
    /// How long the supervisor takes to restart the job after it failed
    /// (commit retries exhausted).
    public var restartDelayMicros: Micros

    public init(startupMicros: Micros, batchOverheadMicros: Micros, decodeNanosPerRecord: Int64 = 0,
                validateNanosPerRecord: Int64 = 0, writeNanosPerRecord: Int64 = 0, executorCores: Int = 1,
                commitLatency: CommitLatency, stateBytesPerKey: Int64 = 0,
                executorMemoryBytes: Int64 = 1 << 30, restartDelayMicros: Micros = 30 * Time.microsPerSecond) {
        self.startupMicros = startupMicros; self.batchOverheadMicros = batchOverheadMicros
        self.decodeNanosPerRecord = decodeNanosPerRecord; self.validateNanosPerRecord = validateNanosPerRecord
        self.writeNanosPerRecord = writeNanosPerRecord; self.executorCores = executorCores
        self.commitLatency = commitLatency; self.stateBytesPerKey = stateBytesPerKey
        self.executorMemoryBytes = executorMemoryBytes; self.restartDelayMicros = restartDelayMicros
    }

    /// A profile where everything is instant: for tests of pure semantics.
    public static let free = JobProfile(startupMicros: 0, batchOverheadMicros: 0, commitLatency: .constant(0),
                                        restartDelayMicros: 0)
}

/// A named set of job profiles (`scenarios/profiles/<name>.yaml`).
public struct CostProfile: Sendable, Equatable {
    public var name: String
    public var jobs: [JobName: JobProfile]

    public init(name: String, jobs: [JobName: JobProfile]) {
        precondition(JobName.allCases.allSatisfy { jobs[$0] != nil }, "a cost profile needs all five jobs")
        self.name = name; self.jobs = jobs
    }

    /// A DLQ query of `two_queries` runs in its Silver job's application: its profile.
    public subscript(job: JobName) -> JobProfile {
        get { jobs[job.application]! }
        set { jobs[job.application] = newValue }
    }

    /// Every job free: batches take no virtual time. For semantic tests.
    public static let free = CostProfile(name: "free", jobs: Dictionary(uniqueKeysWithValues:
        JobName.allCases.map { ($0, JobProfile.free) }))
}

/// A scenario fault or what-if change that applies during a window of virtual
/// time, [fromMicros, untilMicros), to some jobs (all when `jobs` is empty)
/// and, for its commit effects, to some tables.
///
/// With `tables` empty, the override changes the batches and the commits of
/// the selected jobs. With `tables` set (a scenario's `slow_commits` or
/// `commit_failures` on a table), it changes only commits to those tables,
/// and its batch fields are ignored.
///
/// Batch costs use the overrides active at the batch's start; a commit attempt
/// uses those active when the attempt starts. Overlapping overrides combine:
/// factors multiply, extra latencies add, and the largest failure
/// probability wins.
public struct CostOverride: Sendable, Equatable {
    public var fromMicros: Micros
    public var untilMicros: Micros
    public var jobs: [JobName]
    public var tables: [TableName]
    /// Multiplies every commit latency draw (slow commits).
    public var commitLatencyFactor: Ratio
    public var extraCommitLatencyMicros: Micros
    /// Multiplies per-record work (a traffic-independent slowdown).
    public var perRecordFactor: Ratio
    /// Added to every batch (a latency spike).
    public var extraBatchMicros: Micros
    /// Probability that one commit attempt fails.
    public var commitFailureProbability: Ratio

    public init(fromMicros: Micros, untilMicros: Micros, jobs: [JobName] = [], tables: [TableName] = [],
                commitLatencyFactor: Ratio = Ratio(1, 1), extraCommitLatencyMicros: Micros = 0,
                perRecordFactor: Ratio = Ratio(1, 1), extraBatchMicros: Micros = 0,
                commitFailureProbability: Ratio = .never) {
        self.fromMicros = fromMicros; self.untilMicros = untilMicros; self.jobs = jobs; self.tables = tables
        self.commitLatencyFactor = commitLatencyFactor; self.extraCommitLatencyMicros = extraCommitLatencyMicros
        self.perRecordFactor = perRecordFactor; self.extraBatchMicros = extraBatchMicros
        self.commitFailureProbability = commitFailureProbability
    }

    /// `table` nil: a batch cost; else a commit to that table.
    func applies(to job: JobName, table: TableName?, at t: Micros) -> Bool {
        guard t >= fromMicros && t < untilMicros && (jobs.isEmpty || jobs.contains(job)) else { return false }
        guard let table else { return tables.isEmpty }
        return tables.isEmpty || tables.contains(table)
    }
}

/// The combined effect of the overrides active for one job at one time.
struct ActiveCost {
    var commitFactor = Ratio(1, 1)
    var extraCommitMicros: Micros = 0
    var perRecordFactor = Ratio(1, 1)
    var extraBatchMicros: Micros = 0
    var failureProbability = Ratio.never

    init(_ overrides: [CostOverride], job: JobName, table: TableName?, at t: Micros) {
        for o in overrides where o.applies(to: job, table: table, at: t) {
            commitFactor = ActiveCost.multiply(commitFactor, o.commitLatencyFactor)
            extraCommitMicros += o.extraCommitLatencyMicros
            perRecordFactor = ActiveCost.multiply(perRecordFactor, o.perRecordFactor)
            extraBatchMicros += o.extraBatchMicros
            let p = o.commitFailureProbability
            // p > current  <=>  p.n * cur.d > cur.n * p.d (exact, in 128 bits)
            let lhs = p.numerator.multipliedFullWidth(by: failureProbability.denominator)
            let rhs = failureProbability.numerator.multipliedFullWidth(by: p.denominator)
            if lhs.high > rhs.high || (lhs.high == rhs.high && lhs.low > rhs.low) { failureProbability = p }
        }
    }

    static func multiply(_ a: Ratio, _ b: Ratio) -> Ratio {
        let n = a.numerator.multipliedReportingOverflow(by: b.numerator)
        let d = a.denominator.multipliedReportingOverflow(by: b.denominator)
        precondition(!n.overflow && !d.overflow, "cost override factors overflow")
        return Ratio(n.partialValue, d.partialValue)
    }

    static func scale(_ v: Int64, by r: Ratio) -> Int64 {
        if r.numerator == r.denominator { return v }
        let p = UInt64(max(0, v)).multipliedFullWidth(by: r.numerator)
        // A quotient beyond 64 bits would trap in dividingFullWidth: saturate.
        guard p.high < r.denominator else { return Int64.max }
        let (q, _) = r.denominator.dividingFullWidth(p)
        return Int64(clamping: q)
    }
}

extension JobProfile {
    /// The processing part of a batch (before its commits), exact in integers.
    func processingMicros(rowsIn: Int64, rowsOut: Int64, stateKeys: Int64 = 0, firstBatch: Bool,
                          cost: ActiveCost) -> Micros {
        // Profile costs are bounded at parse time (<= 1 s per record, <= 1 h
        // otherwise), so these stay in range for any batch below ~2 billion
        // rows; beyond, they saturate instead of trapping.
        func mulAdd(_ a: Int64, _ x: Int64, _ b: Int64, _ y: Int64) -> Int64 {
            let (p, o1) = a.multipliedReportingOverflow(by: x), (q, o2) = b.multipliedReportingOverflow(by: y)
            let (r, o3) = p.addingReportingOverflow(q)
            return o1 || o2 || o3 ? Int64.max : r
        }
        let perRecordNanos = mulAdd(decodeNanosPerRecord + validateNanosPerRecord, rowsIn, writeNanosPerRecord, rowsOut)
        let scaled = ActiveCost.scale(perRecordNanos, by: cost.perRecordFactor)
        let ioNanos = ActiveCost.scale(mulAdd(ioReadNanosPerRecord, rowsIn, ioWriteNanosPerRecord, rowsOut),
                                       by: cost.perRecordFactor)
        let (sum, o0) = (scaled / Int64(max(1, executorCores))).addingReportingOverflow(ioNanos)
        let work = (o0 ? Int64.max : sum) / 1_000
        let state = mulAdd(statePerMillionKeysMicros, stateKeys, 0, 0) / 1_000_000
        let (total, o4) = ((firstBatch ? startupMicros : 0) + batchOverheadMicros + cost.extraBatchMicros)
            .addingReportingOverflow(work &+ state)
        return o4 || work > Micros.max / 4 || state > Micros.max / 4 ? Micros.max / 4 : total
    }

    func commitMicros(_ rng: inout RandomStream, cost: ActiveCost) -> Micros {
        ActiveCost.scale(commitLatency.draw(&rng), by: cost.commitFactor) + cost.extraCommitMicros
    }
}
