import Kernel

/// The verdict of one check, with the figures behind it.
public struct CheckResult: Sendable {
    public var name: String
    public var passed: Bool
    /// Sentences a reviewer can act on; the first says what failed.
    public var details: [String]

    public init(_ name: String, passed: Bool, details: [String] = []) {
        self.name = name; self.passed = passed; self.details = details
    }

    /// Builds a check from a list of problems: passes when there are none.
    /// At most `limit` problems are listed, with the count of the rest.
    public static func from(_ name: String, problems: [String], limit: Int = 8) -> CheckResult {
        var d = Array(problems.prefix(limit))
        if problems.count > limit { d.append("... and \(problems.count - limit) more") }
        return CheckResult(name, passed: problems.isEmpty, details: d)
    }

    public var json: JSONValue {
        .object(["name": .string(name), "passed": .bool(passed), "details": .array(details.map { .string($0) })])
    }
}

/// Nearest-rank percentile of integers (no interpolation, no floating point).
public func percentile(_ sorted: [Int64], _ p: Int) -> Int64? {
    guard !sorted.isEmpty else { return nil }
    let rank = (p * sorted.count + 99) / 100  // ceil(p/100 * n)
    return sorted[max(0, min(sorted.count - 1, rank - 1))]
}

/// Microseconds as milliseconds (floor), the unit of every figure in reports.
@inlinable func millis(fromMicros micros: Int64) -> Int64 { Time.floorDiv(micros, 1_000) }

/// `5.028s`, `-12.400s`: seconds with milliseconds, from integer micros.
public func formatSeconds(_ micros: Int64) -> String {
    let m = Time.floorDiv(micros, 1_000)
    let sign = m < 0 ? "-" : ""
    let a = m.magnitude
    let frac = String(a % 1_000)
    return "\(sign)\(a / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac + "s"
}
