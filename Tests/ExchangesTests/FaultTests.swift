import Testing
import Kernel
import Codec
import Broker
@testable import Exchanges

/// Every fault kind appears with its label, and faults leave the base traffic's draws alone.
@Suite struct FaultTests {
    static let binanceOnly = [ExchangeFeedConfig.defaultBinance]

    static func run(_ faults: [FaultSpec], minutes: Int64 = 10, feeds: [ExchangeFeedConfig] = binanceOnly) -> GeneratedTraffic {
        TrafficGenerator.generate(Fixture.plan(seed: 21, minutes: minutes, feeds: feeds, faults: faults))
    }

    @Test func producerRetryResendsTheSameBytesAtALaterOffsetOfTheSamePartition() {
        let g = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(2), endMicros: Fixture.at(7),
                                    effect: .duplicate(.producerRetry, .count(60), delayMicros: 100_000))])
        let dups = g.messages(.binance).filter { $0.2.fault == .producerRetry }
        #expect(dups.count == 60)
        for (a, r, l) in dups {
            guard case .duplicate(let o) = l.outcome else { Issue.record("\(a) is \(l.outcome.name)"); continue }
            #expect(o < a.offset && l.faultIndex == 0)
            let original = g.cluster.topic(a.topic)!.partitions[Int(a.partition)].record(at: o)
            #expect(original.value == r.value)
            #expect(g.groundTruth.label(topic: a.topic, partition: a.partition, offset: o)!.outcome == .gold)
            #expect(r.timestampMs >= original.timestampMs + 100)
        }
        #expect(g.statistics[0].duplicateMessages == 60)
    }

    @Test func exchangeResendRepeatsTheTradeAndMessageIdWithANewIngestionTime() {
        let g = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(2), endMicros: Fixture.at(7),
                                    effect: .duplicate(.exchangeResend, .share(Ratio(1, 100)), delayMicros: 5_000_000))])
        let dups = g.messages(.binance).filter { $0.2.fault == .exchangeResend }
        let window = g.messages(.binance).filter {
            $0.2.fault == .none && $0.1.timestampMs * 1_000 >= Fixture.at(2) && $0.1.timestampMs * 1_000 < Fixture.at(7)
        }.count
        // Binomial(window, 1 %): allow 4 standard deviations.
        let want = Double(window) / 100, sd = (Double(window) * 0.01 * 0.99).squareRoot()
        #expect(abs(Double(dups.count) - want) < 4 * sd, "1 % of \(window) trades: \(dups.count)")
        for (a, r, l) in dups {
            guard case .duplicate(let o) = l.outcome else { Issue.record("\(a) is \(l.outcome.name)"); continue }
            let original = MiniTrade(g.cluster.topic(a.topic)!.partitions[Int(a.partition)].value(at: o))!
            let copy = MiniTrade(r.value)!
            #expect(copy.messageId == original.messageId && copy.tradeId == original.tradeId && copy.priceUnits == original.priceUnits)
            #expect(copy.ingestionMicros >= original.ingestionMicros + 5_000_000)
            #expect(l.eventTimeMicros == original.timestampMicros)
        }
    }

    @Test func lateBackfillDeliversMinutesOldTradesAtTheReconnect() {
        let at = Fixture.at(18)
        let g = Self.run([FaultSpec.lateBackfill(exchange: .binance, deliverAtMicros: at, count: 40, ageMicros: Time.minutes(15))],
                         minutes: 20)
        let late = g.messages(.binance).filter { $0.2.outcome == .backfill }
        #expect(late.count == 40)
        for (_, r, l) in late {
            #expect(l.fault == .lateBackfill && l.faultIndex == 0)
            let age = r.timestampMs * 1_000 - l.eventTimeMicros!
            #expect(age > Time.minutes(14) && age < Time.minutes(16), "age \(age)")
            #expect(r.timestampMs * 1_000 >= at)
            #expect(MiniTrade(r.value)!.timestampMicros == l.eventTimeMicros)
        }
        #expect(g.statistics[0].backfilledTrades == 40)
    }

    @Test func outageIsSilentThenOptionallyBackfilled() {
        let window = (Fixture.at(3), Fixture.at(6))
        for backfill in [true, false] {
            let g = Self.run([FaultSpec(exchange: .binance, startMicros: window.0, endMicros: window.1, effect: .outage(backfill: backfill))])
            let msgs = g.messages(.binance)
            // Nothing is created during the outage (feed latency lets the last pre-outage trades trickle in just after its start).
            let during = msgs.filter { $0.1.timestampMs * 1_000 >= window.0 + Time.seconds(5) && $0.1.timestampMs * 1_000 < window.1 }
            #expect(during.isEmpty)
            let filled = msgs.filter { $0.2.fault == .outage }
            let s = g.statistics[0]
            if backfill {
                #expect(filled.count > 8_000 && Int64(filled.count) == s.backfilledTrades)
                #expect(filled.allSatisfy { $0.2.outcome == .backfill && $0.2.eventTimeMicros! < window.1 && $0.1.timestampMs * 1_000 >= window.1 })
            } else {
                #expect(filled.isEmpty && s.lostTrades > 8_000)
            }
        }
    }

    @Test func spikeMultipliesTheRateDuringItsWindow() {
        let g = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(2), endMicros: Fixture.at(4), effect: .spike(multiplier: 5))])
        let msgs = g.messages(.binance)
        func count(_ from: Int64, _ to: Int64) -> Double {
            Double(msgs.filter { let t = $0.2.eventTimeMicros!; return t >= Fixture.at(from) && t < Fixture.at(to) }.count)
        }
        let ratio = count(2, 4) / count(6, 8)
        // 5x over two minutes; Hawkes noise on 7,200 vs 36,000 trades is a few percent.
        #expect(ratio > 4.2 && ratio < 5.8, "spike ratio \(ratio)")
        let extra = msgs.filter { $0.2.fault == .spike }
        #expect(Int64(extra.count) == g.statistics[0].spikeTrades && extra.allSatisfy { $0.2.outcome == .gold })
        // A multiplier below one thins the feed.
        let lull = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(0), endMicros: Fixture.at(10), effect: .spike(multiplier: 0.5))])
        let kept = Double(lull.messages(.binance).count) / Double(lull.statistics[0].tradesOccurred)
        #expect(abs(kept - 0.5) < 0.02)
    }

    @Test func clockSkewPutsTimestampsAheadOfIngestionAndPastFiveMinutesIntoTheDLQ() {
        let g = Self.run([
            FaultSpec(exchange: .binance, startMicros: Fixture.at(1), endMicros: Fixture.at(2), effect: .clockSkew(aheadMicros: Time.minutes(2), share: .always)),
            FaultSpec(exchange: .binance, startMicros: Fixture.at(3), endMicros: Fixture.at(4), effect: .clockSkew(aheadMicros: Time.minutes(10), share: Ratio(1, 2))),
        ])
        let decoder = TradeDecoder(registry: g.registry)
        var small = 0, big = 0
        for (_, r, l) in g.messages(.binance) where l.fault == .clockSkew {
            let t = try! decoder.decode(r.value).get().trade
            #expect(l.eventTimeMicros == t.timestampMicros)
            if l.faultIndex == 0 {
                small += 1
                #expect(l.outcome == .gold && t.timestampMicros == t.ingestionTimestampMicros + Time.minutes(2))
                #expect(TradeValidator.firstFailure(t, topicExchange: .binance) == nil)
            } else {
                big += 1
                #expect(l.outcome == .deadLetter(.invalidTimestamp))
                #expect(TradeValidator.firstFailure(t, topicExchange: .binance) == .invalidTimestamp)
            }
        }
        #expect(small > 3_000 && big > 1_500)
    }

    @Test func schemaMixWritesV1UnderTheOlderIdAndItStillResolves() {
        let g = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(2), endMicros: Fixture.at(4), effect: .schemaMix(v1Share: Ratio(1, 2)))])
        let decoder = TradeDecoder(registry: g.registry)
        let mixed = g.messages(.binance).filter { $0.2.fault == .schemaMix }
        let inWindow = g.messages(.binance).filter { $0.2.eventTimeMicros! >= Fixture.at(2) && $0.2.eventTimeMicros! < Fixture.at(4) }
        let share = Double(mixed.count) / Double(inWindow.count)
        #expect(abs(share - 0.5) < 0.02, "V1 share \(share)")
        for (_, r, l) in mixed.prefix(500) {
            #expect(l.outcome == .gold && r.value[1...4] == [0, 0, 0, 1])
            let d = try! decoder.decode(r.value).get()
            #expect(d.writerIsV1 && d.trade.vendorData == nil && TradeValidator.firstFailure(d.trade, topicExchange: .binance) == nil)
        }
        #expect(g.statistics[0].v1Messages == Int64(mixed.count))
    }

    /// Faults draw from their own streams: the other exchange's topic is unchanged
    /// byte for byte, and the faulted exchange's plain messages are the same values.
    @Test func addingFaultsNeverChangesTheBaseTraffic() {
        let feeds = [ExchangeFeedConfig.defaultBinance, .defaultKraken]
        let plain = Self.run([], minutes: 5, feeds: feeds)
        let faults = FaultSpec.malformed(exchange: .binance, startMicros: Fixture.at(1), endMicros: Fixture.at(4), countEach: 5)
            + [FaultSpec(exchange: .binance, startMicros: Fixture.at(1), endMicros: Fixture.at(3), effect: .duplicate(.producerRetry, .count(30), delayMicros: 50_000))]
        let faulted = Self.run(faults, minutes: 5, feeds: feeds)
        #expect(plain.messages(.kraken).map(\.1) == faulted.messages(.kraken).map(\.1))
        let a = plain.messages(.binance).map(\.1.value).sorted { $0.lexicographicallyPrecedes($1) }
        let b = faulted.messages(.binance).filter { $0.2.fault == .none }.map(\.1.value).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(a == b)
    }

    @Test func groundTruthLedgerIsCompleteAndOrdered() {
        let g = Self.run([FaultSpec(exchange: .binance, startMicros: Fixture.at(1), endMicros: Fixture.at(3),
                                    effect: .duplicate(.producerRetry, .count(10), delayMicros: 0))], minutes: 3)
        var last: MessageAddress? = nil
        var n: Int64 = 0
        g.groundTruth.forEach { a, _ in
            if let last { #expect(last < a) }
            last = a; n += 1
        }
        let produced = g.cluster.topics.reduce(Int64(0)) { $0 + $1.partitions.reduce(0) { $0 + $1.endOffset } }
        #expect(n == produced && g.groundTruth.totalCount == produced)
        let summary = g.groundTruth.summary()
        #expect(summary.map(\.outcome) == ["duplicate", "gold"])
        #expect(summary[0].count == 10 && summary[0].fault == .producerRetry)
        #expect(GroundTruth.decode(GroundTruth.encode(GroundTruthLabel(outcome: .deadLetter(.invalidVendorData), fault: .malformed,
                                                                       faultIndex: 70_000, eventTimeMicros: nil)),
                                   eventTime: GroundTruth.noEventTime, original: nil)
                == GroundTruthLabel(outcome: .deadLetter(.invalidVendorData), fault: .malformed, faultIndex: 70_000, eventTimeMicros: nil))
    }

    @Test func plansWithProblemsSayWhat() {
        var bad = ExchangeFeedConfig.defaultKraken
        bad.burstBranchingRatio = 1
        bad.symbols[0].symbol = "BTCUSD"
        let plan = TrafficPlan(seed: 1, startMicros: 0, durationMicros: 1, feeds: [bad],
                               faults: [FaultSpec(exchange: .binance, startMicros: 5, endMicros: 1, effect: .outage(backfill: false))])
        let p = plan.problems()
        #expect(p.contains("kraken: burst branching ratio must be in [0, 1)"))
        #expect(p.contains("kraken: 'BTCUSD' is not a valid KRAKEN symbol"))
        #expect(p.contains("fault 0: outage fault on binance: window ends before it starts"))
        #expect(p.contains("fault 0: no feed for binance"))
        #expect(TrafficPlan(seed: 1, startMicros: 0, durationMicros: 1).problems().isEmpty)
    }
}
