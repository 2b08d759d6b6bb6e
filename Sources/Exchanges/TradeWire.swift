import Kernel
import Codec

/// The two trade schema versions a feed writes (docs/REFERENCE.md §2).
public enum TradeSchemaVersion: Sendable, Equatable {
    /// 12 fields: V2 without `trade_conditions`, `platform_sequence`, `vendor_data`.
    case v1
    /// The 15-field record.
    case v2
}

/// Avro binary encoding of trades in the Confluent wire format, written
/// directly (no generic-value layer) so a feed can produce hundreds of
/// thousands of messages a second. Byte-identical to the codec's
/// `TradeEncoder` (a test pins that): maps are one block in sorted key order,
/// decimals are minimal big-endian two's complement, empty arrays a single 0.
public enum TradeWire {
    static func writeLong(_ v: Int64, into out: inout [UInt8]) {
        var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while z >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: z) | 0x80)
            z >>= 7
        }
        out.append(UInt8(z))
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        writeLong(Int64(s.utf8.count), into: &out)
        out.append(contentsOf: s.utf8)
    }

    static func writeBytes(_ b: [UInt8], into out: inout [UInt8]) {
        writeLong(Int64(b.count), into: &out)
        out.append(contentsOf: b)
    }

    /// Decimal as Avro bytes (Java's BigInteger.toByteArray of the unscaled value).
    static func writeDecimal(_ units: Int64, into out: inout [UInt8]) {
        var n = 8
        while n > 1 {
            let top = UInt8(truncatingIfNeeded: units >> ((n - 1) * 8))
            let next = UInt8(truncatingIfNeeded: units >> ((n - 2) * 8))
            if (top == 0x00 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) { n -= 1 } else { break }
        }
        out.append(UInt8(n << 1))  // zigzag of a small positive length
        var i = n - 1
        while i >= 0 { out.append(UInt8(truncatingIfNeeded: units >> (i * 8))); i -= 1 }
    }

    /// The 5-byte Confluent header (`WireFormat.header`): magic 0, schema id big-endian.
    @inline(__always)
    static func writeHeader(schemaId: Int32, into out: inout [UInt8]) { WireFormat.appendHeader(schemaId: schemaId, to: &out) }

    /// Header + Avro body of any `Trade` (valid or not) under the given version.
    /// V1 drops the three V2-only fields.
    public static func encode(_ t: Trade, version: TradeSchemaVersion, schemaId: Int32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeHeader(schemaId: schemaId, into: &out)
        writeBody(t, version: version, into: &out)
        return out
    }

    /// The Avro body alone.
    public static func writeBody(_ t: Trade, version: TradeSchemaVersion, into out: inout [UInt8]) {
        writeBody(t, version: version, sideIndex: t.side == .buy ? 0 : 1, into: &out)
    }

    /// `sideIndex` lets fault injection write an enum index out of range.
    static func writeBody(_ t: Trade, version: TradeSchemaVersion, sideIndex: Int64, into out: inout [UInt8]) {
        writeString(t.messageId, into: &out)
        writeString(t.tradeId, into: &out)
        writeString(t.symbol, into: &out)
        writeString(t.exchange, into: &out)
        writeString(t.assetClass, into: &out)
        writeLong(t.timestampMicros, into: &out)
        writeDecimal(t.price.units, into: &out)
        writeDecimal(t.quantity.units, into: &out)
        writeString(t.currency, into: &out)
        writeLong(sideIndex, into: &out)
        if version == .v2 {
            if !t.tradeConditions.isEmpty {
                writeLong(Int64(t.tradeConditions.count), into: &out)
                for c in t.tradeConditions { writeString(c, into: &out) }
            }
            out.append(0)
        }
        writeOptionalLong(t.sourceSequence, into: &out)
        writeLong(t.ingestionTimestampMicros, into: &out)
        if version == .v2 {
            writeOptionalLong(t.platformSequence, into: &out)
            if let v = t.vendorData {
                out.append(2)  // union branch 1: map
                if !v.isEmpty {
                    writeLong(Int64(v.count), into: &out)
                    for k in v.keys.sorted(by: utf8Less) {
                        writeString(k, into: &out)
                        writeString(v[k]!, into: &out)
                    }
                }
                out.append(0)
            } else {
                out.append(0)  // union branch 0: null
            }
        }
    }

    static func writeOptionalLong(_ v: Int64?, into out: inout [UInt8]) {
        if let v { out.append(2); writeLong(v, into: &out) } else { out.append(0) }
    }

    /// Byte-wise order of UTF-8 (what "sorted keys" means on the wire).
    static func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    // MARK: - Fast path helpers (ASCII digits and UUID hex straight into the buffer)

    /// Appends the decimal digits of a non-negative integer preceded by its Avro string length.
    static func writeDigitsString(_ v: Int64, into out: inout [UInt8]) {
        precondition(v >= 0)
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        var x = v
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat { buf[n] = UInt8(48 + x % 10); x /= 10; n += 1 } while x > 0
        }
        out.append(UInt8(n << 1))
        withUnsafeBytes(of: &digits) { buf in
            var i = n - 1
            while i >= 0 { out.append(buf[i]); i -= 1 }
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The canonical lower-case UUID v4 string of 128 random bits, exactly as
    /// `UUIDv4.make` formats them (version and variant bits forced), with its length prefix.
    static func writeUUID(hi: UInt64, lo: UInt64, into out: inout [UInt8]) {
        out.append(72)  // zigzag(36)
        var bytes: (UInt64, UInt64) = (hi.bigEndian, lo.bigEndian)
        withUnsafeMutableBytes(of: &bytes) { b in
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            hexDigits.withUnsafeBufferPointer { hex in
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                    out.append(hex[Int(b[i] >> 4)]); out.append(hex[Int(b[i] & 0x0F)])
                }
            }
        }
    }

    /// The UUID string for 128 bits (as `writeUUID` writes it).
    public static func uuidString(hi: UInt64, lo: UInt64) -> String {
        var out: [UInt8] = []
        writeUUID(hi: hi, lo: lo, into: &out)
        return String(decoding: out[1...], as: UTF8.self)
    }
}
