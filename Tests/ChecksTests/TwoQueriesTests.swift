import Testing
import TestSupport
import Kernel
import Engine
import Scenarios
@testable import Checks

/// `pipeline.silver_sinks: two_queries`: what the oracle says about each
/// Silver job written as two queries (a Silver query and a DLQ query).
@Suite struct TwoQueriesTests {
    static let yaml = ChecksCanFailTests.yaml.replacingOccurrences(of: "expect:\n", with: """
    pipeline:
      silver_sinks: two_queries
    expect:

    """)

    func run(_ text: String = Self.yaml) throws -> ScenarioRun {
        try ScenarioRunner.run(try ScenarioParser.parse(text, file: "small.yaml"), profilesDirectory: Repository.root + "/scenarios/profiles")
    }

    func failing(_ r: ScenarioRun) -> [String: [String]] {
        let o = ScenarioEvaluator.evaluate(r)
        return Dictionary(uniqueKeysWithValues: o.checks.filter { !$0.passed }.map { ($0.name, $0.details) })
    }

    /// An honest run passes, and each query decoded every Bronze row.
    @Test func bothQueriesDecodeEveryRowAndTheRunIsExactlyOnce() throws {
        let r = try run()
        #expect(failing(r).isEmpty, "\(failing(r))")
        let o = ScenarioEvaluator.evaluate(r)
        guard case .object(let acc)? = o.oracle.figures["accounting"], case .object(let q)? = acc["silver_queries"],
              case .object(let binance)? = q["binance"] else { Issue.record("no silver_queries figures"); return }
        let rows = Int64(r.pipeline.bronzeBinance.rowCount)
        #expect(rows > 100 && binance["bronze_rows"] == .int(rows))
        for job in ["silver_binance", "silver_binance_dlq"] {
            guard case .object(let f)? = binance[job] else { Issue.record("no \(job)"); continue }
            #expect(f["rows_decoded"] == .int(rows) && f["read_to_bronze_row"] == .int(rows) && f["up_at_end"] == .bool(true))
        }
        #expect(o.oracle.jobs[.silverBinanceDlq] != nil)
    }

    /// A row both queries read that is in both tables, or in neither: the two
    /// queries' decoders disagreed (here a Silver row re-pointed at a dead letter).
    @Test func aRowInBothTablesOrInNeitherIsNamedAsTheQueriesDisagreeing() throws {
        let r = try run()
        let p = r.pipeline
        let deadLetter = p.dlq.row(0).sourceBronzeRow
        let was = p.silverBinance.row(0).sourceBronzeRow
        p.silverBinance.testOnly_setSourceRow(0, bronzeRow: deadLetter)
        let problems = failing(r)[SilverDLQExactlyOnce.name] ?? []
        #expect(problems.contains("bronze_binance_trades row \(deadLetter) is in both silver_binance_trades and the DLQ: "
                                  + "the Silver query and the DLQ query decoded it differently (each decides on its own)"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("bronze_binance_trades row \(was) is in neither Silver nor the DLQ although both silver_binance")
                                    && $0.hasSuffix("their decoders disagreed (the Silver query judged it invalid, the DLQ query valid)") },
                "\(problems)")
    }

    /// The DLQ query killed for good while the Silver query goes on: the dead
    /// letters after its last commit are in neither table, named row by row.
    @Test func aStoppedDlqQueryIsNamedWithTheRowsItStranded() throws {
        // The scenario already has a faults list: put the crash in it.
        let merged = Self.yaml.replacingOccurrences(of: "faults:\n", with: """
        faults:
          - kind: crash
            job: silver_binance_dlq
            at: 2m
            point: immediately
            restart_after: 1d

        """)
        let r = try run(merged)
        let problems = failing(r)[Accounting.name] ?? []
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("silver_binance_dlq stopped at 2026-01-20T09:02:00.000000Z and was down at the end, having read bronze_binance_trades to row ") == true,
                "\(problems)")
        #expect(problems.first?.contains("while silver_binance went on to row \(r.pipeline.bronzeBinance.rowCount)") == true)
        #expect(problems.first?.contains(", first: row ") == true && problems.first?.hasSuffix("so nothing fired for it") == true)
        // Nothing else broke: every row is somewhere or in flight behind the stopped query.
        #expect(Set(failing(r).keys) == [Accounting.name], "\(failing(r).keys)")
    }

    /// `expect.failures` may name an expectation (the headroom two_queries
    /// costs): judged inverted like an oracle check (it crashed the summary
    /// before, the name counted twice).
    @Test func anExpectationCanBeAnExpectedFailure() throws {
        let text = ChecksCanFailTests.yaml.replacingOccurrences(of: "    bronze_binance: 0", with: """
            bronze_binance: 0
          min_headroom:
            silver_binance: 59s
          failures: [expect.min_headroom.silver_binance]

        """)
        let o = ScenarioEvaluator.evaluate(try run(text))
        let c = o.checks.filter { $0.name == "expect.min_headroom.silver_binance" }
        #expect(c.count == 1 && c[0].passed && c[0].details.first?.hasPrefix("fails as expected: silver_binance: smallest headroom") == true,
                "\(c)")
    }
}
