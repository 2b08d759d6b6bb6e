import ArgumentParser
import Foundation
import Kernel
import Planning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `medallion-sim bench whatif`: the parallel speed-up of a 16-point sweep,
/// 1 worker against 2. Wall-clock time is read here only.
struct BenchWhatIf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Run a 16-point what-if sweep on 1 and on 2 workers and report both wall times and their ratio (use a release build).",
        discussion: "The sweep: jobs.silver_binance.trigger=30s,45s,60s,90s x exchanges.binance.rate_multiplier=0.5,1,1.5,2 over the scenario. Target ratio <= 0.60.")

    @OptionGroup var output: FormatOption

    @Option(help: "The scenario to sweep.")
    var scenario = "scenarios/incident-013-silver-binance-30s.yaml"

    @Option(help: "Override the scenario's duration (shorter runs measure faster).")
    var duration = "10m"

    @Option(help: "Folder of cost profiles.")
    var profiles = "scenarios/profiles"

    static let sweeps = ["jobs.silver_binance.trigger=30s,45s,60s,90s", "exchanges.binance.rate_multiplier=0.5,1,1.5,2"]

    func run() throws {
        let plan = try WhatIfPlan.make(scenarioPath: scenario, overrides: ["duration=\(duration)"],
                                       sweeps: try Self.sweeps.map { s throws(InputError) in try Sweep.parse(s) },
                                       profilesDirectory: profiles)
        let all = plan.points.map(\.index)
        let clock = ContinuousClock()
        // CPU seconds of the whole process (all threads): cpu / wall near the
        // worker count means the workers really ran at once; much less means
        // the cores were busy with something else and the ratio says little.
        func cpuSeconds() -> Double {
            var u = rusage()
            #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &u)  // Glibc imports the constant as an enum
            #else
            getrusage(RUSAGE_SELF, &u)
            #endif
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
        }
        func timed(_ workers: Int) throws -> (wall: Double, cpu: Double, results: String) {
            let cpu0 = cpuSeconds()
            let began = clock.now
            let points = try WhatIfRunner.run(plan, indices: all, workers: workers)
            let elapsed = clock.now - began
            let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return (s, cpuSeconds() - cpu0, WhatIfResults(definition: plan.definition, shard: .whole, points: points).json.compact)
        }
        let (one, cpu1, r1) = try timed(1)
        let (two, cpu2, r2) = try timed(2)
        let ratio = two / max(one, 1e-9)
        let identical = r1 == r2
        switch output.format {
        case .text:
            print("whatif: \(plan.points.count) points of \(scenario) (duration \(duration)), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            print("1 worker:  \(fixedDecimals(one, 2)) s wall, \(fixedDecimals(cpu1, 2)) s CPU (\(fixedDecimals(cpu1 / max(one, 1e-9), 2)) cores busy)")
            print("2 workers: \(fixedDecimals(two, 2)) s wall, \(fixedDecimals(cpu2, 2)) s CPU (\(fixedDecimals(cpu2 / max(two, 1e-9), 2)) cores busy)")
            print("ratio 2/1: \(fixedDecimals(ratio, 3)) (target <= 0.600)\(ratio <= 0.6 ? "" : "  NOT MET")")
            print("results byte-identical: \(identical ? "yes" : "NO")")
        case .json:
            print(JSONValue.object([
                "bench": .string("whatif"), "points": .int(plan.points.count), "scenario": .string(scenario),
                "duration": .string(duration), "cores": .int(ProcessInfo.processInfo.activeProcessorCount),
                "seconds_1_worker": .number(fixedDecimals(one, 3)), "seconds_2_workers": .number(fixedDecimals(two, 3)),
                "cpu_seconds_1_worker": .number(fixedDecimals(cpu1, 3)), "cpu_seconds_2_workers": .number(fixedDecimals(cpu2, 3)),
                "ratio": .number(fixedDecimals(ratio, 3)), "target_ratio": .number("0.600"),
                "results_identical": .bool(identical),
            ]).compact)
        }
        if !identical {
            printError("the 1-worker and 2-worker results differ: the sweep is not deterministic")
            throw ChecksFailed()
        }
    }
}
