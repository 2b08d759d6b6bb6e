/// The pre-scan compiled once per writer schema into flat steps: the same
/// verdict as `ScanProgram.scan`, several times faster.
///
/// Why a second scanner: the generic walk recurses once per value, returns
/// its failure sentence through every level and re-dispatches on the node
/// kind for each field; it cost about a third of a decode. Here a record's
/// fields are inlined into one straight list of steps, so a V2 trade is one
/// loop over 15 steps plus short sub-programs for union branches and
/// array/map items; a step is two loads and a switch, and varints have a
/// one-byte fast path.
///
/// It only answers yes or no. On "no", the caller runs the generic
/// `ScanProgram` over the same bytes to name the failure, so messages and
/// reasons are exactly the generic walk's. The two must agree on every input
/// (`ScanAgreementTests` checks them on the robustness payloads); the rules
/// mirrored here are the generic walk's, line for line:
/// - varints: at most 10 bytes for long-sized values (the 10th at most 1),
///   at most 5 for int and enum (the 5th at most 0x0F, value in Int32);
/// - lengths, sizes and block sizes: not negative, not beyond the bytes left;
/// - strings and map keys well-formed UTF-8, map keys without NUL;
/// - enum and union indices in range; booleans 0 or 1;
/// - array/map block counts: not Int64.min, within the bytes left and
///   within the item budget (all items of the payload <= its byte count);
///   a block's declared byte size must match its items;
/// - the record ends exactly at the end of the body.
///
/// Compiled only for schemas without cycles whose nesting is below the
/// generic walk's depth limit (so the depth check can never fire here);
/// other schemas use the generic walk alone.
final class FlatScan {
    /// Primitives first: `sub` relies on every primitive preceding `union`.
    enum Op: UInt8 {
        case boolean, int, long, float, double, lengthPrefixed, fixed, enumeration
        /// Length-prefixed bytes that must be well-formed UTF-8.
        case string
        /// `a`: branch count; `b`: first entry in `ranges` (one per branch).
        case union
        /// `b`: the item sub-program's entry in `ranges`.
        case array, map
    }

    struct Step {
        var op: Op
        var a: Int32 = 0
        var b: Int32 = 0
    }

    /// Steps of every program, each program contiguous.
    private let steps: UnsafeMutableBufferPointer<Step>
    /// Sub-programs as (start, end) step indices.
    private let ranges: UnsafeMutableBufferPointer<(Int32, Int32)>
    private let mainEnd: Int

    /// Nil when the schema is recursive or nested too deep for the flat form.
    init?(_ g: AvroSchemaGraph) {
        guard let depth = Self.depth(g, g.root, visiting: []), depth < ScanProgram.maxDepth else { return nil }
        var steps: [Step] = []
        var ranges: [(Int32, Int32)] = []
        // Sub-programs are compiled after the program that refers to them, so
        // that each program's steps are contiguous.
        var pending: [(node: Int, slot: Int)] = []

        func emit(_ i: Int) {
            let n = g[i]
            switch n.kind {
            case .null: break  // no bytes: no step
            case .boolean: steps.append(Step(op: .boolean))
            case .int: steps.append(Step(op: .int))
            case .long: steps.append(Step(op: .long))
            case .float: steps.append(Step(op: .float))
            case .double: steps.append(Step(op: .double))
            case .bytes: steps.append(Step(op: .lengthPrefixed))
            case .string: steps.append(Step(op: .string))
            case .fixed: steps.append(Step(op: .fixed, a: Int32(clamping: n.size)))
            case .enumeration: steps.append(Step(op: .enumeration, a: Int32(n.symbols.count)))
            case .record: for f in n.fields { emit(f.type) }
            case .union:
                steps.append(Step(op: .union, a: Int32(n.branches.count), b: Int32(ranges.count)))
                for b in n.branches { pending.append((b, ranges.count)); ranges.append((0, 0)) }
            case .array, .map:
                steps.append(Step(op: n.kind == .array ? .array : .map, b: Int32(ranges.count)))
                pending.append((n.items, ranges.count)); ranges.append((0, 0))
            }
        }
        emit(g.root)
        mainEnd = steps.count
        var next = 0
        while next < pending.count {
            let (node, slot) = pending[next]; next += 1
            let start = steps.count
            emit(node)
            ranges[slot] = (Int32(start), Int32(steps.count))
        }
        self.steps = .allocate(capacity: max(steps.count, 1))
        _ = self.steps.initialize(from: steps)
        self.ranges = .allocate(capacity: max(ranges.count, 1))
        _ = self.ranges.initialize(from: ranges)
    }

    deinit { steps.deallocate(); ranges.deallocate() }

    /// The deepest value nesting as the generic walk counts it (one level per
    /// record field, union branch, array or map item); nil on a cycle.
    private static func depth(_ g: AvroSchemaGraph, _ i: Int, visiting: Set<Int>) -> Int? {
        if visiting.contains(i) { return nil }
        let n = g[i]
        let children: [Int]
        switch n.kind {
        case .record: children = n.fields.map(\.type)
        case .union: children = n.branches
        case .array, .map: children = [n.items]
        default: return 0
        }
        var deepest = 0
        for c in children {
            guard let d = depth(g, c, visiting: visiting.union([i])) else { return nil }
            deepest = max(deepest, d + 1)
        }
        return deepest
    }

    /// True when `body` holds exactly one well-formed record.
    func accepts(_ body: UnsafeRawBufferPointer) -> Bool {
        guard let base = body.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            // Empty body: well formed only if the record has no bytes at all.
            var c = Cursor(p: UnsafePointer(bitPattern: 1)!, pos: 0, end: 0, itemBudget: 0)
            return run(0, mainEnd, &c) && c.pos == 0
        }
        var c = Cursor(p: base, pos: 0, end: body.count, itemBudget: body.count)
        return run(0, mainEnd, &c) && c.pos == c.end
    }

    private struct Cursor {
        let p: UnsafePointer<UInt8>
        var pos: Int
        let end: Int
        var itemBudget: Int
    }

    /// A zigzag varint with the generic walk's limits: `isInt` for int and
    /// enum (5 bytes, Int32 range), otherwise long-sized (10 bytes).
    @inline(__always)
    private static func varint(_ c: inout Cursor, isInt: Bool) -> Int64? {
        guard c.pos < c.end else { return nil }
        let b0 = c.p[c.pos]
        if b0 < 0x80 {
            c.pos += 1
            let u = UInt64(b0)
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }
        if c.end - c.pos >= 10 { return varintUnchecked(&c, isInt: isInt) }
        return varintSlow(&c, isInt: isInt)
    }

    /// `varintSlow` when at least 10 bytes are left: no bounds check per byte.
    @inline(__always)
    private static func varintUnchecked(_ c: inout Cursor, isInt: Bool) -> Int64? {
        let maxBytes = isInt ? 5 : 10
        var value: UInt64 = 0, shift: UInt64 = 0
        var k = 0
        while k < maxBytes {
            let b = c.p[c.pos + k]
            value |= UInt64(b & 0x7F) << shift
            k += 1
            if b < 0x80 {
                if k == maxBytes && b > (isInt ? 0x0F : 1) { return nil }
                c.pos += k
                let v = Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
                if isInt && (v < Int64(Int32.min) || v > Int64(Int32.max)) { return nil }
                return v
            }
            shift += 7
        }
        return nil
    }

    private static func varintSlow(_ c: inout Cursor, isInt: Bool) -> Int64? {
        let maxBytes = isInt ? 5 : 10
        var value: UInt64 = 0, shift: UInt64 = 0
        for k in 0..<maxBytes {
            guard c.pos < c.end else { return nil }
            let b = c.p[c.pos]; c.pos += 1
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 {
                if k == maxBytes - 1 && b > (isInt ? 0x0F : 1) { return nil }
                let v = Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
                if isInt && (v < Int64(Int32.min) || v > Int64(Int32.max)) { return nil }
                return v
            }
            shift += 7
        }
        return nil
    }

    /// Skips `n` bytes if they exist (and `n` is not negative).
    @inline(__always)
    private static func skip(_ c: inout Cursor, _ n: Int64) -> Bool {
        guard n >= 0, n <= Int64(c.end - c.pos) else { return false }
        c.pos += Int(n)
        return true
    }

    /// One step of a primitive (no sub-program); false if the bytes are bad.
    @inline(__always)
    private static func primitive(_ s: Step, _ c: inout Cursor) -> Bool {
        switch s.op {
        case .boolean:
            guard c.pos < c.end, c.p[c.pos] <= 1 else { return false }
            c.pos += 1
            return true
        case .int: return varint(&c, isInt: true) != nil
        case .long: return varint(&c, isInt: false) != nil
        case .float: return skip(&c, 4)
        case .double: return skip(&c, 8)
        case .lengthPrefixed:
            guard let n = varint(&c, isInt: false) else { return false }
            return skip(&c, n)
        case .string:
            guard let n = varint(&c, isInt: false), n >= 0, n <= Int64(c.end - c.pos),
                  UTF8Check.isValid(c.p + c.pos, Int(n)) else { return false }
            c.pos += Int(n)
            return true
        case .fixed: return skip(&c, Int64(s.a))
        case .enumeration:
            guard let idx = varint(&c, isInt: true) else { return false }
            return idx >= 0 && idx < Int64(s.a)
        case .union, .array, .map: return false  // not primitives; never passed here
        }
    }

    /// Runs a sub-program; one made of a single primitive step (a union
    /// branch such as "long" or "string") runs without the recursive call.
    @inline(__always)
    private func sub(_ from: Int32, _ to: Int32, _ c: inout Cursor) -> Bool {
        if from == to { return true }
        let first = steps[Int(from)]
        if to - from == 1, first.op.rawValue < Op.union.rawValue { return Self.primitive(first, &c) }
        return run(Int(from), Int(to), &c)
    }

    private func run(_ start: Int, _ end: Int, _ c: inout Cursor) -> Bool {
        var i = start
        while i < end {
            let s = steps[i]
            i += 1
            switch s.op {
            case .union:
                guard let idx = Self.varint(&c, isInt: false), idx >= 0, idx < Int64(s.a) else { return false }
                let (from, to) = ranges[Int(s.b) + Int(idx)]
                guard sub(from, to, &c) else { return false }
            case .array, .map:
                let (from, to) = ranges[Int(s.b)]
                let isMap = s.op == .map
                while true {
                    guard var count = Self.varint(&c, isInt: false) else { return false }
                    if count == 0 { break }
                    var blockEnd = -1
                    if count < 0 {
                        guard count != Int64.min else { return false }
                        count = -count
                        guard let size = Self.varint(&c, isInt: false), size >= 0, size <= Int64(c.end - c.pos) else { return false }
                        blockEnd = c.pos + Int(size)
                    }
                    guard count <= Int64(c.itemBudget), count <= Int64(c.end - c.pos) else { return false }
                    c.itemBudget -= Int(count)
                    for _ in 0..<Int(count) {
                        if isMap {
                            guard let kn = Self.varint(&c, isInt: false), kn >= 0, kn <= Int64(c.end - c.pos),
                                  UTF8Check.isValid(c.p + c.pos, Int(kn)), UTF8Check.hasNoNUL(c.p + c.pos, Int(kn)) else { return false }
                            c.pos += Int(kn)
                        }
                        guard sub(from, to, &c) else { return false }
                    }
                    if blockEnd >= 0 && c.pos != blockEnd { return false }
                }
            default:
                guard Self.primitive(s, &c) else { return false }
            }
        }
        return true
    }
}
