import Foundation
import Testing
import TestSupport

/// Absurd values of every documented key, through every command that reads
/// them: exit 2 with a message naming the key and its bound (how fast, on the
/// release binary, is measured by scripts/limits-timing.sh, not here); and
/// the input classes that used to crash, each built here, end to end.
@Suite struct HostileInputTests {
    /// (`--set` text, what the message must contain besides the key).
    static let scenarioCases: [(String, String)] = [
        ("duration=999999d", "above the limit of 7d"),
        ("drain=999999d", "above the limit of 1d"),
        ("start=1900-01-01T00:00:00Z", "2009-01-03"),
        ("start=2999-01-01T00:00:00Z", "2200-01-01"),
        ("exchanges.binance.rate_multiplier=1000000", "between 0 and 1000"),
        ("exchanges.binance.rate_multiplier=1000", "the limit is 50000000"),
        ("exchanges.kraken.partitions=100000", "1...64"),
        ("exchanges.binance.delivery_latency_median=999999d", "above the limit of 1h"),
        ("exchanges.binance.burst_branching_ratio=5", "[0, 1)"),
        ("jobs.gold.trigger=999999d", "above the limit of 1h"),
        ("jobs.gold.cores=1000000", "1...1024"),
        ("jobs.bronze_binance.max_offsets_per_trigger=99999999999", "1...2147483647"),
        ("expect.min_headroom.gold=999999d", "above the limit of 1h"),
        ("expect.max_headroom.gold=999999d", "above the limit of 1h"),
        ("expect.max_batches_behind.gold=99999999999", "0...1000000000"),
        ("expect.min_batches_behind.gold=99999999999", "0...1000000000"),
        ("expect.min_late_dropped=99999999999", "0...1000000000"),
        ("expect.max_late_dropped=99999999999", "0...1000000000"),
    ]

    /// Faults, one key absurd at a time: (the fault, the key's path, the bound text).
    static let faultCases: [(String, String, String)] = [
        ("{kind: spike, exchange: binance, at: 999999d, for: 1m, multiplier: 2}", "faults[0].at", "above the limit of 7d"),
        ("{kind: spike, exchange: binance, at: 1m, for: 999999d, multiplier: 2}", "faults[0].for", "above the limit of 7d"),
        ("{kind: spike, exchange: binance, at: 6d, for: 6d, multiplier: 2}", "faults[0].at", "after the scenario's duration"),
        ("{kind: spike, exchange: binance, at: 1m, for: 1m, multiplier: 100000}", "faults[0].multiplier", "(0, 1000]"),
        ("{kind: late_backfill, exchange: kraken, at: 1m, count: 5, age: 999999d}", "faults[0].age", "above the limit of 7d"),
        ("{kind: late_backfill, exchange: kraken, at: 1m, count: 99999999999, age: 1m}", "faults[0].count", "1...1000000"),
        ("{kind: clock_skew, exchange: kraken, at: 1m, for: 1m, skew: 999999d}", "faults[0].skew", "above the limit of 1d"),
        ("{kind: slow_commits, table: gold_crypto_trades, at: 1m, for: 1m, extra_latency: 999999d}", "faults[0].extra_latency", "above the limit of 1h"),
        ("{kind: crash, job: gold, at: 1m, point: before_commit_log, restart_after: 999999d}", "faults[0].restart_after", "above the limit of 1d"),
        ("{kind: duplicates, exchange: binance, at: 1m, mode: producer_retry, count: 99999999999}", "faults[0].count", "1...1000000"),
        ("{kind: malformed, exchange: binance, at: 1m, reasons: all, count: 99999999999}", "faults[0].count", "1...1000000"),
    ]

    /// Profile keys: (key, absurd value, bound text).
    static let profileCases: [(String, String, String)] = [
        ("startup", "999999d", "above the limit of 1h"),
        ("batch_overhead", "999999d", "above the limit of 1h"),
        ("decode_per_record", "999999d", "above the limit of 1s"),
        ("validate_per_record", "999999d", "above the limit of 1s"),
        ("write_per_record", "999999d", "above the limit of 1s"),
        ("executor_cores", "1000000", "1...1024"),
        ("commit_latency_median", "999999d", "above the limit of 1h"),
        ("commit_latency_sigma", "99", "[0, 5]"),
        ("commit_latency_max", "999999d", "above the limit of 1h"),
        ("state_bytes_per_key", "99999999999", "0...1000000"),
        ("executor_memory_mib", "99999999999", "1...16777216"),
        ("restart_delay", "999999d", "above the limit of 1h"),
    ]

    func expectRefused(_ args: [String], key: String, bound: String, cwd: String = Repository.root,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await CLI.run(args, cwd: cwd)
        #expect(r.status == 2, "\(args): exit \(r.status)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(key) && r.stderr.contains(bound), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func absurdScenarioValuesExit2NamingKeyAndBoundInEveryCommand() async throws {
        for (set, bound) in Self.scenarioCases {
            let key = String(set[..<set.firstIndex(of: "=")!])
            try await expectRefused(["run", "baseline", "--set", set], key: key, bound: bound)
            try await expectRefused(["check", "baseline", "--set", set], key: key, bound: bound)
            try await expectRefused(["whatif", "baseline", "--sweep", "jobs.silver_binance.trigger=30s,60s", "--set", set], key: key, bound: bound)
            try await expectRefused(["whatif", "baseline", "--sweep", set], key: key, bound: bound)
        }
        for (fault, key, bound) in Self.faultCases {
            try await expectRefused(["run", "baseline", "--set", "faults=[\(fault)]"], key: key, bound: bound)
        }
    }

    @Test func aBadSetValueNamesTheOptionNotTheFile() async throws {
        let r = try await CLI.run(["run", "baseline", "--set", "jobs.gold.trigger=0s"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--set jobs.gold.trigger=0s"), "\(r.stderr)")
        #expect(!r.stderr.contains("baseline.yaml"), "\(r.stderr)")
        let typo = try await CLI.run(["run", "baseline", "--set", "jobs.gold.triger=30s"])
        #expect(typo.status == 2 && typo.stderr.contains("--set jobs.gold.triger=30s") && typo.stderr.contains("did you mean 'trigger'"), "\(typo.stderr)")
    }

    @Test func absurdProfileValuesExit2NamingKeyAndBound() async throws {
        let good = try String(contentsOfFile: Repository.root + "/scenarios/profiles/production.yaml", encoding: .utf8)
        for (key, value, bound) in Self.profileCases {
            let d = try CommandLineTests.tempDir()
            try FileManager.default.createDirectory(atPath: d + "/profiles", withIntermediateDirectories: true)
            // The first job's line for the key gets the absurd value.
            var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let i = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }!
            let indent = lines[i].prefix { $0 == " " }
            lines[i] = "\(indent)\(key): \(value)"
            try lines.joined(separator: "\n").write(toFile: d + "/profiles/production.yaml", atomically: true, encoding: .utf8)
            try await expectRefused(["run", "baseline", "--profiles", d + "/profiles"], key: key, bound: bound)
        }
    }

    @Test func replayRefusesAbsurdSettingsAndCaptures() async throws {
        let capture = Repository.root + "/Tests/ReplayTests/Fixtures/independent-capture.jsonl"
        try await expectRefused(["replay", capture, "--set", "jobs.gold.trigger=999999d"], key: "jobs.gold.trigger", bound: "above the limit of 1h")
        try await expectRefused(["replay", capture, "--speed", "0.00000001"], key: "--speed", bound: "at least 0.001")
        let d = try CommandLineTests.tempDir()
        let lines = try String(contentsOfFile: capture, encoding: .utf8).split(separator: "\n").map(String.init)
        // Class: a Kafka timestamp at Int64.max (overflowed the oracle's create-time conversion).
        let bigTs = lines.map { $0.contains("\"timestamp_ms\"") ? $0.replacingOccurrences(of: #""timestamp_ms":\s*\d+"#, with: "\"timestamp_ms\":9223372036854775807", options: .regularExpression) : $0 }
        try bigTs.joined(separator: "\n").appending("\n").write(toFile: d + "/big.jsonl", atomically: true, encoding: .utf8)
        try await expectRefused(["replay", d + "/big.jsonl"], key: "timestamp_ms", bound: "after the limit 253402300799999")
        // Class: a partition number that would size a table of 2^31 partitions.
        let bigP = lines.map { $0.replacingOccurrences(of: #""partition":\s*\d+"#, with: "\"partition\":2147483647", options: .regularExpression) }
        try bigP.joined(separator: "\n").appending("\n").write(toFile: d + "/bigp.jsonl", atomically: true, encoding: .utf8)
        try await expectRefused(["replay", d + "/bigp.jsonl"], key: "partition 2147483647", bound: "numbered below 16384")
    }

    /// A long run stops cleanly on Ctrl-C: exit 130, a message on stderr,
    /// nothing on stdout; and shows no progress when stderr is not a terminal.
    @Test func ctrlCStopsALongRunCleanly() async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["run", "baseline", "--set", "duration=3d", "--set", "exchanges.binance.rate_multiplier=0.02"]
        p.currentDirectoryURL = URL(fileURLWithPath: Repository.root)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        // Every wait here blocks (sleeps, the pipes, the exit), so the whole
        // sequence runs on a Dispatch thread while the test is suspended: a
        // blocked test would hold one of the cooperative pool's threads (one
        // per core) for the child's whole run, and a Task.sleep between the
        // steps would resume only when the pool is free, on a busy suite
        // minutes later, after the run had left the engine.
        let (runningWhenInterrupted, o, e) = await CLI.offPool { () -> (Bool, Data, Data) in
            // Interrupt only once the handler is installed (a busy machine may take
            // seconds to get there, and a SIGINT before it would kill the process or,
            // where a launcher ignores SIGINT, be lost): Linux shows the caught
            // signals in /proc/PID/status.
            var waited = 0
            while p.isRunning, !Self.catchesSIGINT(pid: p.processIdentifier), waited < 600 {
                usleep(100_000); waited += 1
            }
            usleep(500_000)
            let running = p.isRunning
            p.interrupt()  // SIGINT
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (running, o, e)
        }
        #expect(runningWhenInterrupted, "the run ended before it could be interrupted")
        let stderr = String(decoding: e, as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted (Ctrl-C) at") && stderr.contains("stopped cleanly"), "\(stderr)")
        #expect(!stderr.contains("%"), "a progress bar on a pipe: \(stderr)")
        #expect(o.isEmpty)
    }

    /// Whether process `pid` is medallion-sim and has its SIGINT handler
    /// installed (bit 1 of SigCgt). The name matters: between spawn and exec
    /// the child is a copy of this test process, whose handlers it shows.
    static func catchesSIGINT(pid: Int32) -> Bool {
        guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
              comm.hasPrefix("medallion-sim") else { return false }
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
              let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << (SIGINT - 1)) != 0
    }

    /// Class: a corrupt golden is bad input (exit 2), not a failed comparison.
    @Test func aCorruptGoldenExits2() async throws {
        let d = try CommandLineTests.tempDir()
        try FileManager.default.createDirectory(atPath: d + "/golden/baseline/tables", withIntermediateDirectories: true)
        try Data([0xFF, 0xFE, 0x00, 0x7B]).write(to: URL(fileURLWithPath: d + "/golden/baseline/summary.json"))
        let r = try await CLI.run(["check", "baseline", "--golden", d + "/golden"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("summary.json") && r.stderr.contains("corrupt golden"), "\(r.stderr)")
        // A summary that is JSON but a table that is not zstd.
        try FileManager.default.copyItem(atPath: Repository.root + "/golden/baseline/summary.json", toPath: d + "/golden/b2.json")
        try FileManager.default.removeItem(atPath: d + "/golden/baseline/summary.json")
        try FileManager.default.moveItem(atPath: d + "/golden/b2.json", toPath: d + "/golden/baseline/summary.json")
        try Data("not zstd".utf8).write(to: URL(fileURLWithPath: d + "/golden/baseline/tables/gold_crypto_trades.jsonl.zst"))
        let t = try await CLI.run(["check", "baseline", "--golden", d + "/golden"])
        #expect(t.status == 2, "\(t.stderr)")
        #expect(t.stderr.contains("gold_crypto_trades.jsonl.zst") && t.stderr.contains("corrupt golden table"), "\(t.stderr)")
    }
}
