import Engine

/// One pass over the Gold table for every checker that reads it (exactly
/// once, content, the data-quality queries, end-to-end latency): each row is
/// read once, its message id looked up once in the recomputation's accepted
/// ids, and the accepted Silver row read once. What the checkers remember of
/// the ids they have seen is one byte per Silver row (how often its id is in
/// Gold so far, counted to 2), not a set of strings.
struct GoldRows {
    /// Gold row `index` as the checkers see it.
    struct Visit {
        let index: Int
        let row: GoldRow
        /// The Silver row the recomputation accepted for the row's message id, and that row; nil when none did.
        let accepted: (ref: SilverRowRef, row: SilverRow)?
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
        for i in 0..<p.gold.rowCount {
            let row = p.gold.row(i)
            let id = row.trade.messageId
            var read: (ref: SilverRowRef, row: SilverRow)?
            let ref = model.accepted.find(id, hash: AcceptedIds.hash(id)) { r in
                let s = tables.silver[r.input].row(r.row)
                read = (r, s)
                return s.trade.messageId
            }
            var accepted: (ref: SilverRowRef, row: SilverRow)?
            let occurrence: Int
            if let ref {
                accepted = read.map { $0.ref == ref ? $0 : (ref, tables.silver[ref.input].row(ref.row)) }
                let n = seen[ref.input][ref.row]
                if n < 2 { seen[ref.input][ref.row] = n + 1 }
                occurrence = Int(n) + 1
            } else {
                unaccepted[id, default: 0] += 1
                occurrence = unaccepted[id]!
            }
            body(Visit(index: i, row: row, accepted: accepted, occurrence: occurrence))
        }
    }

    /// Whether the id accepted from Silver row `r` is in Gold.
    func inGold(_ r: SilverRowRef) -> Bool { seen[r.input][r.row] > 0 }
}
