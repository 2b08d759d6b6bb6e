import Engine
import Foundation
import Kernel
@testable import Planning
import Testing

@Suite struct RunAndMergeTests {
    @Test func workersDoNotChangeTheResultsByteForByte() throws {
        let (plan, whole) = try Fixture.get()
        let one = whole.json.pretty
        for workers in [2, 3] {
            let points = try WhatIfRunner.run(plan, indices: plan.points.map(\.index), workers: workers)
            let text = WhatIfResults(definition: plan.definition, shard: .whole, points: points).json.pretty
            #expect(text == one, "results with \(workers) workers differ from 1 worker")
        }
    }

    /// The same point on four threads at once, against a run on this thread:
    /// nothing shared between runs may change a byte.
    @Test func concurrentRunsOfOnePointAgree() throws {
        let (plan, whole) = try Fixture.get()
        let expected = whole.points[3].json.compact
        let points = try WhatIfRunner.run(plan, indices: [3, 3, 3, 3, 1, 1], workers: 4)
        #expect(points.map(\.index) == [3, 3, 3, 3, 1, 1])
        for p in points.prefix(4) { #expect(p.json.compact == expected) }
        #expect(points[4].json.compact == whole.points[1].json.compact)
    }

    @Test func resultsRoundTripThroughTheirFile() throws {
        let (_, whole) = try Fixture.get()
        let text = whole.json.pretty
        let back = try WhatIfResults.parse(text, file: "mem.json")
        #expect(back.points == whole.points)
        #expect(back.definition == whole.definition)
        #expect(back.json.pretty == text)
    }

    @Test func mergedShardsEqualTheUnshardedRunByteForByte() throws {
        let (plan, whole) = try Fixture.get()
        let wholeReport = WhatIfReport(whole)
        for count in [2, 3] {
            var parts: [(file: String, results: WhatIfResults)] = []
            // Files in reverse order: the merge must not depend on it.
            for i in (0..<count).reversed() {
                let file = "shard-\(i).json"
                parts.append((file, try WhatIfResults.parse(try Fixture.shardText(plan, index: i, count: count, workers: 2), file: file)))
            }
            let merged = try WhatIfResults.merge(parts)
            #expect(merged.json.pretty == whole.json.pretty)
            let report = WhatIfReport(merged)
            #expect(report.text == wholeReport.text)
            #expect(report.json.pretty == wholeReport.json.pretty)
            #expect(report.html == wholeReport.html)
        }
    }

    @Test func mergeRefusesMissingDuplicateAndForeignShards() throws {
        let (plan, _) = try Fixture.get()
        let s0 = try WhatIfResults.parse(try Fixture.shardText(plan, index: 0, count: 2), file: "s0.json")
        let s1 = try WhatIfResults.parse(try Fixture.shardText(plan, index: 1, count: 2), file: "s1.json")
        func refusal(_ parts: [(file: String, results: WhatIfResults)]) -> String? {
            do { _ = try WhatIfResults.merge(parts); return nil } catch { return error.description }
        }
        let missing = refusal([("s0.json", s0)])
        #expect(missing?.contains("missing") == true, "\(missing ?? "merged")")
        let duplicate = refusal([("s0.json", s0), ("s1.json", s1), ("again.json", s0)])
        #expect(duplicate?.contains("also in s0.json") == true, "\(duplicate ?? "merged")")
        #expect(refusal([]) != nil)

        // A shard of another sweep (other headroom, other values) is refused, naming what differs.
        let other = try Fixture.plan(headroom: ["10s"])
        let foreign = try WhatIfResults.parse(try Fixture.shardText(other, index: 1, count: 2), file: "other.json")
        let r = refusal([("s0.json", s0), ("other.json", foreign)])
        #expect(r?.contains("different sweep") == true && r?.contains("headroom_ms") == true, "\(r ?? "merged")")
        var edited = s1
        edited.definition.scenarioDigest = "0000000000000000"
        #expect(refusal([("s0.json", s0), ("edited.json", edited)])?.contains("scenario") == true)
    }

    @Test func unreadableResultFilesAreInputErrors() {
        #expect(throws: InputError.self) { try WhatIfResults.parse("{\"format\":\"something-else\"}", file: "x.json") }
        #expect(throws: InputError.self) { try WhatIfResults.parse("{\"format\":", file: "x.json") }
    }
}

@Suite struct ShardSelectionTests {
    @Test func explicitOptionWins() throws {
        let s = try ShardSelection.resolve(option: "1/3", shards: nil, environment: ["TEST_SHARD_INDEX": "0", "TEST_TOTAL_SHARDS": "2"])
        #expect(s.index == 1 && s.count == 3)
        #expect((0..<7).filter(s.contains) == [1, 4])
    }

    @Test func bazelVariablesAndItsStatusFile() throws {
        let s = try ShardSelection.resolve(option: nil, shards: nil, environment: [
            "TEST_SHARD_INDEX": "2", "TEST_TOTAL_SHARDS": "4", "TEST_SHARD_STATUS_FILE": "/tmp/status",
            "JOB_COMPLETION_INDEX": "0",
        ])
        #expect(s.index == 2 && s.count == 4 && s.statusFile == "/tmp/status")
    }

    @Test func kubernetesIndexedJob() throws {
        let a = try ShardSelection.resolve(option: nil, shards: 5, environment: ["JOB_COMPLETION_INDEX": "4"])
        #expect(a.index == 4 && a.count == 5 && a.statusFile == nil)
        let b = try ShardSelection.resolve(option: nil, shards: nil, environment: ["JOB_COMPLETION_INDEX": "1", ShardSelection.shardsVariable: "2"])
        #expect(b.index == 1 && b.count == 2)
    }

    @Test func noShardingWithoutOptionOrVariables() throws {
        #expect(try ShardSelection.resolve(option: nil, shards: nil, environment: ["PATH": "/bin"]) == .whole)
    }

    @Test(arguments: [
        ("3/3", nil, [String: String]()), ("a/2", nil, [:]), ("1", nil, [:]), ("0/0", nil, [:]),
        (nil, nil, ["JOB_COMPLETION_INDEX": "1"]),                       // count unknown
        (nil, 2, ["JOB_COMPLETION_INDEX": "2"]),                         // index out of range
        (nil, nil, ["TEST_SHARD_INDEX": "0"]),                           // total missing
        (nil, nil, ["TEST_SHARD_INDEX": "x", "TEST_TOTAL_SHARDS": "2"]),
        (nil, 2, [:]),                                                   // --shards without an index
    ] as [(String?, Int?, [String: String])])
    func refusals(_ option: String?, _ shards: Int?, _ env: [String: String]) {
        #expect(throws: InputError.self) { try ShardSelection.resolve(option: option, shards: shards, environment: env) }
    }
}
