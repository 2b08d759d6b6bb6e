import Kernel

/// One Spark `StreamingQueryProgress` object, reduced to what calibration
/// uses, with where it was read.
public struct ProgressRecord: Sendable, Equatable {
    public var file: String
    public var line: Int
    public var queryId: String
    public var runId: String
    /// The query's name; its id when the query has none.
    public var name: String
    public var timestampMs: Int64
    public var batchId: Int64
    public var batchDurationMs: Int64
    public var numInputRows: Int64
    /// Rows written: the sink's `numOutputRows` when it reports one (>= 0),
    /// else the first state operator's `numRowsUpdated`, else nil.
    public var rowsWritten: Int64?
    /// Keys in the first state operator before the batch (total - updated), if any.
    public var stateRowsBefore: Int64?
    /// `durationMs.walCommit + durationMs.commitOffsets`: the checkpoint commits.
    public var commitMs: Int64
    /// The trigger ran a batch (`durationMs` has `addBatch`); false for the
    /// progress Spark adds for an idle trigger every 10 s.
    public var executed: Bool
}

/// Reads progress logs in the three forms users have: JSON Lines of progress
/// objects (a listener's file), a JSON array (`query.recentProgress`), and a
/// Spark driver log whose "Streaming query made progress: {" entries each
/// span many lines. The form is recognized by content.
public enum ProgressLogReader {
    static let marker = Array("Streaming query made progress: ".utf8)

    public static func read(_ text: String, file: String) throws(InputError) -> [ProgressRecord] {
        var out: [ProgressRecord] = []
        for (objText, line) in try objectTexts(text, file: file) {
            out.append(try record(objText, file: file, line: line))
        }
        return out
    }

    /// The top-level JSON objects of a log, each with the line it starts on.
    static func objectTexts(_ text: String, file: String) throws(InputError) -> [(String, Int)] {
        let bytes = Array(text.utf8)
        var i = 0, line = 1
        // Skip leading white space to see the form.
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 {
            if bytes[i] == 10 { line += 1 }
            i += 1
        }
        guard i < bytes.count else { return [] }
        var out: [(String, Int)] = []
        if bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "[") {
            // JSON Lines or a JSON array: objects separated by white space or commas.
            let isArray = bytes[i] == UInt8(ascii: "[")
            if isArray { i += 1 }
            var closed = !isArray
            while i < bytes.count {
                let b = bytes[i]
                if b == 10 { line += 1; i += 1; continue }
                if b == 32 || b == 9 || b == 13 || (isArray && b == UInt8(ascii: ",")) { i += 1; continue }
                if isArray && b == UInt8(ascii: "]") { closed = true; i += 1; continue }
                guard b == UInt8(ascii: "{"), !(isArray && closed) else {
                    throw InputError(file: file, line: line, problem: "expected a progress object ('{'), found '\(Character(Unicode.Scalar(b)))'")
                }
                let (end, lines) = try objectEnd(bytes, from: i, file: file, line: line)
                out.append((String(decoding: bytes[i..<end], as: UTF8.self), line))
                line += lines; i = end
            }
            if !closed { throw InputError(file: file, line: line, problem: "truncated JSON array (no closing ']')") }
            return out
        }
        // A driver log: find each marker, then the object after it.
        i = 0; line = 1
        let m = marker
        while i < bytes.count {
            if bytes[i] == 10 { line += 1; i += 1; continue }
            if bytes[i] == m[0], i + m.count <= bytes.count, bytes[i..<(i + m.count)].elementsEqual(m) {
                i += m.count
                guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else {
                    throw InputError(file: file, line: line, problem: "a 'Streaming query made progress' entry without its JSON object")
                }
                let (end, lines) = try objectEnd(bytes, from: i, file: file, line: line)
                out.append((String(decoding: bytes[i..<end], as: UTF8.self), line))
                line += lines; i = end
                continue
            }
            i += 1
        }
        if out.isEmpty {
            throw InputError(file: file, line: 1, problem: "no progress objects: not JSON Lines, a JSON array or a Spark driver log with 'Streaming query made progress' entries")
        }
        return out
    }

    /// The end (exclusive) of the JSON object starting at `from`, and the
    /// newlines inside it. Strings and escapes are respected.
    static func objectEnd(_ b: [UInt8], from: Int, file: String, line: Int) throws(InputError) -> (Int, Int) {
        var depth = 0, i = from, lines = 0, inString = false
        while i < b.count {
            let c = b[i]
            if c == 10 { lines += 1 }
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return (i + 1, lines) }
            }
            i += 1
        }
        throw InputError(file: file, line: line, problem: "truncated JSON: the progress object starting here never closes")
    }

    static func record(_ text: String, file: String, line: Int) throws(InputError) -> ProgressRecord {
        let o: OrderedJSON
        // Spark writes the object, including users' observed metrics (rows
        // whose column names need not be distinct): a repeated key is read
        // as PySpark's `json` module reads it, the last value.
        var repeated: [OrderedJSON.DuplicateKey] = []
        do { o = try OrderedJSON.parse(text, duplicateKeys: &repeated) } catch {
            throw InputError(file: file, line: line + JSONReader.line(ofByte: error.offset, in: text) - 1,
                             problem: "invalid JSON: \(error.problem)")
        }
        func fail(_ p: String) -> InputError { InputError(file: file, line: line, problem: p) }
        guard case .object = o else { throw fail("a progress entry must be a JSON object") }
        func str(_ k: String) throws(InputError) -> String {
            guard let v = o[k] else { throw fail("missing field '\(k)'") }
            guard let s = v.stringValue else { throw fail("field '\(k)' must be a string") }
            return s
        }
        func int(_ v: OrderedJSON?, _ k: String) throws(InputError) -> Int64 {
            guard let v else { throw fail("missing field '\(k)'") }
            guard case .number(let n) = v, let i = Int64(n) else { throw fail("field '\(k)' must be an integer") }
            return i
        }
        let id = try str("id"), runId = try str("runId")
        var name = id
        if let n = o["name"], case .string(let s) = n { name = s }
        let ts = try str("timestamp")
        guard let tsMs = parseTimestamp(ts) else { throw fail("field 'timestamp' is not yyyy-MM-ddTHH:mm:ss.SSSZ: '\(ts)'") }
        guard let d = o["durationMs"], case .object(let dm) = d else { throw fail("missing field 'durationMs'") }
        var durations: [String: Int64] = [:]
        for (k, v) in dm { durations[k] = try int(v, "durationMs.\(k)") }
        let batchDuration: Int64
        if let bd = o["batchDuration"] { batchDuration = try int(bd, "batchDuration") }
        else if let te = durations["triggerExecution"] { batchDuration = te }   // Spark < 3.1 has no batchDuration
        else { throw fail("missing field 'batchDuration'") }
        var rowsWritten: Int64?
        if let sink = o["sink"], let n = sink["numOutputRows"], case .number(let t) = n, let v = Int64(t), v >= 0 {
            rowsWritten = v
        }
        var stateBefore: Int64?
        if let ops = o["stateOperators"], case .array(let a) = ops, let first = a.first {
            let total = try int(first["numRowsTotal"], "stateOperators[0].numRowsTotal")
            let updated = try int(first["numRowsUpdated"], "stateOperators[0].numRowsUpdated")
            stateBefore = max(0, total - updated)
            if rowsWritten == nil { rowsWritten = updated }
        }
        return ProgressRecord(
            file: file, line: line, queryId: id, runId: runId, name: name, timestampMs: tsMs,
            batchId: try int(o["batchId"], "batchId"), batchDurationMs: batchDuration,
            numInputRows: try int(o["numInputRows"], "numInputRows"), rowsWritten: rowsWritten,
            stateRowsBefore: stateBefore, commitMs: (durations["walCommit"] ?? 0) + (durations["commitOffsets"] ?? 0),
            executed: durations["addBatch"] != nil)
    }

    /// `2026-01-20T09:00:05.123Z` to epoch ms.
    static func parseTimestamp(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 46, b[23] == 90 else { return nil }
        func n(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int64(b[i] - 48) }
            return v
        }
        guard let y = n(0..<4), let mo = n(5..<7), let d = n(8..<10), let h = n(11..<13), let mi = n(14..<16),
              let sec = n(17..<19), let ms = n(20..<23), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
        else { return nil }
        let days = UTCDateTime.days(fromCivil: y, mo, d)
        return ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms
    }
}
