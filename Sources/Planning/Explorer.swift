import Checks
import Codec
import Engine
import Exchanges
import Kernel
import Scenarios

/// `medallion-sim explore`: random fault schedules on top of a scenario,
/// each run judged by the oracle's correctness checks, every failing run
/// shrunk to a minimal scenario file.
///
/// A run's schedule depends only on (seed, run index): it draws from the
/// stream `explore.run.<i>` of `RandomStreams(seed:)`, so runs can be
/// sharded and run in any order, and the same seed gives the same runs.
/// Swarm testing: each run first switches on a random subset of the
/// allowed fault kinds (each with probability 1/2, at least one), then
/// draws 1...max_faults faults from that subset only, so that a kind is
/// not always drowned out by the others.
public enum Explorer {
    /// One run's outcome.
    public struct RunResult: Sendable, Equatable {
        public var index: Int
        /// The fault kinds the swarm switched on for this run.
        public var kinds: [String]
        /// The faults drawn for this run (the scenario's own come first in the run).
        public var faults: [Fault]
        /// Names of the checks that failed (empty: the run passed).
        public var failedChecks: [String]
        /// The first problem of the first failed check.
        public var firstProblem: String?
        /// For a failing run: the shrunk scenario and how many runs shrinking took.
        public var shrunk: Scenario?
        public var shrinkRuns: Int = 0
        public var failed: Bool { !failedChecks.isEmpty }
    }

    /// The checks a run is judged by: every oracle check (exactly-once,
    /// content, DLQ categorization, accounting, metrics, state); the
    /// scenario's `expect` promises (headroom, alerts, SLAs) are about
    /// capacity and are not judged under random faults.
    static func failures(_ s: Scenario, profile: CostProfile) throws(InputError) -> (names: [String], first: String?) {
        let run = try ScenarioRunner.run(s, profile: profile)
        let oracle = Oracle.check(OracleInput(
            cluster: run.traffic.cluster, registry: run.traffic.registry, groundTruth: run.traffic.groundTruth,
            pipeline: run.pipeline, feedStartMicros: s.startMicros, feedEndMicros: s.startMicros + s.durationMicros))
        let failed = oracle.checks.filter { !$0.passed }
        return (failed.map(\.name), failed.first?.details.first)
    }

    // MARK: Drawing a schedule

    static let exchanges: [ExchangeName] = [.binance, .kraken]

    /// The kinds switched on and the faults drawn for run `index`.
    public static func schedule(_ s: Scenario, seed: UInt64, index: Int) -> (kinds: [String], faults: [Fault]) {
        let x = s.explore ?? ExploreSettings()
        var rng = RandomStreams(seed: seed).stream("explore.run.\(index)")
        var kinds = x.kinds.filter { _ in rng.uniform(below: 2) == 1 }
        if kinds.isEmpty { kinds = [x.kinds[Int(rng.uniform(below: UInt64(x.kinds.count)))]] }
        let minute = Time.microsPerMinute
        let from = x.fromMicros ?? min(minute, s.durationMicros / 4)
        let until = x.untilMicros ?? max(from + Time.microsPerSecond, s.durationMicros - minute)
        let n = 1 + Int(rng.uniform(below: UInt64(x.maxFaults)))
        var faults: [Fault] = []
        func pick<T>(_ a: [T]) -> T { a[Int(rng.uniform(below: UInt64(a.count)))] }
        func seconds(_ lo: Micros, _ hi: Micros) -> Micros {
            let l = lo / Time.microsPerSecond, h = max(l, hi / Time.microsPerSecond)
            return rng.uniform(in: l...h) * Time.microsPerSecond
        }
        for _ in 0..<n {
            let kind = pick(kinds)
            let windowed = ["duplicates", "slow_commits", "commit_failures", "spike", "outage", "schema_mix"].contains(kind)
            var window: Micros = 0
            if windowed { window = seconds(Time.microsPerSecond * 10, min(x.maxForMicros, max(Time.microsPerSecond * 10, until - from))) }
            let at = seconds(from, max(from, min(until, s.durationMicros - window)))
            let count = 1 + Int(rng.uniform(below: UInt64(x.maxCount)))
            let k: Fault.Kind
            switch kind {
            case "crash":
                k = .crash(job: pick(x.crashJobs(s.pipeline)), point: pick(CrashPoint.allCases),
                           restartAfterMicros: seconds(10 * Time.microsPerSecond, 3 * minute))
            case "late_backfill":
                k = .lateBackfill(exchange: pick(exchanges), count: count, ageMicros: seconds(minute, 20 * minute))
            case "duplicates":
                k = rng.uniform(below: 2) == 0 ? .producerRetryDuplicates(exchange: pick(exchanges), count: count)
                                               : .exchangeResendDuplicates(exchange: pick(exchanges), count: count)
            case "malformed":
                k = .malformed(exchange: pick(exchanges), reasons: [pick(DeadLetterReason.allCases)], count: min(count, 5))
            case "slow_commits":
                k = .slowCommits(table: pick(ScenarioParser.tables), extraLatencyMicros: seconds(Time.microsPerSecond, minute))
            case "commit_failures":
                k = .commitFailures(table: pick(ScenarioParser.tables), probability: Ratio(UInt64(rng.uniform(in: 1...10)), 10))
            case "spike":
                k = .spike(exchange: pick(exchanges), multiplier: Decimal8(units: rng.uniform(in: 2...10) * Decimal8.unitsPerWhole))
            case "outage":
                k = .outage(exchange: pick(exchanges), backfill: rng.uniform(below: 2) == 1)
            case "checkpoint_lost":
                k = .checkpointLost(job: pick([JobName.bronzeBinance, .bronzeKraken]),
                                    restartAfterMicros: seconds(10 * Time.microsPerSecond, 3 * minute))
            default:  // schema_mix
                k = .schemaMix(exchange: pick(exchanges), v1Share: Ratio(UInt64(rng.uniform(in: 1...10)), 10))
            }
            faults.append(Fault(kind: k, atMicros: at, forMicros: window, line: 0))
        }
        return (kinds, faults)
    }

    // MARK: Running and shrinking

    /// Runs (and, when it fails, shrinks) run `index`.
    public static func run(_ base: Scenario, profile: CostProfile, seed: UInt64, index: Int,
                           shrinkBudget: Int = 150) throws(InputError) -> RunResult {
        let (kinds, drawn) = schedule(base, seed: seed, index: index)
        var s = base
        s.faults = base.faults + drawn
        let (names, first) = try failures(s, profile: profile)
        var r = RunResult(index: index, kinds: kinds, faults: drawn, failedChecks: names, firstProblem: first)
        guard let target = names.first else { return r }
        var shrinker = Shrinker(budget: shrinkBudget) { c throws(InputError) in
            try Explorer.failures(c, profile: profile).names.contains(target)
        }
        var small = try shrinker.shrink(s)
        small.name = "\(base.name)-explore-\(seed)-\(index)"
        small.description = "Found by medallion-sim explore \(base.name) --seed \(seed) (run \(index)), shrunk from "
            + "\(s.faults.count) faults to \(small.faults.count) in \(shrinker.runs) runs. Fails \(target)"
            + (first.map { " (the unshrunk run: \($0))" } ?? ".")
        small.expect = Expectations()
        small.explore = nil
        r.shrunk = small
        r.shrinkRuns = shrinker.runs
        return r
    }

    /// Shrinks a failing scenario: delta debugging (ddmin) on the fault list,
    /// then each fault's times, durations, counts and rates toward their
    /// smallest values (a binary search per parameter), then the scenario's
    /// duration. A candidate is kept when `target` still fails. Stops after
    /// `budget` runs; deterministic (no randomness, fixed order).
    public struct Shrinker {
        let budget: Int
        /// Whether a candidate still shows the failure (a run of it).
        let check: (Scenario) throws(InputError) -> Bool
        public private(set) var runs = 0

        public init(budget: Int, check: @escaping (Scenario) throws(InputError) -> Bool) {
            self.budget = budget; self.check = check
        }

        mutating func fails(_ s: Scenario) throws(InputError) -> Bool {
            guard runs < budget else { return false }
            runs += 1
            do {
                return try check(s)
            } catch {
                return false  // a candidate the traffic planner refuses is not a reproduction
            }
        }

        public mutating func shrink(_ start: Scenario) throws(InputError) -> Scenario {
            var s = start
            // 1. ddmin on the fault list.
            var faults = s.faults
            var granularity = 2
            while faults.count >= 2 {
                let chunk = (faults.count + granularity - 1) / granularity
                let parts = stride(from: 0, to: faults.count, by: chunk).map { Array(faults[$0..<min($0 + chunk, faults.count)]) }
                var reduced = false
                for (i, part) in parts.enumerated() {
                    var c = s; c.faults = part
                    if try fails(c) { faults = part; granularity = 2; reduced = true; break }
                    let complement = parts.enumerated().filter { $0.offset != i }.flatMap(\.element)
                    c.faults = complement
                    if parts.count > 2, try fails(c) { faults = complement; granularity = max(granularity - 1, 2); reduced = true; break }
                }
                if !reduced {
                    if granularity >= faults.count { break }
                    granularity = min(faults.count, granularity * 2)
                }
            }
            if faults.count == 1 || faults.isEmpty {
                var c = s; c.faults = []
                if !faults.isEmpty, try fails(c) { faults = [] }
            }
            s.faults = faults
            // 2. Parameters, fault by fault.
            for i in s.faults.indices {
                s = try minimize(s, i, \.atMicros, floor: 0, step: Time.microsPerSecond)
                if s.faults[i].forMicros > 0 {
                    s = try minimize(s, i, \.forMicros, floor: Time.microsPerSecond, step: Time.microsPerSecond)
                }
                s = try minimizeKind(s, i)
            }
            // 3. The scenario's duration: just past the last fault's end.
            let lastEnd = s.faults.map { $0.atMicros + max($0.forMicros, ScenarioRunner.defaultFaultWindowMicros) }.max() ?? 0
            let minute = Time.microsPerMinute
            let shortest = max(minute, (lastEnd + minute - 1) / minute * minute)
            if shortest < s.durationMicros {
                var c = s; c.durationMicros = shortest
                if try fails(c) { s = c }
            }
            return s
        }

        /// Binary search of one value toward `floor`, keeping it failing.
        mutating func search(_ current: Int64, floor: Int64, step: Int64,
                             _ make: (Int64) -> Scenario) throws(InputError) -> Int64 {
            var lo = floor, hi = current
            while hi - lo >= step {
                let mid = lo + (hi - lo) / 2 / step * step
                if mid >= hi { break }
                if try fails(make(mid)) { hi = mid } else { lo = mid + step }
            }
            return hi
        }

        mutating func minimize(_ s: Scenario, _ i: Int, _ key: WritableKeyPath<Fault, Micros>, floor: Micros,
                               step: Micros) throws(InputError) -> Scenario {
            let v = try search(s.faults[i][keyPath: key], floor: floor, step: step) { x in
                var c = s; c.faults[i][keyPath: key] = x; return c
            }
            var out = s; out.faults[i][keyPath: key] = v
            return out
        }

        mutating func minimizeKind(_ s: Scenario, _ i: Int) throws(InputError) -> Scenario {
            func with(_ k: Fault.Kind) -> Scenario { var c = s; c.faults[i].kind = k; return c }
            var out = s
            switch s.faults[i].kind {
            case .producerRetryDuplicates(let e, let n):
                let v = try search(Int64(n), floor: 1, step: 1) { with(.producerRetryDuplicates(exchange: e, count: Int($0))) }
                out.faults[i].kind = .producerRetryDuplicates(exchange: e, count: Int(v))
            case .exchangeResendDuplicates(let e, let n):
                let v = try search(Int64(n), floor: 1, step: 1) { with(.exchangeResendDuplicates(exchange: e, count: Int($0))) }
                out.faults[i].kind = .exchangeResendDuplicates(exchange: e, count: Int(v))
            case .lateBackfill(let e, let n, let age):
                let v = try search(Int64(n), floor: 1, step: 1) { with(.lateBackfill(exchange: e, count: Int($0), ageMicros: age)) }
                out.faults[i].kind = .lateBackfill(exchange: e, count: Int(v), ageMicros: age)
            case .malformed(let e, let reasons, let n):
                let v = try search(Int64(n), floor: 1, step: 1) { with(.malformed(exchange: e, reasons: reasons, count: Int($0))) }
                out.faults[i].kind = .malformed(exchange: e, reasons: reasons, count: Int(v))
            case .spike(let e, let m):
                let whole = Decimal8.unitsPerWhole
                let v = try search(m.units / whole, floor: 1, step: 1) { with(.spike(exchange: e, multiplier: Decimal8(units: $0 * whole))) }
                if v * whole < m.units { out.faults[i].kind = .spike(exchange: e, multiplier: Decimal8(units: v * whole)) }
            case .slowCommits(let t, let extra):
                let v = try search(extra, floor: Time.microsPerSecond, step: Time.microsPerSecond) { with(.slowCommits(table: t, extraLatencyMicros: $0)) }
                out.faults[i].kind = .slowCommits(table: t, extraLatencyMicros: v)
            case .crash(let job, let point, let after):
                let v = try search(after, floor: Time.microsPerSecond, step: Time.microsPerSecond) { with(.crash(job: job, point: point, restartAfterMicros: $0)) }
                out.faults[i].kind = .crash(job: job, point: point, restartAfterMicros: v)
            case .checkpointLost(let job, let after):
                let v = try search(after, floor: Time.microsPerSecond, step: Time.microsPerSecond) { with(.checkpointLost(job: job, restartAfterMicros: $0)) }
                out.faults[i].kind = .checkpointLost(job: job, restartAfterMicros: v)
            case .commitFailures, .outage, .clockSkew, .schemaMix:
                break
            }
            return out
        }
    }
}
