import Codec
import Engine
import Exchanges
import Kernel

/// The engine's metric `k2_silver_batches_behind_total{exchange}` equals the
/// batches behind recomputed from the batch log; the alert
/// `SilverBinanceProcessingBehind` (that metric for Binance > 3 for 10 minutes,
/// evaluated every minute) is evaluated from the recomputed counts, not the
/// engine's.
struct MetricsAndAlert {
    static let name = "metrics"
    static let alertName = "SilverBinanceProcessingBehind"
    static let alertThreshold: Int64 = 3
    static let alertForMicros: Micros = 10 * Time.microsPerMinute
    static let alertEvaluationMicros: Micros = Time.microsPerMinute

    private(set) var problems: [String] = []
    /// When the alert first fired; nil when it never did.
    private(set) var alertFiredMicros: Micros?
    private(set) var metricFigures: JSONValue = .null

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, jobs: [JobName: JobFigures]) {
        let p = input.pipeline
        var behindTotals: [String: JSONValue] = [:]
        for (job, e) in [(JobName.silverBinance, ExchangeName.binance), (.silverKraken, .kraken)] {
            let mine = jobs[job]?.behind ?? 0
            behindTotals[e.lowercased] = .int(mine)
            let engine = p.metrics.last { $0.name == "k2_silver_batches_behind_total" && $0.labels.contains { $0.value == e.lowercased } }
            if let engine, Int64(engine.value) != mine {
                problems.append("k2_silver_batches_behind_total{exchange=\"\(e.lowercased)\"} is \(engine.value), recomputed \(mine)")
            }
        }
        var quantiles: [String: JSONValue] = [:]
        for s in p.metrics where s.name == "k2_silver_batch_processing_seconds" {
            let labels = s.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            quantiles[labels] = .number(Self.formatSeconds(s.value))
        }
        metricFigures = .object([
            "k2_silver_batches_behind_total": .object(behindTotals),
            "k2_silver_batch_processing_seconds": .object(quantiles),
        ])

        let behindTimes = jobs[.silverBinance]?.behindTimes ?? []
        var pendingSince: Micros?
        var t = input.feedStartMicros
        while t <= p.config.endMicros {
            let count = Int64(behindTimes.filter { $0 <= t }.count)
            if count > Self.alertThreshold {
                if pendingSince == nil { pendingSince = t }
                if t - pendingSince! >= Self.alertForMicros { alertFiredMicros = t; break }
            } else { pendingSince = nil }
            t += Self.alertEvaluationMicros
        }
    }

    var alertFigures: JSONValue {
        .object([Self.alertName: .object([
            "expr": .string("k2_silver_batches_behind_total{exchange=\"binance\"} > 3"), "for": .string("10m"),
            "fired": .bool(alertFiredMicros != nil),
            "first_fired_at": alertFiredMicros.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
        ])])
    }

    /// Seconds with millisecond precision, formatted from an integer (no float printing).
    static func formatSeconds(_ v: Double) -> String {
        let millis = Int64((v * 1_000).rounded(.toNearestOrEven))
        let sign = millis < 0 ? "-" : ""
        let m = millis.magnitude
        let frac = String(m % 1_000)
        return "\(sign)\(m / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
