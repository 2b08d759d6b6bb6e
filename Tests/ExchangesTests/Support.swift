import Kernel
import Codec
import Broker
@testable import Exchanges

enum Fixture {
    static let start: Micros = UTCDateTime.micros(year: 2026, month: 1, day: 20, hour: 9)

    /// FNV-1a 64 over every record of every topic, in (topic, partition, offset) order.
    static func hash(_ cluster: KafkaCluster) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ b: UInt8) { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01B3 }
        func mix64(_ v: Int64) { for i in 0..<8 { mix(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        for t in cluster.topics {
            for b in t.name.utf8 { mix(b) }
            for p in t.partitions {
                mix64(Int64(p.partition))
                for o in 0..<p.endOffset {
                    let r = p.record(at: o)
                    mix64(o); mix64(r.timestampMs); mix64(r.appendedAtMicros)
                    mix64(Int64(r.key?.count ?? -1)); for b in r.key ?? [] { mix(b) }
                    mix64(Int64(r.value.count)); for b in r.value { mix(b) }
                }
            }
        }
        return h
    }

    static func plan(seed: UInt64, minutes: Int64, feeds: [ExchangeFeedConfig] = [.defaultBinance, .defaultKraken],
                     faults: [FaultSpec] = []) -> TrafficPlan {
        TrafficPlan(seed: seed, startMicros: start, durationMicros: Time.minutes(minutes), feeds: feeds, faults: faults)
    }

    static func at(_ minutes: Int64) -> Micros { start + Time.minutes(minutes) }
}
