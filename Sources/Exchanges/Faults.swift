import Kernel
import Codec

/// How a duplicate arises.
public enum DuplicateMode: String, Sendable, CaseIterable {
    /// The producer did not see an ack and re-sent: the same bytes at a new offset.
    case producerRetry = "producer_retry"
    /// The exchange re-sent a trade (a resubscribe snapshot): the same trade and
    /// message id, re-encoded with a new ingestion time.
    case exchangeResend = "exchange_resend"
}

/// Which of a window's trades a fault takes.
public enum FaultSelection: Sendable, Equatable {
    /// Each trade independently with this probability.
    case share(Ratio)
    /// About this many: at each of `count` uniform times in the window, the first
    /// eligible trade at or after it (fewer when the window has fewer trades).
    case count(Int)
}

/// One injected fault: what happens to one exchange's feed during a window of
/// virtual time [startMicros, endMicros). Each fault draws only from its own
/// stream `faults.<index>` (index = position in the run's fault list), so adding
/// a fault never changes the base traffic's draws.
public struct FaultSpec: Sendable, Equatable {
    public enum Effect: Sendable, Equatable {
        /// Some of the window's live trades are sent twice, the copy `delayMicros` later.
        case duplicate(DuplicateMode, FaultSelection, delayMicros: Micros)
        /// Some of the window's trades are held back (a dropped websocket
        /// subscription) and delivered at `deliverAtMicros` (>= window end) by a
        /// reconnect backfill: minutes-old trades, out of order.
        case lateBackfill(FaultSelection, deliverAtMicros: Micros)
        /// `count` extra messages at uniform times in the window, each landing in
        /// the DLQ with `reason` (payload made by byte surgery on a real encoding,
        /// an unregistered or incompatible schema id, or a trade breaking exactly one rule).
        case malformed(DeadLetterReason, count: Int)
        /// Traffic times `multiplier` during the window (extra trades with the same
        /// burst dynamics when > 1; a thinned feed when < 1).
        case spike(multiplier: Double)
        /// The feed is silent during the window; with `backfill`, the missed trades are
        /// delivered when it ends.
        case outage(backfill: Bool)
        /// A share of the window's trades carry a timestamp `aheadMicros` ahead of
        /// their ingestion time (over 5 minutes ahead: INVALID_TIMESTAMP).
        case clockSkew(aheadMicros: Micros, share: Ratio)
        /// A share of the window's trades is written with the V1 schema under its older id.
        case schemaMix(v1Share: Ratio)
    }

    public var exchange: ExchangeName
    public var startMicros: Micros
    public var endMicros: Micros
    public var effect: Effect

    public init(exchange: ExchangeName, startMicros: Micros, endMicros: Micros, effect: Effect) {
        self.exchange = exchange; self.startMicros = startMicros; self.endMicros = endMicros; self.effect = effect
    }

    @inlinable func covers(_ t: Micros) -> Bool { t >= startMicros && t < endMicros }

    /// A reconnect at `deliverAtMicros` delivering `count` trades about `ageMicros`
    /// old: they are taken from the minute [deliverAt - age, deliverAt - age + 1m).
    public static func lateBackfill(exchange: ExchangeName, deliverAtMicros: Micros, count: Int, ageMicros: Micros) -> FaultSpec {
        let start = deliverAtMicros - ageMicros
        return FaultSpec(exchange: exchange, startMicros: start, endMicros: min(deliverAtMicros, start + Time.microsPerMinute),
                         effect: .lateBackfill(.count(count), deliverAtMicros: deliverAtMicros))
    }

    /// One malformed fault per reason (`reasons: all` in a scenario), `countEach` messages each.
    public static func malformed(exchange: ExchangeName, startMicros: Micros, endMicros: Micros,
                                 reasons: [DeadLetterReason] = DeadLetterReason.allCases, countEach: Int) -> [FaultSpec] {
        reasons.map { FaultSpec(exchange: exchange, startMicros: startMicros, endMicros: endMicros, effect: .malformed($0, count: countEach)) }
    }

    public var kind: FaultKind {
        switch effect {
        case .duplicate(let mode, _, _): return mode == .producerRetry ? .producerRetry : .exchangeResend
        case .lateBackfill: return .lateBackfill
        case .malformed: return .malformed
        case .spike: return .spike
        case .outage: return .outage
        case .clockSkew: return .clockSkew
        case .schemaMix: return .schemaMix
        }
    }

    /// Problems that make the fault unusable, as sentences (empty when fine).
    public func problems() -> [String] {
        var out: [String] = []
        let who = "\(kind.rawValue) fault on \(exchange.lowercased)"
        if endMicros < startMicros { out.append("\(who): window ends before it starts") }
        switch effect {
        case .duplicate(_, let sel, let delay):
            if delay < 0 { out.append("\(who): delay must be >= 0") }
            if case .count(let n) = sel, n < 0 || n > 10_000_000 { out.append("\(who): count must be in 0...10000000") }
        case .lateBackfill(let sel, let at):
            if at < endMicros { out.append("\(who): delivery must be at or after the window's end") }
            if case .count(let n) = sel, n < 0 || n > 10_000_000 { out.append("\(who): count must be in 0...10000000") }
        case .malformed(_, let count): if count < 0 || count > 10_000_000 { out.append("\(who): count must be in 0...10000000") }
        case .spike(let m): if !(m >= 0 && m <= 1_000) { out.append("\(who): multiplier must be in [0, 1000]") }
        case .outage: break
        case .clockSkew(let ahead, _): if ahead < 0 { out.append("\(who): skew must be >= 0") }
        case .schemaMix: break
        }
        return out
    }
}

/// The kind of fault that produced (or touched) a message; `none` for plain traffic.
public enum FaultKind: String, Sendable, CaseIterable, Comparable {
    case none
    case producerRetry = "producer_retry"
    case exchangeResend = "exchange_resend"
    case lateBackfill = "late_backfill"
    case outage
    case malformed
    case spike
    case clockSkew = "clock_skew"
    case schemaMix = "schema_mix"

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}
