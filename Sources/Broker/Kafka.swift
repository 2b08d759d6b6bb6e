import Kernel

/// One Kafka record as a consumer sees it.
public struct KafkaRecord: Equatable, Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// Producer create time, milliseconds since the epoch (Kafka timestamps are ms).
    public let timestampMs: Int64
    /// When the broker appended it (create time + producer delivery latency).
    public let appendedAtMicros: Micros
    public let key: [UInt8]?
    public let value: [UInt8]
}

/// One partition: an append-only log. Offsets start at 0 and are dense.
///
/// Appends must come in non-decreasing append time, as a real broker's log
/// does; so "what is available at time t" is a prefix, found by binary search.
///
/// Storage is columnar and compact, because a 24-hour run at default rates
/// holds millions of records: all value bytes live in one arena with an end
/// index per record (no per-record array allocation), and keys are interned
/// (a feed uses a handful of distinct keys, one per symbol).
public final class TopicPartition {
    public let topic: String
    public let partition: Int32
    private var timestampsMs: [Int64] = []
    private var appendedAt: [Micros] = []
    /// Index into `distinctKeys`, or -1 for a null key.
    private var keyIndex: [Int32] = []
    private var distinctKeys: [[UInt8]] = []
    private var keyLookup: [[UInt8]: Int32] = [:]
    /// Value bytes of every record, back to back; record i is
    /// `valueBytes[valueEnds[i-1] ..< valueEnds[i]]` (start 0 for i = 0).
    private var valueBytes: [UInt8] = []
    private var valueEnds: [Int] = []

    init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Number of records ever appended; also the next offset.
    public var endOffset: Int64 { Int64(valueEnds.count) }

    /// Total value bytes held (for memory reports).
    public var valueByteCount: Int { valueBytes.count }

    /// Appends a record and returns its offset.
    @discardableResult
    public func append(key: [UInt8]?, value: [UInt8], timestampMs: Int64, appendedAtMicros: Micros) -> Int64 {
        value.withUnsafeBufferPointer { append(key: key, valueBuffer: UnsafeRawBufferPointer($0), timestampMs: timestampMs, appendedAtMicros: appendedAtMicros) }
    }

    /// Appends a record whose value is given as raw bytes (copied into the log).
    @discardableResult
    public func append(key: [UInt8]?, valueBuffer: UnsafeRawBufferPointer, timestampMs: Int64, appendedAtMicros: Micros) -> Int64 {
        if let last = appendedAt.last {
            precondition(appendedAtMicros >= last, "appends to \(topic)-\(partition) must be in time order")
        }
        timestampsMs.append(timestampMs)
        appendedAt.append(appendedAtMicros)
        keyIndex.append(intern(key))
        valueBytes.append(contentsOf: valueBuffer)
        valueEnds.append(valueBytes.count)
        return Int64(valueEnds.count - 1)
    }

    private func intern(_ key: [UInt8]?) -> Int32 {
        guard let key else { return -1 }
        if let i = keyLookup[key] { return i }
        let i = Int32(distinctKeys.count)
        distinctKeys.append(key)
        keyLookup[key] = i
        return i
    }

    /// Reserves room for `records` more records of about `bytesEach` value bytes.
    public func reserveCapacity(records: Int, bytesEach: Int) {
        timestampsMs.reserveCapacity(timestampsMs.count + records)
        appendedAt.reserveCapacity(appendedAt.count + records)
        keyIndex.reserveCapacity(keyIndex.count + records)
        valueEnds.reserveCapacity(valueEnds.count + records)
        valueBytes.reserveCapacity(valueBytes.count + records * bytesEach)
    }

    /// The end offset (exclusive) of what is available at time `t`: every record
    /// appended at or before `t`.
    public func latestOffset(at t: Micros) -> Int64 {
        var lo = 0, hi = appendedAt.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if appendedAt[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return Int64(lo)
    }

    public func record(at offset: Int64) -> KafkaRecord {
        let i = Int(offset)
        return KafkaRecord(topic: topic, partition: partition, offset: offset, timestampMs: timestampsMs[i],
                           appendedAtMicros: appendedAt[i], key: key(at: offset), value: value(at: offset))
    }

    private func valueRange(_ i: Int) -> Range<Int> { (i == 0 ? 0 : valueEnds[i - 1]) ..< valueEnds[i] }

    /// The value bytes alone (no copy of the record's other fields).
    public func value(at offset: Int64) -> [UInt8] { Array(valueBytes[valueRange(Int(offset))]) }
    /// The value bytes as a slice of the log's arena (no copy until mutated).
    public func valueSlice(at offset: Int64) -> ArraySlice<UInt8> { valueBytes[valueRange(Int(offset))] }
    public func key(at offset: Int64) -> [UInt8]? {
        let k = keyIndex[Int(offset)]
        return k < 0 ? nil : distinctKeys[Int(k)]
    }
    public func timestampMs(at offset: Int64) -> Int64 { timestampsMs[Int(offset)] }
    public func appendedAtMicros(at offset: Int64) -> Micros { appendedAt[Int(offset)] }

    /// Records in [from, to).
    public func records(from: Int64, to: Int64) -> [KafkaRecord] {
        (from..<to).map { record(at: $0) }
    }
}

public final class Topic {
    public let name: String
    public let partitions: [TopicPartition]
    init(name: String, partitionCount: Int) {
        precondition(partitionCount > 0, "a topic needs at least one partition")
        self.name = name
        self.partitions = (0..<partitionCount).map { TopicPartition(topic: name, partition: Int32($0)) }
    }
    public var partitionCount: Int { partitions.count }
}

/// The simulated Kafka cluster: topics by name, listed in name order.
public final class KafkaCluster {
    private var byName: [String: Topic] = [:]
    public init() {}

    @discardableResult
    public func createTopic(_ name: String, partitions: Int) -> Topic {
        precondition(byName[name] == nil, "topic \(name) exists")
        let t = Topic(name: name, partitionCount: partitions)
        byName[name] = t
        return t
    }

    public func topic(_ name: String) -> Topic? { byName[name] }

    /// Topics sorted by name: the only way to iterate them.
    public var topics: [Topic] { byName.keys.sorted().map { byName[$0]! } }
}

/// Kafka's default partitioner for keyed records: `toPositive(murmur2(key)) % n`,
/// exactly as `org.apache.kafka.common.utils.Utils.murmur2` computes it, so that
/// a real capture's partition numbers are reproduced.
public enum KafkaPartitioner {
    public static func murmur2(_ data: [UInt8]) -> Int32 {
        let length = data.count
        let seed: UInt32 = 0x9747_b28c
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        var h: UInt32 = seed ^ UInt32(truncatingIfNeeded: length)
        let length4 = length / 4
        for i in 0..<length4 {
            let i4 = i * 4
            var k = UInt32(data[i4]) | (UInt32(data[i4 + 1]) << 8) | (UInt32(data[i4 + 2]) << 16) | (UInt32(data[i4 + 3]) << 24)
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = length4 * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default: break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Kafka's `Utils.toPositive(murmur2(key)) % numPartitions`.
    public static func partition(forKey key: [UInt8], partitionCount: Int) -> Int32 {
        let positive = murmur2(key) & 0x7fff_ffff
        return positive % Int32(partitionCount)
    }
}
