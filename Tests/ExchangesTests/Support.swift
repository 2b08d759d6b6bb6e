import Foundation
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

/// The fields the feed tests look at, decoded by the codec's `TradeDecoder`
/// (the authority on the wire format; no second reader to keep in step).
struct MiniTrade {
    var schemaId: Int32
    var messageId: String
    var tradeId: String
    var symbol: String
    var timestampMicros: Micros
    var priceUnits: Int64
    var quantityUnits: Int64
    /// The Avro enum index: 0 BUY, 1 SELL.
    var side: Int64
    var ingestionMicros: Micros

    /// A decoder is not thread-safe and tests run in parallel: one shared, locked.
    private static let decoder = Locked(TradeDecoder(registry: .standard()))

    init?(_ b: [UInt8]) {
        guard case .success(let d) = Self.decoder.with({ $0.decode(b) }) else { return nil }
        let t = d.trade
        schemaId = d.schemaId; messageId = t.messageId; tradeId = t.tradeId; symbol = t.symbol
        timestampMicros = t.timestampMicros; priceUnits = t.price.units; quantityUnits = t.quantity.units
        side = t.side == .buy ? 0 : 1; ingestionMicros = t.ingestionTimestampMicros
    }
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private let value: T
    init(_ value: T) { self.value = value }
    func with<R>(_ body: (T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(value) }
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
