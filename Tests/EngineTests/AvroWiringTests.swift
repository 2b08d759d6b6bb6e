import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// The real codec end to end: V2 and V1 writers, Avro bytes untouched in
/// Bronze, decoded and validated in Silver, Gold's JSON vendor_data.
@Suite struct AvroWiringTests {
    @Test func realAvroMessagesFlowThroughAllThreeLayers() throws {
        let registry = SchemaRegistry.standard()
        let v2 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let v1 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v1Id)
        let c = makeCluster()
        var trades: [Trade] = []
        for i in 0..<20 {
            let at = T0 + sec(Int64(i))
            var t = FakeWire.trade(.init(exchange: .binance, id: UInt64(i + 1), timestampMicros: at - 300_000,
                                         ingestionMicros: at))
            t.vendorData = ["z": "last", "a": "first \"quoted\""]
            let bytes = i % 4 == 3 ? v1.encode(t) : v2.encode(t)
            produce(c, .binance, at: at, value: bytes)
            if i % 4 == 3 { t.tradeConditions = []; t.platformSequence = nil; t.vendorData = nil }
            trades.append(t)
        }
        produce(c, .binance, at: T0 + sec(30), value: [0, 0, 0, 0, 2, 0xFF])  // corrupt body
        let cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(300), profile: .free, seed: 3)
        let run = Pipeline(cluster: c, registry: registry, config: cfg).run()
        #expect(run.bronzeBinance.rowCount == 21)
        #expect(run.silverBinance.rows.map(\.trade) == trades)
        #expect(run.silverBinance.rows.map(\.schemaId) == (0..<20).map { $0 % 4 == 3 ? TradeSchemas.v1Id : TradeSchemas.v2Id })
        #expect(run.dlq.rows.map(\.errorReason) == [.avroDecodeError])
        #expect(run.dlq.rows.map(\.schemaId) == [TradeSchemas.v2Id])
        #expect(run.gold.rowCount == 20)
        #expect(run.gold.row(0).vendorDataJSON == #"{"a":"first \"quoted\"","z":"last"}"#)
        #expect(run.gold.row(3).vendorDataJSON == nil)
    }
}
