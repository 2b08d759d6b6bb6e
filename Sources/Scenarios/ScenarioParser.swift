#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codec
import Engine
import Exchanges
import Kernel
import Yams

/// Reads scenario files. Every problem is an `InputError` with file and line.
public enum ScenarioParser {
    static let topKeys = ["name", "description", "seed", "start", "duration", "drain", "profile",
                          "exchanges", "jobs", "faults", "expect", "golden_tables", "explore", "pipeline"]
    static let exchangeKeys = ["enabled", "rate_multiplier", "partitions", "symbols", "v1_share",
                               "delivery_latency_median", "burst_branching_ratio",
                               "retention", "retention_bytes", "segment", "segment_bytes"]
    static let jobKeys = ["trigger", "cores", "max_offsets_per_trigger", "start_at", "executor_memory_mib"]
    static let expectKeys = ["alert_fires", "min_headroom", "max_headroom", "max_batches_behind",
                             "min_batches_behind", "min_late_dropped", "max_late_dropped", "sla_holds", "failures", "silver_sla"]
    /// The keys each fault kind takes besides `kind`; the first group is required.
    static let faultKeys: [String: (required: [String], optional: [String])] = [
        "duplicates": (["exchange", "at", "mode", "count"], ["for"]),
        "late_backfill": (["exchange", "at", "count", "age"], []),
        "malformed": (["exchange", "at", "reasons"], ["for", "count"]),
        "spike": (["exchange", "at", "for", "multiplier"], []),
        "outage": (["exchange", "at", "for"], ["backfill"]),
        "clock_skew": (["exchange", "at", "for", "skew"], []),
        "schema_mix": (["exchange", "at", "for", "v1_share"], []),
        "slow_commits": (["table", "at", "for", "extra_latency"], []),
        "commit_failures": (["table", "at", "for", "probability"], []),
        "crash": (["job", "at", "point"], ["restart_after"]),
        "checkpoint_lost": (["job", "at"], ["restart_after"]),
    ]
    public static let tables = ["bronze_binance_trades", "bronze_kraken_trades", "silver_binance_trades",
                                "silver_kraken_trades", "silver_dlq_trades", "gold_crypto_trades"]

    /// Parses a scenario from text, with optional `--set KEY=VALUE` overrides
    /// applied to the document first (so they are validated like the file).
    public static func parse(_ text: String, file: String, overrides: [String] = []) throws(InputError) -> Scenario {
        var root = try YAMLNode.parse(text, file: file)
        for o in overrides { root = try applyOverride(o, to: root) }
        return try parse(root)
    }

    /// Every `*.yaml` in a folder, sorted by file name.
    public static func libraryPaths(in dir: String = "scenarios") throws(InputError) -> [String] {
        guard let d = opendir(dir) else { throw InputError(file: dir, line: 0, problem: "cannot open the scenario folder") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(".yaml") { names.append(name) }
        }
        return names.sorted().map { "\(dir)/\($0)" }
    }

    public static func load(path: String, overrides: [String] = []) throws(InputError) -> Scenario {
        let text = try readTextFile(path)
        let s = try parse(text, file: path, overrides: overrides)
        let base = String(path.split(separator: "/").last ?? "")
        if base.hasSuffix(".yaml"), String(base.dropLast(5)) != s.name {
            throw InputError(file: path, line: 1, problem: "name '\(s.name)' must match the file name '\(base.dropLast(5))' (goldens are found by name)")
        }
        return s
    }

    static func parse(_ root: YAMLNode) throws(InputError) -> Scenario {
        let m = try root.mapping(allowed: topKeys)
        let name = try m.required("name").string()
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw try m.required("name").error("use letters, digits, '-' and '_' only")
        }
        var s = Scenario(
            name: name,
            description: try m.required("description").string(),
            seed: try m["seed"]?.uint64() ?? 1,
            startMicros: try m["start"]?.timestamp() ?? Scenario.defaultStart,
            durationMicros: try m.required("duration").duration(atMost: Limits.maxDuration),
            drainMicros: try m["drain"]?.duration(atMost: Limits.maxDrain) ?? 10 * Time.microsPerMinute,
            profile: try m["profile"]?.string() ?? "production",
            exchanges: [:], jobs: [:], faults: [], expect: Expectations(), file: root.file)
        if let g = m["golden_tables"] {
            switch try g.string() {
            case "full": s.goldenTablesInFull = true
            case "digest": s.goldenTablesInFull = false
            case let other: throw g.error("expected full or digest, got '\(other)'")
            }
        }
        guard s.durationMicros > 0 else { throw try m.required("duration").error("must be positive") }
        if let st = m["start"], !(Limits.earliestStart..<Limits.latestStart).contains(s.startMicros) {
            throw st.error("must be from 2009-01-03T00:00:00Z (the earliest valid trade time) and before 2200-01-01T00:00:00Z")
        }

        if let ex = m["exchanges"] {
            for (key, node) in try ex.freeMapping() {
                guard let e = ExchangeName(rawValue: key.uppercased()), key == e.lowercased else {
                    throw node.error("unknown exchange '\(key)' (expected binance or kraken)")
                }
                s.exchanges[e] = try exchangeSettings(node)
            }
        }
        // First: whether the two_queries DLQ queries exist decides which job names are valid.
        if let e = m["pipeline"] { s.pipeline = try PipelineSettings.parse(e) }
        let twoQueries = s.pipeline.silverSinks == .twoQueries
        if let jobs = m["jobs"] {
            for (key, node) in try jobs.freeMapping() {
                guard let j = JobName(rawValue: key) else {
                    throw node.error("unknown job '\(key)'" + YAMLNode.suggestion(key, JobName.allCases.map(\.rawValue)))
                }
                if j.isDlqQuery && !twoQueries { throw node.error(Self.dlqQueryOnlyWithTwoQueries(j, s.pipeline.silverSinks)) }
                s.jobs[j] = try jobSettings(node)
            }
        }
        if let faults = m["faults"] {
            for f in try faults.sequence() {
                let fault = try fault(f, duration: s.durationMicros)
                if case .crash(let job, _, _) = fault.kind, job.isDlqQuery, !twoQueries {
                    let jobNode = try f.freeMapping().first { $0.key == "job" }?.value ?? f
                    throw jobNode.error(Self.dlqQueryOnlyWithTwoQueries(job, s.pipeline.silverSinks))
                }
                s.faults.append(fault)
            }
        }
        if let e = m["expect"] {
            s.expect = try expectations(e)
            let named = [s.expect.minHeadroomMicros.map(\.0), s.expect.maxHeadroomMicros.map(\.0),
                         s.expect.maxBatchesBehind.map(\.0), s.expect.minBatchesBehind.map(\.0)].joined()
            if !twoQueries, let j = named.first(where: \.isDlqQuery) { throw e.error(Self.dlqQueryOnlyWithTwoQueries(j, s.pipeline.silverSinks)) }
        }
        if let e = m["explore"] { s.explore = try ExploreSettings.parse(e, duration: s.durationMicros, pipeline: s.pipeline) }
        let messages = Limits.estimatedMessages(s)
        if messages > Limits.maxMessages {
            // Blame the busiest exchange's rate_multiplier when it is set, else the duration.
            var node = try m.required("duration")
            let busiest = ExchangeName.allCases.max { Limits.estimatedMessages(s, only: $0) < Limits.estimatedMessages(s, only: $1) }
            if let busiest, let ex = m["exchanges"],
               let entry = try ex.freeMapping().first(where: { $0.key == busiest.lowercased })?.value,
               let rate = try entry.mapping(allowed: exchangeKeys)["rate_multiplier"] {
                node = rate
            }
            throw node.error("with duration \(DurationParser.format(s.durationMicros)) the scenario would produce about \(Int64(messages)) messages (duration x each exchange's base rate x rate_multiplier, spikes included); the limit is \(Int64(Limits.maxMessages))")
        }
        return s
    }

    static func exchangeSettings(_ node: YAMLNode) throws(InputError) -> ExchangeSettings {
        let m = try node.mapping(allowed: exchangeKeys)
        var x = ExchangeSettings()
        x.enabled = try m["enabled"]?.bool() ?? true
        if let v = m["rate_multiplier"] {
            let d = try v.decimal()
            guard d.units >= 0, d.units <= 1_000 * Decimal8.unitsPerWhole else { throw v.error("must be between 0 and 1000") }
            x.rateMultiplier = d
        }
        if let v = m["partitions"] { x.partitions = Int(try v.int(in: 1...64)) }
        if let v = m["symbols"] {
            let list = try v.sequence()
            var names: [String] = []
            for n in list { names.append(try n.string()) }
            guard !names.isEmpty else { throw v.error("list at least one symbol") }
            if let e = ExchangeName.allCases.first(where: { node.path.hasSuffix($0.lowercased) }) {
                let known = ExchangeFeedConfig.default(for: e).symbols.map(\.symbol)
                for (n, name) in zip(list, names) where !known.contains(name) {
                    throw n.error("'\(name)' is not a \(e.lowercased) symbol (known: \(known.joined(separator: ", ")))")
                }
            }
            x.symbols = names
        }
        if let v = m["v1_share"] { x.v1Share = try v.ratio() }
        if let v = m["delivery_latency_median"] { x.deliveryLatencyMedianMicros = try v.duration(atMost: Limits.maxDeliveryLatencyMedian) }
        if let v = m["burst_branching_ratio"] {
            let d = try v.decimal()
            guard d.units >= 0, d.units < Decimal8.unitsPerWhole else { throw v.error("must be in [0, 1)") }
            x.burstBranchingRatio = d
        }
        if let v = m["retention"] { x.retentionMicros = try v.duration(atMost: Limits.maxRetention, atLeast: Time.microsPerMilli) }
        if let v = m["retention_bytes"] { x.retentionBytes = try v.int(in: 1...Limits.maxRetentionBytes) }
        if let v = m["segment"] { x.segmentMicros = try v.duration(atMost: Limits.maxRetention, atLeast: Time.microsPerMilli) }
        if let v = m["segment_bytes"] { x.segmentBytes = try v.int(in: 1...Limits.maxRetentionBytes) }
        return x
    }

    static func dlqQueryOnlyWithTwoQueries(_ j: JobName, _ mode: SilverSinkMode) -> String {
        "job '\(j.rawValue)' exists only with pipeline.silver_sinks: two_queries (it is \(j.application.rawValue)'s query "
            + "writing the DLQ); with silver_sinks \(mode.rawValue), \(j.application.rawValue) is one query writing both tables"
    }

    static func jobSettings(_ node: YAMLNode) throws(InputError) -> JobSettings {
        let m = try node.mapping(allowed: jobKeys)
        var j = JobSettings()
        if let v = m["trigger"] {
            j.triggerMicros = try v.duration(atMost: Limits.maxTrigger, atLeast: Limits.minTrigger)
        }
        if let v = m["cores"] { j.cores = Int(try v.int(in: 1...1024)) }
        if let v = m["executor_memory_mib"] { j.executorMemoryMiB = try v.int(in: 1...16_777_216) }
        if let v = m["max_offsets_per_trigger"] { j.maxOffsetsPerTrigger = try v.int(in: 1...Int64(Int32.max)) }
        if let v = m["start_at"] {
            let d = try v.duration()
            guard d >= 0, d <= 7 * Time.microsPerDay else { throw v.error("must be between 0 and 7d") }
            j.startAtMicros = d
        }
        return j
    }

    static func exchange(_ m: YAMLMapping) throws(InputError) -> ExchangeName {
        let node = try m.required("exchange")
        let s = try node.string()
        guard let e = ExchangeName.allCases.first(where: { $0.lowercased == s }) else {
            throw node.error("unknown exchange '\(s)' (expected binance or kraken)")
        }
        return e
    }

    static func fault(_ node: YAMLNode, duration: Micros) throws(InputError) -> Fault {
        // Read `kind` first to know which keys are allowed.
        guard case .mapping(let raw) = node.node else { throw node.error("expected a mapping with a 'kind'") }
        guard let kindNode = raw.first(where: { if case .scalar(let s) = $0.key { return s.string == "kind" }; return false })?.value,
              case .scalar(let ks) = kindNode else {
            throw node.error("a fault needs a 'kind' (one of: \(faultKeys.keys.sorted().joined(separator: ", ")))")
        }
        let kind = ks.string
        guard let keys = faultKeys[kind] else {
            throw node.child(kindNode, node.path + ".kind")
                .error("unknown fault kind '\(kind)'" + YAMLNode.suggestion(kind, faultKeys.keys.sorted()))
        }
        let m = try node.mapping(allowed: ["kind"] + keys.required + keys.optional)
        for r in keys.required where m[r] == nil { throw node.error("a '\(kind)' fault needs '\(r)'") }
        // Both at most 7d, so their sum cannot overflow.
        let at = try m.required("at").duration(atMost: Limits.maxDuration)
        let window = try m["for"]?.duration(atMost: Limits.maxDuration) ?? 0
        guard at + window <= duration else {
            throw try m.required("at").error("the fault ends after the scenario's duration")
        }
        func count() throws(InputError) -> Int { Int(try m.required("count").int(in: 1...1_000_000)) }
        let k: Fault.Kind
        switch kind {
        case "duplicates":
            let modeNode = try m.required("mode")
            switch try modeNode.string() {
            case "producer_retry": k = .producerRetryDuplicates(exchange: try exchange(m), count: try count())
            case "exchange_resend": k = .exchangeResendDuplicates(exchange: try exchange(m), count: try count())
            case let other: throw modeNode.error("unknown mode '\(other)' (expected producer_retry or exchange_resend)")
            }
        case "late_backfill":
            k = .lateBackfill(exchange: try exchange(m), count: try count(), ageMicros: try m.required("age").duration(atMost: Limits.maxAge))
        case "malformed":
            let rn = try m.required("reasons")
            var reasons: [DeadLetterReason] = []
            if case .scalar(let s) = rn.node, s.string == "all" {
                reasons = DeadLetterReason.allCases
            } else {
                for r in try rn.sequence() {
                    let text = try r.string()
                    guard let reason = DeadLetterReason(rawValue: text) else {
                        throw r.error("unknown DLQ reason '\(text)'" + YAMLNode.suggestion(text, DeadLetterReason.allCases.map(\.rawValue)))
                    }
                    reasons.append(reason)
                }
            }
            let c = m["count"] == nil ? 1 : try count()
            k = .malformed(exchange: try exchange(m), reasons: reasons, count: c)
        case "spike":
            let v = try m.required("multiplier")
            let d = try v.decimal()
            guard d.units > 0, d.units <= 1_000 * Decimal8.unitsPerWhole else { throw v.error("must be in (0, 1000]") }
            k = .spike(exchange: try exchange(m), multiplier: d)
        case "outage":
            k = .outage(exchange: try exchange(m), backfill: try m["backfill"]?.bool() ?? false)
        case "clock_skew":
            k = .clockSkew(exchange: try exchange(m), skewMicros: try m.required("skew").duration(atMost: Limits.maxSkew))
        case "schema_mix":
            k = .schemaMix(exchange: try exchange(m), v1Share: try m.required("v1_share").ratio())
        case "slow_commits", "commit_failures":
            let tn = try m.required("table")
            let table = try tn.string()
            guard tables.contains(table) else {
                throw tn.error("unknown table '\(table)'" + YAMLNode.suggestion(table, tables))
            }
            k = kind == "slow_commits"
                ? .slowCommits(table: table, extraLatencyMicros: try m.required("extra_latency").duration(atMost: Limits.maxExtraLatency))
                : .commitFailures(table: table, probability: try m.required("probability").ratio())
        case "checkpoint_lost":
            let jn = try m.required("job")
            let js = try jn.string()
            guard let job = JobName(rawValue: js), job == .bronzeBinance || job == .bronzeKraken else {
                throw jn.error("a checkpoint can be lost for bronze_binance or bronze_kraken (the Kafka queries), not '\(js)'")
            }
            k = .checkpointLost(job: job, restartAfterMicros: try m["restart_after"]?.duration(atMost: Limits.maxRestartAfter) ?? Time.microsPerMinute)
        default:  // crash
            let jn = try m.required("job")
            let js = try jn.string()
            guard let job = JobName(rawValue: js) else {
                throw jn.error("unknown job '\(js)'" + YAMLNode.suggestion(js, JobName.allCases.map(\.rawValue)))
            }
            let pn = try m.required("point")
            let ps = try pn.string()
            guard let point = CrashPoint(rawValue: ps) else {
                throw pn.error("unknown crash point '\(ps)' (expected one of: \(CrashPoint.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            k = .crash(job: job, point: point, restartAfterMicros: try m["restart_after"]?.duration(atMost: Limits.maxRestartAfter) ?? Time.microsPerMinute)
        }
        return Fault(kind: k, atMicros: at, forMicros: window, line: node.line)
    }

    static func perJob<T>(_ node: YAMLNode, _ read: (YAMLNode) throws(InputError) -> T) throws(InputError) -> [(JobName, T)] {
        var out: [(JobName, T)] = []
        for (key, v) in try node.freeMapping() {
            guard let j = JobName(rawValue: key) else {
                throw v.error("unknown job '\(key)'" + YAMLNode.suggestion(key, JobName.allCases.map(\.rawValue)))
            }
            out.append((j, try read(v)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    static func expectations(_ node: YAMLNode) throws(InputError) -> Expectations {
        let m = try node.mapping(allowed: expectKeys)
        var e = Expectations()
        e.alertFires = try m["alert_fires"]?.bool()
        e.slaHolds = try m["sla_holds"]?.bool()
        if let v = m["silver_sla"] {
            let text = try v.string()
            guard let d = SilverLatencyDefinition(rawValue: text) else {
                throw v.error("expect.silver_sla must be one of " + SilverLatencyDefinition.allCases.map(\.rawValue).joined(separator: ", ") + " (got '\(text)')")
            }
            e.silverSLA = d
        }
        let hmax = Limits.maxHeadroom, cmax = Limits.maxExpectedCount
        if let v = m["min_headroom"] { e.minHeadroomMicros = try perJob(v) { n throws(InputError) in try n.duration(atMost: hmax) } }
        if let v = m["max_headroom"] { e.maxHeadroomMicros = try perJob(v) { n throws(InputError) in try n.duration(atMost: hmax) } }
        if let v = m["max_batches_behind"] { e.maxBatchesBehind = try perJob(v) { n throws(InputError) in try n.int(in: 0...cmax) } }
        if let v = m["min_batches_behind"] { e.minBatchesBehind = try perJob(v) { n throws(InputError) in try n.int(in: 0...cmax) } }
        e.minLateDropped = try m["min_late_dropped"]?.int(in: 0...cmax)
        e.maxLateDropped = try m["max_late_dropped"]?.int(in: 0...cmax)
        if let v = m["failures"] {
            for n in try v.sequence() { e.failures.append(try n.string()) }
        }
        return e
    }

    /// Applies `a.b.c=value` to the document: the value is read as YAML (so
    /// `30s`, `2.5`, `[BTCUSDT]` work) and validated with the rest of the file.
    public static func applyOverride(_ text: String, to root: YAMLNode) throws(InputError) -> YAMLNode {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw InputError(file: "--set", line: 0, problem: "'\(text)' is not KEY=VALUE (e.g. jobs.gold.trigger=30s)")
        }
        let path = text[..<eq].split(separator: ".").map(String.init)
        let valueText = String(text[text.index(after: eq)...])
        let value: Node
        do {
            value = try Yams.compose(yaml: valueText) ?? Node("")
        } catch {
            throw InputError(file: "--set", line: 0, problem: "'\(text)': the value is not valid YAML")
        }
        guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty }) else {
            throw InputError(file: "--set", line: 0, problem: "'\(text)': empty key")
        }
        func set(_ node: Node, _ rest: ArraySlice<String>) throws(InputError) -> Node {
            guard let key = rest.first else { return value }
            var mapping: Node.Mapping
            if case .mapping(let m) = node { mapping = m } else { mapping = Node.Mapping([]) }
            let child = mapping[key] ?? Node.mapping(Node.Mapping([]))
            mapping[key] = try set(child, rest.dropFirst())
            return .mapping(mapping)
        }
        var overrides = root.overrides
        overrides[path.joined(separator: ".")] = text
        return YAMLNode(node: try set(root.node, path[...]), file: root.file, path: "", overrides: overrides)
    }
}

/// Reads a whole file, or throws an `InputError` naming it: `cannotOpen`
/// when it cannot be opened, `tooLarge` once it passes `maxBytes`.
public func readFileBytes(_ path: String, maxBytes: Int = .max, cannotOpen: String = "cannot open the file",
                          tooLarge: String = "the file is too large") throws(InputError) -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw InputError(file: path, line: 0, problem: cannotOpen) }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n > 0 { bytes.append(contentsOf: buf[0..<n]) }
        guard bytes.count <= maxBytes else { throw InputError(file: path, line: 0, problem: tooLarge) }
        if n < buf.count { break }
    }
    return bytes
}

/// Reads a whole UTF-8 text file, or throws an `InputError` naming it.
public func readTextFile(_ path: String) throws(InputError) -> String {
    let bytes = try readFileBytes(path)
    guard let s = String(validating: bytes, as: UTF8.self) else {
        throw InputError(file: path, line: 0, problem: "the file is not UTF-8 text")
    }
    return s
}
