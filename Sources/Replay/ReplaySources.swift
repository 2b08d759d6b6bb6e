import Foundation
import Kernel

/// Options of `replay PATH...` that concern reading the sources.
public struct ReplaySourceOptions: Sendable {
    /// `--schemas`: registry exports (REST answers or a `_schemas` partition directory).
    public var schemas: [String] = []
    /// `--bronze-columns`: where a Bronze export keeps the Kafka fields.
    public var bronzeColumns = BronzeColumns()
    public init(schemas: [String] = [], bronzeColumns: BronzeColumns = BronzeColumns()) {
        self.schemas = schemas; self.bronzeColumns = bronzeColumns
    }
}

/// What `replay` read: each source, and per partition the offsets it holds.
public struct SourceReport: Equatable, Sendable {
    public enum Kind: String, Sendable { case capture = "capture", kafkaLog = "kafka log segments", bronzeExport = "bronze export",
                                         registry = "registry export" }
    public struct Source: Equatable, Sendable {
        public var path: String
        public var kind: Kind
        public var files: Int
        public var messages: Int
        public var schemas: Int
        public var notes: [String]
    }
    public struct PartitionRange: Equatable, Sendable {
        public var topic: String
        public var partition: Int32
        public var messages: Int
        public var firstOffset: Int64
        public var lastOffset: Int64
        /// Holes in the offsets (control records, aborted transactions, compaction, a filter).
        public var gaps: Int
        public var missingOffsets: Int64
    }
    public var sources: [Source] = []
    public var partitions: [PartitionRange] = []
    /// Records found in two sources with the same bytes, kept once.
    public var duplicatesAcrossSources = 0

    public var lines: [String] {
        var out: [String] = []
        for s in sources {
            out.append("source   \(s.path): \(s.kind.rawValue)"
                       + (s.kind == .registry ? ", \(s.schemas) schema registrations"
                          : ", \(s.files) file\(s.files == 1 ? "" : "s"), \(s.messages) messages" + (s.schemas > 0 ? ", \(s.schemas) schemas" : "")))
            for n in s.notes { out.append("         " + n) }
        }
        for p in partitions {
            out.append("offsets  \(p.topic)-\(p.partition): \(p.firstOffset)..\(p.lastOffset), \(p.messages) messages"
                       + (p.gaps == 0 ? ", no gaps" : ", \(p.gaps) gap\(p.gaps == 1 ? "" : "s") (\(p.missingOffsets) offsets missing)"))
        }
        if duplicatesAcrossSources > 0 { out.append("note     \(duplicatesAcrossSources) records were in two sources with the same bytes: kept once") }
        return out
    }

    public var json: JSONValue {
        .object([
            "sources": .array(sources.map { s in
                .object(["path": .string(s.path), "kind": .string(s.kind.rawValue), "files": .int(Int64(s.files)),
                         "messages": .int(Int64(s.messages)), "schemas": .int(Int64(s.schemas)), "notes": .array(s.notes.map { .string($0) })])
            }),
            "partitions": .array(partitions.map { p in
                .object(["topic": .string(p.topic), "partition": .int(Int64(p.partition)), "messages": .int(Int64(p.messages)),
                         "first_offset": .int(p.firstOffset), "last_offset": .int(p.lastOffset), "gaps": .int(Int64(p.gaps)),
                         "missing_offsets": .int(p.missingOffsets)])
            }),
            "duplicates_across_sources": .int(Int64(duplicatesAcrossSources)),
        ])
    }
}

/// `replay PATH...`: each path is recognized by its content, not its name —
/// a medallion-sim capture (JSON Lines or compact, plain or zstd), a Kafka log
/// segment or a directory of partition directories (`<topic>-<partition>/*.log`),
/// a Spark JSON export of Bronze (part files, plain, gzip or zstd), or any
/// directory holding these — and all are merged into one capture. Registry
/// exports (`--schemas`) add writer schemas.
public enum ReplaySources {
    /// Files never read in a directory walk: Kafka's indexes and checkpoints,
    /// Spark's and Hadoop's markers and checksums.
    static func ignored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasPrefix("_") || name.hasSuffix(".index") || name.hasSuffix(".timeindex")
            || name.hasSuffix(".snapshot") || name.hasSuffix(".txnindex") || name.hasSuffix(".crc")
            || name.hasSuffix("checkpoint") || name == "partition.metadata" || name.hasSuffix(".deleted") || name.hasSuffix(".cleaned")
    }

    static func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }

    static func list(_ dir: String) throws(InputError) -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
            throw InputError(file: dir, line: 0, problem: "cannot list the directory")
        }
    }

    struct Found {
        var captures: [(path: String, bytes: [UInt8])] = []
        var partitions: [(dir: String, topic: String, partition: Int32, files: [String])] = []
        var bronze: [(path: String, bytes: [UInt8])] = []
        var files = 0
    }

    /// Classifies one file by its first bytes.
    static func classify(file: String, into found: inout Found, columns: BronzeColumns) throws(InputError) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(file: file, line: 0, problem: "cannot open the capture")
        }
        let raw = [UInt8](data)
        found.files += 1
        if KafkaLog.looksLikeSegment(Array(raw.prefix(17))) {
            let parent = ((file as NSString).deletingLastPathComponent as NSString).lastPathComponent
            guard let (topic, p) = KafkaLog.topicPartition(directoryName: parent) else {
                throw InputError(file: file, line: 0, problem: "a Kafka log segment must be in its partition's directory, named <topic>-<partition> (here '\(parent)')")
            }
            found.partitions.append(((file as NSString).deletingLastPathComponent, topic, p, [file]))
            return
        }
        let plain: [UInt8]
        do { plain = try Decompression.decodeFile(raw) } catch {
            let codec = raw.starts(with: Decompression.zstdMagic) ? "zstd" : "gzip"
            throw InputError(file: file, line: 0, problem: "corrupt or truncated \(codec) data: \(error.reason)")
        }
        if BronzeExport.looksLikeExport(plain, columns: columns) {
            found.bronze.append((file, plain))
        } else if let names = BronzeExport.columnsOfUntypedObject(plain) {
            throw InputError(file: file, line: 1, problem: "neither a capture line (no \"type\") nor a Bronze row with '\(columns.partition)' and '\(columns.offset)'; its columns are \(names.joined(separator: ", ")): if it is a Bronze export, name its columns with --bronze-columns (e.g. offset=kafka_offset,partition=kafka_partition)")
        } else {
            found.captures.append((file, plain))  // the capture reader says what is wrong, if anything
        }
    }

    static func walk(_ path: String, into found: inout Found, columns: BronzeColumns, depth: Int = 0) throws(InputError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError(file: path, line: 0, problem: "cannot open the capture")
        }
        guard isDirectory(path) else { try classify(file: path, into: &found, columns: columns); return }
        guard depth < 8 else { return }
        let name = (path as NSString).lastPathComponent
        if let (topic, p) = KafkaLog.topicPartition(directoryName: name) {
            let segs = try KafkaLog.segmentFiles(in: path)
            if !segs.isEmpty {
                found.files += segs.count
                found.partitions.append((path, topic, p, segs))
                return
            }
        }
        for n in try list(path) where !ignored(n) {
            try walk(path + "/" + n, into: &found, columns: columns, depth: depth + 1)
        }
    }

    /// Reads every path and the schema exports into one capture.
    public static func load(paths: [String], options: ReplaySourceOptions = ReplaySourceOptions()) throws(InputError) -> (Capture, SourceReport) {
        var report = SourceReport()
        var parts: [Capture] = []
        for path in paths {
            var found = Found()
            try walk(path, into: &found, columns: options.bronzeColumns)
            if found.captures.isEmpty && found.partitions.isEmpty && found.bronze.isEmpty {
                throw InputError(file: path, line: 0, problem: "no capture, Kafka log segment or Bronze export found")
            }
            for (file, bytes) in found.captures {
                let c = bytes.starts(with: CompactCapture.magic) ? try CompactCapture.decode(bytes, file: file)
                    : try CaptureReader.parseJSONLines(bytes, file: file)
                report.sources.append(.init(path: file, kind: .capture, files: 1, messages: c.messageCount, schemas: c.schemas.count, notes: []))
                parts.append(c)
            }
            if !found.partitions.isEmpty {
                // One partition given as several single segment files: read them together, in name order.
                var grouped: [(dir: String, topic: String, partition: Int32, files: [String])] = []
                for p in found.partitions.sorted(by: { ($0.topic, $0.partition, $0.dir) < ($1.topic, $1.partition, $1.dir) }) {
                    if let last = grouped.last, last.dir == p.dir { grouped[grouped.count - 1].files += p.files } else { grouped.append(p) }
                }
                var c = Capture()
                var notes: [String] = []
                var files = 0
                for g in grouped {
                    let files_ = g.files.sorted()
                    files += files_.count
                    let s = try KafkaLog.append(files: files_, topic: g.topic, partition: g.partition, to: &c)
                    notes += partitionNotes(s)
                }
                report.sources.append(.init(path: path, kind: .kafkaLog, files: files, messages: c.messageCount, schemas: 0, notes: notes))
                parts.append(c)
            }
            if !found.bronze.isEmpty {
                let c = try BronzeExport.capture(files: found.bronze, columns: options.bronzeColumns)
                report.sources.append(.init(path: path, kind: .bronzeExport, files: found.bronze.count, messages: c.messageCount, schemas: 0, notes: []))
                parts.append(c)
            }
        }
        var schemas: [CapturedSchema] = []
        for p in parts { schemas += p.schemas }
        for dir in options.schemas {
            let s = try RegistryExport.load(dir)
            report.sources.append(.init(path: dir, kind: .registry, files: 0, messages: 0, schemas: s.count, notes: []))
            schemas += s
        }
        // The same registration twice (a subject answer and an id answer, two sources) counts once.
        var seen = Set<String>()
        schemas = schemas.filter { seen.insert("\($0.id)\u{0}\($0.subject)\u{0}\($0.schema)").inserted }

        var capture: Capture
        if parts.count == 1 {
            capture = parts[0]
            capture.schemas = schemas
        } else {
            (capture, report.duplicatesAcrossSources) = try merge(parts, schemas: schemas, report: report)
        }
        report.partitions = ranges(capture)
        return (capture, report)
    }

    static func partitionNotes(_ s: KafkaPartitionSummary) -> [String] {
        var notes: [String] = []
        let name = "\(s.topic)-\(s.partition)"
        let codecs = s.compressedBatches.keys.sorted().map { "\(s.compressedBatches[$0]!) \($0)" }
        notes.append("\(name): \(s.files.count) segment\(s.files.count == 1 ? "" : "s"), \(s.batches) batches"
                     + (codecs.isEmpty ? "" : " (" + codecs.joined(separator: ", ") + ")") + ", \(s.records) records")
        if s.controlBatches > 0 { notes.append("\(name): \(s.controlBatches) transaction markers skipped") }
        if s.abortedRecords > 0 { notes.append("\(name): \(s.abortedRecords) records of aborted transactions skipped") }
        if s.openTransactionRecords > 0 {
            notes.append("\(name): \(s.openTransactionRecords) records of transactions without a marker in the log skipped (a read_committed consumer does not see them yet)")
        }
        if s.recordsWithHeaders > 0 { notes.append("\(name): \(s.recordsWithHeaders) records carry headers (read; the pipeline does not use them)") }
        if let t = s.truncatedTail {
            notes.append("\(name): TRUNCATED TAIL in \(t.file) at byte offset \(t.byteOffset): \(t.bytes) bytes of an incomplete batch"
                         + (t.baseOffset.map { " (base offset \($0))" } ?? "")
                         + " (what a broker leaves when it crashes mid-append); everything before it is replayed")
        }
        return notes
    }

    /// Several sources' messages, per partition in offset order; a record in
    /// two sources with the same bytes is kept once, with different bytes it is an error.
    static func merge(_ parts: [Capture], schemas: [CapturedSchema], report: SourceReport) throws(InputError) -> (Capture, Int) {
        struct Key: Hashable { let topic: String; let partition: Int32 }
        var byPartition: [Key: [(Int, Int)]] = [:]  // lookups, then sorted keys
        var total = 0, bytes = 0
        for (pi, p) in parts.enumerated() {
            total += p.messageCount
            for i in 0..<p.messageCount {
                byPartition[Key(topic: p.topics[Int(p.topicIndex[i])], partition: p.partitions[i]), default: []].append((pi, i))
                bytes += p.valueSlice(i).count
            }
        }
        var c = Capture(schemas: schemas)
        c.reserveCapacity(messages: total, valueBytes: bytes)
        var duplicates = 0
        for key in byPartition.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            let list = byPartition[key]!.sorted { a, b in
                let oa = parts[a.0].offsets[a.1], ob = parts[b.0].offsets[b.1]
                return oa != ob ? oa < ob : a.0 < b.0
            }
            let t = c.internTopic(key.topic)
            var previous: (Int, Int)?
            for (pi, i) in list {
                let p = parts[pi]
                if let (qi, j) = previous, parts[qi].offsets[j] == p.offsets[i] {
                    let q = parts[qi]
                    if q.valueSlice(j) == p.valueSlice(i) && q.key(j) == p.key(i) && q.isNullValue(j) == p.isNullValue(i) {
                        duplicates += 1; continue
                    }
                    throw InputError(file: report.sources.first?.path ?? "?", line: 0,
                                     problem: "offset \(p.offsets[i]) of \(key.topic)-\(key.partition) is in two sources with different bytes")
                }
                previous = (pi, i)
                let k = p.key(i).map { c.internKey($0) } ?? -1
                let value = p.isNullValue(i) ? nil : p.valueSlice(i)
                if let value {
                    value.withUnsafeBytes { v in
                        c.append(topic: t, partition: key.partition, offset: p.offsets[i], timestampMs: p.timestampsMs[i],
                                 appendTimeMicros: p.appendTimes[i], keyIndex: k, value: v)
                    }
                } else {
                    c.append(topic: t, partition: key.partition, offset: p.offsets[i], timestampMs: p.timestampsMs[i],
                             appendTimeMicros: p.appendTimes[i], keyIndex: k, value: nil)
                }
            }
        }
        return (c, duplicates)
    }

    /// Per partition (sorted by topic, partition): offsets, count and gaps.
    public static func ranges(_ c: Capture) -> [SourceReport.PartitionRange] {
        struct Key: Hashable { let topic: Int32; let partition: Int32 }
        var index: [Key: Int] = [:]  // lookups only
        var out: [SourceReport.PartitionRange] = []
        var last: [Int64] = []
        for i in 0..<c.messageCount {
            let k = Key(topic: c.topicIndex[i], partition: c.partitions[i])
            let o = c.offsets[i]
            if let r = index[k] {
                if o > last[r] + 1 { out[r].gaps += 1; out[r].missingOffsets += o - last[r] - 1 }
                last[r] = max(last[r], o)
                out[r].messages += 1
                out[r].firstOffset = min(out[r].firstOffset, o)
                out[r].lastOffset = max(out[r].lastOffset, o)
            } else {
                index[k] = out.count
                out.append(.init(topic: c.topics[Int(k.topic)], partition: k.partition, messages: 1, firstOffset: o, lastOffset: o,
                                 gaps: 0, missingOffsets: 0))
                last.append(o)
            }
        }
        return out.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
