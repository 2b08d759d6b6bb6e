import Codec
import Engine
import Kernel

/// The design record's alert, verbatim:
///
///     alert: SilverBinanceProcessingBehind
///     expr: k2_silver_batches_behind_total{exchange="binance"} > 3
///     for: 10m
///
/// evaluated as Prometheus evaluates it, over what a server scraping the job
/// would hold: `k2_silver_batches_behind_total` recomputed from the batch log
/// (elapsed > trigger, strictly) per process run, so a restart starts the
/// counter from zero; no sample while the process is down (a failed scrape
/// marks the series stale). At each evaluation time `t` (every minute from the
/// start of the run) the expression sees the newest scrape at or before `t`
/// within the 5-minute lookback; a stale or missing sample makes it empty.
/// The alert is pending from the first evaluation where the expression holds,
/// fires once it has held for 10 minutes of evaluations, and is reset by any
/// evaluation where it does not hold.
public struct AlertHistory: Sendable, Equatable {
    public static let name = "SilverBinanceProcessingBehind"
    public static let expr = "k2_silver_batches_behind_total{exchange=\"binance\"} > 3"
    public static let threshold: Int64 = 3
    public static let forMicros: Micros = 10 * Time.microsPerMinute
    public static let evaluationMicros: Micros = Time.microsPerMinute
    public static let lookbackMicros: Micros = 5 * Time.microsPerMinute
    public static let labels: [(String, String)] = [("exchange", "binance"), ("severity", "warning")]
    public static let annotations: [(String, String)] = [
        ("description", "May need further optimization or resource scaling"),
        ("summary", "Silver Binance falling behind 60s trigger"),
    ]

    public var scrapeIntervalMicros: Micros
    /// Scrape times, and the counter each read (nil: no sample).
    public var scrapeTimes: [Micros]
    public var counter: [Int64?]
    /// Evaluation times and whether the alert was firing at each.
    public var evaluationTimes: [Micros]
    public var firing: [Bool]

    public var firstFiredMicros: Micros? { zip(evaluationTimes, firing).first { $0.1 }?.0 }

    /// The counter of `exchange`'s Silver job as scraped every `intervalMicros`.
    public static func scrapedCounter(_ p: Pipeline, exchange: ExchangeName, intervalMicros: Micros) -> (times: [Micros], values: [Int64?]) {
        let job: JobName = exchange == .binance ? .silverBinance : .silverKraken
        let runs = p.processRuns.filter { $0.job == job }
        // Behind batches recomputed from start and end: elapsed ms > trigger ms.
        let behindEnds: [(run: Int, end: Micros)] = p.batchLog.compactMap { b in
            guard b.job == job, b.outcome == .committed, let end = b.endMicros else { return nil }
            let elapsedMs = Time.floorDiv(end, 1_000) - Time.floorDiv(b.startMicros, 1_000)
            return elapsedMs > b.triggerMicros / 1_000 ? (b.runNumber, end) : nil
        }
        var times: [Micros] = [], values: [Int64?] = []
        var t = p.config.startMicros
        while t <= p.config.endMicros {
            times.append(t)
            if let run = runs.last(where: { $0.isUp(at: t) }) {
                values.append(Int64(behindEnds.filter { $0.run == run.runNumber && $0.end <= t }.count))
            } else {
                values.append(nil)
            }
            t += intervalMicros
        }
        return (times, values)
    }

    public init(_ p: Pipeline, intervalMicros: Micros) {
        let (times, values) = Self.scrapedCounter(p, exchange: .binance, intervalMicros: intervalMicros)
        self.init(scrapeTimes: times, counter: values, intervalMicros: intervalMicros,
                  startMicros: p.config.startMicros, endMicros: p.config.endMicros)
    }

    /// Evaluates the rule over given scrapes, every minute from `startMicros` to `endMicros`.
    public init(scrapeTimes: [Micros], counter: [Int64?], intervalMicros: Micros, startMicros: Micros, endMicros: Micros) {
        precondition(scrapeTimes.count == counter.count, "one value per scrape")
        scrapeIntervalMicros = intervalMicros
        self.scrapeTimes = scrapeTimes; self.counter = counter
        evaluationTimes = []; firing = []
        var activeAt: Micros?
        var t = startMicros
        var s = -1  // newest scrape at or before t
        while t <= endMicros {
            while s + 1 < scrapeTimes.count && scrapeTimes[s + 1] <= t { s += 1 }
            var holds = false
            if s >= 0, t - scrapeTimes[s] < Self.lookbackMicros, let v = counter[s] {
                holds = v > Self.threshold
            }
            if holds {
                if activeAt == nil { activeAt = t }
            } else {
                activeAt = nil
            }
            evaluationTimes.append(t)
            firing.append(activeAt.map { t - $0 >= Self.forMicros } ?? false)
            t += Self.evaluationMicros
        }
    }
}
