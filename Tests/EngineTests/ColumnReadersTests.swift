import Testing
import Kernel
import Codec
@testable import Engine

/// The single-column readers the checks use instead of whole rows answer
/// what the whole row would: `holds` is `trade(i) == t` for every field a
/// trade can differ in, Swift's string equality included, and the vendor
/// entries are the decoded map's.
@Suite struct ColumnReadersTests {
    static let base = Trade(messageId: "0b6a3c1e-5f2d-4c8a-9e7b-1a2b3c4d5e6f", tradeId: "T1", symbol: "BTCUSDT",
                            exchange: "BINANCE", assetClass: "crypto", timestampMicros: 1_768_900_000_000_000,
                            price: Decimal8(units: 4_200_000_000_000), quantity: Decimal8(units: 1_000_000),
                            currency: "USDT", side: .buy, tradeConditions: ["A"], sourceSequence: 7,
                            ingestionTimestampMicros: 1_768_900_000_100_000, platformSequence: nil,
                            vendorData: ["is_best_match": "true", "event_time": "1768900000000"])

    /// Variants of `base`, each different in one way (or, for the last ones, only in spelling).
    static var variants: [Trade] {
        var out: [Trade] = []
        func with(_ change: (inout Trade) -> Void) { var t = base; change(&t); out.append(t) }
        with { $0.messageId = "0B6A3C1E-5F2D-4C8A-9E7B-1A2B3C4D5E6F" }     // upper case: another key
        with { $0.messageId = "0b6a3c1e-5f2d-4c8a-9e7b-1a2b3c4d5e60" }
        with { $0.messageId = "not-a-uuid" }
        with { $0.tradeId = "T2" }
        with { $0.symbol = "ETHUSDT" }
        with { $0.exchange = "KRAKEN" }
        with { $0.assetClass = "equity" }
        with { $0.timestampMicros += 1 }
        with { $0.price = Decimal8(units: $0.price.units + 1) }
        with { $0.quantity = Decimal8(units: 2) }
        with { $0.currency = "USD" }
        with { $0.side = .sell }
        with { $0.tradeConditions = [] }
        with { $0.tradeConditions = ["A", "B"] }
        with { $0.sourceSequence = nil }
        with { $0.sourceSequence = 8 }
        with { $0.ingestionTimestampMicros -= 1 }
        with { $0.platformSequence = 0 }
        with { $0.vendorData = nil }
        with { $0.vendorData = [:] }
        with { $0.vendorData!["is_best_match"] = "false" }
        with { $0.vendorData!["extra"] = "x" }
        with { $0.vendorData!.removeValue(forKey: "event_time") }
        // Canonically equivalent strings: Swift's `==` calls them equal, so must `holds`.
        with { $0.tradeId = "e\u{301}" }
        with { $0.vendorData = ["caf\u{E9}": "x"] }
        with { $0.vendorData = ["cafe\u{301}": "x"] }
        return out
    }

    @Test func holdsIsTheWholeRowsEquality() {
        let pool = StringPool(), lists = StringListPool()
        var columns = TradeColumns()
        let rows = [Self.base] + Self.variants
        for t in rows { columns.append(t, pool: pool, lists: lists) }
        for i in rows.indices {
            let stored = columns.trade(i, pool: pool, lists: lists, vendorIsCanonicalMap: true)
            for t in rows {
                #expect(columns.holds(i, t, pool: pool, lists: lists) == (stored == t), "row \(i) against \(t)")
            }
        }
        // The spelling cases are equal to each other by `==`, and `holds` agrees.
        #expect(columns.holds(rows.count - 1, rows[rows.count - 2], pool: pool, lists: lists))
    }

    @Test func vendorEntriesAreTheDecodedMapsEntries() {
        for m in Self.variants.map(\.vendorData) + [Self.base.vendorData] {
            let bytes = VendorData.encode(m)[...]
            let entries = VendorData.entries(bytes)
            #expect((entries == nil) == (m == nil))
            if let entries { #expect(Dictionary(entries, uniquingKeysWith: { a, _ in a }) == m) }
            #expect(VendorData.decode(bytes) == m)
        }
    }
}
