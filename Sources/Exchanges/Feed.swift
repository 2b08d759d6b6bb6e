import Kernel
import Codec
import Broker

/// A trade as the feed draws it, before encoding: compact, no strings.
struct GeneratedTrade {
    var symbolIndex: Int
    var side: Side
    var limitOrder: Bool
    var tradeId: Int64
    var idHi: UInt64
    var idLo: UInt64
    /// Trade time (after any injected clock skew).
    var timestampMicros: Micros
    var priceUnits: Int64
    var quantityUnits: Int64
}

/// Per-symbol constants, pre-encoded once.
struct SymbolStatics {
    let spec: SymbolSpec
    let key: [UInt8]
    let partition: Int32
    let symbolField: [UInt8]     // Avro string: length + bytes
    let currencyField: [UInt8]
    let vendorSymbolField: [UInt8]

    init(_ spec: SymbolSpec, partitionCount: Int) {
        self.spec = spec
        key = Array(spec.symbol.utf8)
        partition = KafkaPartitioner.partition(forKey: key, partitionCount: partitionCount)
        func field(_ s: String) -> [UInt8] { var o: [UInt8] = []; TradeWire.writeString(s, into: &o); return o }
        symbolField = field(spec.symbol)
        currencyField = field(spec.quoteCurrency)
        vendorSymbolField = field(spec.vendorSymbol ?? spec.symbol)
    }
}

/// Encodes generated trades for one exchange, fast: constant fields are
/// pre-encoded, numbers and the UUID are written straight into the buffer.
/// `trade(...)` gives the same record as a `Trade`; a test pins that
/// `TradeWire.encode(trade(...))` is byte-identical to `encode(...)`.
struct FeedEncoder {
    let exchange: ExchangeName
    let symbols: [SymbolStatics]
    let ids: SchemaIds
    private let exchangeField: [UInt8]
    private let assetClassField: [UInt8]
    private static func field(_ s: String) -> [UInt8] { var o: [UInt8] = []; TradeWire.writeString(s, into: &o); return o }
    private static let kEventTime = field("event_time"), kBestMatch = field("is_best_match"),
        kBuyerMaker = field("is_buyer_maker"), kTradeTime = field("trade_time"), vTrue = field("true"), vFalse = field("false"),
        kOrdType = field("ord_type"), kPair = field("pair"), vMarket = field("market"), vLimit = field("limit")

    init(exchange: ExchangeName, symbols: [SymbolStatics], ids: SchemaIds) {
        self.exchange = exchange; self.symbols = symbols; self.ids = ids
        exchangeField = FeedEncoder.field(exchange.rawValue)
        assetClassField = FeedEncoder.field("crypto")
    }

    func encode(_ g: GeneratedTrade, ingestionMicros: Micros, platformSequence: Int64, version: TradeSchemaVersion) -> [UInt8] {
        let s = symbols[g.symbolIndex]
        var out: [UInt8] = []
        out.reserveCapacity(version == .v2 ? 208 : 128)
        TradeWire.writeHeader(schemaId: version == .v2 ? ids.v2 : ids.v1, into: &out)
        TradeWire.writeUUID(hi: g.idHi, lo: g.idLo, into: &out)
        TradeWire.writeDigitsString(g.tradeId, into: &out)
        out.append(contentsOf: s.symbolField)
        out.append(contentsOf: exchangeField)
        out.append(contentsOf: assetClassField)
        TradeWire.writeLong(g.timestampMicros, into: &out)
        TradeWire.writeDecimal(g.priceUnits, into: &out)
        TradeWire.writeDecimal(g.quantityUnits, into: &out)
        out.append(contentsOf: s.currencyField)
        out.append(g.side == .buy ? 0 : 2)
        if version == .v2 { out.append(0) }  // trade_conditions: []
        out.append(2); TradeWire.writeLong(g.tradeId, into: &out)  // source_sequence
        TradeWire.writeLong(ingestionMicros, into: &out)
        guard version == .v2 else { return out }
        out.append(2); TradeWire.writeLong(platformSequence, into: &out)
        out.append(2)  // vendor_data: map
        let ms = Time.floorDiv(g.timestampMicros, Time.microsPerMilli)
        switch exchange {
        case .binance:
            out.append(8)  // 4 entries, sorted keys
            out.append(contentsOf: FeedEncoder.kEventTime); TradeWire.writeDigitsString(ms, into: &out)
            out.append(contentsOf: FeedEncoder.kBestMatch); out.append(contentsOf: FeedEncoder.vTrue)
            out.append(contentsOf: FeedEncoder.kBuyerMaker)
            out.append(contentsOf: g.side == .sell ? FeedEncoder.vTrue : FeedEncoder.vFalse)
            out.append(contentsOf: FeedEncoder.kTradeTime); TradeWire.writeDigitsString(ms, into: &out)
        case .kraken:
            out.append(4)  // 2 entries, sorted keys
            out.append(contentsOf: FeedEncoder.kOrdType)
            out.append(contentsOf: g.limitOrder ? FeedEncoder.vLimit : FeedEncoder.vMarket)
            out.append(contentsOf: FeedEncoder.kPair); out.append(contentsOf: s.vendorSymbolField)
        }
        out.append(0)
        return out
    }

    /// The same record as a `Trade` value.
    func trade(_ g: GeneratedTrade, ingestionMicros: Micros, platformSequence: Int64, version: TradeSchemaVersion) -> Trade {
        let s = symbols[g.symbolIndex].spec
        let ms = String(Time.floorDiv(g.timestampMicros, Time.microsPerMilli))
        var t = Trade(messageId: TradeWire.uuidString(hi: g.idHi, lo: g.idLo), tradeId: String(g.tradeId), symbol: s.symbol,
                      exchange: exchange.rawValue, timestampMicros: g.timestampMicros, price: Decimal8(units: g.priceUnits),
                      quantity: Decimal8(units: g.quantityUnits), currency: s.quoteCurrency, side: g.side,
                      sourceSequence: g.tradeId, ingestionTimestampMicros: ingestionMicros)
        guard version == .v2 else { return t }
        t.platformSequence = platformSequence
        switch exchange {
        case .binance:
            t.vendorData = ["event_time": ms, "is_best_match": "true", "is_buyer_maker": g.side == .sell ? "true" : "false", "trade_time": ms]
        case .kraken:
            t.vendorData = ["ord_type": g.limitOrder ? "limit" : "market", "pair": s.vendorSymbol ?? s.symbol]
        }
        return t
    }
}

/// Counts of what one feed produced, for reports and tests.
public struct FeedStatistics: Sendable, Equatable {
    public var exchange: ExchangeName
    /// Trades that happened at the exchange (base process and spike extras, before faults).
    public var tradesOccurred: Int64 = 0
    /// Extra trades drawn by spikes (included in `tradesOccurred`).
    public var spikeTrades: Int64 = 0
    /// Trades removed by a spike multiplier below 1 (never happened).
    public var thinnedTrades: Int64 = 0
    /// Trades lost in an outage without backfill (never produced).
    public var lostTrades: Int64 = 0
    /// Trades held back and delivered later by a backfill.
    public var backfilledTrades: Int64 = 0
    /// Kafka messages produced, by what they carry.
    public var liveMessages: Int64 = 0
    public var v1Messages: Int64 = 0
    public var duplicateMessages: Int64 = 0
    public var malformedMessages: Int64 = 0
    public var skewedMessages: Int64 = 0
    public var totalMessages: Int64 = 0
    /// Live trade messages per symbol, in the config's symbol order.
    public var messagesPerSymbol: [Int64] = []

    public init(exchange: ExchangeName) { self.exchange = exchange }
}
