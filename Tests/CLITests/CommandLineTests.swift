import Testing
import Foundation

/// End-to-end: the real `medallion-sim` binary, its exit status (SPEC §8:
/// 0 checks hold, 1 a check or golden comparison failed, 2 bad input) and
/// what it prints.
@Suite struct CommandLineTests {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static var binary: String {
        let candidates = [Bundle.main.bundleURL.appendingPathComponent("medallion-sim").path,
                          root + "/.build/debug/medallion-sim"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    struct Result { var status: Int32; var out: String; var err: String }

    static func run(_ args: [String], cwd: String = root) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "medallion-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
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

    @Test func aBadScenarioNamesFileLineAndProblemAndExits2() throws {
        let d = try Self.tempDir()
        try write(Self.small.replacingOccurrences(of: "seed: 5", with: "seed: 5\njobz: {}"), to: d + "/scenarios/tiny.yaml")
        let r = try Self.run(["run", d + "/scenarios/tiny.yaml", "--profiles", Self.root + "/scenarios/profiles"])
        #expect(r.status == 2)
        #expect(r.err == "error: \(d)/scenarios/tiny.yaml:4:1: unknown key 'jobz'; did you mean 'jobs'?\n")
        #expect(r.out.isEmpty)
    }

    @Test func usageErrorsExit2() throws {
        #expect(try Self.run(["frobnicate"]).status == 2)
        #expect(try Self.run(["run"]).status == 2)
        #expect(try Self.run(["run", "baseline", "--format", "xml"]).status == 2)
        let missing = try Self.run(["run", "/nonexistent/x.yaml"])
        #expect(missing.status == 2 && missing.err.contains("/nonexistent/x.yaml: cannot open the file"))
        let help = try Self.run(["--help"])
        #expect(help.status == 0 && help.out.contains("USAGE: medallion-sim <subcommand>"))
    }

    @Test func runWritesTheOutFolderAndJSON() throws {
        let d = try Self.tempDir()
        try write(Self.small, to: d + "/scenarios/tiny.yaml")
        let r = try Self.run(["run", "scenarios/tiny.yaml", "--profiles", Self.root + "/scenarios/profiles",
                              "--out", "out", "--format", "json"], cwd: d)
        #expect(r.status == 0, "\(r.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect((summary?["scenario"] as? [String: Any])?["name"] as? String == "tiny")
        let tables = try FileManager.default.contentsOfDirectory(atPath: d + "/out/tables").sorted()
        #expect(tables == ["bronze_binance_trades.jsonl", "bronze_kraken_trades.jsonl", "gold_crypto_trades.jsonl",
                           "silver_binance_trades.jsonl", "silver_dlq_trades.jsonl", "silver_kraken_trades.jsonl"])
        #expect(try String(contentsOfFile: d + "/out/summary.json", encoding: .utf8) == r.out)
    }

    @Test func goldenWorkflowBlessCheckDiff() throws {
        let d = try Self.tempDir()
        try write(Self.small, to: d + "/scenarios/tiny.yaml")
        let common = ["--profiles", Self.root + "/scenarios/profiles"]
        // No golden yet: a failure, never silently created.
        let first = try Self.run(["check"] + common, cwd: d)
        #expect(first.status == 1)
        #expect(first.out.contains("no golden files; review the run and create them with `medallion-sim bless tiny`"))
        #expect(!FileManager.default.fileExists(atPath: d + "/golden/tiny"))
        // Bless, then check passes and writes JUnit.
        #expect(try Self.run(["bless"] + common, cwd: d).status == 0)
        let ok = try Self.run(["check", "--junit", "junit.xml"] + common, cwd: d)
        #expect(ok.status == 0, "\(ok.out)")
        #expect(ok.out.hasSuffix("1 passed, 0 failed\n"))
        let junit = try String(contentsOfFile: d + "/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<testcase classname="tiny" name="golden"/>"#))
        #expect(junit.contains(#"<testcase classname="tiny" name="gold_exactly_once"/>"#))
        // Another seed changes the run: the diff names the figure and the rows, and the seed to reproduce.
        let changed = try Self.run(["check", "--set", "seed=6", "--junit", "junit.xml"] + common, cwd: d)
        #expect(changed.status == 1)
        #expect(changed.out.contains("golden/tiny/summary.json:"))
        #expect(changed.out.contains("golden accounting.produced: \"produced\": 235,\n           run    accounting.produced: \"produced\": 279,"))
        #expect(changed.out.contains("golden/tiny/tables/bronze_binance_trades.jsonl.zst:"))
        #expect(changed.out.contains("reproduce: medallion-sim run scenarios/tiny.yaml --seed 6"))
        #expect(try String(contentsOfFile: d + "/junit.xml", encoding: .utf8).contains(#"name="golden">"#))
    }
}
