import ArgumentParser
import Checks
import Engine
import Foundation
import Kernel
import Scenarios

/// Finds a scenario: a path to a `.yaml` file, or a name in `scenarios/`.
func scenarioPath(_ nameOrPath: String, directory: String) -> String {
    if nameOrPath.hasSuffix(".yaml") || nameOrPath.contains("/") { return nameOrPath }
    return "\(directory)/\(nameOrPath).yaml"
}

/// The named scenarios, or the whole library; every file is parsed first so a
/// bad one stops the command before any work (exit 2).
func selectedScenarios(_ names: [String], _ options: ScenarioOptions) throws -> [String] {
    let paths = names.isEmpty
        ? try ScenarioParser.libraryPaths(in: options.scenarios)
        : names.map { scenarioPath($0, directory: options.scenarios) }
    for p in paths { _ = try ScenarioParser.load(path: p, overrides: options.overrides) }
    return paths
}

struct ScenarioOptions: ParsableArguments {
    @Option(name: .long, help: "Folder of scenario files (for scenarios given by name).")
    var scenarios = "scenarios"

    @Option(name: .long, help: "Folder of cost profiles (default: the profiles folder next to the scenario file; the production profile is built in).")
    var profiles: String?

    @Option(name: .customLong("set"), help: "Override a scenario key, e.g. --set jobs.silver_binance.trigger=30s (repeatable).")
    var overrides: [String] = []

    /// Where a scenario's profiles are: --profiles, else `profiles/` in the scenario's library folder.
    func profilesDirectory(forScenarioAt path: String) -> String {
        profiles ?? libraryFolder(of: path) + "/profiles"
    }

    /// The command that reproduces a run made with these options.
    func reproduceCommand(_ o: ScenarioOutcome) -> String {
        o.reproduceCommand(overrides: overrides, profilesFolder: profiles)
    }
}

/// The folder a file is in, as the path names it (`.` for a bare file name).
func folder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// The scenarios folder a scenario file belongs to: its folder, or for a
/// scenario in `long/` (runs too long for `make check`, which lists only the
/// folder's own files) the folder above, whose profiles and goldens it shares.
func libraryFolder(of path: String) -> String {
    let f = folder(of: path)
    guard f == "long" || f.hasSuffix("/long") else { return f }
    return f == "long" ? "." : folder(of: f)
}

/// The golden folder of a scenario file: `golden/` beside its scenarios folder,
/// as in this repository (`scenarios/x.yaml` and `scenarios/long/y.yaml` -> `golden`).
func goldenDirectory(forScenarioAt path: String) -> String {
    let scenarios = libraryFolder(of: path)
    return scenarios == "." ? "../golden" : folder(of: scenarios) == "." ? "golden" : folder(of: scenarios) + "/golden"
}

/// The scenarios `check` and `bless` work on, and where their golden files are.
struct GoldenScenarios: ParsableArguments {
    @Argument(help: "Scenarios (paths or names); all when none given.")
    var scenarioNames: [String] = []

    @Option(name: .long, help: "Folder of golden files (default: golden/ beside the scenario's folder).")
    var golden: String?

    func store(forScenarioAt path: String) -> GoldenStore {
        GoldenStore(root: golden ?? goldenDirectory(forScenarioAt: path))
    }
}

/// Runs one scenario and evaluates it.
func runScenario(path: String, options: ScenarioOptions, extraOverrides: [String] = [],
                 scrapeIntervalMicros: Micros = ScrapedMetrics.defaultIntervalMicros, decodeThreads: Int = 1) throws -> ScenarioOutcome {
    let scenario = try ScenarioParser.load(path: path, overrides: options.overrides + extraOverrides)
    let run = try ScenarioRunner.run(scenario, profilesDirectory: options.profilesDirectory(forScenarioAt: path),
                                     decodeThreads: decodeThreads)
    return ScenarioEvaluator.evaluate(run, scrapeIntervalMicros: scrapeIntervalMicros)
}

func printText(_ o: ScenarioOutcome, _ options: ScenarioOptions, golden: [GoldenDifference]? = nil) {
    let verdict = o.passed && (golden?.isEmpty ?? true) ? "PASS" : "FAIL"
    print("\(verdict)  \(o.scenario.name) (seed \(o.scenario.seed))")
    for c in o.checks {
        print("  \(c.passed ? "ok  " : "FAIL") \(c.name)")
        for d in c.details { print("         \(d)") }  // a passing check has details only when it failed as expected
    }
    if let golden {
        print("  \(golden.isEmpty ? "ok  " : "FAIL") golden")
        for d in golden { for line in d.description.split(separator: "\n") { print("         \(line)") } }
    }
    if let acc = o.summary["accounting"] {
        let f = { (k: String) -> String in acc[k].map { $0.compact } ?? "?" }
        print("  produced \(f("produced")) = gold \(f("gold")) + late \(f("late_dropped")) + duplicates \(f("duplicates_dropped")) + DLQ \(f("dlq")) + in flight \(f("in_flight"))"
              + (acc["lost_expired"] != nil ? " + expired \(f("lost_expired"))" : ""))
    }
    printJobTable(o.oracle.jobs)
    if !o.passed || !(golden?.isEmpty ?? true) {
        print("  reproduce: \(options.reproduceCommand(o))")
    }
}

/// The per-job table of `run`, `check` and `replay`: batches, processing-time
/// percentiles, headroom and batches behind.
func printJobTable(_ jobs: [JobName: JobFigures]) {
    // 16 wide, wider for two_queries' DLQ queries (silver_binance_dlq).
    let width = max(16, jobs.keys.map(\.rawValue.count).max() ?? 0)
    print("  " + "job".padding(toLength: width + 1, withPad: " ", startingAt: 0) + "trigger  batches  p50 ms  p99 ms  max ms  min headroom  behind")
    for (job, f) in jobs.sorted(by: { $0.key < $1.key }) {
        let sorted = f.processingMicros.sorted()
        func c(_ v: Int64?) -> String { v.map { String($0 / 1_000) } ?? "-" }
        let cols = [job.rawValue.padding(toLength: width, withPad: " ", startingAt: 0),
                    pad(DurationParser.format(f.triggerMicros), 7), pad(String(f.batches), 8),
                    pad(c(percentile(sorted, 50)), 7), pad(c(percentile(sorted, 99)), 7), pad(c(sorted.last), 7),
                    pad(f.minHeadroomAfterStartup.map(formatSeconds) ?? "-", 13), pad(String(f.behind), 7)]
        print("  " + cols.joined(separator: " "))
    }
}

/// `--out DIR` of `run` and `replay`: the run's tables (JSON Lines and SQLite), summary, metrics and progress, for review.
struct RunOutputOption: ParsableArguments {
    @Option(name: .long, help: "Write DIR/summary.json, DIR/tables/<table>.jsonl, DIR/tables.sqlite (the tables in SQL), DIR/metrics.om, the alert's promtool files and DIR/progress/<job>.jsonl (Spark progress).")
    var out: String?

    /// `tables` and `progress` are only made when there is a folder to write (every row as a string).
    func write(summary: JSONValue, tables: @autoclosure () -> [(name: String, rows: [String])],
               progress: @autoclosure () -> [(job: String, lines: [String])],
               prometheus: (String) throws -> Void, sqlite: (String) throws -> Void) throws {
        guard let out else { return }
        try RunArtifacts(summary: summary, tables: tables()).write(to: out)
        try sqlite(out)
        try prometheus(out)
        try ProgressExport.write(progress(), to: out)
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one scenario and check it (no golden comparison).",
        discussion: "SCENARIO is a path to a .yaml file or a name in the scenarios folder.")

    @Argument(help: "The scenario (path or name).")
    var scenario: String

    @Option(name: .long, help: "Override the scenario's seed.")
    var seed: UInt64?

    @Option(name: .long, help: "Threads Silver decodes large batches on (default: the machine's cores); outputs are the same for any number.")
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @OptionGroup var output: RunOutputOption
    @OptionGroup var options: ScenarioOptions
    @OptionGroup var scrape: ScrapeOption
    @OptionGroup var format: FormatOption

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64 (got \(threads)).") }
    }

    func run() throws {
        let path = scenarioPath(scenario, directory: options.scenarios)
        let outcome = try runScenario(path: path, options: options, extraOverrides: seed.map { ["seed=\($0)"] } ?? [],
                                      scrapeIntervalMicros: try scrape.micros(), decodeThreads: threads)
        try output.write(summary: outcome.summary, tables: outcome.tables, progress: outcome.progress,
                         prometheus: outcome.writePrometheusFiles(to:), sqlite: outcome.writeSQLite(to:))
        switch format.format {
        case .text: printText(outcome, options)
        case .json: print(outcome.summary.pretty, terminator: "")
        }
        if !outcome.passed {
            printError("checks failed; reproduce with: \(options.reproduceCommand(outcome))")
            throw ChecksFailed()
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenarios and compare each with its golden files (all of the scenarios folder by default).")

    @OptionGroup var selection: GoldenScenarios

    @Option(name: .long, help: "Write a JUnit XML report here (one test case per scenario and check).")
    var junit: String?

    @Option(name: .long, help: "Write each failing scenario's run to DIR/<scenario>/ for review.")
    var out: String?

    @OptionGroup var options: ScenarioOptions
    @OptionGroup var format: FormatOption

    func run() throws {
        let paths = try selectedScenarios(selection.scenarioNames, options)
        var report = JUnitReport()
        var failed: [String] = []
        var results: [JSONValue] = []
        for path in paths {
            let outcome = try runScenario(path: path, options: options)
            let name = outcome.scenario.name
            let store = selection.store(forScenarioAt: path)
            let diffs = try store.compare(outcome.goldenArtifacts, scenario: name)
            for c in outcome.checks {
                report.cases.append(.init(scenario: name, check: c.name, failure: c.passed ? nil : c.details.joined(separator: "\n")))
            }
            report.cases.append(.init(scenario: name, check: "golden",
                                      failure: diffs.isEmpty ? nil : diffs.map(\.description).joined(separator: "\n")))
            let ok = outcome.passed && diffs.isEmpty
            if !ok {
                failed.append(name)
                if let out { try RunArtifacts(summary: outcome.summary, tables: outcome.tables).write(to: "\(out)/\(name)") }
            }
            switch format.format {
            case .text: printText(outcome, options, golden: diffs)
            case .json:
                results.append(.object(["scenario": .string(name), "passed": .bool(ok),
                                        "checks": .array(outcome.checks.map(\.json)),
                                        "golden": .array(diffs.map { .string($0.description) }),
                                        "reproduce": .string(options.reproduceCommand(outcome))]))
            }
        }
        if let junit { try Data(report.xml.utf8).write(to: URL(fileURLWithPath: junit)) }
        switch format.format {
        case .text: print("\(paths.count - failed.count) passed, \(failed.count) failed")
        case .json: print(JSONValue.object(["scenarios": .array(results), "failed": .array(failed.map { .string($0) })]).pretty, terminator: "")
        }
        if !failed.isEmpty {
            printError("failing: \(failed.joined(separator: ", ")); read the diff above, then `medallion-sim bless <scenario>` if the change is intended")
            throw ChecksFailed()
        }
    }
}

struct Bless: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite golden files from fresh runs, atomically (all scenarios by default).",
        discussion: "A run whose checks fail is not blessed unless --allow-failing is given.")

    @OptionGroup var selection: GoldenScenarios

    @Flag(name: .long, help: "Bless even when the run's checks fail.")
    var allowFailing = false

    @OptionGroup var options: ScenarioOptions
    @OptionGroup var format: FormatOption

    func run() throws {
        let paths = try selectedScenarios(selection.scenarioNames, options)
        var refused: [String] = [], blessed: [String] = []
        for path in paths {
            let outcome = try runScenario(path: path, options: options)
            let store = selection.store(forScenarioAt: path)
            if !outcome.passed && !allowFailing {
                if format.format == .text { printText(outcome, options) }
                refused.append(outcome.scenario.name)
                continue
            }
            try store.bless(outcome.goldenArtifacts, scenario: outcome.scenario.name)
            blessed.append(store.directory(for: outcome.scenario.name))
            if format.format == .text { print("blessed \(store.directory(for: outcome.scenario.name))") }
        }
        if format.format == .json {
            print(JSONValue.object(["blessed": .array(blessed.map { .string($0) }),
                                    "refused": .array(refused.map { .string($0) })]).pretty, terminator: "")
        }
        if !refused.isEmpty {
            printError("not blessed (checks fail): \(refused.joined(separator: ", ")); fix them or pass --allow-failing")
            throw ChecksFailed()
        }
    }
}
