import Codec
import Foundation
import Kernel
import Scenarios

/// What a run leaves to compare: the summary and every table as JSON Lines,
/// rows already in their stable order.
public struct RunArtifacts: Sendable {
    public var summary: JSONValue
    /// (table name, rows as compact JSON), tables in name order.
    public var tables: [(name: String, rows: [String])]

    public init(summary: JSONValue, tables: [(name: String, rows: [String])]) {
        self.summary = summary
        self.tables = tables.sorted { $0.name < $1.name }
    }

    /// Writes `dir/summary.json` and `dir/tables/<table>.jsonl` (docs/REFERENCE.md §8 `--out`).
    public func write(to dir: String, compressTables: Bool = false) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/tables", withIntermediateDirectories: true)
        try Data(summary.pretty.utf8).write(to: URL(fileURLWithPath: dir + "/summary.json"))
        for t in tables {
            var text = t.rows.joined(separator: "\n")
            if !t.rows.isEmpty { text += "\n" }
            if compressTables {
                try ZstdFile.write(Array(text.utf8), to: dir + "/tables/\(t.name).jsonl.zst", level: 19)
            } else {
                try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/tables/\(t.name).jsonl"))
            }
        }
    }
}

/// One way a run differs from its golden files.
public struct GoldenDifference: Sendable, CustomStringConvertible {
    public var file: String
    public var lines: [String]
    public var description: String { ([file + ":"] + lines.map { "  " + $0 }).joined(separator: "\n") }
}

/// The golden files of one scenario: `golden/<name>/summary.json` and
/// `golden/<name>/tables/<table>.jsonl.zst`.
public struct GoldenStore: Sendable {
    public let root: String
    public init(root: String = "golden") { self.root = root }

    public func directory(for scenario: String) -> String { "\(root)/\(scenario)" }

    public func exists(_ scenario: String) -> Bool {
        recoverInterruptedBless(scenario)
        return FileManager.default.fileExists(atPath: directory(for: scenario) + "/summary.json")
    }

    /// Compares a run with its golden files. A missing golden is a difference
    /// (never silently created: only `bless` writes goldens); a corrupt one
    /// (unreadable, not UTF-8, not JSON) is bad input, an `InputError`.
    public func compare(_ run: RunArtifacts, scenario: String) throws(InputError) -> [GoldenDifference] {
        let dir = directory(for: scenario)
        guard exists(scenario) else {
            return [GoldenDifference(file: dir, lines: ["no golden files; review the run and create them with `medallion-sim bless \(scenario)`"])]
        }
        var diffs: [GoldenDifference] = []
        let summaryPath = dir + "/summary.json"
        let goldenBytes = try Self.readFile(summaryPath)
        let mine = run.summary.pretty
        if goldenBytes != Array(mine.utf8) {
            let golden = try Self.summaryText(goldenBytes, path: summaryPath)
            diffs.append(GoldenDifference(file: summaryPath, lines: LineDiff.describe(golden: golden, run: mine)))
        }
        let goldenTables = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/tables")) ?? [])
            .filter { $0.hasSuffix(".jsonl.zst") }.map { String($0.dropLast(".jsonl.zst".count)) }.sorted()
        for name in goldenTables where !run.tables.contains(where: { $0.name == name }) {
            diffs.append(GoldenDifference(file: "\(dir)/tables/\(name).jsonl.zst", lines: ["table not produced by this run"]))
        }
        for t in run.tables {
            let path = "\(dir)/tables/\(t.name).jsonl.zst"
            guard goldenTables.contains(t.name) else {
                diffs.append(GoldenDifference(file: path, lines: ["missing golden table (\(t.rows.count) rows in this run)"]))
                continue
            }
            let bytes: [UInt8]
            do { bytes = try ZstdFile.read(path, limit: Self.maxTableBytes) } catch {
                throw InputError(file: path, line: 0, problem: "corrupt golden table: \(error)")
            }
            let goldenRows = try Self.tableRows(bytes, path: path, checkRows: false)
            if goldenRows != t.rows {
                // Rows equal to the run's are well formed; others are checked,
                // so that a corrupt golden is told apart from a changed run.
                _ = try Self.tableRows(bytes, path: path, checkRows: true)
                diffs.append(GoldenDifference(file: path, lines: RowDiff.describe(golden: goldenRows, run: t.rows)))
            }
        }
        return diffs
    }

    /// Limits on golden files: a summary is a few KB, a table a few MB.
    public static let maxSummaryBytes = 64 << 20
    public static let maxTableBytes = 1 << 30

    static func readFile(_ path: String) throws(InputError) -> [UInt8] {
        try readFileBytes(path, maxBytes: maxSummaryBytes, cannotOpen: "cannot read the golden file",
                          tooLarge: "corrupt golden: more than the limit of \(maxSummaryBytes) bytes")
    }

    /// A golden summary's text: UTF-8 holding one JSON document.
    public static func summaryText(_ bytes: [UInt8], path: String) throws(InputError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputError(file: path, line: 0, problem: "corrupt golden: not UTF-8 text")
        }
        do { _ = try OrderedJSON.parse(text) } catch {
            throw InputError(file: path, line: 0, problem: "corrupt golden: not a JSON document (\(error))")
        }
        return text
    }

    /// A golden table's rows (decompressed): UTF-8 lines, each a JSON object.
    public static func tableRows(_ bytes: [UInt8], path: String, checkRows: Bool = true) throws(InputError) -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputError(file: path, line: 0, problem: "corrupt golden table: not UTF-8 text")
        }
        let rows = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        for (i, row) in rows.enumerated() where checkRows {
            let ok: Bool
            if case .object? = try? OrderedJSON.parse(row) { ok = true } else { ok = false }
            guard ok else { throw InputError(file: path, line: i + 1, problem: "corrupt golden table: the row is not a JSON object") }
        }
        return rows
    }

    /// Rewrites a scenario's goldens atomically: the new files are written to a
    /// temporary folder beside the old, then swapped in by two renames. An
    /// interrupted bless leaves either the old goldens or the new ones (a
    /// half-done swap is finished by the next `exists`/`bless`).
    public func bless(_ run: RunArtifacts, scenario: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        recoverInterruptedBless(scenario)
        let final = directory(for: scenario)
        let staging = "\(root)/.staging-\(scenario)"
        let old = "\(root)/.old-\(scenario)"
        try? fm.removeItem(atPath: staging)
        try run.write(to: staging, compressTables: true)
        if fm.fileExists(atPath: final) { try fm.moveItem(atPath: final, toPath: old) }
        try fm.moveItem(atPath: staging, toPath: final)
        try? fm.removeItem(atPath: old)
    }

    /// If a bless stopped between its two renames, put the old goldens back.
    func recoverInterruptedBless(_ scenario: String) {
        let fm = FileManager.default
        let final = directory(for: scenario), old = "\(root)/.old-\(scenario)"
        if !fm.fileExists(atPath: final) && fm.fileExists(atPath: old) {
            try? fm.moveItem(atPath: old, toPath: final)
        } else if fm.fileExists(atPath: final) && fm.fileExists(atPath: old) {
            try? fm.removeItem(atPath: old)
        }
        try? fm.removeItem(atPath: "\(root)/.staging-\(scenario)")
    }
}

/// A line diff of two pretty-printed JSON documents, each changed line shown
/// with the JSON path it sits under, so a reviewer sees which figure moved.
enum LineDiff {
    static func describe(golden: String, run: String, limit: Int = 20) -> [String] {
        let a = golden.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = run.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let ops = diff(a, b)
        var out: [String] = []
        for op in ops.prefix(limit) {
            switch op {
            case .removed(let i): out.append("golden \(path(a, i)): \(a[i].trimmingCharacters(in: .whitespaces))")
            case .added(let j): out.append("run    \(path(b, j)): \(b[j].trimmingCharacters(in: .whitespaces))")
            }
        }
        if ops.count > limit { out.append("... \(ops.count - limit) more changed lines") }
        return out
    }

    enum Op { case removed(Int), added(Int) }

    /// The standard library's diff (Myers), as changed lines in document
    /// order: within a change, the golden's lines before the run's.
    static func diff(_ a: [String], _ b: [String]) -> [Op] {
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in b.difference(from: a) {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var ops: [Op] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count && removed.contains(i) { ops.append(.removed(i)); i += 1 }
            else if j < b.count && inserted.contains(j) { ops.append(.added(j)); j += 1 }
            else { i += 1; j += 1 }
        }
        return ops
    }

    /// The dotted key path of line `i` in pretty JSON, from indentation.
    static func path(_ lines: [String], _ i: Int) -> String {
        func indent(_ s: String) -> Int { s.prefix { $0 == " " }.count }
        func key(_ s: String) -> String? {
            let t = s.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("\""), let end = t.dropFirst().firstIndex(of: "\"") else { return nil }
            return String(t[t.index(after: t.startIndex)..<end])
        }
        var parts: [String] = []
        if let k = key(lines[i]) { parts.append(k) }
        var level = indent(lines[i])
        var j = i - 1
        while j >= 0 && level > 0 {
            let l = indent(lines[j])
            if l < level { if let k = key(lines[j]) { parts.append(k) }; level = l }
            j -= 1
        }
        return parts.isEmpty ? "(top)" : parts.reversed().joined(separator: ".")
    }
}

/// Which rows a run lost or gained against the golden table, decoded as JSON.
enum RowDiff {
    static func describe(golden: [String], run: [String], limit: Int = 5) -> [String] {
        var out = ["golden has \(golden.count) rows, this run \(run.count)"]
        let g = golden.sorted(), r = run.sorted()
        var onlyGolden: [String] = [], onlyRun: [String] = []
        var i = 0, j = 0
        while i < g.count || j < r.count {
            if i < g.count && j < r.count && g[i] == r[j] { i += 1; j += 1 }
            else if j == r.count || (i < g.count && g[i] < r[j]) { onlyGolden.append(g[i]); i += 1 }
            else { onlyRun.append(r[j]); j += 1 }
        }
        if onlyGolden.isEmpty && onlyRun.isEmpty {
            out.append("same rows in another order (the row order must be stable)")
            if let k = zip(golden, run).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                out.append("first difference at row \(k + 1)")
            }
            return out
        }
        out.append("\(onlyGolden.count) golden rows are not in this run, \(onlyRun.count) rows of this run are not in the golden")
        for row in onlyGolden.prefix(limit) { out.append("- " + row) }
        if onlyGolden.count > limit { out.append("- ... \(onlyGolden.count - limit) more") }
        for row in onlyRun.prefix(limit) { out.append("+ " + row) }
        if onlyRun.count > limit { out.append("+ ... \(onlyRun.count - limit) more") }
        return out
    }
}
