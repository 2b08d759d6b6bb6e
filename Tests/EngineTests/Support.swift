import Broker
import Codec
import Kernel
@testable import Engine

/// A stand-in wire format for engine tests (the Avro codec is tested on its
/// own): the Confluent 5-byte header, then a fixed 41-byte body that carries
/// what the engine needs to build a valid or invalid trade. The fake decoder
/// applies the header rules exactly as Silver's real decoder does.
enum FakeWire {
    static let knownSchemaIds: Set<Int32> = [1, 2]

    struct Spec {
        var exchange: ExchangeName
        var id: UInt64                 // -> message_id
        var timestampMicros: Micros
        var ingestionMicros: Micros
        var priceUnits: Int64 = 6_500_000_000_000
        var schemaId: Int32 = 2
    }

    static func encode(_ s: Spec) -> [UInt8] {
        var b: [UInt8] = [0]
        for k in (0..<4).reversed() { b.append(UInt8(truncatingIfNeeded: s.schemaId >> (8 * Int32(k)))) }
        b.append(s.exchange == .binance ? 0 : 1)
        for v in [Int64(bitPattern: s.id), s.timestampMicros, s.ingestionMicros, s.priceUnits] {
            for k in (0..<8).reversed() { b.append(UInt8(truncatingIfNeeded: v >> (8 * Int64(k)))) }
        }
        return b
    }

    static func messageId(_ id: UInt64) -> String {
        let hex = Array("0123456789abcdef")
        var tail = ""
        for k in (0..<12).reversed() { tail.append(hex[Int((id >> (4 * UInt64(k))) & 0xF)]) }
        return "00000000-0000-4000-8000-" + tail
    }

    static func trade(_ s: Spec) -> Trade {
        let binance = s.exchange == .binance
        return Trade(messageId: messageId(s.id), tradeId: "T\(s.id)", symbol: binance ? "BTCUSDT" : "BTC/USD",
                     exchange: s.exchange.rawValue, timestampMicros: s.timestampMicros,
                     price: Decimal8(units: s.priceUnits), quantity: Decimal8(units: 1_000_000),
                     currency: binance ? "USDT" : "USD", side: s.id % 2 == 0 ? .buy : .sell,
                     tradeConditions: s.id % 3 == 0 ? ["BLOCK"] : [], sourceSequence: Int64(s.id),
                     ingestionTimestampMicros: s.ingestionMicros,
                     platformSequence: s.id % 5 == 0 ? nil : Int64(s.id) * 2,
                     vendorData: s.id % 4 == 0 ? nil : ["is_buyer_maker": s.id % 2 == 0 ? "true" : "false", "e": "trade"])
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> SilverDecodeResult {
        if bytes.isEmpty { return .failure(.emptyPayload, message: "empty payload", schemaId: nil) }
        if bytes.count < 5 { return .failure(.truncatedHeader, message: "header shorter than 5 bytes", schemaId: nil) }
        if bytes[0] != 0 { return .failure(.invalidMagicByte, message: "magic byte \(bytes[0])", schemaId: nil) }
        var sid: Int32 = 0
        for k in 1...4 { sid = sid << 8 | Int32(bytes[k]) }
        if !knownSchemaIds.contains(sid) { return .failure(.unknownSchemaId, message: "schema id \(sid)", schemaId: sid) }
        guard bytes.count == 5 + 33 else { return .failure(.avroDecodeError, message: "bad body", schemaId: sid) }
        func int64(_ at: Int) -> Int64 { var v: Int64 = 0; for k in 0..<8 { v = v << 8 | Int64(bytes[at + k]) }; return v }
        let spec = Spec(exchange: bytes[5] == 0 ? .binance : .kraken, id: UInt64(bitPattern: int64(6)),
                        timestampMicros: int64(14), ingestionMicros: int64(22), priceUnits: int64(30), schemaId: sid)
        return .trade(trade(spec), schemaId: sid)
    }
}

/// 2026-01-20T09:00:00Z: a whole minute, so every trigger interval aligns with it.
let T0: Micros = 1_768_899_600 * Time.microsPerSecond

func sec(_ s: Int64) -> Micros { s * Time.microsPerSecond }

/// A Kafka cluster with both topics.
func makeCluster(binancePartitions: Int = 1, krakenPartitions: Int = 1) -> KafkaCluster {
    let c = KafkaCluster()
    c.createTopic(ExchangeName.binance.topic, partitions: binancePartitions)
    c.createTopic(ExchangeName.kraken.topic, partitions: krakenPartitions)
    return c
}

/// Appends one record produced at `at` (create time) and appended at `at`.
@discardableResult
func produce(_ c: KafkaCluster, _ e: ExchangeName, partition: Int = 0, at: Micros, value: [UInt8]) -> Int64 {
    c.topic(e.topic)!.partitions[partition].append(key: nil, value: value, timestampMs: at / 1_000, appendedAtMicros: at)
}

/// Appends a valid trade with event time `eventMicros` (default: `at`).
@discardableResult
func produceTrade(_ c: KafkaCluster, _ e: ExchangeName, id: UInt64, at: Micros, eventMicros: Micros? = nil,
                  partition: Int = 0, priceUnits: Int64 = 6_500_000_000_000) -> Int64 {
    produce(c, e, partition: partition, at: at,
            value: FakeWire.encode(.init(exchange: e, id: id, timestampMicros: eventMicros ?? at, ingestionMicros: at,
                                         priceUnits: priceUnits)))
}

/// A profile in which every job costs nothing but what is given.
func profile(overheadMicros: Micros = 0, commitMicros: Micros = 0, jobs: [JobName]? = nil) -> CostProfile {
    var p = CostProfile.free
    for j in jobs ?? JobName.allCases {
        p[j].batchOverheadMicros = overheadMicros
        p[j].commitLatency = .constant(commitMicros)
    }
    return p
}

func pipeline(_ c: KafkaCluster, start: Micros = T0, end: Micros, jobs: [JobConfig] = JobConfig.defaults,
              profile p: CostProfile = .free, overrides: [CostOverride] = [], crashes: [CrashPlan] = [],
              seed: UInt64 = 7) -> Pipeline {
    Pipeline(cluster: c, config: EngineConfig(startMicros: start, endMicros: end, jobs: jobs, profile: p,
                                              overrides: overrides, crashes: crashes, seed: seed),
             decoders: { _ in FakeWire.decode })
}

extension Pipeline {
    func batches(_ job: JobName) -> [BatchRecord] { batchLog.filter { $0.job == job } }
    func committed(_ job: JobName) -> [BatchRecord] { batches(job).filter { $0.outcome == .committed } }
}

/// What a synthetic feed produced (ground truth the engine never sees).
struct FeedStats {
    var produced = 0
    var malformed = 0
    var resends = 0
    var retries = 0
}

/// A deterministic feed: Poisson arrivals per exchange, event times up to 2 s
/// before the append, and (with `faults`) malformed payloads, exchange
/// re-sends (same message id, new message) and producer retries (same bytes,
/// new offset).
@discardableResult
func syntheticFeed(_ c: KafkaCluster, from: Micros, to: Micros, binancePerSecond: Int64, krakenPerSecond: Int64,
                   seed: UInt64, faults: Bool) -> FeedStats {
    var rng = RandomStreams(seed: seed).stream("test.feed")
    struct Pending { var at: Micros; var exchange: ExchangeName }
    var events: [Pending] = []
    for (e, rate) in [(ExchangeName.binance, binancePerSecond), (.kraken, krakenPerSecond)] where rate > 0 {
        var t = from
        while true {
            t += max(1, rng.exponentialMicros(mean: Time.microsPerSecond / rate))
            if t >= to { break }
            events.append(Pending(at: t, exchange: e))
        }
    }
    events.sort { ($0.at, $0.exchange) < ($1.at, $1.exchange) }
    var stats = FeedStats()
    var nextId: UInt64 = 1
    // A re-send goes to its original's partition, as a producer keyed by
    // symbol does; so "first wins" in Gold never depends on how batches cut
    // across partitions.
    var recent: [ExchangeName: [(spec: FakeWire.Spec, partition: Int)]] = [:]
    for (n, ev) in events.enumerated() {
        let partitions = c.topic(ev.exchange.topic)!.partitionCount
        var p = Int(rng.uniform(below: UInt64(partitions)))
        let spec = FakeWire.Spec(exchange: ev.exchange, id: nextId,
                                 timestampMicros: ev.at - rng.uniform(in: 0...2_000_000), ingestionMicros: ev.at)
        nextId += 1
        var value = FakeWire.encode(spec)
        var isMalformed = false
        if faults && n % 97 == 50 {
            switch (n / 97) % 4 {
            case 0: value = []
            case 1: value[0] = 7
            case 2: value = Array(value.dropLast(3))
            default:
                value = FakeWire.encode(.init(exchange: ev.exchange, id: spec.id, timestampMicros: spec.timestampMicros,
                                              ingestionMicros: ev.at, priceUnits: -5))
            }
            stats.malformed += 1
            isMalformed = true
        } else if faults && n % 151 == 70, let old = recent[ev.exchange]?.first {
            value = FakeWire.encode(.init(exchange: ev.exchange, id: old.spec.id, timestampMicros: old.spec.timestampMicros,
                                          ingestionMicros: ev.at))
            p = old.partition
            stats.resends += 1
        }
        produce(c, ev.exchange, partition: p, at: ev.at, value: value)
        stats.produced += 1
        if faults && n % 173 == 90 {
            produce(c, ev.exchange, partition: p, at: ev.at, value: value)
            stats.produced += 1
            if isMalformed { stats.malformed += 1 } else { stats.retries += 1 }
        }
        recent[ev.exchange, default: []].append((spec, p))
        if recent[ev.exchange]!.count > 20 { recent[ev.exchange]!.removeFirst() }
    }
    return stats
}
