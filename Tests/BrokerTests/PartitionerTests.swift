import Testing
@testable import Broker

@Suite struct PartitionerTests {
    /// Expected values from Kafka's own `UtilsTest.testMurmur2` (clients module).
    @Test func murmur2MatchesKafka() {
        let cases: [(String, Int32)] = [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ]
        for (s, want) in cases {
            #expect(KafkaPartitioner.murmur2(Array(s.utf8)) == want, "murmur2(\(s))")
        }
        #expect(KafkaPartitioner.murmur2([0x61, 0x62, 0x63]) == 479470107)
    }

    @Test func availabilityIsAPrefixByAppendTime() {
        let c = KafkaCluster()
        let t = c.createTopic("t", partitions: 2)
        let p = t.partitions[1]
        p.append(key: nil, value: [1], timestampMs: 1, appendedAtMicros: 1_000)
        p.append(key: nil, value: [2], timestampMs: 2, appendedAtMicros: 2_000)
        p.append(key: nil, value: [3], timestampMs: 2, appendedAtMicros: 2_000)
        #expect(p.latestOffset(at: 999) == 0)
        #expect(p.latestOffset(at: 1_000) == 1)
        #expect(p.latestOffset(at: 2_000) == 3)
        #expect(p.records(from: 1, to: 3).map(\.value) == [[2], [3]])
        #expect(c.topics.map(\.name) == ["t"])
    }
}
