import Foundation
import Testing
import TestSupport

/// `medallion-sim explore` end to end: exit status, shrunk files that `run`
/// reproduces, the same output for any worker count, shards that add up.
@Suite struct ExploreCommandTests {
    /// The CLI tests' small scenario, four minutes long, Silver written with foreachBatch appends.
    static let scenario = CommandLineTests.small
        .replacingOccurrences(of: "name: tiny\n", with: "name: tiny-explore\n")
        .replacingOccurrences(of: "duration: 2m", with: "duration: 4m") + """

    pipeline:
      silver_sinks: foreach_batch
    explore:
      kinds: [crash]
      jobs: [silver_kraken]
      max_faults: 2
    """

    static func setUp() throws -> String {
        let d = try CLI.temporaryDirectory("medallion-explore")
        try FileManager.default.createDirectory(atPath: d + "/scenarios/profiles", withIntermediateDirectories: true)
        try scenario.write(toFile: d + "/scenarios/tiny-explore.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Repository.root + "/scenarios/profiles/production.yaml",
                                         toPath: d + "/scenarios/profiles/production.yaml")
        return d
    }

    func explore(_ d: String, _ extra: [String]) async throws -> CLI.Output {
        try await CLI.run(["explore", d + "/scenarios/tiny-explore.yaml", "--runs", "4", "--seed", "3"] + extra, cwd: d)
    }

    func files(_ dir: String) -> [String: String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { ($0, (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "") })
    }

    @Test func failuresAreShrunkReproducedAndTheSameForAnyWorkerCountAndShard() async throws {
        let d = try Self.setUp()
        let one = try await explore(d, ["--jobs", "1", "--out", d + "/one"])
        #expect(one.status == 1, "\(one.stdout)\(one.stderr)")
        let shrunk = files(d + "/one")
        #expect(!shrunk.isEmpty)
        for (name, text) in shrunk {
            #expect(text.contains("silver_sinks: foreach_batch") && text.contains("kind: crash"), "\(text)")
            #expect(text.components(separatedBy: "- kind:").count == 2, "shrunk to one fault: \(text)")
            let again = try await CLI.run(["run", d + "/one/" + name], cwd: d)
            #expect(again.status == 1 && again.stdout.contains("Silver duplicate"), "\(again.stdout)")
        }
        // Two workers: the same report and the same files, byte for byte.
        let two = try await explore(d, ["--jobs", "2", "--out", d + "/two"])
        #expect(two.stdout.replacingOccurrences(of: d + "/two", with: "DIR") == one.stdout.replacingOccurrences(of: d + "/one", with: "DIR"))
        #expect(files(d + "/two") == shrunk)
        // Two shards: together, the same failing runs and files.
        let s0 = try await explore(d, ["--shard", "0/2", "--out", d + "/shards"])
        let s1 = try await explore(d, ["--shard", "1/2", "--out", d + "/shards"])
        #expect(s0.stdout.contains("2 runs") && s1.stdout.contains("2 runs"))
        #expect(files(d + "/shards") == shrunk)
        #expect(one.stderr.contains("runs per minute"))
    }

    @Test func theDesignAsItIsPassesAndExitsZero() async throws {
        let d = try Self.setUp()
        let r = try await explore(d, ["--set", "pipeline.silver_sinks=idempotent", "--runs", "3", "--format", "json",
                                      "--out", d + "/none"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\"failed\": []") || r.stdout.contains("\"failed\":[]"), "\(r.stdout)")
        #expect(files(d + "/none").isEmpty)
    }
}
