import Foundation
import Testing
import TestSupport

/// docs/REFERENCE.md §7 across processes: two runs in separate processes (so
/// with different hash seeds: an iteration over a Dictionary or Set leaking
/// into output would differ), in another time zone, locale and working
/// directory, write the same bytes. In-process twins share the hash seed and
/// cannot see such a leak; nor does this suite change the test process's
/// environment under suites running in parallel. (`make determinism` does the
/// same for every scenario with the release build.)
@Suite struct DeterminismAcrossProcessesTests {
    static func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in ["summary.json"] + (try FileManager.default.contentsOfDirectory(atPath: dir + "/tables")).map({ "tables/" + $0 }) {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return out
    }

    @Test func twoProcessesInOtherTimeZonesLocalesAndFoldersWriteTheSameBytes() async throws {
        let a = try CLI.temporaryDirectory("determinism-a"), b = try CLI.temporaryDirectory("determinism-b")
        defer { for d in [a, b] { try? FileManager.default.removeItem(atPath: d) } }
        let scenario = Repository.path("scenarios/malformed-avro.yaml")
        let args = ["run", scenario, "--out", "out", "--format", "json"]
        async let first = CLI.run(args, cwd: a, environment: ["TZ": "Asia/Kathmandu", "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8"])
        async let second = CLI.run(args, cwd: b, environment: ["TZ": "America/St_Johns", "LANG": "C", "LC_ALL": "C"])
        let (x, y) = try await (first, second)
        #expect(x.status == 0 && y.status == 0, "\(x.stderr) \(y.stderr)")
        #expect(x.stdout == y.stdout)
        let fx = try Self.files(a + "/out"), fy = try Self.files(b + "/out")
        #expect(fx.keys.sorted() == fy.keys.sorted() && fx.count == 7)
        for (name, bytes) in fx { #expect(bytes == fy[name], "\(name) differs between the two processes") }
        #expect((fx["tables/silver_dlq_trades.jsonl"]?.count ?? 0) > 1_000, "the run has dead letters to order")

        // Another seed is another run: the comparison above could fail.
        let other = try await CLI.run(["run", scenario, "--seed", "7", "--out", "other", "--format", "json"], cwd: a)
        #expect(other.status == 0, "\(other.stderr)")
        #expect(try Self.files(a + "/other")["tables/gold_crypto_trades.jsonl"] != fx["tables/gold_crypto_trades.jsonl"])
    }
}
