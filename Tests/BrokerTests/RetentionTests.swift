import Kernel
import Testing
@testable import Broker

/// Topic retention: whole segments deleted by age or size, by a cleaner that
/// runs every check interval; the log start offset only moves forward.
@Suite struct RetentionTests {
    /// 600 records, one a second from 0 s (create time = append time), `bytes` value bytes each.
    func log(_ r: TopicRetention, bytes: Int = 10) -> TopicPartition {
        let t = KafkaCluster().createTopic("t", partitions: 1)
        t.retention = r
        let p = t.partitions[0]
        for i in 0..<600 {
            p.append(key: nil, value: [UInt8](repeating: 1, count: bytes), timestampMs: Int64(i) * 1_000,
                     appendedAtMicros: Int64(i) * Time.microsPerSecond)
        }
        return p
    }

    func at(_ s: Int64) -> Micros { s * Time.microsPerSecond }

    @Test func foreverDeletesNothing() {
        let p = log(.forever)
        #expect(p.earliestOffset(at: at(599)) == 0 && p.retainedStartPosition(at: at(10_000)) == 0)
    }

    /// Segments roll when a record's create time is more than segment.ms after
    /// the segment's first: [0 s, 60 s], [61 s, 121 s], [122 s, 182 s], ...
    /// At the check at 300 s the cutoff is 180 s: the first two segments are
    /// wholly older and go; the third holds 182 s and stays, whole.
    @Test func ageDeletesWholeSegmentsAtEachCheck() {
        let p = log(TopicRetention(retentionMs: 120_000, segmentMs: 60_000, checkIntervalMs: 300_000))
        #expect(p.earliestOffset(at: at(299)) == 0)  // the last check (0 s) deleted nothing
        #expect(p.earliestOffset(at: at(300)) == 122)
        #expect(p.earliestOffset(at: at(599)) == 122)  // no check since 300 s
        // After the last record, at the check at 900 s (cutoff 780 s) everything is older: all of it goes.
        #expect(p.earliestOffset(at: at(900)) == 600 && p.endOffset == 600)
    }

    /// 10-byte records, 100-byte segments (10 records each), retention.bytes 250:
    /// at the check at 300 s (301 records, 3,010 bytes) the oldest segments go
    /// while at least 250 bytes stay: 27 of them.
    @Test func sizeDeletesOldestSegmentsWhileTheRestStaysAboveTheLimit() {
        let p = log(TopicRetention(retentionBytes: 250, segmentBytes: 100, checkIntervalMs: 300_000))
        #expect(p.earliestOffset(at: at(300)) == 270)
        #expect(p.earliestOffset(at: at(600)) == 570)
    }

    @Test func theLogStartNeverMovesBackAndAnEarlierQueryIsAnsweredForItsTime() {
        let p = log(TopicRetention(retentionMs: 30_000, segmentMs: 10_000, checkIntervalMs: 60_000))
        var last: Int64 = 0
        for s in stride(from: Int64(0), to: 700, by: 7) {
            let e = p.earliestOffset(at: at(s))
            #expect(e >= last)
            last = e
        }
        // Asked again about 120 s after the later questions: the answer of the check at 120 s.
        #expect(p.earliestOffset(at: at(120)) == p.earliestOffset(at: at(179)))
        #expect(p.earliestOffset(at: at(120)) > 0 && p.earliestOffset(at: at(120)) <= 90)
    }
}
