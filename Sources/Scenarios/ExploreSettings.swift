import Engine
import Kernel

/// A scenario's optional `explore:` section: how `medallion-sim explore`
/// draws random fault schedules on top of the scenario's own faults.
/// Every key has a default, so an empty section (or none) explores every
/// fault kind.
public struct ExploreSettings: Equatable, Sendable {
    /// The fault kinds a run may draw from (scenario `kind` names).
    public var kinds: [String] = ExploreSettings.defaultKinds
    /// At most this many random faults per run (at least one).
    public var maxFaults: Int = 3
    /// Faults start in [from, until) (offsets from the start); nil: 1m, and
    /// the duration minus 1m.
    public var fromMicros: Micros?
    public var untilMicros: Micros?
    /// Upper bound of a drawn `count` (duplicates, backfills, malformed payloads).
    public var maxCount: Int = 40
    /// Upper bound of a drawn window (`for`).
    public var maxForMicros: Micros = 5 * Time.microsPerMinute
    /// The jobs a crash may hit (default: all five, and the two DLQ queries
    /// under `silver_sinks: two_queries`; see `crashJobs`).
    public var jobs: [JobName] = JobName.allCases

    public init() {}

    /// The jobs a crash may hit in a scenario with `pipeline`: `jobs`, and,
    /// under `two_queries` when `jobs` is the default, the DLQ queries too.
    public func crashJobs(_ pipeline: PipelineSettings) -> [JobName] {
        pipeline.silverSinks == .twoQueries && jobs == JobName.allCases ? JobName.everyQuery : jobs
    }

    /// Every kind the explorer can draw, in a fixed order.
    public static let allKinds = ["crash", "late_backfill", "duplicates", "malformed", "slow_commits",
                                  "commit_failures", "spike", "outage", "schema_mix", "checkpoint_lost"]
    /// The kinds drawn when `kinds` is not given: all but `checkpoint_lost`,
    /// which breaks exactly-once whatever the code (a new query id defeats the
    /// sinks' batch-id check; `earliest` re-reads, `latest` skips), so it is
    /// explored only when asked for.
    public static let defaultKinds = allKinds.filter { $0 != "checkpoint_lost" }
    static let keys = ["kinds", "max_faults", "from", "until", "max_count", "max_for", "jobs"]

    static func parse(_ node: YAMLNode, duration: Micros, pipeline: PipelineSettings = PipelineSettings()) throws(InputError) -> ExploreSettings {
        var x = ExploreSettings()
        if case .scalar(let s) = node.node, s.string.isEmpty || s.string == "~" { return x }  // `explore:` alone
        let m = try node.mapping(allowed: keys)
        if let v = m["kinds"] {
            var kinds: [String] = []
            for k in try v.sequence() {
                let name = try k.string()
                guard allKinds.contains(name) else {
                    throw k.error("the explorer cannot draw '\(name)'" + YAMLNode.suggestion(name, allKinds))
                }
                if !kinds.contains(name) { kinds.append(name) }
            }
            guard !kinds.isEmpty else { throw v.error("list at least one fault kind") }
            x.kinds = allKinds.filter(kinds.contains)
        }
        if let v = m["max_faults"] { x.maxFaults = Int(try v.int(in: 1...20)) }
        if let v = m["max_count"] { x.maxCount = Int(try v.int(in: 1...10_000)) }
        if let v = m["max_for"] {
            let d = try v.duration()
            guard d >= Time.microsPerSecond, d <= duration else { throw v.error("must be between 1s and the duration") }
            x.maxForMicros = d
        }
        if let v = m["from"] {
            let d = try v.duration()
            guard d >= 0, d < duration else { throw v.error("must be within the duration") }
            x.fromMicros = d
        }
        if let v = m["until"] {
            let d = try v.duration()
            guard d > (x.fromMicros ?? 0), d <= duration else { throw v.error("must be after 'from' and within the duration") }
            x.untilMicros = d
        }
        if let v = m["jobs"] {
            var jobs: [JobName] = []
            for j in try v.sequence() {
                let name = try j.string()
                guard let job = JobName(rawValue: name) else {
                    throw j.error("unknown job '\(name)'" + YAMLNode.suggestion(name, JobName.allCases.map(\.rawValue)))
                }
                if job.isDlqQuery && pipeline.silverSinks != .twoQueries {
                    throw j.error(ScenarioParser.dlqQueryOnlyWithTwoQueries(job, pipeline.silverSinks))
                }
                if !jobs.contains(job) { jobs.append(job) }
            }
            guard !jobs.isEmpty else { throw v.error("list at least one job") }
            x.jobs = jobs.sorted()
        }
        return x
    }
}
