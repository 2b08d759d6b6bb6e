import Testing
import Kernel
@testable import Codec

@Suite struct RoundTripTests {
    let registry = SchemaRegistry.standard()

    func full() -> Trade {
        Trade(messageId: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", tradeId: "123456789", symbol: "BTCUSDT",
              exchange: "BINANCE", timestampMicros: Samples.ingest - 1_000,
              price: Decimal8(units: 999_999_999_999_999_999), quantity: Decimal8(units: -50_000_000),
              currency: "USDT", side: .sell, tradeConditions: ["odd_lot", "", "ü"], sourceSequence: -7,
              ingestionTimestampMicros: Samples.ingest, platformSequence: Int64.max,
              vendorData: ["m": "true", "is_best_match": "", "é": "x"])
    }

    @Test func v2RoundTripsEveryField() throws {
        let enc = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let dec = TradeDecoder(registry: registry)
        var variants = [full()]
        var t = full()
        t.tradeConditions = []; t.sourceSequence = nil; t.platformSequence = nil; t.vendorData = nil
        t.price = Decimal8(units: -999_999_999_999_999_999); t.quantity = Decimal8(units: 1); t.side = .buy
        variants.append(t)
        t.vendorData = [:]; t.sourceSequence = Int64.min; t.platformSequence = 0; t.tradeId = ""
        variants.append(t)
        for v in variants {
            let got = dec.decode(enc.encode(v))
            #expect(got == .success(DecodedTrade(trade: v, schemaId: 2, writerIsV1: false)))
        }
    }

    @Test func v1ReadsAsV2WithDefaults() throws {
        let enc = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v1Id)
        #expect(enc.writesV1)
        let dec = TradeDecoder(registry: registry)
        for var t in [full(), Samples.asV1(full())] {
            t.sourceSequence = t.sourceSequence == nil ? 5 : nil
            let got = dec.decode(enc.encode(t))
            #expect(got == .success(DecodedTrade(trade: Samples.asV1(t), schemaId: 1, writerIsV1: true)))
        }
    }

    @Test func seededTradesRoundTrip() throws {
        let seed: UInt64 = 20260120
        var rng = RandomStreams(seed: seed).stream("codec.roundtrip")
        let v2 = try TradeEncoder(registry: registry, schemaId: 2), v1 = try TradeEncoder(registry: registry, schemaId: 1)
        let dec = TradeDecoder(registry: registry)
        for i in 0..<2_000 {
            let t = Samples.trade(&rng)
            let a = dec.decode(v2.encode(t)), b = dec.decode(v1.encode(t))
            #expect(a == .success(DecodedTrade(trade: t, schemaId: 2, writerIsV1: false)), "seed=\(seed) i=\(i)")
            #expect(b == .success(DecodedTrade(trade: Samples.asV1(t), schemaId: 1, writerIsV1: true)), "seed=\(seed) i=\(i)")
        }
    }

    @Test func decimalBytesMatchDecimal8() {
        let cases: [Int64] = [0, 1, -1, 127, 128, -128, -129, 255, 256, 32_767, -32_768, Int64.max, Int64.min,
                              999_999_999_999_999_999, -999_999_999_999_999_999]
        for u in cases {
            let fast = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { p in
                Array(p.prefix(DecimalBytes.write(u, into: p.baseAddress!)))
            }
            #expect(fast == Decimal8(units: u).avroBytes, "units \(u)")
            let back = fast.withUnsafeBytes { DecimalBytes.read($0) }
            #expect(back == u)
        }
        // Over 64 bits saturates (over decimal(18,8) precision: validation rejects it).
        let big: [UInt8] = [0x01, 0, 0, 0, 0, 0, 0, 0, 0]
        let neg: [UInt8] = [0xFE, 0, 0, 0, 0, 0, 0, 0, 0]
        let signExtended: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
        #expect(big.withUnsafeBytes { DecimalBytes.read($0) } == Int64.max)
        #expect(neg.withUnsafeBytes { DecimalBytes.read($0) } == Int64.min)
        #expect(signExtended.withUnsafeBytes { DecimalBytes.read($0) } == -2)
    }

    @Test func sameSeedSameBytes() throws {
        // Pinned: a change here changes every golden file downstream.
        var rng = RandomStreams(seed: 42).stream("codec.pin")
        let t = Samples.trade(&rng)
        let enc = try TradeEncoder(registry: registry, schemaId: 2)
        let bytes = enc.encode(t)
        #expect(bytes == enc.encode(t))
        var rng2 = RandomStreams(seed: 42).stream("codec.pin")
        #expect(try TradeEncoder(registry: SchemaRegistry.standard(), schemaId: 2).encode(Samples.trade(&rng2)) == bytes)
        #expect(bytes.count == PinnedBytes.count, "bytes: \(bytes)")
        #expect(fnv1a(bytes) == PinnedBytes.fnv, "fnv: \(String(fnv1a(bytes), radix: 16))")
    }

    enum PinnedBytes {
        static let count = 126
        static let fnv: UInt64 = 0xDA3E_42E8_FD28_5269
    }
}
