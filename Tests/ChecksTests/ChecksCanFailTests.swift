import Testing
import Kernel
import Codec
import Engine
import Scenarios
@testable import Checks

/// Each check of the oracle is shown to fail, with a clear message, when the
/// promise it guards is broken — so a green run means something.
@Suite struct ChecksCanFailTests {
    static var root: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    static let yaml = """
    name: small
    description: A few minutes of light traffic with every kind of DLQ payload.
    seed: 4242
    duration: 6m
    drain: 5m
    exchanges:
      binance:
        rate_multiplier: 0.05
    faults:
      - kind: malformed
        exchange: binance
        at: 1m
        for: 3m
        reasons: [AVRO_DECODE_ERROR, INVALID_PRICE, UNKNOWN_SCHEMA_ID]
        count: 2
    expect:
      max_batches_behind:
        bronze_binance: 0
    """

    func run(_ text: String = Self.yaml) throws -> ScenarioRun {
        let s = try ScenarioParser.parse(text, file: "small.yaml")
        return try ScenarioRunner.run(s, profilesDirectory: Self.root + "/scenarios/profiles")
    }

    func failing(_ o: ScenarioOutcome) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: o.checks.filter { !$0.passed }.map { ($0.name, $0.details) })
    }

    @Test func anUntouchedRunPassesEveryCheck() throws {
        let o = ScenarioEvaluator.evaluate(try run())
        #expect(failing(o).isEmpty, "\(failing(o))")
        #expect(o.oracle.figures["dlq"]?["rows"] == .int(6))
    }

    @Test func aLostGoldRowFailsGoldExactlyOnceAndAccounting() throws {
        let r = try run()
        r.pipeline.gold.testOnly_loseLastRow()
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.first?.contains("is missing from Gold") == true, "\(f)")
        #expect(f["accounting"]?.first?.contains("unexplained") == true, "\(f)")
    }

    @Test func aDuplicatedGoldRowFailsGoldExactlyOnce() throws {
        let r = try run()
        r.pipeline.gold.testOnly_duplicateRow(3, silver: r.pipeline.silverBinance)
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.contains { $0.contains("is in Gold twice") } == true, "\(f)")
    }

    @Test func aDLQRowUnderTheWrongReasonFailsCategorization() throws {
        let r = try run()
        let i = (0..<r.pipeline.dlq.rowCount).first { r.pipeline.dlq.row($0).errorReason == .invalidPrice }!
        r.pipeline.dlq.testOnly_setReason(i, .invalidQuantity)
        let f = failing(ScenarioEvaluator.evaluate(r))
        let details = f["dlq_categorization"] ?? []
        #expect(details.contains { $0.contains("injected INVALID_PRICE, DLQ says INVALID_QUANTITY") }, "\(f)")
        #expect(details.contains { $0.contains("reason INVALID_QUANTITY, the bytes say INVALID_PRICE") }, "\(f)")
    }

    @Test func aBatchThatRanLongerThanTheLogSaysFailsTheRecomputation() throws {
        let r = try run()
        let i = r.pipeline.batchLog.lastIndex { $0.job == .silverBinance && !$0.behind }!
        r.pipeline.testOnly_rewriteBatch(i) { $0.endMicros = $0.startMicros + $0.triggerMicros + 1 }
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["batches_behind_recomputed"]?.first?.contains("engine says behind=false") == true, "\(f)")
    }

    @Test func aSlowJobFailsTheScenariosExpectation() throws {
        let slowed = Self.yaml.replacingOccurrences(of: "expect:", with: """
              - kind: slow_commits
                table: bronze_binance_trades
                at: 2m
                for: 2m
                extra_latency: 15s
            expect:
            """)
        let f = failing(ScenarioEvaluator.evaluate(try run(slowed)))
        #expect(f["expect.max_batches_behind.bronze_binance"]?.first?.contains("batches behind after start-up, expected at most 0") == true, "\(f)")
        #expect(f.count == 1, "only the expectation fails: \(f.keys.sorted())")
    }

    @Test func aWatermarkTheEngineGotWrongFailsGold() throws {
        let r = try run()
        let i = r.pipeline.batchLog.lastIndex { $0.job == .gold && $0.outcome == .committed }!
        r.pipeline.testOnly_rewriteBatch(i) { $0.lateThresholdMs += 1 }
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.first?.contains("recomputed") == true, "\(f)")
    }
}
