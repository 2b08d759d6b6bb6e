import Testing
import Kernel
@testable import Codec

/// Encoded bytes against encodings computed by hand from the Avro 1.11
/// specification (zigzag varints, length-prefixed strings, union branch
/// index, blocks for arrays and maps, enum index) and the Confluent framing:
/// the codec is checked against the spec, not only against itself.
@Suite struct SpecEncodingTests {
    let registry = SchemaRegistry.standard()

    /// ASCII text as bytes, so that the lines below stay readable; every
    /// length, number and structural byte is spelled out.
    func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func v2RecordMatchesTheSpec() throws {
        let t = Trade(messageId: "id-1", tradeId: "42", symbol: "BTCUSDT", exchange: "BINANCE",
                      timestampMicros: 1_768_899_600_000_000, price: Decimal8(units: 6_500_012_000_000),
                      quantity: Decimal8(units: -50_000_000), currency: "USDT", side: .sell,
                      tradeConditions: ["a", "bc"], sourceSequence: 7, ingestionTimestampMicros: 1_768_899_600_000_001,
                      platformSequence: nil, vendorData: ["z": "1", "m": "true"])
        var want: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x02]           // magic 0, schema id 2 big-endian
        want += [0x08] + ascii("id-1")                                 // message_id: length 4 -> zigzag 8
        want += [0x04] + ascii("42")                                   // trade_id: length 2 -> 4
        want += [0x0E] + ascii("BTCUSDT")                              // symbol: 7 -> 14
        want += [0x0E] + ascii("BINANCE")                              // exchange: 7 -> 14
        want += [0x0C] + ascii("crypto")                               // asset_class: 6 -> 12
        want += [0x80, 0x90, 0xE9, 0x84, 0xC1, 0xB3, 0xA4, 0x06]       // timestamp 1768899600000000 -> zigzag 3537799200000000, 7 bits a byte, low first
        want += [0x0C, 0x05, 0xE9, 0x66, 0xE8, 0x03, 0x00]             // price: 6500012000000 = 0x05E966E80300, 6 bytes -> length 12
        want += [0x08, 0xFD, 0x05, 0x0F, 0x80]                         // quantity: -50000000 = 0xFD050F80 (two's complement), 4 bytes
        want += [0x08] + ascii("USDT")                                 // currency
        want += [0x02]                                                 // side: SELL = index 1 -> zigzag 2
        want += [0x04, 0x02] + ascii("a") + [0x04] + ascii("bc") + [0x00]  // trade_conditions: block of 2, items, end block 0
        want += [0x02, 0x0E]                                           // source_sequence: branch 1 (long), 7 -> 14
        want += [0x82, 0x90, 0xE9, 0x84, 0xC1, 0xB3, 0xA4, 0x06]       // ingestion_timestamp 1768899600000001 -> 3537799200000002
        want += [0x00]                                                 // platform_sequence: branch 0 (null)
        want += [0x02, 0x04, 0x02] + ascii("m") + [0x08] + ascii("true")   // vendor_data: branch 1 (map), block of 2, keys sorted
        want += [0x02] + ascii("z") + [0x02] + ascii("1") + [0x00]     // ... "z" -> "1", end block
        let got = try TradeEncoder(registry: registry, schemaId: 2).encode(t)
        #expect(got == want)
        #expect(TradeDecoder(registry: registry).decode(want) == .success(DecodedTrade(trade: t, schemaId: 2, writerIsV1: false)))
    }

    @Test func v1RecordMatchesTheSpec() throws {
        let t = Trade(messageId: "x", tradeId: "", symbol: "BTC/USD", exchange: "KRAKEN", timestampMicros: -1,
                      price: Decimal8(units: 999_999_999_999_999_999), quantity: Decimal8(units: 1), currency: "USD",
                      side: .buy, sourceSequence: nil, ingestionTimestampMicros: 0)
        var want: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x01]           // magic 0, schema id 1
        want += [0x02] + ascii("x")                                    // message_id: length 1 -> 2
        want += [0x00]                                                 // trade_id: empty string, length 0
        want += [0x0E] + ascii("BTC/USD")                              // symbol
        want += [0x0C] + ascii("KRAKEN")                               // exchange: 6 -> 12
        want += [0x0C] + ascii("crypto")                               // asset_class
        want += [0x01]                                                 // timestamp -1 -> zigzag 1
        want += [0x10, 0x0D, 0xE0, 0xB6, 0xB3, 0xA7, 0x63, 0xFF, 0xFF] // price 999999999999999999 = 0x0DE0B6B3A763FFFF, 8 bytes -> 16
        want += [0x02, 0x01]                                           // quantity 1: one byte
        want += [0x06] + ascii("USD")                                  // currency
        want += [0x00]                                                 // side: BUY = index 0
        want += [0x00]                                                 // source_sequence: branch 0 (null)
        want += [0x00]                                                 // ingestion_timestamp 0
        let got = try TradeEncoder(registry: registry, schemaId: 1).encode(t)
        #expect(got == want)
        #expect(TradeDecoder(registry: registry).decode(want) == .success(DecodedTrade(trade: t, schemaId: 1, writerIsV1: true)))
    }

    @Test func frameIsConfluent() {
        #expect(WireFormat.frame(schemaId: 0x0102_0304, body: [0xAA]) == [0x00, 0x01, 0x02, 0x03, 0x04, 0xAA])
        #expect(WireFormat.schemaId(of: [0x00, 0x00, 0x00, 0x01, 0x00]) == 256)
        #expect(WireFormat.schemaId(of: [0x01, 0x00, 0x00, 0x01, 0x00]) == nil)
    }
}
