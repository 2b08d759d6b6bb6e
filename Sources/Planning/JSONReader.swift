import Kernel

/// Reads the JSON this module writes (result files) back into `JSONValue`.
/// Integers stay integers; a number with a fraction or exponent is kept as
/// its text (`.number`). Errors name the file and line.
public enum JSONReader {
    /// Nesting deeper than this is refused (result files are four levels deep).
    public static let maxDepth = 64

    public static func parse(_ text: String, file: String) throws(InputError) -> JSONValue {
        var p = Parser(bytes: Array(text.utf8), file: file)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        let file: String
        var i = 0

        init(bytes: [UInt8], file: String) { self.bytes = bytes; self.file = file }

        func error(_ problem: String) -> InputError {
            var line = 1
            for b in bytes[..<min(i, bytes.count)] where b == 10 { line += 1 }
            return InputError(file: file, line: line, problem: "invalid JSON: \(problem)")
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
        }

        mutating func expect(_ word: String) throws(InputError) {
            for b in word.utf8 {
                guard i < bytes.count, bytes[i] == b else { throw error("expected '\(word)'") }
                i += 1
            }
        }

        mutating func value(depth: Int) throws(InputError) -> JSONValue {
            guard depth < JSONReader.maxDepth else { throw error("nested too deeply") }
            guard i < bytes.count else { throw error("unexpected end of file") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1; skipSpace()
                var o: [String: JSONValue] = [:]
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let k = try string()
                    skipSpace(); try expect(":"); skipSpace()
                    guard o[k] == nil else { throw error("duplicate key '\(k)'") }
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count else { throw error("unexpected end of file") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1; skipSpace()
                var a: [JSONValue] = []
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    skipSpace()
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw error("unexpected end of file") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return try number()
            }
        }

        mutating func number() throws(InputError) -> JSONValue {
            let start = i
            var integral = true
            while i < bytes.count {
                let c = bytes[i]
                if (c >= 48 && c <= 57) || c == UInt8(ascii: "-") { i += 1; continue }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") {
                    integral = false; i += 1; continue
                }
                break
            }
            guard i > start, let text = String(validating: bytes[start..<i], as: UTF8.self) else { throw error("expected a value") }
            if integral {
                guard let v = Int64(text) else { throw error("'\(text)' is not an integer in range") }
                return .int(v)
            }
            return .number(text)
        }

        mutating func string() throws(InputError) -> String {
            i += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("unterminated string") }
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw error("control character in a string") }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { throw error("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(e)
                case UInt8(ascii: "\\"): out.append(e)
                case UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        try expect("\\u")
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw error("invalid escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not UTF-8") }
            return s
        }

        mutating func hex4() throws(InputError) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard i < bytes.count else { throw error("short \\u escape") }
                let c = bytes[i]
                i += 1
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
            }
            return v
        }
    }
}

/// Typed access to a decoded JSON object, with errors that say where.
struct JSONFields {
    let value: JSONValue
    let file: String
    let context: String

    init(_ value: JSONValue, file: String, context: String) {
        self.value = value; self.file = file; self.context = context
    }

    func error(_ problem: String) -> InputError {
        InputError(file: file, line: 0, problem: "\(context): \(problem)")
    }

    func field(_ key: String) throws(InputError) -> JSONValue {
        guard case .object(let o) = value else { throw error("expected an object") }
        guard let v = o[key] else { throw error("missing '\(key)'") }
        return v
    }

    func sub(_ key: String) throws(InputError) -> JSONFields {
        JSONFields(try field(key), file: file, context: "\(context).\(key)")
    }

    func object(_ key: String) throws(InputError) -> JSONFields {
        let f = try sub(key)
        guard case .object = f.value else { throw f.error("expected an object") }
        return f
    }

    func members() throws(InputError) -> [String: JSONFields] {
        guard case .object(let o) = value else { throw error("expected an object") }
        var out: [String: JSONFields] = [:]
        for (k, v) in o { out[k] = JSONFields(v, file: file, context: "\(context).\(k)") }
        return out
    }

    func array(_ key: String) throws(InputError) -> [JSONFields] {
        let f = try sub(key)
        guard case .array(let a) = f.value else { throw f.error("expected an array") }
        return a.enumerated().map { JSONFields($0.element, file: file, context: "\(f.context)[\($0.offset)]") }
    }

    func string(_ key: String) throws(InputError) -> String { try sub(key).asString() }
    func int(_ key: String) throws(InputError) -> Int64 { try sub(key).asInt() }
    func bool(_ key: String) throws(InputError) -> Bool { try sub(key).asBool() }
    func optionalInt(_ key: String) throws(InputError) -> Int64? {
        let f = try sub(key)
        if case .null = f.value { return nil }
        return try f.asInt()
    }

    func asString() throws(InputError) -> String {
        guard case .string(let s) = value else { throw error("expected a string") }
        return s
    }
    func asInt() throws(InputError) -> Int64 {
        guard case .int(let v) = value else { throw error("expected an integer") }
        return v
    }
    func asBool() throws(InputError) -> Bool {
        guard case .bool(let v) = value else { throw error("expected true or false") }
        return v
    }
    /// `[[a, b, ...], ...]`: rows of `width` integers.
    func intRows(_ key: String, width: Int) throws(InputError) -> [[Int64]] {
        try array(key).map { row throws(InputError) in
            guard case .array(let a) = row.value, a.count == width else { throw row.error("expected \(width) integers") }
            return try a.enumerated().map { c throws(InputError) in
                try JSONFields(c.element, file: file, context: "\(row.context)[\(c.offset)]").asInt()
            }
        }
    }
}
