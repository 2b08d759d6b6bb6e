import Foundation
import Testing
import TestSupport

/// End-to-end: the real `medallion-sim` binary, its exact output and exit status.
extension CLI {
    static func tempDir() throws -> String { try temporaryDirectory("whatif-cli") }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static let sweep = ["whatif", "Tests/PlanningTests/Fixtures/whatif-small.yaml",
                        "--sweep", "jobs.silver_binance.trigger=30s,60s",
                        "--sweep", "exchanges.binance.rate_multiplier=0.05,0.1"]
}

@Suite(.serialized) struct WhatIfCommandTests {
    @Test func shardsFromOptionAndEnvironmentMergeToTheUnshardedReport() async throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = try await CLI.run(CLI.sweep + ["--workers", "2", "--html", "\(dir)/whole.html", "--output-dir", "\(dir)/whole"])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stderr.isEmpty, "no progress bar when stderr is not a terminal: \(whole.stderr)")
        #expect(whole.stdout.hasPrefix("# What-if: whatif-small\n"))

        // Shard 0 by option, shard 1 as a Kubernetes indexed job.
        let s0 = try await CLI.run(CLI.sweep + ["--shard", "0/2", "--output-dir", "\(dir)/shards"])
        #expect(s0.status == 0, "\(s0.stderr)")
        let s1 = try await CLI.run(CLI.sweep + ["--output-dir", "\(dir)/shards"],
                             environment: ["JOB_COMPLETION_INDEX": "1", "MEDALLION_SIM_SHARDS": "2"])
        #expect(s1.status == 0, "\(s1.stderr)")
        #expect(s1.stderr.contains("JOB_COMPLETION_INDEX=1 of 2"))

        let merged = try await CLI.run(["whatif-merge", "\(dir)/shards/whatif-shard-1-of-2.json", "\(dir)/shards/whatif-shard-0-of-2.json",
                                  "--html", "\(dir)/merged.html", "--output-dir", "\(dir)/merged"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout == whole.stdout)
        #expect(try CLI.read("\(dir)/merged.html") == (try CLI.read("\(dir)/whole.html")))
        #expect(try CLI.read("\(dir)/merged/whatif-shard-0-of-1.json") == (try CLI.read("\(dir)/whole/whatif-shard-0-of-1.json")))

        let json = try await CLI.run(["whatif-merge", "\(dir)/shards/whatif-shard-0-of-2.json", "\(dir)/shards/whatif-shard-1-of-2.json", "--format", "json"])
        let wholeJSON = try await CLI.run(CLI.sweep + ["--format", "json", "--workers", "1"])
        #expect(json.stdout == wholeJSON.stdout)
        let markdown = try await CLI.run(CLI.sweep + ["--format", "markdown"])
        #expect(markdown.stdout == whole.stdout)
    }

    @Test func bazelShardingTouchesTheStatusFileAndWritesToUndeclaredOutputs() async throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await CLI.run(CLI.sweep, environment: [
            "TEST_SHARD_INDEX": "1", "TEST_TOTAL_SHARDS": "3", "TEST_SHARD_STATUS_FILE": "\(dir)/status",
            "TEST_UNDECLARED_OUTPUTS_DIR": dir,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/status"))
        let text = try CLI.read("\(dir)/whatif-shard-1-of-3.json")
        // Points 1 of 0..<4 with index % 3 == 1: only point 1.
        #expect(text.contains("\"index\": 1,") && !text.contains("\"index\": 0,") && !text.contains("\"index\": 3,"))
    }

    @Test func mergeRefusalsExitTwoWithAMessage() async throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await CLI.run(CLI.sweep + ["--shard", "0/2", "--output-dir", dir])
        _ = try await CLI.run(CLI.sweep + ["--shard", "1/2", "--output-dir", dir, "--headroom", "5s"])
        let missing = try await CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json"])
        #expect(missing.status == 2 && missing.stderr.contains("2 of 4 points are missing"), "\(missing.stderr)")
        let duplicate = try await CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json", "\(dir)/whatif-shard-0-of-2.json"])
        #expect(duplicate.status == 2 && duplicate.stderr.contains("point 0 is also in"), "\(duplicate.stderr)")
        let foreign = try await CLI.run(["whatif-merge", "\(dir)/whatif-shard-0-of-2.json", "\(dir)/whatif-shard-1-of-2.json"])
        #expect(foreign.status == 2 && foreign.stderr.contains("different sweep"), "\(foreign.stderr)")
        try "not json".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let bad = try await CLI.run(["whatif-merge", "\(dir)/bad.json"])
        #expect(bad.status == 2 && bad.stderr.contains("bad.json:1"), "\(bad.stderr)")
    }

    @Test func badSweepsAndShardsExitTwo() async throws {
        for args in [["--sweep", "jobs.silver_binance.trigger=30s,soon"], ["--sweep", "nokey"], ["--shard", "2/2"], ["--workers", "0"],
                     ["--headroom", "nojob=1s"]] {
            let r = try await CLI.run(["whatif", "Tests/PlanningTests/Fixtures/whatif-small.yaml"] + args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
        let k8s = try await CLI.run(CLI.sweep, environment: ["JOB_COMPLETION_INDEX": "0"])
        #expect(k8s.status == 2 && k8s.stderr.contains("MEDALLION_SIM_SHARDS"), "\(k8s.stderr)")
    }
}
