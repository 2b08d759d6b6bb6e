/// Reads JSON the project writes (what-if result files, plans) back into
/// `JSONValue`. Integers stay integers; a number with a fraction or exponent
/// is kept as its text (`.number`). Errors name the file and line.
public enum JSONReader {
    /// Parses a whole document with the project's JSON reader (`OrderedJSON`):
    /// duplicate keys are refused, integers become `.int`, other numbers keep
    /// their text (`.number`). Errors name the file and line.
    public static func parse(_ text: String, file: String) throws(InputError) -> JSONValue {
        let tree: OrderedJSON
        do {
            tree = try OrderedJSON.parse(text)
        } catch {
            throw InputError(file: file, line: line(ofByte: error.offset, in: text), problem: "invalid JSON: \(error.problem)")
        }
        return try convert(tree, file: file, path: "")
    }

    /// The 1-based line of a byte offset in `text` (where a parse error is).
    public static func line(ofByte offset: Int, in text: String) -> Int {
        1 + text.utf8.prefix(offset).reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }

    static func convert(_ v: OrderedJSON, file: String, path: String) throws(InputError) -> JSONValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .number(let text):
            guard text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
                guard let i = Int64(text) else {
                    throw InputError(file: file, line: 0, problem: "invalid JSON: '\(text)' at \(path.isEmpty ? "the top" : path) is not an integer in range")
                }
                return .int(i)
            }
            return .number(text)
        case .array(let items):
            var out: [JSONValue] = []
            for (k, item) in items.enumerated() { out.append(try convert(item, file: file, path: "\(path)[\(k)]")) }
            return .array(out)
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (k, item) in members { out[k] = try convert(item, file: file, path: path.isEmpty ? k : "\(path).\(k)") }
            return .object(out)
        }
    }
}


/// Typed access to a decoded JSON object, with errors that say where
/// (the file and the path of keys and indices, `context`).
public struct JSONFields: Sendable {
    public let value: JSONValue
    public let file: String
    public let context: String

    public init(_ value: JSONValue, file: String, context: String) {
        self.value = value; self.file = file; self.context = context
    }

    public func error(_ problem: String) -> InputError {
        InputError(file: file, line: 0, problem: "\(context): \(problem)")
    }

    public func field(_ key: String) throws(InputError) -> JSONValue {
        guard case .object(let o) = value else { throw error("expected an object") }
        guard let v = o[key] else { throw error("missing '\(key)'") }
        return v
    }

    public func sub(_ key: String) throws(InputError) -> JSONFields {
        JSONFields(try field(key), file: file, context: "\(context).\(key)")
    }

    public func object(_ key: String) throws(InputError) -> JSONFields {
        let f = try sub(key)
        guard case .object = f.value else { throw f.error("expected an object") }
        return f
    }

    public func members() throws(InputError) -> [String: JSONFields] {
        guard case .object(let o) = value else { throw error("expected an object") }
        var out: [String: JSONFields] = [:]
        for (k, v) in o { out[k] = JSONFields(v, file: file, context: "\(context).\(k)") }
        return out
    }

    public func array(_ key: String) throws(InputError) -> [JSONFields] {
        let f = try sub(key)
        guard case .array(let a) = f.value else { throw f.error("expected an array") }
        return a.enumerated().map { JSONFields($0.element, file: file, context: "\(f.context)[\($0.offset)]") }
    }

    public func string(_ key: String) throws(InputError) -> String { try sub(key).asString() }
    public func int(_ key: String) throws(InputError) -> Int64 { try sub(key).asInt() }
    public func bool(_ key: String) throws(InputError) -> Bool { try sub(key).asBool() }
    /// A string member that may be absent.
    public func optionalString(_ key: String) throws(InputError) -> String? {
        guard case .object(let o) = value else { throw error("expected an object") }
        return o[key] == nil ? nil : try string(key)
    }
    public func optionalInt(_ key: String) throws(InputError) -> Int64? {
        let f = try sub(key)
        if case .null = f.value { return nil }
        return try f.asInt()
    }

    public func asString() throws(InputError) -> String {
        guard case .string(let s) = value else { throw error("expected a string") }
        return s
    }
    public func asInt() throws(InputError) -> Int64 {
        guard case .int(let v) = value else { throw error("expected an integer") }
        return v
    }
    public func asBool() throws(InputError) -> Bool {
        guard case .bool(let v) = value else { throw error("expected true or false") }
        return v
    }
    /// `[[a, b, ...], ...]`: rows of `width` integers.
    public func intRows(_ key: String, width: Int) throws(InputError) -> [[Int64]] {
        try array(key).map { row throws(InputError) in
            guard case .array(let a) = row.value, a.count == width else { throw row.error("expected \(width) integers") }
            return try a.enumerated().map { c throws(InputError) in
                try JSONFields(c.element, file: file, context: "\(row.context)[\(c.offset)]").asInt()
            }
        }
    }
}
