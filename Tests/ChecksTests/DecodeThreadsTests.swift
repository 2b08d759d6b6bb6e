import Testing
import Kernel
import Engine
import Exchanges
import Scenarios
@testable import Checks

/// Silver may decode a batch on several threads; the tables must not notice.
@Suite struct DecodeThreadsTests {
    static let yaml = """
    name: busy
    description: Production Binance traffic with malformed payloads, so Silver batches are large and mixed.
    seed: 31
    duration: 6m
    drain: 4m
    faults:
      - kind: malformed
        exchange: binance
        at: 1m
        for: 4m
        reasons: all
        count: 2
    """

    func tables(decodeThreads: Int) throws -> ([[String]], Int, (batches: Int, mostThreads: Int)) {
        let s = try ScenarioParser.parse(Self.yaml, file: "busy.yaml")
        let profile = try ProfileLoader.load(name: "production", directory: ChecksCanFailTests.root + "/scenarios/profiles")
        let traffic = TrafficGenerator.generate(try ScenarioRunner.trafficPlan(s))
        var config = ScenarioRunner.engineConfig(s, profile: profile)
        config.decodeThreads = decodeThreads
        let p = Pipeline(cluster: traffic.cluster, registry: traffic.registry, config: config)
        p.run()
        let biggest = p.batchLog.filter { $0.job == .silverBinance }.map(\.rowsIn).max() ?? 0
        return (TableName.allCases.map { TableExport.rows(of: $0, in: p) }, biggest, p.parallelDecode)
    }

    @Test func twoDecodeThreadsGiveTheSameTables() throws {
        let (one, biggest, serial) = try tables(decodeThreads: 1)
        let (two, _, parallel) = try tables(decodeThreads: 2)
        #expect(biggest >= 2_048, "no batch was big enough to decode in parallel")
        #expect(serial.batches == 0)
        // Batches really decoded on more than one thread (what makes the
        // ThreadSanitizer run of this test meaningful).
        #expect(parallel.batches >= 1)
        #expect(parallel.mostThreads >= 2, "every parallel batch ran on one thread")
        #expect(one[TableName.allCases.firstIndex(of: .silverDlq)!].count == 30)
        #expect(one == two)
    }

    /// What `run` and `bench engine` now do by default: the whole evaluated
    /// run (summary, every table as exported, the Spark progress) is the same
    /// on one and on two decode threads.
    @Test func runOutputsAreTheSameOnOneAndTwoThreads() throws {
        let s = try ScenarioParser.parse(Self.yaml, file: "busy.yaml")
        func outputs(_ threads: Int) throws -> (String, [[String]], Bool) {
            let run = try ScenarioRunner.run(s, profilesDirectory: ChecksCanFailTests.root + "/scenarios/profiles",
                                             decodeThreads: threads)
            let o = ScenarioEvaluator.evaluate(run)
            return (o.summary.pretty, o.tables.map(\.rows), run.pipeline.parallelDecode.batches > 0)
        }
        let (summary1, tables1, parallel1) = try outputs(1)
        let (summary2, tables2, parallel2) = try outputs(2)
        #expect(!parallel1 && parallel2, "the two-thread run decoded no batch in parallel")
        #expect(tables1.reduce(0) { $0 + $1.count } > 10_000)
        #expect(summary1 == summary2)
        #expect(tables1 == tables2)
    }
}
