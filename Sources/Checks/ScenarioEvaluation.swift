import Codec
import Engine
import Exchanges
import Kernel
import Scenarios

/// Everything a finished scenario run is judged by and leaves behind.
public struct ScenarioOutcome {
    public var scenario: Scenario
    public var oracle: OracleResult
    /// The oracle's checks, then the scenario's expectations.
    public var checks: [CheckResult]
    public var summary: JSONValue
    let pipeline: Pipeline
    /// Full tables, for `--out`; made on demand (exporting costs more than the checks).
    public var tables: [(name: String, rows: [String])] { TableExport.allTables(of: pipeline) }
    /// What the golden files hold: the summary and the tables in full, or
    /// per-partition digests for `golden_tables: digest`. Made on demand.
    public var goldenArtifacts: RunArtifacts {
        guard !scenario.goldenTablesInFull else { return RunArtifacts(summary: summary, tables: tables) }
        return RunArtifacts(summary: summary, tables: TableName.allCases.map { ($0.rawValue, TableExport.digestRows(of: $0, in: pipeline)) })
    }
    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// `DIR/metrics.om`, the alert's rule file and its `promtool test rules` file.
    public func writePrometheusFiles(to dir: String) throws {
        guard let alert = oracle.alert else { return }
        try PrometheusFiles.write(pipeline: pipeline, alert: alert, scrapeIntervalMicros: alert.scrapeIntervalMicros,
                                  source: "scenario \(scenario.name) (seed \(scenario.seed))", to: dir)
    }

    /// `DIR/tables.sqlite`: the six tables as one SQLite database.
    public func writeSQLite(to dir: String) throws {
        try SQLiteExport.write(pipeline, to: dir + "/" + SQLiteExport.fileName)
    }

    /// The one command that reproduces this run: the scenario file and seed,
    /// the `--set` overrides it ran with (a seed override is in `--seed`) and
    /// the profiles folder when one was named, quoted for a POSIX shell.
    public func reproduceCommand(overrides: [String], profilesFolder: String?) -> String {
        var words = ["medallion-sim", "run", scenario.file, "--seed", String(scenario.seed)]
        for o in overrides where String(o.prefix { $0 != "=" }.filter { $0 != " " }) != "seed" {
            words += ["--set", o]
        }
        if let profilesFolder { words += ["--profiles", profilesFolder] }
        return words.map(shellQuoted).joined(separator: " ")
    }
}

public enum ScenarioEvaluator {
    public static func evaluate(_ run: ScenarioRun,
                                scrapeIntervalMicros: Micros = ScrapedMetrics.defaultIntervalMicros) -> ScenarioOutcome {
        let s = run.scenario
        let p = run.pipeline
        var input = OracleInput(
            cluster: run.traffic.cluster, registry: run.traffic.registry, groundTruth: run.traffic.groundTruth,
            pipeline: p, feedStartMicros: s.startMicros, feedEndMicros: s.startMicros + s.durationMicros)
        input.scrapeIntervalMicros = scrapeIntervalMicros
        RunControl.stopIfInterrupted()
        let oracle = Oracle.check(input)
        RunControl.stopIfInterrupted()
        // expect.failures may name an expectation too (a variant whose failure is a missed headroom).
        let checks = expectedFailures(oracle.checks + expectationChecks(s.expect, oracle), s.expect.failures)

        let summary = summaryJSON(run, oracle, checks)
        return ScenarioOutcome(scenario: s, oracle: oracle, checks: checks, summary: summary, pipeline: p)
    }

    /// `expect.failures`: a scenario that shows a variant's failure names the
    /// checks that must fail. Each is judged inverted (it holds when the
    /// oracle reports the failure, whose first problems it keeps), every other
    /// check as usual, so the failure is pinned by the scenario and its golden.
    static func expectedFailures(_ checks: [CheckResult], _ names: [String]) -> [CheckResult] {
        guard !names.isEmpty else { return checks }
        var out = checks.map { c -> CheckResult in
            guard names.contains(c.name) else { return c }
            return c.passed
                ? CheckResult(c.name, passed: false, details: ["expected to fail (expect.failures) but holds"])
                : CheckResult(c.name, passed: true, details: ["fails as expected: " + (c.details.first ?? "")] + c.details.dropFirst().prefix(3))
        }
        for n in names where !checks.contains(where: { $0.name == n }) {
            out.append(CheckResult(n, passed: false, details: ["expect.failures names '\(n)', which is not a check"]))
        }
        return out
    }

    static func expectationChecks(_ e: Expectations, _ o: OracleResult) -> [CheckResult] {
        var out: [CheckResult] = []
        func fmt(_ micros: Int64?) -> String { micros.map(formatSeconds) ?? "n/a" }
        if let want = e.alertFires {
            out.append(CheckResult("expect.alert_fires", passed: o.alertFired == want, details: o.alertFired == want ? [] :
                ["SilverBinanceProcessingBehind \(o.alertFired ? "fired" : "did not fire"); the scenario expects it \(want ? "to fire" : "not to fire")"]))
        }
        if let want = e.slaHolds {
            let silver = e.silverSLA == .recordLatency ? o.silverRecordLatencyP99Micros : o.silverLatencyP99Micros
            let holds = (silver ?? 0) < Oracle.silverLatencySLAMicros && (o.endToEndP99Micros ?? 0) < Oracle.endToEndSLAMicros
            let what = e.silverSLA == .recordLatency ? "Silver record latency p99" : "Silver p99"
            out.append(CheckResult("expect.sla_holds", passed: holds == want, details: holds == want ? [] :
                ["\(what) \(fmt(silver)), end-to-end p99 \(fmt(o.endToEndP99Micros)); the scenario expects the SLAs \(want ? "to hold" : "to be breached")"]))
        }
        for (job, min) in e.minHeadroomMicros {
            let got = o.jobs[job]?.minHeadroomAfterStartup
            let ok = got.map { $0 >= min } ?? false
            out.append(CheckResult("expect.min_headroom.\(job.rawValue)", passed: ok, details: ok ? [] :
                ["\(job.rawValue): smallest headroom after start-up \(fmt(got)), expected at least \(fmt(min))"]))
        }
        for (job, max) in e.maxHeadroomMicros {
            let got = o.jobs[job]?.maxHeadroomAfterStartup
            let ok = got.map { $0 <= max } ?? false
            out.append(CheckResult("expect.max_headroom.\(job.rawValue)", passed: ok, details: ok ? [] :
                ["\(job.rawValue): largest headroom after start-up \(fmt(got)), expected at most \(fmt(max))"]))
        }
        for (job, max) in e.maxBatchesBehind {
            let got = o.jobs[job]?.behindAfterStartup ?? 0
            out.append(CheckResult("expect.max_batches_behind.\(job.rawValue)", passed: got <= max, details: got <= max ? [] :
                ["\(job.rawValue): \(got) batches behind after start-up, expected at most \(max)"]))
        }
        for (job, min) in e.minBatchesBehind {
            let got = o.jobs[job]?.behindAfterStartup ?? 0
            out.append(CheckResult("expect.min_batches_behind.\(job.rawValue)", passed: got >= min, details: got >= min ? [] :
                ["\(job.rawValue): \(got) batches behind after start-up, expected at least \(min)"]))
        }
        if let min = e.minLateDropped {
            out.append(CheckResult("expect.min_late_dropped", passed: o.lateDropped >= min, details: o.lateDropped >= min ? [] :
                ["\(o.lateDropped) rows dropped as late, expected at least \(min)"]))
        }
        if let max = e.maxLateDropped {
            out.append(CheckResult("expect.max_late_dropped", passed: o.lateDropped <= max, details: o.lateDropped <= max ? [] :
                ["\(o.lateDropped) rows dropped as late, expected at most \(max)"]))
        }
        return out
    }

    public static func jobJSON(_ f: JobFigures) -> JSONValue {
        let sorted = f.processingMicros.sorted()
        func optMs(_ v: Int64?) -> JSONValue { v.map { .int(millis(fromMicros: $0)) } ?? .null }
        return .object([
            "trigger_ms": .int(millis(fromMicros: f.triggerMicros)), "batches": .int(f.batches), "attempts": .int(f.attempts),
            "processing_ms": .object(["p50": optMs(percentile(sorted, 50)), "p99": optMs(percentile(sorted, 99)),
                                      "max": optMs(sorted.last)]),
            "first_batch_ms": optMs(f.firstBatchMicros),
            "min_headroom_ms_after_startup": optMs(f.minHeadroomAfterStartup),
            "max_headroom_ms_after_startup": optMs(f.maxHeadroomAfterStartup),
            "batches_behind": .int(f.behind), "batches_behind_after_startup": .int(f.behindAfterStartup),
            "max_batch_rows": .int(f.batchRows.max() ?? 0),
            "backlog_growing": .bool(f.backlogGrowing),
        ])
    }

    static func summaryJSON(_ run: ScenarioRun, _ o: OracleResult, _ checks: [CheckResult]) -> JSONValue {
        let s = run.scenario
        var traffic: [String: JSONValue] = [:]
        for st in run.traffic.statistics {
            traffic[st.exchange.lowercased] = .object([
                "messages": .int(st.totalMessages), "live": .int(st.liveMessages), "v1": .int(st.v1Messages),
                "duplicates": .int(st.duplicateMessages), "malformed": .int(st.malformedMessages),
                "clock_skewed": .int(st.skewedMessages), "backfilled_trades": .int(st.backfilledTrades),
                "lost_in_outage": .int(st.lostTrades), "spike_trades": .int(st.spikeTrades),
            ])
        }
        var jobs: [String: JSONValue] = [:]
        for (job, f) in o.jobs { jobs[job.rawValue] = jobJSON(f) }
        var out: [String: JSONValue] = [
            "scenario": .object([
                "name": .string(s.name), "seed": .int(Int64(bitPattern: s.seed)),
                "start": .string(UTCDateTime(micros: s.startMicros).iso8601),
                "duration": .string(DurationParser.format(s.durationMicros)),
                "drain": .string(DurationParser.format(s.drainMicros)), "profile": .string(s.profile),
                "golden_tables": .string(s.goldenTablesInFull ? "full" : "digest"),
            ]),
            "traffic": .object(traffic),
            "tables": TableExport.rowCounts(of: run.pipeline),
            "jobs": .object(jobs),
            "checks": .object(Dictionary(uniqueKeysWithValues: checks.map {
                ($0.name, JSONValue.string($0.passed ? ($0.details.first.map { "pass: " + $0 } ?? "pass") : "FAIL: " + ($0.details.first ?? "")))
            })),
        ]
        for (k, v) in o.figures { out[k] = v }
        return .object(out)
    }
}

/// A word as a POSIX shell reads it back: unchanged when it holds only
/// characters no shell treats specially, else in single quotes.
public func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_./=:,@+%".unicodeScalars.contains($0)
    }
    return plain ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'"
}
