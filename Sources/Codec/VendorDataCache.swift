import CAvro

/// The last few `vendor_data` maps a decoder built, keyed by the exact bytes
/// libavro returned for them, so that a map equal to a recent one is shared
/// (one retain) instead of rebuilt.
///
/// Why: vendor data is low-cardinality metadata (Binance sends
/// `is_best_match` and `m`, each true or false), and building a Swift
/// Dictionary — allocation, two seeded hashes per entry, and freeing it with
/// the previous trade — was the largest single cost of turning libavro's
/// values into a `Trade`. The contents still come from libavro's value on
/// every decode: its entries are copied out and compared byte for byte with
/// the cached ones; a map is reused only when every key and value is equal.
/// Maps of unique values miss every time and are built as before (the bench
/// shows that case as `decode_distinct`).
///
/// Bounded: `slotCount` maps of at most `maxKeyBytes` bytes of keys, values
/// and lengths each; larger maps are built and not cached.
final class VendorDataCache {
    static let slotCount = 8
    static let maxKeyBytes = 256

    private struct Slot {
        var count = -1  // signature length; -1 = empty
        var map: [String: String] = [:]
    }

    /// Signatures: per entry, the key length (8 bytes), key, value length, value.
    private let keys: UnsafeMutablePointer<UInt8>
    private let slots: UnsafeMutablePointer<Slot>
    /// Next slot to replace (round robin).
    private let next: UnsafeMutablePointer<Int>
    /// The map being read: its signature, built while copying out of libavro.
    private let scratch: UnsafeMutablePointer<UInt8>

    init() {
        keys = .allocate(capacity: Self.slotCount * Self.maxKeyBytes)
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(), count: Self.slotCount)
        next = .allocate(capacity: 1)
        next.initialize(to: 0)
        scratch = .allocate(capacity: Self.maxKeyBytes)
    }

    deinit {
        keys.deallocate()
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
        next.deallocate()
        scratch.deallocate()
    }

    /// The map libavro holds in `map` (a map<string> value) as a Dictionary;
    /// nil when libavro refuses a getter. Keys are C strings in libavro
    /// (cut at a NUL); values keep their bytes; both repair invalid UTF-8,
    /// exactly as `String(decoding:as:)` does.
    func map(_ map: UnsafePointer<avro_value_t>) -> [String: String]? {
        var n = 0
        guard mav_get_size(map, &n) == 0 else { return nil }
        if n == 0 { return [:] }
        // Copy the entries' bytes into the signature while they fit.
        var used = 0
        var fits = true
        for i in 0..<n {
            guard let (key, v, vn) = Self.entry(map, i) else { return nil }
            if !fits { continue }
            let kn = strlen(key)
            let valueBytes = v == nil ? 0 : max(vn - 1, 0)  // sizes include the NUL
            if used + 16 + kn + valueBytes > Self.maxKeyBytes { fits = false; continue }
            Self.put(kn, at: scratch + used); used += 8
            UnsafeMutableRawPointer(scratch + used).copyMemory(from: key, byteCount: kn); used += kn
            Self.put(valueBytes, at: scratch + used); used += 8
            if valueBytes > 0 { UnsafeMutableRawPointer(scratch + used).copyMemory(from: v!, byteCount: valueBytes) }
            used += valueBytes
        }
        guard fits else { return Self.build(map, n) }
        for s in 0..<Self.slotCount where slots[s].count == used {
            if memcmp(keys + s * Self.maxKeyBytes, scratch, used) == 0 { return slots[s].map }
        }
        // A miss: build from the copied bytes, then remember it.
        var dict = [String: String](minimumCapacity: n)
        var at = 0
        while at < used {
            let kn = Self.get(scratch + at); at += 8
            let k = String(decoding: UnsafeRawBufferPointer(start: scratch + at, count: kn), as: UTF8.self); at += kn
            let vn = Self.get(scratch + at); at += 8
            dict[k] = String(decoding: UnsafeRawBufferPointer(start: scratch + at, count: vn), as: UTF8.self); at += vn
        }
        let s = next.pointee
        next.pointee = (s + 1) % Self.slotCount
        (keys + s * Self.maxKeyBytes).update(from: scratch, count: used)
        slots[s].count = used
        slots[s].map = dict
        return dict
    }

    /// Entry `i` of a libavro string map: its key (NUL-terminated) and its
    /// value with libavro's size (which counts the NUL); both point into the map.
    @inline(__always)
    private static func entry(_ map: UnsafePointer<avro_value_t>, _ i: Int)
        -> (key: UnsafePointer<CChar>, value: UnsafePointer<CChar>?, size: Int)? {
        var item = avro_value_t()
        var key: UnsafePointer<CChar>? = nil
        guard mav_map_get_by_index(map, i, &item, &key) == 0, let key else { return nil }
        var v: UnsafePointer<CChar>? = nil
        var vn = 0
        guard mav_get_string(&item, &v, &vn) == 0 else { return nil }
        return (key, v, vn)
    }

    /// A map too large to cache, built straight from libavro's value.
    private static func build(_ map: UnsafePointer<avro_value_t>, _ n: Int) -> [String: String]? {
        var dict = [String: String](minimumCapacity: n)
        for i in 0..<n {
            guard let (key, v, vn) = entry(map, i) else { return nil }
            dict[String(cString: key)] = v == nil || vn <= 1 ? "" : String(decoding: UnsafeRawBufferPointer(start: v, count: vn - 1), as: UTF8.self)
        }
        return dict
    }

    @inline(__always) private static func put(_ x: Int, at p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: Int.self)
    }

    @inline(__always) private static func get(_ p: UnsafeMutablePointer<UInt8>) -> Int {
        UnsafeRawPointer(p).loadUnaligned(as: Int.self)
    }
}
