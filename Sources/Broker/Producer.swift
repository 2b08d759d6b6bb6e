import Kernel

/// A seeded delay distribution, quantized to whole microseconds (used for
/// producer -> broker delivery and exchange -> producer feed latency).
public enum LatencyDistribution: Sendable, Equatable, CustomStringConvertible {
    case constant(Micros)
    /// Uniform over the closed range.
    case uniform(minMicros: Micros, maxMicros: Micros)
    case exponential(meanMicros: Micros)
    /// exp(ln(median) + sigma N(0,1)): right-skewed, the usual shape of network latency.
    case logNormal(medianMicros: Micros, sigma: Double)

    /// One draw; never negative. Uses only `DeterministicMath`, so it is identical on every platform.
    @inlinable
    public func draw(_ rng: inout RandomStream) -> Micros {
        switch self {
        case .constant(let c): return max(0, c)
        case .uniform(let lo, let hi): return max(0, rng.uniform(in: lo...max(lo, hi)))
        case .exponential(let mean): return rng.exponentialMicros(mean: mean)
        case .logNormal(let median, let sigma): return rng.logNormalMicros(median: median, sigma: sigma)
        }
    }

    public var description: String {
        switch self {
        case .constant(let c): return "constant(\(DurationParser.format(c)))"
        case .uniform(let lo, let hi): return "uniform(\(DurationParser.format(lo))..\(DurationParser.format(hi)))"
        case .exponential(let m): return "exponential(mean \(DurationParser.format(m)))"
        case .logNormal(let m, let s): return "logNormal(median \(DurationParser.format(m)), sigma \(s))"
        }
    }
}

/// A producer for one topic: keyed records go to Kafka's default partition,
/// each send reaches the broker after a seeded delivery latency, and records
/// are appended to a partition in order of arrival at the broker.
///
/// Sends must come in non-decreasing create time (a producer's clock only
/// moves forward). A send is held "in flight" until no later send can arrive
/// at the broker before it, then appended; so the partitions' append order is
/// exactly the order of (append time, send sequence), whatever the latencies.
/// The in-flight set is small (rate x latency), bounded by `maxInFlight`.
///
/// `Tag` is the caller's label for a send; `onAppend` reports the offset it
/// received, in append order. (The exchanges use it to file ground truth.)
public final class KafkaProducer<Tag> {
    public typealias AppendHandler = (_ tag: Tag, _ partition: Int32, _ offset: Int64, _ appendedAtMicros: Micros) -> Void

    @usableFromInline
    struct InFlight {
        @usableFromInline let appendAt: Micros
        @usableFromInline let sequence: UInt64
        @usableFromInline let createdAt: Micros
        @usableFromInline let key: [UInt8]?
        @usableFromInline let value: [UInt8]
        @usableFromInline let tag: Tag
        @inlinable init(appendAt: Micros, sequence: UInt64, createdAt: Micros, key: [UInt8]?, value: [UInt8], tag: Tag) {
            self.appendAt = appendAt; self.sequence = sequence; self.createdAt = createdAt
            self.key = key; self.value = value; self.tag = tag
        }
    }

    public let topic: Topic
    public var deliveryLatency: LatencyDistribution
    /// A bound on records awaiting append (put a limit on everything).
    public let maxInFlight: Int
    // Internal state is @usableFromInline so that the hot path below can be
    // specialized for the caller's Tag (a generic class called across modules
    // otherwise pays for metadata lookups on every send).
    @usableFromInline var rng: RandomStream
    @usableFromInline var inFlight: [[InFlight]]
    @usableFromInline var inFlightCount = 0
    @usableFromInline var lastCreatedAt: Micros = .min
    @usableFromInline var nextSequence: UInt64 = 0
    @usableFromInline let onAppend: AppendHandler
    @usableFromInline var sentCountStorage: Int64 = 0
    public var sentCount: Int64 { sentCountStorage }

    public init(topic: Topic, deliveryLatency: LatencyDistribution, rng: RandomStream,
                maxInFlight: Int = 1_000_000, onAppend: @escaping AppendHandler) {
        self.topic = topic
        self.deliveryLatency = deliveryLatency
        self.rng = rng
        self.maxInFlight = maxInFlight
        self.inFlight = Array(repeating: [], count: topic.partitionCount)
        self.onAppend = onAppend
    }

    /// Kafka's default partition for a key on this topic.
    public func partition(forKey key: [UInt8]) -> Int32 {
        KafkaPartitioner.partition(forKey: key, partitionCount: topic.partitionCount)
    }

    /// Sends a keyed record to its default partition; returns the partition.
    @discardableResult
    public func send(key: [UInt8], value: [UInt8], createdAtMicros: Micros, tag: Tag,
                     notBeforeMicros: Micros = .min) -> Int32 {
        let p = partition(forKey: key)
        send(partition: p, key: key, value: value, createdAtMicros: createdAtMicros, tag: tag, notBeforeMicros: notBeforeMicros)
        return p
    }

    /// Sends to an explicit partition. The record reaches the broker at
    /// create time + a latency draw, but never before `notBeforeMicros`
    /// (a retry cannot overtake the send it repeats). Returns the append time.
    @inlinable @discardableResult
    public func send(partition p: Int32, key: [UInt8]?, value: [UInt8], createdAtMicros: Micros, tag: Tag,
                     notBeforeMicros: Micros = .min) -> Micros {
        precondition(createdAtMicros >= lastCreatedAt, "sends to \(topic.name) must come in create-time order")
        precondition(p >= 0 && Int(p) < inFlight.count, "partition \(p) out of range for \(topic.name)")
        lastCreatedAt = createdAtMicros
        flush(through: createdAtMicros)
        let appendAt = max(createdAtMicros + deliveryLatency.draw(&rng), notBeforeMicros)
        let entry = InFlight(appendAt: appendAt, sequence: nextSequence, createdAt: createdAtMicros,
                             key: key, value: value, tag: tag)
        nextSequence &+= 1
        sentCountStorage += 1
        // Insert keeping (appendAt, sequence) order; new entries have the largest
        // sequence, so scan from the back past later append times only.
        var i = inFlight[Int(p)].count
        while i > 0 && inFlight[Int(p)][i - 1].appendAt > appendAt { i -= 1 }
        inFlight[Int(p)].insert(entry, at: i)
        inFlightCount += 1
        precondition(inFlightCount <= maxInFlight, "more than \(maxInFlight) records in flight to \(topic.name)")
        return appendAt
    }

    /// Appends every in-flight record that reaches the broker at or before `t`.
    /// Safe whenever no later send can have a create time before `t`.
    @inlinable
    public func flush(through t: Micros) {
        for p in inFlight.indices where !inFlight[p].isEmpty {
            var n = 0
            let queue = inFlight[p]
            while n < queue.count && queue[n].appendAt <= t { n += 1 }
            if n == 0 { continue }
            let partition = topic.partitions[p]
            for e in queue[..<n] {
                let offset = partition.append(key: e.key, value: e.value, timestampMs: Time.floorDiv(e.createdAt, Time.microsPerMilli),
                                              appendedAtMicros: e.appendAt)
                onAppend(e.tag, Int32(p), offset, e.appendAt)
            }
            inFlight[p].removeFirst(n)
            inFlightCount -= n
        }
    }

    /// Appends everything still in flight (end of the run).
    public func flushAll() { flush(through: .max) }

    public var inFlightRecords: Int { inFlightCount }
}
