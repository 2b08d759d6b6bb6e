import Engine
import Kernel
import Scenarios
import Testing
@testable import Planning

@Suite struct ExploreTests {
    static let base = try! ScenarioParser.parse("""
    name: explore-small
    description: A small scenario to explore.
    seed: 5
    duration: 20m
    exchanges:
      binance:
        rate_multiplier: 0.02
      kraken:
        rate_multiplier: 0.2
    explore:
      max_faults: 4
    """, file: "explore-small.yaml")

    @Test func aRunsScheduleDependsOnlyOnSeedAndIndexAndStaysInsideTheScenario() throws {
        var distinct = Set<String>()
        var kindsSeen = Set<String>()
        for i in 0..<60 {
            let a = Explorer.schedule(Self.base, seed: 9, index: i)
            let b = Explorer.schedule(Self.base, seed: 9, index: i)
            #expect(a.kinds == b.kinds && a.faults == b.faults)
            #expect(!a.faults.isEmpty && a.faults.count <= 4)
            #expect(!a.kinds.isEmpty && a.kinds.allSatisfy(ExploreSettings.allKinds.contains))
            for f in a.faults {
                #expect(f.atMicros >= 0 && f.atMicros + f.forMicros <= Self.base.durationMicros)
                let name = String(ScenarioWriter.fault(f).split(separator: "\n")[0].dropFirst(10))
                #expect(a.kinds.contains(name), "\(name) drawn but not switched on: \(a.kinds)")
                kindsSeen.insert(name)
            }
            // Every drawn schedule is a valid scenario file.
            var s = Self.base; s.faults = a.faults
            _ = try ScenarioParser.parse(ScenarioWriter.yaml(s), file: "explore-small.yaml")
            distinct.insert(ScenarioWriter.yaml(s))
        }
        #expect(distinct.count == 60)
        #expect(kindsSeen == Set(ExploreSettings.defaultKinds))  // checkpoint_lost only when asked for
        #expect(Explorer.schedule(Self.base, seed: 10, index: 0).faults != Explorer.schedule(Self.base, seed: 9, index: 0).faults)
    }

    /// Under `silver_sinks: two_queries` the explorer's crashes hit the DLQ
    /// queries too, and the schedule it writes parses back (the DLQ job names
    /// are valid there); on the design they never appear.
    @Test func underTwoQueriesCrashesHitTheDlqQueriesToo() throws {
        func crashed(_ s: Scenario) -> Set<JobName> {
            var jobs = Set<JobName>()
            for i in 0..<200 {
                for f in Explorer.schedule(s, seed: 3, index: i).faults {
                    if case .crash(let job, _, _) = f.kind { jobs.insert(job) }
                }
            }
            return jobs
        }
        var two = Self.base
        two.pipeline.silverSinks = .twoQueries
        #expect(crashed(two) == Set(JobName.everyQuery))
        #expect(crashed(Self.base) == Set(JobName.allCases))
        var s = two
        s.faults = [Fault(kind: .crash(job: .silverKrakenDlq, point: .beforeCommitLog, restartAfterMicros: Time.microsPerMinute),
                          atMicros: Time.microsPerMinute, forMicros: 0, line: 0)]
        let back = try ScenarioParser.parse(ScenarioWriter.yaml(s), file: "explore-small.yaml")
        #expect(back.faults.map(\.kind) == s.faults.map(\.kind) && back.pipeline.silverSinks == .twoQueries)
    }

    /// Shrinking against a known cause: the "bug" needs a Gold crash and a
    /// backfill of at least 7 trades. From eight faults, ddmin keeps those
    /// two, then the count goes down to 7, the times to 0 and the restart
    /// delay to 1 s; the duration to the last fault's end.
    @Test func shrinkingKeepsOnlyTheCauseAndMinimisesItsParameters() throws {
        var s = Self.base
        let m = Time.microsPerMinute
        s.faults = [
            Fault(kind: .spike(exchange: .binance, multiplier: Decimal8(units: 300_000_000)), atMicros: 2 * m, forMicros: m, line: 0),
            Fault(kind: .crash(job: .silverKraken, point: .afterOffsetLog, restartAfterMicros: m), atMicros: 3 * m, forMicros: 0, line: 0),
            Fault(kind: .lateBackfill(exchange: .kraken, count: 30, ageMicros: 8 * m), atMicros: 9 * m, forMicros: 0, line: 0),
            Fault(kind: .outage(exchange: .kraken, backfill: false), atMicros: 4 * m, forMicros: 2 * m, line: 0),
            Fault(kind: .crash(job: .gold, point: .beforeOffsetLog, restartAfterMicros: 2 * m), atMicros: 12 * m, forMicros: 0, line: 0),
            Fault(kind: .producerRetryDuplicates(exchange: .binance, count: 5), atMicros: 5 * m, forMicros: 0, line: 0),
            Fault(kind: .slowCommits(table: "gold_crypto_trades", extraLatencyMicros: 9_000_000), atMicros: m, forMicros: m, line: 0),
            Fault(kind: .schemaMix(exchange: .binance, v1Share: Ratio(1, 2)), atMicros: 6 * m, forMicros: m, line: 0),
        ]
        func bug(_ c: Scenario) -> Bool {
            let crash = c.faults.contains { if case .crash(.gold, _, _) = $0.kind { return true }; return false }
            let backfill = c.faults.contains { if case .lateBackfill(_, let n, _) = $0.kind { return n >= 7 }; return false }
            return crash && backfill
        }
        var shrinker = Explorer.Shrinker(budget: 500) { c throws(InputError) in bug(c) }
        let small = try shrinker.shrink(s)
        #expect(small.faults.count == 2)
        #expect(bug(small))
        #expect(small.faults.map(\.atMicros) == [0, 0])
        #expect(small.faults.contains { $0.kind == .lateBackfill(exchange: .kraken, count: 7, ageMicros: 8 * m) })
        #expect(small.faults.contains { $0.kind == .crash(job: .gold, point: .beforeOffsetLog, restartAfterMicros: Time.microsPerSecond) })
        #expect(small.durationMicros == m)
        #expect(shrinker.runs < 60)
        // The same input shrinks to the same scenario.
        var again = Explorer.Shrinker(budget: 500) { c throws(InputError) in bug(c) }
        #expect(try again.shrink(s) == small)
    }
}
