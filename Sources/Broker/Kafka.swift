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

/// A topic's retention, as Kafka's topic configs set it: `retention.ms`,
/// `retention.bytes`, and the segment roll (`segment.ms`, `segment.bytes`),
/// because Kafka deletes whole log segments, never single records. The log
/// cleaner runs every `log.retention.check.interval.ms` (5 minutes); each run
/// deletes, from the oldest, the segments whose newest record's create time
/// is more than `retention.ms` old, then, while the partition is larger than
/// `retention.bytes`, the oldest segments that can go without taking it
/// below. What is left starts at the log start offset, the "earliest" a
/// consumer can fetch; a fetch below it is out of range.
///
/// These are Kafka's segments, not the storage blocks a `TopicPartition`
/// packs its records in. Sizes are value bytes (keys and record-batch
/// overhead are not counted). `forever` (no deletion) is what the engine
/// assumed before retention existed; `kafkaDefault` is a broker's default
/// (7 days, no size limit, 1 GiB or 7-day segments).
public struct TopicRetention: Sendable, Equatable {
    /// nil: never deleted by age (Kafka's -1).
    public var retentionMs: Int64?
    /// nil: never deleted by size (Kafka's default, -1).
    public var retentionBytes: Int64?
    public var segmentMs: Int64
    public var segmentBytes: Int64
    public var checkIntervalMs: Int64

    public init(retentionMs: Int64? = nil, retentionBytes: Int64? = nil, segmentMs: Int64 = 7 * 86_400_000,
                segmentBytes: Int64 = 1 << 30, checkIntervalMs: Int64 = 300_000) {
        precondition(segmentMs > 0 && segmentBytes > 0 && checkIntervalMs > 0)
        self.retentionMs = retentionMs; self.retentionBytes = retentionBytes
        self.segmentMs = segmentMs; self.segmentBytes = segmentBytes; self.checkIntervalMs = checkIntervalMs
    }

    public static let forever = TopicRetention()
    public static let kafkaDefault = TopicRetention(retentionMs: 7 * 86_400_000)

    public var deletes: Bool { retentionMs != nil || retentionBytes != nil }
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
/// holds millions of records: all value bytes live in one arena with an end
/// index per record (no per-record array allocation), and keys are interned
/// (a feed uses a handful of distinct keys, one per symbol).
public final class TopicPartition {
    public let topic: String
    public let partition: Int32
    /// Kafka's log start offset: the offset of the first record.
    public private(set) var logStartOffset: Int64 = 0
    /// The offset of each record, only once the log is not dense (nil while
    /// offset = logStartOffset + position).
    private var sparseOffsets: [Int64]?
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
    /// How long records stay (set through `Topic.retention`).
    public internal(set) var retention: TopicRetention = .forever {
        didSet { rollStarts = []; rollMaxTs = []; rollFirstTs = []; rollSizes = []; rolled = 0; lastClean = nil }
    }
    // Kafka's segments as retention sees them, indexed lazily as far as
    // retention queries need: first position, newest and first create time, value bytes.
    private var rollStarts: [Int] = []
    private var rollMaxTs: [Int64] = []
    private var rollFirstTs: [Int64] = []
    private var rollSizes: [Int64] = []
    private var rolled = 0
    /// The cleaner's last result (check time, segments deleted, start position):
    /// deletion only grows with time, so a later check starts from there.
    private var lastClean: (checkMs: Int64, segment: Int, start: Int)?

    init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Number of records in the log (positions are 0 ..< recordCount).
    public var recordCount: Int { valueEnds.count }

    /// Kafka's log end offset: the offset the next record gets (last offset
    /// + 1; the log start offset while empty). Equals `recordCount` for a
    /// dense log from 0.
    public var endOffset: Int64 {
        let n = valueEnds.count
        return n == 0 ? logStartOffset : offset(atPosition: n - 1) + 1
    }

    /// Whether offsets are logStartOffset + position (no gaps).
    public var isDense: Bool { sparseOffsets == nil }

    /// Total value bytes held (for memory reports).
    public var valueByteCount: Int { valueBytes.count }

    /// Bytes the log's columns have allocated (capacity, not count), for memory reports.
    public var heldBytes: Int {
        valueBytes.capacity + valueEnds.capacity * 8 + timestampsMs.capacity * 8 + appendedAt.capacity * 8
            + keyIndex.capacity * 4 + (sparseOffsets?.capacity ?? 0) * 8
    }

    /// Sets where an empty log starts (a capture's first offset), so that a
    /// consumer reading from "earliest" starts there.
    public func setLogStartOffset(_ offset: Int64) {
        precondition(valueEnds.isEmpty, "the log start of \(topic)-\(partition) moves only while it is empty")
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
        let n = valueEnds.count
        if let last = appendedAt.last {
            precondition(appendedAtMicros >= last, "appends to \(topic)-\(partition) must be in time order")
        }
        precondition(offset >= endOffset, "offset \(offset) of \(topic)-\(partition) is below the log end \(endOffset)")
        if n == 0 && sparseOffsets == nil {
            logStartOffset = offset
        } else if sparseOffsets == nil && offset != endOffset {
            // The first gap: from now on the log keeps an offset per record.
            sparseOffsets = (0..<Int64(n)).map { logStartOffset + $0 }
        }
        sparseOffsets?.append(offset)
        timestampsMs.append(timestampMs)
        appendedAt.append(appendedAtMicros)
        keyIndex.append(intern(key))
        // As typed bytes, so the append is one copy rather than a byte-by-byte iteration.
        valueBytes.append(contentsOf: valueBuffer.assumingMemoryBound(to: UInt8.self))
        valueEnds.append(valueBytes.count)
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

    /// Reserves room for `records` more records of about `bytesEach` value bytes.
    public func reserveCapacity(records: Int, bytesEach: Int) {
        timestampsMs.reserveCapacity(timestampsMs.count + records)
        appendedAt.reserveCapacity(appendedAt.count + records)
        keyIndex.reserveCapacity(keyIndex.count + records)
        valueEnds.reserveCapacity(valueEnds.count + records)
        valueBytes.reserveCapacity(valueBytes.count + records * bytesEach)
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
            return Int(max(0, min(offset - logStartOffset, Int64(valueEnds.count))))
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
        return p < valueEnds.count && self.offset(atPosition: p) == offset ? p : nil
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
        var lo = 0, hi = appendedAt.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if appendedAt[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? logStartOffset : offset(atPosition: lo - 1) + 1
    }

    // MARK: Retention

    private func valueSize(_ i: Int) -> Int64 { Int64(valueSlice(atPosition: i).count) }

    /// Extends the index of Kafka's segments to the first `n` records: a record
    /// starts a new segment when the segment would pass `segment.bytes` with it,
    /// or when its create time is more than `segment.ms` after the segment's first.
    private func indexSegments(upTo n: Int) {
        while rolled < n {
            let i = rolled, ts = timestampMs(atPosition: i), size = valueSize(i)
            let k = rollStarts.count - 1
            if k >= 0, ts - rollFirstTs[k] <= retention.segmentMs, rollSizes[k] + size <= retention.segmentBytes {
                rollMaxTs[k] = max(rollMaxTs[k], ts); rollSizes[k] += size
            } else {
                rollStarts.append(i); rollMaxTs.append(ts); rollFirstTs.append(ts); rollSizes.append(size)
            }
            rolled += 1
        }
    }

    /// The position of the first record retention has not deleted at time `t`:
    /// the cleaner's result at its last run at or before `t` (runs at multiples
    /// of the check interval), over the records appended by then.
    public func retainedStartPosition(at t: Micros) -> Int {
        guard retention.deletes, recordCount > 0 else { return 0 }
        let checkMs = Time.floorDiv(Time.floorDiv(t, Time.microsPerMilli), retention.checkIntervalMs) * retention.checkIntervalMs
        let n = position(ofOffset: latestOffset(at: checkMs * Time.microsPerMilli))
        var seg = 0, start = 0
        if let c = lastClean, c.checkMs <= checkMs { seg = c.segment; start = c.start }
        // Nothing can go by age while the oldest record left is recent, and a
        // size limit is not set: no need to look at segments (the usual case).
        if retention.retentionBytes == nil, let r = retention.retentionMs,
           start >= n || timestampMs(atPosition: start) >= checkMs - r {
            return start
        }
        indexSegments(upTo: n)
        defer { if lastClean == nil || lastClean!.checkMs <= checkMs { lastClean = (checkMs, seg, start) } }
        // Segment k as written at the check: [rollStarts[k], end), its newest record and size.
        func end(_ k: Int) -> Int { k + 1 < rollStarts.count ? min(rollStarts[k + 1], n) : n }
        func whole(_ k: Int) -> Bool { (k + 1 < rollStarts.count ? rollStarts[k + 1] : rolled) == end(k) }
        func newest(_ k: Int) -> Int64 {
            whole(k) ? rollMaxTs[k] : (rollStarts[k]..<end(k)).map { timestampMs(atPosition: $0) }.max()!
        }
        func size(_ k: Int) -> Int64 { whole(k) ? rollSizes[k] : (rollStarts[k]..<end(k)).reduce(0) { $0 + valueSize($1) } }
        if let r = retention.retentionMs {
            while seg < rollStarts.count, rollStarts[seg] < n, rollFirstTs[seg] < checkMs - r, newest(seg) < checkMs - r {
                start = end(seg); seg += 1
            }
        }
        if let limit = retention.retentionBytes {
            var excess = -limit
            var k = seg
            while k < rollStarts.count, rollStarts[k] < n { excess += size(k); k += 1 }
            while seg < rollStarts.count, rollStarts[seg] < n, excess - size(seg) >= 0 {
                excess -= size(seg); start = end(seg); seg += 1
            }
        }
        return start
    }

    /// The log start offset at time `t` after retention: the earliest offset a
    /// consumer can fetch then (`logStartOffset` while nothing is deleted).
    public func earliestOffset(at t: Micros) -> Int64 {
        let p = retainedStartPosition(at: t)
        if p == 0 { return logStartOffset }
        return p < recordCount ? offset(atPosition: p) : endOffset
    }

    // MARK: Records by offset

    public func record(at offset: Int64) -> KafkaRecord { record(atPosition: checkedPosition(offset)) }

    private func valueRange(_ i: Int) -> Range<Int> { (i == 0 ? 0 : valueEnds[i - 1]) ..< valueEnds[i] }

    /// The value bytes alone (no copy of the record's other fields).
    public func value(at offset: Int64) -> [UInt8] { Array(valueBytes[valueRange(checkedPosition(offset))]) }
    /// The value bytes as a slice of the log's arena (no copy until mutated).
    public func valueSlice(at offset: Int64) -> ArraySlice<UInt8> { valueBytes[valueRange(checkedPosition(offset))] }
    public func key(at offset: Int64) -> [UInt8]? { key(atPosition: checkedPosition(offset)) }
    public func timestampMs(at offset: Int64) -> Int64 { timestampsMs[checkedPosition(offset)] }
    public func appendedAtMicros(at offset: Int64) -> Micros { appendedAt[checkedPosition(offset)] }

    /// Records with offsets in [from, to).
    public func records(from: Int64, to: Int64) -> [KafkaRecord] {
        (position(ofOffset: from) ..< position(ofOffset: to)).map { record(atPosition: $0) }
    }

    // MARK: Records by position

    public func record(atPosition i: Int) -> KafkaRecord {
        KafkaRecord(topic: topic, partition: partition, offset: offset(atPosition: i), timestampMs: timestampsMs[i],
                    appendedAtMicros: appendedAt[i], key: key(atPosition: i), value: Array(valueBytes[valueRange(i)]))
    }
    @inline(__always)
    public func valueSlice(atPosition i: Int) -> ArraySlice<UInt8> { valueBytes[valueRange(i)] }
    public func key(atPosition i: Int) -> [UInt8]? {
        let k = keyIndex[i]
        return k < 0 ? nil : distinctKeys[Int(k)]
    }
    @inline(__always)
    public func timestampMs(atPosition i: Int) -> Int64 { timestampsMs[i] }
    public func appendedAtMicros(atPosition i: Int) -> Micros { appendedAt[i] }
}

public final class Topic {
    public let name: String
    public let partitions: [TopicPartition]
    /// Kafka's topic-level retention configs; `.forever` unless set.
    public var retention: TopicRetention = .forever {
        didSet { for p in partitions { p.retention = retention } }
    }
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
