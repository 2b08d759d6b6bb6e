import Testing
import Kernel
@testable import Codec

/// The decoder's fast paths (FlatScan, VendorDataCache, reused short
/// strings) must give exactly the results of the plain paths they replace.
@Suite struct DecodeFastPathTests {
    /// A writer schema with every primitive kind the trade schemas lack
    /// (boolean, int, float, double, fixed, enum, nested record, unions,
    /// arrays and maps of records), for the scanners only.
    static let wideSchema = """
    {"type":"record","name":"W","fields":[
     {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"f","type":"float"},
     {"name":"d","type":"double"},{"name":"x","type":{"type":"fixed","name":"F","size":3}},
     {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
     {"name":"n","type":"null"},
     {"name":"r","type":{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"u","type":["null","int","string"]}]}},
     {"name":"a","type":{"type":"array","items":"R"}},
     {"name":"m","type":{"type":"map","values":["null","bytes"]}},
     {"name":"z","type":{"type":"array","items":"null"}}]}
    """

    static func wideBody(_ rng: inout RandomStream) -> [UInt8] {
        func r() -> [UInt8] {
            SpecAvro.string(String(rng.uniform(in: 0...999_999))) +
                (rng.chance(.percent(50)) ? SpecAvro.long(0) : SpecAvro.long(1) + SpecAvro.long(rng.uniform(in: -70_000...70_000)))
        }
        var b: [UInt8] = [UInt8(rng.uniform(below: 2))] + SpecAvro.long(rng.uniform(in: -1_000_000...1_000_000))
        b += rng.bytes(4) + rng.bytes(8) + rng.bytes(3) + SpecAvro.long(rng.uniform(in: 0...2)) + r()
        let n = rng.uniform(in: 0...3)
        if n > 0 {
            if rng.chance(.percent(50)) { b += SpecAvro.long(n) } else {
                // A negative count with the block's byte size.
                let items = (0..<n).flatMap { _ in r() }
                b += SpecAvro.long(-n) + SpecAvro.long(Int64(items.count)) + items
                b += SpecAvro.long(0)
                return b + SpecAvro.long(1) + SpecAvro.string("k") + SpecAvro.long(1) + SpecAvro.bytes([1, 2]) + [0]
                    + SpecAvro.long(1) + [0]
            }
            for _ in 0..<n { b += r() }
        }
        b += SpecAvro.long(0)
        b += SpecAvro.long(1) + SpecAvro.string("k") + SpecAvro.long(1) + SpecAvro.bytes([1, 2]) + [0]
        return b + SpecAvro.long(1) + [0]
    }

    /// Same verdict from both scanners: valid bodies, every truncation, bit
    /// flips, appended bytes and random bytes.
    static func expectAgreement(_ graph: AvroSchemaGraph, _ body: [UInt8], _ flat: FlatScan, _ generic: ScanProgram,
                                _ mismatches: inout Int) {
        let f = body.withUnsafeBytes { flat.accepts($0) }
        let g = body.withUnsafeBytes { if case .success = generic.scan($0) { return true }; return false }
        if f != g {
            mismatches += 1
            if mismatches <= 5 { Issue.record("flat \(f), generic \(g) for \(body)") }
        }
    }

    @Test func flatAndGenericScansAgree() throws {
        let wide = try AvroSchemaGraph(json: Self.wideSchema)
        let graphs = [try AvroSchemaGraph(json: TradeSchemas.v1JSON), try AvroSchemaGraph(json: TradeSchemas.v2JSON), wide]
        var rng = RandomStreams(seed: 0xF1A7).stream("codec.flatscan")
        var mismatches = 0, checked = 0
        // The robustness payloads against V1 and V2 (the body after the header).
        ResourceSensitiveTests.malformedPayloads(scale: 1) { p, _ in
            guard p.count >= 5 else { return }
            let body = Array(p[5...])
            for g in graphs.prefix(2) {
                Self.expectAgreement(g, body, FlatScan(g)!, ScanProgram(g), &mismatches)
                checked += 1
            }
        }
        // The wide schema: valid bodies and their damaged variants.
        let flat = FlatScan(wide)!, generic = ScanProgram(wide)
        for _ in 0..<300 {
            let valid = Self.wideBody(&rng)
            let ok = valid.withUnsafeBytes { flat.accepts($0) }
            #expect(ok, "a valid wide body is refused: \(valid)")
            var variants: [[UInt8]] = (0..<valid.count).map { Array(valid[..<$0]) }
            variants.append(valid + [0])
            for _ in 0..<40 {
                var b = valid
                let bit = Int(rng.uniform(below: UInt64(b.count * 8)))
                b[bit / 8] ^= UInt8(1 << (bit % 8))
                variants.append(b)
            }
            for _ in 0..<10 { variants.append(rng.bytes(Int(rng.uniform(below: 80)))) }
            for v in variants { Self.expectAgreement(wide, v, flat, generic, &mismatches); checked += 1 }
        }
        #expect(checked > 100_000)
        #expect(mismatches == 0, "\(mismatches) of \(checked) bodies")
    }

    @Test func recursiveOrDeepSchemasUseTheGenericWalkOnly() throws {
        let list = try AvroSchemaGraph(json: #"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#)
        #expect(FlatScan(list) == nil)
        var deep = #""int""#
        for _ in 0..<70 { deep = #"{"type":"array","items":\#(deep)}"# }
        #expect(FlatScan(try AvroSchemaGraph(json: deep)) == nil)
        #expect(FlatScan(try AvroSchemaGraph(json: TradeSchemas.v2JSON)) != nil)
    }

    /// Vendor maps that repeat, that never repeat (more than the cache
    /// holds), that are too large to cache, and with keys or values that
    /// are not valid UTF-8 all decode as the plain path would.
    @Test func vendorMapsAndShortStringsDecodeAsBefore() throws {
        let registry = SchemaRegistry.standard()
        let encoder = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let decoder = TradeDecoder(registry: registry)
        var rng = RandomStreams(seed: 0xCAC4E).stream("codec.vendorcache")
        var trades: [Trade] = []
        for i in 0..<400 {
            var t = Samples.trade(&rng)
            switch i % 4 {
            case 0: t.vendorData = ["m": "true", "is_best_match": "true"]
            case 1: t.vendorData = ["m": "\(i)"]
            case 2: t.vendorData = Dictionary(uniqueKeysWithValues: (0..<20).map { ("key\($0)", String(repeating: "v", count: $0 + i % 7)) })
            default: t.vendorData = i % 8 == 3 ? [:] : nil
            }
            trades.append(t)
        }
        for t in trades {
            let d = try decoder.decode(encoder.encode(t)).get()
            #expect(d.trade == t)
        }
        // Bytes the encoder never writes: invalid UTF-8 in a key, a value and
        // the symbol (a reused short string). An Avro string is UTF-8, so
        // these are not strings: AVRO_DECODE_ERROR, each time, from both the
        // flat and the generic pre-scan (no disagreement), never a repair.
        let fields = ResourceSensitiveTests.v2Fields()
        var symbol = fields, key = fields, value = fields
        symbol[2] = SpecAvro.long(2) + [0x41, 0xFF]
        key[14] = SpecAvro.long(1) + SpecAvro.long(1) + SpecAvro.long(2) + [0x41, 0xFF] + SpecAvro.string("v") + [0]
        value[14] = SpecAvro.long(1) + SpecAvro.long(1) + SpecAvro.string("k") + SpecAvro.long(2) + [0x41, 0xFF] + [0]
        for f in [symbol, key, value] {
            for _ in 0..<2 {
                guard case .failure(let e) = decoder.decode(SpecAvro.header(2) + f.flatMap { $0 }) else {
                    Issue.record("invalid UTF-8 decoded"); continue
                }
                #expect(e.reason == .avroDecodeError)
                #expect(e.message.contains("not valid UTF-8"), "\(e.message)")
            }
        }
        #expect(decoder.scanDisagreements == 0)
    }
}

extension ResourceSensitiveTests {
    /// A long run of valid decodes (V1 and V2, with shared and unshared
    /// vendor maps) keeps resident memory flat: nothing the decoder caches or
    /// libavro allocates per record accumulates.
    @Test func validDecodesDoNotGrowMemory() throws {
        let r = Self.registry()
        let v2 = try TradeEncoder(registry: r, schemaId: 2), v1 = try TradeEncoder(registry: r, schemaId: 1)
        var rng = RandomStreams(seed: Self.seed).stream("codec.valid-memory")
        var payloads: [([UInt8], Trade)] = []
        for i in 0..<1_000 {
            var t = Samples.trade(&rng)
            if i % 3 == 0 { t.vendorData = ["seq": String(i), "m": "true"] }
            payloads.append(i % 5 == 0 ? (v1.encode(t), Samples.asV1(t)) : (v2.encode(t), t))
        }
        let dec = TradeDecoder(registry: r)
        var mismatches = 0
        func run(_ n: Int) {
            for i in 0..<n {
                let (bytes, want) = payloads[i % payloads.count]
                switch dec.decode(bytes) {
                case .success(let d): if d.trade != want { mismatches += 1 }
                case .failure: mismatches += 1
                }
            }
        }
        run(20_000)  // warm up: allocator arenas, the decoder's per-id state and caches
        let before = residentBytes()
        run(200_000)
        let after = residentBytes()
        print("valid decodes: 200000, rss \(before) -> \(after)")
        #expect(mismatches == 0, "seed=\(Self.seed)")
        #expect(dec.libavroFailures == 0 && dec.scanDisagreements == 0)
        #expect(after - before < 4 << 20, "resident memory grew from \(before) to \(after) bytes over 200000 valid decodes")
    }
}
