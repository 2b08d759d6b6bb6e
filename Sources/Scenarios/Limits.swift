import Codec
import Exchanges
import Kernel

/// Upper (and lower) bounds on every number a scenario or a cost profile
/// can hold, checked when the file (or a `--set`) is read, so that a run
/// with any accepted input ends in bounded time and memory, and so that the
/// arithmetic on these values stays within 64 bits (see the notes per bound).
/// docs/SCENARIOS.md lists them; `LimitsTests` feeds each one an absurd value.
public enum Limits {
    // Scenario times.
    public static let earliestStart: Micros = UTCDateTime.micros(year: 2009, month: 1, day: 3, hour: 0)
    public static let latestStart: Micros = UTCDateTime.micros(year: 2200, month: 1, day: 1, hour: 0)
    public static let maxDuration: Micros = 7 * Time.microsPerDay
    public static let maxDrain: Micros = Time.microsPerDay
    /// Fault offsets and windows (`at`, `for`) lie inside the duration; ages and skews:
    public static let maxAge: Micros = 7 * Time.microsPerDay
    public static let maxSkew: Micros = Time.microsPerDay
    public static let maxRestartAfter: Micros = Time.microsPerDay
    public static let maxExtraLatency: Micros = Time.microsPerHour
    public static let maxDeliveryLatencyMedian: Micros = Time.microsPerHour
    /// Topic retention and segment roll (`retention`, `segment`), and their byte sizes.
    public static let maxRetention: Micros = 365 * Time.microsPerDay
    public static let maxRetentionBytes: Int64 = 1 << 50
    public static let minTrigger: Micros = Time.microsPerSecond
    public static let maxTrigger: Micros = Time.microsPerHour
    public static let maxHeadroom: Micros = Time.microsPerHour
    public static let maxExpectedCount: Int64 = 1_000_000_000
    /// Messages a scenario may produce, estimated from the exchanges' base
    /// rates times their multipliers over the duration, spikes included:
    /// the broker keeps every message (~200 bytes each), so this bounds a
    /// run's memory (to about 10 GB at the limit). A week of production
    /// traffic at rate 1 is ~38 million.
    public static let maxMessages: Double = 50_000_000

    // Cost profiles. Per-record costs times the rows of a batch (at most
    // `maxMessages` plus faults) stay below 2^62 ns.
    public static let maxProfileLatency: Micros = Time.microsPerHour
    public static let maxPerRecord: Micros = Time.microsPerSecond

    static func text(_ m: Micros) -> String { DurationParser.format(m) }

    /// The messages a scenario would produce, approximately (an upper
    /// estimate: every symbol of an exchange, bursts at their mean).
    public static func estimatedMessages(_ s: Scenario, only: ExchangeName? = nil) -> Double {
        var total = 0.0
        for e in ExchangeName.allCases where only == nil || only == e {
            let x = s.exchanges[e] ?? ExchangeSettings()
            guard x.enabled else { continue }
            let config = ExchangeFeedConfig.default(for: e)
            let rate = config.baseRatePerSecond * (x.rateMultiplier?.double ?? config.rateMultiplier)
            total += rate * Double(s.durationMicros) / 1e6
            for f in s.faults {
                if case .spike(let fe, let m) = f.kind, fe == e {
                    total += rate * max(m.double - 1, 0) * Double(f.forMicros) / 1e6
                }
            }
        }
        return total
    }
}

extension Decimal8 {
    var double: Double { Double(units) / Double(Decimal8.unitsPerWhole) }
}

extension YAMLNode {
    /// A duration within `min...max`; the message names the key and the bound.
    func duration(atMost max: Micros, atLeast min: Micros = 0) throws(InputError) -> Micros {
        let v = try duration()
        guard v <= max else { throw error("\(Limits.text(v)) is above the limit of \(Limits.text(max))") }
        guard v >= min else { throw error("\(Limits.text(v)) is below the minimum of \(Limits.text(min))") }
        return v
    }
}
