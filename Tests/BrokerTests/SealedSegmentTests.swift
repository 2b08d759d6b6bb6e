import Testing
import Kernel
@testable import Broker

/// A long log seals its old segments (compressed); reads of any record, the
/// "available at t" search and a gap in the offsets must not notice.
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
        // Two segments are sealed: the log holds less than its raw columns would.
        #expect(p.heldBytes < rawBytes + n * 28)
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
}
