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
}
