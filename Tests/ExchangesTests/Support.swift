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

/// A minimal reader of the feed's own V1/V2 layout, for tests that need field
/// values (the codec's TradeDecoder is the authority; see CodecAgreementTests).
struct MiniTrade {
    var schemaId: Int32
    var messageId: String
    var tradeId: String
    var symbol: String
    var timestampMicros: Micros
    var priceUnits: Int64
    var quantityUnits: Int64
    var side: Int64
    var ingestionMicros: Micros

    init?(_ b: [UInt8]) {
        guard b.count > 5, b[0] == 0 else { return nil }
        schemaId = Int32(bitPattern: UInt32(b[1]) << 24 | UInt32(b[2]) << 16 | UInt32(b[3]) << 8 | UInt32(b[4]))
        var i = 5
        func long() -> Int64 {
            var shift: UInt64 = 0, z: UInt64 = 0
            while true { let c = b[i]; i += 1; z |= UInt64(c & 0x7F) << shift; if c < 0x80 { break }; shift += 7 }
            return Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
        }
        func bytes() -> [UInt8] { let n = Int(long()); defer { i += n }; return Array(b[i..<(i + n)]) }
        func string() -> String { String(decoding: bytes(), as: UTF8.self) }
        func decimal() -> Int64 { Decimal8(avroBytes: bytes())!.units }
        messageId = string(); tradeId = string(); symbol = string(); _ = string(); _ = string()
        timestampMicros = long(); priceUnits = decimal(); quantityUnits = decimal(); _ = string(); side = long()
        if schemaId == 2 { precondition(long() == 0, "test reader handles empty trade_conditions only") }
        if long() == 1 { _ = long() }
        ingestionMicros = long()
    }
}

extension GeneratedTraffic {
    /// Every (address, record, label) of a topic in (partition, offset) order.
    func messages(_ e: ExchangeName) -> [(MessageAddress, KafkaRecord, GroundTruthLabel)] {
        guard let t = cluster.topic(e.topic) else { return [] }
        var out: [(MessageAddress, KafkaRecord, GroundTruthLabel)] = []
        for p in t.partitions {
            for o in 0..<p.endOffset {
                let a = MessageAddress(topic: t.name, partition: p.partition, offset: o)
                out.append((a, p.record(at: o), groundTruth.label(at: a)!))
            }
        }
        return out
    }
}
