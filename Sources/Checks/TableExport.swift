import Codec
import Engine
import Foundation
import Kernel
import OrderedCollections

/// Tables as JSON Lines: one object per row, rows in table order (commit
/// order, which the deterministic engine fixes). Gold follows its DDL: its 18
/// columns in the DDL's order, typed as declared (`goldLine`). The other
/// tables have no DDL of record: keys sorted, timestamps ISO-8601 UTC with
/// microseconds. Decimals are exact with 8 places everywhere.
public enum TableExport {
    static func iso(_ micros: Micros) -> JSONValue { .string(UTCDateTime(micros: micros).iso8601) }
    static func b64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }

    /// The 15 V2 fields as Silver's export writes them (`vendor_data` a map).
    static func tradeFields(_ t: Trade) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "message_id": .string(t.messageId), "trade_id": .string(t.tradeId), "symbol": .string(t.symbol),
            "exchange": .string(t.exchange), "asset_class": .string(t.assetClass), "timestamp": iso(t.timestampMicros),
            "price": .number(t.price.description), "quantity": .number(t.quantity.description),
            "currency": .string(t.currency), "side": .string(t.side.rawValue),
            "trade_conditions": .array(t.tradeConditions.map { .string($0) }),
            "source_sequence": .optional(t.sourceSequence), "ingestion_timestamp": iso(t.ingestionTimestampMicros),
            "platform_sequence": .optional(t.platformSequence),
        ]
        o["vendor_data"] = t.vendorData.map { .object($0.mapValues { .string($0) }) } ?? .null
        return o
    }

    /// Every table, in docs/REFERENCE.md §2's order.
    public static func allTables(of p: Pipeline) -> [(name: String, rows: [String])] {
        TableName.allCases.map { ($0.rawValue, rows(of: $0, in: p)) }
    }

    /// `{"bronze_binance_trades": 1234, ...}`: committed rows per table.
    public static func rowCounts(of p: Pipeline) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: TableName.allCases.map { ($0.rawValue, JSONValue.int(Int64(p.table($0).rowCount))) }))
    }

    public static func rows(of table: TableName, in p: Pipeline) -> [String] {
        (0..<p.table(table).rowCount).map { line(of: table, row: $0, in: p) }
    }

    /// Row `i` of a table as its JSON Lines export writes it.
    public static func line(of table: TableName, row i: Int, in p: Pipeline) -> String {
        keyedLine(of: table, row: i, in: p).line
    }

    /// Row `i`'s export line and its group in `digestRows` (Bronze by Kafka
    /// partition, Silver by symbol, the DLQ by reason, Gold by partition),
    /// from one read of the row.
    static func keyedLine(of table: TableName, row i: Int, in p: Pipeline) -> (key: String, line: String) {
        switch table {
        case .bronzeBinance, .bronzeKraken:
            let r = (table == .bronzeBinance ? p.bronzeBinance : p.bronzeKraken).row(i)
            return ("partition=\(r.partition)", JSONValue.object([
                "topic": .string(r.topic), "partition": .int(Int64(r.partition)), "offset": .int(r.offset),
                "kafka_timestamp": iso(r.kafkaTimestampMs * Time.microsPerMilli),
                "bronze_ingestion_timestamp": iso(r.bronzeIngestionTimestampMicros), "value_b64": b64(r.value),
            ]).compact)
        case .silverBinance, .silverKraken:
            let r = (table == .silverBinance ? p.silverBinance : p.silverKraken).row(i)
            var o = tradeFields(r.trade)
            o["validation_timestamp"] = iso(r.validationTimestampMicros)
            o["bronze_ingestion_timestamp"] = iso(r.bronzeIngestionTimestampMicros)
            o["schema_id"] = .int(Int64(r.schemaId))
            return ("symbol=\(r.trade.symbol)", JSONValue.object(o).compact)
        case .silverDlq:
            let r = p.dlq.row(i)
            return ("error_reason=\(r.errorReason.rawValue)", JSONValue.object([
                "raw_b64": b64(r.rawValue), "source_topic": .string(r.sourceTopic),
                "source_partition": .int(Int64(r.sourcePartition)), "source_offset": .int(r.sourceOffset),
                "exchange": .string(r.exchange), "error_category": .string(r.errorCategory.rawValue),
                "error_reason": .string(r.errorReason.rawValue), "error_message": .string(r.errorMessage),
                "schema_id": r.schemaId.map { .int(Int64($0)) } ?? .null,
                "bronze_ingestion_timestamp": iso(r.bronzeIngestionTimestampMicros),
                "dlq_write_timestamp": iso(r.dlqWriteTimestampMicros),
            ]).compact)
        case .gold:
            let r = p.gold.row(i)
            return ("exchange_date=\(r.exchangeDate)/exchange_hour=\(r.exchangeHour)", goldLine(r))
        }
    }

    /// Gold's 18 columns as the table's DDL declares them, in its order, with
    /// their Spark SQL types (sql/gold_crypto_trades.sql holds the DDL).
    public static let goldColumns: [(name: String, type: String)] = [
        ("message_id", "STRING"), ("trade_id", "STRING"), ("symbol", "STRING"), ("exchange", "STRING"),
        ("asset_class", "STRING"), ("timestamp", "BIGINT"), ("price", "DECIMAL(18,8)"), ("quantity", "DECIMAL(18,8)"),
        ("currency", "STRING"), ("side", "STRING"), ("trade_conditions", "ARRAY<STRING>"), ("source_sequence", "BIGINT"),
        ("ingestion_timestamp", "BIGINT"), ("platform_sequence", "BIGINT"), ("vendor_data", "STRING"),
        ("gold_ingestion_timestamp", "TIMESTAMP"), ("exchange_date", "DATE"), ("exchange_hour", "INT"),
    ]

    /// One Gold row as JSON, keys in the DDL's order, each value as its type
    /// is written: BIGINT `timestamp` and `ingestion_timestamp` as integer
    /// microseconds, DECIMAL(18,8) as an exact number with 8 places, the
    /// TIMESTAMP as ISO-8601 UTC with microseconds, the DATE as `YYYY-MM-DD`.
    static func goldLine(_ r: GoldRow) -> String {
        let t = r.trade
        func int(_ v: Int64?) -> OrderedJSON { v.map { .number(String($0)) } ?? .null }
        func str(_ v: String?) -> OrderedJSON { v.map { .string($0) } ?? .null }
        let values: [OrderedJSON] = [
            .string(t.messageId), .string(t.tradeId), .string(t.symbol), .string(t.exchange), .string(t.assetClass),
            int(t.timestampMicros), .number(t.price.description), .number(t.quantity.description),
            .string(t.currency), .string(t.side.rawValue), .array(t.tradeConditions.map { .string($0) }),
            int(t.sourceSequence), int(t.ingestionTimestampMicros), int(t.platformSequence), str(r.vendorDataJSON),
            .string(UTCDateTime(micros: r.goldIngestionTimestampMicros).iso8601), .string(r.exchangeDate),
            int(Int64(r.exchangeHour)),
        ]
        return OrderedJSON.object(OrderedDictionary(uniqueKeysWithValues: zip(goldColumns.map(\.name), values))).canonicalText
    }

    /// Per-partition row counts and digests, for goldens of runs too big to
    /// keep row by row: Bronze by Kafka partition, Silver by symbol, the DLQ by
    /// reason, Gold by (exchange_date, exchange_hour). Each group's digest is
    /// FNV-1a (64 bits) over its rows' export lines, each followed by a
    /// newline, in table order. Streamed: one row's line at a time, never the
    /// whole table as strings.
    public static func digestRows(of table: TableName, in p: Pipeline) -> [String] {
        var groups: [String: (count: Int64, hash: FNV1a64)] = [:]
        for i in 0..<p.table(table).rowCount {
            let (k, line) = keyedLine(of: table, row: i, in: p)
            var g = groups[k] ?? (0, FNV1a64())
            g.count += 1
            g.hash.mix(line.utf8)
            g.hash.mix(byte: 0x0A)
            groups[k] = g
        }
        return groups.keys.sorted().map { k in
            let g = groups[k]!
            return JSONValue.object(["partition": .string(k), "rows": .int(g.count),
                                     "fnv1a64": .string(String(g.hash.value, radix: 16))]).compact
        }
    }
}
