import Foundation
import Kernel

/// Which JSON keys of a Bronze export hold the Kafka record's fields.
/// Defaults are Bronze's own columns; `kafka_timestamp` falls back to
/// `timestamp` (the name in Spark's Kafka source) and `key` is optional.
public struct BronzeColumns: Equatable, Sendable {
    public var topic = "topic"
    public var partition = "partition"
    public var offset = "offset"
    public var timestamp = "kafka_timestamp"
    public var key = "key"
    public var value = "value"
    public init() {}

    public static let fields = ["topic", "partition", "offset", "timestamp", "key", "value"]

    /// `value=payload,offset=kafka_offset` (the `--bronze-columns` option).
    public init(mapping: String) throws(InputError) {
        for pair in mapping.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[1].isEmpty else {
                throw InputError(file: "--bronze-columns", line: 0, problem: "'\(pair)' is not FIELD=COLUMN")
            }
            switch kv[0] {
            case "topic": topic = kv[1]
            case "partition": partition = kv[1]
            case "offset": offset = kv[1]
            case "timestamp", "kafka_timestamp": timestamp = kv[1]
            case "key": key = kv[1]
            case "value": value = kv[1]
            default:
                throw InputError(file: "--bronze-columns", line: 0, problem: "unknown field '\(kv[0])' (fields: \(Self.fields.joined(separator: ", ")))")
            }
        }
    }
}

/// Reads Bronze rows exported by Spark's JSON writer
/// (`spark.table("bronze_binance_trades").where(...).write.json(dir)`): a
/// directory of `part-*` files (plain, `.gz` or `.zst`: recognized by their
/// magic bytes), one JSON object per line; binary columns are base64; null
/// columns are left out; timestamps are Spark's text
/// (`2026-01-20T09:00:00.123Z`, `...+01:00`; fractions up to nanoseconds,
/// truncated to the millisecond as Kafka keeps them) or epoch milliseconds.
/// Other columns (`bronze_ingestion_timestamp`, ...) are not read. Rows may
/// come in any order across files: they are put in (topic, partition, offset)
/// order, and an offset that appears twice in a partition is an error.
public enum BronzeExport {
    /// Whether a decompressed file's first line looks like a Bronze row.
    public static func looksLikeExport(_ bytes: [UInt8], columns: BronzeColumns) -> Bool {
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
        guard end > 0, bytes[0] == UInt8(ascii: "{") else { return false }
        var p = FlatJSONLine(bytes: bytes, start: 0, end: end)
        guard let fields = try? p.parse() else { return false }
        let names = Set(fields.map(\.name))
        return names.contains(columns.offset) && names.contains(columns.partition) && !names.contains("type")
    }

    /// The keys of a first line that is a JSON object without `type` (not a capture line), else nil.
    static func columnsOfUntypedObject(_ bytes: [UInt8]) -> [String]? {
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
        guard end > 0, bytes[0] == UInt8(ascii: "{") else { return nil }
        var p = FlatJSONLine(bytes: bytes, start: 0, end: end)
        guard let fields = try? p.parse(), !fields.contains(where: { $0.name == "type" }) else { return nil }
        return fields.map(\.name)
    }

    struct Rows {
        var topicNames: [String] = []
        var topicLookup: [String: Int32] = [:]
        var topic: [Int32] = []
        var partition: [Int32] = []
        var offset: [Int64] = []
        var timestamp: [Int64] = []
        var keyStart: [Int] = [], keyEnd: [Int] = []  // keyStart -1: null
        var valueStart: [Int] = [], valueEnd: [Int] = []  // valueStart -1: null
        var arena: [UInt8] = []
    }

    /// Reads the given part files (already decompressed) into a capture.
    public static func capture(files: [(path: String, bytes: [UInt8])], columns: BronzeColumns) throws(InputError) -> Capture {
        var rows = Rows()
        let total = files.reduce(0) { $0 + $1.bytes.count }
        rows.arena.reserveCapacity(total * 3 / 4)
        for f in files { try read(f.bytes, file: f.path, columns: columns, into: &rows) }
        // (topic name, partition, offset) order.
        let n = rows.offset.count
        let topicOrder = rows.topicNames.indices.sorted { rows.topicNames[$0] < rows.topicNames[$1] }
        var rank = [Int32](repeating: 0, count: rows.topicNames.count)
        for (r, t) in topicOrder.enumerated() { rank[t] = Int32(r) }
        var order = Array(0..<n)
        order.sort { a, b in
            let ta = rank[Int(rows.topic[a])], tb = rank[Int(rows.topic[b])]
            if ta != tb { return ta < tb }
            if rows.partition[a] != rows.partition[b] { return rows.partition[a] < rows.partition[b] }
            return rows.offset[a] < rows.offset[b]
        }
        var c = Capture()
        c.reserveCapacity(messages: n, valueBytes: rows.arena.count)
        let topicIndex = rows.topicNames.map { c.internTopic($0) }
        var previous = -1
        for i in order {
            if previous >= 0, rows.topic[previous] == rows.topic[i], rows.partition[previous] == rows.partition[i],
               rows.offset[previous] == rows.offset[i] {
                throw InputError(file: files.first?.path ?? "?", line: 0,
                                 problem: "offset \(rows.offset[i]) of \(rows.topicNames[Int(rows.topic[i])])-\(rows.partition[i]) appears twice in the export")
            }
            previous = i
        }
        rows.arena.withUnsafeBytes { (arena: UnsafeRawBufferPointer) in
            for i in order {
                let k: Int32 = rows.keyStart[i] < 0 ? -1
                    : c.internKey(bytes: UnsafeRawBufferPointer(rebasing: arena[rows.keyStart[i]..<rows.keyEnd[i]]))
                let v: UnsafeRawBufferPointer? = rows.valueStart[i] < 0 ? nil
                    : UnsafeRawBufferPointer(rebasing: arena[rows.valueStart[i]..<rows.valueEnd[i]])
                c.append(topic: topicIndex[Int(rows.topic[i])], partition: rows.partition[i], offset: rows.offset[i],
                         timestampMs: rows.timestamp[i], appendTimeMicros: Capture.unknownAppendTime, keyIndex: k, value: v)
            }
        }
        return c
    }

    static func read(_ bytes: [UInt8], file: String, columns: BronzeColumns, into rows: inout Rows) throws(InputError) {
        var lineNo = 0
        var start = 0
        while start < bytes.count {
            lineNo += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            if end == start || (end == start + 1 && bytes[start] == 0x0D) { continue }
            func fail(_ p: String) -> InputError { InputError(file: file, line: lineNo, problem: p) }
            var parser = FlatJSONLine(bytes: bytes, start: start, end: end)
            let fields: [FlatJSONLine.Field]
            do { fields = try parser.parse() } catch {
                throw fail(end >= bytes.count && bytes.last != 0x0A ? "truncated line (the file ends mid-record)" : "not a JSON object: \(error.problem)")
            }
            var topic: String?, partition: Int64?, offset: Int64?, ts: Int64?
            var key: FlatJSONLine.Field?, value: FlatJSONLine.Field?
            var tsFallback: FlatJSONLine.Field?
            for f in fields {
                switch f.name {
                case columns.topic:
                    guard let v = f.string(bytes) else { throw fail("\(columns.topic) is not a string") }
                    topic = v
                case columns.partition:
                    guard let v = f.integer(bytes) else { throw fail("\(columns.partition) is not an integer") }
                    partition = v
                case columns.offset:
                    guard let v = f.integer(bytes) else { throw fail("\(columns.offset) is not an integer") }
                    offset = v
                case columns.timestamp: ts = try timestampMs(f, bytes, fail: fail)
                case columns.key: key = f
                case columns.value: value = f
                case "timestamp": tsFallback = f
                default: continue
                }
            }
            if ts == nil, columns.timestamp == "kafka_timestamp", let f = tsFallback { ts = try timestampMs(f, bytes, fail: fail) }
            guard let topic else { throw fail("no '\(columns.topic)' column (map it with --bronze-columns topic=NAME)") }
            guard let partition else { throw fail("no '\(columns.partition)' column (map it with --bronze-columns partition=NAME)") }
            guard let offset else { throw fail("no '\(columns.offset)' column (map it with --bronze-columns offset=NAME)") }
            guard let ts else { throw fail("no '\(columns.timestamp)' column (map it with --bronze-columns timestamp=NAME)") }
            guard !topic.isEmpty else { throw fail("empty topic") }
            guard partition >= 0, partition <= Int64(Int32.max) else { throw fail("partition \(partition) out of range") }
            guard offset >= 0 else { throw fail("offset \(offset) is negative") }
            guard ts >= 0 else { throw fail("timestamp before 1970") }
            let t: Int32
            if let known = rows.topicLookup[topic] { t = known } else {
                t = Int32(rows.topicNames.count); rows.topicNames.append(topic); rows.topicLookup[topic] = t
            }
            rows.topic.append(t); rows.partition.append(Int32(partition)); rows.offset.append(offset); rows.timestamp.append(ts)
            for (field, name, isKey) in [(key, columns.key, true), (value, columns.value, false)] {
                var s = -1, e = -1
                if let field, !field.isNull {
                    guard field.isString else { throw fail("\(name) is not a base64 string") }
                    s = rows.arena.count
                    guard Base64.decode(bytes, field.valueStart, field.valueEnd, into: &rows.arena) else {
                        throw fail("\(name) is not valid base64")
                    }
                    e = rows.arena.count
                }
                if isKey { rows.keyStart.append(s); rows.keyEnd.append(e) } else { rows.valueStart.append(s); rows.valueEnd.append(e) }
            }
        }
    }

    static func timestampMs(_ f: FlatJSONLine.Field, _ bytes: [UInt8], fail: (String) -> InputError) throws(InputError) -> Int64 {
        if let n = f.integer(bytes) { return n }
        guard f.isString, let ms = SparkTimestamp.parseMillis(bytes, f.valueStart, f.valueEnd) else {
            let text = f.string(bytes) ?? "?"
            throw fail("\(f.name) '\(text)' is not a timestamp with a zone (2026-01-20T09:00:00.123Z) or epoch milliseconds")
        }
        return ms
    }
}

/// Spark's timestamp text: `yyyy-MM-dd'T'HH:mm:ss[.fraction]` then `Z`,
/// `+HH:MM`, `+HHMM` or `+HH` (a space instead of `T` is accepted). The
/// fraction is truncated to milliseconds. A timestamp without a zone is refused:
/// its meaning depends on the exporting session's time zone.
public enum SparkTimestamp {
    public static func parseMillis(_ b: [UInt8], _ start: Int, _ end: Int) -> Int64? {
        var i = start
        func digits(_ n: Int) -> Int64? {
            guard end - i >= n else { return nil }
            var v: Int64 = 0
            for _ in 0..<n {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48); i += 1
            }
            return v
        }
        func expect(_ c: UInt8) -> Bool { guard i < end, b[i] == c else { return false }; i += 1; return true }
        guard let y = digits(4), expect(45), let mo = digits(2), expect(45), let d = digits(2) else { return nil }
        guard i < end, b[i] == UInt8(ascii: "T") || b[i] == 32 else { return nil }
        i += 1
        guard let h = digits(2), expect(58), let mi = digits(2), expect(58), let s = digits(2) else { return nil }
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var millis: Int64 = 0
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < end, b[i] >= 48, b[i] <= 57 {
                if n < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                n += 1; i += 1
            }
            guard n > 0, n <= 9 else { return nil }
            if n < 3 { for _ in n..<3 { millis *= 10 } }
        }
        guard i < end else { return nil }
        var offsetMinutes: Int64 = 0
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            var om: Int64 = 0
            if i < end {
                _ = expect(58)
                guard let m = digits(2) else { return nil }
                om = m
            }
            offsetMinutes = sign * (oh * 60 + om)
        } else { return nil }
        guard i == end else { return nil }
        let days = UTCDateTime.days(fromCivil: y, mo, d)
        let local = ((days * 24 + h) * 60 + mi) * 60 + s
        return (local - offsetMinutes * 60) * 1_000 + millis
    }
}

/// One JSON object on one line, fields located in place (strings unescaped
/// only when read). Nested objects and arrays are skipped over.
struct FlatJSONLine {
    struct Field {
        var name: String
        var valueStart: Int
        var valueEnd: Int
        var kind: UInt8  // s string (contents between the quotes), n number, l null, o other
        var escaped: Bool
        var isNull: Bool { kind == UInt8(ascii: "l") }
        var isString: Bool { kind == UInt8(ascii: "s") }

        func integer(_ b: [UInt8]) -> Int64? {
            guard kind == UInt8(ascii: "n"), valueEnd > valueStart else { return nil }
            var i = valueStart, neg = false
            if b[i] == UInt8(ascii: "-") { neg = true; i += 1 }
            guard i < valueEnd else { return nil }
            var v: Int64 = 0
            while i < valueEnd {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
                guard !o1, !o2 else { return nil }
                v = a; i += 1
            }
            return neg ? -v : v
        }

        func string(_ b: [UInt8]) -> String? {
            guard isString else { return nil }
            if !escaped { return String(decoding: b[valueStart..<valueEnd], as: UTF8.self) }
            let quoted = Array(b[(valueStart - 1)...valueEnd])
            return (try? JSONSerialization.jsonObject(with: Data(quoted), options: [.fragmentsAllowed])) as? String
        }
    }
    struct Failure: Error { let problem: String }

    let bytes: [UInt8]
    var i: Int
    let end: Int
    init(bytes: [UInt8], start: Int, end: Int) { self.bytes = bytes; self.i = start; self.end = end }

    mutating func ws() { while i < end, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 { i += 1 } }

    /// Scans a string whose opening quote is at i; returns the contents' range.
    mutating func string() throws(Failure) -> (Int, Int, Bool) {
        i += 1
        let s = i
        var escaped = false
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; return (s, i - 1, escaped) }
            if c == UInt8(ascii: "\\") { escaped = true; i += 2; continue }
            i += 1
        }
        throw Failure(problem: "unterminated string")
    }

    mutating func skipValue(depth: Int) throws(Failure) {
        guard depth < 64 else { throw Failure(problem: "nested too deeply") }
        guard i < end else { throw Failure(problem: "missing value") }
        switch bytes[i] {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[i] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1; ws()
            if i < end, bytes[i] == close { i += 1; return }
            while true {
                ws()
                if close == UInt8(ascii: "}") {
                    guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw Failure(problem: "expected a key") }
                    _ = try string(); ws()
                    guard i < end, bytes[i] == UInt8(ascii: ":") else { throw Failure(problem: "expected ':'") }
                    i += 1; ws()
                }
                try skipValue(depth: depth + 1); ws()
                guard i < end else { throw Failure(problem: "unterminated value") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == close else { throw Failure(problem: "expected ',' or a closing bracket") }
                i += 1; return
            }
        default:
            let s = i
            while i < end, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 32, 9, 13].contains(bytes[i]) { i += 1 }
            guard i > s else { throw Failure(problem: "missing value") }
        }
    }

    mutating func parse() throws(Failure) -> [Field] {
        ws()
        guard i < end, bytes[i] == UInt8(ascii: "{") else { throw Failure(problem: "a line must be a JSON object") }
        i += 1; ws()
        var out: [Field] = []
        if i < end, bytes[i] == UInt8(ascii: "}") { i += 1; ws(); guard i == end else { throw Failure(problem: "text after the object") }; return out }
        while true {
            ws()
            guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw Failure(problem: "expected a key") }
            let (ks, ke, kesc) = try string()
            let name = kesc ? (FlatJSONLine.Field(name: "", valueStart: ks, valueEnd: ke, kind: UInt8(ascii: "s"), escaped: true).string(bytes) ?? "")
                : String(decoding: bytes[ks..<ke], as: UTF8.self)
            ws()
            guard i < end, bytes[i] == UInt8(ascii: ":") else { throw Failure(problem: "expected ':' after \"\(name)\"") }
            i += 1; ws()
            guard i < end else { throw Failure(problem: "missing value") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let (s, e, esc) = try string()
                out.append(Field(name: name, valueStart: s, valueEnd: e, kind: UInt8(ascii: "s"), escaped: esc))
            } else {
                let s = i
                try skipValue(depth: 0)
                let kind: UInt8 = c == UInt8(ascii: "n") ? UInt8(ascii: "l") : (c == UInt8(ascii: "-") || (c >= 48 && c <= 57)) ? UInt8(ascii: "n") : UInt8(ascii: "o")
                if kind == UInt8(ascii: "l") && !(i - s == 4 && bytes[s..<i].elementsEqual("null".utf8)) { throw Failure(problem: "bad literal") }
                out.append(Field(name: name, valueStart: s, valueEnd: i, kind: kind, escaped: false))
            }
            ws()
            guard i < end else { throw Failure(problem: "unterminated object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { throw Failure(problem: "expected ',' or '}'") }
            i += 1; ws()
            guard i == end else { throw Failure(problem: "text after the object") }
            return out
        }
    }
}

/// Standard base64 (with `=` padding, as Spark writes binary columns), decoded in place.
enum Base64 {
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    static func decode(_ b: [UInt8], _ start: Int, _ end: Int, into out: inout [UInt8]) -> Bool {
        let n = end - start
        guard n % 4 == 0 else { return false }
        if n == 0 { return true }
        var pad = 0
        if b[end - 1] == UInt8(ascii: "=") { pad += 1; if b[end - 2] == UInt8(ascii: "=") { pad += 1 } }
        return table.withUnsafeBufferPointer { t in
            var i = start
            while i < end {
                let last = i + 4 == end
                let c0 = t[Int(b[i])], c1 = t[Int(b[i + 1])]
                let c2 = last && pad == 2 ? 0 : t[Int(b[i + 2])]
                let c3 = last && pad >= 1 ? 0 : t[Int(b[i + 3])]
                guard c0 | c1 | c2 | c3 != 0xFF, (c0 | c1 | c2 | c3) & 0xC0 == 0 else { return false }
                let v = UInt32(c0) << 18 | UInt32(c1) << 12 | UInt32(c2) << 6 | UInt32(c3)
                out.append(UInt8(v >> 16))
                if !(last && pad == 2) { out.append(UInt8((v >> 8) & 0xFF)) }
                if !(last && pad >= 1) { out.append(UInt8(v & 0xFF)) }
                i += 4
            }
            return true
        }
    }
}
