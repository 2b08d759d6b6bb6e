import Testing
import Kernel
import Codec
import Broker
@testable import Exchanges

/// The feed's direct Avro writer agrees byte for byte with the codec, and every
/// message of a faulted run decodes (or fails) exactly as its label says.
@Suite struct CodecAgreementTests {
    @Test func fastWriterIsByteIdenticalToTheCodecsEncoder() throws {
        let registry = SchemaRegistry.standard()
        let v2 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let v1 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v1Id)
        for config in [ExchangeFeedConfig.defaultBinance, .defaultKraken] {
            let statics = config.symbols.map { SymbolStatics($0, partitionCount: config.partitionCount) }
            let enc = FeedEncoder(exchange: config.exchange, symbols: statics, ids: .standard)
            var rng = RandomStreams(seed: 5).stream("agreement")
            for i in 0..<2_000 {
                let s = Int(rng.uniform(below: UInt64(statics.count)))
                let g = GeneratedTrade(symbolIndex: s, side: rng.chance(Ratio(1, 2)) ? .buy : .sell, limitOrder: rng.chance(Ratio(1, 2)),
                                       tradeId: Int64(rng.uniform(below: 1 << 40)), idHi: rng.nextUInt64(), idLo: rng.nextUInt64(),
                                       timestampMicros: Fixture.start + Int64(i) * 1_234_567,
                                       priceUnits: Int64(rng.uniform(in: 1...(1 << 50))), quantityUnits: Int64(rng.uniform(in: 1...(1 << 40))))
                let ingest = g.timestampMicros + 40_000, seq = Int64(i) * 977
                let t2 = enc.trade(g, ingestionMicros: ingest, platformSequence: seq, version: .v2)
                let fast2 = enc.encode(g, ingestionMicros: ingest, platformSequence: seq, version: .v2)
                #expect(fast2 == v2.encode(t2))
                #expect(fast2 == TradeWire.encode(t2, version: .v2, schemaId: 2))
                let t1 = enc.trade(g, ingestionMicros: ingest, platformSequence: seq, version: .v1)
                #expect(enc.encode(g, ingestionMicros: ingest, platformSequence: seq, version: .v1) == v1.encode(t1))
                #expect(TradeValidator.firstFailure(t2, topicExchange: config.exchange) == nil)
                #expect(UUIDv4.isValid(t2.messageId))
            }
        }
    }

    /// A run with every DLQ reason on both exchanges: each payload yields exactly its
    /// labelled reason through TradeDecoder (then TradeValidator for VALIDATION).
    @Test func everyMalformedPayloadYieldsExactlyItsLabelledReason() {
        var faults: [FaultSpec] = []
        for e in ExchangeName.allCases {
            faults += FaultSpec.malformed(exchange: e, startMicros: Fixture.at(1), endMicros: Fixture.at(9), countEach: 12)
        }
        let g = TrafficGenerator.generate(Fixture.plan(seed: 11, minutes: 10, faults: faults))
        let decoder = TradeDecoder(registry: g.registry)
        var seen: [DeadLetterReason: Int] = [:]
        var mismatches: [String] = []
        for e in ExchangeName.allCases {
            for (a, r, label) in g.messages(e) {
                let got: DeadLetterReason?
                switch decoder.decode(r.value) {
                case .failure(let f): got = f.reason
                case .success(let d): got = TradeValidator.firstFailure(d.trade, topicExchange: e)
                }
                switch label.outcome {
                case .deadLetter(let want):
                    seen[want, default: 0] += 1
                    #expect(label.fault == .malformed)
                    if got != want { mismatches.append("\(a): want \(want.rawValue), got \(got?.rawValue ?? "valid")") }
                default:
                    if got != nil { mismatches.append("\(a): valid trade decoded as \(got!.rawValue)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        for reason in DeadLetterReason.allCases {
            #expect(seen[reason] == 24, "\(reason.rawValue): \(seen[reason] ?? 0) messages")
        }
        #expect(g.statistics.map(\.malformedMessages) == [12 * 15, 12 * 15])
    }

    /// Each variant of each fault, many times: variants are drawn per message.
    @Test func payloadVariantsEachYieldTheirReason() throws {
        let registry = SchemaRegistry.standard()
        try registry.register(subject: "x-value", schemaJSON: MalformedPayloads.incompatibleSchemaJSON, id: SchemaIds.standard.incompatible)
        let decoder = TradeDecoder(registry: registry)
        var rng = RandomStreams(seed: 3).stream("variants")
        for e in ExchangeName.allCases {
            let config = ExchangeFeedConfig.default(for: e)
            let enc = FeedEncoder(exchange: e, symbols: config.symbols.map { SymbolStatics($0, partitionCount: 3) }, ids: .standard)
            var variants = Set<String>()
            for reason in DeadLetterReason.allCases {
                for i in 0..<30 {
                    let g = GeneratedTrade(symbolIndex: i % config.symbols.count, side: i % 2 == 0 ? .buy : .sell, limitOrder: false,
                                           tradeId: 100 + Int64(i), idHi: rng.nextUInt64(), idLo: rng.nextUInt64(),
                                           timestampMicros: Fixture.start, priceUnits: config.symbols[i % config.symbols.count].startPrice.units,
                                           quantityUnits: config.symbols[i % config.symbols.count].stepSize.units)
                    let t = enc.trade(g, ingestionMicros: Fixture.start + 50_000, platformSequence: 7, version: .v2)
                    let p = MalformedPayloads.make(reason, from: t, exchange: e, ids: .standard, rng: &rng)
                    variants.insert(reason.rawValue + "/" + p.variant.prefix(while: { !$0.isNumber }))
                    let got: DeadLetterReason?
                    switch decoder.decode(p.value) {
                    case .failure(let f): got = f.reason
                    case .success(let d): got = TradeValidator.firstFailure(d.trade, topicExchange: e)
                    }
                    #expect(got == reason, "\(e) \(reason.rawValue) variant \(p.variant)")
                }
            }
            // Three variants for AVRO_DECODE_ERROR and for each validation rule.
            #expect(variants.count >= 5 + 2 + 8 * 3 + 2, "\(variants.sorted())")
        }
    }
}
