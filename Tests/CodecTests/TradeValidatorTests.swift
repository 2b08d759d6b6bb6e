import Testing
import Kernel
@testable import Codec

@Suite struct TradeValidatorTests {
    static let ingest: Micros = UTCDateTime.micros(year: 2026, month: 1, day: 20, hour: 9)

    func valid(_ e: ExchangeName = .binance) -> Trade {
        Trade(messageId: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", tradeId: "1", symbol: e == .binance ? "BTCUSDT" : "BTC/USD",
              exchange: e.rawValue, timestampMicros: Self.ingest - 1_000, price: Decimal8(units: 6_500_000_000_000),
              quantity: Decimal8(units: 1_000_000), currency: e == .binance ? "USDT" : "USD", side: .buy,
              ingestionTimestampMicros: Self.ingest, vendorData: ["m": "true"])
    }

    @Test func validTradesPass() {
        #expect(TradeValidator.firstFailure(valid(.binance), topicExchange: .binance) == nil)
        #expect(TradeValidator.firstFailure(valid(.kraken), topicExchange: .kraken) == nil)
    }

    @Test func eachRuleNamesItsReason() {
        func check(_ mutate: (inout Trade) -> Void, _ want: DeadLetterReason, _ e: ExchangeName = .binance) {
            var t = valid(e); mutate(&t)
            #expect(TradeValidator.firstFailure(t, topicExchange: e) == want)
        }
        check({ $0.messageId = "nope" }, .invalidMessageId)
        check({ $0.price = .zero }, .invalidPrice)
        check({ $0.price = Decimal8(units: Decimal8.precisionLimitUnits) }, .invalidPrice)
        check({ $0.quantity = Decimal8(units: -5) }, .invalidQuantity)
        check({ $0.symbol = "btc" }, .invalidSymbol)
        check({ $0.symbol = "BTCUSD" }, .invalidSymbol, .kraken)
        check({ $0.exchange = "KRAKEN" }, .exchangeMismatch)
        check({ $0.currency = "EUR" }, .invalidCurrency)
        check({ $0.timestampMicros = 0 }, .invalidTimestamp)
        check({ $0.timestampMicros = TradeValidator.earliestTimestampMicros - 1 }, .invalidTimestamp)
        check({ $0.timestampMicros = Self.ingest + 5 * Time.microsPerMinute + 1 }, .invalidTimestamp)
        check({ $0.vendorData = ["": "x"] }, .invalidVendorData)
    }

    @Test func boundariesAreInclusiveWhereTheSpecSaysSo() {
        var t = valid()
        t.timestampMicros = Self.ingest + 5 * Time.microsPerMinute  // exactly 5 minutes: allowed
        #expect(TradeValidator.firstFailure(t, topicExchange: .binance) == nil)
        t.timestampMicros = TradeValidator.earliestTimestampMicros
        #expect(TradeValidator.firstFailure(t, topicExchange: .binance) == nil)
    }

    @Test func firstFailureWinsInTableOrder() {
        var t = valid()
        t.price = .zero; t.symbol = "x"; t.exchange = "KRAKEN"
        #expect(TradeValidator.firstFailure(t, topicExchange: .binance) == .invalidPrice)
    }
}
