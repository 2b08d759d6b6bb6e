import ArgumentParser
import Kernel
import Broker
import Exchanges

/// `medallion-sim bench exchanges`: how fast the feeds generate, encode and
/// append trades to topics, on one core. Wall-clock time is read here only.
struct BenchExchanges: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchanges",
        abstract: "Generate default Binance and Kraken traffic and report trades/s (use a release build)."
    )

    @OptionGroup var output: FormatOption

    @Option(help: "Simulated duration to generate, e.g. 1h, 30m.")
    var duration: String = "1h"

    @Option(help: "Seed of the generated run.")
    var seed: UInt64 = 1

    @Option(help: "Rate multiplier applied to both default feeds.")
    var rateMultiplier: Double = 1

    func validate() throws {
        let d: Micros
        do { d = try DurationParser.parse(duration) } catch { throw ValidationError("--duration: \(error)") }
        guard d > 0 && d <= 7 * Time.microsPerDay else { throw ValidationError("--duration must be between 1us and 7d") }
        guard rateMultiplier > 0 && rateMultiplier <= 100 else { throw ValidationError("--rate-multiplier must be in (0, 100]") }
    }

    func run() throws {
        let durationMicros = try DurationParser.parse(duration)
        var binance = ExchangeFeedConfig.defaultBinance, kraken = ExchangeFeedConfig.defaultKraken
        binance.rateMultiplier = rateMultiplier; kraken.rateMultiplier = rateMultiplier
        let plan = TrafficPlan(seed: seed, startMicros: UTCDateTime.micros(year: 2026, month: 1, day: 20),
                               durationMicros: durationMicros, feeds: [binance, kraken])
        let clock = ContinuousClock()
        let began = clock.now
        let traffic = TrafficGenerator.generate(plan)
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let messages = traffic.groundTruth.totalCount
        var bytes = 0
        for t in traffic.cluster.topics { for p in t.partitions { bytes += p.valueByteCount } }
        let rate = Double(messages) / max(seconds, 1e-9)
        let perMessage = messages > 0 ? Double(bytes) / Double(messages) : 0
        switch output.format {
        case .text:
            print("exchanges: \(messages) trades (\(DurationParser.format(durationMicros)) simulated, seed \(seed)) generated, encoded and appended in \(fixedDecimals(seconds, 3)) s")
            print("throughput: \(Int(rate.rounded())) trades/s on one core")
            print("value bytes: \(bytes) (\(fixedDecimals(perMessage, 1)) per message)")
        case .json:
            print("{\"bench\":\"exchanges\",\"messages\":\(messages),\"seconds\":\(fixedDecimals(seconds, 6)),\"seed\":\(seed),"
                  + "\"simulated\":\"\(DurationParser.format(durationMicros))\",\"trades_per_second\":\(Int(rate.rounded())),"
                  + "\"value_bytes\":\(bytes)}")
        }
    }
}
