import Codec
import Engine
import Kernel
import Testing
@testable import Scenarios

/// A written scenario reads back to the same scenario (explore's shrunk files).
@Suite struct ScenarioWriterTests {
    static let text = """
    name: every-kind
    description: One fault of every kind, every exchange and job setting.
    seed: 42
    start: 2026-03-01T00:00:00Z
    duration: 40m
    drain: 5m
    exchanges:
      binance:
        rate_multiplier: 0.05
        partitions: 3
        symbols: [BTCUSDT, ETHUSDT]
        v1_share: 1/10
        delivery_latency_median: 250ms
        burst_branching_ratio: 0.25
      kraken:
        enabled: false
    jobs:
      gold:
        trigger: 90s
        cores: 4
        max_offsets_per_trigger: 5000
    faults:
      - kind: duplicates
        exchange: binance
        at: 1m
        mode: producer_retry
        count: 3
      - kind: duplicates
        exchange: kraken
        at: 2m
        for: 3m
        mode: exchange_resend
        count: 4
      - kind: late_backfill
        exchange: kraken
        at: 10m
        count: 40
        age: 7m30s
      - kind: malformed
        exchange: binance
        at: 3m
        reasons: [AVRO_DECODE_ERROR, UNKNOWN_SCHEMA_ID]
        count: 2
      - kind: spike
        exchange: binance
        at: 4m
        for: 2m
        multiplier: 2.5
      - kind: outage
        exchange: kraken
        at: 5m
        for: 4m
        backfill: true
      - kind: clock_skew
        exchange: binance
        at: 6m
        for: 1m
        skew: 10m
      - kind: schema_mix
        exchange: binance
        at: 7m
        for: 1m
        v1_share: 30%
      - kind: slow_commits
        table: gold_crypto_trades
        at: 8m
        for: 2m
        extra_latency: 20s
      - kind: commit_failures
        table: silver_dlq_trades
        at: 9m
        for: 1m
        probability: 1/4
      - kind: crash
        job: silver_kraken
        at: 11m
        point: between_sinks
        restart_after: 45s
    """

    func withoutLines(_ s: Scenario) -> Scenario {
        var c = s
        c.faults = c.faults.map { var f = $0; f.line = 0; return f }
        c.file = ""
        return c
    }

    @Test func aWrittenScenarioReadsBackEqual() throws {
        let s = try ScenarioParser.parse(Self.text, file: "every-kind.yaml")
        #expect(s.faults.count == 11)
        let written = ScenarioWriter.yaml(s)
        let back = try ScenarioParser.parse(written, file: "every-kind.yaml")
        #expect(withoutLines(back) == withoutLines(s), "\(written)")
        #expect(ScenarioWriter.yaml(back) == written)
    }

    @Test func theExploreSectionIsReadStrictly() throws {
        let base = "name: x\ndescription: y\nduration: 20m\n"
        let s = try ScenarioParser.parse(base + "explore:\n  kinds: [spike, crash]\n  max_faults: 2\n  from: 2m\n  until: 15m\n  jobs: [gold]\n", file: "x.yaml")
        #expect(s.explore?.kinds == ["crash", "spike"] && s.explore?.maxFaults == 2)
        #expect(s.explore?.fromMicros == 2 * Time.microsPerMinute && s.explore?.jobs == [.gold])
        #expect(try ScenarioParser.parse(base, file: "x.yaml").explore == nil)
        do {
            _ = try ScenarioParser.parse(base + "explore:\n  kinds: [crsh]\n", file: "x.yaml")
            Issue.record("an unknown kind must be refused")
        } catch {
            #expect(error.line == 5 && error.problem.contains("did you mean 'crash'"))
        }
    }
}
