import Engine

/// One pass over the Gold table for every checker that reads it (exactly
/// once, content, the data-quality queries, end-to-end latency): each row's
/// lineage and event time are read once, and its message id is looked up in
/// the recomputation's accepted ids. Checkers read further columns of the
/// rows they need (`GoldTable` and `SilverTable` column readers), never a
/// whole row they do not compare. What the checkers remember of the ids they
/// have seen is one byte per Silver row (how often its id is in Gold so far,
/// counted to 2), not a set of strings.
struct GoldRows {
    /// Gold row `index` as the checkers see it.
    struct Visit {
        let index: Int
        /// The Silver row the Gold row came from (its lineage).
        let source: SilverRowRef
        /// Its event time in whole seconds (its partition derives from it).
        let eventSeconds: Int64
        /// The Silver row the recomputation accepted for the row's message id; nil when none did.
        let accepted: SilverRowRef?
        /// The columns of the `source` row, and of the `accepted` one (read once for every checker).
        let sourceColumns: SilverTable.Columns
        let acceptedColumns: SilverTable.Columns?
        /// 1 the first time the row's message id is in Gold, 2 the second, and so on.
        let occurrence: Int
    }

    /// Per input, per Silver row: how often the id it holds is in Gold (0, 1, 2 for "more").
    private var seen: [[UInt8]]
    /// Ids in Gold that no batch accepted (a failure; none in a sound run), with their counts.
    private var unaccepted: [String: Int] = [:]

    /// Reads every Gold row in table order and gives it to `body`.
    init(_ p: Pipeline, _ tables: ExchangeTables, _ model: GoldRecomputation, _ body: (Visit) -> Void) {
        seen = tables.silver.map { [UInt8](repeating: 0, count: $0.rowCount) }
        let gold = p.gold
        for i in 0..<gold.rowCount {
            let (input, row, eventSeconds) = gold.sourceAndEventSeconds(i)
            let source = SilverRowRef(input: input, row: row)
            // The accepted row of the id a Silver row holds is that row when the
            // recomputation accepted it there (each id is accepted once, at its
            // first row); otherwise the id is looked up.
            let id = model.isAccepted(source) ? nil : gold.messageId(i)
            let accepted = id == nil ? source : model.acceptedRow(of: id!)
            let occurrence: Int
            if let ref = accepted {
                let n = seen[ref.input][ref.row]
                if n < 2 { seen[ref.input][ref.row] = n + 1 }
                occurrence = Int(n) + 1
            } else {
                let id = id!
                unaccepted[id, default: 0] += 1
                occurrence = unaccepted[id]!
            }
            let columns = tables.silver[input].columns(row)
            let acceptedColumns = accepted == source ? columns : accepted.map { tables.silver[$0.input].columns($0.row) }
            body(Visit(index: i, source: source, eventSeconds: eventSeconds, accepted: accepted,
                       sourceColumns: columns, acceptedColumns: acceptedColumns, occurrence: occurrence))
        }
    }

    /// Whether the id accepted from Silver row `r` is in Gold.
    func inGold(_ r: SilverRowRef) -> Bool { seen[r.input][r.row] > 0 }
}
