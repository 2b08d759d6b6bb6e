import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Kernel
import Codec
@testable import Scenarios
import Engine

@Suite struct ScenarioParserTests {
    static let full = """
    name: demo
    description: Every section once.
    seed: 7
    start: 2026-01-20T09:00:00Z
    duration: 30m
    drain: 5m
    profile: production
    exchanges:
      binance:
        rate_multiplier: 2.5
        partitions: 3
        symbols: [BTCUSDT, ETHUSDT]
        v1_share: 10%
      kraken:
        enabled: false
    jobs:
      silver_binance:
        trigger: 30s
        cores: 4
        max_offsets_per_trigger: 10_000
    faults:
      - kind: spike
        exchange: binance
        at: 10m
        for: 5m
        multiplier: 20
      - kind: malformed
        exchange: kraken
        at: 1m
        reasons: all
      - kind: crash
        job: gold
        at: 12m
        point: between_sinks
        restart_after: 90s
      - kind: commit_failures
        table: silver_binance_trades
        at: 2m
        for: 1m
        probability: 1/4
    expect:
      alert_fires: true
      min_headroom:
        silver_binance: 10s
    """

    @Test func parsesEverySection() throws {
        let s = try ScenarioParser.parse(Self.full, file: "demo.yaml")
        #expect(s.name == "demo" && s.seed == 7 && s.durationMicros == 30 * Time.microsPerMinute)
        #expect(s.drainMicros == 5 * Time.microsPerMinute)
        #expect(s.startMicros == Scenario.defaultStart)
        #expect(s.exchanges[.binance]?.rateMultiplier == Decimal8(units: 250_000_000))
        #expect(s.exchanges[.binance]?.v1Share == Ratio(10 * 100_000_000, 100 * 100_000_000))
        #expect(s.exchanges[.binance]?.symbols == ["BTCUSDT", "ETHUSDT"])
        #expect(s.exchanges[.kraken]?.enabled == false)
        #expect(s.jobs[.silverBinance]?.triggerMicros == 30 * Time.microsPerSecond)
        #expect(s.jobs[.silverBinance]?.maxOffsetsPerTrigger == 10_000)
        #expect(s.faults.count == 4)
        #expect(s.faults[0].kind == .spike(exchange: .binance, multiplier: Decimal8(units: 2_000_000_000)))
        #expect(s.faults[0].line == 22)
        #expect(s.faults[1].kind == .malformed(exchange: .kraken, reasons: DeadLetterReason.allCases, count: 1))
        #expect(s.faults[2].kind == .crash(job: .gold, point: .betweenSinks, restartAfterMicros: 90 * Time.microsPerSecond))
        #expect(s.faults[3].kind == .commitFailures(table: "silver_binance_trades", probability: Ratio(1, 4)))
        #expect(s.expect.alertFires == true)
        #expect(s.expect.minHeadroomMicros.first! == (.silverBinance, 10 * Time.microsPerSecond))
    }

    func problem(_ text: String, overrides: [String] = []) -> InputError? {
        do { _ = try ScenarioParser.parse(text, file: "bad.yaml", overrides: overrides); return nil }
        catch { return error }
    }

    @Test func unknownKeysAreErrorsWithLineAndSuggestion() {
        let e = problem(Self.full.replacingOccurrences(of: "    trigger: 30s", with: "    triger: 30s"))
        #expect(e?.line == 18)
        #expect(e?.description == "bad.yaml:18:5: unknown key 'jobs.silver_binance.triger'; did you mean 'trigger'?")
    }

    @Test func badValuesNameFileLineAndProblem() {
        let e1 = problem(Self.full.replacingOccurrences(of: "duration: 30m", with: "duration: 30 minutes"))
        #expect(e1?.line == 5)
        #expect(e1?.problem.contains("duration") == true)
        let e2 = problem(Self.full.replacingOccurrences(of: "reasons: all", with: "reasons: [AVRO_DECODE_EROR]"))
        #expect(e2?.problem.contains("did you mean 'AVRO_DECODE_ERROR'") == true)
        let e3 = problem(Self.full.replacingOccurrences(of: "kind: spike", with: "kind: spiek"))
        #expect(e3?.line == 22)
        let e4 = problem(Self.full.replacingOccurrences(of: "at: 12m", with: "at: 2h"))
        #expect(e4?.problem.contains("after the scenario's duration") == true)
        let e5 = problem("name: x\ndescription: y\nduration: 1m\nseed: 1\nseed: 2\n")
        #expect(e5?.line == 4, "\(String(describing: e5))"); #expect(e5?.problem.contains("duplicate key") == true)
        let e6 = problem("name: x\n  description: [\n")
        #expect(e6 != nil && e6!.line > 0 && e6!.problem.hasPrefix("YAML syntax"))
        let e7 = problem("name: x\ndescription: y\n")
        #expect(e7?.problem.contains("missing required key 'duration'") == true)
    }

    @Test func overridesAreAppliedAndValidated() throws {
        let s = try ScenarioParser.parse(Self.full, file: "demo.yaml",
                                         overrides: ["jobs.silver_binance.trigger=60s", "exchanges.kraken.rate_multiplier=3", "seed=9"])
        #expect(s.jobs[.silverBinance]?.triggerMicros == 60 * Time.microsPerSecond)
        #expect(s.exchanges[.kraken]?.rateMultiplier == Decimal8(units: 300_000_000))
        #expect(s.seed == 9)
        #expect(problem(Self.full, overrides: ["jobs.gold.trigger=soon"]) != nil)
        #expect(problem(Self.full, overrides: ["jobz.gold.trigger=1m"])?.problem.contains("did you mean 'jobs'") == true)
        #expect(problem(Self.full, overrides: ["novalue"])?.file == "--set")
    }

    /// `silver_sinks: two_queries` makes each Silver job two queries: its DLQ
    /// query (silver_<x>_dlq) may be configured and crashed then, and only then.
    @Test func theDlqQueriesOfTwoQueriesAreJobsOnlyUnderThatVariant() throws {
        let dlqCrash = Self.full.replacingOccurrences(of: "    job: gold", with: "    job: silver_binance_dlq")
        let e = problem(dlqCrash)
        #expect(e?.line == 32, "\(String(describing: e))")
        #expect(e?.problem == "faults[2].job: job 'silver_binance_dlq' exists only with pipeline.silver_sinks: two_queries (it is silver_binance's "
                + "query writing the DLQ); with silver_sinks idempotent, silver_binance is one query writing both tables")
        let set = problem(Self.full, overrides: ["jobs.silver_kraken_dlq.trigger=60s"])
        #expect(set?.problem.hasPrefix("jobs.silver_kraken_dlq: job 'silver_kraken_dlq' exists only with pipeline.silver_sinks: two_queries") == true,
                "\(String(describing: set))")
        let s = try ScenarioParser.parse(dlqCrash, file: "demo.yaml",
                                         overrides: ["pipeline.silver_sinks=two_queries", "jobs.silver_binance_dlq.trigger=90s"])
        #expect(s.pipeline.silverSinks == .twoQueries)
        #expect(s.faults.contains { if case .crash(.silverBinanceDlq, .betweenSinks, _) = $0.kind { return true }; return false })
        // The DLQ query takes what it leaves out from its Silver job (cores 4), its own trigger.
        let dlq = ScenarioRunner.engineConfig(s, profile: .production).jobs.first { $0.job == .silverBinanceDlq }
        #expect(dlq?.triggerMicros == 90 * Time.microsPerSecond && dlq?.executorCores == 4)
        #expect(problem(Self.full, overrides: ["pipeline.silver_sinks=two_query"])?.problem
                == "pipeline.silver_sinks: unknown value 'two_query' (expected one of: idempotent, foreach_batch, foreach_batch_idempotent, two_queries)")
        #expect(problem(Self.full + "\nexplore:\n  jobs: [silver_kraken_dlq]\n")?.problem.contains("exists only with") == true)
    }

    @Test func ratiosAndTimestamps() throws {
        #expect(YAMLNode.parseTimestamp("2026-01-20T09:00Z") == Scenario.defaultStart)
        #expect(YAMLNode.parseTimestamp("2026-02-30T09:00:00Z") == nil)
        #expect(YAMLNode.parseTimestamp("2026-01-20 09:00:00") == nil)
    }
}

@Suite struct ScenarioLibraryTests {
    static var repoRoot: String { Repository.root }

    @Test func everyLibraryScenarioParsesAndIsNamedAfterItsFile() throws {
        let paths = try ScenarioParser.libraryPaths(in: Self.repoRoot + "/scenarios")
        let names = paths.map { String($0.split(separator: "/").last!.dropLast(5)) }
        for required in ["baseline", "late-data", "duplicates", "malformed-avro", "traffic-spike", "slow-commits",
                         "crash-restart", "schema-evolution", "exchange-outage",
                         "incident-013-silver-binance-30s", "incident-013-fix-60s"] {
            #expect(names.contains(required), "scenario \(required) is missing")
        }
        for p in paths {
            let s = try ScenarioParser.load(path: p)
            #expect(!s.description.isEmpty)
        }
    }

    @Test func aNameThatDiffersFromTheFileIsAnError() throws {
        let dir = "/tmp/medallion-sim-test-\(getpid())"
        mkdir(dir, 0o755)
        let path = dir + "/other.yaml"
        let f = fopen(path, "w")!
        fputs("name: baseline\ndescription: x\nduration: 1m\n", f)
        fclose(f)
        #expect(throws: InputError.self) { try ScenarioParser.load(path: path) }
    }
}

@Suite struct ProfileLoaderTests {
    @Test func productionFileIsTheEnginesProductionProfile() throws {
        let p = try ProfileLoader.load(name: "production", directory: ScenarioLibraryTests.repoRoot + "/scenarios/profiles")
        #expect(p == CostProfile.production)
    }

    @Test func aProfileMissingAKeyOrJobIsNamed() throws {
        let text = try readTextFile(ScenarioLibraryTests.repoRoot + "/scenarios/profiles/production.yaml")
        let noRestart = text.replacingOccurrences(of: "    restart_delay: 30s\n  gold:", with: "  gold:")
        #expect(throws: InputError.self) { try ProfileLoader.parse(noRestart, file: "p.yaml") }
        let typo = text.replacingOccurrences(of: "    startup: 60s", with: "    start_up: 60s")
        do { _ = try ProfileLoader.parse(typo, file: "p.yaml"); Issue.record("accepted a typo") } catch {
            #expect(error.problem.contains("unknown key 'jobs.gold.start_up'; did you mean 'startup'?"))
        }
    }
}
