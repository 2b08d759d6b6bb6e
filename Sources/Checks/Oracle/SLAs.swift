import Engine
import Kernel

/// The two SLAs, measured over the steady state an SLA monitor sees (messages
/// produced after every job's first, start-up, batch ended): Silver latency
/// (the processing time of Silver batches after each run's start-up batch, the
/// SLA on `k2_silver_batch_processing_seconds`) p99 < 60 s, and end-to-end
/// latency (Kafka create time to the commit of the Gold snapshot holding the
/// row) p99 < 5 min. A measurement, not a promise: a scenario states which
/// way it should go with `expect.sla_holds`.
struct SLAs {
    private(set) var silverLatencyP99Micros: Int64?
    private(set) var endToEndP99Micros: Int64?
    private(set) var figures: JSONValue = .null

    var holds: Bool {
        (silverLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros && (endToEndP99Micros ?? 0) < Oracle.endToEndSLAMicros
    }

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
        var e2e: [Int64] = []
        var gi = 0
        let goldSnaps = p.gold.snapshots
        for i in 0..<p.gold.rowCount {
            while gi < goldSnaps.count && i >= goldSnaps[gi].firstRow + goldSnaps[gi].rowCount { gi += 1 }
            guard gi < goldSnaps.count else { break }
            let row = p.gold.row(i)
            guard let k = tables.silver.firstIndex(where: { $0.name == row.sourceTable }) else { continue }
            let b = tables.silver[k].row(row.sourceRow).sourceBronzeRow
            let created = Oracle.kafkaCreateMicros(input.cluster, tables.bronze[k], b)
            if created >= warmedUp { e2e.append(goldSnaps[gi].committedAtMicros - created) }
        }
        silverLatencies.sort(); e2e.sort()
        silverLatencyP99Micros = percentile(silverLatencies, 99)
        endToEndP99Micros = percentile(e2e, 99)
        let silverOK = (silverLatencyP99Micros ?? 0) < Oracle.silverLatencySLAMicros
        let e2eOK = (endToEndP99Micros ?? 0) < Oracle.endToEndSLAMicros
        figures = .object([
            "end_to_end_measured_from": .string(UTCDateTime(micros: warmedUp).iso8601),
            "silver_batch_processing_ms": .object(["p50": .optional(percentile(silverLatencies, 50).map { millis(fromMicros: $0) }),
                                          "p99": .optional(silverLatencyP99Micros.map { millis(fromMicros: $0) }),
                                          "max": .optional(silverLatencies.last.map { millis(fromMicros: $0) }), "target_p99_ms": .int(millis(fromMicros: Oracle.silverLatencySLAMicros)),
                                          "holds": .bool(silverOK)]),
            "end_to_end_ms": .object(["p50": .optional(percentile(e2e, 50).map { millis(fromMicros: $0) }), "p99": .optional(endToEndP99Micros.map { millis(fromMicros: $0) }),
                                      "max": .optional(e2e.last.map { millis(fromMicros: $0) }), "target_p99_ms": .int(millis(fromMicros: Oracle.endToEndSLAMicros)),
                                      "holds": .bool(e2eOK)]),
        ])
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
