import Foundation
import Testing
import Kernel
import Engine
import Scenarios
@testable import Checks

/// The OpenMetrics export, the rule file and the promtool rule tests (their
/// run by the real promtool is scripts/promtool-check.sh, in CI).
@Suite struct PrometheusFilesTests {
    static let minute = Time.microsPerMinute
    static let interval = 15 * Time.microsPerSecond

    /// A few minutes of light traffic, bad payloads, and Silver Binance killed
    /// and restarted: counters with labels, a reset, a gap.
    static let yaml = """
    name: small-restart
    description: Light traffic, DLQ payloads, a Silver Binance restart.
    seed: 4243
    duration: 8m
    drain: 4m
    exchanges:
      binance:
        rate_multiplier: 0.05
    jobs:
      silver_binance:
        trigger: 30s
    faults:
      - kind: malformed
        exchange: binance
        at: 1m
        for: 2m
        reasons: [AVRO_DECODE_ERROR, INVALID_PRICE]
        count: 2
      - kind: crash
        job: silver_binance
        at: 5m
        point: before_offset_log
        restart_after: 1m
    """

    static func outcome() throws -> ScenarioOutcome {
        let s = try ScenarioParser.parse(yaml, file: "small-restart.yaml")
        let run = try ScenarioRunner.run(s, profilesDirectory: ChecksCanFailTests.root + "/scenarios/profiles")
        return ScenarioEvaluator.evaluate(run)
    }

    @Test func theRepositoryRuleFileIsTheOneTheHarnessWrites() throws {
        let file = try String(contentsOfFile: ChecksCanFailTests.root + "/monitoring/alerts.yml", encoding: .utf8)
        #expect(file == PrometheusFiles.rules)
        #expect(file.contains("expr: k2_silver_batches_behind_total{exchange=\"binance\"} > 3\n        for: 10m"))
    }

    @Test func countersStartFromZeroInARestartedProcessAndHaveNoSampleWhileItIsDown() throws {
        let o = try Self.outcome()
        let p = o.pipeline
        let runs = p.processRuns.filter { $0.job == .silverBinance }
        #expect(runs.count == 2)
        let m = ScrapedMetrics(pipeline: p)
        let rows = try #require(m.series("k2_batch_input_rows", ["job": "silver_binance"]))
        let count = try #require(m.series("k2_silver_batch_processing_seconds", ["exchange": "binance"]))
        let down = runs[0].endMicros!, up = runs[1].startMicros
        var sawDown = false, sawRestart = false
        for (k, t) in m.times.enumerated() {
            if t >= down && t < up {
                #expect(rows.points[k] == nil && count.points[k] == nil, "a sample at \(t) while the process is down")
                sawDown = true
            }
            if t == m.times.first(where: { $0 >= up }) {
                // The first scrape of the new process: nothing completed yet in it.
                #expect(rows.points[k] == [.integer(0)] || p.batchLog.contains { $0.job == .silverBinance && $0.runNumber == 2 && $0.endMicros! <= t })
                #expect(count.points[k]?.last == .integer(0) || p.batchLog.contains { $0.job == .silverBinance && $0.runNumber == 2 && $0.endMicros! <= t })
                sawRestart = true
            }
        }
        #expect(sawDown && sawRestart)
        // The last value counts the second process's batches only.
        let secondRows = p.batchLog.filter { $0.job == .silverBinance && $0.runNumber == 2 && $0.outcome == .committed }
            .reduce(0) { $0 + Int64($1.rowsIn) }
        #expect(rows.points.last! == [.integer(secondRows)])
        let allRows = p.batchLog.filter { $0.job == .silverBinance && $0.outcome == .committed }.reduce(0) { $0 + Int64($1.rowsIn) }
        #expect(secondRows < allRows)
    }

    @Test func dlqCountersCarryCategoryAndReasonAndCountTheDLQTable() throws {
        let o = try Self.outcome()
        let m = ScrapedMetrics(pipeline: o.pipeline)
        let dlq = try #require(m.family("k2_silver_dlq_rows"))
        let reasons = Set(dlq.series.compactMap { $0.labels.first { $0.name == "reason" }?.value })
        #expect(reasons.isSuperset(of: ["AVRO_DECODE_ERROR", "INVALID_PRICE"]), "\(reasons)")
        for s in dlq.series {
            #expect(s.labels.map(\.name) == ["category", "job", "reason"])
        }
    }

    @Test func theOpenMetricsTextIsWellFormed() throws {
        let o = try Self.outcome()
        let text = PrometheusFiles.openMetrics(ScrapedMetrics(pipeline: o.pipeline))
        #expect(text.hasSuffix("\n# EOF\n"))
        var family = "", lastTime: [String: String] = [:]
        var families: [String] = []
        for line in text.split(separator: "\n").dropLast() {
            if line.hasPrefix("# TYPE ") {
                family = String(line.split(separator: " ")[2])
                #expect(!families.contains(family), "family \(family) interleaved")
                families.append(family)
                continue
            }
            if line.hasPrefix("# UNIT ") {
                let parts = line.split(separator: " ")
                #expect(parts[2].hasSuffix("_" + parts[3]), "\(line)")
                continue
            }
            if line.hasPrefix("#") { continue }
            #expect(line.hasPrefix(family), "\(line) outside its family \(family)")
            let parts = line.split(separator: " ")
            #expect(parts.count == 3, "\(line)")
            // Timestamps never go back within a series.
            let key = String(parts[0])
            if let prev = lastTime[key] { #expect(Double(prev)! < Double(parts[2])!, "\(line)") }
            lastTime[key] = String(parts[2])
        }
        #expect(families == ["k2_silver_batch_processing_seconds", "k2_silver_batches_behind", "k2_batch_duration_seconds",
                             "k2_batch_input_rows", "k2_gold_late_dropped_rows", "k2_silver_dlq_rows",
                             "k2_gold_dedup_state_keys", "k2_gold_dedup_state_bytes"])
        #expect(text.contains("\nk2_silver_batches_behind_total{exchange=\"binance\"} 0 "))
        #expect(text.contains("{exchange=\"binance\",quantile=\"0.99\"}"))
    }

    @Test func theRuleTestWritesAbsentAndStaleSamplesAndTheVerdictAtEveryMinute() throws {
        let o = try Self.outcome()
        let alert = try #require(o.oracle.alert)
        let test = PrometheusFiles.ruleTest(alert, scrapeIntervalMicros: Self.interval, source: "small-restart")
        #expect(test.contains(" stale "))
        let evals = test.components(separatedBy: "- eval_time: ").count - 1
        #expect(evals == alert.evaluationTimes.count)
        #expect(test.contains("- eval_time: 0s\n"))
        #expect(test.contains("- eval_time: 1m\n"))
    }

    // MARK: Prometheus's evaluation semantics

    static func evaluate(_ values: [Int64?], minutes: Int64) -> AlertHistory {
        let times = (0..<Int64(values.count)).map { $0 * interval }
        return AlertHistory(scrapeTimes: times, counter: values, intervalMicros: interval, startMicros: 0,
                            endMicros: minutes * minute)
    }

    @Test func theAlertFiresAfterTenMinutesAboveThree() {
        // 4 from the first scrape: pending at 0m, firing at 10m.
        let a = Self.evaluate(Array(repeating: 4, count: 4 * 20), minutes: 19)
        #expect(a.firstFiredMicros == 10 * Self.minute)
        #expect(a.firing.filter { $0 }.count == 10)
    }

    @Test func aRestartResetsTheCounterAndSoThePendingAlert() {
        // 4 for 8 minutes, a restart (one failed scrape, then the counter from 0),
        // 4 again from minute 9: pending again at 9m, firing at 19m.
        var v: [Int64?] = Array(repeating: 4, count: 8 * 4)
        v += [nil]
        v += Array(repeating: 0, count: 3)
        v += Array(repeating: 4, count: 15 * 4)
        let a = Self.evaluate(v, minutes: 23)
        #expect(a.firstFiredMicros == 19 * Self.minute)
        // Without the reset (the old process's count carried on) it would fire at 10m.
        let carried = Self.evaluate(Array(repeating: 4, count: 8 * 4) + Array(repeating: 4, count: 19 * 4), minutes: 23)
        #expect(carried.firstFiredMicros == 10 * Self.minute)
    }

    @Test func aMissingScrapeOlderThanTheLookbackEmptiesTheExpression() {
        // A stale sample at 2m: evaluations at 2m sees it (empty); at 3m the next scrape.
        let v: [Int64?] = Array(repeating: 5, count: 8) + [nil] + Array(repeating: 5, count: 60)
        var a = Self.evaluate(v, minutes: 15)
        #expect(a.firstFiredMicros == 13 * Self.minute)
        // Scrapes every 6 minutes: in the sixth minute of each the newest sample
        // is older than the 5-minute lookback, so the pending alert is reset.
        let sparse = (0..<6).map { Int64($0) * 6 * Self.minute }
        a = AlertHistory(scrapeTimes: sparse, counter: Array(repeating: 5, count: 6), intervalMicros: 6 * Self.minute,
                         startMicros: 0, endMicros: 35 * Self.minute)
        #expect(a.firstFiredMicros == nil)
        // Every 4 minutes the lookback always reaches a sample: fires at 10m.
        let dense = (0..<9).map { Int64($0) * 4 * Self.minute }
        a = AlertHistory(scrapeTimes: dense, counter: Array(repeating: 5, count: 9), intervalMicros: 4 * Self.minute,
                         startMicros: 0, endMicros: 35 * Self.minute)
        #expect(a.firstFiredMicros == 10 * Self.minute)
    }
}
