import TestSupport
import Engine
import Kernel
@testable import Planning

/// Paths found from this file, so the tests run from any working directory.
enum Paths {
    static let tests = Repository.path("Tests/PlanningTests")
    static let root = Repository.root
    static let scenario = "\(tests)/Fixtures/whatif-small.yaml"
    static let profiles = "\(root)/scenarios/profiles"
}

/// The small sweep every test shares: 2 triggers x 2 traffic levels.
enum Fixture {
    static let sweeps = ["jobs.silver_binance.trigger=30s,60s", "exchanges.binance.rate_multiplier=0.05,0.1"]

    static func plan(sweeps: [String] = sweeps, overrides: [String] = [], headroom: [String] = []) throws -> WhatIfPlan {
        try WhatIfPlan.make(scenarioPath: Paths.scenario, overrides: overrides,
                            sweeps: sweeps.map { try Sweep.parse($0) }, headroom: try HeadroomOption.parse(headroom),
                            profilesDirectory: Paths.profiles)
    }

    /// Computed once (a global is initialised once, thread-safely), on 1 worker.
    static let whole: Result<(plan: WhatIfPlan, results: WhatIfResults), InputError> = Result { () throws(InputError) in
        let p: WhatIfPlan
        do { p = try plan() } catch let e as InputError { throw e } catch { fatalError("\(error)") }
        let points = try WhatIfRunner.run(p, indices: p.points.map(\.index), workers: 1)
        return (p, WhatIfResults(definition: p.definition, shard: .whole, points: points))
    }

    static func get() throws -> (plan: WhatIfPlan, results: WhatIfResults) { try whole.get() }

    /// Runs one shard as the command does and returns its file's text.
    static func shardText(_ plan: WhatIfPlan, index: Int, count: Int, workers: Int = 1) throws -> String {
        let s = ShardSelection(index: index, count: count, source: "test")
        let points = try WhatIfRunner.run(plan, indices: plan.points.map(\.index).filter(s.contains), workers: workers)
        return WhatIfResults(definition: plan.definition, shard: s, points: points).json.pretty
    }
}
