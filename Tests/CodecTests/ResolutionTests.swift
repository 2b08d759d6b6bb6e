import Testing
import Kernel
@testable import Codec

/// Writer schemas other than V1 and V2 that still resolve to V2 (fields in
/// another order, extra fields skipped, int promoted to long, non-union
/// optional fields), and ones that do not.
@Suite struct ResolutionTests {
    @Test func reorderedAndExtraFieldsResolve() throws {
        let json = """
            {"type":"record","name":"Trade","namespace":"other","fields":[
              {"name":"venue_note","type":"string"},
              {"name":"side","type":{"type":"enum","name":"S","symbols":["SELL","BUY"]}},
              {"name":"message_id","type":"string"},{"name":"trade_id","type":"string"},
              {"name":"symbol","type":"string"},{"name":"exchange","type":"string"},
              {"name":"asset_class","type":"string"},{"name":"timestamp","type":"int"},
              {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":8}},
              {"name":"quantity","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":8}},
              {"name":"extra","type":{"type":"array","items":{"type":"map","values":"long"}}},
              {"name":"currency","type":"string"},
              {"name":"source_sequence","type":"long"},
              {"name":"ingestion_timestamp","type":{"type":"long","logicalType":"timestamp-micros"}},
              {"name":"vendor_data","type":{"type":"map","values":"string"}},
              {"name":"platform_sequence","type":["long","null"]}]}
            """
        let r = SchemaRegistry.standard()
        let id = try r.register(subject: "x-value", schemaJSON: json)
        var body: [UInt8] = SpecAvro.string("note") + SpecAvro.long(0)  // side index 0 = SELL in this writer
        body += SpecAvro.string("m") + SpecAvro.string("t") + SpecAvro.string("BTCUSDT") + SpecAvro.string("BINANCE")
        body += SpecAvro.string("crypto") + SpecAvro.long(-5)
        body += SpecAvro.bytes([0x01, 0x00]) + SpecAvro.bytes([0xFF])
        body += SpecAvro.long(1) + SpecAvro.long(1) + SpecAvro.string("k") + SpecAvro.long(3) + [0] + [0]  // extra: skipped
        body += SpecAvro.string("USDT") + SpecAvro.long(77) + SpecAvro.long(1_000)
        body += SpecAvro.long(1) + SpecAvro.string("a") + SpecAvro.string("b") + [0]
        body += SpecAvro.long(0) + SpecAvro.long(9)  // platform_sequence: branch 0 is long here
        let got = TradeDecoder(registry: r).decode(WireFormat.frame(schemaId: id, body: body))
        let want = Trade(messageId: "m", tradeId: "t", symbol: "BTCUSDT", exchange: "BINANCE", timestampMicros: -5,
                         price: Decimal8(units: 256), quantity: Decimal8(units: -1), currency: "USDT", side: .sell,
                         tradeConditions: [], sourceSequence: 77, ingestionTimestampMicros: 1_000,
                         platformSequence: 9, vendorData: ["a": "b"])
        #expect(got == .success(DecodedTrade(trade: want, schemaId: id, writerIsV1: false)))
    }

    @Test func incompatibleWritersAreNamedAndCached() throws {
        let r = SchemaRegistry.standard()
        let cases: [(String, String)] = [
            (TradeSchemas.v2JSON.replacingOccurrences(of: #""scale":8}},{"name":"currency""#, with: #""scale":6}},{"name":"currency""#), "scale"),
            (TradeSchemas.v2JSON.replacingOccurrences(of: #"{"name":"symbol","type":"string"}"#, with: #"{"name":"symbol","type":"long"}"#), "symbol"),
            (TradeSchemas.v2JSON.replacingOccurrences(of: #"{"name":"currency","type":"string"},"#, with: ""), "currency"),
            (TradeSchemas.v2JSON.replacingOccurrences(of: #"{"type":"long","logicalType":"timestamp-micros"}},{"name":"price""#,
                                                      with: #"{"type":"long","logicalType":"timestamp-millis"}},{"name":"price""#), "timestamp"),
            (TradeSchemas.v2JSON.replacingOccurrences(of: #"["null","long"],"default":null},{"name":"vendor_data""#,
                                                      with: #"["null","string"],"default":null},{"name":"vendor_data""#), "platform_sequence"),
        ]
        let dec = TradeDecoder(registry: r)
        for (json, mention) in cases {
            let id = try r.register(subject: "x-value", schemaJSON: json)
            for _ in 0..<2 {
                let got = dec.decode(WireFormat.frame(schemaId: id, body: [1, 2, 3]))
                guard case .failure(let f) = got else { Issue.record("decoded with \(mention)"); continue }
                #expect(f.reason == .incompatibleSchema && f.schemaId == id)
                #expect(f.message.contains(mention), "\(f.message)")
            }
        }
    }

    @Test func emptyDecimalBytesAreADecodeError() throws {
        var f = ResourceSensitiveTests.v2Fields()
        f[6] = SpecAvro.bytes([])
        let got = TradeDecoder(registry: .standard()).decode(SpecAvro.header(2) + f.flatMap { $0 })
        guard case .failure(let e) = got else { Issue.record("decoded"); return }
        #expect(e.reason == .avroDecodeError && e.message.contains("price"))
    }

    @Test func encoderWritesOnlyTradeSchemas() {
        let r = SchemaRegistry.standard()
        #expect(throws: TradeCodecError.self) { try TradeEncoder(registry: r, schemaId: 99) }
        let id = try! r.register(subject: "s", schemaJSON: #"{"type":"string"}"#)
        #expect(throws: TradeCodecError.self) { try TradeEncoder(registry: r, schemaId: id) }
    }
}
