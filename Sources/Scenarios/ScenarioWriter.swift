import Codec
import Engine
import Kernel

/// Writes a scenario back as a scenario file that `ScenarioParser` reads to
/// the same `Scenario` (the `expect` and `explore` sections are left out:
/// a written scenario is a reproduction, judged by the oracle's checks).
/// Keys in the parser's order, durations in their shortest spelling.
public enum ScenarioWriter {
    public static func yaml(_ s: Scenario) -> String {
        var out = "name: \(s.name)\n"
        out += s.description.hasSuffix("\n") ? "description: >\n" : "description: >-\n"
        for line in wrap(s.description, width: 76) { out += "  \(line)\n" }
        out += "seed: \(s.seed)\n"
        if s.startMicros != Scenario.defaultStart {
            out += "start: \(String(UTCDateTime(micros: s.startMicros).iso8601.prefix(19)))Z\n"
        }
        out += "duration: \(d(s.durationMicros))\n"
        out += "drain: \(d(s.drainMicros))\n"
        if s.profile != "production" { out += "profile: \(s.profile)\n" }
        if !s.goldenTablesInFull { out += "golden_tables: digest\n" }
        out += section("exchanges", ExchangeName.allCases.filter { s.exchanges[$0] != nil }, name: \.lowercased,
                       whenEmpty: { _ in "enabled: true" }) { e in
            let x = s.exchanges[e]!
            return [x.enabled ? nil : "enabled: false",
                    x.rateMultiplier.map { "rate_multiplier: \(decimal($0))" },
                    x.partitions.map { "partitions: \($0)" },
                    x.symbols.map { "symbols: [\($0.joined(separator: ", "))]" },
                    x.v1Share.map { "v1_share: \($0.numerator)/\($0.denominator)" },
                    x.deliveryLatencyMedianMicros.map { "delivery_latency_median: \(d($0))" },
                    x.burstBranchingRatio.map { "burst_branching_ratio: \(decimal($0))" },
                    x.retentionMicros.map { "retention: \(d($0))" },
                    x.retentionBytes.map { "retention_bytes: \($0)" },
                    x.segmentMicros.map { "segment: \(d($0))" },
                    x.segmentBytes.map { "segment_bytes: \($0)" }]
        }
        out += section("jobs", JobName.everyQuery.filter { s.jobs[$0] != nil }, name: \.rawValue,
                       whenEmpty: { "trigger: \(d($0.defaultTriggerMicros))" }) { j in
            let x = s.jobs[j]!
            return [x.triggerMicros.map { "trigger: \(d($0))" },
                    x.cores.map { "cores: \($0)" },
                    x.executorMemoryMiB.map { "executor_memory_mib: \($0)" },
                    x.maxOffsetsPerTrigger.map { "max_offsets_per_trigger: \($0)" },
                    x.startAtMicros.map { "start_at: \(d($0))" }]
        }
        out += s.pipeline.yaml
        if !s.faults.isEmpty {
            out += "faults:\n"
            for f in s.faults { out += fault(f) }
        }
        return out
    }

    /// `title:`, then for each key in order `  name:` and its lines (the set
    /// ones, or `whenEmpty` when none is set); nothing for no keys.
    static func section<Key>(_ title: String, _ keys: [Key], name: (Key) -> String, whenEmpty: (Key) -> String,
                             lines: (Key) -> [String?]) -> String {
        keys.isEmpty ? "" : "\(title):\n" + keys.map { k in
            let set = lines(k).compactMap { $0 }
            return "  \(name(k)):\n" + (set.isEmpty ? [whenEmpty(k)] : set).map { "    \($0)\n" }.joined()
        }.joined()
    }

    /// One fault as a list item.
    public static func fault(_ f: Fault) -> String {
        var keys: [(String, String)] = []
        switch f.kind {
        case .producerRetryDuplicates(let e, let n):
            keys = [("kind", "duplicates"), ("exchange", e.lowercased), ("mode", "producer_retry"), ("count", "\(n)")]
        case .exchangeResendDuplicates(let e, let n):
            keys = [("kind", "duplicates"), ("exchange", e.lowercased), ("mode", "exchange_resend"), ("count", "\(n)")]
        case .lateBackfill(let e, let n, let age):
            keys = [("kind", "late_backfill"), ("exchange", e.lowercased), ("count", "\(n)"), ("age", d(age))]
        case .malformed(let e, let reasons, let n):
            keys = [("kind", "malformed"), ("exchange", e.lowercased),
                    ("reasons", "[\(reasons.map(\.rawValue).joined(separator: ", "))]"), ("count", "\(n)")]
        case .spike(let e, let m):
            keys = [("kind", "spike"), ("exchange", e.lowercased), ("multiplier", decimal(m))]
        case .outage(let e, let backfill):
            keys = [("kind", "outage"), ("exchange", e.lowercased), ("backfill", backfill ? "true" : "false")]
        case .clockSkew(let e, let skew):
            keys = [("kind", "clock_skew"), ("exchange", e.lowercased), ("skew", d(skew))]
        case .schemaMix(let e, let share):
            keys = [("kind", "schema_mix"), ("exchange", e.lowercased), ("v1_share", "\(share.numerator)/\(share.denominator)")]
        case .slowCommits(let table, let extra):
            keys = [("kind", "slow_commits"), ("table", table), ("extra_latency", d(extra))]
        case .commitFailures(let table, let p):
            keys = [("kind", "commit_failures"), ("table", table), ("probability", "\(p.numerator)/\(p.denominator)")]
        case .crash(let job, let point, let after):
            keys = [("kind", "crash"), ("job", job.rawValue), ("point", point.rawValue), ("restart_after", d(after))]
        case .checkpointLost(let job, let after):
            keys = [("kind", "checkpoint_lost"), ("job", job.rawValue), ("restart_after", d(after))]
        }
        keys.insert(("at", d(f.atMicros)), at: 1)
        if f.forMicros > 0 { keys.insert(("for", d(f.forMicros)), at: 2) }
        var out = ""
        for (i, (k, v)) in keys.enumerated() { out += (i == 0 ? "  - " : "    ") + "\(k): \(v)\n" }
        return out
    }

    static func d(_ micros: Micros) -> String { DurationParser.format(micros) }

    /// A decimal without trailing zeros: `2.5`, `3`.
    static func decimal(_ v: Decimal8) -> String {
        var s = v.description
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.isEmpty ? ["-"] : lines
    }
}
