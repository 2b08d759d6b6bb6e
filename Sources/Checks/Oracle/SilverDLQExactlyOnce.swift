import Engine

/// Every Bronze row reaches exactly one of its exchange's Silver table and the
/// DLQ: the Silver job's two sinks commit each batch once, and a row is either
/// a valid trade or a dead letter, never both, never neither once its batch
/// committed.
///
/// Its by-product, `fates`, says where each Bronze row went; the Silver
/// content, DLQ and accounting checkers read it.
struct SilverDLQExactlyOnce {
    static let name = "silver_dlq_exactly_once"
    private(set) var problems: [String] = []
    /// Per exchange (`ExchangeTables` order), per Bronze row: where it went.
    /// A row claimed twice keeps its first claim.
    private(set) var fates: BronzeFates
    /// Silver rows that claimed a Bronze row another Silver row had claimed
    /// first: (exchange index, Silver row, Bronze row). None in a sound run.
    private(set) var extraSilverClaims: [(k: Int, row: Int, bronzeRow: Int)] = []
    /// Bronze rows in neither table that no committed Silver batch has read yet.
    private(set) var inFlight: Int64 = 0
    private let twoQueries: Bool

    var result: CheckResult { .from(Self.name, problems: problems) }

    /// `firstClaim` sees each Silver row that is the first claim of its Bronze
    /// row, as it is met (exchange index, row index): the Silver tables are
    /// walked once for this checker and the content checker. This checker
    /// reads only each row's lineage column.
    init(_ input: OracleInput, _ tables: ExchangeTables, firstClaim: (Int, Int) -> Void = { _, _ in }) {
        let p = input.pipeline
        fates = BronzeFates(rowCounts: tables.bronze.map(\.rowCount))
        // two_queries: each query decides a row's table on its own.
        twoQueries = p.config.silverSinks == .twoQueries
        for k in tables.exchanges.indices {
            let silver = tables.silver[k], bronze = tables.bronze[k]
            for i in 0..<silver.rowCount {
                let b = silver.sourceBronzeRow(i)
                guard b >= 0 && b < bronze.rowCount else {
                    problems.append("\(silver.name.rawValue) row \(i) points at Bronze row \(b), which does not exist"); continue
                }
                if claim(k, b, as: .silver(row: i), bronze, silver.name.rawValue) { firstClaim(k, i) }
            }
        }
        for i in 0..<p.dlq.rowCount {
            // DLQ rows whose source is not a Bronze row are the DLQ checker's to report.
            guard let (k, b) = Self.source(ofDLQRow: i, p, tables) else { continue }
            _ = claim(k, b, as: .deadLetter(row: i), tables.bronze[k], tables.silver[k].name.rawValue)
        }
        for k in tables.exchanges.indices {
            let bronze = tables.bronze[k]
            // two_queries: a row is judged once both queries have read it; before, it
            // is in flight at the query behind.
            let ends = twoQueries ? TwoQueries.readEnds(p, k, tables) : nil
            let readEnd = ends.map { min($0.silver, $0.dlq) } ?? Int(Oracle.committedEndOffsets(p, tables.silverJobs[k], count: 1)[0])
            for b in 0..<bronze.rowCount where fates[k, b] == .nowhere {
                if b >= readEnd { inFlight += 1 }
                else if twoQueries {
                    problems.append("\(bronze.name.rawValue) row \(b) is in neither Silver nor the DLQ although both \(tables.silverJobs[k].rawValue) "
                                    + "(read to row \(ends!.silver)) and \(tables.silverJobs[k].sibling!.rawValue) (to row \(ends!.dlq)) read it: "
                                    + "their decoders disagreed (the Silver query judged it invalid, the DLQ query valid)")
                } else { problems.append("\(bronze.name.rawValue) row \(b) is in neither Silver nor the DLQ (its batch committed)") }
            }
        }
    }

    /// True when the claim is the Bronze row's first.
    private mutating func claim(_ k: Int, _ b: Int, as fate: BronzeFate, _ bronze: BronzeTable, _ silverName: String) -> Bool {
        let first = fates[k, b]
        guard first == .nowhere else {
            if case .silver(let c) = fate { extraSilverClaims.append((k, c, b)) }
            // Name the failure: a Silver duplicate (a batch appended to Silver twice, as a
            // foreachBatch append re-run after a crash does), a DLQ duplicate, or both tables.
            switch (first, fate) {
            case (.silver(let a), .silver(let c)):
                problems.append("Silver duplicate: \(bronze.name.rawValue) row \(b) is in \(silverName) twice (rows \(a) and \(c))")
            case (.deadLetter(let a), .deadLetter(let c)):
                problems.append("DLQ duplicate: \(bronze.name.rawValue) row \(b) is in silver_dlq_trades twice (rows \(a) and \(c))")
            default:
                problems.append("\(bronze.name.rawValue) row \(b) is in both \(silverName) and the DLQ"
                                + (twoQueries ? ": the Silver query and the DLQ query decoded it differently (each decides on its own)" : ""))
            }
            return false
        }
        fates[k, b] = fate
        return true
    }

    /// The Bronze row (exchange index, row) a DLQ row names, when it names one that exists.
    static func source(ofDLQRow i: Int, _ p: Pipeline, _ tables: ExchangeTables) -> (k: Int, b: Int)? {
        let row = p.dlq.row(i)
        guard let k = tables.bronze.firstIndex(where: { $0.name == row.sourceTable }) else { return nil }
        let b = row.sourceBronzeRow
        guard b >= 0 && b < tables.bronze[k].rowCount else { return nil }
        return (k, b)
    }
}
