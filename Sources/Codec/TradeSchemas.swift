/// The trade record's Avro schemas (docs/REFERENCE.md §2).
///
/// V2 is what the generators write and what Silver reads as. V1 is the older
/// writer schema, without `trade_conditions`, `platform_sequence` and
/// `vendor_data`; V2 declares defaults for exactly those fields (and for
/// `source_sequence`), which is what lets V1 records resolve to V2.
/// Field order is the wire order: do not reorder.
public enum TradeSchemas {
    public static let v1Id: Int32 = 1
    public static let v2Id: Int32 = 2

    /// The record's opening and the ten fields V1 and V2 share, in wire order.
    private static let sharedHead = """
        {"type":"record","name":"Trade","namespace":"market.crypto","fields":[\
        {"name":"message_id","type":"string"},\
        {"name":"trade_id","type":"string"},\
        {"name":"symbol","type":"string"},\
        {"name":"exchange","type":"string"},\
        {"name":"asset_class","type":"string"},\
        {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-micros"}},\
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":8}},\
        {"name":"quantity","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":8}},\
        {"name":"currency","type":"string"},\
        {"name":"side","type":{"type":"enum","name":"Side","symbols":["BUY","SELL"]}},
        """

    public static let v1JSON: String = sharedHead + """
        {"name":"source_sequence","type":["null","long"],"default":null},\
        {"name":"ingestion_timestamp","type":{"type":"long","logicalType":"timestamp-micros"}}]}
        """

    public static let v2JSON: String = sharedHead + """
        {"name":"trade_conditions","type":{"type":"array","items":"string"},"default":[]},\
        {"name":"source_sequence","type":["null","long"],"default":null},\
        {"name":"ingestion_timestamp","type":{"type":"long","logicalType":"timestamp-micros"}},\
        {"name":"platform_sequence","type":["null","long"],"default":null},\
        {"name":"vendor_data","type":["null",{"type":"map","values":"string"}],"default":null}]}
        """
}
