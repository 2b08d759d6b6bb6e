import Broker
import Codec
import Engine
import Kernel

/// The two SLAs, measured over the steady state an SLA monitor sees (messages
/// produced after every job's first, start-up, batch ended).
///
/// Silver latency p99 < 60 s has two definitions, and a scenario chooses which
/// one its `expect.sla_holds` uses (`expect.silver_sla`):
/// - `batch_processing` (the default, what the design record's monitoring
///   reads): the processing time of Silver batches after each run's start-up
///   batch, `k2_silver_batch_processing_seconds`;
/// - `record_latency`: what a record experiences, from its Kafka create time
///   to the commit of the Silver snapshot that holds it (both exchanges).
///
/// End-to-end latency p99 < 5 min is per record: Kafka create time to the
/// commit of the Gold snapshot holding the row. Per exchange, every record's
/// latency to its Bronze, Silver and Gold commits is reported (p50, p99, max).
/// A measurement, not a promise: a scenario states which way it should go with
/// `expect.sla_holds`.
struct SLAs {
    private(set) var silverLatencyP99Micros: Int64?
    private(set) var silverRecordLatencyP99Micros: Int64?
    private(set) var endToEndP99Micros: Int64?
    /// Per exchange (lowercased) and layer (bronze, silver, gold): p99 of the record latencies.
    private(set) var recordLatencyP99Micros: [String: [String: Int64]] = [:]
    private(set) var figures: JSONValue = .null

    private let tables: ExchangeTables
    /// Per exchange, per layer: the band of its record latencies; Gold's after `finish`.
    private var bands: [String: [String: JSONValue]] = [:]
    private var silverFigures: [String: JSONValue] = [:]

    /// Silver batch processing, and Bronze's and Silver's record latencies
    /// (each Silver row found through the Bronze row it claimed; the rows that
    /// claimed one already, through `extraSilverClaims`).
    init(_ input: OracleInput, _ tables: ExchangeTables, _ silverDLQ: SilverDLQExactlyOnce) {
        let p = input.pipeline
        self.tables = tables
        let warmedUp = Self.warmedUpMicros(p, feedStartMicros: input.feedStartMicros)
        var silverLatencies = LatencySamples()
        for job in tables.silverJobs {
            var runs = Set<Int>()
            for b in p.batchLog where b.job == job {
                guard let end = b.endMicros else { continue }
                if runs.insert(b.runNumber).inserted { continue }
                silverLatencies.append(end - b.startMicros)
            }
        }
        silverLatencies.sort()
        silverLatencyP99Micros = silverLatencies.percentile(99)
        // Per record: Kafka create time to the commit of the snapshot holding it.
        var silverRecords: [LatencySamples] = []
        for (k, e) in tables.exchanges.enumerated() {
            let bronze = tables.bronze[k], silver = tables.silver[k]
            let bronzeCommit = CommitTimes(bronze.snapshots, rows: bronze.rowCount)
            let silverCommit = CommitTimes(silver.snapshots, rows: silver.rowCount)
            var b = LatencySamples(), sv = LatencySamples()
            let created = KafkaCreateTimes(input.cluster, bronze)
            for i in 0..<bronze.rowCount {
                let made = created.micros(i)
                guard made >= warmedUp else { continue }
                b.append(bronzeCommit[i] - made)
                if case .silver(let row) = silverDLQ.fates[k, i] { sv.append(silverCommit[row] - made) }
            }
            for (k2, row, i) in silverDLQ.extraSilverClaims where k2 == k {
                let made = created.micros(i)
                if made >= warmedUp { sv.append(silverCommit[row] - made) }
            }
            b.sort(); sv.sort()
            recordLatencyP99Micros[e.lowercased] = ["bronze": b.percentile(99), "silver": sv.percentile(99)].compactMapValues { $0 }
            bands[e.lowercased] = ["bronze": .object(Self.band([b])), "silver": .object(Self.band([sv]))]
            silverRecords.append(sv)
        }
        silverRecordLatencyP99Micros = LatencySamples.percentile(silverRecords, 99)
        let silverOK = (silverLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros
        let silverRecordOK = (silverRecordLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros
        silverFigures = [
            "end_to_end_measured_from": .string(UTCDateTime(micros: warmedUp).iso8601),
            "silver_batch_processing_ms": .object(Self.band([silverLatencies]).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.silverLatencySLAMicros)), "holds": .bool(silverOK)]) { a, _ in a }),
            "silver_record_latency_ms": .object(Self.band(silverRecords).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.silverLatencySLAMicros)), "holds": .bool(silverRecordOK)]) { a, _ in a }),
        ]
    }

    /// With Gold's record latencies (gathered while Gold's rows are read): end-to-end figures and every band.
    mutating func finish(_ latencies: GoldLatencies) {
        var gold = latencies.samples
        for k in gold.indices { gold[k].sort() }
        for (k, e) in tables.exchanges.enumerated() {
            bands[e.lowercased]!["gold"] = .object(Self.band([gold[k]]))
            recordLatencyP99Micros[e.lowercased]!["gold"] = gold[k].percentile(99)
        }
        endToEndP99Micros = LatencySamples.percentile(gold, 99)
        let e2eOK = (endToEndP99Micros ?? 0) < Oracle.endToEndSLAMicros
        figures = .object(silverFigures.merging([
            "end_to_end_ms": .object(Self.band(gold).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.endToEndSLAMicros)), "holds": .bool(e2eOK)]) { a, _ in a }),
            "record_latency_ms": .object(bands.mapValues { .object($0) }),
        ]) { a, _ in a })
    }

    /// p50, p99 and max in ms of the sorted samples together.
    static func band(_ v: [LatencySamples]) -> [String: JSONValue] {
        func ms(_ x: Int64?) -> JSONValue { .optional(x.map { millis(fromMicros: $0) }) }
        return ["p50": ms(LatencySamples.percentile(v, 50)), "p99": ms(LatencySamples.percentile(v, 99)),
                "max": ms(LatencySamples.percentile(v, 100))]
    }

    /// When every job's first batch has ended: the start of the steady state.
    static func warmedUpMicros(_ p: Pipeline, feedStartMicros: Micros) -> Micros {
        var warmedUp = feedStartMicros
        for job in JobName.allCases {
            if let first = p.batchLog.first(where: { $0.job == job })?.endMicros { warmedUp = max(warmedUp, first) }
        }
        return warmedUp
    }
}

/// Gold's record latencies per exchange: Kafka create time of each Gold
/// row's Silver row's record to the commit of the Gold snapshot holding it,
/// gathered row by row as the Gold rows are read.
struct GoldLatencies {
    private let input: OracleInput
    private let tables: ExchangeTables
    private let warmedUp: Micros
    private let commit: CommitTimes
    private let created: [KafkaCreateTimes]
    private(set) var samples: [LatencySamples]

    init(_ input: OracleInput, _ tables: ExchangeTables) {
        self.input = input; self.tables = tables
        warmedUp = SLAs.warmedUpMicros(input.pipeline, feedStartMicros: input.feedStartMicros)
        commit = CommitTimes(input.pipeline.gold.snapshots, rows: input.pipeline.gold.rowCount)
        samples = tables.exchanges.map { _ in LatencySamples() }
        created = tables.bronze.map { KafkaCreateTimes(input.cluster, $0) }
    }

    mutating func visit(_ v: GoldRows.Visit) {
        let k = v.source.input
        let b = v.sourceColumns.sourceBronzeRow
        guard b >= 0 && b < tables.bronze[k].rowCount else { return }
        let c = created[k].micros(b)
        if c >= warmedUp { samples[k].append(commit[v.index] - c) }
    }
}

/// The producer create time of each Bronze row's record, read from the
/// topic itself (the topic looked up once, not per row).
struct KafkaCreateTimes {
    private let bronze: BronzeTable
    private let topic: Topic

    init(_ cluster: KafkaCluster, _ bronze: BronzeTable) {
        self.bronze = bronze
        topic = cluster.topic(bronze.topicName)!
    }

    func micros(_ row: Int) -> Micros {
        let (p, position) = bronze.source(row)
        return topic.partitions[Int(p)].timestampMs(atPosition: position) * Time.microsPerMilli
    }
}

/// The commit time of every row: its snapshot's (rows are in commit order),
/// 0 for a row no snapshot holds. Snapshots in row order are searched; a
/// table whose snapshots overlap (never a sound one) gets a time per row,
/// the later snapshot's where two hold a row.
struct CommitTimes {
    private var starts: [Int] = [], ends: [Int] = [], times: [Micros] = []
    private var perRow: [Micros]?

    init(_ snapshots: [Snapshot], rows: Int) {
        for s in snapshots where s.rowCount > 0 {
            let end = min(rows, s.firstRow + s.rowCount)
            guard s.firstRow < end else { continue }
            if let last = ends.last, s.firstRow < last { perRow = []; break }
            starts.append(s.firstRow); ends.append(end); times.append(s.committedAtMicros)
        }
        guard perRow != nil else { return }
        var out = [Micros](repeating: 0, count: rows)
        for s in snapshots where s.rowCount > 0 {
            for i in s.firstRow..<min(rows, s.firstRow + s.rowCount) { out[i] = s.committedAtMicros }
        }
        perRow = out
    }

    subscript(i: Int) -> Micros {
        if let perRow { return perRow[i] }
        var lo = 0, hi = starts.count  // the first snapshot starting past i
        while lo < hi { let m = (lo + hi) / 2; if starts[m] <= i { lo = m + 1 } else { hi = m } }
        return lo > 0 && i < ends[lo - 1] ? times[lo - 1] : 0
    }
}

/// Latencies in microseconds for exact percentiles, 4 bytes each: values in
/// [0, 2^32) (up to 71 minutes) packed, others apart. Sort, then ask.
struct LatencySamples {
    private var negative: [Int64] = [], small: [UInt32] = [], large: [Int64] = []
    var count: Int { negative.count + small.count + large.count }

    mutating func append(_ v: Int64) {
        if v < 0 { negative.append(v) } else if v <= Int64(UInt32.max) { small.append(UInt32(v)) } else { large.append(v) }
    }

    mutating func sort() { negative.sort(); small.sort(); large.sort() }

    /// How many values are at most `x` (sorted).
    func countAtMost(_ x: Int64) -> Int {
        func upper<C: RandomAccessCollection>(_ a: C, _ le: (C.Element) -> Bool) -> Int where C.Index == Int {
            var lo = 0, hi = a.count
            while lo < hi { let m = (lo + hi) / 2; if le(a[m]) { lo = m + 1 } else { hi = m } }
            return lo
        }
        if x < 0 { return upper(negative) { $0 <= x } }
        if x <= Int64(UInt32.max) { return negative.count + upper(small) { Int64($0) <= x } }
        return negative.count + small.count + upper(large) { $0 <= x }
    }

    var minimum: Int64? { negative.first ?? small.first.map(Int64.init) ?? large.first }
    var maximum: Int64? { large.last ?? small.last.map(Int64.init) ?? negative.last }

    func percentile(_ p: Int) -> Int64? { Self.percentile([self], p) }

    /// The nearest-rank percentile of several sorted samples taken together,
    /// as `percentile(_:_:)` gives it over their values in one sorted array
    /// (p 100: the maximum).
    static func percentile(_ parts: [LatencySamples], _ p: Int) -> Int64? {
        let n = parts.reduce(0) { $0 + $1.count }
        guard n > 0, var lo = parts.compactMap(\.minimum).min(), var hi = parts.compactMap(\.maximum).max() else { return nil }
        let rank = max(1, min(n, (p * n + 99) / 100))
        // The smallest value with at least `rank` values at most it.
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if parts.reduce(0, { $0 + $1.countAtMost(mid) }) >= rank { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
