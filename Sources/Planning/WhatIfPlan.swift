import Checks
import Engine
import Kernel
import Scenarios

/// What a sweep is, as written into every result file: enough to tell two
/// sweeps apart (so shards of different sweeps are never merged) and to
/// render the report, but nothing of the machine or the wall clock.
public struct SweepDefinition: Equatable, Sendable {
    /// The scenario file as given on the command line (for reproduce commands).
    public var scenarioFile: String
    public var scenarioName: String
    /// FNV-1a 64 of the scenario file's bytes: a shard run on another
    /// version of the file is a different sweep.
    public var scenarioDigest: String
    /// The `--profiles` folder, when one was named (the reproduce command names it too).
    public var profilesFolder: String?
    /// Every cost profile the points use, by name, with its file's digest.
    public var profileDigests: [String: String]
    /// `--set` overrides applied to every point, before the sweep's own.
    public var overrides: [String]
    public var sweeps: [Sweep]
    /// The headroom each job is held to in verdicts (jobs not named: none).
    public var headroomMicros: [JobName: Micros]
    /// The job whose batches the per-point charts show.
    public var chartJob: JobName

    public var points: [SweepPoint] { CartesianProduct.points(sweeps) }
    public var pointCount: Int { sweeps.reduce(1) { $0 * $1.values.count } }

    public var json: JSONValue {
        var scenario: [String: JSONValue] = ["file": .string(scenarioFile), "name": .string(scenarioName),
                                             "fnv1a64": .string(scenarioDigest)]
        if let profilesFolder { scenario["profiles_folder"] = .string(profilesFolder) }
        return .object([
            "scenario": .object(scenario),
            "profiles": .object(profileDigests.mapValues { .string($0) }),
            "overrides": .array(overrides.map { .string($0) }),
            "sweeps": .array(sweeps.map { .object(["key": .string($0.key), "values": .array($0.values.map { .string($0) })]) }),
            "headroom_ms": .object(Dictionary(uniqueKeysWithValues: headroomMicros.map { ($0.key.rawValue, JSONValue.int($0.value / 1_000)) })),
            "chart_job": .string(chartJob.rawValue),
            "points": .int(pointCount),
        ])
    }

    init(json v: JSONValue, file: String) throws(InputError) {
        let r = JSONFields(v, file: file, context: "plan")
        let scenario = try r.object("scenario")
        scenarioFile = try scenario.string("file")
        scenarioName = try scenario.string("name")
        scenarioDigest = try scenario.string("fnv1a64")
        profilesFolder = try scenario.optionalString("profiles_folder")
        var digests: [String: String] = [:]
        for (k, f) in try r.object("profiles").members() { digests[k] = try f.asString() }
        profileDigests = digests
        overrides = try r.array("overrides").map { f throws(InputError) in try f.asString() }
        sweeps = try r.array("sweeps").map { f throws(InputError) in
            Sweep(key: try f.string("key"), values: try f.array("values").map { g throws(InputError) in try g.asString() })
        }
        var headroom: [JobName: Micros] = [:]
        for (k, f) in try r.object("headroom_ms").members() {
            guard let job = JobName(rawValue: k) else { throw r.error("unknown job '\(k)' in headroom_ms") }
            headroom[job] = try f.asInt() * 1_000
        }
        headroomMicros = headroom
        guard let job = JobName(rawValue: try r.string("chart_job")) else { throw r.error("unknown chart_job") }
        chartJob = job
        if try r.int("points") != Int64(pointCount) { throw r.error("'points' does not match the sweeps") }
    }

    public init(scenarioFile: String, scenarioName: String, scenarioDigest: String, profilesFolder: String? = nil,
                profileDigests: [String: String], overrides: [String], sweeps: [Sweep], headroomMicros: [JobName: Micros],
                chartJob: JobName) {
        self.scenarioFile = scenarioFile; self.scenarioName = scenarioName; self.scenarioDigest = scenarioDigest
        self.profilesFolder = profilesFolder
        self.profileDigests = profileDigests; self.overrides = overrides; self.sweeps = sweeps
        self.headroomMicros = headroomMicros; self.chartJob = chartJob
    }

    /// The one command that reproduces a point: the scenario file, every
    /// override (the run's, then the point's) and the profiles folder when one was named.
    public func reproduceCommand(_ p: SweepPoint) -> String {
        (["medallion-sim", "run", scenarioFile] + (overrides + p.overrides).flatMap { ["--set", $0] }
            + (profilesFolder.map { ["--profiles", $0] } ?? [])).map(shellQuoted).joined(separator: " ")
    }
}

/// `--headroom 20s` or `--headroom JOB=20s` (repeatable).
public struct HeadroomOption: Equatable, Sendable {
    /// The bare duration: applies to every job whose trigger is swept, or,
    /// when no trigger is swept, to every job whose trigger exceeds it.
    public var defaultMicros: Micros
    public var perJob: [JobName: Micros]

    public static let standard = HeadroomOption(defaultMicros: 20 * Time.microsPerSecond, perJob: [:])

    public init(defaultMicros: Micros, perJob: [JobName: Micros]) {
        self.defaultMicros = defaultMicros; self.perJob = perJob
    }

    public static func parse(_ items: [String]) throws(InputError) -> HeadroomOption {
        var o = HeadroomOption.standard
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let durationText = parts.last ?? ""
            let micros: Micros
            do { micros = try DurationParser.parse(durationText) } catch {
                throw InputError(file: "--headroom", line: 0, problem: "'\(item)': \(error)")
            }
            guard micros >= 0 else { throw InputError(file: "--headroom", line: 0, problem: "'\(item)': negative") }
            if parts.count == 2 {
                guard let job = JobName(rawValue: parts[0]), !job.isDlqQuery else {  // judged: the five jobs
                    throw InputError(file: "--headroom", line: 0, problem: "'\(item)': unknown job '\(parts[0])' (jobs: \(JobName.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                o.perJob[job] = micros
            } else {
                o.defaultMicros = micros
            }
        }
        return o
    }

    /// The headroom each job is held to, for a sweep over `base`.
    public func resolve(sweeps: [Sweep], base: Scenario) -> [JobName: Micros] {
        let swept = Set(sweeps.compactMap(\.triggerJob).compactMap(JobName.init(rawValue:)))
        var out: [JobName: Micros] = [:]
        for job in JobName.allCases {
            if let m = perJob[job] { out[job] = m; continue }
            if swept.isEmpty {
                let trigger = base.jobs[job]?.triggerMicros ?? job.defaultTriggerMicros
                if trigger > defaultMicros { out[job] = defaultMicros }
            } else if swept.contains(job) {
                out[job] = defaultMicros
            }
        }
        return out
    }
}

/// A sweep ready to run: its definition, and each point's scenario parsed
/// and validated up front (a bad value stops everything before any work).
public struct WhatIfPlan: Sendable {
    public var definition: SweepDefinition
    public var points: [SweepPoint]
    /// The scenario of each point, by point index.
    public var scenarios: [Scenario]
    public var profiles: [String: CostProfile]

    public static func make(scenarioPath: String, overrides: [String] = [], sweeps: [Sweep],
                            headroom: HeadroomOption = .standard, chartJob: JobName? = nil,
                            profilesDirectory: String = "scenarios/profiles",
                            profilesFolderOption: String? = nil) throws(InputError) -> WhatIfPlan {
        var keys = Set<String>()
        for s in sweeps where !keys.insert(s.key).inserted {
            throw InputError(file: "--sweep", line: 0, problem: "'\(s.key)' is swept twice; give all its values in one --sweep")
        }
        for o in overrides {
            let key = String(o.prefix { $0 != "=" })
            if keys.contains(key) {
                throw InputError(file: "--set", line: 0, problem: "'\(key)' is both set and swept; drop one of them")
            }
        }
        guard CartesianProduct.count(sweeps) != nil else {
            throw InputError(file: "--sweep", line: 0, problem: "the sweeps make more than \(Sweep.maxPoints) points")
        }
        let text = try readTextFile(scenarioPath)
        let base = try ScenarioParser.load(path: scenarioPath, overrides: overrides)
        let points = CartesianProduct.points(sweeps)
        var scenarios: [Scenario] = []
        var profiles: [String: CostProfile] = [:]
        var digests: [String: String] = [:]
        for p in points {
            let s = try ScenarioParser.load(path: scenarioPath, overrides: overrides + p.overrides)
            if profiles[s.profile] == nil {
                let loaded = try ProfileLoader.loadWithSource(name: s.profile, directory: profilesDirectory)
                profiles[s.profile] = loaded.profile
                digests[s.profile] = loaded.source.map(fnv1a64Hex) ?? "built-in"
            }
            scenarios.append(s)
        }
        let chart = chartJob
            ?? sweeps.compactMap(\.triggerJob).compactMap(JobName.init(rawValue:)).first
            ?? .silverBinance
        let definition = SweepDefinition(
            scenarioFile: scenarioPath, scenarioName: base.name, scenarioDigest: fnv1a64Hex(Array(text.utf8)),
            profilesFolder: profilesFolderOption, profileDigests: digests, overrides: overrides, sweeps: sweeps,
            headroomMicros: headroom.resolve(sweeps: sweeps, base: base), chartJob: chart)
        return WhatIfPlan(definition: definition, points: points, scenarios: scenarios, profiles: profiles)
    }
}

/// FNV-1a 64 of bytes, as 16 lower-case hex digits.
public func fnv1a64Hex(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
