import Checks
import Codec
import Engine
import Exchanges
import Foundation
import Kernel
import Scenarios

/// Runs the points of a sweep on worker threads.
///
/// Why this is safe and deterministic: each point builds its own traffic,
/// broker, registry and pipeline from its own `Scenario` (a value) and the
/// shared, immutable `CostProfile`s; nothing mutable is shared between
/// points except the codec's process-wide libavro set-up (initialised once,
/// thread-safely) and its allocator guard (per thread). Workers take the next
/// point index from a locked counter and store each result **by index**, so
/// the output never depends on which worker finished first.
public enum WhatIfRunner {
    /// At most this many worker threads, whatever is asked.
    public static let maxWorkers = ParallelRuns.maxWorkers

    /// The number of cores, the default worker count.
    public static var defaultWorkers: Int { ParallelRuns.defaultWorkers }

    /// Runs one point, start to finish, on the calling thread.
    public static func runPoint(_ plan: WhatIfPlan, index: Int) throws(InputError) -> PointResult {
        let s = plan.scenarios[index]
        guard let profile = plan.profiles[s.profile] else {
            throw InputError(file: s.file, line: 0, problem: "profile '\(s.profile)' was not loaded")
        }
        let run = try ScenarioRunner.run(s, profile: profile)
        let oracle = Oracle.check(OracleInput(
            cluster: run.traffic.cluster, registry: run.traffic.registry, groundTruth: run.traffic.groundTruth,
            pipeline: run.pipeline, feedStartMicros: s.startMicros, feedEndMicros: s.startMicros + s.durationMicros))
        return PointResult(index: index, overrides: plan.points[index].overrides, run: run, oracle: oracle)
    }

    /// Runs the given points (indices into `plan.points`) on `workers`
    /// threads and returns their results in the order of `indices`.
    /// `progress(done, total)` is called after each point, serialised.
    /// If points fail, the error of the first failing one in `indices` is thrown.
    public static func run(_ plan: WhatIfPlan, indices: [Int], workers: Int,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws(InputError) -> [PointResult] {
        // Start the biggest points first, so no worker is left alone with a
        // big one at the end. Only the order of work changes: results are
        // still stored and returned by position.
        let order = indices.indices.sorted {
            let a = estimatedCost(plan.scenarios[indices[$0]]), b = estimatedCost(plan.scenarios[indices[$1]])
            return a != b ? a > b : $0 < $1
        }
        return try ParallelRuns.map(
            count: indices.count, workers: workers, order: order, progress: progress,
            missing: InputError(file: plan.definition.scenarioFile, line: 0, problem: "a point did not run")
        ) { k throws(InputError) in try runPoint(plan, index: indices[k]) }
    }

    /// A point's size for scheduling only (never reported): the messages its
    /// feeds produce, roughly, plus its virtual time (batches cost too).
    static func estimatedCost(_ s: Scenario) -> Double {
        var messagesPerSecond = 0.0
        for e in ExchangeName.allCases {
            let c = ScenarioRunner.feedConfig(e, s.exchanges[e])
            messagesPerSecond += c.baseRatePerSecond * c.rateMultiplier
        }
        let seconds = Double(s.durationMicros / Time.microsPerSecond)
        return seconds * messagesPerSecond + Double((s.durationMicros + s.drainMicros) / Time.microsPerSecond)
    }
}
