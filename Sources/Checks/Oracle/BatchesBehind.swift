import Engine
import Kernel

/// Per-job timing figures, recomputed from the batch log's start and end times.
public struct JobFigures: Sendable {
    public var triggerMicros: Micros
    public var batches: Int = 0
    public var attempts: Int = 0
    public var processingMicros: [Int64] = []  // finished attempts, in order
    public var batchStarts: [Micros] = []
    public var batchRows: [Int64] = []
    public var behind: Int64 = 0
    /// Batches behind after each run's first (start-up) batch.
    public var behindAfterStartup: Int64 = 0
    public var minHeadroomAfterStartup: Int64?
    public var maxHeadroomAfterStartup: Int64?
    public var firstBatchMicros: Int64?
    public var backlogGrowing = false
    public var behindTimes: [Micros] = []
    /// Rows per batch in the steady state: after each run's start-up and
    /// catch-up batches, before the feeds stop.
    public var steadyRows: [Int64] = []
    /// (rows, processing time) of every finished batch after start-up, for the work-per-row fit.
    public var fitRows: [Int64] = []
    public var fitMicros: [Int64] = []
    public var steadyBehind: Int64 = 0
}

/// "Behind" is Spark's ProcessingTimeExecutor's: a finished batch whose
/// elapsed time exceeds the trigger interval, strictly. Recomputed from every batch's start
/// and end, the engine's `behind` flag must agree. Its by-product is each job's
/// timing figures (processing times, headroom, batches behind, backlog trend).
struct BatchesBehind {
    static let name = "batches_behind_recomputed"
    private(set) var problems: [String] = []
    private(set) var jobs: [JobName: JobFigures] = [:]

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, _ tables: ExchangeTables) {
        let p = input.pipeline
        for job in JobName.everyQuery {  // the DLQ queries only when two_queries configured them
            let records = p.batchLog.filter { $0.job == job }
            guard let jc = p.config.jobs.first(where: { $0.job == job }) else { continue }
            var f = JobFigures(triggerMicros: jc.triggerMicros)
            var runsSeen = Set<Int>()
            var batchesInRun: [Int: Int] = [:]
            for b in records {
                f.attempts += 1
                if b.outcome == .committed { f.batches += 1 }
                guard let end = b.endMicros else { continue }
                let elapsed = end - b.startMicros
                f.processingMicros.append(elapsed)
                f.batchStarts.append(b.startMicros)
                f.batchRows.append(Int64(b.rowsIn))
                let isStartup = runsSeen.insert(b.runNumber).inserted
                batchesInRun[b.runNumber, default: 0] += 1
                // The batch after start-up works off the backlog the start-up built.
                let isCatchUp = batchesInRun[b.runNumber] == 2
                if isStartup && f.firstBatchMicros == nil { f.firstBatchMicros = elapsed }
                // Only a batch that finished can fall behind: ProcessingTimeExecutor
                // measures elapsed time after the trigger handler returns, and a
                // killed or failed batch never returns to it.
                let behind = elapsed > jc.triggerMicros && b.outcome == .committed
                if behind != b.behind {
                    problems.append("\(job.rawValue) batch \(b.batchId): took \(millis(fromMicros: elapsed)) ms of a \(millis(fromMicros: jc.triggerMicros)) ms trigger, engine says behind=\(b.behind)")
                }
                if behind { f.behind += 1; f.behindTimes.append(end); if !isStartup { f.behindAfterStartup += 1 } }
                if !isStartup && !b.isNoDataBatch { f.fitRows.append(Int64(b.rowsIn)); f.fitMicros.append(elapsed) }
                // The headroom band is the feed's steady state: not start-up, not
                // the drain after the feeds stop (whose batches are small by construction).
                if !isStartup && !isCatchUp && !b.isNoDataBatch && b.startMicros < input.feedEndMicros {
                    f.steadyRows.append(Int64(b.rowsIn))
                    if behind { f.steadyBehind += 1 }
                    let headroom = jc.triggerMicros - elapsed
                    f.minHeadroomAfterStartup = min(f.minHeadroomAfterStartup ?? headroom, headroom)
                    f.maxHeadroomAfterStartup = max(f.maxHeadroomAfterStartup ?? headroom, headroom)
                }
            }
            // R: the rate messages arrived on the topics upstream of the job over
            // the feed (not what it managed to read).
            let upstream = job.exchange.map { [$0] } ?? tables.exchanges
            let arrived = upstream.reduce(Int64(0)) { sum, e in
                sum + (input.cluster.topic(e.topic)?.partitions.reduce(Int64(0)) { $0 + Int64($1.recordCount) } ?? 0)
            }
            f.backlogGrowing = BacklogTrend.growing(f, rowsPerSecond:
                Double(arrived) * 1e6 / Double(max(1, input.feedEndMicros - input.feedStartMicros)))
            jobs[job] = f
        }
    }
}

/// Does a job's backlog keep growing? A figure, not a promise (`backlog_growing`
/// in each job's summary).
///
/// A job that overruns its trigger starts its next batch at once and reads what
/// arrived meanwhile: rows' = R x D, with D = a + c x rows its batch time. So
/// batch sizes follow rows' = R a + (R c) rows, which settles (at a longer
/// cadence) when R c < 1 and grows without bound when R c >= 1. c, seconds of
/// work per row, is fitted by least squares on the job's measured batches
/// (after start-up, no-data batches aside); R is the arrival rate. Only a job
/// behind on most steady batches can be growing.
enum BacklogTrend {
    static func growing(_ f: JobFigures, rowsPerSecond: Double) -> Bool {
        f.steadyBehind * 2 > Int64(f.steadyRows.count) && rowsOutpaceWork(f.fitRows, f.fitMicros, rowsPerSecond: rowsPerSecond)
    }

    /// True when the fitted work per row times the arrival rate is at least 1.
    /// Needs a spread of batch sizes.
    static func rowsOutpaceWork(_ rows: [Int64], _ micros: [Int64], rowsPerSecond: Double) -> Bool {
        let n = Double(rows.count)
        guard rows.count >= 3 else { return false }
        let mx = Double(rows.reduce(0, +)) / n, my = Double(micros.reduce(0, +)) / n
        var sxy = 0.0, sxx = 0.0
        for (x, y) in zip(rows, micros) {
            sxy += (Double(x) - mx) * (Double(y) - my)
            sxx += (Double(x) - mx) * (Double(x) - mx)
        }
        guard sxx > 0 else { return false }
        let secondsPerRow = sxy / sxx / 1e6
        return secondsPerRow * rowsPerSecond >= 1
    }
}
