import Foundation
import Testing
import TestSupport

/// Sealed segments spill to `$TMPDIR/medallion-sim-<pid>`; whatever way the
/// command ends (done, or Ctrl-C once or twice), nothing is left there.
@Suite struct SpillFolderTests {
    /// `bench engine` on one thread and on two (the traffic then generated
    /// on a thread of its own, Silver decoding on two): the same Kafka
    /// records, byte for byte, the same rows, batches and sealed bytes; and
    /// nothing left in the spill folder's parent.
    @Test func aBenchOnOneOrTwoThreadsIsTheSameAndLeavesNothingBehind() async throws {
        let tmp = try CLI.temporaryDirectory("spill")
        var runs: [[String: Any]] = []
        for threads in ["1", "2"] {
            let r = try await CLI.run(["bench", "engine", "--hours", "1", "--threads", threads, "--digest", "--format", "json"],
                                      environment: ["TMPDIR": tmp])
            #expect(r.status == 0, "\(r.stderr)")
            runs.append(try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]))
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        }
        #expect((runs[0]["spilled_bytes"] as? Int ?? 0) > 0, "nothing spilled: \(runs[0])")
        #expect((runs[0]["trades"] as? Int ?? 0) > 200_000)
        for key in ["kafka_fnv1a64", "trades", "bronze_rows", "silver_rows", "gold_rows", "batches", "spilled_bytes"] {
            #expect(runs[0][key].map { "\($0)" } == runs[1][key].map { "\($0)" }, "\(key)")
        }
    }

    /// A run at production rates, interrupted once its spill folder exists:
    /// the first Ctrl-C stops it at the next checkpoint (exit through
    /// `atexit`), a second one at once (the signal handler removes the folder).
    @Test(arguments: [1, 2]) func ctrlCAfterASpillRemovesTheFolder(interrupts: Int) async throws {
        let tmp = try CLI.temporaryDirectory("spill")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["run", "baseline", "--set", "duration=1d", "--set", "exchanges.binance.rate_multiplier=1"]
        p.currentDirectoryURL = URL(fileURLWithPath: Repository.root)
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = tmp
        p.environment = env
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice; p.standardError = err
        try p.run()
        let folder = tmp + "/medallion-sim-\(p.processIdentifier)"
        // Blocking waits, off the cooperative pool (see HostileInputTests.ctrlCStopsALongRunCleanly).
        let (spilled, e) = await CLI.offPool { () -> (Bool, Data) in
            var waited = 0
            while p.isRunning, !FileManager.default.fileExists(atPath: folder), waited < 3_000 {
                usleep(100_000); waited += 1
            }
            let spilled = p.isRunning && FileManager.default.fileExists(atPath: folder)
            for _ in 0..<interrupts { p.interrupt() }
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (spilled, e)
        }
        #expect(spilled, "the run never spilled")
        #expect(p.terminationStatus == 130, "\(String(decoding: e, as: UTF8.self))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }
}
