import Testing
import Kernel
import Engine
import Scenarios
@testable import Checks

/// Per-record latency (Kafka create time to each layer's commit) and the
/// choice of Silver SLA definition in `expect.silver_sla`.
@Suite struct RecordLatencyTests {
    static func outcome() throws -> ScenarioOutcome {
        let s = try ScenarioParser.parse(ChecksCanFailTests.yaml, file: "small.yaml")
        let run = try ScenarioRunner.run(s, profilesDirectory: ChecksCanFailTests.root + "/scenarios/profiles")
        return ScenarioEvaluator.evaluate(run)
    }

    @Test func aRecordReachesBronzeThenSilverThenGold() throws {
        let o = try Self.outcome()
        for e in ["binance", "kraken"] {
            let l = try #require(o.oracle.recordLatencyP99Micros[e])
            let bronze = try #require(l["bronze"]), silver = try #require(l["silver"]), gold = try #require(l["gold"])
            #expect(bronze > 0 && bronze < silver && silver < gold, "\(e): \(l)")
            guard case .object(let sla)? = o.summary["sla"], case .object(let per)? = sla["record_latency_ms"],
                  case .object(let ex)? = per[e], case .object(let s)? = ex["silver"] else {
                Issue.record("sla.record_latency_ms.\(e).silver missing"); continue
            }
            #expect(s["p99"] == .int(Time.floorDiv(silver, 1_000)))
            #expect(s["p50"] != nil && s["max"] != nil)
        }
        // A record waits for Bronze and a Silver trigger: longer than the Silver batch alone.
        let record = try #require(o.oracle.silverRecordLatencyP99Micros)
        let batch = try #require(o.oracle.silverLatencyP99Micros)
        #expect(record > batch)
    }

    @Test func expectChoosesWhichSilverLatencyTheSLAJudges() throws {
        let o = try Self.outcome()
        let record = try #require(o.oracle.silverRecordLatencyP99Micros)
        let batch = try #require(o.oracle.silverLatencyP99Micros)
        // This light run: batches well under 60 s, records over it (a 60 s trigger plus Bronze).
        #expect(batch < Oracle.silverLatencySLAMicros && record >= Oracle.silverLatencySLAMicros, "batch \(batch), record \(record)")
        var e = Expectations()
        e.slaHolds = true
        let byBatch = ScenarioEvaluator.expectationChecks(e, o.oracle).first { $0.name == "expect.sla_holds" }
        #expect(byBatch?.passed == true)
        e.silverSLA = .recordLatency
        let byRecord = ScenarioEvaluator.expectationChecks(e, o.oracle).first { $0.name == "expect.sla_holds" }
        #expect(byRecord?.passed == false)
        #expect(byRecord?.details.first?.hasPrefix("Silver record latency p99 ") == true, "\(byRecord?.details ?? [])")
    }

    @Test func theScenarioKeyParsesAndRefusesUnknownDefinitions() throws {
        let ok = try ScenarioParser.parse(ChecksCanFailTests.yaml + "\n  silver_sla: record_latency\n", file: "s.yaml")
        #expect(ok.expect.silverSLA == .recordLatency)
        #expect(throws: InputError.self) {
            try ScenarioParser.parse(ChecksCanFailTests.yaml + "\n  silver_sla: per_record\n", file: "s.yaml")
        }
    }
}
