import CZstd
import Foundation
import Kernel

/// Writes a capture as a broker's log: one directory per partition
/// (`<topic>-<partition>/<base offset>.log`), record batches v2 of up to
/// `recordsPerBatch` records, zstd-compressed, CRC-32C set, create time.
/// For `bench sources` (the reader's speed on production-sized logs); the
/// reader's correctness is shown on batches kafka-python wrote.
public enum KafkaLogWriter {
    public static func write(_ c: Capture, to dir: String, recordsPerBatch: Int = 200, zstdLevel: Int32 = 3) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (t, p, indices) in partitions(c) {
            let pdir = dir + "/\(c.topics[t])-\(p)"
            try FileManager.default.createDirectory(atPath: pdir, withIntermediateDirectories: true)
            var out: [UInt8] = []
            var k = 0
            while k < indices.count {
                let chunk = Array(indices[k..<min(k + recordsPerBatch, indices.count)])
                out += batch(c, chunk, zstdLevel: zstdLevel)
                k += chunk.count
            }
            let base = c.offsets[indices[0]]
            let name = String(repeating: "0", count: 20 - String(base).count) + String(base)
            try Data(out).write(to: URL(fileURLWithPath: pdir + "/" + name + ".log"))
        }
    }

    /// Message indices per (topic, partition), in capture order.
    static func partitions(_ c: Capture) -> [(Int, Int32, [Int])] {
        var slots: [Int64: Int] = [:]  // lookups only
        var out: [(Int, Int32, [Int])] = []
        for i in 0..<c.messageCount {
            let key = Int64(c.topicIndex[i]) << 32 | Int64(c.partitions[i])
            if let s = slots[key] { out[s].2.append(i) } else {
                slots[key] = out.count
                out.append((Int(c.topicIndex[i]), c.partitions[i], [i]))
            }
        }
        return out
    }

    static func varint(_ v: Int64, _ out: inout [UInt8]) {
        var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while z >= 0x80 { out.append(UInt8(z & 0x7F) | 0x80); z >>= 7 }
        out.append(UInt8(z))
    }

    static func be<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out += $0 }
    }

    static func batch(_ c: Capture, _ indices: [Int], zstdLevel: Int32) -> [UInt8] {
        let base = c.offsets[indices[0]], t0 = c.timestampsMs[indices[0]]
        var records: [UInt8] = []
        var maxTs = t0
        for i in indices {
            var r: [UInt8] = [0]
            varint(c.timestampsMs[i] - t0, &r)
            varint(c.offsets[i] - base, &r)
            if let k = c.key(i) { varint(Int64(k.count), &r); r += k } else { varint(-1, &r) }
            if c.isNullValue(i) { varint(-1, &r) } else { let v = c.valueSlice(i); varint(Int64(v.count), &r); r += v }
            varint(0, &r)
            varint(Int64(r.count), &records)
            records += r
            maxTs = max(maxTs, c.timestampsMs[i])
        }
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(records.count))
        let n = records.withUnsafeBytes { src in
            compressed.withUnsafeMutableBytes { dst in
                ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, zstdLevel)
            }
        }
        precondition(ZSTD_isError(n) == 0, "zstd compression of a batch failed")
        compressed.removeLast(compressed.count - n)
        var tail: [UInt8] = []  // attributes to the end: what the CRC covers
        be(Int16(4), &tail)  // zstd, create time, not transactional
        be(Int32(c.offsets[indices.last!] - base), &tail)
        be(t0, &tail); be(maxTs, &tail)
        be(Int64(-1), &tail); be(Int16(-1), &tail); be(Int32(-1), &tail)  // no producer id, epoch, sequence
        be(Int32(indices.count), &tail)
        tail += compressed
        var out: [UInt8] = []
        be(base, &out)
        be(Int32(4 + 1 + 4 + tail.count), &out)
        be(Int32(0), &out)
        out.append(2)
        be(CRC32C.checksum(tail), &out)
        return out + tail
    }
}

/// Writes a capture as Spark's JSON writer exports Bronze: `part-NNNNN.json`
/// files, one object per line, Bronze's columns, binary as base64, timestamps
/// as `yyyy-MM-dd'T'HH:mm:ss.SSSZ`. For `bench sources`; the reader's
/// correctness is shown on files PySpark wrote.
public enum BronzeExportWriter {
    public static func write(_ c: Capture, to dir: String, parts: Int = 4) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let per = (c.messageCount + parts - 1) / max(1, parts)
        for part in 0..<parts {
            var out: [UInt8] = []
            out.reserveCapacity(per * 400)
            for i in (part * per)..<min(c.messageCount, (part + 1) * per) {
                let ts = String(UTCDateTime(micros: c.timestampsMs[i] * 1_000).iso8601.prefix(23)) + "Z"
                var line = "{\"topic\":\"\(c.topics[Int(c.topicIndex[i])])\",\"partition\":\(c.partitions[i]),\"offset\":\(c.offsets[i]),"
                line += "\"kafka_timestamp\":\"\(ts)\",\"bronze_ingestion_timestamp\":\"\(ts)\""
                if let k = c.key(i) { line += ",\"key\":\"\(Data(k).base64EncodedString())\"" }
                if !c.isNullValue(i) { line += ",\"value\":\"\(Data(c.valueSlice(i)).base64EncodedString())\"" }
                line += "}\n"
                out += Array(line.utf8)
            }
            let name = String(part)
            try Data(out).write(to: URL(fileURLWithPath: dir + "/part-" + String(repeating: "0", count: 5 - name.count) + name + ".json"))
        }
        try Data().write(to: URL(fileURLWithPath: dir + "/_SUCCESS"))
    }
}
