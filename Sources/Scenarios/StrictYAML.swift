import Kernel
import Yams

/// A YAML node that knows its file and line, with typed, strict accessors.
///
/// Every accessor either returns a well-typed value or throws an `InputError`
/// naming the file, the line and the problem. Unknown keys are errors (a typo
/// in a fault's key must not silently turn the fault off), and so are
/// duplicate keys.
public struct YAMLNode {
    public let node: Node
    public let file: String
    /// Dotted path for messages, e.g. `jobs.silver_binance.trigger`.
    public let path: String
    /// Paths set with `--set KEY=VALUE`, each with its option text: errors
    /// under them name the option, not a line of the file.
    public var overrides: [String: String] = [:]

    public var line: Int { node.mark?.line ?? 0 }
    public var column: Int? { node.mark?.column }

    public func error(_ problem: String) -> InputError {
        located(path, line: line, column: column, problem: path.isEmpty ? problem : "\(path): \(problem)")
    }

    /// An error about the value at `at`: in the file at `line`, or, when
    /// `at` lies under a `--set` key, naming that `--set KEY=VALUE`.
    func located(_ at: String, line: Int, column: Int?, problem: String) -> InputError {
        for (key, text) in overrides.sorted(by: { $0.key < $1.key })
        where at == key || at.hasPrefix(key + ".") || at.hasPrefix(key + "[") {
            return InputError(file: "--set \(text)", line: 0, problem: problem)
        }
        return InputError(file: file, line: line, column: column, problem: problem)
    }

    func child(_ node: Node, _ path: String) -> YAMLNode {
        YAMLNode(node: node, file: file, path: path, overrides: overrides)
    }

    /// Parses a whole document. Syntax errors carry libyaml's line and column.
    public static func parse(_ text: String, file: String) throws(InputError) -> YAMLNode {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                throw InputError(file: file, line: 1, problem: "the file is empty")
            }
            return YAMLNode(node: root, file: file, path: "")
        } catch let e as InputError {
            throw e
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                 .composer(_, let problem, let mark, _):
                throw InputError(file: file, line: mark.line, column: mark.column, problem: "YAML syntax: \(problem)")
            case .duplicatedKeysInMapping(let keys, let context):
                throw InputError(file: file, line: context.mark.line, column: context.mark.column,
                                 problem: "duplicate key \(keys.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
            default:
                throw InputError(file: file, line: 0, problem: "YAML: \(e)")
            }
        } catch {
            throw InputError(file: file, line: 0, problem: "YAML: \(error)")
        }
    }

    // MARK: Mappings

    /// The node as a mapping whose keys must all be in `allowed`.
    public func mapping(allowed: [String]) throws(InputError) -> YAMLMapping {
        guard case .mapping(let m) = node else { throw error("expected a mapping (key: value)") }
        var entries: [(String, YAMLNode, Int)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                throw child(k, path).error("keys must be plain strings")
            }
            let key = ks.string
            let keyLine = k.mark?.line ?? 0
            if let dup = entries.first(where: { $0.0 == key }) {
                throw located(join(key), line: keyLine, column: k.mark?.column,
                              problem: "duplicate key '\(join(key))' (first at line \(dup.2))")
            }
            if !allowed.contains(key) {
                throw located(join(key), line: keyLine, column: k.mark?.column,
                              problem: "unknown key '\(join(key))'" + YAMLNode.suggestion(key, allowed))
            }
            entries.append((key, child(v, join(key)), keyLine))
        }
        return YAMLMapping(owner: self, entries: entries.map { ($0.0, $0.1) })
    }

    /// A mapping whose keys are free-form (e.g. job names), in file order.
    public func freeMapping() throws(InputError) -> [(key: String, value: YAMLNode)] {
        guard case .mapping(let m) = node else { throw error("expected a mapping (key: value)") }
        var out: [(key: String, value: YAMLNode)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                throw child(k, path).error("keys must be plain strings")
            }
            if out.contains(where: { $0.key == ks.string }) {
                throw located(join(ks.string), line: k.mark?.line ?? 0, column: k.mark?.column,
                              problem: "duplicate key '\(join(ks.string))'")
            }
            out.append((ks.string, child(v, join(ks.string))))
        }
        return out
    }

    public func sequence() throws(InputError) -> [YAMLNode] {
        guard case .sequence(let s) = node else { throw error("expected a list") }
        return s.enumerated().map { child($1, "\(path)[\($0)]") }
    }

    func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func suggestion(_ key: String, _ allowed: [String]) -> String {
        let close = allowed.filter { editDistance($0, key) <= 2 }
        if let c = close.first { return "; did you mean '\(c)'?" }
        return " (expected one of: \(allowed.joined(separator: ", ")))"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }

    // MARK: Scalars

    public func scalarString() throws(InputError) -> String {
        guard case .scalar(let s) = node else { throw error("expected a single value, not a list or mapping") }
        return s.string
    }

    public func string() throws(InputError) -> String {
        let s = try scalarString()
        guard !s.isEmpty else { throw error("must not be empty") }
        return s
    }

    public func int(in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(InputError) -> Int64 {
        let s = try scalarString().replacingUnderscores()
        guard let v = Int64(s) else { throw error("expected a whole number, got '\(s)'") }
        guard range.contains(v) else { throw error("\(v) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    public func uint64() throws(InputError) -> UInt64 {
        let s = try scalarString().replacingUnderscores()
        guard let v = UInt64(s) else { throw error("expected a non-negative whole number, got '\(s)'") }
        return v
    }

    public func bool() throws(InputError) -> Bool {
        switch try scalarString() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let s: throw error("expected true or false, got '\(s)'")
        }
    }

    /// A duration: `90s`, `1h30m`, `250ms`.
    public func duration() throws(InputError) -> Micros {
        let s = try scalarString()
        do { return try DurationParser.parse(s) } catch { throw self.error(error.description) }
    }

    /// An exact decimal such as `2.5` (no floating point).
    public func decimal() throws(InputError) -> Decimal8 {
        let s = try scalarString()
        do { return try Decimal8(parsing: s) } catch { throw self.error(error.description) }
    }

    /// A probability: `5%`, `0.5%`, `1/1000`, or a decimal fraction `0.05`.
    public func ratio() throws(InputError) -> Ratio {
        let s = try scalarString().trimmingSpaces()
        if let slash = s.firstIndex(of: "/") {
            guard let n = UInt64(s[..<slash]), let d = UInt64(s[s.index(after: slash)...]), d > 0, n <= d else {
                throw error("expected a ratio like 1/1000, got '\(s)'")
            }
            return Ratio(n, d)
        }
        var text = s, scale: Int64 = 1
        if text.hasSuffix("%") { text.removeLast(); scale = 100 }
        guard let dec = try? Decimal8(parsing: text), dec.units >= 0 else {
            throw error("expected a probability like 5%, 0.05 or 1/1000, got '\(s)'")
        }
        let denominator = UInt64(Decimal8.unitsPerWhole * scale)
        guard UInt64(dec.units) <= denominator else { throw error("a probability cannot exceed 100%") }
        return Ratio(UInt64(dec.units), denominator)
    }

    /// A UTC instant: `2026-01-20T09:00:00Z` (seconds optional, `Z` required).
    public func timestamp() throws(InputError) -> Micros {
        let s = try scalarString()
        guard let v = YAMLNode.parseTimestamp(s) else {
            throw error("expected a UTC time like 2026-01-20T09:00:00Z, got '\(s)'")
        }
        return v
    }

    static func parseTimestamp(_ s: String) -> Micros? {
        let u = Array(s.utf8)
        func num(_ r: Range<Int>) -> Int64? {
            guard r.upperBound <= u.count else { return nil }
            var v: Int64 = 0
            for i in r { guard u[i] >= 48 && u[i] <= 57 else { return nil }; v = v * 10 + Int64(u[i] - 48) }
            return v
        }
        guard u.count == 20 || u.count == 17, u.last == UInt8(ascii: "Z"), u[4] == 45, u[7] == 45,
              u[10] == UInt8(ascii: "T"), u[13] == 58,
              let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60 else { return nil }
        var sec: Int64 = 0
        if u.count == 20 {
            guard u[16] == 58, let s2 = num(17..<19), s2 < 60 else { return nil }
            sec = s2
        }
        let t = UTCDateTime.micros(year: y, month: mo, day: d, hour: h, minute: mi, second: sec)
        guard UTCDateTime(micros: t).day == d else { return nil }  // rejects 2026-02-30
        return t
    }
}

/// A mapping read through `YAMLNode.mapping(allowed:)`.
public struct YAMLMapping {
    public let owner: YAMLNode
    let entries: [(String, YAMLNode)]

    public subscript(key: String) -> YAMLNode? { entries.first { $0.0 == key }?.1 }

    public func required(_ key: String) throws(InputError) -> YAMLNode {
        guard let v = self[key] else { throw owner.error("missing required key '\(key)'") }
        return v
    }

    public var keys: [String] { entries.map(\.0) }
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
