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

/// 128 bits of a canonical lower-case UUID.
struct UUID128: Hashable {
    let hi: UInt64
    let lo: UInt64
    func hash(into h: inout Hasher) { h.combine(hi ^ (lo &* 0x9E37_79B9_7F4A_7C15)) }
}

/// `dropDuplicates(["message_id"])` state (StreamingDeduplicateExec). The key
/// has no event-time column, so nothing is ever evicted: the state only grows.
///
/// Changes made by the batch in flight are tentative, as Spark's state store
/// version N+1 is until the batch commits: a crash rolls them back, so the
/// batch re-run sees the state of version N.
final class DedupState {
    private var uuids = Set<UUID128>()
    private var others = Set<String>()
    private var pending: [MessageKey] = []

    var keyCount: Int { uuids.count + others.count }

    /// True when `k` is new (the row is kept); false for a duplicate.
    func insert(_ k: MessageKey) -> Bool {
        let inserted: Bool
        switch k {
        case .uuid(let h, let l): inserted = uuids.insert(UUID128(hi: h, lo: l)).inserted
        case .other(let s): inserted = others.insert(s).inserted
        }
        if inserted { pending.append(k) }
        return inserted
    }

    func commit() { pending.removeAll(keepingCapacity: true) }

    func rollback() {
        for k in pending {
            switch k {
            case .uuid(let h, let l): uuids.remove(UUID128(hi: h, lo: l))
            case .other(let s): others.remove(s)
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
