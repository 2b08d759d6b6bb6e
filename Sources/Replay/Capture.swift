import Codec
import Foundation
import Kernel

/// A writer schema registered by a capture (SPEC §9 `"type":"schema"` line).
public struct CapturedSchema: Equatable, Sendable {
    public var id: Int32
    public var subject: String
    public var schema: String
    public init(id: Int32, subject: String, schema: String) {
        self.id = id; self.subject = subject; self.schema = schema
    }
}

/// One Kafka record of a capture (SPEC §9 `"type":"message"` line).
public struct CapturedMessage: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    public var key: [UInt8]?
    /// `nil` is a Kafka tombstone (null value); Silver files it as EMPTY_PAYLOAD.
    public var value: [UInt8]?
    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64, key: [UInt8]?, value: [UInt8]?) {
        self.topic = topic; self.partition = partition; self.offset = offset
        self.timestampMs = timestampMs; self.key = key; self.value = value
    }
}

/// A capture of production Kafka traffic: schemas and messages in file order.
///
/// Within one (topic, partition) offsets strictly increase — a Kafka log's
/// offsets do — but may have gaps (compaction, transaction markers).
public struct Capture: Equatable, Sendable {
    public var schemas: [CapturedSchema] = []
    public var messages: [CapturedMessage] = []
    public init(schemas: [CapturedSchema] = [], messages: [CapturedMessage] = []) {
        self.schemas = schemas; self.messages = messages
    }
}

/// Reads captures: JSON Lines (SPEC §9), plain or zstd-compressed, or the
/// project's compact binary format (always zstd-compressed). Any problem is an
/// `InputError` naming the file and the line (or record) — nothing partial is
/// returned.
public enum CaptureReader {
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    public static func load(path: String) throws(InputError) -> Capture {
        let raw: [UInt8]
        do {
            raw = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw InputError(file: path, line: 0, problem: "cannot read the file")
        }
        var bytes = raw
        if raw.starts(with: zstdMagic) {
            do { bytes = try ZstdFile.read(path) } catch {
                throw InputError(file: path, line: 0, problem: "corrupt or truncated zstd data: \(error)")
            }
        }
        if bytes.starts(with: CompactCapture.magic) {
            return try CompactCapture.decode(bytes, file: path)
        }
        return try parseJSONLines(bytes, file: path)
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
        let key_b64: String?
        let value_b64: String?

        static let schemaKeys: Set<String> = ["type", "id", "subject", "schema"]
        static let messageKeys: Set<String> = ["type", "topic", "partition", "offset", "timestamp_ms", "key_b64", "value_b64"]

        struct AnyKey: CodingKey {
            var stringValue: String; var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    public static func parseJSONLines(_ bytes: [UInt8], file: String) throws(InputError) -> Capture {
        var capture = Capture()
        var lastOffset: [String: Int64] = [:]  // "topic\0partition" -> last offset (lookup only, never iterated)
        var schemaById: [Int32: CapturedSchema] = [:]
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
                guard id >= 0 else { throw fail("schema id \(id) is negative") }
                let s = CapturedSchema(id: id, subject: subject, schema: schema)
                if let prev = schemaById[id], prev.schema != schema {
                    throw fail("schema id \(id) registered twice with different schemas")
                }
                schemaById[id] = s
                capture.schemas.append(s)
            } else {
                guard let topic = line.topic, let partition = line.partition, let offset = line.offset,
                      let ts = line.timestamp_ms else {
                    throw fail("a message line needs topic, partition, offset and timestamp_ms")
                }
                guard !topic.isEmpty else { throw fail("empty topic") }
                guard partition >= 0 else { throw fail("partition \(partition) is negative") }
                guard offset >= 0 else { throw fail("offset \(offset) is negative") }
                let key = "\(topic)\u{0}\(partition)"
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
                capture.messages.append(CapturedMessage(topic: topic, partition: partition, offset: offset,
                                                        timestampMs: ts, key: keyBytes, value: valueBytes))
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

/// Writes captures: SPEC §9 JSON Lines (optionally zstd-compressed) or the compact format.
public enum CaptureWriter {
    public static func jsonLines(_ c: Capture) -> [UInt8] {
        var out = ""
        for s in c.schemas {
            out += JSONValue.object(["type": .string("schema"), "id": .int(Int64(s.id)),
                                     "subject": .string(s.subject), "schema": .string(s.schema)]).compact + "\n"
        }
        for m in c.messages {
            out += JSONValue.object([
                "type": .string("message"), "topic": .string(m.topic), "partition": .int(Int64(m.partition)),
                "offset": .int(m.offset), "timestamp_ms": .int(m.timestampMs),
                "key_b64": m.key.map { .string(Data($0).base64EncodedString()) } ?? .null,
                "value_b64": m.value.map { .string(Data($0).base64EncodedString()) } ?? .null,
            ]).compact + "\n"
        }
        return Array(out.utf8)
    }

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
public enum CompactCapture {
    public static let magic: [UInt8] = Array("MEDCAP01".utf8)

    public static func encode(_ c: Capture) -> [UInt8] {
        var out = magic
        func varint(_ v: UInt64) { var v = v; while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }; out.append(UInt8(v)) }
        func bytes(_ b: [UInt8]) { varint(UInt64(b.count)); out += b }
        func optBytes(_ b: [UInt8]?) { if let b { varint(UInt64(b.count) + 1); out += b } else { varint(0) } }
        for s in c.schemas { out.append(1); varint(UInt64(s.id)); bytes(Array(s.subject.utf8)); bytes(Array(s.schema.utf8)) }
        var topicIndex: [String: UInt64] = [:]
        var lastOffset: [String: Int64] = [:]
        var lastTs: Int64 = 0
        for m in c.messages {
            let ti: UInt64
            if let i = topicIndex[m.topic] { ti = i } else {
                ti = UInt64(topicIndex.count); topicIndex[m.topic] = ti
                out.append(2); bytes(Array(m.topic.utf8))
            }
            out.append(3)
            varint(ti); varint(UInt64(m.partition))
            let pk = "\(m.topic)\u{0}\(m.partition)"
            varint(UInt64(m.offset - (lastOffset[pk] ?? -1))); lastOffset[pk] = m.offset
            let d = m.timestampMs &- lastTs; lastTs = m.timestampMs
            varint(UInt64(bitPattern: (d << 1) ^ (d >> 63)))
            optBytes(m.key); optBytes(m.value)
        }
        return out
    }

    public static func decode(_ b: [UInt8], file: String) throws(InputError) -> Capture {
        var c = Capture()
        var i = magic.count
        var record = 0
        func fail(_ p: String) -> InputError { InputError(file: file, line: record, problem: "record \(record): \(p)") }
        func varint() throws(InputError) -> UInt64 {
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
        func bytes(_ n: UInt64) throws(InputError) -> [UInt8] {
            guard n <= UInt64(b.count - i) else { throw fail("length \(n) runs past the end") }
            defer { i += Int(n) }
            return Array(b[i..<(i + Int(n))])
        }
        func text() throws(InputError) -> String {
            guard let s = String(validating: try bytes(try varint()), as: UTF8.self) else { throw fail("not UTF-8") }
            return s
        }
        var topics: [String] = []
        var lastOffset: [String: Int64] = [:]
        var lastTs: Int64 = 0
        while i < b.count {
            record += 1
            let tag = b[i]; i += 1
            switch tag {
            case 1:
                let id = try varint()
                guard id <= UInt64(Int32.max) else { throw fail("schema id out of range") }
                c.schemas.append(CapturedSchema(id: Int32(id), subject: try text(), schema: try text()))
            case 2:
                topics.append(try text())
            case 3:
                let ti = try varint()
                guard ti < UInt64(topics.count) else { throw fail("unknown topic index \(ti)") }
                let p = try varint()
                guard p <= UInt64(Int32.max) else { throw fail("partition out of range") }
                let pk = "\(topics[Int(ti)])\u{0}\(p)"
                let delta = try varint()
                guard delta >= 1, delta < UInt64(Int64.max / 2) else { throw fail("offsets must increase") }
                let offset = (lastOffset[pk] ?? -1) + Int64(delta); lastOffset[pk] = offset
                let z = try varint()
                let d = Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
                lastTs = lastTs &+ d
                let k = try varint(), key: [UInt8]? = k == 0 ? nil : try bytes(k - 1)
                let v = try varint(), value: [UInt8]? = v == 0 ? nil : try bytes(v - 1)
                c.messages.append(CapturedMessage(topic: topics[Int(ti)], partition: Int32(p), offset: offset,
                                                  timestampMs: lastTs, key: key, value: value))
            default:
                throw fail("unknown record tag \(tag)")
            }
        }
        return c
    }
}
