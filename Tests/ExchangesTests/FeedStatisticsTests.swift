import Testing
import Kernel
import Codec
import Broker
@testable import Exchanges

/// The feed matches its configured parameters. Fixed seeds, so these never
/// flake; each tolerance is stated with the spread it allows for.
@Suite struct FeedStatisticsTests {
    static let minutes: Int64 = 20
    static let seconds = Double(minutes * 60)

    static func run(_ config: ExchangeFeedConfig, seed: UInt64 = 7) -> GeneratedTraffic {
        TrafficGenerator.generate(Fixture.plan(seed: seed, minutes: minutes, feeds: [config]))
    }

    static func perSecondCounts(_ g: GeneratedTraffic, _ e: ExchangeName) -> [Int64] {
        var counts = [Int64](repeating: 0, count: Int(minutes * 60))
        for (_, r, _) in g.messages(e) {
            let t = MiniTrade(r.value)!.timestampMicros
            counts[Int((t - Fixture.start) / Time.microsPerSecond)] += 1
        }
        return counts
    }

    static func indexOfDispersion(_ xs: [Int64]) -> Double {
        let n = Double(xs.count)
        let mean = Double(xs.reduce(0, +)) / n
        let variance = xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)
        return variance / mean
    }

    @Test func binanceRatesSharesSidesAndRounding() {
        let config = ExchangeFeedConfig.defaultBinance
        let g = Self.run(config)
        let msgs = g.messages(.binance)
        // Rate: 60/s for 20 min = 72,000 expected. With branching ratio 0.6 the count's
        // standard deviation is sqrt(72,000) / (1 - 0.6) = 670 (0.9 %); allow 4 %.
        let rate = Double(msgs.count) / Self.seconds
        #expect(abs(rate - 60) / 60 < 0.04, "rate \(rate)/s")
        let s = g.statistics[0]
        #expect(s.tradesOccurred == Int64(msgs.count) && s.liveMessages == Int64(msgs.count))

        var perSymbol = [String: Int](), buys = 0
        var lastTradeId = [String: Int64]()
        var badRounding = 0
        for (_, r, label) in msgs {
            #expect(label == GroundTruthLabel(outcome: .gold, fault: .none, eventTimeMicros: MiniTrade(r.value)!.timestampMicros))
            let t = MiniTrade(r.value)!
            let spec = config.symbols.first { $0.symbol == t.symbol }!
            perSymbol[t.symbol, default: 0] += 1
            if t.side == 0 { buys += 1 }
            if t.priceUnits <= 0 || t.priceUnits % spec.tickSize.units != 0 { badRounding += 1 }
            if t.quantityUnits <= 0 || t.quantityUnits % spec.stepSize.units != 0 { badRounding += 1 }
            #expect(r.key == Array(t.symbol.utf8))
            #expect(t.timestampMicros <= t.ingestionMicros && t.ingestionMicros / 1_000 == r.timestampMs)
            lastTradeId[t.symbol] = max(lastTradeId[t.symbol] ?? 0, Int64(t.tradeId)!)
        }
        #expect(badRounding == 0)
        // Shares: multinomial, sd <= 0.19 % at n = 72,000; allow 1 percentage point.
        let total = Double(msgs.count)
        for spec in config.symbols {
            let want = Double(spec.popularityWeight) / 60
            let got = Double(perSymbol[spec.symbol, default: 0]) / total
            #expect(abs(got - want) < 0.01, "\(spec.symbol) share \(got) vs \(want)")
            // Trade ids are sequential per symbol: the last is first + count - 1.
            #expect(lastTradeId[spec.symbol] == spec.firstTradeId + Int64(perSymbol[spec.symbol]!) - 1)
        }
        // Side: binomial, sd 0.19 %; allow 1 point.
        #expect(abs(Double(buys) / total - 0.5) < 0.01)
        // BTCUSDT at about 35 trades/s.
        #expect(abs(Double(perSymbol["BTCUSDT"]!) / Self.seconds - 35) < 2.5)
    }

    @Test func burstsMakePerSecondCountsOverdispersedAndPoissonDoesNot() {
        var poisson = ExchangeFeedConfig.defaultBinance
        poisson.burstBranchingRatio = 0
        let bursty = Self.indexOfDispersion(Self.perSecondCounts(Self.run(.defaultBinance), .binance))
        let plain = Self.indexOfDispersion(Self.perSecondCounts(Self.run(poisson), .binance))
        // Poisson: index 1, sampling sd sqrt(2 / 1199) = 0.04; allow 0.15.
        #expect(abs(plain - 1) < 0.15, "Poisson index of dispersion \(plain)")
        // Hawkes n = 0.6, decay 0.5 s: clusters last about 1.25 s, so 1-s counts are
        // clearly overdispersed (the limit for long windows is 1 / (1 - n)^2 = 6.25).
        #expect(bursty > 1.8, "bursty index of dispersion \(bursty)")
    }

    @Test func krakenIsSlowerAndUsesItsSymbolsAndVendorFields() {
        let g = Self.run(.defaultKraken)
        let msgs = g.messages(.kraken)
        let rate = Double(msgs.count) / Self.seconds
        // 3/s for 20 min = 3,600; sd = 60 / 0.4 = 150 (4 %); allow 15 %.
        #expect(abs(rate - 3) / 3 < 0.15, "kraken rate \(rate)/s")
        for (_, r, _) in msgs.prefix(200) {
            let t = MiniTrade(r.value)!
            #expect(TradeValidator.symbolIsValid(t.symbol, for: .kraken))
        }
        let btc = msgs.first { MiniTrade($0.1.value)!.symbol == "BTC/USD" }!
        #expect(String(decoding: btc.1.value, as: UTF8.self).contains("XBT/USD"))
        #expect(g.cluster.topic(ExchangeName.kraken.topic)!.partitionCount == 3)
    }

    @Test func pricesWalkButStayNearTheStart() {
        let g = Self.run(.defaultBinance)
        let btc = g.messages(.binance).map { MiniTrade($0.1.value)! }.filter { $0.symbol == "BTCUSDT" }
        let prices = btc.map(\.priceUnits)
        let start = ExchangeFeedConfig.defaultBinance.symbols[0].startPrice.units
        // 3 %/day volatility: over 20 minutes the walk's sd is 0.45 %; allow 3 %.
        #expect(prices.allSatisfy { abs(Double($0 - start)) / Double(start) < 0.03 })
        #expect(Set(prices).count > 50, "the price moves")
    }
}
