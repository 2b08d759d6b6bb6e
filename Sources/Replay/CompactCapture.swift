import Codec
import Foundation
import Kernel


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
        c.reserveCapacity(messages: min(raw.count / 160, 1 << 20), valueBytes: min(raw.count, 1 << 28))
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
                    guard pi < Int(Capture.maxPartitions) else {
                        throw r.fail("partition \(p) is beyond the limit (partitions are numbered below \(Capture.maxPartitions))")
                    }
                    lastOffset[t] += [Int64](repeating: -1, count: pi + 1 - lastOffset[t].count)
                }
                let offset = lastOffset[t][pi] + Int64(delta)
                guard offset >= 0 else { throw r.fail("offset overflows") }
                lastOffset[t][pi] = offset
                lastTs = lastTs &+ (try r.zigzag())
                guard lastTs >= 0 else { throw r.fail("negative timestamp") }
                guard lastTs <= Capture.maxTimestampMs else {
                    throw r.fail("timestamp_ms \(lastTs) is after the limit \(Capture.maxTimestampMs) (9999-12-31T23:59:59.999Z)")
                }
                var append = Capture.unknownAppendTime
                if tag == 4 {
                    append = lastTs * 1_000 &+ (try r.zigzag())
                    guard append >= 0 else { throw r.fail("negative append time") }
                    guard append <= Capture.maxAppendTimeMicros else {
                        throw r.fail("append time \(append) µs is after the limit \(Capture.maxAppendTimeMicros)")
                    }
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
        // A topic is defined before its first message; one defined with none
        // (which the writer never does) would be a topic without partitions.
        for (t, offsets) in lastOffset.enumerated() where offsets.isEmpty {
            throw InputError(file: file, line: 0, problem: "topic '\(c.topics[t])' is defined but has no messages")
        }
        return c
    }
}
