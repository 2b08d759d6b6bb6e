import Kernel
import Codec

/// Payloads that must land in the DLQ with one exact reason, made from a real,
/// valid trade: by byte surgery on its encoding (DESERIALIZATION), by header
/// ids (SCHEMA), or by breaking exactly one validation rule and no earlier one
/// (VALIDATION; asserted with `TradeValidator` as each is made).
public enum MalformedPayloads {
    /// A writer schema that cannot be resolved to V2: `message_id` is a long, and
    /// every other V2 field (none of which has a default) is missing.
    public static let incompatibleSchemaJSON =
        #"{"type":"record","name":"Trade","namespace":"medallion.sim.incompatible","fields":[{"name":"message_id","type":"long"}]}"#

    public struct Payload: Sendable {
        /// Record key (the symbol the producer keyed on).
        public var key: [UInt8]
        public var value: [UInt8]
        /// The trade's timestamp when the payload decodes to a trade (VALIDATION reasons).
        public var eventTimeMicros: Micros?
        /// Which variant of the fault was made, for reports (`truncated_body`, `zero`, ...).
        public var variant: String
    }

    /// Makes one payload for `reason` from a valid V2 trade `t` on `exchange`'s topic.
    public static func make(_ reason: DeadLetterReason, from t: Trade, exchange: ExchangeName,
                            ids: SchemaIds, rng: inout RandomStream) -> Payload {
        precondition(TradeValidator.firstFailure(t, topicExchange: exchange) == nil, "templates must be valid trades")
        let key = Array(t.symbol.utf8)
        let valid = TradeWire.encode(t, version: .v2, schemaId: ids.v2)
        switch reason {
        case .emptyPayload:
            return Payload(key: key, value: [], eventTimeMicros: nil, variant: "empty")
        case .truncatedHeader:
            let n = Int(rng.uniform(in: 1...4))
            return Payload(key: key, value: Array(valid[..<n]), eventTimeMicros: nil, variant: "header_\(n)_bytes")
        case .invalidMagicByte:
            var v = valid
            v[0] = UInt8(rng.uniform(in: 1...255))
            return Payload(key: key, value: v, eventTimeMicros: nil, variant: "magic_\(v[0])")
        case .avroDecodeError:
            switch rng.uniform(below: 3) {
            case 0:
                let cut = Int(rng.uniform(in: 5...Int64(valid.count - 1)))
                return Payload(key: key, value: Array(valid[..<cut]), eventTimeMicros: nil, variant: "truncated_body")
            case 1:
                var v: [UInt8] = []
                TradeWire.writeHeader(schemaId: ids.v2, into: &v)
                TradeWire.writeBody(t, version: .v2, sideIndex: 2 + Int64(rng.uniform(below: 5)), into: &v)
                return Payload(key: key, value: v, eventTimeMicros: nil, variant: "enum_index_out_of_range")
            default:
                // The first field's length as a varint that never ends within 10 bytes.
                var v = Array(valid[..<5])
                v.append(contentsOf: [UInt8](repeating: 0xFF, count: 11))
                v.append(contentsOf: valid[5...])
                return Payload(key: key, value: v, eventTimeMicros: nil, variant: "bad_varint")
            }
        case .trailingBytes:
            var v = valid
            var r = rng
            v.append(contentsOf: r.bytes(Int(rng.uniform(in: 1...8))))
            rng = r
            return Payload(key: key, value: v, eventTimeMicros: nil, variant: "trailing_bytes")
        case .unknownSchemaId:
            var v: [UInt8] = []
            TradeWire.writeHeader(schemaId: ids.unknown, into: &v)
            v.append(contentsOf: valid[5...])
            return Payload(key: key, value: v, eventTimeMicros: nil, variant: "schema_id_\(ids.unknown)")
        case .incompatibleSchema:
            var v: [UInt8] = []
            TradeWire.writeHeader(schemaId: ids.incompatible, into: &v)
            TradeWire.writeLong(Int64(bitPattern: rng.nextUInt64() >> 1), into: &v)
            return Payload(key: key, value: v, eventTimeMicros: nil, variant: "schema_id_\(ids.incompatible)")
        default:
            var bad = t
            let variant = breakRule(reason, of: &bad, exchange: exchange, rng: &rng)
            let got = TradeValidator.firstFailure(bad, topicExchange: exchange)
            precondition(got == reason, "a \(reason.rawValue) fault (\(variant)) must fail exactly that rule, got \(got?.rawValue ?? "none")")
            return Payload(key: Array(bad.symbol.utf8).isEmpty ? key : Array(bad.symbol.utf8),
                           value: TradeWire.encode(bad, version: .v2, schemaId: ids.v2),
                           eventTimeMicros: bad.timestampMicros, variant: variant)
        }
    }

    /// Breaks exactly the rule of `reason` (every earlier rule still holds).
    static func breakRule(_ reason: DeadLetterReason, of t: inout Trade, exchange: ExchangeName, rng: inout RandomStream) -> String {
        let pick = rng.uniform(below: 3)
        switch reason {
        case .invalidMessageId:
            switch pick {
            case 0: t.messageId = "not-a-uuid"; return "not_a_uuid"
            case 1:  // a version-1 UUID: right shape, wrong version
                var u = Array(t.messageId.utf8); u[14] = UInt8(ascii: "1")
                t.messageId = String(decoding: u, as: UTF8.self); return "uuid_version_1"
            default: t.messageId = ""; return "empty"
            }
        case .invalidPrice:
            switch pick {
            case 0: t.price = .zero; return "zero"
            case 1: t.price = Decimal8(units: -t.price.units); return "negative"
            default: t.price = Decimal8(units: Decimal8.precisionLimitUnits); return "over_precision"
            }
        case .invalidQuantity:
            switch pick {
            case 0: t.quantity = .zero; return "zero"
            case 1: t.quantity = Decimal8(units: -t.quantity.units); return "negative"
            default: t.quantity = Decimal8(units: Decimal8.precisionLimitUnits + 1); return "over_precision"
            }
        case .invalidSymbol:
            switch (exchange, pick) {
            case (.binance, 0): t.symbol = t.symbol.lowercased(); return "lower_case"
            case (.binance, 1): t.symbol = "BTC-" + t.currency; return "separator"
            case (.binance, _): t.symbol = "BTC"; return "too_short"
            case (.kraken, 0): t.symbol = t.symbol.lowercased(); return "lower_case"
            case (.kraken, 1): t.symbol = t.symbol.replacingSlash(); return "no_slash"
            case (.kraken, _): t.symbol = "B/" + t.currency; return "base_too_short"
            }
        case .exchangeMismatch:
            switch pick {
            case 0: t.exchange = (exchange == .binance ? ExchangeName.kraken : .binance).rawValue; return "other_exchange"
            case 1: t.exchange = exchange.lowercased; return "lower_case"
            default: t.exchange = ""; return "empty"
            }
        case .invalidCurrency:
            switch pick {
            case 0: t.currency = "EUR"; return "not_the_quote"
            case 1: t.currency = t.currency.lowercased(); return "lower_case"
            default: t.currency = "US"; return "too_short"
            }
        case .invalidTimestamp:
            switch pick {
            case 0: t.timestampMicros = 0; return "zero"
            case 1: t.timestampMicros = TradeValidator.earliestTimestampMicros - 1; return "before_2009"
            default:
                t.timestampMicros = t.ingestionTimestampMicros + TradeValidator.maxFutureSkewMicros
                    + rng.uniform(in: 1...Time.microsPerHour)
                return "ahead_of_ingestion"
            }
        case .invalidVendorData:
            var v = t.vendorData ?? [:]
            switch pick {
            case 0: v[""] = "x"; t.vendorData = v; return "empty_key"
            case 1:
                for i in 0...TradeValidator.maxVendorEntries { v["k\(i)"] = "v" }
                t.vendorData = v; return "too_many_entries"
            default:
                v["note"] = String(repeating: "x", count: TradeValidator.maxVendorFieldBytes + 1)
                t.vendorData = v; return "value_too_long"
            }
        default:
            preconditionFailure("\(reason.rawValue) is not a validation reason")
        }
    }
}

extension String {
    func replacingSlash() -> String { String(decoding: utf8.filter { $0 != UInt8(ascii: "/") }, as: UTF8.self) }
}
