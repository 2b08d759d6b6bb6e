import Codec
import Kernel

/// The two independent verdicts on one Kafka payload: Silver's (the
/// libavro-based codec, then validation) and the oracle's (the header rules,
/// then `ReferenceTradeReader`, written from the Avro specification, then the
/// same validation rules). The differential fuzz target and the hostile-input
/// tests hold them to agree on every payload the oracle can read.
public enum PayloadDifferential {
    /// Silver's DLQ reason for the payload on a topic of `exchange`; nil when
    /// the row is a valid trade.
    public static func engineReason(_ bytes: [UInt8], decoder: TradeDecoder, exchange: ExchangeName) -> DeadLetterReason? {
        switch decoder.decode(bytes) {
        case .failure(let f): return f.reason
        case .success(let d): return TradeValidator.firstFailure(d.trade, topicExchange: exchange)
        }
    }

    /// The oracle's verdict: `.some(reason)` (nil reason: a valid trade), or
    /// nil when only the codec can tell (a registered writer schema other
    /// than the two standard layouts).
    public static func oracleReason(_ bytes: [UInt8], exchange: ExchangeName, registry: SchemaRegistry) -> DeadLetterReason?? {
        if bytes.isEmpty { return .some(.emptyPayload) }
        if bytes.count < 5 { return .some(.truncatedHeader) }
        if bytes[0] != 0 { return .some(.invalidMagicByte) }
        guard let id = WireFormat.schemaId(of: bytes) else { return nil }
        if registry.schemaJSON(id: id) == nil { return .some(.unknownSchemaId) }
        guard id == TradeSchemas.v1Id || id == TradeSchemas.v2Id else { return nil }
        switch ReferenceTradeReader.classify(bytes) {
        case .unreadable: return .some(.avroDecodeError)
        case .trailingBytes: return .some(.trailingBytes)
        case .trade(let t, _): return .some(TradeValidator.firstFailure(t, topicExchange: exchange))
        }
    }
}
