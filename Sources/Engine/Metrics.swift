import Codec
import Kernel

/// A value of a scraped sample, kept exact until it is written.
public enum MetricNumber: Sendable, Equatable {
    case integer(Int64)
    /// A duration, written in seconds with microsecond precision.
    case seconds(Micros)
    /// An empty summary window (the client reports NaN).
    case nan

    /// As the exposition formats write it: `12`, `41.2345`, `NaN`.
    public var text: String {
        switch self {
        case .integer(let v): return String(v)
        case .nan: return "NaN"
        case .seconds(let m):
            let sign = m < 0 ? "-" : ""
            let a = m.magnitude
            let whole = a / 1_000_000, frac = a % 1_000_000
            if frac == 0 { return "\(sign)\(whole)" }
            var f = String(frac)
            f = String(repeating: "0", count: 6 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            return "\(sign)\(whole).\(f)"
        }
    }
}

public enum MetricType: String, Sendable { case counter, gauge, summary }

/// One label set's samples at every scrape: `points[k]` is what the scrape at
/// `ScrapedMetrics.times[k]` read, nil when the series was not exported
/// (its process was down, or it did not exist yet in this process). A counter
/// or gauge point has one value; a summary point has one per quantile, then
/// `_sum`, then `_count`.
public struct MetricSeries: Sendable, Equatable {
    public var labels: [MetricLabel]
    public var points: [[MetricNumber]?]
}

public struct MetricFamily: Sendable, Equatable {
    /// The family name (a counter's samples add `_total`).
    public var name: String
    public var type: MetricType
    /// OpenMetrics unit; the name ends with it.
    public var unit: String?
    public var help: String
    /// Summary quantiles, e.g. ["0.5", "0.9", "0.99"].
    public var quantiles: [String] = []
    public var series: [MetricSeries]
}

/// What a Prometheus server scraping every job at a fixed interval would have
/// stored: the series the pipeline exports, on the virtual clock.
///
/// Process semantics (a Spark driver exporting through a Prometheus client
/// registry, updated by a query listener when each batch completes):
/// - metrics live in the job's process: a restart starts every counter, the
///   summary and its window again from zero;
/// - while a process is down its target's scrapes fail, so none of its
///   series has a sample (Prometheus marks them stale);
/// - counters labelled only by exchange or job exist from process start at
///   0; DLQ counters appear at their first row; gauges at the first batch;
/// - a scrape at `t` sees every batch that completed at or before `t`.
///
/// The summary `k2_silver_batch_processing_seconds{exchange,quantile}`
/// reproduces the Java simpleclient `Summary` with its defaults
/// `maxAgeSeconds = 600`, `ageBuckets = 5`: a ring of five buckets rotated
/// every 120 s from the summary's creation (process start), each observation
/// going into every bucket, a read answering from the current bucket, which
/// holds the observations of the last 480 to 600 s. Within that window we
/// report the exact rank-⌈q·n⌉ observation; the client's CKMS estimator
/// approximates that value within its error targets (0.5 ± 0.05, 0.9 ± 0.01,
/// 0.99 ± 0.001 in rank). An empty window reads NaN.
public struct ScrapedMetrics: Sendable, Equatable {
    public var intervalMicros: Micros
    public var times: [Micros]
    public var families: [MetricFamily]

    public static let defaultIntervalMicros: Micros = 15 * Time.microsPerSecond
    public static let summaryMaxAgeMicros: Micros = 600 * Time.microsPerSecond
    public static let summaryAgeBuckets: Int64 = 5
    public static let quantiles: [(permille: Int, label: String)] = [(500, "0.5"), (900, "0.9"), (990, "0.99")]

    public func family(_ name: String) -> MetricFamily? { families.first { $0.name == name } }

    /// The series of `family` whose labels include every pair of `labels`.
    public func series(_ family: String, _ labels: [String: String]) -> MetricSeries? {
        self.family(family)?.series.first { s in
            labels.allSatisfy { k, v in s.labels.contains(MetricLabel(name: k, value: v)) }
        }
    }

    /// Scrapes at `start + k x interval` for every such time up to the run's end.
    public init(pipeline p: Pipeline, intervalMicros: Micros = ScrapedMetrics.defaultIntervalMicros) {
        precondition(intervalMicros > 0, "scrape interval must be positive")
        self.intervalMicros = intervalMicros
        var times: [Micros] = []
        var t = p.config.startMicros
        while t <= p.config.endMicros { times.append(t); t += intervalMicros }
        self.times = times

        // DLQ rows by the Bronze row they came from, per Bronze table.
        var dlqByBronzeRow: [TableName: [Int: (String, String)]] = [:]
        for i in 0..<p.dlq.rowCount {
            let r = p.dlq.row(i)
            dlqByBronzeRow[r.sourceTable, default: [:]][r.sourceBronzeRow] = (r.errorCategory.rawValue, r.errorReason.rawValue)
        }

        var summary = MetricFamily(name: "k2_silver_batch_processing_seconds", type: .summary, unit: "seconds",
                                   help: "Silver micro-batch processing time (trigger to commit log), sliding 10-minute window",
                                   quantiles: Self.quantiles.map(\.label), series: [])
        var behind = MetricFamily(name: "k2_silver_batches_behind", type: .counter, unit: nil,
                                  help: "Silver micro-batches that took longer than their trigger interval", series: [])
        var duration = MetricFamily(name: "k2_batch_duration_seconds", type: .gauge, unit: "seconds",
                                    help: "Processing time of the job's last completed micro-batch", series: [])
        var input = MetricFamily(name: "k2_batch_input_rows", type: .counter, unit: "rows",
                                 help: "Rows read by the job's completed micro-batches", series: [])
        var late = MetricFamily(name: "k2_gold_late_dropped_rows", type: .counter, unit: "rows",
                                help: "Rows Gold dropped as later than the watermark", series: [])
        var dlq = MetricFamily(name: "k2_silver_dlq_rows", type: .counter, unit: "rows",
                               help: "Rows a Silver job wrote to the dead-letter queue, by error category and reason", series: [])
        var stateKeys = MetricFamily(name: "k2_gold_dedup_state_keys", type: .gauge, unit: "keys",
                                     help: "message_id keys in Gold's deduplication state", series: [])
        var stateBytes = MetricFamily(name: "k2_gold_dedup_state_bytes", type: .gauge, unit: "bytes",
                                      help: "Estimated size of Gold's deduplication state", series: [])

        let ring = Self.summaryMaxAgeMicros / Self.summaryAgeBuckets
        for job in JobName.allCases {
            let runs = p.processRuns.filter { $0.job == job }
            guard !runs.isEmpty else { continue }
            let batches = p.batchLog.filter { $0.job == job && $0.endMicros != nil }
            let jobLabel = MetricLabel(name: "job", value: job.rawValue)
            let isSilver = job == .silverBinance || job == .silverKraken
            let bronzeTable: TableName = job == .silverBinance ? .bronzeBinance : .bronzeKraken
            var durationPts: [[MetricNumber]?] = [], inputPts: [[MetricNumber]?] = [], latePts: [[MetricNumber]?] = []
            var behindPts: [[MetricNumber]?] = [], summaryPts: [[MetricNumber]?] = []
            var keysPts: [[MetricNumber]?] = [], bytesPts: [[MetricNumber]?] = []
            var dlqPts: [String: [[MetricNumber]?]] = [:]
            var dlqKeys: [String: (String, String)] = [:]

            // Per process run: what its registry holds.
            var run = 0, runStart: Micros = 0
            var behindN: Int64 = 0, rowsN: Int64 = 0, lateN: Int64 = 0
            var lastDuration: Micros?, lastKeys: Int64?, lastBytes: Int64?
            var obs: [(rotation: Int64, micros: Micros)] = [], sum: Micros = 0
            var dlqN: [String: Int64] = [:]
            var bi = 0
            func rotations(_ u: Micros) -> Int64 {
                u - runStart <= ring ? 0 : Time.floorDiv(u - runStart - ring + ring - 1, ring)
            }
            for (k, t) in times.enumerated() {
                guard let up = runs.last(where: { $0.isUp(at: t) }) else {
                    for key in dlqPts.keys { dlqPts[key]!.append(nil) }
                    durationPts.append(nil); inputPts.append(nil); latePts.append(nil); behindPts.append(nil)
                    summaryPts.append(nil); keysPts.append(nil); bytesPts.append(nil)
                    continue
                }
                if up.runNumber != run {
                    run = up.runNumber; runStart = up.startMicros
                    behindN = 0; rowsN = 0; lateN = 0; lastDuration = nil; lastKeys = nil; lastBytes = nil
                    obs = []; sum = 0; dlqN = [:]
                }
                while bi < batches.count && batches[bi].endMicros! <= t {
                    let b = batches[bi]; bi += 1
                    guard b.runNumber == run, b.outcome == .committed, let micros = b.processingMicros else { continue }
                    if b.behind { behindN += 1 }
                    rowsN += Int64(b.rowsIn); lateN += Int64(b.lateRows)
                    lastDuration = micros
                    lastKeys = Int64(b.stateKeys); lastBytes = b.stateBytes
                    if isSilver {
                        obs.append((rotations(b.endMicros!), micros)); sum += micros
                        if let from = b.startOffsets.first, let to = b.endOffsets.first, from < to,
                           let index = dlqByBronzeRow[bronzeTable] {
                            for row in Int(from)..<Int(to) {
                                guard let (c, r) = index[row] else { continue }
                                let key = "\(c)\u{1}\(r)"
                                dlqN[key, default: 0] += 1
                                if dlqKeys[key] == nil { dlqKeys[key] = (c, r); dlqPts[key] = Array(repeating: nil, count: k) }
                            }
                        }
                    }
                }
                for key in dlqPts.keys { dlqPts[key]!.append(dlqN[key].map { [.integer($0)] }) }
                durationPts.append(lastDuration.map { [.seconds($0)] })
                inputPts.append([.integer(rowsN)])
                latePts.append([.integer(lateN)])
                behindPts.append([.integer(behindN)])
                keysPts.append(lastKeys.map { [.integer($0)] })
                bytesPts.append(lastBytes.map { [.integer($0)] })
                if isSilver {
                    let current = rotations(t)
                    let window = obs.filter { $0.rotation >= current - (Self.summaryAgeBuckets - 1) }.map(\.micros).sorted()
                    var point: [MetricNumber] = Self.quantiles.map { q in
                        window.isEmpty ? .nan : .seconds(window[max(0, (q.permille * window.count + 999) / 1000 - 1)])
                    }
                    point.append(.seconds(sum)); point.append(.integer(Int64(obs.count)))
                    summaryPts.append(point)
                }
            }
            duration.series.append(MetricSeries(labels: [jobLabel], points: durationPts))
            input.series.append(MetricSeries(labels: [jobLabel], points: inputPts))
            if let e = job.exchange, isSilver {
                let ex = MetricLabel(name: "exchange", value: e.lowercased)
                summary.series.append(MetricSeries(labels: [ex], points: summaryPts))
                behind.series.append(MetricSeries(labels: [ex], points: behindPts))
                for key in dlqKeys.keys.sorted() {
                    let (c, r) = dlqKeys[key]!
                    dlq.series.append(MetricSeries(labels: [MetricLabel(name: "category", value: c), jobLabel,
                                                            MetricLabel(name: "reason", value: r)], points: dlqPts[key]!))
                }
            }
            if job == .gold {
                late.series.append(MetricSeries(labels: [jobLabel], points: latePts))
                stateKeys.series.append(MetricSeries(labels: [jobLabel], points: keysPts))
                stateBytes.series.append(MetricSeries(labels: [jobLabel], points: bytesPts))
            }
        }
        families = [summary, behind, duration, input, late, dlq, stateKeys, stateBytes]
        p.scrapeRewrite?(&self)
    }
}
