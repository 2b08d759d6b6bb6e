import Kernel
/// An Avro schema parsed in Swift, as a flat table of nodes.
///
/// Why a second parser next to libavro's: libavro drops `logicalType`,
/// `precision`, `scale` and `default` (docs/AVRO-LIBRARY.md), and the codec needs them
/// to decide whether a writer schema resolves to the V2 trade. The flat table
/// also drives the pre-scan that checks untrusted bytes before libavro reads
/// them. Named references become node indices, so a recursive type is just a
/// cycle in the table.
struct AvroSchemaGraph: Sendable {
    enum Kind: UInt8, Sendable {
        case null, boolean, int, long, float, double, bytes, string
        case record, enumeration, array, map, union, fixed
    }

    struct Field: Sendable {
        var name: String
        var type: Int
        var hasDefault: Bool
    }

    struct Node: Sendable {
        var kind: Kind
        /// Full name, for named types (record, enum, fixed).
        var name: String? = nil
        var fields: [Field] = []
        var symbols: [String] = []
        /// Array items or map values.
        var items: Int = -1
        var branches: [Int] = []
        /// Fixed size.
        var size: Int = 0
        var logicalType: String? = nil
        var precision: Int? = nil
        var scale: Int? = nil
    }

    struct SchemaError: Error, CustomStringConvertible, Sendable {
        let problem: String
        var description: String { problem }
    }

    private(set) var nodes: [Node] = []
    private(set) var root: Int = 0
    private var named: [String: Int] = [:]

    /// Limits on a writer schema (a schema registry's, or a capture's): its
    /// JSON text, its nodes (types, fields included) and its nesting.
    /// Real trade schemas are ~2 KB, ~40 nodes, 4 levels deep. (Payloads of
    /// schemas nested deeper than the pre-scan's 64 levels are refused by it.)
    static let maxSchemaBytes = 1 << 20
    static let maxNodes = 10_000
    static let maxNesting = 256

    init(json text: String) throws(SchemaError) {
        guard text.utf8.count <= Self.maxSchemaBytes else {
            throw SchemaError(problem: "the schema is \(text.utf8.count) bytes, more than the limit of \(Self.maxSchemaBytes)")
        }
        let doc: OrderedJSON
        // A repeated key is refused: libavro's parser keeps the last value,
        // so a graph of any one of them could differ from what libavro reads.
        do { doc = try OrderedJSON.parse(text) } catch { throw SchemaError(problem: error.description) }
        root = try parse(doc, namespace: nil, depth: 0)
    }

    subscript(_ i: Int) -> Node { nodes[i] }

    private static let primitives: [String: Kind] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long, "float": .float,
        "double": .double, "bytes": .bytes, "string": .string,
    ]

    private func fullName(_ name: String, _ namespace: String?) -> String {
        if name.contains(".") { return name }
        if let ns = namespace, !ns.isEmpty { return ns + "." + name }
        return name
    }

    private mutating func add(_ n: Node) -> Int { nodes.append(n); return nodes.count - 1 }

    private mutating func parse(_ v: OrderedJSON, namespace: String?, depth: Int) throws(SchemaError) -> Int {
        guard depth <= Self.maxNesting else {
            throw SchemaError(problem: "the schema nests types deeper than the limit of \(Self.maxNesting) levels")
        }
        guard nodes.count < Self.maxNodes else {
            throw SchemaError(problem: "the schema has more than the limit of \(Self.maxNodes) types and fields")
        }
        switch v {
        case let .string(name):
            if let k = Self.primitives[name] { return add(Node(kind: k)) }
            if let i = named[fullName(name, namespace)] ?? named[name] { return i }
            throw SchemaError(problem: "unknown type name '\(name)'")
        case let .array(items):
            guard !items.isEmpty else { throw SchemaError(problem: "a union needs at least one branch") }
            var branches: [Int] = []
            var seen = Set<String>()
            for item in items {
                let b = try parse(item, namespace: namespace, depth: depth + 1)
                if nodes[b].kind == .union { throw SchemaError(problem: "a union may not contain a union") }
                // Avro: at most one branch per unnamed type, and per name.
                let key = nodes[b].name.map { "\(nodes[b].kind):\($0)" } ?? "\(nodes[b].kind)"
                if !seen.insert(key).inserted { throw SchemaError(problem: "a union lists the type \(nodes[b].name ?? "\(nodes[b].kind)") twice") }
                branches.append(b)
            }
            return add(Node(kind: .union, branches: branches))
        case .object:
            guard let type = v["type"] else { throw SchemaError(problem: "a schema object needs a 'type'") }
            let logical = v["logicalType"]?.stringValue
            switch type {
            case let .string(t):
                switch t {
                case "record", "error":
                    guard let name = v["name"]?.stringValue, !name.isEmpty else {
                        throw SchemaError(problem: "a record needs a name")
                    }
                    let full = fullName(name, v["namespace"]?.stringValue ?? namespace)
                    let ns = full.contains(".") ? String(full[..<full.lastIndex(of: ".")!]) : nil
                    let me = add(Node(kind: .record, name: full))
                    named[full] = me
                    guard case let .array(fs)? = v["fields"] else {
                        throw SchemaError(problem: "record '\(full)' needs a 'fields' array")
                    }
                    var fields: [Field] = []
                    var fieldNames = Set<String>()
                    for f in fs {
                        guard let fname = f["name"]?.stringValue, let ftype = f["type"] else {
                            throw SchemaError(problem: "a field of record '\(full)' needs a name and a type")
                        }
                        if !fieldNames.insert(fname).inserted {
                            throw SchemaError(problem: "record '\(full)' declares field '\(fname)' twice")
                        }
                        fields.append(Field(name: fname, type: try parse(ftype, namespace: ns, depth: depth + 1), hasDefault: f["default"] != nil))
                    }
                    nodes[me].fields = fields
                    return me
                case "enum":
                    guard let name = v["name"]?.stringValue, case let .array(ss)? = v["symbols"] else {
                        throw SchemaError(problem: "an enum needs a name and symbols")
                    }
                    let symbols = ss.compactMap(\.stringValue)
                    guard symbols.count == ss.count, !symbols.isEmpty, Set(symbols).count == symbols.count else {
                        throw SchemaError(problem: "enum '\(name)' needs distinct string symbols")
                    }
                    let full = fullName(name, v["namespace"]?.stringValue ?? namespace)
                    let me = add(Node(kind: .enumeration, name: full, symbols: symbols))
                    named[full] = me
                    return me
                case "array":
                    guard let items = v["items"] else { throw SchemaError(problem: "an array needs 'items'") }
                    let i = try parse(items, namespace: namespace, depth: depth + 1)
                    return add(Node(kind: .array, items: i))
                case "map":
                    guard let values = v["values"] else { throw SchemaError(problem: "a map needs 'values'") }
                    let i = try parse(values, namespace: namespace, depth: depth + 1)
                    return add(Node(kind: .map, items: i))
                case "fixed":
                    guard let name = v["name"]?.stringValue, let size = v["size"]?.intValue, size >= 0 else {
                        throw SchemaError(problem: "a fixed needs a name and a size")
                    }
                    let full = fullName(name, v["namespace"]?.stringValue ?? namespace)
                    let me = add(Node(kind: .fixed, name: full, size: size, logicalType: logical,
                                      precision: v["precision"]?.intValue, scale: v["scale"]?.intValue))
                    named[full] = me
                    return me
                default:
                    guard let k = Self.primitives[t] else { throw SchemaError(problem: "unknown type '\(t)'") }
                    return add(Node(kind: k, logicalType: logical, precision: v["precision"]?.intValue,
                                    scale: v["scale"]?.intValue))
                }
            default:
                // {"type": {...}} or {"type": [...]}: the inner schema, as Avro allows.
                return try parse(type, namespace: namespace, depth: depth + 1)
            }
        default:
            throw SchemaError(problem: "a schema is a string, an object or an array")
        }
    }
}

// MARK: - Pre-scan

/// Why a payload failed the pre-scan.
enum ScanFailure: Error, Equatable {
    /// Truncated or corrupt: a bad varint, a length or count beyond the input,
    /// an index out of range.
    case corrupt(String)
    /// The record ended before the payload did.
    case trailing(recordEnd: Int, payloadEnd: Int)
}

/// The writer schema compiled for walking bytes: trivial values only, so the
/// walk touches no reference counts.
///
/// The walk is the first line of defense (docs/AVRO-LIBRARY.md): libavro allocates a
/// length before checking the bytes exist, accepts out-of-range enum
/// indices, never notices trailing bytes and leaks on failed reads. A payload
/// that passes this walk is one libavro reads without any of that.
struct ScanProgram: Sendable {
    struct Op: Sendable {
        var kind: AvroSchemaGraph.Kind
        /// Record: field count; union: branch count; enum: symbol count; fixed: size.
        var count: Int32
        /// Record, union: first index into `children`; array, map: item op.
        var first: Int32
    }

    let ops: [Op]
    let children: [Int32]
    let root: Int32

    /// Recursive types nest one level per byte at least; bounding the depth
    /// keeps a hostile payload from exhausting the stack.
    static let maxDepth = 64

    init(_ g: AvroSchemaGraph) {
        var ops: [Op] = [], children: [Int32] = []
        for n in g.nodes {
            switch n.kind {
            case .record:
                ops.append(Op(kind: .record, count: Int32(n.fields.count), first: Int32(children.count)))
                children += n.fields.map { Int32($0.type) }
            case .union:
                ops.append(Op(kind: .union, count: Int32(n.branches.count), first: Int32(children.count)))
                children += n.branches.map { Int32($0) }
            case .enumeration: ops.append(Op(kind: .enumeration, count: Int32(n.symbols.count), first: 0))
            case .fixed: ops.append(Op(kind: .fixed, count: Int32(clamping: n.size), first: 0))
            case .array, .map: ops.append(Op(kind: n.kind, count: 0, first: Int32(n.items)))
            default: ops.append(Op(kind: n.kind, count: 0, first: 0))
            }
        }
        self.ops = ops; self.children = children; self.root = Int32(g.root)
    }

    /// Walks one record over `body`. Succeeds only if the record is well formed
    /// and ends exactly at the end of `body`.
    func scan(_ body: UnsafeRawBufferPointer) -> Result<Void, ScanFailure> {
        ops.withUnsafeBufferPointer { o in
            children.withUnsafeBufferPointer { c in
                var w = Walker(p: body.baseAddress?.assumingMemoryBound(to: UInt8.self), end: body.count,
                               ops: o, children: c, itemBudget: body.count)
                if let failure = w.value(root, depth: 0) { return .failure(failure) }
                if w.pos != body.count { return .failure(.trailing(recordEnd: w.pos, payloadEnd: body.count)) }
                return .success(())
            }
        }
    }

    private struct Walker {
        let p: UnsafePointer<UInt8>?
        let end: Int
        let ops: UnsafeBufferPointer<Op>
        let children: UnsafeBufferPointer<Int32>
        var pos = 0
        /// Array and map items over the whole payload may not outnumber its
        /// bytes: bounds zero-size items (array<null>), which libavro would
        /// otherwise append without end (docs/AVRO-LIBRARY.md).
        var itemBudget: Int

        init(p: UnsafePointer<UInt8>?, end: Int, ops: UnsafeBufferPointer<Op>, children: UnsafeBufferPointer<Int32>, itemBudget: Int) {
            self.p = p; self.end = end; self.ops = ops; self.children = children; self.itemBudget = itemBudget
        }

        /// A zigzag varint of at most `maxBytes` bytes (10 for long, 5 for int).
        mutating func varint(_ what: StaticString, maxBytes: Int) -> Result<Int64, ScanFailure> {
            var value: UInt64 = 0, shift: UInt64 = 0
            let start = pos
            for k in 0..<maxBytes {
                guard pos < end, let p else {
                    return .failure(.corrupt("truncated \(what) varint at byte \(start) of the body"))
                }
                let b = p[pos]; pos += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 {
                    if k == maxBytes - 1 && b > (maxBytes == 10 ? 1 : 0x0F) { break }
                    let v = Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
                    if maxBytes == 5 && (v < Int64(Int32.min) || v > Int64(Int32.max)) { break }
                    return .success(v)
                }
                shift += 7
            }
            return .failure(.corrupt("bad \(what) varint at byte \(start) of the body (too long or out of range)"))
        }

        mutating func need(_ n: Int64, _ what: StaticString) -> ScanFailure? {
            if n < 0 { return .corrupt("negative \(what) \(n) at byte \(pos) of the body") }
            if n > Int64(end - pos) {
                return .corrupt("\(what) \(n) at byte \(pos) of the body exceeds the \(end - pos) bytes left")
            }
            return nil
        }

        mutating func value(_ i: Int32, depth: Int) -> ScanFailure? {
            guard depth < ScanProgram.maxDepth else { return .corrupt("values nested deeper than \(ScanProgram.maxDepth) levels") }
            let op = ops[Int(i)]
            switch op.kind {
            case .null: return nil
            case .boolean:
                guard pos < end, let p else { return .corrupt("truncated boolean at byte \(pos) of the body") }
                guard p[pos] <= 1 else { return .corrupt("boolean byte \(p[pos]) at byte \(pos) of the body") }
                pos += 1; return nil
            case .int:
                if case let .failure(f) = varint("int", maxBytes: 5) { return f }
                return nil
            case .long:
                if case let .failure(f) = varint("long", maxBytes: 10) { return f }
                return nil
            case .float:
                if let f = need(4, "float size") { return f }
                pos += 4; return nil
            case .double:
                if let f = need(8, "double size") { return f }
                pos += 8; return nil
            case .bytes, .string:
                let n: Int64
                switch varint("length", maxBytes: 10) { case let .success(v): n = v; case let .failure(f): return f }
                if let f = need(n, op.kind == .bytes ? "bytes length" : "string length") { return f }
                if op.kind == .string, n > 0, let p, !UTF8Check.isValid(p + pos, Int(n)) {
                    return .corrupt("string at byte \(pos) of the body is not valid UTF-8")
                }
                pos += Int(n); return nil
            case .fixed:
                if let f = need(Int64(op.count), "fixed size") { return f }
                pos += Int(op.count); return nil
            case .enumeration:
                let at = pos
                let idx: Int64
                switch varint("enum index", maxBytes: 5) { case let .success(v): idx = v; case let .failure(f): return f }
                guard idx >= 0 && idx < Int64(op.count) else {
                    return .corrupt("enum index \(idx) at byte \(at) of the body is out of range 0..<\(op.count)")
                }
                return nil
            case .union:
                let at = pos
                let idx: Int64
                switch varint("union index", maxBytes: 10) { case let .success(v): idx = v; case let .failure(f): return f }
                guard idx >= 0 && idx < Int64(op.count) else {
                    return .corrupt("union index \(idx) at byte \(at) of the body is out of range 0..<\(op.count)")
                }
                return value(children[Int(op.first) + Int(idx)], depth: depth + 1)
            case .record:
                for k in 0..<Int(op.count) {
                    if let f = value(children[Int(op.first) + k], depth: depth + 1) { return f }
                }
                return nil
            case .array, .map:
                let isArray = op.kind == .array
                let what = isArray ? "array" : "map"
                while true {
                    let at = pos
                    var count: Int64
                    switch varint(isArray ? "array block count" : "map block count", maxBytes: 10) { case let .success(v): count = v; case let .failure(f): return f }
                    if count == 0 { return nil }
                    var blockEnd = -1
                    if count < 0 {
                        guard count != Int64.min else { return .corrupt("\(what) block count \(count) at byte \(at) of the body") }
                        count = -count
                        let size: Int64
                        switch varint(isArray ? "array block size" : "map block size", maxBytes: 10) { case let .success(v): size = v; case let .failure(f): return f }
                        if let f = need(size, isArray ? "array block size" : "map block size") { return f }
                        blockEnd = pos + Int(size)
                    }
                    guard count <= Int64(itemBudget), count <= Int64(end - pos) else {
                        return .corrupt("\(what) block count \(count) at byte \(at) of the body cannot fit the \(end - pos) bytes left")
                    }
                    itemBudget -= Int(count)
                    for _ in 0..<Int(count) {
                        if op.kind == .map {
                            let kn: Int64
                            switch varint("map key length", maxBytes: 10) { case let .success(v): kn = v; case let .failure(f): return f }
                            if let f = need(kn, "map key length") { return f }
                            if kn > 0, let p {
                                if !UTF8Check.isValid(p + pos, Int(kn)) {
                                    return .corrupt("map key at byte \(pos) of the body is not valid UTF-8")
                                }
                                if !UTF8Check.hasNoNUL(p + pos, Int(kn)) {
                                    return .corrupt("map key at byte \(pos) of the body holds a NUL byte (libavro's keys are C strings)")
                                }
                            }
                            pos += Int(kn)
                        }
                        if let f = value(op.first, depth: depth + 1) { return f }
                    }
                    if blockEnd >= 0 && pos != blockEnd {
                        return .corrupt("\(what) block at byte \(at) of the body declares a size that does not match its items")
                    }
                }
            }
        }
    }
}
