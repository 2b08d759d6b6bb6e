import Engine
import Foundation
import Kernel

/// The run's series and its alert in Prometheus's own formats: an OpenMetrics
/// file that `promtool tsdb create-blocks-from openmetrics` imports, the
/// design record's rule file, and a `promtool test rules` file whose expected
/// alerts are the harness's verdict (docs/PROMETHEUS.md).
public enum PrometheusFiles {
    /// The design record's alert rule, verbatim, in a rule group. The
    /// repository's `monitoring/alerts.yml` is this text (a test holds them equal).
    public static let rules = """
        # The SilverBinanceProcessingBehind rule of the pipeline's design record
        # (decision #013), verbatim, in a Prometheus rule group.
        groups:
          - name: k2-silver
            rules:
              - alert: SilverBinanceProcessingBehind
                expr: k2_silver_batches_behind_total{exchange="binance"} > 3
                for: 10m
                labels:
                  severity: warning
                annotations:
                  summary: "Silver Binance falling behind 60s trigger"
                  description: "May need further optimization or resource scaling"

        """

    /// `1768899600.015`: seconds since the epoch, millisecond precision.
    static func timestamp(_ micros: Micros) -> String {
        let ms = Time.floorDiv(micros, 1_000)
        let frac = String(ms - Time.floorDiv(ms, 1_000) * 1_000)
        return "\(Time.floorDiv(ms, 1_000)).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }

    static func escape(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func labelText(_ labels: [MetricLabel]) -> String {
        labels.isEmpty ? "" : "{" + labels.map { "\($0.name)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
    }

    /// OpenMetrics text: each family's TYPE, UNIT and HELP, then its series
    /// one after another, every point with its scrape's timestamp; `# EOF` last.
    public static func openMetrics(_ m: ScrapedMetrics) -> String {
        var out = ""
        for f in m.families {
            out += "# TYPE \(f.name) \(f.type.rawValue)\n"
            if let u = f.unit { out += "# UNIT \(f.name) \(u)\n" }
            out += "# HELP \(f.name) \(f.help)\n"
            for s in f.series {
                for (k, point) in s.points.enumerated() {
                    guard let point else { continue }
                    let ts = timestamp(m.times[k])
                    switch f.type {
                    case .counter:
                        out += "\(f.name)_total\(labelText(s.labels)) \(point[0].text) \(ts)\n"
                    case .gauge:
                        out += "\(f.name)\(labelText(s.labels)) \(point[0].text) \(ts)\n"
                    case .summary:
                        for (i, q) in f.quantiles.enumerated() {
                            let labels = (s.labels + [MetricLabel(name: "quantile", value: q)]).sorted()
                            out += "\(f.name)\(labelText(labels)) \(point[i].text) \(ts)\n"
                        }
                        out += "\(f.name)_sum\(labelText(s.labels)) \(point[f.quantiles.count].text) \(ts)\n"
                        out += "\(f.name)_count\(labelText(s.labels)) \(point[f.quantiles.count + 1].text) \(ts)\n"
                    }
                }
            }
        }
        return out + "# EOF\n"
    }

    /// `15s`, `1m30s`, `2h`: a Prometheus duration.
    static func duration(_ micros: Micros) -> String {
        if micros == 0 { return "0s" }
        var ms = micros / 1_000
        var out = ""
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1_000), ("ms", 1)] where ms >= size {
            out += "\(ms / size)\(unit)"; ms %= size
        }
        return out
    }

    /// A `promtool test rules` file: the alert's input series as the run's
    /// scrapes read them (`_` before the series exists, `stale` while its
    /// process is down), and at every evaluation of the run the alerts the
    /// harness says are firing. Time 0 is the start of the run.
    public static func ruleTest(_ alert: AlertHistory, scrapeIntervalMicros: Micros, source: String,
                                ruleFile: String = "alerts.yml") -> String {
        let start = alert.scrapeTimes.first ?? 0
        var values: [String] = []
        var seen = false
        for v in alert.counter {
            if let v { values.append(String(v)); seen = true } else { values.append(seen ? "stale" : "_") }
        }
        var out = """
            # The harness's verdict on \(AlertHistory.name) for \(source),
            # checked by Prometheus itself: `promtool test rules` on this file.
            # Input: k2_silver_batches_behind_total{exchange="binance"} at every scrape
            # (every \(duration(scrapeIntervalMicros)) from the start of the run, time 0); expected: the
            # alerts the harness finds firing at every evaluation.
            rule_files:
              - \(ruleFile)
            evaluation_interval: \(duration(AlertHistory.evaluationMicros))
            tests:
              - interval: \(duration(scrapeIntervalMicros))
                input_series:
                  - series: 'k2_silver_batches_behind_total{exchange="binance"}'
                    values: '\(values.joined(separator: " "))'
                alert_rule_test:

            """
        for (t, firing) in zip(alert.evaluationTimes, alert.firing) {
            out += "      - eval_time: \(duration(t - start))\n        alertname: \(AlertHistory.name)\n"
            if firing {
                out += "        exp_alerts:\n          - exp_labels:\n"
                for (k, v) in AlertHistory.labels { out += "              \(k): \(v)\n" }
                out += "            exp_annotations:\n"
                for (k, v) in AlertHistory.annotations { out += "              \(k): \"\(v)\"\n" }
            } else {
                out += "        exp_alerts: []\n"
            }
        }
        return out
    }

    /// Writes `dir/metrics.om`, `dir/alerts.yml` and `dir/alerts.test.yml`.
    public static func write(pipeline p: Pipeline, alert: AlertHistory, scrapeIntervalMicros: Micros, source: String,
                             to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let metrics = ScrapedMetrics(pipeline: p, intervalMicros: scrapeIntervalMicros)
        try Data(openMetrics(metrics).utf8).write(to: URL(fileURLWithPath: dir + "/metrics.om"))
        try Data(rules.utf8).write(to: URL(fileURLWithPath: dir + "/alerts.yml"))
        try Data(ruleTest(alert, scrapeIntervalMicros: scrapeIntervalMicros, source: source).utf8)
            .write(to: URL(fileURLWithPath: dir + "/alerts.test.yml"))
    }
}
