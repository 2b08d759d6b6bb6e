/// The two exchanges: each has one Kafka topic (`market.crypto.trades.<exchange>`),
/// one Schema Registry subject (`<topic>-value`), one Bronze and one Silver
/// table, and its own symbol rules (`TradeValidator`).
public enum ExchangeName: String, Sendable, CaseIterable, Comparable {
    case binance = "BINANCE"
    case kraken = "KRAKEN"

    /// `binance`, `kraken`: the spelling used in topic, table and metric names.
    public var lowercased: String { rawValue.lowercased() }
    public var topic: String { "market.crypto.trades.\(lowercased)" }
    public var subject: String { topic + "-value" }

    public init?(topic: String) {
        guard let e = ExchangeName.allCases.first(where: { $0.topic == topic }) else { return nil }
        self = e
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
