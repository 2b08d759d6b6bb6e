import Kernel

/// One `--sweep KEY=V1,V2,...`: a scenario key (the dotted form `--set`
/// takes) and the values to try, in the order given.
public struct Sweep: Equatable, Sendable {
    public var key: String
    public var values: [String]

    public init(key: String, values: [String]) {
        self.key = key; self.values = values
    }

    /// At most this many values per sweep, and points per sweep in all
    /// (the cartesian product grows fast; a limit turns a typo into an error).
    public static let maxValues = 1_000
    public static let maxPoints = 10_000

    /// Parses `KEY=V1,V2,...`. Commas inside `[...]` or `{...}` belong to
    /// the value (`exchanges.binance.symbols=[BTCUSDT,ETHUSDT],[BTCUSDT]`).
    public static func parse(_ text: String) throws(InputError) -> Sweep {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw InputError(file: "--sweep", line: 0, problem: "'\(text)' is not KEY=V1,V2,... (e.g. jobs.silver_binance.trigger=30s,45s,60s)")
        }
        let key = String(text[..<eq]).trimmingSpaces()
        guard !key.isEmpty, key.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty }) else {
            throw InputError(file: "--sweep", line: 0, problem: "'\(text)': empty key")
        }
        var values: [String] = []
        var current = ""
        var depth = 0
        for c in text[text.index(after: eq)...] {
            switch c {
            case "[", "{": depth += 1; current.append(c)
            case "]", "}": depth -= 1; current.append(c)
            case "," where depth == 0: values.append(current.trimmingSpaces()); current = ""
            default: current.append(c)
            }
        }
        values.append(current.trimmingSpaces())
        guard depth == 0 else {
            throw InputError(file: "--sweep", line: 0, problem: "'\(text)': unbalanced brackets")
        }
        if let empty = values.firstIndex(where: \.isEmpty) {
            throw InputError(file: "--sweep", line: 0, problem: "'\(text)': value \(empty + 1) is empty")
        }
        var seen = Set<String>()
        for v in values where !seen.insert(v).inserted {
            throw InputError(file: "--sweep", line: 0, problem: "'\(text)': value '\(v)' is given twice")
        }
        guard values.count <= maxValues else {
            throw InputError(file: "--sweep", line: 0, problem: "'\(key)': \(values.count) values, at most \(maxValues)")
        }
        return Sweep(key: key, values: values)
    }

    /// The job whose trigger this sweep sets (`jobs.<job>.trigger`), if any.
    public var triggerJob: String? {
        let parts = key.split(separator: ".").map(String.init)
        return parts.count == 3 && parts[0] == "jobs" && parts[2] == "trigger" ? parts[1] : nil
    }

    /// True for `exchanges.<exchange>.rate_multiplier`: a traffic level.
    public var isTrafficLevel: Bool {
        let parts = key.split(separator: ".").map(String.init)
        return parts.count == 3 && parts[0] == "exchanges" && parts[2] == "rate_multiplier"
    }
}

/// One point of a sweep: its index in the cartesian product and the value
/// of each sweep there.
public struct SweepPoint: Equatable, Sendable {
    public var index: Int
    /// `(key, value)` in the order of the sweeps.
    public var assignments: [Assignment]

    public struct Assignment: Equatable, Sendable {
        public var key: String
        public var value: String
        public var override: String { "\(key)=\(value)" }
    }

    /// The `--set` overrides that make the scenario of this point.
    public var overrides: [String] { assignments.map(\.override) }

    public func value(of key: String) -> String? { assignments.first { $0.key == key }?.value }
}

public enum CartesianProduct {
    /// Every combination of the sweeps' values. The order is that of nested
    /// loops in command-line order: the **first** `--sweep` varies slowest,
    /// the **last** fastest, each sweep's values in the order given. Point
    /// `i` has the digits of `i` in the mixed radix of the value counts.
    /// With no sweeps there is one point: the scenario as it is.
    public static func points(_ sweeps: [Sweep]) -> [SweepPoint] {
        let count = sweeps.reduce(1) { $0 * $1.values.count }
        var out: [SweepPoint] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            var rest = index
            var digits = [Int](repeating: 0, count: sweeps.count)
            for k in stride(from: sweeps.count - 1, through: 0, by: -1) {
                digits[k] = rest % sweeps[k].values.count
                rest /= sweeps[k].values.count
            }
            out.append(SweepPoint(index: index, assignments: sweeps.enumerated().map {
                .init(key: $0.element.key, value: $0.element.values[digits[$0.offset]])
            }))
        }
        return out
    }

    /// The number of points, or nil when it exceeds `Sweep.maxPoints`.
    public static func count(_ sweeps: [Sweep]) -> Int? {
        var n = 1
        for s in sweeps {
            let (m, o) = n.multipliedReportingOverflow(by: s.values.count)
            guard !o, m <= Sweep.maxPoints else { return nil }
            n = m
        }
        return n
    }
}
