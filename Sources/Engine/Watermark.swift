import Kernel

/// Spark's `WatermarkTracker` with the default `min` MultipleWatermarkPolicy.
///
/// Each input (an `EventTimeWatermarkExec`, one per `withWatermark`) keeps
/// its own watermark: max event time it has seen minus the delay, never
/// decreasing. An input that has had no data since the query (re)started
/// counts as 0, so a silent input holds the global watermark back. The global
/// watermark is the minimum and itself never decreases.
///
/// Like Spark, the per-input values live only in memory: a restart restores
/// the global value from the offset log (`setWatermark`) and starts every
/// input afresh.
public struct WatermarkTracker: Sendable, Equatable {
    public let delayMs: Int64
    public private(set) var perInputMs: [Int64?]
    public private(set) var globalMs: Int64 = 0

    public init(inputs: Int, delayMs: Int64) {
        precondition(inputs > 0)
        self.delayMs = delayMs
        perInputMs = Array(repeating: nil, count: inputs)
    }

    /// Restart from a checkpoint: the global watermark of the last offset-log
    /// entry; per-input values unknown.
    public mutating func setWatermark(_ ms: Int64) {
        globalMs = ms
        perInputMs = Array(repeating: nil, count: perInputMs.count)
    }

    /// End of a batch: `maxEventMs[i]` is the max event time input i saw in
    /// the batch (late rows included: Spark measures before the late filter),
    /// nil when it had no rows. Returns whether the global watermark moved.
    @discardableResult
    public mutating func update(maxEventMs: [Int64?]) -> Bool {
        precondition(maxEventMs.count == perInputMs.count)
        for (i, m) in maxEventMs.enumerated() {
            guard let m else { continue }
            let candidate = m - delayMs
            if perInputMs[i] == nil || candidate > perInputMs[i]! { perInputMs[i] = candidate }
        }
        let chosen = perInputMs.map { $0 ?? 0 }.min()!
        if chosen > globalMs { globalMs = chosen; return true }
        return false
    }
}

/// A set of 128-bit keys: open addressing, linear probing, power-of-two
/// capacity, load <= 3/4, backward-shift deletion (no tombstones).
///
/// Why not `Set<UUID128>`: it hashes with SipHash, a third of the cost of a
/// Gold row at production volume; UUID v4 bits are already random, so a
/// multiply-shift of them spreads keys as well (sequential test ids too).
/// 16 bytes a slot plus one byte of occupancy; nothing here reaches output,
/// so slot order never matters.
struct UUIDSet {
    private var hi: [UInt64] = []
    private var lo: [UInt64] = []
    private var used: [Bool] = []
    private var mask = 0
    private(set) var count = 0

    init() { resize(1 << 10) }

    /// Bytes the slots take (16 a key slot, 1 of occupancy).
    var heldBytes: Int { hi.capacity * 8 + lo.capacity * 8 + used.capacity }

    private static func slot(_ h: UInt64, _ l: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: ((h &* 0x9E37_79B9_7F4A_7C15) ^ l) &* 0xBF58_476D_1CE4_E5B9 >> 20) & mask
    }

    private mutating func resize(_ capacity: Int) {
        let oldHi = hi, oldLo = lo, oldUsed = used
        hi = Array(repeating: 0, count: capacity)
        lo = Array(repeating: 0, count: capacity)
        used = Array(repeating: false, count: capacity)
        mask = capacity - 1
        count = 0
        for i in 0..<oldUsed.count where oldUsed[i] { _ = insert(oldHi[i], oldLo[i]) }
    }

    /// True when the key was not there.
    mutating func insert(_ h: UInt64, _ l: UInt64) -> Bool {
        if (count + 1) * 4 > used.count * 3 { resize(used.count * 2) }
        var i = UUIDSet.slot(h, l, mask)
        while used[i] {
            if hi[i] == h && lo[i] == l { return false }
            i = (i + 1) & mask
        }
        used[i] = true; hi[i] = h; lo[i] = l
        count += 1
        return true
    }

    mutating func remove(_ h: UInt64, _ l: UInt64) {
        var i = UUIDSet.slot(h, l, mask)
        while used[i] {
            if hi[i] == h && lo[i] == l { break }
            i = (i + 1) & mask
        }
        guard used[i] else { return }
        // Backward-shift: move later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while used[j] {
            let home = UUIDSet.slot(hi[j], lo[j], mask)
            // j's entry may move to the hole if its home is not in (hole, j].
            let inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inRange {
                hi[hole] = hi[j]; lo[hole] = lo[j]; used[hole] = true
                used[j] = false
                hole = j
            }
            j = (j + 1) & mask
        }
        used[hole] = false
        count -= 1
    }

    func contains(_ h: UInt64, _ l: UInt64) -> Bool {
        var i = UUIDSet.slot(h, l, mask)
        while used[i] {
            if hi[i] == h && lo[i] == l { return true }
            i = (i + 1) & mask
        }
        return false
    }
}

/// `dropDuplicates(["message_id"])` state (StreamingDeduplicateExec). The key
/// has no event-time column, so nothing is ever evicted: the state only grows.
///
/// Changes made by the batch in flight are tentative, as Spark's state store
/// version N+1 is until the batch commits: a crash rolls them back, so the
/// batch re-run sees the state of version N.
final class DedupState {
    private var uuids = UUIDSet()
    private var others = Set<String>()
    private var pending: [MessageKey] = []

    var keyCount: Int { uuids.count + others.count }
    /// Approximate bytes held (the non-UUID keys at 64 bytes each).
    var heldBytes: Int { uuids.heldBytes + others.count * 64 + pending.capacity * 24 }

    /// True when `k` is new (the row is kept); false for a duplicate.
    func insert(_ k: MessageKey) -> Bool {
        let inserted: Bool
        switch k {
        case .uuid(let h, let l): inserted = uuids.insert(h, l)
        case .other(let s): inserted = others.insert(s).inserted
        }
        if inserted { pending.append(k) }
        return inserted
    }

    func contains(_ k: MessageKey) -> Bool {
        switch k {
        case .uuid(let h, let l): return uuids.contains(h, l)
        case .other(let s): return others.contains(s)
        }
    }

    func commit() { pending.removeAll(keepingCapacity: true) }

    func rollback() {
        for k in pending {
            switch k {
            case .uuid(let h, let l): uuids.remove(h, l)
            case .other(let s): others.remove(s)
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
