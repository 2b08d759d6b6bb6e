import Broker
import Codec
import Kernel

/// A topic of a capture that replay does not feed to the engine (the engine
/// reads only the two exchange topics). Reported, never dropped silently.
public struct IgnoredTopic: Equatable, Sendable {
    public var topic: String
    public var messages: Int
    public var partitions: Int
    public init(topic: String, messages: Int, partitions: Int) {
        self.topic = topic; self.messages = messages; self.partitions = partitions
    }
}

/// A capture placed on the virtual clock: a simulated Kafka cluster holding
/// the capture's records at their partitions and offsets, and a schema
/// registry holding its schemas under their ids and subjects.
///
/// Timing rules (docs/REPLAY.md):
/// - A message becomes available at its broker append time when the capture
///   has it (`append_time_us`, written by `record`), else at its Kafka
///   timestamp (ms).
/// - `speed` scales time around the earliest replayed message `t0`:
///   `t0 + (t - t0) / speed` (2 = twice as fast), floored to the µs. At a
///   speed other than 1 the Kafka timestamps move with their messages, so
///   latencies measured from them stay meaningful; the values (and the trade
///   times inside them) are untouched.
/// - Within a partition a Kafka log's append order is its offset order, so a
///   message is never available before the one at the previous offset: a
///   timestamp earlier than its predecessor's (producer clocks, retries) is
///   moved up to it, and counted in `reorderedMessages`.
public struct ReplayFeed {
    /// The topics the engine reads; all others are ignored and reported.
    public static let replayedTopics = ExchangeName.allCases.map(\.topic)

    public let cluster: KafkaCluster
    public let registry: SchemaRegistry
    public let schemas: [CapturedSchema]
    public let speed: Decimal8
    /// Messages put on the two exchange topics.
    public let replayedMessages: Int
    /// When the earliest and the latest replayed message became available (after scaling).
    public let firstMicros: Micros?
    public let lastMicros: Micros?
    public let ignoredTopics: [IgnoredTopic]
    /// Messages made available later than their own time to keep offset order.
    public let reorderedMessages: Int
    /// Messages whose broker append time came from the capture (the rest: from the timestamp).
    public let messagesWithAppendTime: Int

    /// The speed as written for people: `1`, `2.5`, `0.25`.
    public var speedText: String {
        var t = speed.description
        if t.contains(".") {
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
        }
        return t
    }

    /// `t0 + (t - t0) * 10^8 / speed.units`, floored, without overflow.
    static func scale(_ t: Micros, from t0: Micros, speed: Decimal8) -> Micros {
        if speed.units == Decimal8.unitsPerWhole { return t }
        let d = t - t0
        let product = d.multipliedFullWidth(by: Decimal8.unitsPerWhole)
        var (q, r) = speed.units.dividingFullWidth(product)
        if r != 0 && (d < 0) != (speed.units < 0) { q -= 1 }  // floor, not truncation
        return t0 + q
    }

    /// Limits that keep every scaled time in 64 bits: a replayed span of at
    /// most 31 days (`maxSpanMicros`, from the first message to the last)
    /// stretched at most 1,000 times (speed 0.001), compressed at most 10^6 times.
    public static let minSpeed = Decimal8(units: Decimal8.unitsPerWhole / 1_000)
    public static let maxSpeed = Decimal8(units: Decimal8.unitsPerWhole * 1_000_000)
    public static let maxSpanMicros: Micros = 31 * Time.microsPerDay

    /// Builds the cluster and registry. `file` names the capture in errors.
    public static func build(_ capture: Capture, speed: Decimal8 = Decimal8(units: Decimal8.unitsPerWhole),
                             file: String) throws(InputError) -> ReplayFeed {
        guard speed.units > 0 else { throw InputError(file: file, line: 0, problem: "the replay speed must be positive") }
        guard speed.units >= minSpeed.units, speed.units <= maxSpeed.units else {
            throw InputError(file: file, line: 0, problem: "--speed \(speed) is out of range \(minSpeed)...\(maxSpeed)")
        }
        let registry = SchemaRegistry()
        for s in capture.schemas {
            do { try registry.register(subject: s.subject, schemaJSON: s.schema, id: s.id) } catch {
                throw InputError(file: file, line: 0, problem: "schema \(s.id) under '\(s.subject)': \(error)")
            }
        }
        let n = capture.messageCount
        let replayed = capture.topics.map { replayedTopics.contains($0) }
        var partitionCount = [Int](repeating: 0, count: capture.topics.count)
        var ignoredCount = [Int](repeating: 0, count: capture.topics.count)
        var t0 = Micros.max, tLast = Micros.min
        func baseTime(_ i: Int) -> Micros {
            let a = capture.appendTimes[i]
            return a == Capture.unknownAppendTime ? capture.timestampsMs[i] * Time.microsPerMilli : a
        }
        // Pass 1: partitions per topic; then offsets checked, counts per
        // partition and the reference time (flat arrays: this runs per message).
        for i in 0..<n {
            let t = Int(capture.topicIndex[i])
            // Whatever the source (a capture, a Kafka log, a Bronze export), the
            // same bounds as a capture file's, before any arithmetic on them.
            let ts = capture.timestampsMs[i], a = capture.appendTimes[i], p = capture.partitions[i]
            guard (0...Capture.maxTimestampMs).contains(ts) else {
                throw InputError(file: file, line: 0, problem: "message \(i + 1): timestamp_ms \(ts) is outside 0...\(Capture.maxTimestampMs) (9999-12-31T23:59:59.999Z)")
            }
            guard a == Capture.unknownAppendTime || (0...Capture.maxAppendTimeMicros).contains(a) else {
                throw InputError(file: file, line: 0, problem: "message \(i + 1): append time \(a) µs is outside 0...\(Capture.maxAppendTimeMicros)")
            }
            guard p >= 0, p < Capture.maxPartitions else {
                throw InputError(file: file, line: 0, problem: "message \(i + 1): partition \(p) is beyond the limit (partitions are numbered below \(Capture.maxPartitions))")
            }
            partitionCount[t] = max(partitionCount[t], Int(p) + 1)
        }
        var base = [Int](repeating: 0, count: capture.topics.count + 1)
        for t in capture.topics.indices { base[t + 1] = base[t] + partitionCount[t] }
        var lastOffset = [Int64](repeating: -1, count: base.last!)
        var perPartition = [Int](repeating: 0, count: base.last!)
        for i in 0..<n {
            let t = Int(capture.topicIndex[i]), p = capture.partitions[i]
            let slot = base[t] + Int(p)
            if capture.offsets[i] <= lastOffset[slot] {
                throw InputError(file: file, line: 0, problem: "message \(i + 1): offset \(capture.offsets[i]) of \(capture.topics[t])-\(p) is not after the previous offset \(lastOffset[slot]) (offsets must increase within a partition)")
            }
            lastOffset[slot] = capture.offsets[i]
            guard replayed[t] else { ignoredCount[t] += 1; continue }
            perPartition[slot] += 1
            t0 = min(t0, baseTime(i))
            tLast = max(tLast, baseTime(i))
        }
        if tLast >= t0, tLast - t0 > maxSpanMicros {
            throw InputError(file: file, line: 0, problem: "the replayed messages span \((tLast - t0) / Time.microsPerDay) days, more than the limit of \(maxSpanMicros / Time.microsPerDay)")
        }
        // Pass 2: topics and partitions (log start = first captured offset), then the records.
        let cluster = KafkaCluster()
        var logs: [[TopicPartition]] = []
        for (t, name) in capture.topics.enumerated() {
            guard replayed[t] else { logs.append([]); continue }
            guard partitionCount[t] > 0 else {
                throw InputError(file: file, line: 0, problem: "topic '\(name)' has no messages")
            }
            let topic = cluster.createTopic(name, partitions: partitionCount[t])
            logs.append(topic.partitions)
        }
        // Per partition: the last availability time (nil: no record yet).
        var lastAvailable = [Micros?](repeating: nil, count: base.last!)
        var first: Micros?, last: Micros?
        var reordered = 0, withAppend = 0, count = 0
        let valueBytesEach = n == 0 ? 0 : capture.valueSlice(n - 1).endIndex / n
        for i in 0..<n {
            let t = Int(capture.topicIndex[i])
            guard replayed[t] else { continue }
            let p = capture.partitions[i]
            let slot = base[t] + Int(p)
            let log = logs[t][Int(p)]
            if lastAvailable[slot] == nil {
                log.setLogStartOffset(capture.offsets[i])
                log.reserveCapacity(records: perPartition[slot], bytesEach: valueBytesEach)
            }
            if capture.appendTimes[i] != Capture.unknownAppendTime { withAppend += 1 }
            var available = scale(baseTime(i), from: t0, speed: speed)
            if let prev = lastAvailable[slot], prev > available { available = prev; reordered += 1 }
            lastAvailable[slot] = available
            let ts = speed.units == Decimal8.unitsPerWhole ? capture.timestampsMs[i]
                : Time.floorDiv(scale(capture.timestampsMs[i] * Time.microsPerMilli, from: t0, speed: speed), Time.microsPerMilli)
            capture.valueSlice(i).withUnsafeBytes { value in
                log.append(offset: capture.offsets[i], key: capture.key(i), valueBuffer: value, timestampMs: ts,
                           appendedAtMicros: available)
            }
            first = min(first ?? available, available)
            last = max(last ?? available, available)
            count += 1
        }
        var ignored: [IgnoredTopic] = []
        for (t, name) in capture.topics.enumerated() where !replayed[t] {
            ignored.append(IgnoredTopic(topic: name, messages: ignoredCount[t], partitions: partitionCount[t]))
        }
        return ReplayFeed(cluster: cluster, registry: registry, schemas: capture.schemas, speed: speed,
                          replayedMessages: count, firstMicros: first, lastMicros: last,
                          ignoredTopics: ignored.sorted { $0.topic < $1.topic }, reorderedMessages: reordered,
                          messagesWithAppendTime: withAppend)
    }
}

/// Captures a cluster's topics: what `record` writes.
public enum CaptureRecorder {
    /// Every record of every topic, merged across partitions in broker append
    /// order (ties: topic name, then partition), each with its append time.
    public static func capture(of cluster: KafkaCluster, schemas: [CapturedSchema]) -> Capture {
        var c = Capture(schemas: schemas)
        var logs: [(topic: Int32, log: TopicPartition)] = []
        for topic in cluster.topics {
            let t = c.internTopic(topic.name)
            for p in topic.partitions where p.recordCount > 0 { logs.append((t, p)) }
        }
        let total = logs.reduce(0) { $0 + $1.log.recordCount }
        c.reserveCapacity(messages: total, valueBytes: logs.reduce(0) { $0 + $1.log.valueByteCount })
        var heads = [Int](repeating: 0, count: logs.count)
        for _ in 0..<total {
            var best = -1
            var bestTime = Micros.max
            for k in logs.indices where heads[k] < logs[k].log.recordCount {
                let a = logs[k].log.appendedAtMicros(atPosition: heads[k])
                if a < bestTime { best = k; bestTime = a }
            }
            let (t, log) = logs[best]
            let i = heads[best]
            heads[best] += 1
            let key = c.internKey(log.key(atPosition: i))
            log.valueSlice(atPosition: i).withUnsafeBytes { value in
                c.append(topic: t, partition: log.partition, offset: log.offset(atPosition: i),
                         timestampMs: log.timestampMs(atPosition: i), appendTimeMicros: bestTime, keyIndex: key, value: value)
            }
        }
        return c
    }
}
