import Foundation
import Testing

/// End-to-end: the real `medallion-sim` binary, its exact output and exit status.
enum CLI {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// The binary SwiftPM built next to the test bundle.
    static let binary: String = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for candidate in ["\(dir)/medallion-sim", "\(root)/.build/debug/medallion-sim"]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return "\(root)/.build/debug/medallion-sim"
    }()

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ args: [String], environment extra: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        var env = ProcessInfo.processInfo.environment
        for k in ["JOB_COMPLETION_INDEX", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE",
                  "MEDALLION_SIM_SHARDS", "TEST_UNDECLARED_OUTPUTS_DIR"] { env[k] = nil }
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        // Read both pipes before waiting: a full pipe would block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("whatif-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static let sweep = ["whatif", "Tests/PlanningTests/Fixtures/whatif-small.yaml",
                        "--sweep", "jobs.silver_binance.trigger=30s,60s",
                        "--sweep", "exchanges.binance.rate_multiplier=0.05,0.1"]
}

@Suite(.serialized) struct WhatIfCommandTests {
    @Test func shardsFromOptionAndEnvironmentMergeToTheUnshardedReport() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = try CLI.run(CLI.sweep + ["--workers", "2", "--html", "\(dir)/whole.html", "--output-dir", "\(dir)/whole"])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stderr.isEmpty, "no progress bar when stderr is not a terminal: \(whole.stderr)")
        #expect(whole.stdout.hasPrefix("# What-if: whatif-small\n"))

        // Shard 0 by option, shard 1 as a Kubernetes indexed job.
        let s0 = try CLI.run(CLI.sweep + ["--shard", "0/2", "--output-dir", "\(dir)/shards"])
        #expect(s0.status == 0, "\(s0.stderr)")
        let s1 = try CLI.run(CLI.sweep + ["--output-dir", "\(dir)/shards"],
                             environment: ["JOB_COMPLETION_INDEX": "1", "MEDALLION_SIM_SHARDS": "2"])
        #expect(s1.status == 0, "\(s1.stderr)")
        #expect(s1.stderr.contains("JOB_COMPLETION_INDEX=1 of 2"))

        let merged = try CLI.run(["whatif-merge", "\(dir)/shards/whatif-shard-1-of-2.json", "\(dir)/shards/whatif-shard-0-of-2.json",
                                  "--html", "\(dir)/merged.html", "--output-dir", "\(dir)/merged"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout == whole.stdout)
        #expect(try CLI.read("\(dir)/merged.html") == (try CLI.read("\(dir)/whole.html")))
        #expect(try CLI.read("\(dir)/merged/whatif-shard-0-of-1.json") == (try CLI.read("\(dir)/whole/whatif-shard-0-of-1.json")))

        let json = try CLI.run(["whatif-merge", "\(dir)/shards/whatif-shard-0-of-2.json", "\(dir)/shards/whatif-shard-1-of-2.json", "--format", "json"])
        let wholeJSON = try CLI.run(CLI.sweep + ["--format", "json", "--workers", "1"])
        #expect(json.stdout == wholeJSON.stdout)
        let markdown = try CLI.run(CLI.sweep + ["--format", "markdown"])
        #expect(markdown.stdout == whole.stdout)
    }

    @Test func bazelShardingTouchesTheStatusFileAndWritesToUndeclaredOutputs() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(CLI.sweep, environment: [
            "TEST_SHARD_INDEX": "1", "TEST_TOTAL_SHARDS": "3", "TEST_SHARD_STATUS_FILE": "\(dir)/status",
            "TEST_UNDECLARED_OUTPUTS_DIR": dir,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/status"))
        let text = try CLI.read("\(dir)/whatif-shard-1-of-3.json")
        // Points 1 of 0..<4 with index % 3 == 1: only point 1.
        #expect(text.contains("\"index\": 1,") && !text.contains("\"index\": 0,") && !text.contains("\"index\": 3,"))
    }

    @Test func mergeRefusalsExitTwoWithAMessage() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try CLI.run(CLI.sweep + ["--shard", "0/2", "--output-dir", dir])
        _ = try CLI.run(CLI.sweep + ["--shard", "1/2", "--output-dir", dir, "--headroom", "5s"])
        let missing = try CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json"])
        #expect(missing.status == 2 && missing.stderr.contains("2 of 4 points are missing"), "\(missing.stderr)")
        let duplicate = try CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json", "\(dir)/whatif-shard-0-of-2.json"])
        #expect(duplicate.status == 2 && duplicate.stderr.contains("point 0 is also in"), "\(duplicate.stderr)")
        let foreign = try CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json", "\(dir)/whatif-shard-1-of-2.json"])
        #expect(foreign.status == 2 && foreign.stderr.contains("different sweep"), "\(foreign.stderr)")
        try "not json".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["whatif-merge", "\(dir)/bad.json"])
        #expect(bad.status == 2 && bad.stderr.contains("bad.json:1"), "\(bad.stderr)")
    }

    @Test func badSweepsAndShardsExitTwo() throws {
        for args in [["--sweep", "jobs.silver_binance.trigger=30s,soon"], ["--sweep", "nokey"], ["--shard", "2/2"], ["--workers", "0"],
                     ["--headroom", "nojob=1s"]] {
            let r = try CLI.run(["whatif", "Tests/PlanningTests/Fixtures/whatif-small.yaml"] + args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
        let k8s = try CLI.run(CLI.sweep, environment: ["JOB_COMPLETION_INDEX": "0"])
        #expect(k8s.status == 2 && k8s.stderr.contains("MEDALLION_SIM_SHARDS"), "\(k8s.stderr)")
    }
}
