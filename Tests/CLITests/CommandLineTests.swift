import Testing
import Foundation
import TestSupport

/// End-to-end: the real `medallion-sim` binary, its exit status (docs/REFERENCE.md §8:
/// 0 checks hold, 1 a check or golden comparison failed, 2 bad input) and
/// what it prints.
@Suite struct CommandLineTests {
    static let root = Repository.root

    static func run(_ args: [String], cwd: String = Repository.root) async throws -> CLI.Output {
        try await CLI.run(args, cwd: cwd)
    }

    static func tempDir() throws -> String {
        let d = try CLI.temporaryDirectory("medallion-cli")
        try FileManager.default.createDirectory(atPath: d + "/scenarios", withIntermediateDirectories: true)
        return d
    }

    static let small = """
    name: tiny
    description: Two minutes of light traffic.
    seed: 5
    duration: 2m
    drain: 3m
    exchanges:
      binance:
        rate_multiplier: 0.02
      kraken:
        rate_multiplier: 0.2
    """

    func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    @Test func aBadScenarioNamesFileLineAndProblemAndExits2() async throws {
        let d = try Self.tempDir()
        try write(Self.small.replacingOccurrences(of: "seed: 5", with: "seed: 5\njobz: {}"), to: d + "/scenarios/tiny.yaml")
        let r = try await Self.run(["run", d + "/scenarios/tiny.yaml", "--profiles", Self.root + "/scenarios/profiles"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: \(d)/scenarios/tiny.yaml:4:1: unknown key 'jobz'; did you mean 'jobs'?\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func usageErrorsExit2() async throws {
        #expect(try await Self.run(["frobnicate"]).status == 2)
        #expect(try await Self.run(["run"]).status == 2)
        #expect(try await Self.run(["run", "baseline", "--format", "xml"]).status == 2)
        let missing = try await Self.run(["run", "/nonexistent/x.yaml"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/x.yaml: cannot open the file"))
        let help = try await Self.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: medallion-sim <subcommand>"))
    }

    @Test func runWritesTheOutFolderAndJSON() async throws {
        let d = try Self.tempDir()
        try write(Self.small, to: d + "/scenarios/tiny.yaml")
        let r = try await Self.run(["run", "scenarios/tiny.yaml", "--profiles", Self.root + "/scenarios/profiles",
                              "--out", "out", "--format", "json"], cwd: d)
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((summary?["scenario"] as? [String: Any])?["name"] as? String == "tiny")
        let tables = try FileManager.default.contentsOfDirectory(atPath: d + "/out/tables").sorted()
        #expect(tables == ["bronze_binance_trades.jsonl", "bronze_kraken_trades.jsonl", "gold_crypto_trades.jsonl",
                           "silver_binance_trades.jsonl", "silver_dlq_trades.jsonl", "silver_kraken_trades.jsonl"])
        #expect(try String(contentsOfFile: d + "/out/summary.json", encoding: .utf8) == r.stdout)
    }

    @Test func goldenWorkflowBlessCheckDiff() async throws {
        let d = try Self.tempDir()
        try write(Self.small, to: d + "/scenarios/tiny.yaml")
        let common = ["--profiles", Self.root + "/scenarios/profiles"]
        // No golden yet: a failure, never silently created.
        let first = try await Self.run(["check"] + common, cwd: d)
        #expect(first.status == 1)
        #expect(first.stdout.contains("no golden files; review the run and create them with `medallion-sim bless tiny`"))
        #expect(!FileManager.default.fileExists(atPath: d + "/golden/tiny"))
        // Bless, then check passes and writes JUnit.
        #expect(try await Self.run(["bless"] + common, cwd: d).status == 0)
        let ok = try await Self.run(["check", "--junit", "junit.xml"] + common, cwd: d)
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.hasSuffix("1 passed, 0 failed\n"))
        let junit = try String(contentsOfFile: d + "/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<testcase classname="tiny" name="golden"/>"#))
        #expect(junit.contains(#"<testcase classname="tiny" name="gold_exactly_once"/>"#))
        // Another seed changes the run: the diff names the figure and the rows, and the seed to reproduce.
        let changed = try await Self.run(["check", "--set", "seed=6", "--junit", "junit.xml"] + common, cwd: d)
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("golden/tiny/summary.json:"))
        #expect(changed.stdout.contains("golden accounting.produced: \"produced\": 235,\n           run    accounting.produced: \"produced\": 279,"))
        #expect(changed.stdout.contains("golden/tiny/tables/bronze_binance_trades.jsonl.zst:"))
        #expect(changed.stdout.contains("reproduce: medallion-sim run scenarios/tiny.yaml --seed 6"))
        #expect(try String(contentsOfFile: d + "/junit.xml", encoding: .utf8).contains(#"name="golden">"#))
    }
}

/// A newcomer's first commands: a scenario named by path works from any
/// working directory, its profiles found beside it (the production profile is
/// built in), and a failure prints the one command that reproduces it.
@Suite struct FromAnyDirectoryTests {
    static let tiny = CommandLineTests.small

    /// A project folder as a user would lay it out: scenarios/ with a profiles/
    /// folder beside the files (one scenario uses a profile from it, one the
    /// built-in production profile), and no golden/ yet.
    static func project() throws -> String {
        let d = try CLI.temporaryDirectory("medallion-project")
        try FileManager.default.createDirectory(atPath: d + "/scenarios/profiles", withIntermediateDirectories: true)
        try tiny.write(toFile: d + "/scenarios/tiny.yaml", atomically: true, encoding: .utf8)
        try tiny.replacingOccurrences(of: "name: tiny", with: "name: tuned\nprofile: tuned")
            .write(toFile: d + "/scenarios/tuned.yaml", atomically: true, encoding: .utf8)
        let production = try String(contentsOfFile: Repository.path("scenarios/profiles/production.yaml"), encoding: .utf8)
        try production.replacingOccurrences(of: "name: production", with: "name: tuned")
            .write(toFile: d + "/scenarios/profiles/tuned.yaml", atomically: true, encoding: .utf8)
        return d
    }

    @Test func everyCommandWorksFromAnyWorkingDirectory() async throws {
        let project = try Self.project(), elsewhere = try CLI.temporaryDirectory("medallion-elsewhere")
        defer { for d in [project, elsewhere] { try? FileManager.default.removeItem(atPath: d) } }
        func sim(_ args: [String]) async throws -> CLI.Output { try await CLI.run(args, cwd: elsewhere) }

        // The repository's own scenario, by absolute path, from a folder with nothing in it.
        let repo = try await sim(["run", Repository.path("scenarios/baseline.yaml"), "--set", "duration=3m"])
        #expect(repo.status != 2 && repo.stdout.contains("baseline (seed 1001)"), "\(repo.stderr)")

        let tuned = try await sim(["run", project + "/scenarios/tuned.yaml", "--format", "json"])
        #expect(tuned.status == 0, "the profile beside the scenario: \(tuned.stderr)")
        #expect(tuned.stdout.contains("\"profile\": \"tuned\""))
        let builtIn = try await sim(["run", project + "/scenarios/tiny.yaml"])
        #expect(builtIn.status == 0, "the built-in production profile: \(builtIn.stderr)")

        let bless = try await sim(["bless", project + "/scenarios/tiny.yaml"])
        #expect(bless.status == 0 && bless.stdout == "blessed \(project)/golden/tiny\n", "\(bless.stdout) \(bless.stderr)")
        let check = try await sim(["check", project + "/scenarios/tiny.yaml"])
        #expect(check.status == 0 && check.stdout.hasSuffix("1 passed, 0 failed\n"), "\(check.stdout) \(check.stderr)")

        let whatif = try await sim(["whatif", project + "/scenarios/tuned.yaml", "--sweep", "jobs.silver_binance.trigger=30s,60s"])
        #expect(whatif.status == 0 && whatif.stdout.hasPrefix("# What-if: tuned\n"), "\(whatif.stderr)")

        let record = try await sim(["record", project + "/scenarios/tiny.yaml", "--capture", "tiny.jsonl"])
        #expect(record.status == 0 && FileManager.default.fileExists(atPath: elsewhere + "/tiny.jsonl"), "\(record.stderr)")
        let replay = try await sim(["replay", "tiny.jsonl", "--set", "seed=5"])
        #expect(replay.status == 0 && replay.stdout.hasPrefix("PASS  replay of tiny.jsonl"), "\(replay.stderr)")
    }

    @Test func theReproduceCommandReproducesTheFailure() async throws {
        let project = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        // Profiles from a folder that is not beside the scenario, and overrides
        // that decide the verdict: dropping either would reproduce another run.
        try FileManager.default.moveItem(atPath: project + "/scenarios/profiles", toPath: project + "/my profiles")
        let args = ["run", "scenarios/tuned.yaml", "--profiles", "my profiles", "--set", "exchanges.binance.rate_multiplier=0.03",
                    "--set", "expect.min_late_dropped=1", "--seed", "9"]
        let failed = try await CLI.run(args, cwd: project)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stdout.contains("FAIL expect.min_late_dropped"))
        let prefix = "checks failed; reproduce with: "
        let line = try #require(failed.stderr.split(separator: "\n").first { $0.hasPrefix(prefix) })
        let command = String(line.dropFirst(prefix.count))
        #expect(command == "medallion-sim run scenarios/tuned.yaml --seed 9 --set exchanges.binance.rate_multiplier=0.03 --set expect.min_late_dropped=1 --profiles 'my profiles'")
        let again = try await CLI.shell(command, cwd: project)
        #expect(again.status == 1, "\(again.stderr)")
        #expect(again.stdout == failed.stdout, "the same run, byte for byte")
        #expect(again.stderr == failed.stderr)
        // Without its overrides the same file passes: they are what the command must carry.
        let plain = try await CLI.run(["run", "scenarios/tuned.yaml", "--profiles", "my profiles", "--seed", "9"], cwd: project)
        #expect(plain.status == 0, "\(plain.stdout)")
    }

    /// A what-if point whose checks fail names the command that reproduces it:
    /// the run's overrides, the point's, and the profiles folder (without it
    /// the `tuned` profile is not found).
    @Test func whatIfReproduceCommandCarriesTheProfilesFolder() async throws {
        let project = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try FileManager.default.moveItem(atPath: project + "/scenarios/profiles", toPath: project + "/my profiles")
        // The library's foreachBatch regression without its `expect:` (so its oracle failures fail the run).
        let regression = try String(contentsOfFile: Repository.path("scenarios/silver-foreach-batch-duplicates.yaml"), encoding: .utf8)
        let cut = try #require(regression.range(of: "expect:")).lowerBound
        let text = String(regression[..<cut]) + "profile: tuned\n"
        try text.replacingOccurrences(of: "name: silver-foreach-batch-duplicates", with: "name: dup")
            .write(toFile: project + "/scenarios/dup.yaml", atomically: true, encoding: .utf8)
        let failed = try await CLI.run(["whatif", "scenarios/dup.yaml", "--profiles", "my profiles", "--set", "drain=9m",
                                        "--sweep", "exchanges.binance.rate_multiplier=0.05"], cwd: project)
        #expect(failed.status == 1, "\(failed.stdout) \(failed.stderr)")
        let line = try #require(failed.stdout.split(separator: "\n").first { $0.hasPrefix("    medallion-sim run ") })
        let command = line.trimmingCharacters(in: .whitespaces)
        #expect(command == "medallion-sim run scenarios/dup.yaml --set drain=9m --set exchanges.binance.rate_multiplier=0.05 --profiles 'my profiles'")
        let again = try await CLI.shell(command, cwd: project)
        #expect(again.status == 1 && again.stdout.contains("FAIL silver_dlq_exactly_once"), "\(again.stdout) \(again.stderr)")
    }
}
