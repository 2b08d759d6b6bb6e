import Checks
import Engine
import Kernel

/// A point's (or a job's) standing, from best to worst.
public enum Verdict: String, Comparable, Sendable, CaseIterable {
    /// Keeps up, keeps the chosen headroom, SLAs hold.
    case ok
    /// Keeps up, but a job held to a headroom has less than that.
    case tight
    /// A job falls behind its trigger after start-up (elapsed > trigger).
    case behind
    /// Silver latency p99 >= 60 s or end-to-end p99 >= 5 min (docs/REFERENCE.md §6).
    case slaBreach = "sla_breach"
    /// A job's backlog keeps growing: it can never catch up.
    case unsustainable

    public static func < (a: Verdict, b: Verdict) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The verdict of one point, with the sentences behind it.
public struct PointAssessment: Equatable, Sendable {
    public var verdict: Verdict
    public var jobVerdicts: [JobName: Verdict]
    public var reasons: [String]

    public init(_ p: PointResult, headroomMicros: [JobName: Micros]) {
        var jobVerdicts: [JobName: Verdict] = [:]
        var reasons: [String] = []
        for job in JobName.allCases {
            guard let j = p.jobs[job] else { continue }
            var v = Verdict.ok
            if let need = headroomMicros[job].map({ $0 / 1_000 }), let got = j.minHeadroomMs, got < need {
                v = .tight
                if j.batchesBehindAfterStartup == 0 {
                    reasons.append("\(job.rawValue): min headroom \(formatMs(got)) < \(formatMs(need))")
                }
            }
            if j.batchesBehindAfterStartup > 0 {
                v = .behind
                reasons.append("\(job.rawValue): \(j.batchesBehindAfterStartup) batches behind after start-up")
            }
            if j.backlogGrowing {
                v = .unsustainable
                reasons.append("\(job.rawValue): backlog keeps growing")
            }
            jobVerdicts[job] = v
        }
        var verdict = jobVerdicts.values.max() ?? .ok
        if !p.slaHolds {
            verdict = max(verdict, .slaBreach)
            let silverTarget = Oracle.silverLatencySLAMicros / 1_000, e2eTarget = Oracle.endToEndSLAMicros / 1_000
            if let s = p.silverP99Ms, s >= silverTarget { reasons.append("Silver latency p99 \(formatMs(s)) >= \(formatMs(silverTarget))") }
            if let e = p.endToEndP99Ms, e >= e2eTarget { reasons.append("end-to-end p99 \(formatMs(e)) >= \(formatMs(e2eTarget))") }
        }
        self.verdict = verdict
        self.jobVerdicts = jobVerdicts
        self.reasons = reasons
    }
}

/// What the sweep recommends, computed over complete results only.
public struct Recommendation: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The smallest swept trigger of `job` whose point keeps the job `ok`
        /// and the SLAs, with no job's backlog growing.
        case smallestTrigger = "smallest_trigger"
        /// The largest swept traffic level whose point's verdict is `ok`.
        case largestTrafficOK = "largest_traffic_ok"
        /// The largest swept traffic level at which no job's backlog grows.
        case largestTrafficSustainable = "largest_traffic_sustainable"
    }

    public var kind: Kind
    /// The swept key the answer is a value of.
    public var key: String
    /// For `smallestTrigger`, the job.
    public var job: String?
    /// The values of the other sweeps this answer holds for, in sweep order.
    public var context: [SweepPoint.Assignment]
    /// The answer, nil when no swept value qualifies.
    public var value: String?

    public var json: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "key": .string(key), "job": .optional(job),
            "context": .object(Dictionary(uniqueKeysWithValues: context.map { ($0.key, JSONValue.string($0.value)) })),
            "value": .optional(value),
        ])
    }

    public var sentence: String {
        let at = context.isEmpty ? "" : " at " + context.map(\.override).joined(separator: ", ")
        switch kind {
        case .smallestTrigger:
            return "\(job ?? "?"): smallest trigger keeping its headroom\(at): " + (value ?? "none of the swept values")
        case .largestTrafficOK:
            return "\(key): largest value with verdict ok\(at): " + (value ?? "none of the swept values")
        case .largestTrafficSustainable:
            return "\(key): largest value where no backlog grows\(at): " + (value ?? "none of the swept values")
        }
    }

    /// Recommendations over a complete sweep. For each swept trigger and for
    /// each combination of the other sweeps' values (the context), in order.
    public static func compute(_ d: SweepDefinition, _ points: [PointResult], _ a: [PointAssessment]) -> [Recommendation] {
        guard points.count == d.pointCount, !d.sweeps.isEmpty else { return [] }
        let all = d.points
        var out: [Recommendation] = []
        for (k, sweep) in d.sweeps.enumerated() {
            let job = sweep.triggerJob.flatMap(JobName.init(rawValue:))
            guard job != nil || sweep.isTrafficLevel else { continue }
            // Contexts: the other sweeps' value combinations, in point order.
            var contexts: [[SweepPoint.Assignment]] = []
            var members: [[Int]] = []
            for p in all {
                var ctx = p.assignments
                ctx.remove(at: k)
                if let i = contexts.firstIndex(of: ctx) { members[i].append(p.index) } else { contexts.append(ctx); members.append([p.index]) }
            }
            for (ci, ctx) in contexts.enumerated() {
                let idx = members[ci]
                if let job {
                    let ok = idx.filter { a[$0].jobVerdicts[job] == .ok && points[$0].slaHolds && a[$0].verdict != .unsustainable }
                    let best = ok.min { durationOf(all[$0].assignments[k].value) < durationOf(all[$1].assignments[k].value) }
                    out.append(Recommendation(kind: .smallestTrigger, key: sweep.key, job: job.rawValue, context: ctx,
                                              value: best.map { all[$0].assignments[k].value }))
                } else {
                    func largest(_ keep: (Int) -> Bool) -> String? {
                        idx.filter(keep).max { decimalOf(all[$0].assignments[k].value) < decimalOf(all[$1].assignments[k].value) }
                            .map { all[$0].assignments[k].value }
                    }
                    out.append(Recommendation(kind: .largestTrafficOK, key: sweep.key, job: nil, context: ctx,
                                              value: largest { a[$0].verdict == .ok }))
                    out.append(Recommendation(kind: .largestTrafficSustainable, key: sweep.key, job: nil, context: ctx,
                                              value: largest { a[$0].verdict != .unsustainable }))
                }
            }
        }
        return out
    }

    static func durationOf(_ s: String) -> Micros { (try? DurationParser.parse(s)) ?? Micros.max }
    static func decimalOf(_ s: String) -> Decimal8 { (try? Decimal8(parsing: s)) ?? Decimal8(units: Int64.min) }
}

/// `12.345s`, from milliseconds.
func formatMs(_ ms: Int64) -> String { formatSeconds(ms * 1_000) }
