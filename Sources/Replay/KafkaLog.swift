import Foundation
import Kernel

/// A Kafka record header: a UTF-8 key and an optional value.
public struct KafkaHeader: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?
    public init(key: String, value: [UInt8]?) { self.key = key; self.value = value }
}

/// One record of a Kafka log, as a consumer would see it.
public struct KafkaLogRecord: Equatable, Sendable {
    public var offset: Int64
    /// Create time, or the broker's append time for a log-append-time topic.
    public var timestampMs: Int64
    public var logAppendTime: Bool
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
}

/// What reading one partition's log found (for the incident report).
public struct KafkaPartitionSummary: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var files: [String] = []
    public var batches = 0
    public var records = 0
    public var compressedBatches: [String: Int] = [:]
    public var controlBatches = 0
    /// Records of aborted transactions (left out, as a read_committed consumer would).
    public var abortedRecords = 0
    /// Records of transactions with no commit or abort marker in the log (left out).
    public var openTransactionRecords = 0
    public var recordsWithHeaders = 0
    /// The incomplete batch at the end of the last segment (what a crashed broker leaves).
    public var truncatedTail: TruncatedTail?

    public struct TruncatedTail: Equatable, Sendable {
        public var file: String
        public var byteOffset: Int
        public var bytes: Int
        /// The incomplete batch's base offset, when its first 8 bytes are there.
        public var baseOffset: Int64?
    }
}

/// Reads Kafka's own log: the partition directories a broker keeps under its
/// `log.dirs` (`<topic>-<partition>/00000000000000000000.log` and the segments
/// after it), record batch format v2 (magic 2, Kafka 0.11 and later).
///
/// Per batch (61-byte header, big-endian): base offset (8), batch length (4,
/// the bytes after this field), partition leader epoch (4), magic (1), CRC-32C
/// (4, over attributes to the end), attributes (2: bits 0-2 codec, 3 log-append
/// time, 4 transactional, 5 control), last offset delta (4), base timestamp
/// (8), max timestamp (8), producer id (8), producer epoch (2), base sequence
/// (4), record count (4), then the records — compressed as a whole when the
/// codec is not none. A record: length, attributes (1), timestamp delta,
/// offset delta, key length + key, value length + value, header count, then
/// each header's key and value (all lengths zigzag varints, -1 = null).
///
/// Checked: each batch's CRC-32C, its magic, its codec (none, gzip and zstd
/// are read; snappy and lz4 are refused by name), that its records fill it
/// exactly and that offsets increase. Control batches are skipped and so are
/// the records of aborted transactions (a transaction's batches are held until
/// its producer's marker decides them). `.index`, `.timeindex`, `.snapshot`
/// and other files in a partition directory are not read.
///
/// An incomplete batch at the end of a partition's last segment is what a
/// broker leaves when it crashes mid-append: the records before it are read
/// and the tail is reported. Anywhere else an incomplete batch is an error.
public enum KafkaLog {
    public static let batchHeaderSize = 61
    static let codecNames = ["none", "gzip", "snappy", "lz4", "zstd"]

    /// `<topic>-<partition>` -> (topic, partition), or nil.
    public static func topicPartition(directoryName name: String) -> (String, Int32)? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let topic = String(name[..<dash]), digits = name[name.index(after: dash)...]
        guard !topic.isEmpty, !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let p = Int32(digits) else { return nil }
        return (topic, p)
    }

    /// Whether the bytes start like a v2 record batch (used to recognize a segment by content).
    public static func looksLikeSegment(_ head: [UInt8]) -> Bool {
        guard head.count >= 17 else { return false }
        let length = Int32(bitPattern: UInt32(head[8]) << 24 | UInt32(head[9]) << 16 | UInt32(head[10]) << 8 | UInt32(head[11]))
        let baseOffset = head[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return baseOffset < 1 << 62 && length >= 49 && head[16] == 2
    }

    /// The segment files of a partition directory, in offset order (by name:
    /// a segment is named after its base offset, zero-padded to 20 digits).
    public static func segmentFiles(in dir: String) throws(InputError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw InputError(file: dir, line: 0, problem: "cannot list the partition directory")
        }
        return names.filter { $0.hasSuffix(".log") }.sorted().map { dir + "/" + $0 }
    }

    // MARK: - Byte reading

    @inline(__always) static func be64(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int64 {
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(b[i + k]) }
        return Int64(bitPattern: v)
    }
    @inline(__always) static func be32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    @inline(__always) static func be16(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int16 {
        Int16(bitPattern: UInt16(b[i]) << 8 | UInt16(b[i + 1]))
    }

    /// A bounds-checked reader of one batch's records.
    struct RecordCursor {
        let b: UnsafeRawBufferPointer
        var i: Int
        let end: Int
        struct Overrun: Error {}

        @inline(__always) mutating func varlong() throws(Overrun) -> Int64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < end, shift < 64 else { throw Overrun() }
                let byte = b[i]; i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }
                shift += 7
            }
        }
        /// A length-prefixed byte string; nil for length -1.
        @inline(__always) mutating func bytes() throws(Overrun) -> UnsafeRawBufferPointer? {
            let n = try varlong()
            if n == -1 { return nil }
            guard n >= 0, n <= Int64(end - i) else { throw Overrun() }
            defer { i += Int(n) }
            return UnsafeRawBufferPointer(rebasing: b[i ..< i + Int(n)])
        }
    }

    /// A record in place (valid only inside the visiting closure).
    struct RecordView {
        var offset: Int64
        var timestampMs: Int64
        var logAppendTime: Bool
        var key: UnsafeRawBufferPointer?
        var value: UnsafeRawBufferPointer?
        var headerCount: Int
        /// The header bytes (count already read), for `decodeHeaders`.
        var headerBytes: UnsafeRawBufferPointer
    }

    static func decodeHeaders(_ v: RecordView) -> [KafkaHeader] {
        var c = RecordCursor(b: v.headerBytes, i: 0, end: v.headerBytes.count)
        var out: [KafkaHeader] = []
        for _ in 0..<v.headerCount {
            // Already validated when the record was read.
            guard let k = try? c.bytes(), let key = String(validating: k, as: UTF8.self) else { break }
            let value: UnsafeRawBufferPointer?
            do { value = try c.bytes() } catch { break }
            out.append(KafkaHeader(key: key, value: value.map { [UInt8]($0) }))
        }
        return out
    }

    // MARK: - Batches

    /// One checked batch header.
    struct Batch {
        var file: Int
        var start: Int
        var end: Int
        var baseOffset: Int64
        var attributes: Int16
        var lastOffsetDelta: Int32
        var baseTimestamp: Int64
        var maxTimestamp: Int64
        var producerId: Int64
        var recordCount: Int32
        var codec: Int { Int(attributes & 7) }
        var logAppendTime: Bool { attributes & 0x08 != 0 }
        var transactional: Bool { attributes & 0x10 != 0 }
        var control: Bool { attributes & 0x20 != 0 }
    }

    /// Reads one partition's segments (in offset order) and calls `visit` for
    /// every record a read_committed consumer would see, in offset order.
    static func readPartition(files: [String], topic: String, partition: Int32, segments: [[UInt8]],
                              summary: inout KafkaPartitionSummary,
                              visit: (RecordView) throws -> Void) throws {
        // Pass 1: every batch header checked (length, magic, CRC, codec);
        // control batches read to decide the transactions.
        var batches: [Batch] = []
        var pending: [Int64: [Int]] = [:]  // producer id -> its undecided transactional batches (lookups only)
        var aborted = Set<Int>()
        for (fi, bytes) in segments.enumerated() {
            let file = files[fi]
            let isLast = fi == segments.count - 1
            try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
                var pos = 0
                while pos < b.count {
                    func fail(_ problem: String, base: Int64?) -> InputError {
                        InputError(file: file, line: 0, problem: "byte offset \(pos)"
                                   + (base.map { ": batch at base offset \($0)" } ?? "") + ": " + problem)
                    }
                    let remaining = b.count - pos
                    let base: Int64? = remaining >= 8 ? be64(b, pos) : nil
                    // A preallocated segment ends in zeros.
                    if remaining >= 12, base == 0, be32(b, pos + 8) == 0,
                       UnsafeRawBufferPointer(rebasing: b[pos...]).allSatisfy({ $0 == 0 }) { break }
                    var complete = remaining >= batchHeaderSize
                    var length = 0
                    if remaining >= 12 {
                        length = Int(Int32(bitPattern: be32(b, pos + 8)))
                        if remaining >= 17, b[pos + 16] != 2 {
                            throw fail("unknown magic \(b[pos + 16]) (only record batch format v2, magic 2, is read; Kafka 0.11 and later write it)", base: base)
                        }
                        guard length >= batchHeaderSize - 12 else {
                            throw fail("batch length \(length) is shorter than a batch header", base: base)
                        }
                        if length > remaining - 12 { complete = false }
                    }
                    if !complete {
                        if isLast {
                            summary.truncatedTail = .init(file: file, byteOffset: pos, bytes: remaining, baseOffset: base)
                            return
                        }
                        throw fail("truncated batch: \(remaining) bytes left in the file, the batch needs \(length > 0 ? 12 + length : batchHeaderSize) (the segment is not its partition's last, so it cannot be a crash's tail)", base: base)
                    }
                    let end = pos + 12 + length
                    let stored = be32(b, pos + 17)
                    let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[(pos + 21)..<end]))
                    guard stored == computed else {
                        throw fail("CRC-32C mismatch: the batch says \(hex(stored)), its bytes give \(hex(computed))", base: base)
                    }
                    let batch = Batch(file: fi, start: pos, end: end, baseOffset: base!, attributes: be16(b, pos + 21),
                                      lastOffsetDelta: Int32(bitPattern: be32(b, pos + 23)), baseTimestamp: be64(b, pos + 27),
                                      maxTimestamp: be64(b, pos + 35), producerId: be64(b, pos + 43),
                                      recordCount: Int32(bitPattern: be32(b, pos + 57)))
                    guard batch.codec <= 4 else { throw fail("unknown compression codec \(batch.codec)", base: base) }
                    if batch.codec == 2 || batch.codec == 3 {
                        throw fail("\(codecNames[batch.codec])-compressed batch: medallion-sim reads batches compressed with none, gzip or zstd (re-compress the topic, or consume it into a JSON Lines capture)", base: base)
                    }
                    guard batch.recordCount >= 0, batch.lastOffsetDelta >= 0 else {
                        throw fail("negative record count or last offset delta", base: base)
                    }
                    if let prev = batches.last, batch.baseOffset <= prev.baseOffset + Int64(prev.lastOffsetDelta) {
                        throw fail("base offset \(batch.baseOffset) is not after the previous batch's last offset \(prev.baseOffset + Int64(prev.lastOffsetDelta))", base: base)
                    }
                    let index = batches.count
                    batches.append(batch)
                    summary.batches += 1
                    if batch.codec != 0 { summary.compressedBatches[codecNames[batch.codec], default: 0] += 1 }
                    if batch.control {
                        summary.controlBatches += 1
                        // One control record, never compressed: key = version (2), type (2: 0 abort, 1 commit).
                        var abort = false
                        var readFailure: InputError?
                        try records(of: batch, in: b, file: file) { r in
                            guard let k = r.key, k.count >= 4 else {
                                readFailure = fail("control record without a version and type key", base: base); return
                            }
                            abort = be16(k, 2) == 0
                        }
                        if let readFailure { throw readFailure }
                        for i in pending[batch.producerId] ?? [] where abort { aborted.insert(i) }
                        pending[batch.producerId] = nil
                    } else if batch.transactional {
                        pending[batch.producerId, default: []].append(index)
                    }
                    pos = end
                }
            }
        }
        // Transactions with no marker in the log: a read_committed consumer would not see them yet.
        var open = Set<Int>()
        for (_, list) in pending { for i in list { open.insert(i) } }

        // Pass 2: the records of the data batches that count.
        for (index, batch) in batches.enumerated() where !batch.control {
            let file = files[batch.file]
            if aborted.contains(index) || open.contains(index) {
                let n = Int(batch.recordCount)
                if aborted.contains(index) { summary.abortedRecords += n } else { summary.openTransactionRecords += n }
                continue
            }
            try segments[batch.file].withUnsafeBytes { (b: UnsafeRawBufferPointer) in
                try records(of: batch, in: b, file: file) { r in
                    summary.records += 1
                    if r.headerCount > 0 { summary.recordsWithHeaders += 1 }
                    try visit(r)
                }
            }
        }
        var seen = Set<String>()
        summary.files = files.filter { seen.insert($0).inserted }
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }

    /// The records of one (checked) batch, decompressed when needed.
    static func records(of batch: Batch, in b: UnsafeRawBufferPointer, file: String,
                        visit: (RecordView) throws -> Void) throws {
        func fail(_ problem: String) -> InputError {
            InputError(file: file, line: 0, problem: "byte offset \(batch.start): batch at base offset \(batch.baseOffset): " + problem)
        }
        let body = UnsafeRawBufferPointer(rebasing: b[(batch.start + batchHeaderSize)..<batch.end])
        if batch.codec == 0 {
            try parseRecords(batch, body, fail: fail, visit: visit)
            return
        }
        let plain: [UInt8]
        do {
            plain = batch.codec == 1 ? try Decompression.gunzip(body, sizeHint: body.count * 4)
                : try Decompression.unzstd(body, sizeHint: body.count * 4)
        } catch {
            throw fail("cannot decompress the \(codecNames[batch.codec]) records: \(error.reason)")
        }
        try plain.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            try parseRecords(batch, p, fail: fail, visit: visit)
        }
    }

    static func parseRecords(_ batch: Batch, _ body: UnsafeRawBufferPointer, fail: (String) -> InputError,
                             visit: (RecordView) throws -> Void) throws {
        var c = RecordCursor(b: body, i: 0, end: body.count)
        var lastOffset = batch.baseOffset - 1
        let maxOffset = batch.baseOffset + Int64(batch.lastOffsetDelta)
        for n in 0..<Int(batch.recordCount) {
            let view: RecordView
            do {
                view = try parseRecord(&c, batch, body, n, fail: fail)
            } catch is RecordCursor.Overrun {
                throw fail("truncated batch: record \(n) of \(batch.recordCount) is cut short")
            }
            guard view.offset > lastOffset, view.offset <= maxOffset else {
                throw fail("record \(n): offset \(view.offset) is not after \(lastOffset) or beyond the batch's last offset \(maxOffset)")
            }
            lastOffset = view.offset
            try visit(view)
        }
        guard c.i == body.count else {
            throw fail("\(body.count - c.i) bytes after the batch's \(batch.recordCount) records")
        }
    }

    @inline(__always)
    static func parseRecord(_ c: inout RecordCursor, _ batch: Batch, _ body: UnsafeRawBufferPointer, _ n: Int,
                            fail: (String) -> InputError) throws -> RecordView {
        let length = try c.varlong()
        guard length >= 0, length <= Int64(body.count - c.i) else {
            throw fail("truncated batch: record \(n) of \(batch.recordCount) runs past the batch's end")
        }
        var r = RecordCursor(b: body, i: c.i, end: c.i + Int(length))
        c.i += Int(length)
        guard r.i < r.end else { throw RecordCursor.Overrun() }
        r.i += 1  // attributes (unused)
        let tsDelta = try r.varlong()
        let offsetDelta = try r.varlong()
        let key = try r.bytes()
        let value = try r.bytes()
        let headerCount = try r.varlong()
        guard headerCount >= 0, headerCount <= Int64(r.end - r.i) else { throw RecordCursor.Overrun() }
        let headerStart = r.i
        for _ in 0..<Int(headerCount) {
            guard let k = try r.bytes(), String(validating: k, as: UTF8.self) != nil else { throw RecordCursor.Overrun() }
            _ = try r.bytes()
        }
        guard r.i == r.end else { throw fail("record \(n): \(r.end - r.i) bytes after its last header") }
        return RecordView(offset: batch.baseOffset &+ offsetDelta,
                          timestampMs: batch.logAppendTime ? batch.maxTimestamp : batch.baseTimestamp &+ tsDelta,
                          logAppendTime: batch.logAppendTime, key: key, value: value, headerCount: Int(headerCount),
                          headerBytes: UnsafeRawBufferPointer(rebasing: body[headerStart..<r.end]))
    }

    /// Internal errors are InputErrors; anything else becomes one naming the files.
    static func typed<T>(_ files: [String], _ body: () throws -> T) throws(InputError) -> T {
        do { return try body() } catch let e as InputError { throw e } catch {
            throw InputError(file: files.first ?? "?", line: 0, problem: "\(error)")
        }
    }

    // MARK: - Public entry points

    static func readFiles(_ files: [String]) throws(InputError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else {
                throw InputError(file: f, line: 0, problem: "cannot read the segment")
            }
            out.append(Array(d))
        }
        return out
    }

    /// Every record a read_committed consumer sees in a partition's segments, headers included.
    public static func records(files: [String], topic: String, partition: Int32) throws(InputError)
        -> (records: [KafkaLogRecord], summary: KafkaPartitionSummary) {
        var summary = KafkaPartitionSummary(topic: topic, partition: partition)
        var out: [KafkaLogRecord] = []
        let segments = try readFiles(files)
        try typed(files) { try readPartition(files: files, topic: topic, partition: partition, segments: segments, summary: &summary) { r in
            out.append(KafkaLogRecord(offset: r.offset, timestampMs: r.timestampMs, logAppendTime: r.logAppendTime,
                                      key: r.key.map { Array($0) }, value: r.value.map { Array($0) }, headers: decodeHeaders(r)))
        } }
        return (out, summary)
    }

    /// Appends a partition's records to a capture (headers are counted, not
    /// kept: the pipeline does not read them).
    public static func append(files: [String], topic: String, partition: Int32, to capture: inout Capture) throws(InputError)
        -> KafkaPartitionSummary {
        var summary = KafkaPartitionSummary(topic: topic, partition: partition)
        let segments = try readFiles(files)
        // At least the segments' size more (compressed batches grow past it, amortized).
        let bytes = segments.reduce(0) { $0 + $1.count }
        let held = capture.messageCount == 0 ? 0 : capture.valueSlice(capture.messageCount - 1).endIndex
        capture.reserveCapacity(messages: capture.messageCount + bytes / 120, valueBytes: held + bytes)
        let t = capture.internTopic(topic)
        try typed(files) { try readPartition(files: files, topic: topic, partition: partition, segments: segments, summary: &summary) { r in
            guard r.timestampMs >= 0 else {
                throw InputError(file: files.last ?? topic, line: 0, problem: "\(topic)-\(partition) offset \(r.offset): no timestamp (\(r.timestampMs))")
            }
            let k = r.key.map { capture.internKey(bytes: $0) } ?? -1
            capture.append(topic: t, partition: partition, offset: r.offset, timestampMs: r.timestampMs,
                           appendTimeMicros: Capture.unknownAppendTime, keyIndex: k, value: r.value)
        } }
        return summary
    }
}
