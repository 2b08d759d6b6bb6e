import Kernel
import Codec
import Broker

/// One traded symbol of a feed and the market parameters that shape its trades.
public struct SymbolSpec: Sendable, Equatable {
    /// The symbol as the feed's records carry it: `BTCUSDT` (Binance), `BTC/USD` (Kraken).
    public var symbol: String
    /// Quote currency (the record's `currency`): `USDT`, `USD`.
    public var quoteCurrency: String
    /// The exchange's own spelling, put in `vendor_data` (Kraken's `XBT/USD` alias). Nil: same as `symbol`.
    public var vendorSymbol: String?
    /// Price increment: every price is a multiple of it.
    public var tickSize: Decimal8
    /// Quantity increment: every quantity is a positive multiple of it.
    public var stepSize: Decimal8
    /// Mid price at the start of the run.
    public var startPrice: Decimal8
    /// Median trade size (quantities are log-normal around it, rounded to the step).
    public var medianQuantity: Decimal8
    /// Relative popularity: a symbol's share of its exchange's trades is weight / sum of weights.
    public var popularityWeight: UInt64
    /// The exchange's trade id of the first trade in the run (ids then count up by one per trade).
    public var firstTradeId: Int64

    public init(symbol: String, quoteCurrency: String, vendorSymbol: String? = nil, tickSize: Decimal8, stepSize: Decimal8,
                startPrice: Decimal8, medianQuantity: Decimal8, popularityWeight: UInt64, firstTradeId: Int64) {
        self.symbol = symbol; self.quoteCurrency = quoteCurrency; self.vendorSymbol = vendorSymbol
        self.tickSize = tickSize; self.stepSize = stepSize; self.startPrice = startPrice
        self.medianQuantity = medianQuantity; self.popularityWeight = popularityWeight; self.firstTradeId = firstTradeId
    }
}

/// Everything that shapes one exchange's synthetic feed. Plain values with
/// documented defaults (`.defaultBinance`, `.defaultKraken`), so a scenario
/// file can override any field. See docs/EXCHANGES.md for the models.
public struct ExchangeFeedConfig: Sendable, Equatable {
    public var exchange: ExchangeName
    public var symbols: [SymbolSpec]
    /// Long-run mean trades per second over all symbols (before `rateMultiplier`),
    /// bursts included: the Hawkes background rate is `baseRatePerSecond * (1 - burstBranchingRatio)`.
    public var baseRatePerSecond: Double
    /// Scales the whole feed ("what if traffic triples": 3).
    public var rateMultiplier: Double
    /// Hawkes branching ratio n in [0, 1): the mean number of trades each trade
    /// triggers. 0 gives a plain Poisson process; near 1, long bursts.
    public var burstBranchingRatio: Double
    /// Hawkes kernel decay time 1/beta: how long a trade's excitement lasts.
    public var burstDecayMicros: Micros
    /// Daily volatility of the geometric random walk of mid prices (0.03 = 3 %/day).
    public var dailyVolatility: Double
    /// Mid prices move on this grid (a step of the walk per interval).
    public var priceStepMicros: Micros
    /// Log-normal shape (sigma) of trade sizes around each symbol's median.
    public var quantitySigma: Double
    /// Probability that the taker bought (side BUY).
    public var buyShare: Ratio
    /// Kraken `ord_type`: probability of `limit` (else `market`). Unused for Binance.
    public var limitOrderShare: Ratio
    /// Partitions of the exchange's topic.
    public var partitionCount: Int
    /// Exchange -> producer latency (trade time to ingestion time); the websocket keeps order.
    public var feedLatency: LatencyDistribution
    /// Producer -> broker latency (create time to append time).
    public var deliveryLatency: LatencyDistribution
    /// Share of live trades written with the V1 schema (older producers), outside any fault.
    public var v1Share: Ratio
    /// Spacing between messages of a backfill (REST catch-up after a reconnect).
    public var backfillIntervalMicros: Micros

    public init(exchange: ExchangeName, symbols: [SymbolSpec], baseRatePerSecond: Double, rateMultiplier: Double = 1,
                burstBranchingRatio: Double = 0.6, burstDecayMicros: Micros = 500_000, dailyVolatility: Double = 0.03,
                priceStepMicros: Micros = Time.microsPerSecond, quantitySigma: Double = 1.2, buyShare: Ratio = Ratio(1, 2),
                limitOrderShare: Ratio = Ratio(3, 10), partitionCount: Int,
                feedLatency: LatencyDistribution, deliveryLatency: LatencyDistribution = .logNormal(medianMicros: 2_000, sigma: 0.6),
                v1Share: Ratio = .never, backfillIntervalMicros: Micros = 1_000) {
        self.exchange = exchange; self.symbols = symbols; self.baseRatePerSecond = baseRatePerSecond
        self.rateMultiplier = rateMultiplier; self.burstBranchingRatio = burstBranchingRatio
        self.burstDecayMicros = burstDecayMicros; self.dailyVolatility = dailyVolatility
        self.priceStepMicros = priceStepMicros; self.quantitySigma = quantitySigma; self.buyShare = buyShare
        self.limitOrderShare = limitOrderShare; self.partitionCount = partitionCount; self.feedLatency = feedLatency
        self.deliveryLatency = deliveryLatency; self.v1Share = v1Share; self.backfillIntervalMicros = backfillIntervalMicros
    }

    static func d(_ s: String) -> Decimal8 { try! Decimal8(parsing: s) }

    /// Binance spot, five USDT pairs with Zipf-like popularity (35:12:6:4:3), 60 trades/s
    /// in all: BTCUSDT about 35/s (about 3 M/day), the feed about 5.2 M/day.
    public static let defaultBinance = ExchangeFeedConfig(
        exchange: .binance,
        symbols: [
            SymbolSpec(symbol: "BTCUSDT", quoteCurrency: "USDT", tickSize: d("0.01"), stepSize: d("0.00001"),
                       startPrice: d("95000.00"), medianQuantity: d("0.002"), popularityWeight: 35, firstTradeId: 4_800_000_000),
            SymbolSpec(symbol: "ETHUSDT", quoteCurrency: "USDT", tickSize: d("0.01"), stepSize: d("0.0001"),
                       startPrice: d("3300.00"), medianQuantity: d("0.03"), popularityWeight: 12, firstTradeId: 2_300_000_000),
            SymbolSpec(symbol: "SOLUSDT", quoteCurrency: "USDT", tickSize: d("0.01"), stepSize: d("0.001"),
                       startPrice: d("190.00"), medianQuantity: d("0.5"), popularityWeight: 6, firstTradeId: 1_100_000_000),
            SymbolSpec(symbol: "BNBUSDT", quoteCurrency: "USDT", tickSize: d("0.01"), stepSize: d("0.001"),
                       startPrice: d("690.00"), medianQuantity: d("0.05"), popularityWeight: 4, firstTradeId: 900_000_000),
            SymbolSpec(symbol: "XRPUSDT", quoteCurrency: "USDT", tickSize: d("0.0001"), stepSize: d("0.1"),
                       startPrice: d("2.3000"), medianQuantity: d("40"), popularityWeight: 3, firstTradeId: 700_000_000),
        ],
        baseRatePerSecond: 60,
        partitionCount: 6,
        feedLatency: .logNormal(medianMicros: 40_000, sigma: 0.5)
    )

    /// Kraken spot, five USD pairs (BTC/USD carries Kraken's `XBT/USD` alias in
    /// vendor data), 3 trades/s in all (about 260 k/day): 20x below Binance.
    public static let defaultKraken = ExchangeFeedConfig(
        exchange: .kraken,
        symbols: [
            SymbolSpec(symbol: "BTC/USD", quoteCurrency: "USD", vendorSymbol: "XBT/USD", tickSize: d("0.1"), stepSize: d("0.00000001"),
                       startPrice: d("95000.0"), medianQuantity: d("0.005"), popularityWeight: 12, firstTradeId: 80_000_000),
            SymbolSpec(symbol: "ETH/USD", quoteCurrency: "USD", tickSize: d("0.01"), stepSize: d("0.00000001"),
                       startPrice: d("3300.00"), medianQuantity: d("0.08"), popularityWeight: 6, firstTradeId: 60_000_000),
            SymbolSpec(symbol: "SOL/USD", quoteCurrency: "USD", tickSize: d("0.01"), stepSize: d("0.00000001"),
                       startPrice: d("190.00"), medianQuantity: d("1.5"), popularityWeight: 3, firstTradeId: 20_000_000),
            SymbolSpec(symbol: "XRP/USD", quoteCurrency: "USD", vendorSymbol: "XXRPZUSD", tickSize: d("0.00001"), stepSize: d("0.00000001"),
                       startPrice: d("2.30000"), medianQuantity: d("150"), popularityWeight: 2, firstTradeId: 15_000_000),
            SymbolSpec(symbol: "ADA/USD", quoteCurrency: "USD", tickSize: d("0.000001"), stepSize: d("0.00000001"),
                       startPrice: d("0.950000"), medianQuantity: d("300"), popularityWeight: 1, firstTradeId: 9_000_000),
        ],
        baseRatePerSecond: 3,
        partitionCount: 3,
        feedLatency: .logNormal(medianMicros: 80_000, sigma: 0.5)
    )

    public static func `default`(for exchange: ExchangeName) -> ExchangeFeedConfig {
        exchange == .binance ? defaultBinance : defaultKraken
    }

    /// Problems that make the config unusable, as sentences (empty when fine).
    public func problems() -> [String] {
        var out: [String] = []
        let who = exchange.lowercased
        if symbols.isEmpty { out.append("\(who): at least one symbol is needed") }
        if !(baseRatePerSecond >= 0 && baseRatePerSecond.isFinite) { out.append("\(who): base rate must be >= 0") }
        if !(rateMultiplier >= 0 && rateMultiplier.isFinite) { out.append("\(who): rate multiplier must be >= 0") }
        if !(burstBranchingRatio >= 0 && burstBranchingRatio < 1) { out.append("\(who): burst branching ratio must be in [0, 1)") }
        if burstDecayMicros <= 0 { out.append("\(who): burst decay must be positive") }
        if !(dailyVolatility >= 0 && dailyVolatility < 10) { out.append("\(who): daily volatility must be in [0, 10)") }
        if priceStepMicros <= 0 { out.append("\(who): price step must be positive") }
        if !(quantitySigma >= 0 && quantitySigma < 10) { out.append("\(who): quantity sigma must be in [0, 10)") }
        if partitionCount <= 0 { out.append("\(who): partition count must be positive") }
        if backfillIntervalMicros < 0 { out.append("\(who): backfill interval must be >= 0") }
        if symbols.allSatisfy({ $0.popularityWeight == 0 }) && !symbols.isEmpty { out.append("\(who): some symbol needs a positive weight") }
        for s in symbols {
            if !TradeValidator.symbolIsValid(s.symbol, for: exchange) { out.append("\(who): '\(s.symbol)' is not a valid \(exchange.rawValue) symbol") }
            if s.tickSize.units <= 0 || s.stepSize.units <= 0 { out.append("\(who): \(s.symbol) tick and step must be positive") }
            if s.startPrice.units < s.tickSize.units { out.append("\(who): \(s.symbol) start price must be at least one tick") }
            if s.medianQuantity.units <= 0 { out.append("\(who): \(s.symbol) median quantity must be positive") }
            var probe = Trade(messageId: "00000000-0000-4000-8000-000000000000", tradeId: "1", symbol: s.symbol, exchange: exchange.rawValue,
                              timestampMicros: TradeValidator.earliestTimestampMicros, price: s.startPrice, quantity: s.stepSize,
                              currency: s.quoteCurrency, side: .buy, ingestionTimestampMicros: TradeValidator.earliestTimestampMicros)
            probe.vendorData = nil
            if let r = TradeValidator.firstFailure(probe, topicExchange: exchange) {
                out.append("\(who): \(s.symbol) with currency \(s.quoteCurrency) would fail validation (\(r.rawValue))")
            }
        }
        return out
    }
}
