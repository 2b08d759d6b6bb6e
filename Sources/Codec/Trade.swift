import Kernel

/// Trade side (Avro enum `Side { BUY, SELL }`; symbol index 0 = BUY).
public enum Side: String, Sendable, CaseIterable {
    case buy = "BUY"
    case sell = "SELL"
}

/// The V2 trade record of docs/REFERENCE.md §2 — 15 fields, in schema order.
///
/// Values are held exactly: decimals as `Decimal8`, times as integer micros.
/// The struct can hold invalid values (a zero price, a bad symbol) because the
/// generators must be able to encode them and Silver must be able to reject
/// them; validity is decided by Silver's validation, not by this type.
public struct Trade: Equatable, Hashable, Sendable {
    public var messageId: String
    public var tradeId: String
    public var symbol: String
    public var exchange: String
    public var assetClass: String
    /// Trade time, timestamp-micros.
    public var timestampMicros: Micros
    public var price: Decimal8
    public var quantity: Decimal8
    /// Quote currency.
    public var currency: String
    public var side: Side
    public var tradeConditions: [String]
    public var sourceSequence: Int64?
    /// Ingestion time, timestamp-micros.
    public var ingestionTimestampMicros: Micros
    public var platformSequence: Int64?
    /// Avro map<string>. A Dictionary has no order: anything that writes it
    /// (Avro bytes, JSON) must sort the keys first.
    public var vendorData: [String: String]?

    public init(messageId: String, tradeId: String, symbol: String, exchange: String,
                assetClass: String = "crypto", timestampMicros: Micros, price: Decimal8,
                quantity: Decimal8, currency: String, side: Side, tradeConditions: [String] = [],
                sourceSequence: Int64? = nil, ingestionTimestampMicros: Micros,
                platformSequence: Int64? = nil, vendorData: [String: String]? = nil) {
        self.messageId = messageId; self.tradeId = tradeId; self.symbol = symbol
        self.exchange = exchange; self.assetClass = assetClass; self.timestampMicros = timestampMicros
        self.price = price; self.quantity = quantity; self.currency = currency; self.side = side
        self.tradeConditions = tradeConditions; self.sourceSequence = sourceSequence
        self.ingestionTimestampMicros = ingestionTimestampMicros
        self.platformSequence = platformSequence; self.vendorData = vendorData
    }
}

/// DLQ `error_category` (docs/REFERENCE.md §4).
public enum DeadLetterCategory: String, Sendable, CaseIterable, Comparable {
    case deserialization = "DESERIALIZATION"
    case schema = "SCHEMA"
    case validation = "VALIDATION"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// DLQ `error_reason` (docs/REFERENCE.md §4). Declaration order is the table's order, which
/// is also the order validation checks run in.
public enum DeadLetterReason: String, Sendable, CaseIterable, Comparable {
    // DESERIALIZATION
    case emptyPayload = "EMPTY_PAYLOAD"
    case truncatedHeader = "TRUNCATED_HEADER"
    case invalidMagicByte = "INVALID_MAGIC_BYTE"
    case avroDecodeError = "AVRO_DECODE_ERROR"
    case trailingBytes = "TRAILING_BYTES"
    // SCHEMA
    case unknownSchemaId = "UNKNOWN_SCHEMA_ID"
    case incompatibleSchema = "INCOMPATIBLE_SCHEMA"
    // VALIDATION
    case invalidMessageId = "INVALID_MESSAGE_ID"
    case invalidPrice = "INVALID_PRICE"
    case invalidQuantity = "INVALID_QUANTITY"
    case invalidSymbol = "INVALID_SYMBOL"
    case exchangeMismatch = "EXCHANGE_MISMATCH"
    case invalidCurrency = "INVALID_CURRENCY"
    case invalidTimestamp = "INVALID_TIMESTAMP"
    case invalidVendorData = "INVALID_VENDOR_DATA"

    public var category: DeadLetterCategory {
        switch self {
        case .emptyPayload, .truncatedHeader, .invalidMagicByte, .avroDecodeError, .trailingBytes:
            return .deserialization
        case .unknownSchemaId, .incompatibleSchema:
            return .schema
        default:
            return .validation
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
