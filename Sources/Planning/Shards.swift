import Kernel
import Scenarios

/// Which points one process runs: those with `index % count == index`.
public struct ShardSelection: Equatable, Sendable {
    public var index: Int
    public var count: Int
    /// Where the runner that started us wants to learn that we shard
    /// (Bazel's `TEST_SHARD_STATUS_FILE`): touch it.
    public var statusFile: String?
    /// Which option or variables chose this shard, for messages.
    public var source: String

    public static let whole = ShardSelection(index: 0, count: 1, statusFile: nil, source: "unsharded")

    public init(index: Int, count: Int, statusFile: String? = nil, source: String) {
        self.index = index; self.count = count; self.statusFile = statusFile; self.source = source
    }

    public func contains(_ pointIndex: Int) -> Bool { pointIndex % count == index }

    /// The variable that gives a Kubernetes indexed job's shard count (the
    /// job's `completions`), when `--shards` is not given.
    public static let shardsVariable = "MEDALLION_SIM_SHARDS"

    /// The shard, from (in order of precedence) `--shard I/N`; Bazel's
    /// `TEST_SHARD_INDEX` and `TEST_TOTAL_SHARDS`; a Kubernetes indexed
    /// job's `JOB_COMPLETION_INDEX` with `--shards N` or `MEDALLION_SIM_SHARDS`.
    /// Without any of them, the whole sweep.
    public static func resolve(option: String?, shards: Int?, environment env: [String: String]) throws(InputError) -> ShardSelection {
        func bad(_ source: String, _ problem: String) -> InputError { InputError(file: source, line: 0, problem: problem) }
        func check(_ i: Int, _ n: Int, _ source: String) throws(InputError) {
            guard n >= 1 else { throw bad(source, "the shard count must be at least 1, got \(n)") }
            guard i >= 0 && i < n else { throw bad(source, "shard index \(i) is not in 0..<\(n)") }
        }
        if let option {
            let parts = option.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
                throw bad("--shard", "'\(option)' is not I/N (e.g. 0/4: the first of four shards)")
            }
            try check(i, n, "--shard")
            return ShardSelection(index: i, count: n, statusFile: nil, source: "--shard \(option)")
        }
        if let iText = env["TEST_SHARD_INDEX"] {
            guard let i = Int(iText) else { throw bad("TEST_SHARD_INDEX", "'\(iText)' is not an integer") }
            guard let nText = env["TEST_TOTAL_SHARDS"] else { throw bad("TEST_TOTAL_SHARDS", "TEST_SHARD_INDEX is set but TEST_TOTAL_SHARDS is not") }
            guard let n = Int(nText) else { throw bad("TEST_TOTAL_SHARDS", "'\(nText)' is not an integer") }
            try check(i, n, "TEST_SHARD_INDEX")
            let status = env["TEST_SHARD_STATUS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            return ShardSelection(index: i, count: n, statusFile: status, source: "TEST_SHARD_INDEX=\(i) TEST_TOTAL_SHARDS=\(n)")
        }
        if let iText = env["JOB_COMPLETION_INDEX"] {
            guard let i = Int(iText) else { throw bad("JOB_COMPLETION_INDEX", "'\(iText)' is not an integer") }
            let n: Int
            if let shards { n = shards } else if let nText = env[shardsVariable] {
                guard let v = Int(nText) else { throw bad(shardsVariable, "'\(nText)' is not an integer") }
                n = v
            } else {
                throw bad("JOB_COMPLETION_INDEX", "set, but the shard count is unknown: pass --shards N or set \(shardsVariable) to the job's completions")
            }
            try check(i, n, "JOB_COMPLETION_INDEX")
            return ShardSelection(index: i, count: n, statusFile: nil, source: "JOB_COMPLETION_INDEX=\(i) of \(n)")
        }
        if let shards {
            throw bad("--shards", "--shards \(shards) needs JOB_COMPLETION_INDEX (or use --shard I/N)")
        }
        return .whole
    }
}

/// The results of some points of a sweep: what one shard (or a whole run)
/// writes, and what `whatif-merge` reads.
public struct WhatIfResults: Equatable, Sendable {
    public static let formatName = "medallion-sim/whatif-results/1"

    public var definition: SweepDefinition
    public var shard: ShardSelection
    /// By point index, ascending.
    public var points: [PointResult]

    public init(definition: SweepDefinition, shard: ShardSelection, points: [PointResult]) {
        self.definition = definition; self.shard = shard; self.points = points.sorted { $0.index < $1.index }
    }

    public var fileName: String { "whatif-shard-\(shard.index)-of-\(shard.count).json" }

    public var json: JSONValue {
        .object([
            "format": .string(Self.formatName),
            "plan": definition.json,
            "shard": .object(["index": .int(shard.index), "count": .int(shard.count)]),
            "points": .array(points.map(\.json)),
        ])
    }

    public static func read(path: String) throws(InputError) -> WhatIfResults {
        try parse(try readTextFile(path), file: path)
    }

    public static func parse(_ text: String, file: String) throws(InputError) -> WhatIfResults {
        let v = try JSONReader.parse(text, file: file)
        let r = JSONFields(v, file: file, context: "results")
        let format = (try? r.string("format")) ?? "?"
        guard format == formatName else {
            throw InputError(file: file, line: 0, problem: "not a what-if results file (format '\(format)', expected '\(formatName)')")
        }
        let definition = try SweepDefinition(json: try r.field("plan"), file: file)
        let s = try r.object("shard")
        let shard = ShardSelection(index: Int(try s.int("index")), count: Int(try s.int("count")), source: file)
        let points = try r.array("points").map { p throws(InputError) in try PointResult(json: p.value, file: file) }
        let expected = definition.points
        for p in points {
            guard p.index >= 0 && p.index < expected.count else {
                throw InputError(file: file, line: 0, problem: "point \(p.index) is outside the sweep's \(expected.count) points")
            }
            guard p.overrides == expected[p.index].overrides else {
                throw InputError(file: file, line: 0, problem: "point \(p.index) has overrides \(p.overrides), the sweep says \(expected[p.index].overrides)")
            }
        }
        return WhatIfResults(definition: definition, shard: shard, points: points)
    }

    /// Merges shards into the whole sweep. Refuses (with a message naming
    /// the files) results of different sweeps, duplicate points and
    /// missing points: a merged report is complete or not made at all.
    public static func merge(_ parts: [(file: String, results: WhatIfResults)]) throws(InputError) -> WhatIfResults {
        guard let first = parts.first else {
            throw InputError(file: "whatif-merge", line: 0, problem: "no result files given")
        }
        for p in parts.dropFirst() where p.results.definition != first.results.definition {
            let a = first.results.definition.json, b = p.results.definition.json
            var differing: [String] = []
            if case .object(let x) = a, case .object(let y) = b {
                for k in Set(x.keys).union(y.keys).sorted() where x[k] != y[k] { differing.append(k) }
            }
            throw InputError(file: p.file, line: 0, problem: "is from a different sweep than \(first.file) (differs in: \(differing.joined(separator: ", "))); merge only the shards of one run")
        }
        let total = first.results.definition.pointCount
        var owner = [String?](repeating: nil, count: total)
        var points: [PointResult] = []
        for p in parts {
            for r in p.results.points {
                if let other = owner[r.index] {
                    throw InputError(file: p.file, line: 0, problem: "point \(r.index) is also in \(other); each point must come from exactly one shard")
                }
                owner[r.index] = p.file
                points.append(r)
            }
        }
        let missing = owner.indices.filter { owner[$0] == nil }
        if !missing.isEmpty {
            let shown = missing.prefix(20).map(String.init).joined(separator: ", ")
            throw InputError(file: "whatif-merge", line: 0, problem: "\(missing.count) of \(total) points are missing (\(shown)\(missing.count > 20 ? ", ..." : "")); is a shard's file missing?")
        }
        return WhatIfResults(definition: first.results.definition, shard: .whole, points: points)
    }

    /// True when every point of the sweep is here.
    public var isComplete: Bool { points.count == definition.pointCount }
}
