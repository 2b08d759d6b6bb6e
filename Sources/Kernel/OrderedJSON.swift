import OrderedCollections

/// The project's JSON reader: a document with object keys in declaration
/// order and numbers kept as their text. The codec reads Avro schema
/// declarations with it; `JSONValue` (the writer) is read back through it.
///
/// Why not libavro's parser: `avro_schema_from_json` drops `logicalType`,
/// `precision`, `scale` and `default` (docs/AVRO-LIBRARY.md), which decide whether a
/// writer schema resolves to the V2 trade. Why not Foundation: object keys
/// keep their declaration order here, and the canonical text below must be
/// the same on every platform.
///
/// A key repeated in one object is refused by `parse(_:)`: readers disagree
/// about which value counts (libavro's JSON parser and Jackson keep the last,
/// a scan for the first member finds the first), so a document with one is
/// ambiguous. `parse(_:duplicateKeys:)` reads such documents for the inputs
/// the project does not write itself and may hold one (Spark's progress
/// JSON), keeping the last value as those readers do and reporting each repeat.
public indirect enum OrderedJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written (canonicalised by re-emitting it as is).
    case number(String)
    case string(String)
    case array([OrderedJSON])
    /// Keys in declaration order, each once.
    case object(OrderedDictionary<String, OrderedJSON>)

    public subscript(key: String) -> OrderedJSON? {
        if case let .object(members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var intValue: Int? { if case let .number(n) = self { return Int(n) }; return nil }

    public struct ParseError: Error, CustomStringConvertible {
        /// Byte offset of the problem in the UTF-8 text.
        public let offset: Int
        public let problem: String
        public var description: String { "invalid JSON at byte \(offset): \(problem)" }
    }

    /// A key repeated in one object: the key and the byte offset of the repeat.
    public struct DuplicateKey: Equatable, Sendable {
        public let key: String
        public let offset: Int
    }

    /// Parses one JSON document; trailing non-whitespace is an error, and so
    /// is a key repeated in one object (at the repeated key).
    public static func parse(_ text: String) throws(ParseError) -> OrderedJSON {
        try parsed(text, refusingDuplicates: true).value
    }

    /// Parses one JSON document whose objects may repeat a key: the object
    /// keeps the key where it first appeared with its last value (as
    /// libavro's parser, Jackson and Python's `json` read it), and each
    /// repeat is appended to `duplicateKeys`.
    public static func parse(_ text: String, duplicateKeys: inout [DuplicateKey]) throws(ParseError) -> OrderedJSON {
        let (value, repeats) = try parsed(text, refusingDuplicates: false)
        duplicateKeys.append(contentsOf: repeats)
        return value
    }

    private static func parsed(_ text: String, refusingDuplicates: Bool) throws(ParseError) -> (value: OrderedJSON, duplicates: [DuplicateKey]) {
        var p = Parser(bytes: Array(text.utf8), refuseDuplicates: refusingDuplicates)
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.i == p.bytes.count else { throw ParseError(offset: p.i, problem: "unexpected text after the document") }
        return (v, p.duplicates)
    }

    /// Compact text with keys in declaration order: whitespace-insensitive
    /// identity for the registry ("same schema -> same id").
    public var canonicalText: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += n
        case let .string(s): JSONValue.writeString(s, into: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() { if i > 0 { out += "," }; item.write(into: &out) }
            out += "]"
        case let .object(members):
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                OrderedJSON.writeString(k, into: &out); out += ":"; v.write(into: &out)
            }
            out += "}"
        }
    }

    /// The same escaping as every other JSON the project writes.
    static func writeString(_ s: String, into out: inout String) {
        JSONValue.writeString(s, into: &out)
    }

    private struct Parser {
        let bytes: [UInt8]
        let refuseDuplicates: Bool
        /// Repeated keys read when they are not refused.
        var duplicates: [DuplicateKey] = []
        var i = 0
        /// Schemas nest a handful of levels; a bound keeps hostile input from
        /// overflowing the stack.
        static let maxDepth = 128

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        /// Past an object's or array's opening bracket: true (and past the
        /// closing one) when it is empty.
        mutating func opens(closedBy close: Unicode.Scalar) -> Bool {
            i += 1
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: close) else { return false }
            i += 1
            return true
        }

        /// After a member or an item: true past a ',', false past the closing bracket.
        mutating func continues(closedBy close: Unicode.Scalar, _ what: String) throws(ParseError) -> Bool {
            skipWhitespace()
            guard i < bytes.count else { throw ParseError(offset: i, problem: "unterminated \(what)") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; return true }
            if bytes[i] == UInt8(ascii: close) { i += 1; return false }
            throw ParseError(offset: i, problem: "expected ',' or '\(close)'")
        }

        mutating func value(depth: Int) throws(ParseError) -> OrderedJSON {
            guard depth < Parser.maxDepth else { throw ParseError(offset: i, problem: "nested too deeply") }
            skipWhitespace()
            guard i < bytes.count else { throw ParseError(offset: i, problem: "unexpected end of input") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                var members: OrderedDictionary<String, OrderedJSON> = [:]
                if opens(closedBy: "}") { return .object(members) }
                while true {
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw ParseError(offset: i, problem: "expected a key") }
                    let keyOffset = i
                    let k = try string()
                    let repeated = members[k] != nil
                    if repeated {
                        if refuseDuplicates { throw ParseError(offset: keyOffset, problem: "duplicate key '\(k)'") }
                        duplicates.append(DuplicateKey(key: k, offset: keyOffset))
                    }
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw ParseError(offset: i, problem: "expected ':'") }
                    i += 1
                    members[k] = try value(depth: depth + 1)
                    guard try continues(closedBy: "}", "object") else { return .object(members) }
                }
            case UInt8(ascii: "["):
                var items: [OrderedJSON] = []
                if opens(closedBy: "]") { return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    guard try continues(closedBy: "]", "array") else { return .array(items) }
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                let start = i
                while i < bytes.count, "+-.eE0123456789".utf8.contains(bytes[i]) { i += 1 }
                guard i > start else { throw ParseError(offset: i, problem: "unexpected character") }
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                guard Double(text) != nil else { throw ParseError(offset: start, problem: "bad number '\(text)'") }
                return .number(text)
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else {
                throw ParseError(offset: i, problem: "expected '\(word)'")
            }
            i += w.count
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw ParseError(offset: i, problem: "short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]; i += 1
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: throw ParseError(offset: i - 1, problem: "bad hex digit in \\u escape")
                }
                v = v << 4 | d
            }
            return v
        }

        mutating func string() throws(ParseError) -> String {
            i += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw ParseError(offset: i, problem: "unterminated string") }
                let c = bytes[i]; i += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw ParseError(offset: i - 1, problem: "control character in string") }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { throw ParseError(offset: i, problem: "unterminated escape") }
                let e = bytes[i]; i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count,
                       bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw ParseError(offset: i, problem: "bad surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw ParseError(offset: i, problem: "bad \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw ParseError(offset: i - 1, problem: "bad escape")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
