import ArgumentParser
import Engine
import Foundation
import Kernel
import Planning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output formats of `whatif` and `whatif-merge`. `text` is GitHub
/// markdown already; `markdown` is the same bytes, for those who ask by name.
enum WhatIfFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, markdown, json
}

/// `medallion-sim whatif SCENARIO --sweep KEY=V1,V2 ...` (docs/WHATIF.md).
struct WhatIf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Sweep scenario keys (the cartesian product, in parallel) and report capacity, verdicts and recommendations.",
        discussion: """
        Points are numbered in nested-loop order: the first --sweep varies slowest, the last fastest.
        Shards: --shard I/N runs the points with index % N == I; without it, Bazel's TEST_SHARD_INDEX/TEST_TOTAL_SHARDS \
        or a Kubernetes indexed job's JOB_COMPLETION_INDEX (with --shards N or MEDALLION_SIM_SHARDS) choose the shard. \
        A shard writes its results to --output-dir (default: $TEST_UNDECLARED_OUTPUTS_DIR, else .); merge them with whatif-merge.
        Exit status: 0 done (whatever the verdicts), 1 a point's correctness checks failed, 2 bad input.
        """)

    @Argument(help: "The scenario (path or name).")
    var scenario: String

    @Option(name: .customLong("sweep"), help: "KEY=V1,V2,...: a scenario key (as --set takes) and the values to try (repeatable).")
    var sweeps: [String] = []

    @Option(help: "Worker threads (default: the number of cores).")
    var workers: Int?

    @Option(name: .customLong("headroom"), help: "Headroom verdicts hold jobs to: DURATION (jobs whose trigger is swept; if none, jobs whose trigger exceeds it) or JOB=DURATION (repeatable). Default 20s.")
    var headroom: [String] = []

    @Option(help: "The job the charts and the grid show (default: the first job whose trigger is swept, else silver_binance).")
    var chartJob: String?

    @Option(help: "Write this run's results (JSON, the input of whatif-merge) to DIR/whatif-shard-I-of-N.json.")
    var outputDir: String?

    @OptionGroup var sharding: ShardOptions
    @OptionGroup var report: WhatIfReportOptions
    @OptionGroup var options: ScenarioOptions

    func validate() throws {
        if let workers, workers < 1 || workers > WhatIfRunner.maxWorkers {
            throw ValidationError("--workers must be between 1 and \(WhatIfRunner.maxWorkers)")
        }
        if let chartJob, JobName(rawValue: chartJob).map(\.isDlqQuery) ?? true {
            throw ValidationError("--chart-job: unknown job '\(chartJob)' (jobs: \(JobName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    func run() throws {
        let selection = try sharding.selection()
        let path = scenarioPath(scenario, directory: options.scenarios)
        let plan = try WhatIfPlan.make(
            scenarioPath: path, overrides: options.overrides,
            sweeps: try sweeps.map { s throws(InputError) in try Sweep.parse(s) },
            headroom: try HeadroomOption.parse(headroom), chartJob: chartJob.flatMap(JobName.init(rawValue:)),
            profilesDirectory: options.profilesDirectory(forScenarioAt: path), profilesFolderOption: options.profiles)
        let indices = plan.points.map(\.index).filter(selection.contains)
        let points = try WhatIfRunner.run(plan, indices: indices, workers: workers ?? WhatIfRunner.defaultWorkers,
                                          progress: ProgressBar.reporter(command: "whatif", selection))
        let results = WhatIfResults(definition: plan.definition, shard: selection, points: points)
        let env = ProcessInfo.processInfo.environment
        let dir = outputDir ?? (selection.count > 1 ? env["TEST_UNDECLARED_OUTPUTS_DIR"] ?? "." : nil)
        if let dir {
            let path = try results.write(into: dir)
            if selection.count > 1 {
                printError("\(selection.source): \(points.count) of \(plan.points.count) points; results in \(path) (merge with: medallion-sim whatif-merge \(dir)/whatif-shard-*-of-\(selection.count).json)")
            }
        }
        try report.emit(WhatIfReport(results))
    }
}

/// `medallion-sim whatif-merge FILE...`: shard results -> one report.
struct WhatIfMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif-merge",
        abstract: "Merge what-if shard results into one report, byte-identical to the unsharded run's.",
        discussion: "Refuses (exit 2) results of different sweeps, duplicate points and missing points.")

    @Argument(help: "Result files written by `whatif --output-dir` (one per shard).")
    var files: [String]

    @Option(help: "Also write the merged results to DIR/whatif-shard-0-of-1.json (as an unsharded run would).")
    var outputDir: String?

    @OptionGroup var report: WhatIfReportOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give the shards' result files, e.g. results/whatif-shard-*.json") }
    }

    func run() throws {
        var parts: [(file: String, results: WhatIfResults)] = []
        for f in files { parts.append((f, try WhatIfResults.read(path: f))) }
        let merged = try WhatIfResults.merge(parts)
        if let outputDir { _ = try merged.write(into: outputDir) }
        try report.emit(WhatIfReport(merged))
    }
}

extension WhatIfResults {
    /// Writes the results to DIR/<fileName> (creating DIR); returns the file's path.
    func write(into dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = "\(dir)/\(fileName)"
        try writeFileAtomically(path, json.pretty)
        return path
    }
}

/// How `whatif` and `whatif-merge` show their report.
struct WhatIfReportOptions: ParsableArguments {
    @Option(help: "Write a self-contained HTML report with charts to FILE.")
    var html: String?

    @Option(help: "Output format: text (GitHub markdown), markdown (the same) or json.")
    var format: WhatIfFormat = .text

    /// Prints the report, writes the HTML, and exits 1 when a point's checks failed.
    func emit(_ report: WhatIfReport) throws {
        if let html { try writeFileAtomically(html, report.html) }
        switch format {
        case .text, .markdown: print(report.text, terminator: "")
        case .json: print(report.json.pretty, terminator: "")
        }
        let failing = report.pointsWithFailedChecks
        if !failing.isEmpty {
            printError("correctness checks failed at points \(failing.map(String.init).joined(separator: ", ")); each point's reproduce command is in the report")
            throw ChecksFailed()
        }
    }
}

/// Writes a whole file through a temporary name, so a reader never sees half of it.
func writeFileAtomically(_ path: String, _ text: String) throws {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw InputError(file: path, line: 0, problem: "cannot write the file (\(error.localizedDescription))")
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal (CI
/// logs stay clean). Counts points, not wall time.
final class ProgressBar: Sendable {
    let label: String
    let unit: String

    /// The progress callback of a sharded command's runner: nil when stderr is not a terminal.
    static func reporter(command: String, unit: String = "points", _ selection: ShardSelection) -> (@Sendable (Int, Int) -> Void)? {
        let label = selection.count > 1 ? "shard \(selection.index)/\(selection.count)" : command
        guard let bar = ProgressBar(label: label, unit: unit) else { return nil }
        return { done, total in bar.update(done, total) }
    }

    /// nil when stderr is not a terminal.
    init?(label: String, unit: String = "points") {
        guard isatty(2) == 1 else { return nil }
        self.label = label
        self.unit = unit
    }

    /// Called serialised by the runner, after each point.
    func update(_ done: Int, _ total: Int) {
        let width = 30
        let filled = total == 0 ? width : done * width / total
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        line += "] \(done)/\(total) \(unit)"
        if done == total { line += "\n" }
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
