import Engine
import Kernel

/// One fitted parameter: a value with a 95% confidence interval, or the
/// reason the logs cannot identify it (then no value).
public struct FittedParameter: Sendable, Equatable {
    public var key: String
    public var label: String
    /// "ms", "ms/row", "ms per 1M keys", "" (a shape).
    public var unit: String
    public var value: Double?
    public var low: Double?
    public var high: Double?
    /// Why there is no value (or no interval).
    public var note: String?
}

/// The fit of one query's batches.
public struct QueryFit: Sendable {
    public var name: String
    public var files: [String]
    public var batches: Int
    public var runs: Int
    public var idleIgnored: Int
    public var parameters: [FittedParameter]
    /// Of the steady-state regression (batches after each run's first).
    public var rSquared: Double?
    public var rmseMs: Double?
    /// Batch by batch, in log order: observed and fitted batch duration (ms).
    public var points: [(file: String, batchId: Int64, startup: Bool, observedMs: Double, fittedMs: Double)]
    public var notes: [String]
    /// Steady-state residuals (observed - model, ms, commits excluded), in
    /// log order: what the model does not explain, resampled by predictions.
    public var residualsMs: [Double] = []

    public func parameter(_ key: String) -> FittedParameter? { parameters.first { $0.key == key } }
}

public struct CalibrationResult: Sendable {
    public var fits: [QueryFit]
    /// Queries in the logs the user did not ask for: (name, progress objects).
    public var ignored: [(name: String, count: Int)]
}

/// Fits a query's cost parameters to its Spark progress:
///
///     batchDuration - (walCommit + commitOffsets)
///         = overhead + perRowRead x numInputRows + perRowWritten x rowsWritten
///           + perMillionStateKeys x stateKeys / 1e6          (+ startup on a run's first batch)
///
/// by robust least squares (Huber) over every executed batch except each
/// run's first; start-up is what each run's first batch took beyond that; the
/// checkpoint commits (walCommit + commitOffsets) are fitted as a log-normal.
/// A regressor whose values barely vary (coefficient of variation below
/// 0.15, or fewer than 3 distinct values), or that moves with rows read
/// (|correlation| > 0.98), is not identifiable: it is left out of the
/// regression and reported without a number. So is one whose fitted cost
/// comes out negative: it is left out and the fit redone (costs are
/// non-negative).
public enum Calibrator {
    /// The per-row and per-state costs a fit may estimate, with their labels and units.
    static let regressors: [(key: String, label: String, unit: String)] = [
        ("per_row_read", "per row read", "ms/row"), ("per_row_written", "per row written", "ms/row"),
        ("per_million_state_keys", "per million keys in state", "ms per 1M keys"),
    ]

    public static func fit(_ records: [ProgressRecord], query: String?) throws(InputError) -> CalibrationResult {
        // Within one file, a query name belongs to one query id.
        var idOf: [String: String] = [:]   // "file\0name" -> id
        var order: [String] = []
        var byName: [String: [ProgressRecord]] = [:]
        for r in records {
            let k = r.file + "\u{0}" + r.name
            if let id = idOf[k], id != r.queryId {
                throw InputError(file: r.file, line: r.line, problem: "a different query is mixed into '\(r.name)': id \(r.queryId), but earlier entries of this file have id \(id)")
            }
            idOf[k] = r.queryId
            if byName[r.name] == nil { order.append(r.name) }
            byName[r.name, default: []].append(r)
        }
        if let q = query, byName[q] == nil {
            throw InputError(file: records.first?.file ?? "-", line: 0,
                             problem: "no progress of query '\(q)' (found: \(order.joined(separator: ", ")))")
        }
        var fits: [QueryFit] = []
        var ignored: [(String, Int)] = []
        for name in order {
            if let q = query, q != name { ignored.append((name, byName[name]!.count)); continue }
            fits.append(fitQuery(name, byName[name]!))
        }
        return CalibrationResult(fits: fits, ignored: ignored)
    }

    static func fitQuery(_ name: String, _ all: [ProgressRecord]) -> QueryFit {
        var notes: [String] = []
        let executed = all.filter(\.executed)
        let idle = all.count - executed.count
        // A run's first batch: the first executed progress of each (file, runId).
        var seenRun = Set<String>()
        var first: [Bool] = []
        for r in executed { first.append(seenRun.insert(r.file + "\u{0}" + r.runId).inserted) }
        let steady = executed.indices.filter { !first[$0] }
        let y = steady.map { Double(executed[$0].batchDurationMs - executed[$0].commitMs) }
        var params: [FittedParameter] = []

        // Candidate regressors.
        let rowsIn = steady.map { Double(executed[$0].numInputRows) }
        let writtenKnown = steady.allSatisfy { executed[$0].rowsWritten != nil }
        let rowsOut = steady.map { Double(executed[$0].rowsWritten ?? 0) }
        let stateful = steady.allSatisfy { executed[$0].stateRowsBefore != nil } && !steady.isEmpty
        let state = steady.map { Double(executed[$0].stateRowsBefore ?? 0) / 1_000_000 }

        var columns: [(key: String, values: [Double])] = []
        var unidentified: [String: String] = [:]
        func spread(_ v: [Double]) -> (mean: Double, sd: Double, distinct: Int) {
            let m = v.reduce(0, +) / Double(max(1, v.count))
            let sd = (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(1, v.count - 1))).squareRoot()
            return (m, sd, Set(v).count)
        }
        func consider(_ key: String, _ v: [Double], _ what: String) {
            let s = spread(v)
            if s.distinct < 3 || s.mean <= 0 || s.sd / s.mean < 0.15 {
                unidentified[key] = "not identifiable: every batch had about the same \(what) (mean \(fmt(s.mean, 1)), sd \(fmt(s.sd, 1)), \(s.distinct) distinct values); the cost of \(what) cannot be told apart from the per-batch overhead"
                return
            }
            if let c = columns.first, c.key == "per_row_read", abs(correlation(c.values, v)) > 0.98 {
                unidentified[key] = "not identifiable separately from rows read: the two move together (correlation \(fmt(correlation(c.values, v), 3))); their cost is in the per-row-read figure"
                return
            }
            columns.append((key, v))
        }
        consider("per_row_read", rowsIn, "number of rows read")
        if writtenKnown { consider("per_row_written", rowsOut, "number of rows written") }
        else { unidentified["per_row_written"] = "not in the log: the sink reports no row count (numOutputRows -1, e.g. foreachBatch) and the query has no state operator; rows written are counted with rows read" }
        if stateful { consider("per_million_state_keys", state, "state size") }

        // Robust least squares, with costs kept non-negative: a regressor
        // whose fitted cost comes out below zero (rows that seem to make a
        // batch faster: what moved with them was something else, such as the
        // machine's load or a trend in time) is left out and the fit redone
        // without it (the active-set step of non-negative least squares).
        var beta: [Double] = [], se: [Double] = [], r2: Double?, rmse: Double?
        var p = columns.count + 1
        var t = Double.infinity
        while true {
            beta = []; se = []; r2 = nil; rmse = nil
            p = columns.count + 1
            if steady.count > p {
                let x = steady.indices.map { i in [1.0] + columns.map { $0.values[i] } }
                if let (b, s, rr, rm) = huber(x, y) { beta = b; se = s; r2 = rr; rmse = rm }
                else { notes.append("the regression is singular; only the mean batch duration is reported") }
            } else {
                notes.append("\(steady.count) steady-state batches: too few to fit \(p) parameters")
            }
            t = tQuantile975(steady.count - p)
            guard beta.count == p,
                  let j = (1..<p).filter({ beta[$0] < 0 }).min(by: { beta[$0] / max(se[$0], 1e-12) < beta[$1] / max(se[$1], 1e-12) })
            else { break }
            let c = columns[j - 1]
            let unit = Self.regressors.first { $0.key == c.key }?.unit ?? "ms"
            unidentified[c.key] = "not identifiable: the fit gives a negative cost (\(fmt(beta[j], 4)) \(unit), 95% CI \(fmt(beta[j] - t * se[j], 4)) .. \(fmt(beta[j] + t * se[j], 4))); a cost cannot be negative, so the logs show none, and it is left out (0)"
            columns.remove(at: j - 1)
        }
        func est(_ j: Int) -> (Double?, Double?, Double?) {
            guard j < beta.count else { return (nil, nil, nil) }
            return (beta[j], beta[j] - t * se[j], beta[j] + t * se[j])
        }
        let (ov, ol, oh) = est(0)
        params.append(FittedParameter(key: "batch_overhead", label: "per-batch overhead", unit: "ms", value: ov, low: ol, high: oh,
                                      note: ov == nil ? "not fitted" : nil))
        for (key, label, unit) in Self.regressors {
            if key == "per_million_state_keys" && !stateful { continue }
            if let j = columns.firstIndex(where: { $0.key == key }) {
                let (v, l, h) = est(j + 1)
                var note: String?
                if let l, let h, l <= 0, h >= 0 { note = "the interval includes 0: the logs do not show this cost clearly" }
                params.append(FittedParameter(key: key, label: label, unit: unit, value: v, low: l, high: h, note: note))
            } else {
                params.append(FittedParameter(key: key, label: label, unit: unit, value: nil, low: nil, high: nil,
                                              note: unidentified[key]))
            }
        }
        func predictSteady(_ r: ProgressRecord) -> Double {
            guard !beta.isEmpty else { return y.isEmpty ? 0 : y.reduce(0, +) / Double(y.count) }
            var v = beta[0]
            for (j, c) in columns.enumerated() {
                let xv: Double
                switch c.key {
                case "per_row_read": xv = Double(r.numInputRows)
                case "per_row_written": xv = Double(r.rowsWritten ?? 0)
                default: xv = Double(r.stateRowsBefore ?? 0) / 1_000_000
                }
                v += beta[j + 1] * xv
            }
            return v
        }
        // Start-up: each run's first batch beyond the steady model.
        let starts = executed.indices.filter { first[$0] }.map {
            Double(executed[$0].batchDurationMs - executed[$0].commitMs) - predictSteady(executed[$0])
        }
        if starts.isEmpty {
            params.insert(FittedParameter(key: "startup", label: "start-up (first batch of a run)", unit: "ms", value: nil,
                                          low: nil, high: nil, note: "no run's first batch in the logs"), at: 0)
        } else {
            let s = spread(starts)
            let half = starts.count >= 2 ? tQuantile975(starts.count - 1) * s.sd / Double(starts.count).squareRoot() : nil
            params.insert(FittedParameter(key: "startup", label: "start-up (first batch of a run)", unit: "ms", value: s.mean,
                                          low: half.map { s.mean - $0 }, high: half.map { s.mean + $0 },
                                          note: starts.count == 1 ? "one start observed: no interval" : "\(starts.count) starts observed"), at: 0)
        }
        // Checkpoint commits: log-normal.
        let commits = executed.map { Double($0.commitMs) }.filter { $0 > 0 }
        if commits.count >= 2 {
            let logs = commits.map { log($0) }
            let s = spread(logs)
            let half = tQuantile975(logs.count - 1) * s.sd / Double(logs.count).squareRoot()
            params.append(FittedParameter(key: "commit_median", label: "checkpoint commit, median (walCommit + commitOffsets)", unit: "ms",
                                          value: exp(s.mean), low: exp(s.mean - half), high: exp(s.mean + half), note: nil))
            params.append(FittedParameter(key: "commit_sigma", label: "checkpoint commit, log-normal sigma", unit: "", value: s.sd,
                                          low: nil, high: nil, note: nil))
            if commits.count < executed.count { notes.append("\(executed.count - commits.count) batches with 0 ms of checkpoint commits were left out of the commit fit") }
        } else {
            params.append(FittedParameter(key: "commit_median", label: "checkpoint commit, median (walCommit + commitOffsets)", unit: "ms",
                                          value: nil, low: nil, high: nil,
                                          note: "not in the log: walCommit + commitOffsets are 0 (or absent) in almost every batch"))
        }
        if idle > 0 { notes.append("\(idle) idle-trigger progress objects (no batch ran) ignored") }
        let commitMedian = params.first { $0.key == "commit_median" }?.value ?? 0
        let startup = params[0].value ?? 0
        var points: [(String, Int64, Bool, Double, Double)] = []
        for (i, r) in executed.enumerated() {
            let fitted = predictSteady(r) + (first[i] ? startup : 0) + commitMedian
            points.append((r.file, r.batchId, first[i], Double(r.batchDurationMs), fitted))
        }
        let files = all.reduce(into: [String]()) { if !$0.contains($1.file) { $0.append($1.file) } }
        let residuals = steady.map { Double(executed[$0].batchDurationMs - executed[$0].commitMs) - predictSteady(executed[$0]) }
        var fit = QueryFit(name: name, files: files, batches: executed.count, runs: seenRun.count, idleIgnored: idle,
                        parameters: params, rSquared: r2, rmseMs: rmse,
                        points: points.map { (file: $0.0, batchId: $0.1, startup: $0.2, observedMs: $0.3, fittedMs: $0.4) },
                        notes: notes)
        fit.residualsMs = residuals
        return fit
    }

    // MARK: Numerics

    /// OLS: coefficients, standard errors, R², RMSE; nil when XᵀX is singular.
    static func ols(_ x: [[Double]], _ y: [Double], weights: [Double]? = nil) -> ([Double], [Double], Double, Double)? {
        let n = x.count, p = x[0].count
        let w = weights ?? [Double](repeating: 1, count: n)
        var xtx = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var xty = [Double](repeating: 0, count: p)
        for i in 0..<n {
            for a in 0..<p {
                xty[a] += w[i] * x[i][a] * y[i]
                for b in 0..<p { xtx[a][b] += w[i] * x[i][a] * x[i][b] }
            }
        }
        guard let inv = invert(xtx) else { return nil }
        let beta = (0..<p).map { a in (0..<p).reduce(0.0) { $0 + inv[a][$1] * xty[$1] } }
        var rss = 0.0, wrss = 0.0
        let mean = y.reduce(0, +) / Double(n)
        var tss = 0.0
        for i in 0..<n {
            let f = (0..<p).reduce(0.0) { $0 + beta[$1] * x[i][$1] }
            rss += (y[i] - f) * (y[i] - f)
            wrss += w[i] * (y[i] - f) * (y[i] - f)
            tss += (y[i] - mean) * (y[i] - mean)
        }
        let sigma2 = wrss / Double(max(1, n - p))
        let se = (0..<p).map { (sigma2 * max(0, inv[$0][$0])).squareRoot() }
        return (beta, se, tss > 0 ? 1 - rss / tss : 0, (rss / Double(n)).squareRoot())
    }

    /// Huber M-estimation by iteratively reweighted least squares (k = 1.345,
    /// scale = MAD / 0.6745): batches slowed by something outside the model
    /// (a stalled machine, a GC pause) count less than in plain least
    /// squares, so the coefficients describe the typical batch; the outliers
    /// stay in the residuals, which the prediction resamples.
    static func huber(_ x: [[Double]], _ y: [Double]) -> ([Double], [Double], Double, Double)? {
        var w = [Double](repeating: 1, count: y.count)
        guard var fit = ols(x, y) else { return nil }
        for _ in 0..<50 {
            let r = y.indices.map { i in y[i] - zip(fit.0, x[i]).reduce(0.0) { $0 + $1.0 * $1.1 } }
            let med = median(r)
            let scale = median(r.map { abs($0 - med) }) / 0.6745
            guard scale > 0 else { break }
            let k = 1.345 * scale
            let nw = r.map { abs($0) <= k ? 1.0 : k / abs($0) }
            if zip(nw, w).allSatisfy({ abs($0 - $1) < 1e-9 }) { break }
            w = nw
            guard let next = ols(x, y, weights: w) else { return nil }
            fit = next
        }
        return fit
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Gauss-Jordan with partial pivoting; nil when singular.
    static func invert(_ m: [[Double]]) -> [[Double]]? {
        let n = m.count
        var a = m
        var inv = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        let scale = m.flatMap { $0 }.map(abs).max() ?? 1
        for c in 0..<n {
            var piv = c
            for r in c..<n where abs(a[r][c]) > abs(a[piv][c]) { piv = r }
            guard abs(a[piv][c]) > 1e-12 * max(1, scale) else { return nil }
            a.swapAt(c, piv); inv.swapAt(c, piv)
            let d = a[c][c]
            for k in 0..<n { a[c][k] /= d; inv[c][k] /= d }
            for r in 0..<n where r != c {
                let f = a[r][c]
                if f == 0 { continue }
                for k in 0..<n { a[r][k] -= f * a[c][k]; inv[r][k] -= f * inv[c][k] }
            }
        }
        return inv
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    /// Student's t, two-sided 95%.
    static func tQuantile975(_ dof: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
                               2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
                               2.052, 2.048, 2.045, 2.042]
        if dof < 1 { return .infinity }
        if dof <= 30 { return table[dof - 1] }
        return 1.96 + 2.4 / Double(dof)
    }

    public static func fmt(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return v > 0 ? "inf" : "-inf" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (v * p).rounded() / p
        var s = "\(r)"
        if s.hasSuffix(".0") && digits == 0 { s.removeLast(2) }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
