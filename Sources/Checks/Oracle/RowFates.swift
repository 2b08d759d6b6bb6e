/// Where a Bronze row went, as the oracle reads it from the Silver and DLQ
/// tables (not from the engine's counters).
enum BronzeFate: Equatable {
    /// In neither Silver nor the DLQ (yet).
    case nowhere
    /// Row `row` of its exchange's Silver table.
    case silver(row: Int)
    /// Row `row` of the DLQ.
    case deadLetter(row: Int)
}

/// What Gold's recomputed batches did with a Silver row.
enum SilverFate: UInt8 {
    /// No committed Gold batch has read it yet.
    case unread
    case gold
    /// Dropped as late: event time at or below the batch's late threshold.
    case late
    /// Dropped as a duplicate of a message id already accepted.
    case duplicate
}

/// Where a produced message ended, end to end: the accounting's categories.
enum RowFate: String {
    case inFlight = "in_flight"
    case gold
    case late
    case duplicate
    case dlq

    init(_ bronze: BronzeFate, silver: (Int) -> SilverFate) {
        switch bronze {
        case .nowhere: self = .inFlight
        case .deadLetter: self = .dlq
        case .silver(let s):
            switch silver(s) {
            case .unread: self = .inFlight
            case .gold: self = .gold
            case .late: self = .late
            case .duplicate: self = .duplicate
            }
        }
    }
}

/// A Silver row by exchange index (`ExchangeTables` order) and row; sorts by both.
struct SilverRowRef: Hashable, Comparable {
    var input: Int
    var row: Int
    static func < (a: Self, b: Self) -> Bool { (a.input, a.row) < (b.input, b.row) }
}

/// Per exchange (`ExchangeTables` order), per Bronze row: its `BronzeFate`,
/// four bytes a row (0 nowhere, r + 1 Silver row r, -(r + 1) DLQ row r), so
/// that a week of trades is a few hundred MB, not an enum array of 16 bytes a row.
struct BronzeFates {
    private var codes: [[Int32]]

    init(rowCounts: [Int]) { codes = rowCounts.map { [Int32](repeating: 0, count: $0) } }

    subscript(k: Int, b: Int) -> BronzeFate {
        get {
            let c = codes[k][b]
            return c == 0 ? .nowhere : c > 0 ? .silver(row: Int(c) - 1) : .deadLetter(row: Int(-c) - 1)
        }
        set {
            switch newValue {
            case .nowhere: codes[k][b] = 0
            case .silver(let r): precondition(r < Int(Int32.max)); codes[k][b] = Int32(r + 1)
            case .deadLetter(let r): precondition(r < Int(Int32.max)); codes[k][b] = -Int32(r + 1)
            }
        }
    }
}
