import Codec
import Engine
import Kernel
import Replay

/// Predicts one query's batches on a capture's arrivals with fitted
/// parameters, by the engine's trigger rules (`StreamingQuery`):
/// epoch-aligned processing-time triggers, a trigger without new rows runs no
/// batch, an overrun starts the next batch at once, the first batch of the
/// run pays start-up. A batch reads every row that arrived up to its trigger
/// instant and takes
///
///     startup (first) + overhead + perRowRead x rows + perRowWritten x rows
///       + perMillionStateKeys x keys in state / 1e6 + checkpoint commits (median)
///       + a residual of the fit, drawn (seeded) from the fitted batches' residuals
///
/// The residual draw carries what the model does not explain (stalls, GC,
/// a busy machine) into the prediction's tail, as the fitted runs had it.
/// Rows written are taken equal to rows read (Gold's duplicates and late rows
/// are under 2% of the fixtures' traffic) and every row read adds a state key.
public struct QueryPrediction: Sendable {
    public var batchDurationsMs: [Int64]
    public var startsMs: [Int64]
    public var rows: [Int64]
}

public enum Predictor {
    /// Arrival instants (µs) of the capture's messages on `topics`, sorted.
    public static func arrivals(_ c: Capture, topics: Set<String>) -> [Micros] {
        var out: [Micros] = []
        for i in 0..<c.messageCount {
            let m = c.message(i)
            guard topics.contains(m.topic) else { continue }
            out.append(m.appendTimeMicros ?? m.timestampMs * Time.microsPerMilli)
        }
        return out.sorted()
    }

    /// Batches whose trigger fires after `untilMs` (the real run's last batch,
    /// when comparing with a run that stopped with a backlog) are not run.
    public static func run(fit: QueryFit, arrivals: [Micros], startMs: Int64, triggerMs: Int64,
                           untilMs: Int64 = .max, seed: UInt64 = 1) -> QueryPrediction {
        func v(_ k: String) -> Double { fit.parameter(k)?.value ?? 0 }
        let startup = v("startup"), overhead = v("batch_overhead"), read = v("per_row_read")
        let written = v("per_row_written"), state = v("per_million_state_keys"), commit = v("commit_median")
        var t = startMs
        var consumed = 0
        var keys: Int64 = 0
        var first = true
        var rng = RandomStreams(seed: seed).stream("calibrate.residuals")
        let residuals = fit.residualsMs
        var out = QueryPrediction(batchDurationsMs: [], startsMs: [], rows: [])
        let lastArrivalMs = (arrivals.last ?? 0) / Time.microsPerMilli
        while consumed < arrivals.count && t <= untilMs {
            let next = (t / triggerMs) * triggerMs + triggerMs
            // Rows available at the trigger instant (ms clock, as planning sees them).
            var avail = consumed
            while avail < arrivals.count && arrivals[avail] <= t * Time.microsPerMilli + 999 { avail += 1 }
            let rows = Int64(avail - consumed)
            if rows == 0 {
                if t > lastArrivalMs + triggerMs { break }
                t = next
                continue
            }
            var d = overhead + (read + written) * Double(rows) + state * Double(keys) / 1_000_000 + commit
            if first { d += startup; first = false }
            else if !residuals.isEmpty { d += residuals[Int(rng.nextUInt64() % UInt64(residuals.count))] }
            let dur = max(1, Int64(d.rounded()))
            out.batchDurationsMs.append(dur); out.startsMs.append(t); out.rows.append(rows)
            keys += rows
            consumed = avail
            t = max(t + dur, next)
        }
        return out
    }

    /// The smallest trigger (whole seconds, up to 10 min) whose batches all
    /// (the start-up batch aside) leave `headroomMs` free.
    public static func smallestTrigger(fit: QueryFit, arrivals: [Micros], startMs: Int64, headroomMs: Int64,
                                       untilMs: Int64 = .max) -> Int64? {
        var s: Int64 = 1_000
        while s <= 600_000 {
            let p = run(fit: fit, arrivals: arrivals, startMs: startMs, triggerMs: s, untilMs: untilMs)
            if p.batchDurationsMs.dropFirst().allSatisfy({ $0 + headroomMs <= s }) { return s }
            s += 1_000
        }
        return nil
    }
}

/// A fitted query's prediction on a held-out run's capture, beside what the
/// run really did: what `calibrate --predict-capture` prints and what the
/// calibration page's held-out table holds.
public struct HeldOutComparison: Sendable {
    public var real: RunFigures
    public var predicted: RunFigures
    public var arrivals: [Micros]
    /// The real run's first and last executed batch (the prediction runs between them).
    public var startMs: Int64
    public var untilMs: Int64
}

extension Predictor {
    /// The topics a query reads, by its name: Gold both exchanges', a Silver
    /// query its own exchange's (Binance unless the name says Kraken).
    public static func topics(ofQuery name: String) -> Set<String> {
        if name.contains("gold") { return [ExchangeName.binance.topic, ExchangeName.kraken.topic] }
        return [name.contains("kraken") ? ExchangeName.kraken.topic : ExchangeName.binance.topic]
    }

    /// Predicts `fit`'s batches on the capture's arrivals between the real
    /// run's first and last executed batch, and summarizes both. nil when the
    /// real run has no executed batch of the query.
    public static func compare(fit: QueryFit, capture: Capture, real: [ProgressRecord],
                               triggerMs: Int64) -> HeldOutComparison? {
        let mine = real.filter { $0.name == fit.name && $0.executed }
        guard let first = mine.first, let last = mine.last else { return nil }
        let arrivals = arrivals(capture, topics: topics(ofQuery: fit.name))
        let pred = run(fit: fit, arrivals: arrivals, startMs: first.timestampMs, triggerMs: triggerMs,
                       untilMs: last.timestampMs)
        return HeldOutComparison(real: RunFigures(durationsMs: mine.map(\.batchDurationMs), triggerMs: triggerMs),
                                 predicted: RunFigures(durationsMs: pred.batchDurationsMs, triggerMs: triggerMs),
                                 arrivals: arrivals, startMs: first.timestampMs, untilMs: last.timestampMs)
    }
}

/// The figures compared between a real run and its prediction.
public struct RunFigures: Sendable, Equatable {
    public var batches: Int
    public var p50Ms: Int64
    public var p99Ms: Int64
    public var behind: Int
    public var keepsUp: Bool

    /// Over the batches after the start-up batch: nearest-rank percentiles;
    /// behind = duration > trigger; keeps up = fewer than half behind.
    public init(durationsMs: [Int64], triggerMs: Int64) {
        let steady = Array(durationsMs.dropFirst()).sorted()
        func pct(_ q: Double) -> Int64 {
            guard !steady.isEmpty else { return 0 }
            let rank = Int((q * Double(steady.count)).rounded(.up))
            return steady[max(0, min(steady.count - 1, rank - 1))]
        }
        batches = steady.count
        p50Ms = pct(0.50); p99Ms = pct(0.99)
        behind = steady.filter { $0 > triggerMs }.count
        keepsUp = behind * 2 < max(1, steady.count)
    }
}
