import CAvro
import Kernel

/// A decoded trade and where it came from.
public struct DecodedTrade: Equatable, Sendable {
    public var trade: Trade
    public var schemaId: Int32
    /// The writer schema lacked all of V2's additions (trade_conditions,
    /// platform_sequence, vendor_data), so those hold V2's defaults.
    public var writerIsV1: Bool
    public init(trade: Trade, schemaId: Int32, writerIsV1: Bool) {
        self.trade = trade; self.schemaId = schemaId; self.writerIsV1 = writerIsV1
    }
}

/// Why a payload could not be decoded: exactly one DESERIALIZATION or SCHEMA
/// reason of docs/REFERENCE.md §4, a sentence for the DLQ's `error_message`, and the
/// schema id when the header was readable.
public struct DecodeFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: DeadLetterReason
    public var message: String
    public var schemaId: Int32?
    public init(reason: DeadLetterReason, message: String, schemaId: Int32?) {
        self.reason = reason; self.message = message; self.schemaId = schemaId
    }
    public var description: String { "\(reason.rawValue): \(message)" }
}

/// Decodes Confluent-framed Avro trades into V2 `Trade`s.
///
/// Order of checks, each naming one reason: empty payload, short header,
/// magic byte, schema id lookup, resolution of the writer schema to V2
/// (cached per id), the Swift pre-scan of the body (corrupt or trailing),
/// libavro's read under the guarded allocator, the trailing-byte probe, and
/// the field checks libavro skips (enum index, decimal bytes).
///
/// One per thread: it owns libavro values and a reader, which are not
/// thread-safe. Reuse it: per-schema-id state (resolution, libavro value)
/// is built on first sight of an id and kept.
public final class TradeDecoder {
    public let registry: SchemaRegistry

    private enum Plan { case ready(WriterReader), incompatible(String) }
    private var plans: [Int32: Plan] = [:]
    private var lastId: Int32 = 0
    private var lastReader: WriterReader? = nil
    private let reader: avro_reader_t
    private static let emptyInput: [CChar] = [0]

    /// Test-only: skip the Swift pre-scan, so the tests can show that the
    /// second line of defense (allocator cap, leak reclamation, enum check,
    /// trailing probe) holds on its own.
    var testOnly_skipPrescan = false
    /// Blocks libavro leaked on failed reads and the decoder freed.
    public private(set) var reclaimedBlocks = 0
    /// libavro reads that failed after the pre-scan passed them (expected 0).
    public private(set) var libavroFailures = 0
    /// Bodies the flat pre-scan refused and the generic walk accepted
    /// (expected 0; the generic walk's verdict is used).
    public private(set) var scanDisagreements = 0

    public init(registry: SchemaRegistry) {
        AvroRuntime.ensureReady()
        self.registry = registry
        reader = Self.emptyInput.withUnsafeBufferPointer { avro_reader_memory($0.baseAddress, 0) }
    }

    deinit { avro_reader_free(reader) }

    public func decode(_ bytes: [UInt8]) -> Result<DecodedTrade, DecodeFailure> {
        bytes.withUnsafeBytes { decode($0) }
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<DecodedTrade, DecodeFailure> {
        if bytes.isEmpty { return .failure(DecodeFailure(reason: .emptyPayload, message: "empty payload", schemaId: nil)) }
        if bytes.count < WireFormat.headerSize {
            return .failure(DecodeFailure(reason: .truncatedHeader,
                                          message: "payload of \(bytes.count) bytes is shorter than the 5-byte header", schemaId: nil))
        }
        if bytes[0] != WireFormat.magicByte {
            return .failure(DecodeFailure(reason: .invalidMagicByte,
                                          message: "magic byte is 0x\(String(bytes[0], radix: 16)), expected 0x00", schemaId: nil))
        }
        let id = Int32(bitPattern: UInt32(bytes[1]) << 24 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 8 | UInt32(bytes[4]))
        let wr: WriterReader
        if id == lastId, let last = lastReader {
            wr = last
        } else {
            switch plan(for: id) {
            case .failure(let f): return .failure(f)
            case .success(let r): wr = r; lastId = id; lastReader = r
            }
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[WireFormat.headerSize...])
        return wr.decode(body, reader: reader, skipPrescan: testOnly_skipPrescan, decoder: self)
    }

    private func plan(for id: Int32) -> Result<WriterReader, DecodeFailure> {
        if let p = plans[id] {
            switch p {
            case .ready(let r): return .success(r)
            case .incompatible(let why):
                return .failure(DecodeFailure(reason: .incompatibleSchema, message: why, schemaId: id))
            }
        }
        // Unknown ids are not cached: a replay may register the id later.
        guard let entry = registry.entry(id: id) else {
            return .failure(DecodeFailure(reason: .unknownSchemaId, message: "schema id \(id) is not registered", schemaId: id))
        }
        let p: Plan
        switch TradeResolution.resolve(entry.graph) {
        case .failure(let e):
            p = .incompatible("writer schema \(id) cannot be resolved to the V2 trade: \(e.message)")
        case .success(let res):
            if let r = WriterReader(schemaId: id, json: entry.json, graph: entry.graph, resolution: res) {
                p = .ready(r)
            } else {
                p = .incompatible("writer schema \(id) cannot be resolved to the V2 trade: libavro cannot build a value for it")
            }
        }
        plans[id] = p
        return plan(for: id)
    }

    fileprivate func noteReclaimed(_ n: Int) { reclaimedBlocks += n; libavroFailures += 1 }
    fileprivate func noteScanDisagreement() { scanDisagreements += 1 }
}

/// One writer schema's compiled state: the pre-scan (flat, and the generic
/// walk that names failures), the resolution to V2 flattened into plain
/// integers, and a reusable libavro value of the writer schema.
private final class WriterReader {
    let schemaId: Int32
    let scan: ScanProgram
    /// Nil for recursive or very deep writer schemas (the generic walk runs alone).
    let flat: FlatScan?
    let schema: avro_schema_t
    let iface: UnsafeMutablePointer<avro_value_iface_t>
    /// The libavro record, in manually allocated memory rather than a stored
    /// `var`: passing a class's stored property inout to C costs a dynamic
    /// exclusivity check per call, which showed up in the benchmark.
    let record: UnsafeMutablePointer<avro_value_t>
    /// The record's field values, cached: a generic record's children live
    /// inside it, so they stay valid until the record is destroyed.
    let fields: UnsafeMutablePointer<avro_value_t>
    let writerFieldCount: Int

    // The resolution (TradeResolution), flattened: only trivial values, so
    // reading it on the hot path touches no reference counts (copying the
    // struct retained its four arrays on every decode).
    let messageId: Int, tradeId: Int, symbol: Int, exchange: Int, assetClass: Int, currency: Int
    let timestamp: Int, ingestionTimestamp: Int, timestampIsInt: Bool, ingestionIsInt: Bool
    let price: Int, quantity: Int, side: Int
    /// Writer enum index -> Side; `sideCount` entries.
    let sides: UnsafeMutablePointer<Side>
    let sideCount: Int32
    let tradeConditions: Int
    let sourceSequence: FlatOptionalLong, platformSequence: FlatOptionalLong
    /// Writer field index of vendor_data, -1 when absent (null).
    let vendorIndex: Int
    /// Non-union writer field: 1 map<string>, 0 null; -1 for a union.
    let vendorDirect: Int8
    let vendorBranchCount: Int32
    /// Bit i set: union branch i is the map<string>.
    let vendorMapBranches: UInt32
    let writerIsV1: Bool
    let vendorCache = VendorDataCache()
    /// The last symbol, exchange, asset_class and currency read: fields with
    /// a handful of values in any feed, so the same short String is reused
    /// when libavro returns the same bytes (see `recentString`).
    let recent: UnsafeMutablePointer<RecentString>

    struct RecentString {
        /// Byte count of `value`, -1 when empty; at most 15 (a small String,
        /// held inline: reusing it costs no reference count).
        var count = -1
        var bytes: (UInt64, UInt64) = (0, 0)
        var value = ""
    }

    /// An optional long field (TradeResolution.OptionalLong) without arrays:
    /// a union of null/long/int has at most three branches.
    struct FlatOptionalLong {
        var index: Int
        var direct: TradeResolution.Num?
        var branchCount: Int32
        var branches: (TradeResolution.Num, TradeResolution.Num, TradeResolution.Num)

        init(_ o: TradeResolution.OptionalLong) {
            precondition(o.branches.count <= 3, "a union of null, long and int has at most three branches")
            index = o.index; direct = o.direct; branchCount = Int32(o.branches.count)
            let b = o.branches + Array(repeating: TradeResolution.Num.null, count: 3 - o.branches.count)
            branches = (b[0], b[1], b[2])
        }

        @inline(__always) func branch(_ d: Int32) -> TradeResolution.Num {
            d == 0 ? branches.0 : d == 1 ? branches.1 : branches.2
        }
    }

    init?(schemaId: Int32, json: String, graph: AvroSchemaGraph, resolution res: TradeResolution) {
        guard let schema = AvroRuntime.parseSchema(json) else { return nil }
        guard let iface = avro_generic_class_from_schema(schema) else { avro_schema_decref(schema); return nil }
        precondition(res.vendorData.branches.count <= 32, "a union of null and map has at most two branches")
        self.schemaId = schemaId
        self.scan = ScanProgram(graph)
        self.flat = FlatScan(graph)
        self.schema = schema
        self.iface = iface
        writerFieldCount = res.writerFieldCount
        messageId = res.messageId; tradeId = res.tradeId; symbol = res.symbol; exchange = res.exchange
        assetClass = res.assetClass; currency = res.currency
        timestamp = res.timestamp; ingestionTimestamp = res.ingestionTimestamp
        timestampIsInt = res.timestampIsInt; ingestionIsInt = res.ingestionIsInt
        price = res.price; quantity = res.quantity; side = res.side
        sides = .allocate(capacity: max(res.sideSymbols.count, 1))
        sides.initialize(from: res.sideSymbols, count: res.sideSymbols.count)
        sideCount = Int32(res.sideSymbols.count)
        tradeConditions = res.tradeConditions
        sourceSequence = FlatOptionalLong(res.sourceSequence)
        platformSequence = FlatOptionalLong(res.platformSequence)
        vendorIndex = res.vendorData.index
        vendorDirect = res.vendorData.direct.map { $0 ? 1 : 0 } ?? -1
        vendorBranchCount = Int32(res.vendorData.branches.count)
        var mask: UInt32 = 0
        for (i, isMap) in res.vendorData.branches.enumerated() where isMap { mask |= 1 << UInt32(i) }
        vendorMapBranches = mask
        writerIsV1 = res.writerIsV1
        recent = .allocate(capacity: 4)
        recent.initialize(repeating: RecentString(), count: 4)
        record = .allocate(capacity: 1)
        record.initialize(to: avro_value_t())
        fields = .allocate(capacity: max(res.writerFieldCount, 1))
        fields.initialize(repeating: avro_value_t(), count: max(res.writerFieldCount, 1))
        guard makeRecord() else { return nil }
    }

    deinit {
        if record.pointee.iface != nil { avro_value_decref(record) }
        mav_iface_decref(iface)
        avro_schema_decref(schema)
        fields.deallocate()
        record.deallocate()
        sides.deallocate()
        recent.deinitialize(count: 4)
        recent.deallocate()
    }

    private func makeRecord() -> Bool {
        guard avro_generic_value_new(iface, record) == 0 else { record.pointee = avro_value_t(); return false }
        for i in 0..<writerFieldCount {
            guard mav_get_by_index(record, i, fields + i) == 0 else { return false }
        }
        return true
    }

    /// Inlined into `TradeDecoder.decode`: returned through one more call,
    /// the ~200-byte result was copied with memmove on every decode.
    @inline(__always)
    func decode(_ body: UnsafeRawBufferPointer, reader: avro_reader_t, skipPrescan: Bool,
                decoder: TradeDecoder) -> Result<DecodedTrade, DecodeFailure> {
        // The flat scan answers for well-formed bodies; anything it refuses
        // is walked again by the generic scan, which names the failure.
        if !skipPrescan, !(flat?.accepts(body) ?? false) {
            switch scan.scan(body) {
            case .success:
                // The scanners disagree (a bug, which ScanAgreementTests look
                // for): the generic walk is the reference, and it passed.
                decoder.noteScanDisagreement()
            case .failure(.corrupt(let why)):
                return .failure(DecodeFailure(reason: .avroDecodeError, message: "schema \(schemaId): \(why)", schemaId: schemaId))
            case .failure(.trailing(let recordEnd, let payloadEnd)):
                return .failure(trailing(recordEnd, payloadEnd))
            }
        }
        if record.pointee.iface == nil, !makeRecord() {
            return .failure(DecodeFailure(reason: .avroDecodeError, message: "schema \(schemaId): libavro cannot allocate a value", schemaId: schemaId))
        }
        avro_reader_memory_set_source(reader, body.baseAddress?.assumingMemoryBound(to: CChar.self), Int64(body.count))
        // No block may exceed what this input could need: strings and bytes
        // are at most the body long; generic arrays and maps hold fewer items
        // than the body has bytes (the pre-scan's item budget), each element
        // under 128 bytes in libavro (a string element is 48), and libavro
        // doubles an array's storage when it grows. The cap must never refuse
        // a block a well-formed body needs: a refused growth leaves libavro's
        // array half-built, and destroying it then crashed (an array of ~100k
        // empty strings needed 96 bytes per item against a cap of 64).
        AllocationGuard.begin(capBytes: 64 * 1024 + 256 * body.count)
        if avro_value_read(reader, record) != 0 {
            // Destroy the value (freeing what it owns), then free what libavro
            // leaked; build a fresh value on the next decode.
            decoder.noteReclaimed(AllocationGuard.reclaim(destroying: record))
            return .failure(DecodeFailure(reason: .avroDecodeError,
                                          message: "schema \(schemaId): libavro cannot read the \(body.count)-byte body", schemaId: schemaId))
        }
        AllocationGuard.endOK()
        // The pre-scan has already proved the record ends exactly at the end
        // of the body. The 1-byte probe is for when it was skipped: a failed
        // avro_read formats an error message (vsnprintf) inside libavro,
        // which cost ~15% of a decode when run on every record.
        if skipPrescan, mav_reader_has_more(reader) != 0 { return .failure(trailing(nil, body.count)) }
        return extract()
    }

    private func trailing(_ recordEnd: Int?, _ payloadEnd: Int) -> DecodeFailure {
        let at = recordEnd.map { "the record ends at byte \($0) of the \(payloadEnd)-byte body" }
            ?? "bytes follow the record in the \(payloadEnd)-byte body"
        return DecodeFailure(reason: .trailingBytes, message: "schema \(schemaId): \(at)", schemaId: schemaId)
    }

    private func corrupt(_ why: String) -> DecodeFailure {
        DecodeFailure(reason: .avroDecodeError, message: "schema \(schemaId): \(why)", schemaId: schemaId)
    }

    // MARK: field extraction

    /// Thrown inside `extract` only; becomes AVRO_DECODE_ERROR.
    private struct Bad: Error { let why: String }

    @inline(__always)
    private static func string(_ v: UnsafePointer<avro_value_t>) throws(Bad) -> String {
        var p: UnsafePointer<CChar>? = nil
        var n = 0
        guard mav_get_string(v, &p, &n) == 0 else { throw Bad(why: "a string field cannot be read") }
        guard let p, n > 1 else { return "" }
        // libavro's sizes include the NUL terminator.
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n - 1), as: UTF8.self)
    }

    /// `string`, reusing the String built last time for this field when
    /// libavro returns the same bytes: UTF-8 validation and String creation
    /// were a measurable part of a decode, and these fields rarely change.
    /// Byte-for-byte equal input gives the String `string` would build.
    @inline(__always)
    private static func recentString(_ v: UnsafePointer<avro_value_t>, _ slot: UnsafeMutablePointer<RecentString>) throws(Bad) -> String {
        var p: UnsafePointer<CChar>? = nil
        var n = 0
        guard mav_get_string(v, &p, &n) == 0 else { throw Bad(why: "a string field cannot be read") }
        guard let p, n > 1 else { return "" }
        let count = n - 1
        guard count <= 15 else { return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self) }
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { $0.baseAddress!.copyMemory(from: p, byteCount: count) }
        if slot.pointee.count == count && slot.pointee.bytes == bytes { return slot.pointee.value }
        let s = String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
        slot.pointee = RecentString(count: count, bytes: bytes, value: s)
        return s
    }

    @inline(__always)
    private static func long(_ v: UnsafePointer<avro_value_t>, isInt: Bool) throws(Bad) -> Int64 {
        if isInt {
            var x: Int32 = 0
            guard mav_get_int(v, &x) == 0 else { throw Bad(why: "an int field cannot be read") }
            return Int64(x)
        }
        var x: Int64 = 0
        guard mav_get_long(v, &x) == 0 else { throw Bad(why: "a long field cannot be read") }
        return x
    }

    @inline(__always)
    private static func decimal(_ v: UnsafePointer<avro_value_t>, _ name: StaticString) throws(Bad) -> Decimal8 {
        var p: UnsafeRawPointer? = nil
        var n = 0
        guard mav_get_bytes(v, &p, &n) == 0 else { throw Bad(why: "\(name) cannot be read") }
        guard let units = DecimalBytes.read(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n)) else {
            throw Bad(why: "\(name) has zero-length decimal bytes")
        }
        return Decimal8(units: units)
    }

    @inline(__always)
    private func optionalLong(_ plan: FlatOptionalLong, _ name: StaticString) throws(Bad) -> Int64? {
        if plan.index < 0 { return nil }
        let v = fields + plan.index
        let kind: TradeResolution.Num
        var branch = avro_value_t()
        if let direct = plan.direct {
            kind = direct; branch = v.pointee
        } else {
            var d: Int32 = 0
            guard mav_get_discriminant(v, &d) == 0, d >= 0, d < plan.branchCount,
                  mav_get_current_branch(v, &branch) == 0 else { throw Bad(why: "union \(name) has no valid branch") }
            kind = plan.branch(d)
        }
        switch kind {
        case .null: return nil
        case .long: return try Self.long(&branch, isInt: false)
        case .int: return try Self.long(&branch, isInt: true)
        }
    }

    @inline(__always)
    private func extract() -> Result<DecodedTrade, DecodeFailure> {
        let f = fields
        do throws(Bad) {
            // libavro accepts an out-of-range enum index (docs/AVRO-LIBRARY.md); the
            // pre-scan refuses it, and this check holds without the pre-scan.
            var sideIndex: Int32 = 0
            guard mav_get_enum(f + side, &sideIndex) == 0, sideIndex >= 0, sideIndex < sideCount else {
                return .failure(corrupt("enum side index \(sideIndex) is out of range 0..<\(sideCount)"))
            }
            var conditions: [String] = []
            if tradeConditions >= 0 {
                var n = 0
                guard mav_get_size(f + tradeConditions, &n) == 0 else { throw Bad(why: "trade_conditions cannot be read") }
                if n > 0 {
                    conditions.reserveCapacity(n)
                    for i in 0..<n {
                        var item = avro_value_t()
                        guard mav_get_by_index(f + tradeConditions, i, &item) == 0 else { throw Bad(why: "trade_conditions cannot be read") }
                        conditions.append(try Self.string(&item))
                    }
                }
            }
            var vendor: [String: String]? = nil
            if vendorIndex >= 0 {
                let v = f + vendorIndex
                var map = avro_value_t()
                let isMap: Bool
                if vendorDirect >= 0 {
                    isMap = vendorDirect == 1; map = v.pointee
                } else {
                    var d: Int32 = 0
                    guard mav_get_discriminant(v, &d) == 0, d >= 0, d < vendorBranchCount,
                          mav_get_current_branch(v, &map) == 0 else { throw Bad(why: "union vendor_data has no valid branch") }
                    isMap = vendorMapBranches & (1 << UInt32(d)) != 0
                }
                if isMap {
                    guard let m = vendorCache.map(&map) else { throw Bad(why: "vendor_data cannot be read") }
                    vendor = m
                }
            }
            // Every field is read into a local first and the trade built in
            // one expression: building `Trade` into a local and wrapping it
            // afterwards made the optimiser copy it (a retain and a release
            // per string field).
            let messageId = try Self.string(f + messageId), tradeId = try Self.string(f + tradeId)
            let symbol = try Self.recentString(f + symbol, recent), exchange = try Self.recentString(f + exchange, recent + 1)
            let assetClass = try Self.recentString(f + assetClass, recent + 2)
            let currency = try Self.recentString(f + currency, recent + 3)
            let timestamp = try Self.long(f + timestamp, isInt: timestampIsInt)
            let ingestion = try Self.long(f + ingestionTimestamp, isInt: ingestionIsInt)
            let price = try Self.decimal(f + price, "price"), quantity = try Self.decimal(f + quantity, "quantity")
            let sourceSequence = try optionalLong(sourceSequence, "source_sequence")
            let platformSequence = try optionalLong(platformSequence, "platform_sequence")
            return .success(DecodedTrade(
                trade: Trade(messageId: messageId, tradeId: tradeId, symbol: symbol, exchange: exchange,
                             assetClass: assetClass, timestampMicros: timestamp, price: price, quantity: quantity,
                             currency: currency, side: sides[Int(sideIndex)], tradeConditions: conditions,
                             sourceSequence: sourceSequence, ingestionTimestampMicros: ingestion,
                             platformSequence: platformSequence, vendorData: vendor),
                schemaId: schemaId, writerIsV1: writerIsV1))
        } catch {
            return .failure(corrupt(error.why))
        }
    }
}
