import Testing
import Kernel
import Engine
import Scenarios
@testable import Checks

/// "Behind" is not "unsustainable": a job that overruns its trigger reads more
/// per batch and settles at a longer cadence, unless its per-row work outpaces
/// the arrivals — then its backlog grows every batch.
@Suite struct BacklogTests {
    static let yaml = """
    name: load
    description: Binance at 6 trades/s for 45 minutes.
    seed: 77
    duration: 45m
    drain: 2m
    exchanges:
      binance:
        rate_multiplier: 0.1
      kraken:
        rate_multiplier: 0.3
    """

    func silverBinance(perRowNanos: Int64) throws -> JobFigures {
        var profile = CostProfile.production
        var sb = profile[.silverBinance]
        sb.decodeNanosPerRecord = perRowNanos; sb.validateNanosPerRecord = 0; sb.writeNanosPerRecord = perRowNanos
        profile.jobs[.silverBinance] = sb
        let s = try ScenarioParser.parse(Self.yaml, file: "load.yaml")
        let o = ScenarioEvaluator.evaluate(try ScenarioRunner.run(s, profile: profile))
        return o.oracle.jobs[.silverBinance]!
    }

    @Test func behindButSettledIsNotGrowing() throws {
        // 2 x 25 ms / 2 cores = 25 ms a row: at 6 rows/s, 15% of each second.
        let f = try silverBinance(perRowNanos: 25_000_000)
        #expect(!f.backlogGrowing)
    }

    @Test func workOutpacingArrivalsIsGrowing() throws {
        // 2 x 200 ms / 2 cores = 200 ms a row: at 6 rows/s, 1.2 s of work per second.
        let f = try silverBinance(perRowNanos: 200_000_000)
        #expect(f.behind > 3)
        #expect(f.backlogGrowing, "rows per batch \(f.steadyRows)")
    }
}
