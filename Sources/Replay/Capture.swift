import Codec
import Foundation
import Kernel

/// A writer schema registered by a capture (docs/REFERENCE.md §9 `"type":"schema"` line).
public struct CapturedSchema: Equatable, Sendable {
    public var id: Int32
    public var subject: String
    public var schema: String
    public init(id: Int32, subject: String, schema: String) {
        self.id = id; self.subject = subject; self.schema = schema
    }
}

/// One Kafka record of a capture (docs/REFERENCE.md §9 `"type":"message"` line).
public struct CapturedMessage: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    /// When the broker appended the record, if the capture knows it (`record`
    /// writes it, as the extension field `append_time_us`; a production
    /// capture usually has only the producer's timestamp).
    public var appendTimeMicros: Micros?
    public var key: [UInt8]?
    /// `nil` is a Kafka tombstone (null value); Silver files it as EMPTY_PAYLOAD.
    public var value: [UInt8]?
    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64, appendTimeMicros: Micros? = nil,
                key: [UInt8]?, value: [UInt8]?) {
        self.topic = topic; self.partition = partition; self.offset = offset
        self.timestampMs = timestampMs; self.appendTimeMicros = appendTimeMicros; self.key = key; self.value = value
    }
}

/// A capture of production Kafka traffic: schemas and messages in file order.
///
/// Within one (topic, partition) offsets strictly increase — a Kafka log's
/// offsets do — but may have gaps (compaction, transaction markers). The
/// readers enforce this; `ReplayFeed` checks it again for captures built in code.
///
/// Stored as columns (topics and keys interned, values in one arena): a
/// capture of a few hours of production traffic holds millions of messages,
/// and replay speed is bounded by how fast they load.
public struct Capture: Equatable, Sendable {
    public var schemas: [CapturedSchema] = []
    /// Topic names in order of first appearance.
    public private(set) var topics: [String] = []
    private var topicLookup: [String: Int32] = [:]
    /// Per message: index into `topics`.
    public private(set) var topicIndex: [Int32] = []
    public private(set) var partitions: [Int32] = []
    public private(set) var offsets: [Int64] = []
    public private(set) var timestampsMs: [Int64] = []
    /// Per message: the broker append time, or `Capture.unknownAppendTime`.
    public private(set) var appendTimes: [Micros] = []
    /// Distinct keys in order of first appearance; per message an index, -1 for null.
    public private(set) var distinctKeys: [[UInt8]] = []
    private var keyLookup: [[UInt8]: Int32] = [:]
    public private(set) var keyIndex: [Int32] = []
    /// Values back to back; message i's is `valueBytes[valueStart(i) ..< valueEnds[i]]`.
    private var valueBytes: [UInt8] = []
    private var valueEnds: [Int] = []
    /// Per message: 1 for a null value (tombstone).
    private var valueIsNull: [UInt8] = []

    public static let unknownAppendTime: Micros = .min

    public init(schemas: [CapturedSchema] = [], messages: [CapturedMessage] = []) {
        self.schemas = schemas
        for m in messages { append(m) }
    }

    public var messageCount: Int { offsets.count }

    public mutating func reserveCapacity(messages n: Int, valueBytes bytes: Int) {
        topicIndex.reserveCapacity(n); partitions.reserveCapacity(n); offsets.reserveCapacity(n)
        timestampsMs.reserveCapacity(n); appendTimes.reserveCapacity(n); keyIndex.reserveCapacity(n)
        valueEnds.reserveCapacity(n); valueIsNull.reserveCapacity(n); valueBytes.reserveCapacity(bytes)
    }

    public mutating func internTopic(_ name: String) -> Int32 {
        if let i = topicLookup[name] { return i }
        let i = Int32(topics.count)
        topics.append(name); topicLookup[name] = i
        return i
    }

    public mutating func internKey(_ key: [UInt8]?) -> Int32 {
        guard let key else { return -1 }
        if let i = keyLookup[key] { return i }
        let i = Int32(distinctKeys.count)
        distinctKeys.append(key); keyLookup[key] = i
        return i
    }

    /// Interns a key given in place (the readers' path: no allocation for a known key).
    public mutating func internKey(bytes: UnsafeRawBufferPointer) -> Int32 {
        if distinctKeys.count <= 16 {
            for (i, k) in distinctKeys.enumerated() where k.count == bytes.count
                && k.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return Int32(i) }
        }
        return internKey(Array(bytes))
    }

    public mutating func append(_ m: CapturedMessage) {
        let t = internTopic(m.topic), k = internKey(m.key)
        if let v = m.value {
            v.withUnsafeBytes { append(topic: t, partition: m.partition, offset: m.offset, timestampMs: m.timestampMs,
                                       appendTimeMicros: m.appendTimeMicros ?? Self.unknownAppendTime, keyIndex: k, value: $0) }
        } else {
            append(topic: t, partition: m.partition, offset: m.offset, timestampMs: m.timestampMs,
                   appendTimeMicros: m.appendTimeMicros ?? Self.unknownAppendTime, keyIndex: k, value: nil)
        }
    }

    /// The fast path of the readers: interned topic and key, value bytes copied in.
    public mutating func append(topic: Int32, partition: Int32, offset: Int64, timestampMs: Int64, appendTimeMicros: Micros,
                                keyIndex key: Int32, value: UnsafeRawBufferPointer?) {
        precondition(topic >= 0 && Int(topic) < topics.count && key < Int32(distinctKeys.count))
        topicIndex.append(topic); partitions.append(partition); offsets.append(offset)
        timestampsMs.append(timestampMs); appendTimes.append(appendTimeMicros); keyIndex.append(key)
        if let value { valueBytes.append(contentsOf: value.assumingMemoryBound(to: UInt8.self)) }
        valueEnds.append(valueBytes.count)
        valueIsNull.append(value == nil ? 1 : 0)
    }

    @inline(__always) func valueStart(_ i: Int) -> Int { i == 0 ? 0 : valueEnds[i - 1] }

    /// Whether message i's value is null (a tombstone).
    public func isNullValue(_ i: Int) -> Bool { valueIsNull[i] != 0 }
    /// Message i's value bytes in place (empty for a tombstone).
    public func valueSlice(_ i: Int) -> ArraySlice<UInt8> { valueBytes[valueStart(i) ..< valueEnds[i]] }
    public func key(_ i: Int) -> [UInt8]? { keyIndex[i] < 0 ? nil : distinctKeys[Int(keyIndex[i])] }

    public func message(_ i: Int) -> CapturedMessage {
        CapturedMessage(topic: topics[Int(topicIndex[i])], partition: partitions[i], offset: offsets[i],
                        timestampMs: timestampsMs[i],
                        appendTimeMicros: appendTimes[i] == Self.unknownAppendTime ? nil : appendTimes[i],
                        key: key(i), value: isNullValue(i) ? nil : Array(valueSlice(i)))
    }

    /// The messages, in file order (each materialized on access).
    public var messages: Messages { Messages(capture: self) }

    /// Same schemas and same messages in the same order (however topics and
    /// keys happen to be interned).
    public static func == (a: Capture, b: Capture) -> Bool {
        guard a.schemas == b.schemas, a.messageCount == b.messageCount else { return false }
        return (0..<a.messageCount).allSatisfy { a.message($0) == b.message($0) }
    }

    public struct Messages: RandomAccessCollection {
        let capture: Capture
        public var startIndex: Int { 0 }
        public var endIndex: Int { capture.messageCount }
        public subscript(i: Int) -> CapturedMessage { capture.message(i) }
    }
}

/// Reads captures: JSON Lines (docs/REFERENCE.md §9), plain or zstd-compressed, or the
/// project's compact binary format (always zstd-compressed). Any problem is an
/// `InputError` naming the file and the line (or record) — nothing partial is
/// returned.
public enum CaptureReader {
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    public static func load(path: String) throws(InputError) -> Capture {
        guard let f = fopen(path, "rb") else { throw InputError(file: path, line: 0, problem: "cannot open the capture") }
        var head = [UInt8](repeating: 0, count: 4)
        let n = fread(&head, 1, 4, f)
        fclose(f)
        var bytes: [UInt8]
        if n == 4 && head == zstdMagic {
            do { bytes = try readZstd(path) } catch {
                throw InputError(file: path, line: 0, problem: "corrupt or truncated zstd data: \(error)")
            }
        } else {
            do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw InputError(file: path, line: 0, problem: "cannot read the capture")
            }
        }
        if bytes.starts(with: CompactCapture.magic) {
            return try CompactCapture.decode(bytes, file: path)
        }
        return try parseJSONLines(bytes, file: path)
    }

    /// The whole decompressed file, grown in few large steps (a capture of a
    /// few hours is hundreds of MB; per-chunk regrowth would copy it repeatedly).
    static func readZstd(_ path: String) throws -> [UInt8] {
        let r = try ZstdReader(path: path)
        var out: [UInt8] = []
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int {
            out.reserveCapacity(size * 4)  // captures compress about 3:1
        }
        while let chunk = try r.readChunk() { out.append(contentsOf: chunk) }
        return out
    }

    private struct Line: Decodable {
        let type: String
        let id: Int32?
        let subject: String?
        let schema: String?
        let topic: String?
        let partition: Int32?
        let offset: Int64?
        let timestamp_ms: Int64?
        let append_time_us: Int64?
        let key_b64: String?
        let value_b64: String?

        static let schemaKeys: Set<String> = ["type", "id", "subject", "schema"]
        /// docs/REFERENCE.md §9's fields, plus `append_time_us` (optional; written by `record`).
        static let messageKeys: Set<String> = ["type", "topic", "partition", "offset", "timestamp_ms", "append_time_us",
                                               "key_b64", "value_b64"]
    }

    /// Checks one schema line as the registry will read it (valid Avro, an id
    /// that keeps its meaning), so a bad schema is reported at its line.
    static func checkSchema(_ s: CapturedSchema, _ registry: SchemaRegistry, fail: (String) -> InputError) throws(InputError) {
        do { try registry.register(subject: s.subject, schemaJSON: s.schema, id: s.id) } catch let e as SchemaRegistryError {
            throw fail(e.message)
        } catch {
            throw fail("\(error)")
        }
    }

    public static func parseJSONLines(_ bytes: [UInt8], file: String) throws(InputError) -> Capture {
        var capture = Capture()
        var lastOffset: [Int64: Int64] = [:]  // topic << 32 | partition -> last offset (lookups only, never iterated)
        let registry = SchemaRegistry()
        let decoder = JSONDecoder()
        var lineNo = 0
        var start = 0
        let endsWithNewline = bytes.last == UInt8(ascii: "\n")
        while start < bytes.count {
            lineNo += 1
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let lineBytes = bytes[start..<end]
            let isLast = end >= bytes.count
            start = end + 1
            if lineBytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            func fail(_ problem: String) -> InputError { InputError(file: file, line: lineNo, problem: problem) }

            // Unknown keys are errors: a field we do not understand may change meaning.
            guard let object = try? JSONSerialization.jsonObject(with: Data(lineBytes)) as? [String: Any] else {
                if isLast && !endsWithNewline { throw fail("truncated line (the file ends mid-record)") }
                throw fail("not a JSON object")
            }
            let line: Line
            do { line = try decoder.decode(Line.self, from: Data(lineBytes)) } catch {
                throw fail("bad field: \(describe(error))")
            }
            let allowed: Set<String>
            switch line.type {
            case "schema": allowed = Line.schemaKeys
            case "message": allowed = Line.messageKeys
            default: throw fail("unknown type '\(line.type)' (expected schema or message)")
            }
            if let unknown = object.keys.filter({ !allowed.contains($0) }).sorted().first {
                throw fail("unknown field '\(unknown)' in a \(line.type) line")
            }
            if line.type == "schema" {
                guard let id = line.id, let subject = line.subject, let schema = line.schema else {
                    throw fail("a schema line needs id, subject and schema")
                }
                guard id > 0 else { throw fail("schema id \(id) is not positive") }
                let s = CapturedSchema(id: id, subject: subject, schema: schema)
                try checkSchema(s, registry, fail: fail)
                capture.schemas.append(s)
            } else {
                guard let topic = line.topic, let partition = line.partition, let offset = line.offset,
                      let ts = line.timestamp_ms else {
                    throw fail("a message line needs topic, partition, offset and timestamp_ms")
                }
                guard !topic.isEmpty else { throw fail("empty topic") }
                guard partition >= 0 else { throw fail("partition \(partition) is negative") }
                guard offset >= 0 else { throw fail("offset \(offset) is negative") }
                guard ts >= 0 else { throw fail("timestamp_ms \(ts) is negative") }
                if let a = line.append_time_us, a < 0 { throw fail("append_time_us \(a) is negative") }
                let t = capture.internTopic(topic)
                let key = Int64(t) << 32 | Int64(partition)
                if let prev = lastOffset[key], offset <= prev {
                    throw fail("offset \(offset) of \(topic)-\(partition) is not after the previous offset \(prev) (offsets must increase within a partition)")
                }
                lastOffset[key] = offset
                var keyBytes: [UInt8]? = nil, valueBytes: [UInt8]? = nil
                if let k = object["key_b64"], !(k is NSNull) {
                    guard let s = line.key_b64, let d = Data(base64Encoded: s) else { throw fail("key_b64 is not valid base64") }
                    keyBytes = Array(d)
                }
                if let v = object["value_b64"], !(v is NSNull) {
                    guard let s = line.value_b64, let d = Data(base64Encoded: s) else { throw fail("value_b64 is not valid base64") }
                    valueBytes = Array(d)
                }
                capture.append(CapturedMessage(topic: topic, partition: partition, offset: offset, timestampMs: ts,
                                               appendTimeMicros: line.append_time_us, key: keyBytes, value: valueBytes))
            }
        }
        return capture
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let t, let c): return "\(c.codingPath.map(\.stringValue).joined(separator: ".")) is not a \(t)"
        case DecodingError.keyNotFound(let k, _): return "missing \(k.stringValue)"
        case DecodingError.valueNotFound(let t, let c): return "\(c.codingPath.map(\.stringValue).joined(separator: ".")) must be a \(t)"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

/// Writes captures: docs/REFERENCE.md §9 JSON Lines (optionally zstd-compressed) or the compact format.
public enum CaptureWriter {
    public static func jsonLines(_ c: Capture) -> [UInt8] {
        var out: [UInt8] = []
        for s in c.schemas {
            out += Array(JSONValue.object(["type": .string("schema"), "id": .int(Int64(s.id)),
                                           "subject": .string(s.subject), "schema": .string(s.schema)]).compact.utf8)
            out.append(0x0A)
        }
        for i in 0..<c.messageCount {
            let m = c.message(i)
            var o: [String: JSONValue] = [
                "type": .string("message"), "topic": .string(m.topic), "partition": .int(Int64(m.partition)),
                "offset": .int(m.offset), "timestamp_ms": .int(m.timestampMs),
                "key_b64": m.key.map { .string(Data($0).base64EncodedString()) } ?? .null,
                "value_b64": m.value.map { .string(Data($0).base64EncodedString()) } ?? .null,
            ]
            if let a = m.appendTimeMicros { o["append_time_us"] = .int(a) }
            out += Array(JSONValue.object(o).compact.utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Compact when asked; else JSON Lines, zstd-compressed when the name ends in `.zst`.
    public static func write(_ c: Capture, to path: String, compact: Bool) throws {
        if compact {
            try ZstdFile.write(CompactCapture.encode(c), to: path, level: 3)
        } else if path.hasSuffix(".zst") {
            try ZstdFile.write(jsonLines(c), to: path, level: 3)
        } else {
            try Data(jsonLines(c)).write(to: URL(fileURLWithPath: path))
        }
    }
}

/// The compact capture: `MEDCAP01`, then records, the whole zstd-compressed.
///
/// Records (varints are unsigned LEB128, signed ones zigzag):
/// - `1` schema: id (varint), subject (len, bytes), schema (len, bytes)
/// - `2` topic: name (len, bytes) — topics are numbered in order of definition
/// - `3` message: topic index, partition, offset delta from the partition's
///   previous offset (+1 for the first), timestamp ms (zigzag delta from the
///   previous message), key (len+1, 0 = null), value (len+1, 0 = null)
/// - `4` message with its broker append time: as `3`, then after the
///   timestamp the append time in µs as a zigzag delta from timestamp x 1000
public enum CompactCapture {
    public static let magic: [UInt8] = Array("MEDCAP01".utf8)

    public static func encode(_ c: Capture) -> [UInt8] {
        var out = magic
        out.reserveCapacity(c.messageCount * 24 + c.valueSlice(max(0, c.messageCount - 1)).endIndex + 1024)
        func varint(_ v: UInt64) { var v = v; while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }; out.append(UInt8(v)) }
        func zigzag(_ d: Int64) { varint(UInt64(bitPattern: (d << 1) ^ (d >> 63))) }
        func bytes(_ b: [UInt8]) { varint(UInt64(b.count)); out += b }
        for s in c.schemas { out.append(1); varint(UInt64(s.id)); bytes(Array(s.subject.utf8)); bytes(Array(s.schema.utf8)) }
        var defined = 0
        var lastOffset: [Int64: Int64] = [:]
        var lastTs: Int64 = 0
        for i in 0..<c.messageCount {
            let ti = Int(c.topicIndex[i])
            while defined <= ti { out.append(2); bytes(Array(c.topics[defined].utf8)); defined += 1 }
            let append = c.appendTimes[i]
            out.append(append == Capture.unknownAppendTime ? 3 : 4)
            varint(UInt64(ti)); varint(UInt64(c.partitions[i]))
            let pk = Int64(ti) << 32 | Int64(c.partitions[i])
            varint(UInt64(c.offsets[i] - (lastOffset[pk] ?? -1))); lastOffset[pk] = c.offsets[i]
            zigzag(c.timestampsMs[i] &- lastTs); lastTs = c.timestampsMs[i]
            if append != Capture.unknownAppendTime { zigzag(append &- c.timestampsMs[i] &* 1_000) }
            if let k = c.key(i) { varint(UInt64(k.count) + 1); out += k } else { varint(0) }
            if c.isNullValue(i) { varint(0) } else {
                let v = c.valueSlice(i)
                varint(UInt64(v.count) + 1); out += v
            }
        }
        return out
    }

    /// A read position over the decompressed bytes; every read is bounds-checked.
    struct Cursor {
        let b: UnsafeRawBufferPointer
        var i: Int
        let file: String
        var record = 0
        func fail(_ p: String) -> InputError { InputError(file: file, line: record, problem: "record \(record): \(p)") }

        @inline(__always)
        mutating func varint() throws(InputError) -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < b.count else { throw fail("truncated") }
                let byte = b[i]; i += 1
                guard shift < 64 else { throw fail("varint too long") }
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return v }
                shift += 7
            }
        }
        @inline(__always)
        mutating func zigzag() throws(InputError) -> Int64 {
            let z = try varint()
            return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
        }
        @inline(__always)
        mutating func slice(_ n: UInt64) throws(InputError) -> UnsafeRawBufferPointer {
            guard n <= UInt64(b.count - i) else { throw fail("length \(n) runs past the end") }
            defer { i += Int(n) }
            return UnsafeRawBufferPointer(rebasing: b[i ..< i + Int(n)])
        }
        mutating func text() throws(InputError) -> String {
            let s = try slice(try varint())
            guard let t = String(validating: s, as: UTF8.self) else { throw fail("not UTF-8") }
            return t
        }
    }

    public static func decode(_ bytes: [UInt8], file: String) throws(InputError) -> Capture {
        do {
            return try bytes.withUnsafeBytes { raw in try decode(raw, file: file) }
        } catch let e as InputError {
            throw e
        } catch {
            throw InputError(file: file, line: 0, problem: "\(error)")
        }
    }

    static func decode(_ raw: UnsafeRawBufferPointer, file: String) throws(InputError) -> Capture {
        var c = Capture()
        // Values are most of the file; messages are ~150-250 bytes each at production.
        c.reserveCapacity(messages: raw.count / 160, valueBytes: raw.count)
        var r = Cursor(b: raw, i: magic.count, file: file)
        let registry = SchemaRegistry()
        var lastOffset: [[Int64]] = []  // per topic, per partition; -1 before the first message
        var lastTs: Int64 = 0
        while r.i < raw.count {
            r.record += 1
            let tag = raw[r.i]; r.i += 1
            switch tag {
            case 1:
                let id = try r.varint()
                guard id > 0, id <= UInt64(Int32.max) else { throw r.fail("schema id \(id) out of range") }
                let s = CapturedSchema(id: Int32(id), subject: try r.text(), schema: try r.text())
                let cursor = r
                try CaptureReader.checkSchema(s, registry, fail: { cursor.fail($0) })
                c.schemas.append(s)
            case 2:
                let name = try r.text()
                guard !name.isEmpty else { throw r.fail("empty topic") }
                guard c.internTopic(name) == Int32(c.topics.count - 1) else { throw r.fail("topic '\(name)' defined twice") }
                lastOffset.append([])
            case 3, 4:
                let ti = try r.varint()
                guard ti < UInt64(c.topics.count) else { throw r.fail("unknown topic index \(ti)") }
                let p = try r.varint()
                guard p <= UInt64(Int32.max) else { throw r.fail("partition out of range") }
                let delta = try r.varint()
                guard delta >= 1, delta < UInt64(Int64.max / 4) else {
                    throw r.fail("offset of \(c.topics[Int(ti)])-\(p) does not increase (offsets must increase within a partition)")
                }
                let (t, pi) = (Int(ti), Int(p))
                if pi >= lastOffset[t].count {
                    guard pi < 1 << 20 else { throw r.fail("partition \(p) is beyond any Kafka topic's") }
                    lastOffset[t] += [Int64](repeating: -1, count: pi + 1 - lastOffset[t].count)
                }
                let offset = lastOffset[t][pi] + Int64(delta)
                guard offset >= 0 else { throw r.fail("offset overflows") }
                lastOffset[t][pi] = offset
                lastTs = lastTs &+ (try r.zigzag())
                guard lastTs >= 0 else { throw r.fail("negative timestamp") }
                var append = Capture.unknownAppendTime
                if tag == 4 {
                    append = lastTs &* 1_000 &+ (try r.zigzag())
                    guard append >= 0 else { throw r.fail("negative append time") }
                }
                let k = try r.varint()
                var keyIndex: Int32 = -1
                if k > 0 { keyIndex = c.internKey(bytes: try r.slice(k - 1)) }
                let v = try r.varint()
                let value: UnsafeRawBufferPointer? = v == 0 ? nil : try r.slice(v - 1)
                c.append(topic: Int32(ti), partition: Int32(p), offset: offset, timestampMs: lastTs, appendTimeMicros: append,
                         keyIndex: keyIndex, value: value)
            default:
                throw r.fail("unknown record tag \(tag)")
            }
        }
        return c
    }
}
