import Kernel
import Codec

/// The five streaming jobs of docs/REFERENCE.md §2, in a fixed order (the order used for
/// every listing and for breaking ties between equal-time events).
public enum JobName: String, Sendable, CaseIterable, Comparable, Hashable {
    case bronzeBinance = "bronze_binance"
    case bronzeKraken = "bronze_kraken"
    case silverBinance = "silver_binance"
    case silverKraken = "silver_kraken"
    case gold = "gold"

    public static func < (a: Self, b: Self) -> Bool { a.ordinal < b.ordinal }
    public var ordinal: Int { Self.allCases.firstIndex(of: self)! }

    /// The exchange a Bronze or Silver job serves; nil for Gold.
    public var exchange: ExchangeName? {
        switch self {
        case .bronzeBinance, .silverBinance: return .binance
        case .bronzeKraken, .silverKraken: return .kraken
        case .gold: return nil
        }
    }

    /// The default processing-time trigger of docs/REFERENCE.md §2 (silver_binance: 60 s,
    /// the value after decision #013; 30 s reproduces the incident).
    public var defaultTriggerMicros: Micros {
        switch self {
        case .bronzeBinance: return 10 * Time.microsPerSecond
        case .bronzeKraken: return 30 * Time.microsPerSecond
        case .silverBinance: return 60 * Time.microsPerSecond
        case .silverKraken: return 30 * Time.microsPerSecond
        case .gold: return 60 * Time.microsPerSecond
        }
    }
}

/// The six Iceberg tables (docs/REFERENCE.md §2), in a fixed order.
public enum TableName: String, Sendable, CaseIterable, Comparable, Hashable {
    case bronzeBinance = "bronze_binance_trades"
    case bronzeKraken = "bronze_kraken_trades"
    case silverBinance = "silver_binance_trades"
    case silverKraken = "silver_kraken_trades"
    case silverDlq = "silver_dlq_trades"
    case gold = "gold_crypto_trades"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
