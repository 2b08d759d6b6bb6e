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
        out += section("exchanges", ExchangeName.allCases.filter { s.exchanges[$0] != nil }, name: \.lowercased) { e in
            let x = s.exchanges[e]!
            var body = ""
            if !x.enabled { body += "    enabled: false\n" }
            if let v = x.rateMultiplier { body += "    rate_multiplier: \(decimal(v))\n" }
            if let v = x.partitions { body += "    partitions: \(v)\n" }
            if let v = x.symbols { body += "    symbols: [\(v.joined(separator: ", "))]\n" }
            if let v = x.v1Share { body += "    v1_share: \(v.numerator)/\(v.denominator)\n" }
            if let v = x.deliveryLatencyMedianMicros { body += "    delivery_latency_median: \(d(v))\n" }
            if let v = x.burstBranchingRatio { body += "    burst_branching_ratio: \(decimal(v))\n" }
            if let v = x.retentionMicros { body += "    retention: \(d(v))\n" }
            if let v = x.retentionBytes { body += "    retention_bytes: \(v)\n" }
            if let v = x.segmentMicros { body += "    segment: \(d(v))\n" }
            if let v = x.segmentBytes { body += "    segment_bytes: \(v)\n" }
            return body.isEmpty ? "    enabled: true\n" : body
        }
        out += section("jobs", JobName.allCases.filter { s.jobs[$0] != nil }, name: \.rawValue) { j in
            let x = s.jobs[j]!
            var body = ""
            if let v = x.triggerMicros { body += "    trigger: \(d(v))\n" }
            if let v = x.cores { body += "    cores: \(v)\n" }
            if let v = x.executorMemoryMiB { body += "    executor_memory_mib: \(v)\n" }
            if let v = x.maxOffsetsPerTrigger { body += "    max_offsets_per_trigger: \(v)\n" }
            if let v = x.startAtMicros { body += "    start_at: \(d(v))\n" }
            return body.isEmpty ? "    trigger: \(d(j.defaultTriggerMicros))\n" : body
        }
        out += s.pipeline.yaml
        if !s.faults.isEmpty {
            out += "faults:\n"
            for f in s.faults { out += fault(f) }
        }
        return out
    }

    /// `title:`, then `  name:` and the body of each key in order; nothing for no keys.
    static func section<Key>(_ title: String, _ keys: [Key], name: (Key) -> String, body: (Key) -> String) -> String {
        keys.isEmpty ? "" : "\(title):\n" + keys.map { "  \(name($0)):\n" + body($0) }.joined()
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
