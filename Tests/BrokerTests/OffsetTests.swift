import Testing
@testable import Broker

/// Partitions keep Kafka's offsets: dense from 0 for generated traffic, a
/// capture's log start and gaps for a replay.
@Suite struct OffsetTests {
    func log() -> TopicPartition { KafkaCluster().createTopic("t", partitions: 1).partitions[0] }

    @Test func generatedTrafficIsDenseFromZero() {
        let p = log()
        for i in 0..<5 { #expect(p.append(key: nil, value: [UInt8(i)], timestampMs: 1, appendedAtMicros: Int64(i)) == Int64(i)) }
        #expect(p.isDense && p.logStartOffset == 0 && p.endOffset == 5 && p.recordCount == 5)
        #expect(p.position(ofOffset: 3) == 3 && p.offset(atPosition: 3) == 3 && p.latestOffset(at: 2) == 3)
    }

    @Test func aCapturesOffsetsKeepTheirStartAndGaps() {
        let p = log()
        p.setLogStartOffset(1_234_567)
        #expect(p.endOffset == 1_234_567 && p.latestOffset(at: 0) == 1_234_567)
        for (o, t) in [(Int64(1_234_567), Int64(10)), (1_234_568, 20), (1_234_575, 30), (1_234_576, 40)] {
            [UInt8(o & 0xFF)].withUnsafeBytes { p.append(offset: o, key: nil, valueBuffer: $0, timestampMs: t, appendedAtMicros: t) }
        }
        #expect(!p.isDense && p.recordCount == 4 && p.endOffset == 1_234_577)
        // What is available at t ends one past the last record appended by then.
        #expect(p.latestOffset(at: 9) == 1_234_567 && p.latestOffset(at: 20) == 1_234_569 && p.latestOffset(at: 40) == 1_234_577)
        // A read from an offset in a gap starts at the next record; a gap has no record.
        #expect(p.position(ofOffset: 1_234_570) == 2 && p.exactPosition(ofOffset: 1_234_570) == nil)
        #expect(p.exactPosition(ofOffset: 1_234_575) == 2 && p.record(at: 1_234_575).timestampMs == 30)
        #expect(p.records(from: 1_234_568, to: 1_234_576).map(\.offset) == [1_234_568, 1_234_575])
        // Dense appends after a gap continue from the log end.
        #expect(p.append(key: nil, value: [9], timestampMs: 50, appendedAtMicros: 50) == 1_234_577)
    }
}
