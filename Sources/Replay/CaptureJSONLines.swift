import Codec
import Foundation
import Kernel
import OrderedCollections

// docs/REFERENCE.md §9's JSON Lines: the reader and the writer.

extension CaptureReader {
    static let schemaKeys: Set<String> = ["type", "id", "subject", "schema"]
    /// docs/REFERENCE.md §9's fields, plus `append_time_us` (optional; written by `record`).
    static let messageKeys: Set<String> = ["type", "topic", "partition", "offset", "timestamp_ms", "append_time_us",
                                           "key_b64", "value_b64"]

    /// One line's fields, read through the project's JSON reader (a key given
    /// twice is refused: which of the two would count is anyone's guess).
    struct Fields {
        let members: OrderedDictionary<String, OrderedJSON>
        let fail: (String) -> InputError

        func value(_ key: String) -> OrderedJSON? { members[key] }

        func string(_ key: String) throws(InputError) -> String? {
            switch value(key) {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw fail("bad field: \(key) must be a string")
            }
        }

        func integer<T: FixedWidthInteger>(_ key: String, _: T.Type) throws(InputError) -> T? {
            switch value(key) {
            case nil, .null?: return nil
            case .number(let text)?:
                guard let v = T(text) else { throw fail("bad field: \(key) must be an integer in range (got \(text))") }
                return v
            default: throw fail("bad field: \(key) is not a number")
            }
        }

        /// Base64 bytes, or nil for an absent or null field.
        func bytes(_ key: String) throws(InputError) -> [UInt8]? {
            guard let text = try string(key) else { return nil }
            guard let d = Data(base64Encoded: text) else { throw fail("\(key) is not valid base64") }
            return Array(d)
        }
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

            let members: OrderedDictionary<String, OrderedJSON>
            do {
                guard case .object(let m) = try OrderedJSON.parse(String(decoding: lineBytes, as: UTF8.self)) else {
                    throw fail("not a JSON object")
                }
                members = m
            } catch let e as OrderedJSON.ParseError {
                if isLast && !endsWithNewline { throw fail("truncated line (the file ends mid-record)") }
                throw fail(e.problem.hasPrefix("duplicate key") ? e.problem : "not a JSON object (\(e.problem) at byte \(e.offset))")
            } catch let e as InputError { throw e } catch { throw fail("\(error)") }
            let line = Fields(members: members, fail: fail)
            guard let type = try line.string("type") else { throw fail("bad field: missing type") }
            let allowed: Set<String>
            switch type {
            case "schema": allowed = schemaKeys
            case "message": allowed = messageKeys
            default: throw fail("unknown type '\(type)' (expected schema or message)")
            }
            // Unknown keys are errors: a field we do not understand may change meaning.
            if let unknown = members.keys.filter({ !allowed.contains($0) }).sorted().first {
                throw fail("unknown field '\(unknown)' in a \(type) line")
            }
            if type == "schema" {
                guard let id = try line.integer("id", Int32.self), let subject = try line.string("subject"),
                      let schema = try line.string("schema") else {
                    throw fail("a schema line needs id, subject and schema")
                }
                guard id > 0 else { throw fail("schema id \(id) is not positive") }
                let s = CapturedSchema(id: id, subject: subject, schema: schema)
                try checkSchema(s, registry, fail: fail)
                capture.schemas.append(s)
            } else {
                guard let topic = try line.string("topic"), let partition = try line.integer("partition", Int32.self),
                      let offset = try line.integer("offset", Int64.self), let ts = try line.integer("timestamp_ms", Int64.self) else {
                    throw fail("a message line needs topic, partition, offset and timestamp_ms")
                }
                guard !topic.isEmpty else { throw fail("empty topic") }
                guard partition >= 0 else { throw fail("partition \(partition) is negative") }
                guard partition < Capture.maxPartitions else {
                    throw fail("partition \(partition) is beyond the limit (partitions are numbered below \(Capture.maxPartitions))")
                }
                guard offset >= 0 else { throw fail("offset \(offset) is negative") }
                guard ts >= 0 else { throw fail("timestamp_ms \(ts) is negative") }
                guard ts <= Capture.maxTimestampMs else {
                    throw fail("timestamp_ms \(ts) is after the limit \(Capture.maxTimestampMs) (9999-12-31T23:59:59.999Z)")
                }
                let appendTime = try line.integer("append_time_us", Int64.self)
                if let a = appendTime, a < 0 { throw fail("append_time_us \(a) is negative") }
                if let a = appendTime, a > Capture.maxAppendTimeMicros {
                    throw fail("append_time_us \(a) is after the limit \(Capture.maxAppendTimeMicros) (9999-12-31T23:59:59.999999Z)")
                }
                let t = capture.internTopic(topic)
                let key = Int64(t) << 32 | Int64(partition)
                if let prev = lastOffset[key], offset <= prev {
                    throw fail("offset \(offset) of \(topic)-\(partition) is not after the previous offset \(prev) (offsets must increase within a partition)")
                }
                lastOffset[key] = offset
                let keyBytes = try line.bytes("key_b64"), valueBytes = try line.bytes("value_b64")
                capture.append(CapturedMessage(topic: topic, partition: partition, offset: offset, timestampMs: ts,
                                               appendTimeMicros: appendTime, key: keyBytes, value: valueBytes))
            }
        }
        return capture
    }
}

extension CaptureWriter {
    /// The capture as JSON Lines: its schema lines, then its message lines in order.
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
}
