import Broker
import Codec
import Foundation
import Kernel

/// `bench engine`'s production-like traffic, generated second by second:
/// Binance ~60 trades/s over 3 partitions keyed by symbol, Kraken ~1.5
/// trades/s on 1 partition; every trade a real V2 Avro message.
///
/// Generating and Avro-encoding a second's trades (`Seconds`) needs nothing
/// from the engine, so with `ahead` the generator runs on a thread of its own,
/// up to `ahead` seconds in front of the simulation, through a bounded queue;
/// the simulation thread only appends each second's records to Kafka when
/// its virtual time comes. The generator draws from its own random stream in
/// the same order whatever the thread timing, so the records are the same,
/// byte for byte, with or without the thread (`bench engine --digest`).
final class BenchFeed {
    /// One simulated second of traffic, encoded, in append order.
    struct Second: Sendable {
        var topic: [UInt8] = []          // 0 Binance, 1 Kraken
        var partition: [Int32] = []
        var key: [UInt8] = []            // index into the exchange's symbols
        var timestampMs: [Int64] = []
        var appendedAt: [Micros] = []
        /// Value bytes back to back; record i ends at `ends[i]`.
        var values: [UInt8] = []
        var ends: [Int] = []
    }

    /// Generates and encodes seconds in order (owned by one thread at a time).
    final class Seconds: @unchecked Sendable {
        let encoder: TradeEncoder
        var rng: RandomStream
        var produced = 0
        /// Wall time spent generating and encoding (diagnostics).
        var busySeconds = 0.0
        static let exchanges: [(ExchangeName, perSecond: Double, symbols: [String], partitions: Int)] = [
            (.binance, 60.0, ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"], 3),
            (.kraken, 1.5, ["BTC/USD", "ETH/USD", "SOL/USD"], 1),
        ]
        static let keys: [[[UInt8]]] = exchanges.map { $0.symbols.map { Array($0.utf8) } }
        static let partitions: [[Int32]] = exchanges.map { e in
            e.symbols.map { KafkaPartitioner.partition(forKey: Array($0.utf8), partitionCount: e.partitions) }
        }

        init(registry: SchemaRegistry, seed: UInt64) throws {
            encoder = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
            rng = RandomStreams(seed: seed).stream("bench.engine.feed")
        }

        /// A random (version 4) UUID, formatted without per-character appends:
        /// the generator must not be what the benchmark measures.
        static func uuid(_ rng: inout RandomStream) -> String {
            let hi = (rng.nextUInt64() & ~0xF000) | 0x4000
            let lo = (rng.nextUInt64() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
            return String(unsafeUninitializedCapacity: 36) { buf in
                let hex: StaticString = "0123456789abcdef"
                var j = 0
                for k in 0..<32 {
                    if k == 8 || k == 12 || k == 16 || k == 20 { buf[j] = UInt8(ascii: "-"); j += 1 }
                    let word = k < 16 ? hi : lo
                    buf[j] = hex.utf8Start[Int((word >> UInt64(60 - 4 * (k % 16))) & 0xF)]; j += 1
                }
                return 36
            }
        }

        /// The trades of the second starting at `t`.
        func second(_ t: Micros) -> Second {
            let clock = ContinuousClock()
            let started = clock.now
            var out = Second()
            for (x, (exchange, perSecond, symbols, _)) in Self.exchanges.enumerated() {
                let n = Int(rng.poisson(mean: perSecond))
                var offsets = (0..<n).map { _ in rng.uniform(in: 0...(Time.microsPerSecond - 1)) }
                offsets.sort()
                for o in offsets {
                    let at = t + o
                    let s = Int(rng.uniform(below: UInt64(symbols.count)))
                    let quote = exchange == .binance ? "USDT" : "USD"
                    var trade = Trade(messageId: Self.uuid(&rng), tradeId: String(rng.uniform(in: 1_000_000_000...9_999_999_999)),
                                      symbol: symbols[s], exchange: exchange.rawValue,
                                      timestampMicros: at - rng.uniform(in: 0...1_500_000),
                                      price: Decimal8(units: rng.uniform(in: 100_000_000...7_000_000_000_000)),
                                      quantity: Decimal8(units: rng.uniform(in: 10_000...100_000_000)),
                                      currency: quote, side: rng.chance(.percent(50)) ? .buy : .sell,
                                      sourceSequence: Int64(produced), ingestionTimestampMicros: at)
                    if exchange == .binance {
                        trade.vendorData = ["is_best_match": "true", "m": rng.chance(.percent(50)) ? "true" : "false"]
                    } else {
                        trade.tradeConditions = rng.chance(.percent(20)) ? ["market"] : ["limit"]
                    }
                    trade.platformSequence = Int64(produced)
                    out.values.append(contentsOf: encoder.encode(trade))
                    out.ends.append(out.values.count)
                    out.topic.append(UInt8(x)); out.partition.append(Self.partitions[x][s]); out.key.append(UInt8(s))
                    out.timestampMs.append(at / 1_000); out.appendedAt.append(at)
                    produced += 1
                }
            }
            let d = clock.now - started
            busySeconds += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            return out
        }
    }

    /// A bounded first-in first-out queue of seconds between two threads.
    final class Queue: @unchecked Sendable {
        private var items: [Second?]
        private var head = 0, count = 0
        private let condition = NSCondition()

        init(capacity: Int) { items = Array(repeating: nil, count: capacity) }

        func push(_ s: Second) {
            condition.lock()
            while count == items.count { condition.wait() }
            items[(head + count) % items.count] = s
            count += 1
            condition.broadcast()
            condition.unlock()
        }

        /// The oldest second, waiting for it when the queue is empty.
        func pop() -> Second {
            condition.lock()
            while count == 0 { condition.wait() }
            let s = items[head]!
            items[head] = nil
            head = (head + 1) % items.count; count -= 1
            condition.broadcast()
            condition.unlock()
            return s
        }
    }

    let cluster: KafkaCluster
    private let seconds: Seconds
    private let queue: Queue?
    private let topics: [Topic]
    /// Wall time the simulation thread waited for the generator thread (diagnostics).
    private(set) var waitedSeconds = 0.0

    /// Traffic for the seconds `start, start + 1 s, ... < end`; with `ahead`,
    /// generated on a thread of its own at most `ahead` seconds in front.
    init(cluster: KafkaCluster, registry: SchemaRegistry, seed: UInt64, start: Micros, end: Micros, ahead: Int?) throws {
        self.cluster = cluster
        seconds = try Seconds(registry: registry, seed: seed)
        topics = Seconds.exchanges.map { cluster.topic($0.0.topic)! }
        guard let ahead else { queue = nil; return }
        let q = Queue(capacity: ahead)
        queue = q
        let source = seconds
        let producer = Thread {
            var t = start
            while t < end { q.push(source.second(t)); t += Time.microsPerSecond }
        }
        producer.start()
    }

    /// Trades produced so far (read once the run is over).
    var produced: Int { seconds.produced }
    /// Wall time spent generating and encoding (on whichever thread did it).
    var generatorSeconds: Double { seconds.busySeconds }

    /// Appends the records of the second starting at `t` (seconds come in order).
    func append(second t: Micros) {
        let s: Second
        if let queue {
            let clock = ContinuousClock(), began = clock.now
            s = queue.pop()
            let d = clock.now - began
            waitedSeconds += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        } else {
            s = seconds.second(t)
        }
        s.values.withUnsafeBytes { values in
            for i in 0..<s.ends.count {
                let from = i == 0 ? 0 : s.ends[i - 1]
                let key = Seconds.keys[Int(s.topic[i])][Int(s.key[i])]
                topics[Int(s.topic[i])].partitions[Int(s.partition[i])]
                    .append(key: key, valueBuffer: UnsafeRawBufferPointer(rebasing: values[from ..< s.ends[i]]),
                            timestampMs: s.timestampMs[i], appendedAtMicros: s.appendedAt[i])
            }
        }
    }

    /// FNV-1a 64 over every record of every topic, in topic, partition and
    /// offset order: offset, create and append times, key, value.
    static func digest(_ cluster: KafkaCluster) -> UInt64 {
        var h = FNV1a64()
        func mix<C: Sequence>(_ bytes: C) where C.Element == UInt8 { h.mix(bytes) }
        func mix(_ x: Int64) { withUnsafeBytes(of: x.littleEndian) { mix($0) } }
        for topic in cluster.topics {
            for p in topic.partitions {
                for i in 0..<p.recordCount {
                    mix(p.offset(atPosition: i)); mix(p.timestampMs(atPosition: i)); mix(p.appendedAtMicros(atPosition: i))
                    mix(p.key(atPosition: i) ?? []); mix(p.valueSlice(atPosition: i))
                }
            }
        }
        return h.value
    }
}
