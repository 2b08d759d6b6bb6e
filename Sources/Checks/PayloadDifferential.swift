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

    /// The oracle's verdict, through the DLQ-categorization checker's own
    /// function: `.some(reason)` (a nil reason: a valid trade), or nil when
    /// only the codec can tell (a writer schema of neither trade layout).
    public static func oracleReason(_ bytes: [UInt8], exchange: ExchangeName, registry: SchemaRegistry,
                                    layouts: ReferenceTradeReader.Layouts) -> DeadLetterReason?? {
        if let reason = DLQCategorization.independentReason(bytes, exchange: exchange, registry: registry, layouts: layouts) {
            return .some(reason)
        }
        // nil from the checker: a valid trade of a known layout, or a schema it cannot read.
        if bytes.count >= 5, bytes[0] == 0, let id = WireFormat.schemaId(of: bytes), layouts.layout(of: id) != nil {
            return .some(nil)
        }
        return nil
    }
}
