import Testing
import Kernel
import Codec
@testable import Checks

@Suite struct ReferenceTradeReaderTests {
    func trade(_ rng: inout RandomStream, _ i: Int) -> Trade {
        Trade(messageId: UUIDv4.make(&rng), tradeId: String(i), symbol: "BTCUSDT", exchange: "BINANCE",
              timestampMicros: 1_768_899_600_000_000 + Int64(i), price: Decimal8(units: rng.uniform(in: -1_000_000...999_999_999_999_999_999)),
              quantity: Decimal8(units: rng.uniform(in: 1...100_000_000)), currency: "USDT", side: i % 2 == 0 ? .buy : .sell,
              tradeConditions: i % 3 == 0 ? [] : ["a", "bb"], sourceSequence: i % 4 == 0 ? nil : Int64(i),
              ingestionTimestampMicros: 1_768_899_600_000_000 + Int64(i) * 3,
              platformSequence: i % 5 == 0 ? nil : -Int64(i), vendorData: i % 2 == 0 ? nil : ["m": "true", "E": String(i)])
    }

    @Test func agreesWithTheCodecOnBothSchemas() throws {
        let registry = SchemaRegistry.standard()
        let v2 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let v1 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v1Id)
        let decoder = TradeDecoder(registry: registry)
        var rng = RandomStreams(seed: 77).stream("reference")
        for i in 0..<2_000 {
            let t = trade(&rng, i)
            for enc in [v1, v2] {
                let bytes = enc.encode(t)
                let ref = ReferenceTradeReader.read(bytes)
                let codec = try decoder.decode(bytes).get()
                #expect(ref?.trade == codec.trade, "record \(i), schema \(enc.schemaId)")
                #expect(ref?.schemaId == codec.schemaId)
            }
        }
    }

    @Test func rejectsWhatIsNotAWholeTrade() throws {
        let enc = try TradeEncoder(registry: .standard(), schemaId: TradeSchemas.v2Id)
        var rng = RandomStreams(seed: 78).stream("reference")
        let bytes = enc.encode(trade(&rng, 1))
        #expect(ReferenceTradeReader.read(bytes + [0]) == nil)
        #expect(ReferenceTradeReader.read(Array(bytes.dropLast())) == nil)
        #expect(ReferenceTradeReader.read([1] + bytes.dropFirst()) == nil)
    }

    /// The reader's UTF-8 check (decode, then compare the bytes) gives the
    /// verdict and the string of `String(validating:as:)`, over random byte
    /// strings that are mostly ill-formed in the ways that matter: stray
    /// continuation bytes, truncated and overlong sequences, surrogates,
    /// code points past U+10FFFF.
    @Test func itsUTF8CheckIsTheStandardLibrarys() {
        var rng = RandomStreams(seed: 79).stream("utf8")
        let pieces: [[UInt8]] = [[0x41], [0x7F], [0x00], [0xC3, 0xA9], [0xC3], [0x80], [0xBF], [0xE2, 0x82, 0xAC], [0xE2, 0x82],
                                 [0xED, 0xA0, 0x80], [0xE0, 0x80, 0x80], [0xC0, 0xAF], [0xF0, 0x9F, 0x98, 0x80], [0xF0, 0x9F, 0x98],
                                 [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFF], [0xEF, 0xBF, 0xBD]]
        var invalid = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(rng.uniform(in: 0...6)) {
                if rng.uniform(in: 0...3) == 0 { bytes.append(UInt8(truncatingIfNeeded: rng.nextUInt64())) }
                else { bytes += pieces[Int(rng.uniform(in: 0...Int64(pieces.count - 1)))] }
            }
            let want = String(validating: bytes, as: UTF8.self)
            let got = bytes.withUnsafeBytes { ReferenceTradeReader.Cursor.utf8($0[...]) }
            #expect(got == want && got.map { Array($0.utf8) == bytes } ?? true, "\(bytes)")
            if want == nil { invalid += 1 }
        }
        #expect(invalid > 5_000)  // the ill-formed cases were exercised
    }
}
