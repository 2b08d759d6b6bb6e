#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Engine
import Kernel

/// Reads cost profiles, `<profiles folder>/<name>.yaml` (see the comments in
/// `scenarios/profiles/production.yaml` for the model). Strict like scenario
/// files: every job must be present, every key known. The `production`
/// profile is built in (`CostProfile.production`): a run needs no file for it,
/// and a `production.yaml` in the folder, when there is one, takes its place.
public enum ProfileLoader {
    static let keys = ["startup", "batch_overhead", "decode_per_record", "validate_per_record", "write_per_record",
                       "executor_cores", "commit_latency_median", "commit_latency_sigma", "commit_latency_max",
                       "state_bytes_per_key", "executor_memory_mib", "restart_delay"]
    /// Optional (0 when absent): work more cores do not speed up, and the
    /// state-size effect. `calibrate` writes them.
    static let optionalKeys = ["io_read_per_record", "io_write_per_record", "state_per_million_keys"]

    /// The profile `name` from `directory`, or the built-in one.
    public static func load(name: String, directory: String = "scenarios/profiles") throws(InputError) -> CostProfile {
        try loadWithSource(name: name, directory: directory).profile
    }

    /// The profile and the bytes of the file it came from (nil for the built-in profile).
    public static func loadWithSource(name: String, directory: String) throws(InputError) -> (profile: CostProfile, source: [UInt8]?) {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw InputError(file: directory, line: 0, problem: "invalid profile name '\(name)'")
        }
        let path = "\(directory)/\(name).yaml"
        if name == CostProfile.production.name && access(path, F_OK) != 0 { return (.production, nil) }
        let text = try readTextFile(path)
        return (try parse(text, file: path), Array(text.utf8))
    }

    public static func parse(_ text: String, file: String) throws(InputError) -> CostProfile {
        let root = try YAMLNode.parse(text, file: file)
        let m = try root.mapping(allowed: ["name", "jobs"])
        let name = try m.required("name").string()
        let jobsNode = try m.required("jobs")
        var jobs: [JobName: JobProfile] = [:]
        for (key, node) in try jobsNode.freeMapping() {
            // A two_queries DLQ query has its Silver job's profile (one application): not a key here.
            guard let job = JobName(rawValue: key), !job.isDlqQuery else {
                throw node.error("unknown job '\(key)'" + YAMLNode.suggestion(key, JobName.allCases.map(\.rawValue)))
            }
            jobs[job] = try jobProfile(node)
        }
        for job in JobName.allCases where jobs[job] == nil {
            throw jobsNode.error("missing job '\(job.rawValue)' (a profile lists all five jobs)")
        }
        return CostProfile(name: name, jobs: jobs)
    }

    static func jobProfile(_ node: YAMLNode) throws(InputError) -> JobProfile {
        let m = try node.mapping(allowed: keys + optionalKeys)
        for k in keys where m[k] == nil { throw node.error("missing '\(k)'") }
        // Every duration is bounded, so these products cannot overflow.
        func nanos(_ k: String) throws(InputError) -> Int64 { try m.required(k).duration(atMost: Limits.maxPerRecord) * 1_000 }
        func latency(_ k: String) throws(InputError) -> Micros { try m.required(k).duration(atMost: Limits.maxProfileLatency) }
        let sigmaNode = try m.required("commit_latency_sigma")
        let sigma = try sigmaNode.decimal()
        guard sigma.units >= 0 && sigma.units <= 5 * Decimal8.unitsPerWhole else { throw sigmaNode.error("must be in [0, 5]") }
        func optionalMicros(_ k: String, atMost max: Micros) throws(InputError) -> Int64 { try m[k]?.duration(atMost: max) ?? 0 }
        var p = JobProfile(
            startupMicros: try latency("startup"),
            batchOverheadMicros: try latency("batch_overhead"),
            decodeNanosPerRecord: try nanos("decode_per_record"),
            validateNanosPerRecord: try nanos("validate_per_record"),
            writeNanosPerRecord: try nanos("write_per_record"),
            executorCores: Int(try m.required("executor_cores").int(in: 1...1024)),
            commitLatency: CommitLatency(
                medianMicros: try latency("commit_latency_median"),
                sigma: Double(sigma.units) / Double(Decimal8.unitsPerWhole),
                maxMicros: try latency("commit_latency_max")),
            stateBytesPerKey: try m.required("state_bytes_per_key").int(in: 0...1_000_000),
            executorMemoryBytes: try m.required("executor_memory_mib").int(in: 1...16_777_216) * 1_048_576,
            restartDelayMicros: try latency("restart_delay"))
        p.ioReadNanosPerRecord = try optionalMicros("io_read_per_record", atMost: Limits.maxPerRecord) * 1_000
        p.ioWriteNanosPerRecord = try optionalMicros("io_write_per_record", atMost: Limits.maxPerRecord) * 1_000
        p.statePerMillionKeysMicros = try optionalMicros("state_per_million_keys", atMost: Limits.maxProfileLatency)
        return p
    }
}
