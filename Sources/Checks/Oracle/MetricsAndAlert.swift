import Codec
import Engine
import Exchanges
import Kernel

/// The engine's scraped `k2_silver_batches_behind_total{exchange}` equals, at
/// every scrape, the batches behind recomputed from the batch log for the
/// process that was up then (a restart starts the counter from zero; no sample
/// while the process is down). The alert `SilverBinanceProcessingBehind` is
/// evaluated from the recomputed series as Prometheus evaluates it
/// (`AlertHistory`), not from the engine's.
struct MetricsAndAlert {
    static let name = "metrics"

    private(set) var problems: [String] = []
    let alert: AlertHistory
    private(set) var metricFigures: JSONValue = .null

    var result: CheckResult { .from(Self.name, problems: problems) }
    /// When the alert first fired; nil when it never did.
    var alertFiredMicros: Micros? { alert.firstFiredMicros }

    init(_ input: OracleInput) {
        let p = input.pipeline
        let scraped = ScrapedMetrics(pipeline: p, intervalMicros: input.scrapeIntervalMicros)
        var behindLast: [String: JSONValue] = [:]
        for e in [ExchangeName.binance, .kraken] {
            let mine = AlertHistory.scrapedCounter(p, exchange: e, intervalMicros: input.scrapeIntervalMicros)
            behindLast[e.lowercased] = .optional(mine.values.last ?? nil)
            let name = "k2_silver_batches_behind_total{exchange=\"\(e.lowercased)\"}"
            guard let series = scraped.series("k2_silver_batches_behind", ["exchange": e.lowercased]) else {
                if mine.values.contains(where: { $0 != nil }) { problems.append("\(name) is not exported") }
                continue
            }
            for (k, v) in mine.values.enumerated() {
                let engine: Int64? = series.points[k].flatMap { if case .integer(let n) = $0[0] { return n } else { return nil } }
                if engine != v {
                    problems.append("\(name) at \(UTCDateTime(micros: mine.times[k]).iso8601) is \(engine.map(String.init) ?? "absent"), recomputed \(v.map(String.init) ?? "absent")")
                    break
                }
            }
        }
        var quantiles: [String: JSONValue] = [:]
        if let summary = scraped.family("k2_silver_batch_processing_seconds") {
            for s in summary.series {
                guard let last = s.points.last, let point = last else { continue }
                for (i, q) in summary.quantiles.enumerated() {
                    let labels = (s.labels + [MetricLabel(name: "quantile", value: q)]).map { "\($0.name)=\($0.value)" }
                        .joined(separator: ",")
                    if case .seconds(let m) = point[i] { quantiles[labels] = .number(Self.secondsText(micros: m)) } else { quantiles[labels] = .null }
                }
            }
        }
        metricFigures = .object([
            "k2_silver_batches_behind_total": .object(behindLast),
            "k2_silver_batch_processing_seconds": .object(quantiles),
        ])
        alert = AlertHistory(p, intervalMicros: input.scrapeIntervalMicros)
    }

    var alertFigures: JSONValue {
        .object([AlertHistory.name: .object([
            "expr": .string(AlertHistory.expr), "for": .string("10m"),
            "fired": .bool(alertFiredMicros != nil),
            "first_fired_at": alertFiredMicros.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
        ])])
    }

    /// `41.639`: seconds rounded to the millisecond (half to even), from integer micros.
    static func secondsText(micros: Int64) -> String {
        var q = Time.floorDiv(micros, 1_000)
        let r = micros - q * 1_000
        if r > 500 || (r == 500 && q % 2 != 0) { q += 1 }
        let sign = q < 0 ? "-" : ""
        let a = q.magnitude
        let frac = String(a % 1_000)
        return "\(sign)\(a / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
