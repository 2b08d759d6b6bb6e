import Codec
import Foundation
import Kernel

/// An independent reader of the two trade schemas, in plain Swift, written
/// from the Avro specification — not from the codec.
///
/// The checks use it to recompute what Silver should hold from the raw Kafka
/// bytes, so a bug in the libavro-based codec shows up as a failed check
/// instead of being graded by itself (N-version checking). It reads the
/// standard V1 and V2 layouts, under whatever ids the registry gave them:
/// `Layouts` looks at the writer schema registered under a message's id and
/// says which of the two it is (a real registry's ids are arbitrary: V1 may be
/// 100042 and V2 7). Anything else is `nil`, and the checks then rely on the
/// ground-truth label alone.
public enum ReferenceTradeReader {
    /// The two wire layouts the reader knows.
    public enum Layout: Sendable, Equatable { case v1, v2 }

    /// Which layout each schema id is, from the writer schema registered under
    /// it. Compared field by field (name, wire type, decimal scale, enum
    /// symbols), in declaration order, so whitespace, key order, docs and
    /// namespaces do not matter and any other schema is recognized as neither.
    /// Looked-up ids are cached (lookups only, never iterated).
    public final class Layouts {
        let schemaJSON: (Int32) -> String?
        private var cache: [Int32: Layout?] = [:]

        public init(schemaJSON: @escaping (Int32) -> String?) { self.schemaJSON = schemaJSON }
        public convenience init(registry: SchemaRegistry) { self.init(schemaJSON: { registry.schemaJSON(id: $0) }) }
        /// The project's own registry: V1 = 1, V2 = 2.
        public static func standard() -> Layouts {
            Layouts(schemaJSON: { $0 == TradeSchemas.v1Id ? TradeSchemas.v1JSON : $0 == TradeSchemas.v2Id ? TradeSchemas.v2JSON : nil })
        }

        public func layout(of id: Int32) -> Layout? {
            // Consecutive messages mostly share an id: the last one answers without hashing.
            if let last, last.id == id { return last.layout }
            let l: Layout?
            if let known = cache[id] { l = known } else {
                l = schemaJSON(id).flatMap(Self.classify)
                cache[id] = l
            }
            last = (id, l)
            return l
        }
        private var last: (id: Int32, layout: Layout?)?

        /// The wire signature of each field of the two trade schemas, written
        /// from the Avro specification (not taken from the codec's schemas).
        static let v1Fields = ["message_id:string", "trade_id:string", "symbol:string", "exchange:string",
                               "asset_class:string", "timestamp:long", "price:decimal(8)", "quantity:decimal(8)",
                               "currency:string", "side:enum(BUY,SELL)", "source_sequence:union(null,long)",
                               "ingestion_timestamp:long"]
        static let v2Fields = ["message_id:string", "trade_id:string", "symbol:string", "exchange:string",
                               "asset_class:string", "timestamp:long", "price:decimal(8)", "quantity:decimal(8)",
                               "currency:string", "side:enum(BUY,SELL)", "trade_conditions:array(string)",
                               "source_sequence:union(null,long)", "ingestion_timestamp:long",
                               "platform_sequence:union(null,long)", "vendor_data:union(null,map(string))"]

        static func classify(_ json: String) -> Layout? {
            guard let doc = try? OrderedJSON.parse(json), doc["type"]?.stringValue == "record",
                  case .array(let fields)? = doc["fields"] else { return nil }
            var sig: [String] = []
            for f in fields {
                guard let name = f["name"]?.stringValue, let t = f["type"], let w = wire(t) else { return nil }
                sig.append("\(name):\(w)")
            }
            return sig == v1Fields ? .v1 : sig == v2Fields ? .v2 : nil
        }

        static func wire(_ t: OrderedJSON) -> String? {
            switch t {
            case .string(let p): return ["null", "boolean", "int", "long", "float", "double", "bytes", "string"].contains(p) ? p : nil
            case .array(let branches):
                let b = branches.compactMap(wire)
                return b.count == branches.count ? "union(\(b.joined(separator: ",")))" : nil
            case .object:
                guard let type = t["type"]?.stringValue else { return nil }
                switch type {
                case "bytes" where t["logicalType"]?.stringValue == "decimal":
                    return t["scale"]?.intValue.map { "decimal(\($0))" } ?? "decimal(0)"
                case "enum":
                    guard case .array(let symbols)? = t["symbols"] else { return nil }
                    return "enum(\(symbols.compactMap(\.stringValue).joined(separator: ",")))"
                case "array": return t["items"].flatMap(wire).map { "array(\($0))" }
                case "map": return t["values"].flatMap(wire).map { "map(\($0))" }
                case "record", "fixed": return nil
                default: return wire(.string(type))
                }
            default: return nil
            }
        }
    }

    struct Cursor {
        let b: UnsafeRawBufferPointer
        var i: Int
        /// A zigzag varint holding a 64-bit long: at most 10 bytes, and the
        /// 10th may carry only the 64th bit (a value beyond 64 bits is not
        /// an Avro long).
        mutating func long() -> Int64? { varint(maxBytes: 10) }
        /// An int (enum indices): at most 5 bytes, the value within 32 bits.
        mutating func int() -> Int64? {
            guard let v = varint(maxBytes: 5), v >= Int64(Int32.min), v <= Int64(Int32.max) else { return nil }
            return v
        }
        mutating func varint(maxBytes: Int) -> Int64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            for k in 0..<maxBytes {
                guard i < b.count else { return nil }
                let byte = b[i]; i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    if k == maxBytes - 1 && byte > (maxBytes == 10 ? 1 : 0x0F) { return nil }
                    return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
                }
                shift += 7
            }
            return nil
        }
        mutating func bytes() -> Slice<UnsafeRawBufferPointer>? {
            guard let n = long(), n >= 0, n <= Int64(b.count - i) else { return nil }
            defer { i += Int(n) }
            return b[i..<(i + Int(n))]
        }
        /// An Avro string is UTF-8 by definition: other bytes are unreadable.
        mutating func string() -> String? { bytes().flatMap(Self.utf8) }
        /// A map key: a string, and (the codec's limit, libavro keeps keys
        /// as C strings) without NUL.
        mutating func key() -> String? {
            guard let k = bytes(), !k.contains(0) else { return nil }
            return Self.utf8(k)
        }
        /// The string whose UTF-8 is `bytes`, or nil when they are not UTF-8.
        /// Decoding repairs ill-formed input (each maximal ill-formed subpart
        /// becomes U+FFFD), so the bytes are well-formed exactly when the
        /// decoded string's UTF-8 is the same bytes. Same verdict as
        /// `String(validating:as:)`, which on a slice of raw bytes takes the
        /// stdlib's generic path (a runtime metadata lookup per string).
        static func utf8(_ bytes: Slice<UnsafeRawBufferPointer>) -> String? {
            let raw = UnsafeRawBufferPointer(rebasing: bytes)
            return raw.withMemoryRebound(to: UInt8.self) { b in
                var s = String(decoding: b, as: UTF8.self)
                return s.withUTF8 { UnsafeRawBufferPointer($0).sameBytes(as: raw) } ? s : nil
            }
        }
        /// The items of one array or map: nil when a count or a declared
        /// block size is impossible; `body` reads one item.
        mutating func blocks(_ body: (inout Cursor) -> Bool) -> Bool {
            while true {
                guard var n = long() else { return false }
                if n == 0 { return true }
                var blockEnd = -1
                if n < 0 {
                    guard n != Int64.min else { return false }
                    n = -n
                    guard let size = long(), size >= 0, size <= Int64(b.count - i) else { return false }
                    blockEnd = i + Int(size)
                }
                guard n <= Int64(b.count - i) else { return false }
                for _ in 0..<n { guard body(&self) else { return false } }
                if blockEnd >= 0 && i != blockEnd { return false }
            }
        }
        mutating func optionalLong() -> Int64?? {
            switch long() {
            case 0: return .some(nil)
            case 1: return long().map { .some($0) } ?? nil
            default: return nil
            }
        }
    }

    /// What the reference reader makes of a message.
    public enum Outcome: Equatable {
        case trade(Trade, schemaId: Int32)
        /// A whole record followed by more bytes.
        case trailingBytes
        /// Not a whole record of the standard layouts (or not one of them).
        case unreadable
    }

    /// The trade in a framed message (magic byte, schema id, body), or nil.
    public static func read(_ message: [UInt8], layouts: Layouts = .standard()) -> (trade: Trade, schemaId: Int32)? {
        if case .trade(let t, let id) = classify(message, layouts: layouts) { return (t, id) }
        return nil
    }

    /// Like `read`, but tells a whole record with bytes after it apart.
    public static func classify(_ message: [UInt8], layouts: Layouts = .standard()) -> Outcome {
        message.withUnsafeBytes { classify($0, layouts: layouts) }
    }

    /// `classify` of bytes in place (a Kafka value in its log, not copied).
    public static func classify(_ message: UnsafeRawBufferPointer, layouts: Layouts = .standard()) -> Outcome {
        guard let (t, id, end) = parse(message, layouts: layouts) else { return .unreadable }
        // Trailing bytes are told before the field values are read (a decimal
        // of zero bytes is unreadable), as the codec's pre-scan does.
        guard end == message.count else { return .trailingBytes }
        guard let t else { return .unreadable }
        return .trade(t, schemaId: id)
    }

    /// The layout of a framed message's schema id, if it is one of the two.
    public static func layout(of message: [UInt8], layouts: Layouts) -> Layout? {
        guard message.count >= 5, message[0] == 0 else { return nil }
        return layouts.layout(of: schemaId(message))
    }

    static func schemaId(_ message: UnsafeRawBufferPointer) -> Int32 {
        Int32(bitPattern: UInt32(message[1]) << 24 | UInt32(message[2]) << 16 | UInt32(message[3]) << 8 | UInt32(message[4]))
    }

    static func schemaId(_ message: [UInt8]) -> Int32 { message.withUnsafeBytes { schemaId($0) } }

    /// The trade (nil when a decimal has no bytes), its schema id and where
    /// the record ends; nil when the bytes are not a record of the layout.
    static func parse(_ message: UnsafeRawBufferPointer, layouts: Layouts) -> (Trade?, Int32, Int)? {
        guard message.count >= 5, message[0] == 0 else { return nil }
        let id = schemaId(message)
        guard let layout = layouts.layout(of: id) else { return nil }
        let v2 = layout == .v2
        var c = Cursor(b: message, i: 5)
        guard let messageId = c.string(), let tradeId = c.string(), let symbol = c.string(),
              let exchange = c.string(), let assetClass = c.string(), let ts = c.long(),
              let priceBytes = c.bytes(), let qtyBytes = c.bytes(), let currency = c.string(),
              let sideIndex = c.int(), sideIndex == 0 || sideIndex == 1 else { return nil }
        var conditions: [String] = []
        if v2 {
            guard c.blocks({ c in
                guard let s = c.string() else { return false }
                conditions.append(s); return true
            }) else { return nil }
        }
        guard let sourceSequence = c.optionalLong(), let ingestion = c.long() else { return nil }
        var platformSequence: Int64? = nil
        var vendor: [String: String]? = nil
        if v2 {
            guard let ps = c.optionalLong() else { return nil }
            platformSequence = ps
            switch c.long() {
            case 0: break
            case 1:
                var map: [String: String] = [:]
                guard c.blocks({ c in
                    guard let k = c.key(), let v = c.string() else { return false }
                    map[k] = v; return true
                }) else { return nil }
                vendor = map
            default: return nil
            }
        }
        func decimal(_ b: Slice<UnsafeRawBufferPointer>) -> Decimal8? {
            if let d = Decimal8(avroBytes: b) { return d }
            guard let first = b.first else { return nil }
            return Decimal8(units: first & 0x80 != 0 ? .min : .max)  // beyond 64 bits: over precision
        }
        guard let price = decimal(priceBytes), let quantity = decimal(qtyBytes) else { return (nil, id, c.i) }
        let t = Trade(messageId: messageId, tradeId: tradeId, symbol: symbol, exchange: exchange, assetClass: assetClass,
                      timestampMicros: ts, price: price, quantity: quantity, currency: currency,
                      side: sideIndex == 0 ? .buy : .sell, tradeConditions: conditions, sourceSequence: sourceSequence,
                      ingestionTimestampMicros: ingestion, platformSequence: platformSequence, vendorData: vendor)
        return (t, id, c.i)
    }
}

extension UnsafeRawBufferPointer {
    /// Byte-for-byte equality, by `memcmp` (a generic byte loop costs a tenth
    /// of a pass over millions of records).
    func sameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        count == other.count && (isEmpty || memcmp(baseAddress!, other.baseAddress!, count) == 0)
    }
}
