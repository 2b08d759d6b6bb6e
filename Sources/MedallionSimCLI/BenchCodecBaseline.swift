import ArgumentParser
import CAvro
import Codec
import Kernel

/// The raw libavro calls the codec is built on, without the codec, so that
/// `medallion-sim bench codec` can show what the Swift wrapper costs. It
/// lives with the benchmark, not in the Codec module, which only lends it
/// libavro's set-up (`AvroRuntime`) and the decimal reader the decoder uses.
///
/// - `writeOnly`: `avro_value_write` of an already filled V2 value.
/// - `setAndWrite`: every field set with libavro's setters from prepared C
///   buffers (cached field values, no Swift strings), then written: the C
///   work `TradeEncoder.encode` cannot avoid.
/// - `readOnly`: `avro_value_read` of a V2 body into a reused value.
/// - `readAndCopy`: the read plus every field copied out with libavro's
///   getters into C scratch buffers: the C work `TradeDecoder.decode`
///   cannot avoid (it adds the pre-scan, checks and Swift values).
/// - `readIntoTrade`: the read plus every field copied out into a Swift
///   `Trade` the plain way (`String(decoding:)`, a new Dictionary per map),
///   with no pre-scan and no checks: what a wrapper that adds nothing but
///   the Swift values would cost.
///
/// The read figures take an optional V2 body, so they can run over the same
/// varied records as the decoder; by default they read the one record.
///
/// Not thread-safe; one per benchmark thread.
final class RawAvroBaseline {
    private let schema: avro_schema_t
    private let iface: UnsafeMutablePointer<avro_value_iface_t>
    // Manually allocated, as in the codec: a class's stored `var` passed
    // inout to C pays a dynamic exclusivity check per call.
    private let record: UnsafeMutablePointer<avro_value_t>
    private let readRecord: UnsafeMutablePointer<avro_value_t>
    private let f: UnsafeMutablePointer<avro_value_t>
    private let rf: UnsafeMutablePointer<avro_value_t>
    private let writer: avro_writer_t
    private let reader: avro_reader_t
    private let out: UnsafeMutablePointer<CChar>
    private let scratch: UnsafeMutablePointer<CChar>
    private let body: [CChar]
    /// Prepared field contents: NUL-terminated strings, decimal bytes.
    private let strings: [[CChar]]
    private let conditions: [[CChar]]
    private let vendor: [([CChar], [CChar])]
    private let price: [UInt8], quantity: [UInt8]
    private let trade: Trade
    /// Bytes of the last write; checks that the baseline writes what the codec writes.
    private(set) var lastLength = 0

    init(trade: Trade) throws {
        AvroRuntime.ensureReady()
        guard let schema = AvroRuntime.parseSchema(TradeSchemas.v2JSON),
              let iface = avro_generic_class_from_schema(schema) else {
            throw ValidationError("libavro cannot build the V2 trade value")
        }
        self.schema = schema; self.iface = iface; self.trade = trade
        record = .allocate(capacity: 1); readRecord = .allocate(capacity: 1)
        f = .allocate(capacity: 15); rf = .allocate(capacity: 15)
        f.initialize(repeating: avro_value_t(), count: 15); rf.initialize(repeating: avro_value_t(), count: 15)
        guard avro_generic_value_new(iface, record) == 0, avro_generic_value_new(iface, readRecord) == 0 else {
            throw ValidationError("libavro cannot allocate the V2 trade value")
        }
        for i in 0..<15 { _ = mav_get_by_index(record, i, f + i); _ = mav_get_by_index(readRecord, i, rf + i) }
        out = .allocate(capacity: 1 << 16)
        scratch = .allocate(capacity: 1 << 16)
        writer = avro_writer_memory(out, 1 << 16)
        strings = [trade.messageId, trade.tradeId, trade.symbol, trade.exchange, trade.assetClass, trade.currency]
            .map { Array($0.utf8CString) }
        conditions = trade.tradeConditions.map { Array($0.utf8CString) }
        vendor = (trade.vendorData ?? [:]).keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { (Array($0.utf8CString), Array(trade.vendorData![$0]!.utf8CString)) }
        price = trade.price.avroBytes; quantity = trade.quantity.avroBytes
        let registry = SchemaRegistry.standard()
        let framed = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id).encode(trade)
        body = framed[WireFormat.headerSize...].map { CChar(bitPattern: $0) }
        reader = body.withUnsafeBufferPointer { avro_reader_memory($0.baseAddress, Int64($0.count)) }
        setAll()
    }

    deinit {
        avro_value_decref(record); avro_value_decref(readRecord)
        record.deallocate(); readRecord.deallocate(); f.deallocate(); rf.deallocate()
        mav_iface_decref(iface); avro_schema_decref(schema)
        avro_writer_free(writer); avro_reader_free(reader)
        out.deallocate(); scratch.deallocate()
    }

    private func setAll() {
        let idx = [0, 1, 2, 3, 4, 8]
        for (k, i) in idx.enumerated() { strings[k].withUnsafeBufferPointer { _ = mav_set_string_len(f + i, $0.baseAddress, $0.count) } }
        _ = mav_set_long(f + 5, trade.timestampMicros)
        var p = price, q = quantity
        _ = mav_set_bytes(f + 6, &p, p.count); _ = mav_set_bytes(f + 7, &q, q.count)
        _ = mav_set_enum(f + 9, trade.side == .buy ? 0 : 1)
        _ = mav_reset(f + 10)
        for c in conditions {
            var item = avro_value_t(); _ = mav_append(f + 10, &item)
            c.withUnsafeBufferPointer { _ = mav_set_string_len(&item, $0.baseAddress, $0.count) }
        }
        var branch = avro_value_t()
        if let s = trade.sourceSequence { _ = mav_set_branch(f + 11, 1, &branch); _ = mav_set_long(&branch, s) }
        else { _ = mav_set_branch(f + 11, 0, &branch); _ = mav_set_null(&branch) }
        _ = mav_set_long(f + 12, trade.ingestionTimestampMicros)
        if let s = trade.platformSequence { _ = mav_set_branch(f + 13, 1, &branch); _ = mav_set_long(&branch, s) }
        else { _ = mav_set_branch(f + 13, 0, &branch); _ = mav_set_null(&branch) }
        if trade.vendorData != nil {
            _ = mav_set_branch(f + 14, 1, &branch); _ = mav_reset(&branch)
            for (k, v) in vendor {
                var item = avro_value_t()
                k.withUnsafeBufferPointer { _ = mav_add(&branch, $0.baseAddress, &item) }
                v.withUnsafeBufferPointer { _ = mav_set_string_len(&item, $0.baseAddress, $0.count) }
            }
        } else { _ = mav_set_branch(f + 14, 0, &branch); _ = mav_set_null(&branch) }
    }

    func writeOnly() {
        avro_writer_reset(writer)
        _ = avro_value_write(writer, record)
        lastLength = Int(avro_writer_tell(writer))
    }

    func setAndWrite() {
        setAll()
        writeOnly()
    }

    func readOnly() {
        body.withUnsafeBufferPointer { avro_reader_memory_set_source(reader, $0.baseAddress, Int64($0.count)) }
        _ = avro_value_read(reader, readRecord)
    }

    /// `avro_value_read` of `body` (a V2 record without the 5-byte header).
    func readOnly(_ body: UnsafeRawBufferPointer) {
        avro_reader_memory_set_source(reader, body.baseAddress?.assumingMemoryBound(to: CChar.self), Int64(body.count))
        _ = avro_value_read(reader, readRecord)
    }

    /// Returns a checksum of what was copied, so the work cannot be optimised away.
    @discardableResult
    func readAndCopy() -> Int {
        readOnly()
        return copyOut()
    }

    @discardableResult
    func readAndCopy(_ body: UnsafeRawBufferPointer) -> Int {
        readOnly(body)
        return copyOut()
    }

    func readIntoTrade() -> Trade {
        readOnly()
        return swiftValues()
    }

    func readIntoTrade(_ body: UnsafeRawBufferPointer) -> Trade {
        readOnly(body)
        return swiftValues()
    }

    /// The read value as a Swift `Trade`, assuming a valid V2 record.
    private func swiftValues() -> Trade {
        func string(_ v: UnsafePointer<avro_value_t>) -> String {
            var s: UnsafePointer<CChar>? = nil; var n = 0
            _ = mav_get_string(v, &s, &n)
            guard let s, n > 1 else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: s, count: n - 1), as: UTF8.self)
        }
        func long(_ v: UnsafePointer<avro_value_t>) -> Int64 { var x: Int64 = 0; _ = mav_get_long(v, &x); return x }
        func decimal(_ v: UnsafePointer<avro_value_t>) -> Decimal8 {
            var b: UnsafeRawPointer? = nil; var n = 0
            _ = mav_get_bytes(v, &b, &n)
            return Decimal8(units: DecimalBytes.read(UnsafeRawBufferPointer(start: b, count: b == nil ? 0 : n)) ?? 0)
        }
        func optionalLong(_ v: UnsafePointer<avro_value_t>) -> Int64? {
            var d: Int32 = 0; var branch = avro_value_t()
            _ = mav_get_discriminant(v, &d); _ = mav_get_current_branch(v, &branch)
            return d == 1 ? long(&branch) : nil
        }
        var e: Int32 = 0
        _ = mav_get_enum(rf + 9, &e)
        var count = 0
        _ = mav_get_size(rf + 10, &count)
        var conditions: [String] = []
        if count > 0 {
            conditions.reserveCapacity(count)
            for i in 0..<count { var item = avro_value_t(); _ = mav_get_by_index(rf + 10, i, &item); conditions.append(string(&item)) }
        }
        var vendor: [String: String]? = nil
        var d: Int32 = 0; var branch = avro_value_t()
        _ = mav_get_discriminant(rf + 14, &d); _ = mav_get_current_branch(rf + 14, &branch)
        if d == 1 {
            _ = mav_get_size(&branch, &count)
            var map = [String: String](minimumCapacity: count)
            for i in 0..<count {
                var item = avro_value_t(); var key: UnsafePointer<CChar>? = nil
                _ = mav_map_get_by_index(&branch, i, &item, &key)
                map[String(cString: key!)] = string(&item)
            }
            vendor = map
        }
        return Trade(messageId: string(rf + 0), tradeId: string(rf + 1), symbol: string(rf + 2), exchange: string(rf + 3),
                     assetClass: string(rf + 4), timestampMicros: long(rf + 5), price: decimal(rf + 6),
                     quantity: decimal(rf + 7), currency: string(rf + 8), side: e == 0 ? .buy : .sell,
                     tradeConditions: conditions, sourceSequence: optionalLong(rf + 11),
                     ingestionTimestampMicros: long(rf + 12), platformSequence: optionalLong(rf + 13), vendorData: vendor)
    }

    private func copyOut() -> Int {
        var sum = 0
        var pos = 0
        func copyString(_ v: UnsafePointer<avro_value_t>) {
            var s: UnsafePointer<CChar>? = nil; var n = 0
            _ = mav_get_string(v, &s, &n)
            if let s, n > 0, pos + n < 1 << 16 { (scratch + pos).update(from: s, count: n); pos += n }
        }
        for i in [0, 1, 2, 3, 4, 8] { copyString(rf + i) }
        var x: Int64 = 0
        _ = mav_get_long(rf + 5, &x); sum &+= Int(truncatingIfNeeded: x)
        _ = mav_get_long(rf + 12, &x); sum &+= Int(truncatingIfNeeded: x)
        for i in [6, 7] {
            var b: UnsafeRawPointer? = nil; var n = 0
            _ = mav_get_bytes(rf + i, &b, &n)
            if let b { UnsafeMutableRawPointer(scratch + pos).copyMemory(from: b, byteCount: n); pos += n }
        }
        var e: Int32 = 0
        _ = mav_get_enum(rf + 9, &e); sum &+= Int(e)
        var count = 0
        _ = mav_get_size(rf + 10, &count)
        for i in 0..<count { var item = avro_value_t(); _ = mav_get_by_index(rf + 10, i, &item); copyString(&item) }
        var branch = avro_value_t(); var d: Int32 = 0
        for i in [11, 13] {
            _ = mav_get_discriminant(rf + i, &d); _ = mav_get_current_branch(rf + i, &branch)
            if d == 1 { _ = mav_get_long(&branch, &x); sum &+= Int(truncatingIfNeeded: x) }
        }
        _ = mav_get_discriminant(rf + 14, &d); _ = mav_get_current_branch(rf + 14, &branch)
        if d == 1 {
            _ = mav_get_size(&branch, &count)
            for i in 0..<count {
                var item = avro_value_t(); var key: UnsafePointer<CChar>? = nil
                _ = mav_map_get_by_index(&branch, i, &item, &key)
                if let key { let n = strlen(key); (scratch + pos).update(from: key, count: n); pos += n }
                copyString(&item)
            }
        }
        return sum &+ pos
    }
}
