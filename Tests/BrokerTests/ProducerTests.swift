import Testing
import Kernel
@testable import Broker

@Suite struct ProducerTests {
    struct Appended: Equatable { let tag: Int; let partition: Int32; let offset: Int64; let at: Micros }

    @Test func keyedSendsGoToKafkasDefaultPartitionInAppendTimeOrder() {
        let cluster = KafkaCluster()
        let topic = cluster.createTopic("t", partitions: 3)
        var log: [Appended] = []
        let producer = KafkaProducer<Int>(topic: topic, deliveryLatency: .uniform(minMicros: 0, maxMicros: 5_000),
                                          rng: RandomStreams(seed: 1).stream("p")) { tag, p, o, at in
            log.append(Appended(tag: tag, partition: p, offset: o, at: at))
        }
        let keys = ["BTCUSDT", "ETHUSDT", "SOLUSDT"].map { Array($0.utf8) }
        for i in 0..<3_000 {
            let key = keys[i % 3]
            producer.send(key: key, value: [UInt8(i & 0xFF)], createdAtMicros: Micros(i) * 100, tag: i)
        }
        #expect(producer.inFlightRecords > 0)
        producer.flushAll()
        #expect(producer.inFlightRecords == 0)
        #expect(log.count == 3_000)
        for p in topic.partitions {
            // Offsets dense, append times non-decreasing, every key in its murmur2 partition.
            var last: Micros = .min
            for o in 0..<p.endOffset {
                let r = p.record(at: o)
                #expect(r.appendedAtMicros >= last)
                last = r.appendedAtMicros
                #expect(KafkaPartitioner.partition(forKey: r.key!, partitionCount: 3) == p.partition)
                #expect(r.appendedAtMicros >= r.timestampMs * 1_000)
            }
        }
        // Latency reorders sends: some later send overtook an earlier one.
        let tagsInP0 = log.filter { $0.partition == log[0].partition }.map(\.tag)
        #expect(tagsInP0 != tagsInP0.sorted())
        #expect(topic.partitions.map(\.endOffset).reduce(0, +) == 3_000)
    }

    @Test func notBeforeKeepsARetryBehindItsOriginal() {
        let cluster = KafkaCluster()
        let topic = cluster.createTopic("t", partitions: 1)
        var order: [Int] = []
        let producer = KafkaProducer<Int>(topic: topic, deliveryLatency: .constant(10_000),
                                          rng: RandomStreams(seed: 1).stream("p")) { tag, _, _, _ in order.append(tag) }
        producer.send(partition: 0, key: nil, value: [1], createdAtMicros: 0, tag: 1)
        producer.send(partition: 0, key: nil, value: [1], createdAtMicros: 1, tag: 2, notBeforeMicros: 50_000)
        producer.send(partition: 0, key: nil, value: [2], createdAtMicros: 2, tag: 3)
        producer.flushAll()
        #expect(order == [1, 3, 2])
        #expect(topic.partitions[0].latestOffset(at: 10_001) == 1)
        #expect(topic.partitions[0].latestOffset(at: 50_000) == 3)
    }

    @Test func compactStorageRoundTrips() {
        let cluster = KafkaCluster()
        let p = cluster.createTopic("t", partitions: 1).partitions[0]
        p.append(key: [1, 2], value: [], timestampMs: 5, appendedAtMicros: 10)
        p.append(key: nil, value: [9, 8, 7], timestampMs: 6, appendedAtMicros: 10)
        p.append(key: [1, 2], value: [4], timestampMs: 7, appendedAtMicros: 11)
        #expect(p.record(at: 0) == KafkaRecord(topic: "t", partition: 0, offset: 0, timestampMs: 5, appendedAtMicros: 10, key: [1, 2], value: []))
        #expect(p.record(at: 1).key == nil)
        #expect(Array(p.valueSlice(at: 1)) == [9, 8, 7])
        #expect(p.value(at: 2) == [4])
        #expect(p.valueByteCount == 4)
    }

    @Test func latencyDrawsAreSeededAndNonNegative() {
        var a = RandomStreams(seed: 9).stream("lat"), b = RandomStreams(seed: 9).stream("lat")
        let d = LatencyDistribution.logNormal(medianMicros: 2_000, sigma: 0.8)
        let xs = (0..<1_000).map { _ in d.draw(&a) }
        let ys = (0..<1_000).map { _ in d.draw(&b) }
        #expect(xs == ys)
        #expect(xs.allSatisfy { $0 >= 0 })
        let median = xs.sorted()[500]
        #expect((1_700...2_300).contains(median))
    }
}
