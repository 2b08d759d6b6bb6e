import Kernel

/// The recomputation's dedup state: every message id a recomputed Gold batch
/// accepted, each as the Silver row that was first, in 8 bytes a slot (a
/// 32-bit tag of the id's hash and the packed row) of an open-addressing table
/// sized once for the run's Silver rows (load <= 3/4). Ids are not stored:
/// two ids with the same tag are told apart by reading the rows' message ids
/// (`idAt`), so lookups are exact whatever the hash does. A week of production
/// traffic (37 M ids) is ~400 MB, where a dictionary of strings held ~150
/// bytes an id.
struct AcceptedIds {
    /// `tag << 32 | input << 31 | row`; 0 is an empty slot (tags are odd).
    private var slots: [UInt64]
    private(set) var count = 0

    /// `capacity`: the most ids that can be accepted (the Silver rows of both inputs).
    init(capacity: Int) {
        slots = [UInt64](repeating: 0, count: max(8, capacity + capacity / 3 + 1))
    }

    /// FNV-1a (64 bits) over the id's UTF-8 bytes, then a finalizer that
    /// spreads its bits (the slot comes from the high bits, the tag from the low).
    static func hash(_ id: String) -> UInt64 {
        var h = FNV1a64.hash(id)
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    private func start(_ h: UInt64) -> Int { Int(h.multipliedFullWidth(by: UInt64(slots.count)).high) }
    private static func tag(_ h: UInt64) -> UInt64 { (h & 0xFFFF_FFFF) | 1 }
    private static func ref(_ slot: UInt64) -> SilverRowRef {
        SilverRowRef(input: Int((slot >> 31) & 1), row: Int(slot & 0x7FFF_FFFF))
    }

    /// The Silver row that holds accepted id `id` (hash `h`), or nil.
    func find(_ id: String, hash h: UInt64, idAt: (SilverRowRef) -> String) -> SilverRowRef? {
        let tag = Self.tag(h)
        var i = start(h)
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if s >> 32 == tag, case let r = Self.ref(s), idAt(r) == id { return r }
            i += 1
            if i == slots.count { i = 0 }
        }
    }

    /// Records `ref` as the row of an id (hash `h`) that `find` did not find.
    mutating func insert(hash h: UInt64, _ ref: SilverRowRef) {
        precondition(ref.input < 2 && ref.row < 1 << 31 && count + 1 < slots.count, "more accepted ids than Silver rows")
        var i = start(h)
        while slots[i] != 0 {
            i += 1
            if i == slots.count { i = 0 }
        }
        slots[i] = Self.tag(h) << 32 | UInt64(ref.input) << 31 | UInt64(ref.row)
        count += 1
    }
}
