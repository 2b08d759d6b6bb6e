import Codec
import Engine

/// Each Silver row is the trade its Kafka bytes hold, read by the reference
/// reader (written from the Avro specification, not the libavro codec) with
/// the writer schema registered under the schema id the bytes carry —
/// whatever the id: a real registry's ids are arbitrary — and passes validation.
///
/// Rows decoded from bytes under a writer schema that is neither trade layout
/// are counted as not verifiable, not failed.
struct SilverContent {
    static let name = "silver_content"
    private(set) var problems: [String] = []
    /// Silver rows whose bytes only the codec can read (another registered writer schema).
    private(set) var unverifiable: Int64 = 0

    var result: CheckResult { .from(Self.name, problems: problems) }

    private let tables: ExchangeTables
    private let layouts: ReferenceTradeReader.Layouts

    init(_ tables: ExchangeTables, registry: SchemaRegistry) {
        self.tables = tables
        layouts = ReferenceTradeReader.Layouts(registry: registry)
    }

    /// Silver row `i` of exchange `k`, the first claim of its Bronze row (rows
    /// pointing nowhere or at a Bronze row claimed before are the exactly-once checker's).
    mutating func visit(_ k: Int, _ i: Int) {
        let silver = tables.silver[k], bronze = tables.bronze[k], e = tables.exchanges[k]
        // The columns compared: the trade, the schema id and the lineage (not the timestamps).
        let c = silver.columns(i)
        let schemaId = c.schemaId
        let b = c.sourceBronzeRow
        // The row's trade, once read: the reference reader's when the row holds it.
        var held: Trade?
        // The record's bytes read in place in the Kafka log.
        switch bronze.withValue(b, { ReferenceTradeReader.classify($0, layouts: layouts) }) {
        case .trade(let t, let id):
            if c.holds(t) { held = t }
            else { problems.append("\(silver.name.rawValue) row \(i) differs from the trade in its Kafka bytes (\(tables.address(k, b)))") }
            if id != schemaId { problems.append("\(silver.name.rawValue) row \(i): schema_id \(schemaId), bytes say \(id)") }
        case .trailingBytes, .unreadable:
            let bytes = bronze.value(b)
            if let layout = ReferenceTradeReader.layout(of: bytes, layouts: layouts) {
                let id = WireFormat.schemaId(of: bytes) ?? -1
                problems.append("\(silver.name.rawValue) row \(i) was decoded from bytes that are not a whole \(layout == .v1 ? "V1" : "V2") record (schema id \(id))")
            } else { unverifiable += 1 }
        }
        let trade = held ?? c.trade
        if let reason = TradeValidator.firstFailure(trade, topicExchange: e) {
            problems.append("\(silver.name.rawValue) row \(i) (\(trade.messageId)) fails validation: \(reason.rawValue)")
        }
    }
}
