import Engine
import Exchanges
import Kernel

/// Nothing is lost: produced = gold + late + duplicates + DLQ + still in
/// flight (per layer), and, with ground truth, every message ended as its
/// label says it may (a valid trade in Gold or dropped late, a duplicate
/// dropped as such or late, a dead letter in the DLQ; in flight is always allowed).
struct Accounting {
    static let name = "accounting"
    private(set) var problems: [String] = []
    private(set) var figures: JSONValue = .null

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, _ tables: ExchangeTables, bronze: BronzeExactlyOnce, silverDLQ: SilverDLQExactlyOnce,
         gold: GoldRecomputation) {
        let p = input.pipeline
        let produced = bronze.produced
        let goldRows = Int64(p.gold.rowCount), dlqRows = Int64(p.dlq.rowCount)
        let silverRows = Int64(tables.silver.reduce(0) { $0 + $1.rowCount })
        let goldInFlight = silverRows - (gold.readEnd[0] + gold.readEnd[1])
        let inFlight = bronze.inFlight + silverDLQ.inFlight + goldInFlight
        // Records retention deleted before Bronze read them are lost, and named as such.
        let expired = bronze.expired
        let unexplained = produced - (goldRows + gold.lateDropped + gold.duplicatesDropped + dlqRows + inFlight + expired)
        if expired > 0 {
            problems.append("\(expired) produced messages lost: data expired from Kafka (topic retention) before Bronze read them, "
                            + "and the Kafka source skipped their offsets (failOnDataLoss false); bronze_exactly_once names each")
        }
        if unexplained != 0 {
            problems.append("\(unexplained) produced messages are unexplained: produced \(produced) = gold \(goldRows) + late \(gold.lateDropped) + duplicates \(gold.duplicatesDropped) + DLQ \(dlqRows) + in flight \(inFlight)\(expired > 0 ? " + expired \(expired)" : "") does not hold")
        }
        // In flight is allowed, but not behind a query that can no longer move.
        problems += Self.restartLoops(p)
        problems += Self.oneWatermarkLosses(gold, tables)
        problems += TwoQueries.problems(input, tables, fates: silverDLQ.fates)
        // Each label honoured: what the ground truth says must happen did.
        var byLabel: [String: [String: Int64]] = [:]
        if let truth = input.groundTruth {
            for k in tables.exchanges.indices {
                for b in 0..<tables.bronze[k].rowCount {
                    guard let l = tables.label(truth, k, b) else {
                        problems.append("\(tables.address(k, b)) has no ground-truth label"); continue
                    }
                    let fate = RowFate(silverDLQ.fates[k, b]) { gold.fate(k, $0) }
                    let outcome: String
                    switch l.outcome { case .deadLetter: outcome = "dlq"; default: outcome = l.outcome.name }
                    byLabel[outcome, default: [:]][fate.rawValue, default: 0] += 1
                    if !Self.allowed(l.outcome, fate) {
                        problems.append("\(tables.address(k, b)): labelled \(l.outcome.name) (\(l.fault.rawValue)) but ended as \(fate.rawValue)")
                    }
                }
            }
        }
        var extra: [String: JSONValue] = [:]
        if p.config.goldWatermark == .binanceOnly {
            extra["late_by_binance_watermark_alone"] = .int(Int64(gold.lostToOneWatermark.count))
        }
        if expired > 0 { extra["lost_expired"] = .int(expired) }
        if let q = TwoQueries.figures(p, tables) { extra["silver_queries"] = q }
        figures = .object(extra.merging([
            "produced": .int(produced), "gold": .int(goldRows), "late_dropped": .int(gold.lateDropped),
            "duplicates_dropped": .int(gold.duplicatesDropped), "dlq": .int(dlqRows), "in_flight": .int(inFlight),
            "unexplained": .int(unexplained),
            "in_flight_by_layer": .object(["kafka_to_bronze": .int(bronze.inFlight), "bronze_to_silver": .int(silverDLQ.inFlight),
                                           "silver_to_gold": .int(goldInFlight)]),
            "by_label": .object(byLabel.mapValues { .object($0.mapValues { .int($0) }) }),
        ]) { a, _ in a })
    }

    /// The ends a label allows.
    static func allowed(_ outcome: ExpectedOutcome, _ fate: RowFate) -> Bool {
        switch (outcome, fate) {
        case (_, .inFlight): return true
        case (.gold, .gold), (.gold, .late), (.backfill, .gold), (.backfill, .late): return true
        case (.duplicate, .duplicate), (.duplicate, .late): return true
        case (.deadLetter, .dlq): return true
        default: return false
        }
    }

    /// `gold_watermark: binance_only`: trades Gold dropped as late that it
    /// would have kept with `withWatermark` on both inputs (the min policy
    /// holds the watermark at the slower input's), named with their rows.
    static func oneWatermarkLosses(_ gold: GoldRecomputation, _ tables: ExchangeTables) -> [String] {
        let lost = gold.lostToOneWatermark
        guard let first = lost.first else { return [] }
        func t(_ ms: Int64) -> String { UTCDateTime(micros: ms * 1_000).iso8601 }
        let byInput = tables.silver.indices.map { k in lost.filter { $0.ref.input == k }.count }
        var out = ["\(lost.count) trades dropped as late by a watermark only Binance sets (gold_watermark binance_only): "
                   + tables.silver.indices.filter { byInput[$0] > 0 }.map { "\(byInput[$0]) from \(tables.silver[$0].name.rawValue)" }.joined(separator: ", ")
                   + "; with withWatermark on both inputs Gold would have kept them, first: \(tables.silver[first.ref.input].name.rawValue) row \(first.ref.row) "
                   + "(event time \(t(first.eventMs))) dropped by gold batch \(first.batchId) against \(t(first.thresholdMs)), "
                   + "where both inputs' watermark was \(t(first.bothThresholdMs))"]
        for d in lost.dropFirst().prefix(4) {
            out.append("late by Binance's watermark alone: \(tables.silver[d.ref.input].name.rawValue) row \(d.ref.row) "
                       + "(event time \(t(d.eventMs))) in gold batch \(d.batchId), threshold \(t(d.thresholdMs)), both inputs' \(t(d.bothThresholdMs))")
        }
        return out
    }

    /// A query stuck in a restart loop: its last attempts all failed on the
    /// same batch (a task exception, e.g. from_avro in FAILFAST mode on a
    /// malformed record), at least twice, and nothing committed since. The
    /// rows behind it are not in flight, they are stuck; Gold has had nothing
    /// new from that exchange since the first failure.
    static func restartLoops(_ p: Pipeline) -> [String] {
        var out: [String] = []
        for job in JobName.everyQuery {
            let attempts = p.batchLog.filter { $0.job == job && $0.outcome != .inFlightAtEnd }
            var failures: [BatchRecord] = []
            for b in attempts.reversed() {
                guard case .taskFailed = b.outcome, failures.isEmpty || failures[0].batchId == b.batchId else { break }
                failures.insert(b, at: 0)
            }
            guard failures.count >= 2, let first = failures.first, case .taskFailed(let why) = first.outcome else { continue }
            let stale = p.config.endMicros - first.startMicros
            let exchange = job.exchange.map { " \($0.lowercased)" } ?? ""
            // A two_queries DLQ query feeds no Gold: its dead letters are what is stale.
            let staleData = job.isDlqQuery ? "the DLQ's\(exchange) dead letters" : "Gold's\(exchange) data"
            out.append("restart loop: \(job.rawValue) failed \(failures.count) times on batch \(first.batchId) "
                       + "(offsets \(first.startOffsets) to \(first.endOffsets)) from \(UTCDateTime(micros: first.startMicros).iso8601) "
                       + "to the end of the run: \(why); \(staleData) stale for \(formatSeconds(stale)) at the end")
        }
        return out
    }
}
