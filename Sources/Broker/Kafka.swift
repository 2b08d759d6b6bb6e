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

/// Records `k * segmentRecords ..< (k + 1) * segmentRecords` of a partition's log, as columns.
struct LogSegment {
    /// Value bytes back to back; record j is `valueBytes[valueEnds[j-1] ..< valueEnds[j]]` (start 0 for j = 0).
    var valueBytes: [UInt8] = []
    var valueEnds: [Int] = []
    var timestampsMs: [Int64] = []
    var appendedAt: [Micros] = []
    /// Index into the partition's distinct keys, or -1 for a null key.
    var keyIndex: [Int32] = []

    var count: Int { valueEnds.count }

    @inline(__always)
    func valueRange(_ j: Int) -> Range<Int> { (j == 0 ? 0 : valueEnds[j - 1]) ..< valueEnds[j] }

    var heldBytes: Int {
        valueBytes.capacity + valueEnds.capacity * 8 + timestampsMs.capacity * 8 + appendedAt.capacity * 8 + keyIndex.capacity * 4
    }

    func sealed() -> [UInt8] {
        var p = SealedPacker()
        p.put(valueBytes); p.put(valueEnds); p.put(timestampsMs); p.put(appendedAt); p.put(keyIndex)
        return p.compressed()
    }

    init() {}

    init(unsealing bytes: [UInt8]) {
        var u = SealedUnpacker(compressed: bytes)
        valueBytes = u.take(); valueEnds = u.take(); timestampsMs = u.take(); appendedAt = u.take(); keyIndex = u.take()
    }
}

/// One partition: an append-only log.
///
/// Offsets are Kafka's: the first record's is the log start offset (0 for a
/// new topic), and they strictly increase. Generated traffic is dense
/// (offset = log start + position); a replayed capture keeps the offsets
/// production had — e.g. from 1,234,567, with gaps left by compaction or
/// transaction markers — and only then does the partition hold an offset
/// column. A record's *position* is its index in the log (0, 1, 2, ...);
/// offsets are what consumers, the offset log and the tables see, positions
/// are how the log is indexed.
///
/// Appends must come in non-decreasing append time, as a real broker's log
/// does; so "what is available at time t" is a prefix, found by binary search.
///
/// Storage is columnar and compact, because a 24-hour run at default rates
/// holds millions of records, and a week tens of millions: the log is cut into
/// segments of `segmentRecords` records, each with its value bytes in one
/// arena and an end index per record (no per-record array allocation), keys
/// interned (a feed uses a handful of distinct keys, one per symbol). All but
/// the last `liveSegments` segments are sealed: packed and zstd-compressed
/// (about a third of their size), and unpacked into a small cache on the rare
/// read (a job far behind, the checks at the end). Readers never notice.
public final class TopicPartition {
    public let topic: String
    public let partition: Int32
    /// Kafka's log start offset: the offset of the first record.
    public private(set) var logStartOffset: Int64 = 0
    /// The offset of each record, only once the log is not dense (nil while
    /// offset = logStartOffset + position).
    private var sparseOffsets: [Int64]?
    private var distinctKeys: [[UInt8]] = []
    private var keyLookup: [[UInt8]: Int32] = [:]
    /// Segment k: `raw[k]` while live, `sealed[k]` (compressed) once sealed.
    private var raw: [LogSegment?] = [LogSegment()]
    private var sealed: [[UInt8]] = [[]]
    /// The append time of each segment's last record (what `latestOffset` searches first).
    private var lastAppendedAt: [Micros] = [Int64.min]
    private var count = 0
    private var totalValueBytes = 0
    private let cache = SealedCache<LogSegment>()

    /// Records a segment holds (a power of two).
    public static let segmentRecords = 1 << 15
    /// Segments kept unsealed at the end of the log (what running jobs read).
    public static let liveSegments = 3
    private static let shift = segmentRecords.trailingZeroBitCount

    init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    @inline(__always)
    private func segment(_ k: Int) -> LogSegment {
        if let s = raw[k] { return s }
        return cache.segment(k) { LogSegment(unsealing: sealed[k]) }
    }

    /// Number of records in the log (positions are 0 ..< recordCount).
    public var recordCount: Int { count }

    /// Kafka's log end offset: the offset the next record gets (last offset
    /// + 1; the log start offset while empty). Equals `recordCount` for a
    /// dense log from 0.
    public var endOffset: Int64 {
        count == 0 ? logStartOffset : offset(atPosition: count - 1) + 1
    }

    /// Whether offsets are logStartOffset + position (no gaps).
    public var isDense: Bool { sparseOffsets == nil }

    /// Total value bytes held (for memory reports).
    public var valueByteCount: Int { totalValueBytes }

    /// Bytes the log has allocated (capacities, sealed segments compressed), for memory reports.
    public var heldBytes: Int {
        raw.reduce(0) { $0 + ($1?.heldBytes ?? 0) } + sealed.reduce(0) { $0 + $1.capacity } + lastAppendedAt.capacity * 8
            + (sparseOffsets?.capacity ?? 0) * 8
    }

    /// Sets where an empty log starts (a capture's first offset), so that a
    /// consumer reading from "earliest" starts there.
    public func setLogStartOffset(_ offset: Int64) {
        precondition(count == 0, "the log start of \(topic)-\(partition) moves only while it is empty")
        precondition(offset >= 0, "offsets are not negative")
        logStartOffset = offset
    }

    /// Appends a record at the next offset and returns that offset.
    @discardableResult
    public func append(key: [UInt8]?, value: [UInt8], timestampMs: Int64, appendedAtMicros: Micros) -> Int64 {
        value.withUnsafeBufferPointer { append(key: key, valueBuffer: UnsafeRawBufferPointer($0), timestampMs: timestampMs, appendedAtMicros: appendedAtMicros) }
    }

    /// Appends a record whose value is given as raw bytes (copied into the log)
    /// at the next offset, and returns that offset.
    @discardableResult
    public func append(key: [UInt8]?, valueBuffer: UnsafeRawBufferPointer, timestampMs: Int64, appendedAtMicros: Micros) -> Int64 {
        append(offset: endOffset, key: key, valueBuffer: valueBuffer, timestampMs: timestampMs, appendedAtMicros: appendedAtMicros)
        return endOffset - 1
    }

    /// Appends a record at a stated offset (a replayed capture's): at or after
    /// the log end offset, so offsets keep increasing; a jump leaves a gap.
    public func append(offset: Int64, key: [UInt8]?, valueBuffer: UnsafeRawBufferPointer, timestampMs: Int64,
                       appendedAtMicros: Micros) {
        let n = count
        if n > 0 {
            precondition(appendedAtMicros >= lastAppendedAt[lastAppendedAt.count - 1], "appends to \(topic)-\(partition) must be in time order")
        }
        precondition(offset >= endOffset, "offset \(offset) of \(topic)-\(partition) is below the log end \(endOffset)")
        if n == 0 && sparseOffsets == nil {
            logStartOffset = offset
        } else if sparseOffsets == nil && offset != endOffset {
            // The first gap: from now on the log keeps an offset per record.
            sparseOffsets = (0..<Int64(n)).map { logStartOffset + $0 }
        }
        sparseOffsets?.append(offset)
        if raw[raw.count - 1]!.count == Self.segmentRecords { startSegment() }
        let k = raw.count - 1
        let key = intern(key)
        raw[k]!.timestampsMs.append(timestampMs)
        raw[k]!.appendedAt.append(appendedAtMicros)
        raw[k]!.keyIndex.append(key)
        // As typed bytes, so the append is one copy rather than a byte-by-byte iteration.
        raw[k]!.valueBytes.append(contentsOf: valueBuffer.assumingMemoryBound(to: UInt8.self))
        raw[k]!.valueEnds.append(raw[k]!.valueBytes.count)
        lastAppendedAt[k] = appendedAtMicros
        count += 1
        totalValueBytes += valueBuffer.count
    }

    /// Opens a new segment and seals the one that leaves the live window.
    private func startSegment() {
        raw.append(LogSegment()); sealed.append([]); lastAppendedAt.append(lastAppendedAt[lastAppendedAt.count - 1])
        let old = raw.count - 1 - Self.liveSegments
        if old >= 0, let s = raw[old] {
            sealed[old] = s.sealed()
            raw[old] = nil
        }
    }

    private func intern(_ key: [UInt8]?) -> Int32 {
        guard let key else { return -1 }
        // A feed has a handful of keys (one per symbol): a scan, whose array
        // comparison short-cuts on a shared buffer, beats hashing the bytes.
        if distinctKeys.count <= 16 {
            for (i, k) in distinctKeys.enumerated() where k == key { return Int32(i) }
        } else if let i = keyLookup[key] { return i }
        let i = Int32(distinctKeys.count)
        distinctKeys.append(key)
        keyLookup[key] = i
        return i
    }

    /// Reserves room for `records` more records of about `bytesEach` value
    /// bytes (in the current segment: later segments are allocated as they open).
    public func reserveCapacity(records: Int, bytesEach: Int) {
        let k = raw.count - 1
        let r = min(records, Self.segmentRecords - raw[k]!.count)
        raw[k]!.timestampsMs.reserveCapacity(raw[k]!.count + r)
        raw[k]!.appendedAt.reserveCapacity(raw[k]!.count + r)
        raw[k]!.keyIndex.reserveCapacity(raw[k]!.count + r)
        raw[k]!.valueEnds.reserveCapacity(raw[k]!.count + r)
        raw[k]!.valueBytes.reserveCapacity(raw[k]!.valueBytes.count + r * bytesEach)
    }

    // MARK: Offsets and positions

    /// The offset of the record at `position`.
    @inline(__always)
    public func offset(atPosition position: Int) -> Int64 {
        if let s = sparseOffsets { return s[position] }
        return logStartOffset + Int64(position)
    }

    /// The position of the first record whose offset is >= `offset`
    /// (`recordCount` when there is none): where a read from `offset` starts,
    /// and where one that ends before `offset` stops.
    public func position(ofOffset offset: Int64) -> Int {
        guard let s = sparseOffsets else {
            return Int(max(0, min(offset - logStartOffset, Int64(count))))
        }
        var lo = 0, hi = s.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if s[mid] < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The position of the record at exactly `offset`, or nil (a gap, or outside the log).
    public func exactPosition(ofOffset offset: Int64) -> Int? {
        let p = position(ofOffset: offset)
        return p < count && self.offset(atPosition: p) == offset ? p : nil
    }

    private func checkedPosition(_ offset: Int64) -> Int {
        guard let p = exactPosition(ofOffset: offset) else {
            preconditionFailure("\(topic)-\(partition) has no record at offset \(offset)")
        }
        return p
    }

    /// The end offset (exclusive) of what is available at time `t`: one past
    /// the last record appended at or before `t` (the log end offset then).
    public func latestOffset(at t: Micros) -> Int64 {
        guard count > 0 else { return logStartOffset }
        // Whole segments appended by t, then a search inside the next one.
        var lo = 0, hi = lastAppendedAt.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lastAppendedAt[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        var n = min(lo << Self.shift, count)
        if lo < raw.count {
            let a = segment(lo).appendedAt
            var l = 0, h = a.count
            while l < h {
                let mid = (l + h) / 2
                if a[mid] <= t { l = mid + 1 } else { h = mid }
            }
            n += l
        }
        return n == 0 ? logStartOffset : offset(atPosition: n - 1) + 1
    }

    // MARK: Records by offset

    public func record(at offset: Int64) -> KafkaRecord { record(atPosition: checkedPosition(offset)) }

    /// The value bytes alone (no copy of the record's other fields).
    public func value(at offset: Int64) -> [UInt8] { Array(valueSlice(atPosition: checkedPosition(offset))) }
    /// The value bytes as a slice of the log's arena (no copy until mutated).
    public func valueSlice(at offset: Int64) -> ArraySlice<UInt8> { valueSlice(atPosition: checkedPosition(offset)) }
    public func key(at offset: Int64) -> [UInt8]? { key(atPosition: checkedPosition(offset)) }
    public func timestampMs(at offset: Int64) -> Int64 { timestampMs(atPosition: checkedPosition(offset)) }
    public func appendedAtMicros(at offset: Int64) -> Micros { appendedAtMicros(atPosition: checkedPosition(offset)) }

    /// Records with offsets in [from, to).
    public func records(from: Int64, to: Int64) -> [KafkaRecord] {
        (position(ofOffset: from) ..< position(ofOffset: to)).map { record(atPosition: $0) }
    }

    // MARK: Records by position

    public func record(atPosition i: Int) -> KafkaRecord {
        precondition(i >= 0 && i < count, "\(topic)-\(partition) has no record at position \(i)")
        let s = segment(i >> Self.shift), j = i & (Self.segmentRecords - 1)
        let k = s.keyIndex[j]
        return KafkaRecord(topic: topic, partition: partition, offset: offset(atPosition: i), timestampMs: s.timestampsMs[j],
                           appendedAtMicros: s.appendedAt[j], key: k < 0 ? nil : distinctKeys[Int(k)],
                           value: Array(s.valueBytes[s.valueRange(j)]))
    }
    @inline(__always)
    public func valueSlice(atPosition i: Int) -> ArraySlice<UInt8> {
        precondition(i >= 0 && i < count, "\(topic)-\(partition) has no record at position \(i)")
        let s = segment(i >> Self.shift)
        return s.valueBytes[s.valueRange(i & (Self.segmentRecords - 1))]
    }
    public func key(atPosition i: Int) -> [UInt8]? {
        precondition(i >= 0 && i < count, "\(topic)-\(partition) has no record at position \(i)")
        let k = segment(i >> Self.shift).keyIndex[i & (Self.segmentRecords - 1)]
        return k < 0 ? nil : distinctKeys[Int(k)]
    }
    @inline(__always)
    public func timestampMs(atPosition i: Int) -> Int64 {
        precondition(i >= 0 && i < count, "\(topic)-\(partition) has no record at position \(i)")
        return segment(i >> Self.shift).timestampsMs[i & (Self.segmentRecords - 1)]
    }
    public func appendedAtMicros(atPosition i: Int) -> Micros {
        precondition(i >= 0 && i < count, "\(topic)-\(partition) has no record at position \(i)")
        return segment(i >> Self.shift).appendedAt[i & (Self.segmentRecords - 1)]
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
