import Kernel
import Codec
import Broker

// Compact, columnar row storage. A 24 h run at production rates holds ~5-6
// million trades in each of Silver and Gold, so rows are never objects: every
// column is a flat array, strings of low cardinality are interned codes, and
// variable-length strings live in one byte arena per column.

/// Interned strings shared by every table of a run (symbols, exchanges,
/// currencies, asset classes): a row stores a 4-byte code.
///
/// Codes are assigned in first-seen order, which is deterministic because the
/// engine runs single-threaded on the virtual clock.
final class StringPool {
    private(set) var strings: [String] = []
    private var index: [String: UInt32] = [:]

    /// Most columns see a handful of values (one exchange, a few symbols): a
    /// linear scan of the first few codes with String equality (no hashing;
    /// small strings compare inline) finds them faster than the dictionary.
    func code(_ s: String) -> UInt32 {
        let n = min(strings.count, 8)
        for i in 0..<n where strings[i] == s { return UInt32(i) }
        if let c = index[s] { return c }
        let c = UInt32(strings.count)
        strings.append(s); index[s] = c
        return c
    }

    subscript(code: UInt32) -> String { strings[Int(code)] }
}

/// Interned string arrays (`trade_conditions`): few distinct values in practice.
final class StringListPool {
    private(set) var lists: [[String]] = []
    private var index: [[String]: UInt32] = [:]

    func code(_ l: [String]) -> UInt32 {
        if let c = index[l] { return c }
        let c = UInt32(lists.count)
        lists.append(l); index[l] = c
        return c
    }

    subscript(code: UInt32) -> [String] { lists[Int(code)] }
}

/// Variable-length byte strings back to back in one array; row i is
/// `bytes[ends[i-1] ..< ends[i]]`. Complexity: append O(length), read O(length).
struct ByteArena {
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [UInt32] = []

    var count: Int { ends.count }

    mutating func append<C: Collection>(_ b: C) where C.Element == UInt8 {
        bytes.append(contentsOf: b)
        precondition(bytes.count <= Int(UInt32.max), "a byte arena column is limited to 4 GiB")
        ends.append(UInt32(bytes.count))
    }

    mutating func append(string s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    func range(_ i: Int) -> Range<Int> {
        (i == 0 ? 0 : Int(ends[i - 1])) ..< Int(ends[i])
    }

    subscript(i: Int) -> ArraySlice<UInt8> { bytes[range(i)] }

    func string(_ i: Int) -> String { String(decoding: bytes[range(i)], as: UTF8.self) }

    /// Appends Silver's canonical vendor form of `m` (see `VendorData`) without
    /// a temporary array.
    mutating func appendVendorCanonical(_ m: [String: String]?) {
        VendorData.writeCanonical(m, into: &bytes)
        precondition(bytes.count <= Int(UInt32.max), "a byte arena column is limited to 4 GiB")
        ends.append(UInt32(bytes.count))
    }

    /// Copies row `i` of `other` onto the end of this arena.
    mutating func append(from other: ByteArena, row i: Int) {
        let r = other.range(i)
        other.bytes.withUnsafeBufferPointer { append(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    mutating func truncate(to n: Int) {
        guard n < ends.count else { return }
        ends.removeLast(ends.count - n)
        bytes.removeLast(bytes.count - (n == 0 ? 0 : Int(ends[n - 1])))
    }

    var byteCount: Int { bytes.count + ends.count * 4 }
}

/// A `message_id` as Gold's dedup sees it: the exact string. Canonical
/// lower-case UUIDs (all that well-behaved producers send) are held as 128
/// bits; any other spelling is kept verbatim so that `ABC...` and `abc...`
/// stay different keys, as they are for Spark.
enum MessageKey: Hashable {
    case uuid(UInt64, UInt64)
    case other(String)

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower-case hex only.
    static func parseLowerCanonical(_ s: String) -> (UInt64, UInt64)? {
        var s = s
        return s.withUTF8 { u -> (UInt64, UInt64)? in
            guard u.count == 36 else { return nil }
            var hi: UInt64 = 0, lo: UInt64 = 0, n = 0
            for i in 0..<36 {
                let c = u[i]
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    if c != UInt8(ascii: "-") { return nil }
                    continue
                }
                let v: UInt64
                if c >= 48 && c <= 57 { v = UInt64(c - 48) } else if c >= 97 && c <= 102 { v = UInt64(c - 87) } else { return nil }
                if n < 16 { hi = hi << 4 | v } else { lo = lo << 4 | v }
                n += 1
            }
            return (hi, lo)
        }
    }

    static func format(_ hi: UInt64, _ lo: UInt64) -> String {
        @inline(__always) func hex(_ v: UInt64) -> UInt8 { v < 10 ? UInt8(ascii: "0") + UInt8(v) : UInt8(ascii: "a") + UInt8(v - 10) }
        return String(unsafeUninitializedCapacity: 36) { buf in
            var j = 0
            for k in 0..<32 {
                if k == 8 || k == 12 || k == 16 || k == 20 { buf[j] = UInt8(ascii: "-"); j += 1 }
                let word = k < 16 ? hi : lo
                let shift = UInt64(60 - 4 * (k % 16))
                buf[j] = hex((word >> shift) & 0xF); j += 1
            }
            return 36
        }
    }
}

/// The `message_id` column: 16 bytes a row for canonical lower-case UUIDs,
/// with other spellings kept verbatim on the side.
struct MessageIdColumn {
    private(set) var hi: [UInt64] = []
    private(set) var lo: [UInt64] = []
    /// Rows whose id is not a canonical lower-case UUID, by row index.
    private var others: [Int: String] = [:]

    var count: Int { hi.count }

    mutating func append(_ s: String) {
        if let (h, l) = MessageKey.parseLowerCanonical(s) {
            hi.append(h); lo.append(l)
        } else {
            others[hi.count] = s
            hi.append(0); lo.append(0)
        }
    }

    // Rows kept in `others` hold 0, 0 in `hi` and `lo`: only those are looked up there.

    func key(_ i: Int) -> MessageKey {
        if hi[i] == 0 && lo[i] == 0, let s = others[i] { return .other(s) }
        return .uuid(hi[i], lo[i])
    }

    func string(_ i: Int) -> String {
        if hi[i] == 0 && lo[i] == 0, let s = others[i] { return s }
        return MessageKey.format(hi[i], lo[i])
    }

    /// Whether row `i` is `id` (`string(i) == id`): a canonical lower-case
    /// UUID (ASCII, so bytes decide) is compared as its 128 bits.
    func holds(_ i: Int, _ id: String) -> Bool {
        if hi[i] == 0 && lo[i] == 0, let s = others[i] { return s == id }
        guard let (h, l) = MessageKey.parseLowerCanonical(id) else { return string(i) == id }
        return hi[i] == h && lo[i] == l
    }

    mutating func truncate(to n: Int) {
        guard n < hi.count else { return }
        for i in n..<hi.count { others[i] = nil }
        hi.removeLast(hi.count - n); lo.removeLast(lo.count - n)
    }

    var byteCount: Int { hi.count * 16 + others.count * 64 }
}

/// The 15 V2 trade fields, one array per field (Silver's storage).
///
/// `vendor` holds one byte 0 (null) or 1 (present) followed by the map in a
/// canonical binary form (sorted keys); Gold, which refers to Silver's rows,
/// turns it into its JSON string when a row is read.
struct TradeColumns {
    var messageId = MessageIdColumn()
    var tradeId = ByteArena()
    var symbol: [UInt32] = []
    var exchange: [UInt32] = []
    var assetClass: [UInt32] = []
    var timestamp: [Int64] = []
    var price: [Int64] = []
    var quantity: [Int64] = []
    var currency: [UInt32] = []
    var side: [UInt8] = []
    var conditions: [UInt32] = []
    var sourceSequence: [Int64] = []
    var hasSourceSequence: [Bool] = []
    var ingestionTimestamp: [Int64] = []
    var platformSequence: [Int64] = []
    var hasPlatformSequence: [Bool] = []
    var vendor = ByteArena()

    var count: Int { timestamp.count }

    mutating func append(_ t: Trade, pool: StringPool, lists: StringListPool) {
        messageId.append(t.messageId)
        tradeId.append(string: t.tradeId)
        symbol.append(pool.code(t.symbol))
        exchange.append(pool.code(t.exchange))
        assetClass.append(pool.code(t.assetClass))
        timestamp.append(t.timestampMicros)
        price.append(t.price.units)
        quantity.append(t.quantity.units)
        currency.append(pool.code(t.currency))
        side.append(t.side == .buy ? 0 : 1)
        conditions.append(lists.code(t.tradeConditions))
        sourceSequence.append(t.sourceSequence ?? 0); hasSourceSequence.append(t.sourceSequence != nil)
        ingestionTimestamp.append(t.ingestionTimestampMicros)
        platformSequence.append(t.platformSequence ?? 0); hasPlatformSequence.append(t.platformSequence != nil)
        vendor.appendVendorCanonical(t.vendorData)
    }

    /// The row as a `Trade`; `vendorData` is decoded only for the Silver form.
    func trade(_ i: Int, pool: StringPool, lists: StringListPool, vendorIsCanonicalMap: Bool) -> Trade {
        Trade(messageId: messageId.string(i), tradeId: tradeId.string(i), symbol: pool[symbol[i]],
              exchange: pool[exchange[i]], assetClass: pool[assetClass[i]], timestampMicros: timestamp[i],
              price: Decimal8(units: price[i]), quantity: Decimal8(units: quantity[i]), currency: pool[currency[i]],
              side: side[i] == 0 ? .buy : .sell, tradeConditions: lists[conditions[i]],
              sourceSequence: hasSourceSequence[i] ? sourceSequence[i] : nil,
              ingestionTimestampMicros: ingestionTimestamp[i],
              platformSequence: hasPlatformSequence[i] ? platformSequence[i] : nil,
              vendorData: vendorIsCanonicalMap ? VendorData.decode(vendor[i]) : nil)
    }

    /// Whether row `i` is `t`, as `trade(i, ..., vendorIsCanonicalMap: true) == t`
    /// says (strings compared as Swift compares them), without building the row.
    func holds(_ i: Int, _ t: Trade, pool: StringPool, lists: StringListPool) -> Bool {
        withUnsafePointer(to: self) { Self.holds($0, i, t, pool: pool, lists: lists) }
    }

    /// `holds` on the columns at `c`, each read in place: a method on the
    /// struct would run on a copy of it (a retain and a release for each of
    /// its columns), which costs more than the comparison. Inlined into its
    /// caller.
    @inline(__always)
    static func holds(_ c: UnsafePointer<TradeColumns>, _ i: Int, _ t: Trade, pool: StringPool, lists: StringListPool) -> Bool {
        let timestamp = c.pointee.timestamp[i], price = c.pointee.price[i], quantity = c.pointee.quantity[i]
        let ingestion = c.pointee.ingestionTimestamp[i], side = c.pointee.side[i]
        let sourceSequence = c.pointee.hasSourceSequence[i] ? c.pointee.sourceSequence[i] : nil
        let platformSequence = c.pointee.hasPlatformSequence[i] ? c.pointee.platformSequence[i] : nil
        let symbol = c.pointee.symbol[i], exchange = c.pointee.exchange[i], assetClass = c.pointee.assetClass[i]
        let currency = c.pointee.currency[i], conditions = c.pointee.conditions[i]
        guard timestamp == t.timestampMicros, price == t.price.units, quantity == t.quantity.units,
              ingestion == t.ingestionTimestampMicros, (side == 0) == (t.side == .buy),
              sourceSequence == t.sourceSequence, platformSequence == t.platformSequence,
              pool[symbol] == t.symbol, pool[exchange] == t.exchange, pool[assetClass] == t.assetClass,
              pool[currency] == t.currency, lists[conditions] == t.tradeConditions,
              c.pointee.messageId.holds(i, t.messageId), c.pointee.tradeId.string(i) == t.tradeId
        else { return false }
        // The map as `VendorData.decode` builds it, compared entry by entry.
        guard let entries = VendorData.entries(c.pointee.vendor[i]) else { return t.vendorData == nil }
        guard let m = t.vendorData, m.count == entries.count else { return false }
        return entries.allSatisfy { m[$0.key] == $0.value }
    }

    mutating func truncate(to n: Int) {
        guard n < count else { return }
        let k = count - n
        messageId.truncate(to: n); tradeId.truncate(to: n)
        symbol.removeLast(k); exchange.removeLast(k); assetClass.removeLast(k)
        timestamp.removeLast(k); price.removeLast(k); quantity.removeLast(k); currency.removeLast(k)
        side.removeLast(k); conditions.removeLast(k)
        sourceSequence.removeLast(k); hasSourceSequence.removeLast(k)
        ingestionTimestamp.removeLast(k)
        platformSequence.removeLast(k); hasPlatformSequence.removeLast(k)
        vendor.truncate(to: n)
    }

    var byteCount: Int {
        messageId.byteCount + tradeId.byteCount + vendor.byteCount + count * (4 * 5 + 8 * 6 + 1 + 2)
    }
}

/// `vendor_data` (Avro map<string>) in storage and as Gold's JSON string.
public enum VendorData {
    /// 0 = null; 1, then for each entry in sorted key order: length-prefixed
    /// key and value (LEB128 lengths). Sorting makes equal maps equal bytes.
    static func encode(_ m: [String: String]?) -> [UInt8] {
        var out: [UInt8] = []
        writeCanonical(m, into: &out)
        return out
    }

    static func writeCanonical(_ m: [String: String]?, into out: inout [UInt8]) {
        guard let m else { out.append(0); return }
        out.append(1)
        func put(_ s: String) {
            var n = s.utf8.count
            repeat { var b = UInt8(n & 0x7F); n >>= 7; if n > 0 { b |= 0x80 }; out.append(b) } while n > 0
            out.append(contentsOf: s.utf8)
        }
        // UTF-8 byte order, so the order never depends on Unicode collation.
        if m.count == 1 {
            let (k, v) = m.first!
            put(k); put(v)
        } else {
            for (k, v) in m.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) { put(k); put(v) }
        }
    }

    static func decode(_ b: ArraySlice<UInt8>) -> [String: String]? {
        entries(b).map { Dictionary($0, uniquingKeysWith: { _, last in last }) }
    }

    /// The entries of a canonical form, in its (sorted) order, or nil for null.
    static func entries(_ b: ArraySlice<UInt8>) -> [(key: String, value: String)]? {
        var i = b.startIndex
        guard b[i] == 1 else { return nil }
        i += 1
        func get() -> String {
            var n = 0, shift = 0
            while true { let c = b[i]; i += 1; n |= Int(c & 0x7F) << shift; shift += 7; if c & 0x80 == 0 { break } }
            defer { i += n }
            return String(decoding: b[i ..< i + n], as: UTF8.self)
        }
        var out: [(key: String, value: String)] = []
        while i < b.endIndex { let k = get(); out.append((k, get())) }
        return out
    }

    /// Gold's column: 0 = null, or 1 then the JSON text.
    static func goldForm(fromCanonical b: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        writeGoldForm(fromCanonical: b, into: &out)
        return out
    }

    static func writeGoldForm(fromCanonical b: ArraySlice<UInt8>, into out: inout [UInt8]) {
        guard b[b.startIndex] == 1 else { out.append(0); return }
        out.append(1)
        writeJSONObject(fromCanonical: b, into: &out)
    }

    /// The JSON object of a present map (canonical form starting with 1), appended to `out`.
    static func writeJSONObject(fromCanonical b: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var i = b.startIndex + 1
        var first = true
        func field() {
            var n = 0, shift = 0
            while true { let c = b[i]; i += 1; n |= Int(c & 0x7F) << shift; shift += 7; if c & 0x80 == 0 { break } }
            jsonString(b[i ..< i + n], into: &out)
            i += n
        }
        while i < b.endIndex {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            field(); out.append(UInt8(ascii: ":")); field()
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `vendor_data` as Gold holds it: a JSON object with keys in sorted
    /// (UTF-8 byte) order, escaped as Jackson (Spark's `to_json`) escapes
    /// strings; nil stays nil. Public so an independent checker can compare a
    /// Gold row with its Silver source.
    public static func json(_ m: [String: String]?) -> String? {
        let g = goldForm(fromCanonical: encode(m)[...])
        return g[0] == 0 ? nil : String(decoding: g[1...], as: UTF8.self)
    }

    static func jsonString(_ s: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s {
            switch c {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(c)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(c)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0..<0x20:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "u")); out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "0"))
                out.append(hexDigit(c >> 4)); out.append(hexDigit(c & 0xF))
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// An upper-case hex digit (Jackson's `\u00XX`).
    @inline(__always) static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "A") + v - 10 }
}

// MARK: - Sealing (packed, compressed column chunks)

extension ByteArena {
    func pack(into p: inout SealedPacker) { p.put(bytes); p.put(ends) }

    init(unpacking u: inout SealedUnpacker) {
        bytes = u.take(); ends = u.take()
    }
}

extension MessageIdColumn {
    func pack(into p: inout SealedPacker) {
        p.put(hi); p.put(lo)
        let rows = others.keys.sorted()
        var strings = ByteArena()
        for r in rows { strings.append(string: others[r]!) }
        p.put(rows); strings.pack(into: &p)
    }

    init(unpacking u: inout SealedUnpacker) {
        hi = u.take(); lo = u.take()
        let rows: [Int] = u.take()
        let strings = ByteArena(unpacking: &u)
        for (k, r) in rows.enumerated() { others[r] = strings.string(k) }
    }
}

extension TradeColumns {
    func pack(into p: inout SealedPacker) {
        messageId.pack(into: &p); tradeId.pack(into: &p)
        p.put(symbol); p.put(exchange); p.put(assetClass); p.put(timestamp); p.put(price); p.put(quantity)
        p.put(currency); p.put(side); p.put(conditions); p.put(sourceSequence); p.put(hasSourceSequence)
        p.put(ingestionTimestamp); p.put(platformSequence); p.put(hasPlatformSequence)
        vendor.pack(into: &p)
    }

    init(unpacking u: inout SealedUnpacker) {
        messageId = MessageIdColumn(unpacking: &u); tradeId = ByteArena(unpacking: &u)
        symbol = u.take(); exchange = u.take(); assetClass = u.take(); timestamp = u.take(); price = u.take()
        quantity = u.take(); currency = u.take(); side = u.take(); conditions = u.take(); sourceSequence = u.take()
        hasSourceSequence = u.take(); ingestionTimestamp = u.take(); platformSequence = u.take()
        hasPlatformSequence = u.take()
        vendor = ByteArena(unpacking: &u)
    }
}
