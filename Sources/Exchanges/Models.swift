import HeapModule
import Kernel

/// Trade arrivals: a Hawkes process with an exponential kernel, simulated
/// exactly (Dassios & Zhao 2013, "Exact simulation of Hawkes process with
/// exponentially decaying intensity"), no thinning.
///
/// Intensity lambda(t) = mu + sum over past trades of alpha * exp(-beta (t - t_i)).
/// Each trade triggers n = alpha / beta further trades on average (the branching
/// ratio, < 1 for stability); the long-run mean rate is mu / (1 - n). With n = 0
/// it is a Poisson process of rate mu.
///
/// Time runs in Double seconds from `originMicros` (exact to well under a
/// microsecond over days) and events are quantized down to whole microseconds.
/// Only DeterministicMath is used, so draws are identical on every platform.
struct HawkesArrivals {
    private var rng: RandomStream
    let mu: Double
    let alpha: Double
    let beta: Double
    let originMicros: Micros
    let endMicros: Micros
    private var tSeconds: Double = 0
    private var excess: Double = 0
    /// The next event time, or nil when the process has passed `endMicros`.
    private(set) var peek: Micros?

    /// - Parameters:
    ///   - meanRatePerSecond: the long-run rate mu / (1 - n).
    ///   - branchingRatio: n in [0, 1).
    ///   - decayMicros: 1 / beta.
    init(rng: RandomStream, meanRatePerSecond: Double, branchingRatio: Double, decayMicros: Micros,
         originMicros: Micros, endMicros: Micros) {
        precondition(branchingRatio >= 0 && branchingRatio < 1, "a Hawkes branching ratio must be in [0, 1)")
        precondition(decayMicros > 0)
        self.rng = rng
        self.beta = 1e6 / Double(decayMicros)
        self.alpha = branchingRatio * beta
        self.mu = max(0, meanRatePerSecond) * (1 - branchingRatio)
        self.originMicros = originMicros
        self.endMicros = endMicros
        peek = nil
        advance()
    }

    /// Moves to the next event; `peek` becomes its time (or nil past the end).
    mutating func advance() {
        var s1 = Double.infinity
        if excess > 1e-300 {
            let d = 1 + beta * DeterministicMath.log(rng.unitDoubleOpenZero()) / excess
            if d > 0 { s1 = -DeterministicMath.log(d) / beta }
        }
        var s2 = Double.infinity
        if mu > 0 { s2 = -DeterministicMath.log(rng.unitDoubleOpenZero()) / mu }
        let tau = min(s1, s2)
        guard tau.isFinite else { peek = nil; return }
        tSeconds += tau
        excess = excess * DeterministicMath.exp(-beta * tau) + alpha
        let offset = (tSeconds * 1e6).rounded(.down)
        guard offset < Double(endMicros - originMicros) else { peek = nil; return }
        peek = originMicros + Micros(offset)
    }
}

/// A symbol's mid price: a geometric random walk on a fixed time grid
/// (one step per `stepMicros`, log-returns N(0, sigma_step)), rounded to the
/// tick. Grid-based, so the path depends only on its own stream and on time,
/// never on how many trades read it (extra spike trades change nothing).
struct PriceWalk {
    private var rng: RandomStream
    let originMicros: Micros
    let stepMicros: Micros
    let sigmaPerStep: Double
    let startUnits: Int64
    let tickUnits: Int64
    private var logRelative: Double = 0
    /// Tick-rounded price per grid step, grown on demand.
    private var grid: [Int64] = []

    init(rng: RandomStream, originMicros: Micros, stepMicros: Micros, dailyVolatility: Double, startUnits: Int64, tickUnits: Int64) {
        self.rng = rng
        self.originMicros = originMicros
        self.stepMicros = stepMicros
        // Variance adds over steps: sigma_day^2 = steps_per_day * sigma_step^2.
        self.sigmaPerStep = dailyVolatility * (Double(stepMicros) / Double(Time.microsPerDay)).squareRoot()
        self.startUnits = startUnits
        self.tickUnits = tickUnits
    }

    /// The tick-rounded price at time t (never below one tick).
    mutating func price(at t: Micros) -> Int64 {
        let k = t <= originMicros ? 0 : Int((t - originMicros) / stepMicros)
        while grid.count <= k {
            let raw = Double(startUnits) * DeterministicMath.exp(logRelative) / Double(tickUnits)
            let ticks = max(1, Int64(raw.rounded(.toNearestOrEven)))
            grid.append(ticks * tickUnits)
            logRelative += sigmaPerStep * rng.standardNormal()
        }
        return grid[k]
    }
}

/// The feed's pending sends, earliest first; sends due at the same time leave
/// in the order they were queued (a sequence number breaks the tie, so the
/// order is total and does not depend on the heap's layout).
struct SendQueue<Payload> {
    struct Entry: Comparable {
        let time: Micros
        let sequence: UInt64
        let payload: Payload
        static func < (a: Entry, b: Entry) -> Bool { (a.time, a.sequence) < (b.time, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.time == b.time && a.sequence == b.sequence }
    }
    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var minTime: Micros? { heap.min?.time }

    mutating func push(_ time: Micros, _ payload: Payload) {
        heap.insert(Entry(time: time, sequence: nextSequence, payload: payload))
        nextSequence &+= 1
    }

    mutating func pop() -> Entry? { heap.popMin() }
}
