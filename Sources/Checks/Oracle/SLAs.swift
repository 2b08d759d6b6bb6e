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
    /// Per exchange (lowercased) and layer (bronze, silver, gold): sorted record latencies.
    private(set) var recordLatencies: [String: [String: [Int64]]] = [:]
    private(set) var figures: JSONValue = .null

    init(_ input: OracleInput, _ tables: ExchangeTables) {
        let p = input.pipeline
        let warmedUp = Self.warmedUpMicros(p, feedStartMicros: input.feedStartMicros)
        var silverLatencies: [Int64] = []
        for job in tables.silverJobs {
            var runs = Set<Int>()
            for b in p.batchLog where b.job == job {
                guard let end = b.endMicros else { continue }
                if runs.insert(b.runNumber).inserted { continue }
                silverLatencies.append(end - b.startMicros)
            }
        }
        // Per record: Kafka create time to the commit of the snapshot holding it.
        var e2e: [Int64] = [], silverRecords: [Int64] = []
        var created: [[Micros]] = []
        for (k, e) in tables.exchanges.enumerated() {
            let bronze = tables.bronze[k], silver = tables.silver[k]
            let bronzeCommit = Self.commitTimes(bronze.snapshots, rows: bronze.rowCount)
            let silverCommit = Self.commitTimes(silver.snapshots, rows: silver.rowCount)
            let made = (0..<bronze.rowCount).map { Oracle.kafkaCreateMicros(input.cluster, bronze, $0) }
            created.append(made)
            var b: [Int64] = [], sv: [Int64] = []
            for i in 0..<bronze.rowCount where made[i] >= warmedUp { b.append(bronzeCommit[i] - made[i]) }
            for i in 0..<silver.rowCount {
                let c = made[silver.row(i).sourceBronzeRow]
                if c >= warmedUp { sv.append(silverCommit[i] - c) }
            }
            silverRecords += sv
            b.sort(); sv.sort()
            recordLatencies[e.lowercased] = ["bronze": b, "silver": sv, "gold": []]
        }
        let goldCommit = Self.commitTimes(p.gold.snapshots, rows: p.gold.rowCount)
        var goldBy: [[Int64]] = tables.exchanges.map { _ in [] }
        for i in 0..<p.gold.rowCount {
            let row = p.gold.row(i)
            guard let k = tables.silver.firstIndex(where: { $0.name == row.sourceTable }) else { continue }
            let c = created[k][tables.silver[k].row(row.sourceRow).sourceBronzeRow]
            if c >= warmedUp { e2e.append(goldCommit[i] - c); goldBy[k].append(goldCommit[i] - c) }
        }
        for (k, e) in tables.exchanges.enumerated() { recordLatencies[e.lowercased]!["gold"] = goldBy[k].sorted() }
        silverLatencies.sort(); e2e.sort(); silverRecords.sort()
        silverLatencyP99Micros = percentile(silverLatencies, 99)
        silverRecordLatencyP99Micros = percentile(silverRecords, 99)
        endToEndP99Micros = percentile(e2e, 99)
        let silverOK = (silverLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros
        let silverRecordOK = (silverRecordLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros
        let e2eOK = (endToEndP99Micros ?? 0) < Oracle.endToEndSLAMicros
        func band(_ v: [Int64]) -> [String: JSONValue] {
            ["p50": .optional(percentile(v, 50).map { millis(fromMicros: $0) }), "p99": .optional(percentile(v, 99).map { millis(fromMicros: $0) }), "max": .optional(v.last.map { millis(fromMicros: $0) })]
        }
        var perExchange: [String: JSONValue] = [:]
        for (e, layers) in recordLatencies { perExchange[e] = .object(layers.mapValues { .object(band($0)) }) }
        figures = .object([
            "end_to_end_measured_from": .string(UTCDateTime(micros: warmedUp).iso8601),
            "silver_batch_processing_ms": .object(band(silverLatencies).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.silverLatencySLAMicros)), "holds": .bool(silverOK)]) { a, _ in a }),
            "silver_record_latency_ms": .object(band(silverRecords).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.silverLatencySLAMicros)), "holds": .bool(silverRecordOK)]) { a, _ in a }),
            "end_to_end_ms": .object(band(e2e).merging([
                "target_p99_ms": .int(millis(fromMicros: Oracle.endToEndSLAMicros)), "holds": .bool(e2eOK)]) { a, _ in a }),
            "record_latency_ms": .object(perExchange),
        ])
    }

    /// The commit time of every row: its snapshot's (rows are in commit order).
    static func commitTimes(_ snapshots: [Snapshot], rows: Int) -> [Micros] {
        var out = [Micros](repeating: 0, count: rows)
        for s in snapshots where s.rowCount > 0 {
            for i in s.firstRow..<min(rows, s.firstRow + s.rowCount) { out[i] = s.committedAtMicros }
        }
        return out
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
