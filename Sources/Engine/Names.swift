import Kernel
import Codec

/// The five streaming jobs of docs/REFERENCE.md §2, in a fixed order (the order used for
/// every listing and for breaking ties between equal-time events).
///
/// `allCases` is those five, the design's jobs. With `pipeline.silver_sinks:
/// two_queries` each Silver job is two queries, the second writing the DLQ
/// (`silver_binance_dlq`, `silver_kraken_dlq`): they exist only in that
/// variant, so they are listed apart (`dlqQueries`, and `everyQuery` for all
/// seven) and every listing of the design stays the five.
public enum JobName: String, Sendable, CaseIterable, Comparable, Hashable {
    case bronzeBinance = "bronze_binance"
    case bronzeKraken = "bronze_kraken"
    case silverBinance = "silver_binance"
    case silverKraken = "silver_kraken"
    case gold = "gold"
    /// `two_queries`: the query of silver_binance's application that writes the DLQ.
    case silverBinanceDlq = "silver_binance_dlq"
    /// `two_queries`: the query of silver_kraken's application that writes the DLQ.
    case silverKrakenDlq = "silver_kraken_dlq"

    /// The design's five jobs (not the two DLQ queries of `two_queries`).
    public static var allCases: [JobName] { [.bronzeBinance, .bronzeKraken, .silverBinance, .silverKraken, .gold] }
    /// The DLQ-writing queries of `pipeline.silver_sinks: two_queries`.
    public static let dlqQueries: [JobName] = [.silverBinanceDlq, .silverKrakenDlq]
    /// The five jobs, then the two DLQ queries: what a run iterates when it
    /// may hold either (a query that is not configured is skipped).
    public static let everyQuery: [JobName] = allCases + dlqQueries

    public static func < (a: Self, b: Self) -> Bool { a.ordinal < b.ordinal }
    public var ordinal: Int { Self.everyQuery.firstIndex(of: self)! }

    /// The Silver job whose application runs this query: itself for the five
    /// jobs, silver_<x> for silver_<x>_dlq. Its cost profile, settings and
    /// cost overrides apply to both of its queries.
    public var application: JobName {
        switch self {
        case .silverBinanceDlq: return .silverBinance
        case .silverKrakenDlq: return .silverKraken
        default: return self
        }
    }

    /// The DLQ query of a Silver job under `two_queries`, and back; nil otherwise.
    public var sibling: JobName? {
        switch self {
        case .silverBinance: return .silverBinanceDlq
        case .silverKraken: return .silverKrakenDlq
        case .silverBinanceDlq: return .silverBinance
        case .silverKrakenDlq: return .silverKraken
        default: return nil
        }
    }

    public var isDlqQuery: Bool { self == .silverBinanceDlq || self == .silverKrakenDlq }

    /// The exchange a Bronze or Silver job serves; nil for Gold.
    public var exchange: ExchangeName? {
        switch self {
        case .bronzeBinance, .silverBinance, .silverBinanceDlq: return .binance
        case .bronzeKraken, .silverKraken, .silverKrakenDlq: return .kraken
        case .gold: return nil
        }
    }

    /// The default processing-time trigger of docs/REFERENCE.md §2 (silver_binance: 60 s,
    /// the value after decision #013; 30 s reproduces the incident). A DLQ
    /// query's is its Silver job's.
    public var defaultTriggerMicros: Micros {
        switch self {
        case .bronzeBinance: return 10 * Time.microsPerSecond
        case .bronzeKraken: return 30 * Time.microsPerSecond
        case .silverBinance, .silverBinanceDlq: return 60 * Time.microsPerSecond
        case .silverKraken, .silverKrakenDlq: return 30 * Time.microsPerSecond
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
