import Kernel

/// Silver's validation (docs/REFERENCE.md §4, VALIDATION category). Checks run in the
/// table's order and the first failure names the reason.
///
/// The rules, each stated once here and documented in docs/VALIDATION.md:
/// - message_id: a canonical UUID version 4 string;
/// - price, quantity: > 0 and within decimal(18,8) (|units| < 10^18);
/// - symbol: Binance `[A-Z0-9]{5,20}` (e.g. BTCUSDT), Kraken `BASE/QUOTE`
///   with each side `[A-Z0-9]{2,10}` (e.g. BTC/USD);
/// - exchange: equal to the topic's exchange;
/// - currency: `[A-Z]{3,5}` and the symbol's quote (BTCUSDT ends with it,
///   BTC/USD has it after the slash);
/// - timestamp: not zero, not before 2009-01-03T00:00:00Z, and not more than
///   5 minutes after the record's ingestion_timestamp;
/// - vendor_data: at most 64 entries, keys non-empty, keys and values at most
///   256 bytes of UTF-8.
public enum TradeValidator {
    public static let earliestTimestampMicros: Micros = 1_230_940_800_000_000  // 2009-01-03T00:00:00Z
    public static let maxFutureSkewMicros: Micros = 5 * Time.microsPerMinute
    public static let maxVendorEntries = 64
    public static let maxVendorFieldBytes = 256

    public static func firstFailure(_ t: Trade, topicExchange: ExchangeName) -> DeadLetterReason? {
        if !UUIDv4.isValid(t.messageId) { return .invalidMessageId }
        if t.price.units <= 0 || !t.price.isWithinPrecision { return .invalidPrice }
        if t.quantity.units <= 0 || !t.quantity.isWithinPrecision { return .invalidQuantity }
        if !symbolIsValid(t.symbol, for: topicExchange) { return .invalidSymbol }
        if t.exchange != topicExchange.rawValue { return .exchangeMismatch }
        if !currencyIsValid(t.currency, symbol: t.symbol, for: topicExchange) { return .invalidCurrency }
        if t.timestampMicros == 0 || t.timestampMicros < earliestTimestampMicros
            || isAfterSkew(t.timestampMicros, t.ingestionTimestampMicros) { return .invalidTimestamp }
        if let v = t.vendorData, !vendorDataIsValid(v) { return .invalidVendorData }
        return nil
    }

    /// `timestamp > ingestion + maxFutureSkew`, for every pair of 64-bit
    /// values a payload can carry (an ingestion time near Int64.max must not
    /// overflow: timestamp - skew cannot, as timestamp >= 2009 here).
    @inline(__always)
    static func isAfterSkew(_ timestamp: Micros, _ ingestion: Micros) -> Bool {
        timestamp - maxFutureSkewMicros > ingestion
    }

    /// A sentence for the DLQ's `error_message`.
    public static func message(for reason: DeadLetterReason, _ t: Trade, topicExchange: ExchangeName) -> String {
        switch reason {
        case .invalidMessageId: return "message_id '\(t.messageId.prefix(64))' is not a UUID v4"
        case .invalidPrice: return "price \(t.price) is not positive or exceeds decimal(18,8)"
        case .invalidQuantity: return "quantity \(t.quantity) is not positive or exceeds decimal(18,8)"
        case .invalidSymbol: return "symbol '\(t.symbol.prefix(64))' is not a valid \(topicExchange.rawValue) symbol"
        case .exchangeMismatch: return "exchange '\(t.exchange.prefix(64))' does not match topic exchange \(topicExchange.rawValue)"
        case .invalidCurrency: return "currency '\(t.currency.prefix(64))' is not the quote currency of \(t.symbol.prefix(64))"
        case .invalidTimestamp:
            return "timestamp \(t.timestampMicros) is zero, before 2009-01-03 or more than 5 minutes after ingestion \(t.ingestionTimestampMicros)"
        case .invalidVendorData: return "vendor_data has an empty key, too many entries or an over-long field"
        default: return reason.rawValue
        }
    }

    static func isUpperAlnum(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 48 && c <= 57) }

    public static func symbolIsValid(_ s: String, for e: ExchangeName) -> Bool {
        let u = Array(s.utf8)
        switch e {
        case .binance:
            return (5...20).contains(u.count) && u.allSatisfy(isUpperAlnum)
        case .kraken:
            guard let slash = u.firstIndex(of: UInt8(ascii: "/")) else { return false }
            let base = u[..<slash], quote = u[(slash + 1)...]
            return (2...10).contains(base.count) && (2...10).contains(quote.count)
                && base.allSatisfy(isUpperAlnum) && quote.allSatisfy(isUpperAlnum)
        }
    }

    static func currencyIsValid(_ c: String, symbol: String, for e: ExchangeName) -> Bool {
        let u = Array(c.utf8)
        guard (3...5).contains(u.count), u.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { return false }
        switch e {
        case .binance: return symbol.hasSuffix(c) && symbol.utf8.count > u.count
        case .kraken: return symbol.hasSuffix("/" + c)
        }
    }

    static func vendorDataIsValid(_ v: [String: String]) -> Bool {
        guard v.count <= maxVendorEntries else { return false }
        for (k, value) in v {
            if k.isEmpty || k.utf8.count > maxVendorFieldBytes || value.utf8.count > maxVendorFieldBytes { return false }
        }
        return true
    }
}
