import Testing
import TestSupport
import Kernel
import Codec
import Engine
import Scenarios
@testable import Checks

/// The oracle's compact structures give what the plain ones they replaced
/// gave: the accepted-id table against a set of strings (also when every id
/// has the same hash), the 4-byte latency samples against a sorted array, the
/// commit-time search against a per-row array, the streamed table digests
/// against digests of every row's export line, and the recomputation's dedup
/// against a dictionary of strings over the same batches.
@Suite struct CompactOracleTests {
    static var root: String { Repository.root }

    @Test(arguments: [false, true])
    func acceptedIdsAgreeWithASetOfStrings(everyHashEqual: Bool) {
        var rng = RandomStreams(seed: 7).stream("test.accepted-ids")
        // 3,000 draws from 1,000 ids: many repeats, as duplicates are.
        let ids = (0..<3_000).map { _ in "id-\(rng.uniform(below: 1_000))" }
        let refs = ids.indices.map { SilverRowRef(input: $0 % 2, row: $0 / 2) }
        func hash(_ id: String) -> UInt64 { everyHashEqual ? 42 : AcceptedIds.hash(id) }
        var table = AcceptedIds(capacity: ids.count)
        var reference: [String: SilverRowRef] = [:]
        for (id, ref) in zip(ids, refs) {
            let found = table.find(id, hash: hash(id)) { ids[$0.row * 2 + $0.input] }
            #expect(found == reference[id], "\(id)")
            if found == nil { table.insert(hash: hash(id), ref); reference[id] = ref }
        }
        #expect(table.count == reference.count)
        #expect(table.find("never-seen", hash: hash("never-seen")) { ids[$0.row * 2 + $0.input] } == nil)
    }

    @Test func goldVendorJSONFromEntriesIsTheMapsJSON() {
        let maps: [[String: String]] = [
            [:], ["a": "1"], ["b": "2", "a": "1", "ab": "x"],
            ["quote\"": "back\\slash", "ctl": "\u{1}\n\t\r\u{8}\u{C}\u{1F}", "é": "z", "z": "é", "Z": "upper"],
            ["\u{1F600}": "emoji", "\u{FF}": "y", "\u{7F}": "del"],
        ]
        for m in maps {
            let want = JSONValue.object(m.mapValues { .string($0) }).compact
            // Any order of the entries gives the same string.
            #expect(GoldContent.vendorJSON(m.map { ($0.key, $0.value) }) == want)
            #expect(GoldContent.vendorJSON(m.map { ($0.key, $0.value) }.reversed()) == want)
        }
    }

    @Test func latencySamplesGiveTheSortedArraysPercentiles() {
        var rng = RandomStreams(seed: 8).stream("test.latency-samples")
        for n in [1, 2, 3, 99, 100, 101, 1_000] {
            var parts = [LatencySamples(), LatencySamples()]
            var all: [Int64] = []
            for i in 0..<n {
                // Mostly small, some negative, some past 2^32 (71 minutes).
                let v: Int64
                switch rng.uniform(below: 10) {
                case 0: v = -Int64(rng.uniform(below: 5_000_000))
                case 1: v = Int64(UInt32.max) + Int64(rng.uniform(below: 5_000_000)) - 2_000
                default: v = Int64(rng.uniform(below: 300_000_000))
                }
                parts[i % 2].append(v); all.append(v)
            }
            for k in parts.indices { parts[k].sort() }
            all.sort()
            for p in [0, 1, 50, 99, 100] {
                #expect(LatencySamples.percentile(parts, p) == (p == 100 ? all.last : percentile(all, p)), "n \(n) p \(p)")
            }
        }
        #expect(LatencySamples.percentile([LatencySamples()], 50) == nil)
    }

    @Test func commitTimesMatchAPerRowArray() throws {
        let run = try ScenarioRunner.run(ScenarioParser.load(path: Self.root + "/scenarios/crash-restart.yaml"),
                                         profilesDirectory: Self.root + "/scenarios/profiles")
        for table in run.pipeline.tables {
            let rows = table.rowCount
            var want = [Micros](repeating: 0, count: rows)
            for s in table.snapshots where s.rowCount > 0 {
                for i in s.firstRow..<min(rows, s.firstRow + s.rowCount) { want[i] = s.committedAtMicros }
            }
            let times = CommitTimes(table.snapshots, rows: rows)
            #expect((0..<rows).map { times[$0] } == want, "\(table.name.rawValue)")
        }
    }

    @Test func streamedDigestsEqualDigestsOfTheWholeExport() throws {
        let run = try ScenarioRunner.run(ScenarioParser.load(path: Self.root + "/scenarios/malformed-avro.yaml"),
                                         profilesDirectory: Self.root + "/scenarios/profiles")
        let p = run.pipeline
        for table in TableName.allCases {
            // The digest as it was computed before streaming: from every row's line, held at once.
            let rows = TableExport.rows(of: table, in: p)
            var groups: [String: (count: Int64, hash: UInt64)] = [:]
            for (i, row) in rows.enumerated() {
                let k = TableExport.keyedLine(of: table, row: i, in: p).key
                var g = groups[k] ?? (0, 0xCBF2_9CE4_8422_2325)
                g.count += 1
                for b in row.utf8 { g.hash = (g.hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
                g.hash = (g.hash ^ 0x0A) &* 0x0000_0100_0000_01B3
                groups[k] = g
            }
            let want = groups.keys.sorted().map { k in
                JSONValue.object(["partition": .string(k), "rows": .int(groups[k]!.count),
                                  "fnv1a64": .string(String(groups[k]!.hash, radix: 16))]).compact
            }
            #expect(TableExport.digestRows(of: table, in: p) == want, "\(table.rawValue)")
            #expect(!rows.isEmpty, "\(table.rawValue) has rows")
        }
    }

    /// First-wins dedup with a dictionary of strings over the rows the
    /// recomputed batches read and did not find late, in batch order.
    @Test(arguments: ["duplicates", "late-data"])
    func dedupAgreesWithADictionaryOfStrings(scenario: String) throws {
        let run = try ScenarioRunner.run(ScenarioParser.load(path: Self.root + "/scenarios/\(scenario).yaml"),
                                         profilesDirectory: Self.root + "/scenarios/profiles")
        let tables = ExchangeTables(run.pipeline)
        let model = GoldRecomputation(run.pipeline, tables)
        var first: [String: SilverRowRef] = [:]
        var duplicates = 0
        for step in model.batches where step.namesRanges {
            for k in 0..<2 where !step.readsPastEnd[k] {
                for row in Int(step.record.startOffsets[k])..<Int(step.record.endOffsets[k]) where model.fate(k, row) != .late {
                    let ref = SilverRowRef(input: k, row: row)
                    let id = tables.silver[k].row(row).trade.messageId
                    if first[id] == nil { first[id] = ref; #expect(model.fate(k, row) == .gold) }
                    else { duplicates += 1; #expect(model.fate(k, row) == .duplicate) }
                    #expect(model.acceptedRow(of: id) == first[id])
                }
            }
        }
        #expect(model.accepted.count == first.count)
        #expect(model.duplicatesDropped == Int64(duplicates))
        if scenario == "duplicates" { #expect(duplicates > 0) } else { #expect(model.lateDropped > 0) }
    }
}
