import Codec
import Engine
import Kernel

/// The Gold table's data-quality queries (docs/SQL.md), answered over the
/// table as a reader sees it and held against the recomputation: no message
/// id twice (query 1), the rows per exchange (query 2), the rows per
/// (exchange_date, exchange_hour) partition, as the table lists its
/// partitions and as its rows fall (query 3), and the rows in the hourly
/// window the design reads with partition pruning (query 4: 2026-01-20,
/// hours 14 to 16). The expected figures come from the Silver rows the
/// recomputed batches accepted, never from the Gold table.
struct GoldDataQuality {
    static let name = "gold_data_quality"
    /// Query 4's window: `exchange_date = '2026-01-20' AND exchange_hour BETWEEN 14 AND 16`.
    static let hourlyQueryDate = "2026-01-20"
    static let hourlyQueryHours = 14...16

    private(set) var problems: [String] = []
    private(set) var duplicateIds: Int64 = 0
    private(set) var byExchange: [String: Int64] = [:]
    private(set) var hourlyRows: Int64 = 0
    private(set) var figures: [String: JSONValue] = [:]

    var result: CheckResult { .from(Self.name, problems: problems) }

    /// Rows per event hour (hours since the epoch): a partition is one hour,
    /// its (exchange_date, exchange_hour) a function of it, so rows are counted
    /// by hour and named at the end.
    private var byHour: [Int64: Int64] = [:]
    // The same answers from the recomputation: one row per accepted id, from its Silver row.
    private var wantExchange: [String: Int64] = [:], wantHour: [Int64: Int64] = [:]

    /// The queries over the table, row by row; the recomputation's answers
    /// from the accepted Silver rows the same pass reads.
    mutating func visit(_ v: GoldRows.Visit) {
        if v.occurrence == 2 { duplicateIds += 1 }
        byExchange[v.sourceColumns.exchange, default: 0] += 1
        byHour[Time.floorDiv(v.eventSeconds, 3600), default: 0] += 1
        if v.occurrence == 1, let a = v.acceptedColumns { want(a) }
    }

    private mutating func want(_ r: SilverTable.Columns) {
        wantExchange[r.exchange, default: 0] += 1
        wantHour[Time.floorDiv(r.timestampMicros, Time.microsPerHour), default: 0] += 1
    }

    /// After the Gold rows: the accepted ids Gold lacks count in the
    /// recomputation's answers too; then the answers are held against each other.
    mutating func finish(_ p: Pipeline, _ tables: ExchangeTables, _ model: GoldRecomputation, _ rows: GoldRows) {
        model.forEachAccepted { r in if !rows.inGold(r) { want(tables.silver[r.input].columns(r.row)) } }
        var listed: [String: Int64] = [:]
        for part in p.gold.partitions { listed[Self.partitionKey(part.exchangeDate, part.exchangeHour), default: 0] += Int64(part.rowCount) }
        let byPartition = Self.byPartition(byHour), wantPartition = Self.byPartition(wantHour)
        hourlyRows = Self.inHourlyWindow(byHour)
        let wantHourly = Self.inHourlyWindow(wantHour)

        if duplicateIds > 0 { problems.append("query 1: \(duplicateIds) message ids are in Gold more than once, expected none") }
        for k in Set(byExchange.keys).union(wantExchange.keys).sorted() where byExchange[k] != wantExchange[k] {
            problems.append("query 2: exchange \(k) has \(byExchange[k] ?? 0) Gold rows, recomputed \(wantExchange[k] ?? 0)")
        }
        for k in Set(byPartition.keys).union(wantPartition.keys).union(listed.keys).sorted()
        where byPartition[k] != wantPartition[k] || listed[k] != wantPartition[k] {
            problems.append("query 3: partition \(k) lists \(listed[k] ?? 0) rows and holds \(byPartition[k] ?? 0), recomputed \(wantPartition[k] ?? 0)")
        }
        if hourlyRows != wantHourly {
            problems.append("query 4: \(hourlyRows) Gold rows on \(Self.hourlyQueryDate) hours \(Self.hourlyQueryHours.lowerBound)-\(Self.hourlyQueryHours.upperBound), recomputed \(wantHourly)")
        }
        figures = [
            "duplicate_message_ids": .int(duplicateIds),
            "exchange_breakdown": .object(byExchange.mapValues { .int($0) }),
            "hourly_query": .object([
                "exchange_date": .string(Self.hourlyQueryDate),
                "exchange_hours": .string("\(Self.hourlyQueryHours.lowerBound)-\(Self.hourlyQueryHours.upperBound)"),
                "rows": .int(hourlyRows),
            ]),
        ]
    }

    /// Rows per partition name, from rows per event hour.
    static func byPartition(_ byHour: [Int64: Int64]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (h, n) in byHour {
            let c = UTCDateTime(micros: h * Time.microsPerHour)
            out[partitionKey(c.dateString, Int(c.hour)), default: 0] += n
        }
        return out
    }

    /// Rows in query 4's window, from rows per event hour.
    static func inHourlyWindow(_ byHour: [Int64: Int64]) -> Int64 {
        byHour.reduce(0) { sum, e in
            let c = UTCDateTime(micros: e.key * Time.microsPerHour)
            return sum + (inHourlyWindow(c.dateString, Int(c.hour)) ? e.value : 0)
        }
    }

    /// `2026-01-20/09`, the summary's partition name.
    static func partitionKey(_ date: String, _ hour: Int) -> String { "\(date)/\(Oracle.twoDigits(hour))" }

    static func inHourlyWindow(_ date: String, _ hour: Int) -> Bool { date == hourlyQueryDate && hourlyQueryHours.contains(hour) }
}
