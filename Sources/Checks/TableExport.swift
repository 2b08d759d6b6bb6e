import Codec
import Engine
import Foundation
import Kernel

/// Tables as JSON Lines: one object per row, keys sorted, rows in table
/// order (commit order, which the deterministic engine fixes). Timestamps are
/// ISO-8601 UTC with microseconds, decimals exact with 8 places.
public enum TableExport {
    static func iso(_ micros: Micros) -> JSONValue { .string(UTCDateTime(micros: micros).iso8601) }
    static func b64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }

    /// The 15 V2 fields; `vendor_data` as a map (Silver) or a JSON string (Gold).
    static func tradeFields(_ t: Trade, vendorAsJSON: String??) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "message_id": .string(t.messageId), "trade_id": .string(t.tradeId), "symbol": .string(t.symbol),
            "exchange": .string(t.exchange), "asset_class": .string(t.assetClass), "timestamp": iso(t.timestampMicros),
            "price": .number(t.price.description), "quantity": .number(t.quantity.description),
            "currency": .string(t.currency), "side": .string(t.side.rawValue),
            "trade_conditions": .array(t.tradeConditions.map { .string($0) }),
            "source_sequence": .optional(t.sourceSequence), "ingestion_timestamp": iso(t.ingestionTimestampMicros),
            "platform_sequence": .optional(t.platformSequence),
        ]
        if let json = vendorAsJSON {
            o["vendor_data"] = .optional(json)
        } else {
            o["vendor_data"] = t.vendorData.map { .object($0.mapValues { .string($0) }) } ?? .null
        }
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
        switch table {
        case .bronzeBinance, .bronzeKraken:
            let t = table == .bronzeBinance ? p.bronzeBinance : p.bronzeKraken
            return (0..<t.rowCount).map { i in
                let r = t.row(i)
                return JSONValue.object([
                    "topic": .string(r.topic), "partition": .int(Int64(r.partition)), "offset": .int(r.offset),
                    "kafka_timestamp": iso(r.kafkaTimestampMs * Time.microsPerMilli),
                    "bronze_ingestion_timestamp": iso(r.bronzeIngestionTimestampMicros), "value_b64": b64(r.value),
                ]).compact
            }
        case .silverBinance, .silverKraken:
            let t = table == .silverBinance ? p.silverBinance : p.silverKraken
            return (0..<t.rowCount).map { i in
                let r = t.row(i)
                var o = tradeFields(r.trade, vendorAsJSON: nil)
                o["validation_timestamp"] = iso(r.validationTimestampMicros)
                o["bronze_ingestion_timestamp"] = iso(r.bronzeIngestionTimestampMicros)
                o["schema_id"] = .int(Int64(r.schemaId))
                return JSONValue.object(o).compact
            }
        case .silverDlq:
            return (0..<p.dlq.rowCount).map { i in
                let r = p.dlq.row(i)
                return JSONValue.object([
                    "raw_b64": b64(r.rawValue), "source_topic": .string(r.sourceTopic),
                    "source_partition": .int(Int64(r.sourcePartition)), "source_offset": .int(r.sourceOffset),
                    "exchange": .string(r.exchange), "error_category": .string(r.errorCategory.rawValue),
                    "error_reason": .string(r.errorReason.rawValue), "error_message": .string(r.errorMessage),
                    "schema_id": r.schemaId.map { .int(Int64($0)) } ?? .null,
                    "bronze_ingestion_timestamp": iso(r.bronzeIngestionTimestampMicros),
                    "dlq_write_timestamp": iso(r.dlqWriteTimestampMicros),
                ]).compact
            }
        case .gold:
            return (0..<p.gold.rowCount).map { i in
                let r = p.gold.row(i)
                var o = tradeFields(r.trade, vendorAsJSON: .some(r.vendorDataJSON))
                o["gold_ingestion_timestamp"] = iso(r.goldIngestionTimestampMicros)
                o["exchange_date"] = .string(r.exchangeDate)
                o["exchange_hour"] = .int(Int64(r.exchangeHour))
                return JSONValue.object(o).compact
            }
        }
    }

    /// Per-partition row counts and digests, for goldens of runs too big to
    /// keep row by row: Bronze by Kafka partition, Silver by symbol, the DLQ by
    /// reason, Gold by (exchange_date, exchange_hour).
    public static func digestRows(of table: TableName, in p: Pipeline, rows: [String]) -> [String] {
        var keys: [String] = []
        switch table {
        case .bronzeBinance, .bronzeKraken:
            let t = table == .bronzeBinance ? p.bronzeBinance : p.bronzeKraken
            keys = (0..<t.rowCount).map { "partition=\(t.partitionOf($0))" }
        case .silverBinance, .silverKraken:
            let t = table == .silverBinance ? p.silverBinance : p.silverKraken
            keys = (0..<t.rowCount).map { "symbol=\(t.row($0).trade.symbol)" }
        case .silverDlq:
            keys = (0..<p.dlq.rowCount).map { "error_reason=\(p.dlq.row($0).errorReason.rawValue)" }
        case .gold:
            keys = (0..<p.gold.rowCount).map { let r = p.gold.row($0); return "exchange_date=\(r.exchangeDate)/exchange_hour=\(r.exchangeHour)" }
        }
        var groups: [String: (count: Int64, hash: UInt64)] = [:]
        for (k, row) in zip(keys, rows) {
            var g = groups[k] ?? (0, 0xCBF2_9CE4_8422_2325)
            g.count += 1
            for b in row.utf8 { g.hash = (g.hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            g.hash = (g.hash ^ 0x0A) &* 0x0000_0100_0000_01B3
            groups[k] = g
        }
        return groups.keys.sorted().map { k in
            let g = groups[k]!
            return JSONValue.object(["partition": .string(k), "rows": .int(g.count),
                                     "fnv1a64": .string(String(g.hash, radix: 16))]).compact
        }
    }
}
