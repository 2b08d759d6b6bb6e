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

/// Records `k * segmentRecords ..< (k + 1) * segmentRecords` of a partition's
/// log, as columns (a storage block, not one of Kafka's retention segments).
public final class LogSegment: SealableSegment {
    /// Value bytes back to back; record j is `valueBytes[valueEnds[j-1] ..< valueEnds[j]]` (start 0 for j = 0).
    var valueBytes: [UInt8] = []
    var valueEnds: [Int] = []
    var timestampsMs: [Int64] = []
    var appendedAt: [Micros] = []
    /// Index into the partition's distinct keys, or -1 for a null key.
    var keyIndex: [Int32] = []

    public init() {}

    public var count: Int { valueEnds.count }

    @inline(__always)
    func valueRange(_ j: Int) -> Range<Int> { (j == 0 ? 0 : valueEnds[j - 1]) ..< valueEnds[j] }

    public var heldBytes: Int {
        valueBytes.capacity + valueEnds.capacity * 8 + timestampsMs.capacity * 8 + appendedAt.capacity * 8 + keyIndex.capacity * 4
    }

    public func truncate(to n: Int) {
        guard n < count else { return }
        let k = count - n
        valueBytes.removeLast(valueBytes.count - (n == 0 ? 0 : valueEnds[n - 1]))
        valueEnds.removeLast(k); timestampsMs.removeLast(k); appendedAt.removeLast(k); keyIndex.removeLast(k)
    }

    public func pack(into p: inout SealedPacker) {
        p.put(valueBytes); p.put(valueEnds); p.put(timestampsMs); p.put(appendedAt); p.put(keyIndex)
    }

    public init(unpacking u: inout SealedUnpacker) {
        valueBytes = u.take(); valueEnds = u.take(); timestampsMs = u.take(); appendedAt = u.take(); keyIndex = u.take()
    }
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
/// holds millions of records, and a week tens of millions: the log is cut into
/// `Segments` of `segmentRecords` records, each with its value bytes in one
/// arena and an end index per record (no per-record array allocation), keys
/// interned (a feed uses a handful of distinct keys, one per symbol). All but
/// the last `liveSegments` segments are sealed: packed, zstd-compressed
/// (about a third of their size) and spilled to disk, and unpacked into a
/// small cache on the rare read (a job far behind, retention's scan, the
/// checks). Readers never notice; retention deletes nothing from storage,
/// because the checks name what it deleted.
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
    private var log = Segments<LogSegment>()
    /// The append time of each segment's last record (what `latestOffset` searches first).
    private var lastAppendedAt: [Micros] = [Int64.min]
    private var totalValueBytes = 0

    /// Records a storage segment holds (a power of two).
    public static var segmentRecords: Int { Segments<LogSegment>.segmentRows }
    /// Segments kept unsealed at the end of the log (what running jobs read).
    public static let liveSegments = 3
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
    public var recordCount: Int { log.count }

    /// Kafka's log end offset: the offset the next record gets (last offset
    /// + 1; the log start offset while empty). Equals `recordCount` for a
    /// dense log from 0.
    public var endOffset: Int64 {
        let n = log.count
        return n == 0 ? logStartOffset : offset(atPosition: n - 1) + 1
    }

    /// Whether offsets are logStartOffset + position (no gaps).
    public var isDense: Bool { sparseOffsets == nil }

    /// Total value bytes held (for memory reports).
    public var valueByteCount: Int { totalValueBytes }

    /// Bytes the log holds in memory (capacities; sealed segments as their
    /// in-memory index), for memory reports.
    public var heldBytes: Int {
        log.heldBytes + lastAppendedAt.capacity * 8 + (sparseOffsets?.capacity ?? 0) * 8
            + rollStarts.capacity * 8 + rollMaxTs.capacity * 8 + rollFirstTs.capacity * 8 + rollSizes.capacity * 8
    }

    /// Compressed bytes of sealed segments spilled to disk, for memory reports.
    public var spilledBytes: Int { log.spilledBytes }

    /// Sets where an empty log starts (a capture's first offset), so that a
    /// consumer reading from "earliest" starts there.
    public func setLogStartOffset(_ offset: Int64) {
        precondition(log.count == 0, "the log start of \(topic)-\(partition) moves only while it is empty")
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
        let n = log.count
        if n > 0 {
            precondition(appendedAtMicros >= lastAppendedAt[lastAppendedAt.count - 1],
                         "appends to \(topic)-\(partition) must be in time order")
        }
        precondition(offset >= endOffset, "offset \(offset) of \(topic)-\(partition) is below the log end \(endOffset)")
        if n == 0 && sparseOffsets == nil {
            logStartOffset = offset
        } else if sparseOffsets == nil && offset != endOffset {
            // The first gap: from now on the log keeps an offset per record.
            sparseOffsets = (0..<Int64(n)).map { logStartOffset + $0 }
        }
        sparseOffsets?.append(offset)
        let segments = log.segmentCount
        let s = log.tail()
        if log.segmentCount > segments {
            // A segment opened: seal the one that left the live window.
            lastAppendedAt.append(lastAppendedAt[segments - 1])
            log.seal(below: log.segmentCount - Self.liveSegments)
        }
        s.timestampsMs.append(timestampMs)
        s.appendedAt.append(appendedAtMicros)
        s.keyIndex.append(intern(key))
        // As typed bytes, so the append is one copy rather than a byte-by-byte iteration.
        s.valueBytes.append(contentsOf: valueBuffer.assumingMemoryBound(to: UInt8.self))
        s.valueEnds.append(s.valueBytes.count)
        log.didAppend()
        lastAppendedAt[lastAppendedAt.count - 1] = appendedAtMicros
        totalValueBytes += valueBuffer.count
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
        let s = log.segment(log.segmentCount - 1)
        let r = min(records, Self.segmentRecords - s.count)
        s.timestampsMs.reserveCapacity(s.count + r)
        s.appendedAt.reserveCapacity(s.count + r)
        s.keyIndex.reserveCapacity(s.count + r)
        s.valueEnds.reserveCapacity(s.count + r)
        s.valueBytes.reserveCapacity(s.valueBytes.count + r * bytesEach)
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
            return Int(max(0, min(offset - logStartOffset, Int64(log.count))))
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
        return p < log.count && self.offset(atPosition: p) == offset ? p : nil
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
        guard log.count > 0 else { return logStartOffset }
        // Whole segments appended by t, then a search inside the next one.
        var lo = 0, hi = lastAppendedAt.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lastAppendedAt[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        var n = min(lo << Segments<LogSegment>.shift, log.count)
        if lo < log.segmentCount {
            let a = log.segment(lo).appendedAt
            var l = 0, h = a.count
            while l < h {
                let mid = (l + h) / 2
                if a[mid] <= t { l = mid + 1 } else { h = mid }
            }
            n += l
        }
        return n == 0 ? logStartOffset : offset(atPosition: n - 1) + 1
    }

    // MARK: Retention

    private func valueSize(_ i: Int) -> Int64 { let (s, j) = log.at(i); return Int64(s.valueRange(j).count) }

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

    /// The storage segment holding position `i` and the record's index in it.
    @inline(__always)
    private func at(_ i: Int) -> (LogSegment, Int) {
        precondition(i >= 0 && i < log.count, "\(topic)-\(partition) has no record at position \(i)")
        return log.at(i)
    }

    public func record(atPosition i: Int) -> KafkaRecord {
        let (s, j) = at(i)
        let k = s.keyIndex[j]
        return KafkaRecord(topic: topic, partition: partition, offset: offset(atPosition: i), timestampMs: s.timestampsMs[j],
                           appendedAtMicros: s.appendedAt[j], key: k < 0 ? nil : distinctKeys[Int(k)],
                           value: Array(s.valueBytes[s.valueRange(j)]))
    }
    @inline(__always)
    public func valueSlice(atPosition i: Int) -> ArraySlice<UInt8> { let (s, j) = at(i); return s.valueBytes[s.valueRange(j)] }
    public func key(atPosition i: Int) -> [UInt8]? {
        let (s, j) = at(i)
        let k = s.keyIndex[j]
        return k < 0 ? nil : distinctKeys[Int(k)]
    }
    @inline(__always)
    public func timestampMs(atPosition i: Int) -> Int64 { let (s, j) = at(i); return s.timestampsMs[j] }
    public func appendedAtMicros(atPosition i: Int) -> Micros { let (s, j) = at(i); return s.appendedAt[j] }
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
