import Codec
import Kernel

/// An independent reader of the two trade schemas, in plain Swift, written
/// from the Avro specification — not from the codec.
///
/// The checks use it to recompute what Silver should hold from the raw Kafka
/// bytes, so a bug in the libavro-based codec shows up as a failed check
/// instead of being graded by itself (N-version checking). It reads only the
/// standard V1 (id 1) and V2 (id 2) layouts; anything else is `nil`, and the
/// checks then rely on the ground-truth label alone.
public enum ReferenceTradeReader {
    struct Cursor {
        let b: [UInt8]
        var i: Int
        mutating func long() -> Int64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < b.count, shift < 70 {
                let byte = b[i]; i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }
                shift += 7
            }
            return nil
        }
        mutating func bytes() -> ArraySlice<UInt8>? {
            guard let n = long(), n >= 0, n <= Int64(b.count - i) else { return nil }
            defer { i += Int(n) }
            return b[i..<(i + Int(n))]
        }
        mutating func string() -> String? { bytes().flatMap { String(validating: $0, as: UTF8.self) } }
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
    public static func read(_ message: [UInt8]) -> (trade: Trade, schemaId: Int32)? {
        if case .trade(let t, let id) = classify(message) { return (t, id) }
        return nil
    }

    /// Like `read`, but tells a whole record with bytes after it apart.
    public static func classify(_ message: [UInt8]) -> Outcome {
        guard let (t, id, end) = parse(message) else { return .unreadable }
        return end == message.count ? .trade(t, schemaId: id) : .trailingBytes
    }

    static func parse(_ message: [UInt8]) -> (Trade, Int32, Int)? {
        guard message.count >= 5, message[0] == 0 else { return nil }
        let id = Int32(bitPattern: UInt32(message[1]) << 24 | UInt32(message[2]) << 16 | UInt32(message[3]) << 8 | UInt32(message[4]))
        guard id == 1 || id == 2 else { return nil }  // the standard registry: V1 = 1, V2 = 2
        let v2 = id == 2
        var c = Cursor(b: message, i: 5)
        guard let messageId = c.string(), let tradeId = c.string(), let symbol = c.string(),
              let exchange = c.string(), let assetClass = c.string(), let ts = c.long(),
              let priceBytes = c.bytes(), let qtyBytes = c.bytes(), let currency = c.string(),
              let sideIndex = c.long(), sideIndex == 0 || sideIndex == 1 else { return nil }
        var conditions: [String] = []
        if v2 {
            while true {
                guard var n = c.long() else { return nil }
                if n == 0 { break }
                if n < 0 { n = -n; guard c.long() != nil else { return nil } }  // block byte size
                guard n <= Int64(message.count) else { return nil }
                for _ in 0..<n { guard let s = c.string() else { return nil }; conditions.append(s) }
            }
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
                while true {
                    guard var n = c.long() else { return nil }
                    if n == 0 { break }
                    if n < 0 { n = -n; guard c.long() != nil else { return nil } }
                    guard n <= Int64(message.count) else { return nil }
                    for _ in 0..<n {
                        guard let k = c.string(), let v = c.string() else { return nil }
                        map[k] = v
                    }
                }
                vendor = map
            default: return nil
            }
        }
        func decimal(_ b: ArraySlice<UInt8>) -> Decimal8? {
            if let d = Decimal8(avroBytes: b) { return d }
            guard let first = b.first else { return nil }
            return Decimal8(units: first & 0x80 != 0 ? .min : .max)  // beyond 64 bits: over precision
        }
        guard let price = decimal(priceBytes), let quantity = decimal(qtyBytes) else { return nil }
        let t = Trade(messageId: messageId, tradeId: tradeId, symbol: symbol, exchange: exchange, assetClass: assetClass,
                      timestampMicros: ts, price: price, quantity: quantity, currency: currency,
                      side: sideIndex == 0 ? .buy : .sell, tradeConditions: conditions, sourceSequence: sourceSequence,
                      ingestionTimestampMicros: ingestion, platformSequence: platformSequence, vendorData: vendor)
        return (t, id, c.i)
    }
}
