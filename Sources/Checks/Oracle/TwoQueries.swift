import Engine
import Exchanges
import Kernel

/// `pipeline.silver_sinks: two_queries`: each Silver job is two queries, one
/// writing Silver and one the DLQ, each with its own checkpoint, triggers and
/// batches, each decoding every Bronze row. What goes wrong, recomputed from
/// the batch log, the process runs and the tables:
///
/// - the two queries drift apart: the largest gap between what each had
///   committed, and when (a figure);
/// - one query stops (killed and not restarted, or failing) while the other
///   goes on: the rows behind the stopped one are in neither table, named
///   with their Bronze rows and (with ground truth) their reasons; the
///   design's alert reads the Silver query's series only, so a stopped DLQ
///   query raises nothing (a problem of the accounting check);
/// - every row is decoded by both queries (a figure: rows decoded against
///   Bronze rows).
///
/// A row both queries read but that is in both tables, or in neither, means
/// their decoders disagreed: `SilverDLQExactlyOnce` names it.
enum TwoQueries {
    /// Per exchange (`ExchangeTables` order): the Silver query, the DLQ query.
    static func queries(_ tables: ExchangeTables) -> [(silver: JobName, dlq: JobName)] {
        tables.silverJobs.map { ($0, $0.sibling!) }
    }

    /// Where each query's committed batches had read Bronze to, at the end.
    static func readEnds(_ p: Pipeline, _ k: Int, _ tables: ExchangeTables) -> (silver: Int, dlq: Int) {
        let q = queries(tables)[k]
        return (Int(Oracle.committedEndOffsets(p, q.silver, count: 1)[0]), Int(Oracle.committedEndOffsets(p, q.dlq, count: 1)[0]))
    }

    /// The problems: a query down at the end of the run while its sibling
    /// read further, with the rows stranded between them.
    static func problems(_ input: OracleInput, _ tables: ExchangeTables, fates: BronzeFates) -> [String] {
        let p = input.pipeline
        guard p.config.silverSinks == .twoQueries else { return [] }
        var out: [String] = []
        for (k, q) in queries(tables).enumerated() {
            let ends = readEnds(p, k, tables)
            for (down, other, downEnd, otherEnd) in [(q.dlq, q.silver, ends.dlq, ends.silver), (q.silver, q.dlq, ends.silver, ends.dlq)] {
                guard otherEnd > downEnd, let last = p.processRuns.last(where: { $0.job == down }), let died = last.endMicros else { continue }
                // The rows the stopped query would have written: in neither table.
                let stranded = (downEnd..<otherEnd).filter { fates[k, $0] == .nowhere }
                guard !stranded.isEmpty else { continue }
                let bronze = tables.bronze[k].name.rawValue
                let what = down.isDlqQuery ? "dead letters" : "valid trades"
                let named = stranded.prefix(5).map { b -> String in
                    var s = "row \(b) (\(tables.address(k, b))"
                    if let l = tables.label(input.groundTruth, k, b), case .deadLetter(let reason) = l.outcome { s += ", \(reason.rawValue)" }
                    return s + ")"
                }
                out.append("\(down.rawValue) stopped at \(UTCDateTime(micros: died).iso8601) and was down at the end, having read \(bronze) "
                           + "to row \(downEnd), while \(other.rawValue) went on to row \(otherEnd): \(stranded.count) \(what) of rows "
                           + "[\(downEnd), \(otherEnd)) are in neither \(tables.silver[k].name.rawValue) nor silver_dlq_trades, first: "
                           + named.joined(separator: ", ")
                           + (down.isDlqQuery ? "; the alert reads \(other.rawValue)'s series only, so nothing fired for it" : ""))
            }
        }
        return out
    }

    /// Per exchange: each query's reads, restarts and batches behind, the rows
    /// it decoded, and the largest drift between the two queries.
    static func figures(_ p: Pipeline, _ tables: ExchangeTables) -> JSONValue? {
        guard p.config.silverSinks == .twoQueries else { return nil }
        var out: [String: JSONValue] = [:]
        for (k, q) in queries(tables).enumerated() {
            let ends = readEnds(p, k, tables)
            // Replay the two queries' commits in time order: the gap between
            // what each had committed after each commit.
            let commits = p.batchLog.filter { ($0.job == q.silver || $0.job == q.dlq) && $0.outcome == .committed }
                .sorted { ($0.endMicros ?? 0, $0.job) < ($1.endMicros ?? 0, $1.job) }
            var silverEnd: Int64 = 0, dlqEnd: Int64 = 0, maxDrift: Int64 = 0
            var maxAt: Micros?, behindQuery: JobName?
            for b in commits {
                if b.job == q.silver { silverEnd = max(silverEnd, b.endOffsets[0]) } else { dlqEnd = max(dlqEnd, b.endOffsets[0]) }
                let drift = abs(silverEnd - dlqEnd)
                if drift > maxDrift { maxDrift = drift; maxAt = b.endMicros; behindQuery = silverEnd < dlqEnd ? q.silver : q.dlq }
            }
            func query(_ job: JobName, _ end: Int) -> JSONValue {
                let batches = p.batchLog.filter { $0.job == job }
                let committed = batches.filter { $0.outcome == .committed }
                return .object([
                    "read_to_bronze_row": .int(Int64(end)),
                    "rows_decoded": .int(Int64(committed.reduce(0) { $0 + $1.rowsIn })),
                    "batches": .int(Int64(committed.count)),
                    "batches_behind": .int(Int64(committed.filter(\.behind).count)),
                    "runs": .int(Int64(p.processRuns.filter { $0.job == job }.count)),
                    "up_at_end": .bool(p.processRuns.last { $0.job == job }?.endMicros == nil),
                ])
            }
            out[tables.exchanges[k].lowercased] = .object([
                "bronze_rows": .int(Int64(tables.bronze[k].rowCount)),
                q.silver.rawValue: query(q.silver, ends.silver),
                q.dlq.rawValue: query(q.dlq, ends.dlq),
                "max_drift_rows": .int(maxDrift),
                "max_drift_at": maxAt.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
                "max_drift_behind": behindQuery.map { .string($0.rawValue) } ?? .null,
            ])
        }
        return .object(out)
    }
}
