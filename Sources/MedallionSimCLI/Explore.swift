import ArgumentParser
import Engine
import Foundation
import Kernel
import Planning
import Scenarios

/// `medallion-sim explore SCENARIO`: random fault schedules, shrunk failures.
struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Run random fault schedules on a scenario (swarm testing) and shrink every failing run to a minimal scenario file.",
        discussion: """
        Each run draws its faults from the scenario's `explore:` section (defaults for every fault kind) with the stream \
        explore.run.<i> of --seed, so the same seed gives the same runs, in any order, on any shard. A run fails when an \
        oracle check fails; it is then shrunk (delta debugging on the faults, then times, durations, counts and rates) and \
        written to DIR/<scenario>-explore-<seed>-<run>.yaml, which `medallion-sim run FILE` reproduces. \
        Shards: --shard I/N runs the runs with index % N == I (or TEST_SHARD_INDEX/TEST_TOTAL_SHARDS, JOB_COMPLETION_INDEX).
        Exit status: 0 no run failed, 1 a run failed, 2 bad input.
        """)

    @Argument(help: "The scenario (path or name).")
    var scenario: String

    @Option(help: "Number of runs (all shards together).")
    var runs: Int = 100

    @Option(help: "Seed of the fault schedules (default: the scenario's seed).")
    var seed: UInt64?

    @Option(help: "Worker threads (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Folder for the shrunk scenario files of failing runs.")
    var out: String = "explore-failures"

    @Option(help: "Most runs spent shrinking one failure.")
    var shrinkBudget: Int = 150

    @OptionGroup var sharding: ShardOptions
    @OptionGroup var format: FormatOption
    @OptionGroup var options: ScenarioOptions

    func validate() throws {
        if runs < 1 || runs > 10_000_000 { throw ValidationError("--runs must be between 1 and 10000000") }
        if let jobs, jobs < 1 || jobs > ParallelRuns.maxWorkers {
            throw ValidationError("--jobs must be between 1 and \(ParallelRuns.maxWorkers)")
        }
        if shrinkBudget < 0 || shrinkBudget > 100_000 { throw ValidationError("--shrink-budget must be between 0 and 100000") }
    }

    func run() throws {
        let selection = try sharding.selection()
        let path = scenarioPath(scenario, directory: options.scenarios)
        let base = try ScenarioParser.load(path: path, overrides: options.overrides)
        let profile = try ProfileLoader.load(name: base.profile, directory: options.profilesDirectory(forScenarioAt: path))
        let seed = self.seed ?? base.seed
        let indices = (0..<runs).filter(selection.contains)
        let workers = jobs ?? ParallelRuns.defaultWorkers
        let progress = ProgressBar.reporter(command: "explore", unit: "runs", selection)
        let budget = shrinkBudget
        let started = DispatchTime.now().uptimeNanoseconds
        let results = try ParallelRuns.map(
            count: indices.count, workers: workers, progress: progress,
            missing: InputError(file: path, line: 0, problem: "a run did not run")
        ) { k throws(InputError) in
            try Explorer.run(base, profile: profile, seed: seed, index: indices[k], shrinkBudget: budget)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var files: [Int: String] = [:]
        for r in results {
            guard let small = r.shrunk else { continue }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let file = "\(out)/\(small.name).yaml"
            try writeFileAtomically(file, ScenarioWriter.yaml(small))
            files[r.index] = file
        }
        let failed = results.filter(\.failed)
        switch format.format {
        case .text:
            print("explore \(base.name): \(indices.count) runs (seed \(seed), \(selection.source)), \(failed.count) failed")
            for r in failed {
                print("run \(r.index): FAIL \(r.failedChecks.joined(separator: ", "))" + (r.firstProblem.map { ": \($0)" } ?? ""))
                print("  kinds switched on: \(r.kinds.joined(separator: ", "))")
                for f in r.faults { print("  fault: \(oneLine(f))") }
                if let small = r.shrunk, let file = files[r.index] {
                    print("  shrunk in \(r.shrinkRuns) runs to \(small.faults.count) fault(s), duration \(DurationParser.format(small.durationMicros)): \(file)")
                    for f in small.faults { print("    \(oneLine(f))") }
                    print("  reproduce: medallion-sim run \(file)")
                }
            }
        case .json:
            let v = JSONValue.object([
                "scenario": .string(base.name), "seed": .int(Int64(bitPattern: seed)), "runs": .int(indices.count),
                "shard": .object(["index": .int(selection.index), "count": .int(selection.count)]),
                "failed": .array(failed.map { json($0, file: files[$0.index]) }),
            ])
            print(v.pretty)
        }
        printError(String(format: "%d runs in %.1f s on %d workers: %.0f runs per minute", indices.count, seconds,
                          min(workers, max(1, indices.count)), seconds > 0 ? Double(indices.count) * 60 / seconds : 0))
        if !failed.isEmpty { throw ChecksFailed() }
    }

    func json(_ r: Explorer.RunResult, file: String?) -> JSONValue {
        let checks: [JSONValue] = r.failedChecks.map { .string($0) }
        let kinds: [JSONValue] = r.kinds.map { .string($0) }
        let faults: [JSONValue] = r.faults.map { .string(oneLine($0)) }
        let shrunk: [JSONValue] = (r.shrunk?.faults ?? []).map { .string(oneLine($0)) }
        return .object([
            "run": .int(r.index), "checks": .array(checks), "problem": .optional(r.firstProblem),
            "kinds": .array(kinds), "faults": .array(faults), "shrunk_file": .optional(file),
            "shrink_runs": .int(r.shrinkRuns), "shrunk_faults": .array(shrunk),
        ])
    }

    func oneLine(_ f: Fault) -> String {
        ScenarioWriter.fault(f).split(separator: "\n").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " -")) }
            .joined(separator: ", ")
    }
}
