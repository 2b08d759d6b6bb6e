import Foundation
import Testing
import Kernel
@testable import Broker

/// A long log seals its old segments (compressed, spilled to disk); reads of
/// any record, the "available at t" search, a gap in the offsets and
/// retention must not notice.
@Suite struct SealedSegmentTests {
    /// Record i: a value of 1-40 bytes derived from i, appended at 10 µs x i (two per tick).
    static func value(_ i: Int) -> [UInt8] { (0 ..< (i % 40 + 1)).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) } }

    @Test func sealedRecordsReadBackAsAppended() {
        let cluster = KafkaCluster()
        let p = cluster.createTopic("t", partitions: 1).partitions[0]
        let n = TopicPartition.segmentRecords * (TopicPartition.liveSegments + 2) + 123
        var rawBytes = 0
        for i in 0..<n {
            let v = Self.value(i)
            rawBytes += v.count
            p.append(key: i % 3 == 0 ? nil : [UInt8(i % 5)], value: v, timestampMs: Int64(i / 7), appendedAtMicros: Int64(i / 2 * 10))
        }
        #expect(p.recordCount == n && p.endOffset == Int64(n) && p.valueByteCount == rawBytes)
        // Two segments are sealed and on disk: memory holds the live three only.
        #expect(p.spilledBytes > 0)
        #expect(p.heldBytes < (TopicPartition.liveSegments + 1) * TopicPartition.segmentRecords * (40 + 28))
        for i in [0, 1, 40_000, TopicPartition.segmentRecords - 1, TopicPartition.segmentRecords, 70_000, n / 2, n - 1] {
            let r = p.record(atPosition: i)
            #expect(r.value == Self.value(i) && r.offset == Int64(i) && r.timestampMs == Int64(i / 7))
            #expect(r.appendedAtMicros == Int64(i / 2 * 10) && r.key == (i % 3 == 0 ? nil : [UInt8(i % 5)]))
            #expect(Array(p.valueSlice(atPosition: i)) == Self.value(i))
        }
        // latestOffset at t: records appended at or before t (i / 2 * 10 <= t).
        for t in [-1, 0, 5, 10, 327_670, 327_675, 655_350, Int64(n) * 5, Int64(n) * 10] as [Int64] {
            let want = t < 0 ? 0 : min(n, Int((t / 10 + 1) * 2))
            #expect(p.latestOffset(at: t) == Int64(want), "at \(t)")
        }
    }

    @Test func aGapAfterSealingKeepsOffsets() {
        let p = KafkaCluster().createTopic("t", partitions: 1).partitions[0]
        let n = TopicPartition.segmentRecords * (TopicPartition.liveSegments + 1) + 5
        for i in 0..<n { p.append(key: nil, value: Self.value(i), timestampMs: 1, appendedAtMicros: Int64(i)) }
        [UInt8(7)].withUnsafeBytes { p.append(offset: Int64(n) + 100, key: nil, valueBuffer: $0, timestampMs: 2, appendedAtMicros: Int64(n)) }
        #expect(p.endOffset == Int64(n) + 101)
        #expect(p.value(at: 3) == Self.value(3))
        #expect(p.value(at: Int64(n) + 100) == [7])
        #expect(p.exactPosition(ofOffset: Int64(n) + 50) == nil)
    }

    /// Retention over a sealed log: 200,000 records, one each 10 ms, Kafka
    /// segments rolled every 100 s (10,001 records: they do not line up with
    /// the storage segments), 10 minutes kept, cleaner every 5 minutes. The
    /// log start at each check is the first record of the first Kafka segment
    /// whose newest record is within retention, computed here from the rule;
    /// records below it are still readable (the checks name them as expired).
    @Test func retentionOnASealedLogDeletesWholeKafkaSegments() {
        let t = KafkaCluster().createTopic("t", partitions: 1)
        t.retention = TopicRetention(retentionMs: 600_000, segmentMs: 100_000, checkIntervalMs: 300_000)
        let p = t.partitions[0]
        let n = 200_000
        for i in 0..<n {
            p.append(key: nil, value: Self.value(i), timestampMs: Int64(i) * 10, appendedAtMicros: Int64(i) * 10_000)
        }
        #expect(p.spilledBytes > 0)
        func expected(checkMs: Int64) -> Int {
            let appended = min(n, Int(checkMs / 10) + 1)
            var start = 0
            while start < appended {
                let last = min(start + 10_001, appended) - 1
                if Int64(last) * 10 >= checkMs - 600_000 { break }
                start += 10_001
            }
            return min(start, appended)
        }
        var previous: Int64 = 0
        for s in stride(from: Int64(0), through: 2_400, by: 60) {
            let e = p.earliestOffset(at: s * Time.microsPerSecond)
            #expect(e == Int64(expected(checkMs: s / 300 * 300_000)), "at \(s) s")
            #expect(e >= previous)
            previous = e
        }
        #expect(previous > Int64(TopicPartition.segmentRecords))  // the log start is past a sealed segment
        #expect(p.value(at: 5) == Self.value(5) && p.value(at: previous - 1) == Self.value(Int(previous) - 1))
        // Asked again about an earlier time, after later questions: the answer for that time.
        #expect(p.earliestOffset(at: 900 * Time.microsPerSecond) == Int64(expected(checkMs: 900_000)))
    }

    final class Column: SealableSegment {
        var values: [Int64] = []
        init() {}
        var count: Int { values.count }
        var heldBytes: Int { values.capacity * 8 }
        func truncate(to n: Int) { values.removeLast(values.count - n) }
        func pack(into p: inout SealedPacker) { p.put(values) }
        init(unpacking u: inout SealedUnpacker) { values = u.take() }
    }

    func fill(_ s: inout Segments<Column>, _ n: Int) {
        for i in s.count..<n { s.tail().values.append(Int64(i) * 3); s.didAppend() }
    }

    @Test(arguments: [false, true]) func segmentsRoundTripInMemoryAndOnDisk(spill: Bool) {
        let size = Segments<Column>.segmentRows
        var s = Segments<Column>(spill: spill)
        fill(&s, size * 5 + 17)
        s.seal(below: 3)
        #expect(s.sealedCount == 3 && !s.isLive(2) && s.isLive(3))
        #expect((s.spilledBytes > 0) == spill)
        for i in [0, 1, size - 1, size, 2 * size + 5, 3 * size, s.count - 1] {
            let (seg, j) = s.at(i)
            #expect(seg.values[j] == Int64(i) * 3, "row \(i)")
        }
        // Dropping the rows after a sealed segment's end leaves an empty live
        // segment to append to; appends go on from there.
        s.seal(below: 4)
        s.truncate(to: 4 * size)
        #expect(s.count == 4 * size && s.segmentCount == 5 && s.isLive(4))
        fill(&s, 4 * size + 3)
        #expect(s.at(4 * size + 2).0.values[2] == Int64(4 * size + 2) * 3 && s.at(size + 1).0.values[1] == Int64(size + 1) * 3)
    }

    /// Spill files live in `$TMPDIR/medallion-sim-<pid>` (or /tmp), unlinked
    /// as soon as they are open: the folder stays empty while the data is
    /// readable, and a file's space goes with its store.
    @Test func spillFilesAreUnlinkedAtOnceAndClosedWithTheirStore() throws {
        let tmp = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        #expect(SpillFolder.path == (tmp.hasSuffix("/") ? String(tmp.dropLast()) : tmp) + "/medallion-sim-\(getpid())")
        /// Whether this process has `name` open (Linux shows it as "NAME (deleted)" once unlinked).
        func isOpen(_ name: String) throws -> Bool {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").contains {
                ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) ?? "").hasPrefix(name + " ")
            }
        }
        var name = ""
        do {
            var s = Segments<Column>(spill: true)
            fill(&s, Segments<Column>.segmentRows * 2)
            s.seal(below: 1)
            #expect(s.spilledBytes > 0)
            name = try #require(s.spillFileName)
            #expect(name.hasPrefix(SpillFolder.path + "/"))
            #expect(!FileManager.default.fileExists(atPath: name))
            #expect(try isOpen(name))
            #expect(s.at(7).0.values[7] == 21)
        }
        #expect(try !isOpen(name), "a spill file outlived its store")
    }
}
