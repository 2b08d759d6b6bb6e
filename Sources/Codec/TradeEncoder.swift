import CAvro
import Kernel

/// Why a codec object could not be built.
public struct TradeCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Decimal(18,8) bytes without arrays: the hot paths of encode and decode
/// must not allocate per field. Same encoding as `Decimal8.avroBytes`.
/// `read` is public (and inlinable, as it is inlined here) for the raw
/// libavro baseline of `bench codec`.
public enum DecimalBytes {
    /// Writes the unscaled value as big-endian two's complement in the fewest
    /// bytes that keep the sign (Java's BigInteger.toByteArray) into `out`
    /// (8 bytes of room); returns the byte count.
    @inline(__always)
    static func write(_ units: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 8
        while n > 1 {
            let top = UInt8(truncatingIfNeeded: units >> ((n - 1) * 8))
            let next = UInt8(truncatingIfNeeded: units >> ((n - 2) * 8))
            if (top == 0x00 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) { n -= 1 } else { break }
        }
        for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: units >> ((n - 1 - i) * 8)) }
        return n
    }

    /// The unscaled value of Avro decimal bytes; nil when empty (Java's
    /// BigInteger refuses zero-length bytes too). Values that do not fit 64
    /// bits saturate to Int64.max / Int64.min units: over decimal(18,8)
    /// precision either way, so Silver's validation rejects them as
    /// INVALID_PRICE / INVALID_QUANTITY instead of decode failing.
    @inlinable @inline(__always)
    public static func read(_ p: UnsafeRawBufferPointer) -> Int64? {
        guard let first = p.first else { return nil }
        if p.count <= 8 {
            var v: Int64 = first & 0x80 != 0 ? -1 : 0
            for b in p { v = (v << 8) | Int64(b) }
            return v
        }
        if let d = Decimal8(avroBytes: p) { return d.units }
        return first & 0x80 != 0 ? Int64.min : Int64.max
    }
}

/// Encodes trades with the V1 or V2 trade schema as Confluent-framed Avro.
///
/// Built on libavro's generic value interface. One per thread: libavro
/// values and writers are not thread-safe. The record, its field values and
/// the output buffer are created once and reused; only `encode`'s result is
/// allocated per call.
public final class TradeEncoder {
    public let schemaId: Int32
    /// True when the writer schema is V1 (no trade_conditions,
    /// platform_sequence, vendor_data: those are not written).
    public let writesV1: Bool

    private let schema: avro_schema_t
    private let iface: UnsafeMutablePointer<avro_value_iface_t>
    /// The record and its field values (by V2 field; V2-only fields stay
    /// empty for V1) in manually allocated memory: passing a class's stored
    /// `var` inout to C costs a dynamic exclusivity check per call.
    private let record: UnsafeMutablePointer<avro_value_t>
    private let f: UnsafeMutablePointer<avro_value_t>
    private let writer: avro_writer_t
    private var buffer: UnsafeMutablePointer<CChar>
    private var capacity: Int

    private static let v2Fields = ["message_id", "trade_id", "symbol", "exchange", "asset_class", "timestamp",
                                   "price", "quantity", "currency", "side", "trade_conditions", "source_sequence",
                                   "ingestion_timestamp", "platform_sequence", "vendor_data"]
    private static let v2Only: Set<Int> = [10, 13, 14]

    public init(registry: SchemaRegistry, schemaId: Int32) throws {
        AvroRuntime.ensureReady()
        guard let entry = registry.entry(id: schemaId) else {
            throw TradeCodecError(message: "schema id \(schemaId) is not registered")
        }
        let v1 = try! OrderedJSON.parse(TradeSchemas.v1JSON).canonicalText
        let v2 = try! OrderedJSON.parse(TradeSchemas.v2JSON).canonicalText
        guard entry.canonical == v1 || entry.canonical == v2 else {
            throw TradeCodecError(message: "schema id \(schemaId) is not the V1 or V2 trade schema; the encoder writes only those")
        }
        guard let schema = AvroRuntime.parseSchema(entry.json),
              let iface = avro_generic_class_from_schema(schema) else {
            throw TradeCodecError(message: "libavro cannot build a value for schema id \(schemaId)")
        }
        self.schemaId = schemaId
        self.writesV1 = entry.canonical == v1
        self.schema = schema
        self.iface = iface
        capacity = 4096
        buffer = .allocate(capacity: capacity)
        writer = avro_writer_memory(buffer, Int64(capacity))
        record = .allocate(capacity: 1); record.initialize(to: avro_value_t())
        f = .allocate(capacity: 15); f.initialize(repeating: avro_value_t(), count: 15)
        guard avro_generic_value_new(iface, record) == 0 else {
            throw TradeCodecError(message: "libavro cannot allocate a value for schema id \(schemaId)")
        }
        for (i, name) in Self.v2Fields.enumerated() where !(writesV1 && Self.v2Only.contains(i)) {
            var child = avro_value_t()
            guard mav_get_by_name(record, name, &child, nil) == 0 else {
                throw TradeCodecError(message: "schema id \(schemaId) has no field '\(name)'")
            }
            f[i] = child
        }
    }

    deinit {
        if record.pointee.iface != nil { avro_value_decref(record) }
        record.deallocate(); f.deallocate()
        mav_iface_decref(iface)
        avro_schema_decref(schema)
        avro_writer_free(writer)
        buffer.deallocate()
    }

    @inline(__always)
    private static func setString(_ v: UnsafeMutablePointer<avro_value_t>, _ s: String) {
        let n = s.utf8.count
        // Native Swift strings are NUL-terminated, so withCString does not copy.
        s.withCString { _ = mav_set_string_len(v, $0, n + 1) }
    }

    @inline(__always)
    private static func setDecimal(_ v: UnsafeMutablePointer<avro_value_t>, _ units: Int64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { tmp in
            let n = DecimalBytes.write(units, into: tmp.baseAddress!)
            _ = mav_set_bytes(v, tmp.baseAddress!, n)
        }
    }

    @inline(__always)
    private static func setOptionalLong(_ v: UnsafeMutablePointer<avro_value_t>, _ x: Int64?) {
        var branch = avro_value_t()
        if let x {
            _ = mav_set_branch(v, 1, &branch); _ = mav_set_long(&branch, x)
        } else {
            _ = mav_set_branch(v, 0, &branch); _ = mav_set_null(&branch)
        }
    }

    /// Header + Avro body. Map keys are written in UTF-8 byte order so the same
    /// trade always gives the same bytes (a Dictionary has no order).
    public func encode(_ t: Trade) -> [UInt8] {
        Self.setString(f + 0, t.messageId)
        Self.setString(f + 1, t.tradeId)
        Self.setString(f + 2, t.symbol)
        Self.setString(f + 3, t.exchange)
        Self.setString(f + 4, t.assetClass)
        _ = mav_set_long(f + 5, t.timestampMicros)
        Self.setDecimal(f + 6, t.price.units)
        Self.setDecimal(f + 7, t.quantity.units)
        Self.setString(f + 8, t.currency)
        _ = mav_set_enum(f + 9, t.side == .buy ? 0 : 1)
        Self.setOptionalLong(f + 11, t.sourceSequence)
        _ = mav_set_long(f + 12, t.ingestionTimestampMicros)
        if !writesV1 {
            _ = mav_reset(f + 10)
            for c in t.tradeConditions {
                var item = avro_value_t()
                _ = mav_append(f + 10, &item)
                Self.setString(&item, c)
            }
            Self.setOptionalLong(f + 13, t.platformSequence)
            var branch = avro_value_t()
            if let vendor = t.vendorData {
                _ = mav_set_branch(f + 14, 1, &branch)
                _ = mav_reset(&branch)
                for key in vendor.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    var item = avro_value_t()
                    _ = key.withCString { mav_add(&branch, $0, &item) }
                    Self.setString(&item, vendor[key]!)
                }
            } else {
                _ = mav_set_branch(f + 14, 0, &branch); _ = mav_set_null(&branch)
            }
        }
        return write()
    }

    private func write() -> [UInt8] {
        avro_writer_reset(writer)
        if avro_value_write(writer, record) != 0 {
            // Out of room (a trade with a very large vendor map): grow to the
            // exact size and write again.
            var size = 0
            precondition(avro_value_sizeof(record, &size) == 0, "libavro cannot size a trade record")
            buffer.deallocate()
            capacity = max(size, capacity * 2)
            buffer = .allocate(capacity: capacity)
            avro_writer_memory_set_dest(writer, buffer, Int64(capacity))
            precondition(avro_value_write(writer, record) == 0, "libavro cannot write a trade record")
        }
        let len = Int(avro_writer_tell(writer))
        let header = WireFormat.header(schemaId: schemaId)
        let buf = buffer
        return [UInt8](unsafeUninitializedCapacity: len + WireFormat.headerSize) { out, n in
            withUnsafeBytes(of: header) { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            UnsafeMutableRawPointer(out.baseAddress! + WireFormat.headerSize).copyMemory(from: buf, byteCount: len)
            n = len + WireFormat.headerSize
        }
    }
}
