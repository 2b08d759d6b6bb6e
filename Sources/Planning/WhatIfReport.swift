import Checks
import Engine
import Kernel

/// The report of a sweep: a function of its definition and its points'
/// results only, so a merge of shards renders the same bytes as the whole
/// run. Text is GitHub markdown (pasteable into the README), JSON is
/// canonical (sorted keys), HTML is one self-contained page.
public struct WhatIfReport: Sendable {
    public var definition: SweepDefinition
    /// By point index, ascending. May be a subset (a shard's) when `complete` is false.
    public var points: [PointResult]
    public var assessments: [PointAssessment]
    public var recommendations: [Recommendation]

    public init(_ results: WhatIfResults) {
        definition = results.definition
        points = results.points.sorted { $0.index < $1.index }
        assessments = points.map { PointAssessment($0, headroomMicros: results.definition.headroomMicros) }
        recommendations = results.isComplete ? Recommendation.compute(definition, points, assessments) : []
    }

    public var complete: Bool { points.count == definition.pointCount }

    /// Points whose correctness checks failed (exit status 1).
    public var pointsWithFailedChecks: [Int] { points.filter { !$0.checksFailed.isEmpty }.map(\.index) }

    func point(_ p: PointResult) -> SweepPoint { definition.points[p.index] }

    // MARK: JSON

    /// The report without the per-batch series (those are in the result files).
    public var json: JSONValue {
        var pts: [JSONValue] = []
        for (p, a) in zip(points, assessments) {
            guard case .object(var o) = p.json else { continue }
            o["gold_watermark_lag_series"] = nil
            o["dedup_state_series"] = nil
            if case .object(var jobs)? = o["jobs"] {
                for (k, v) in jobs {
                    guard case .object(var j) = v else { continue }
                    j["batch_series"] = nil
                    if let job = JobName(rawValue: k), let verdict = a.jobVerdicts[job] { j["verdict"] = .string(verdict.rawValue) }
                    jobs[k] = .object(j)
                }
                o["jobs"] = .object(jobs)
            }
            o["set"] = .object(Dictionary(uniqueKeysWithValues: point(p).assignments.map { ($0.key, JSONValue.string($0.value)) }))
            o["verdict"] = .string(a.verdict.rawValue)
            o["reasons"] = .array(a.reasons.map { .string($0) })
            o["sla_holds"] = .bool(p.slaHolds)
            o["reproduce"] = .string(definition.reproduceCommand(point(p)))
            pts.append(.object(o))
        }
        return .object([
            "plan": definition.json,
            "complete": .bool(complete),
            "sla_targets_ms": .object(["silver_p99": .int(Oracle.silverLatencySLAMicros / 1_000),
                                       "end_to_end_p99": .int(Oracle.endToEndSLAMicros / 1_000)]),
            "points": .array(pts),
            "recommendations": .array(recommendations.map(\.json)),
            "points_with_failed_checks": .array(pointsWithFailedChecks.map { .int($0) }),
        ])
    }

    // MARK: Text (GitHub markdown)

    public var text: String {
        let d = definition
        var out = "# What-if: \(d.scenarioName)\n\n"
        out += "Scenario `\(d.scenarioFile)` (fnv1a64 \(d.scenarioDigest))"
        if !d.overrides.isEmpty { out += " with " + d.overrides.map { "`--set \($0)`" }.joined(separator: " ") }
        out += "; \(d.pointCount) point\(d.pointCount == 1 ? "" : "s")"
        if !complete { out += " (this shard: \(points.count))" }
        out += ".\n"
        if !d.sweeps.isEmpty {
            out += "Sweeps, first varies slowest:\n\n"
            for s in d.sweeps { out += "- `\(s.key)`: \(s.values.joined(separator: ", "))\n" }
        }
        let held = JobName.allCases.compactMap { j in d.headroomMicros[j].map { "\(j.rawValue) >= \(DurationParser.format($0))" } }
        out += "\nHeadroom held: \(held.isEmpty ? "none" : held.joined(separator: ", ")). "
        out += "SLAs: Silver latency p99 < \(DurationParser.format(Oracle.silverLatencySLAMicros)), end-to-end p99 < \(DurationParser.format(Oracle.endToEndSLAMicros)).\n"
        out += "Verdicts, best to worst: ok, tight (less headroom than held), behind (batches behind after start-up), sla_breach, unsustainable (backlog keeps growing).\n"

        if complete, let grid = gridTable() {
            out += "\n## \(d.chartJob.rawValue): p50 processing / min headroom / verdict\n\n" + grid
        }

        out += "\n## Points\n\n"
        var rows: [[String]] = [["#"] + d.sweeps.map(\.key) + ["verdict", "Silver p99", "e2e p99", "alert", "dedup state fills memory in", "why"]]
        for (p, a) in zip(points, assessments) {
            let state: String
            if let at = p.stateExhaustedAtMs { state = "during the run (\(formatMs(at)))" }
            else { state = p.stateExhaustionHours.map { "\($0) h" } ?? "-" }
            var reasons = a.reasons
            if !p.checksFailed.isEmpty { reasons.insert("CHECKS FAILED: " + p.checksFailed.joined(separator: ", "), at: 0) }
            rows.append([String(p.index)] + point(p).assignments.map(\.value) + [
                a.verdict.rawValue, p.silverP99Ms.map(formatMs) ?? "-", p.endToEndP99Ms.map(formatMs) ?? "-",
                p.alertFired ? "fired" : "-", state, reasons.isEmpty ? "-" : reasons.joined(separator: "; "),
            ])
        }
        out += markdownTable(rows, rightAligned: Set([0]))

        out += "\n## Jobs\n\n"
        var jobRows: [[String]] = [["#", "job", "trigger", "batches", "p50", "p99", "max", "min headroom", "behind", "backlog", "verdict"]]
        for (p, a) in zip(points, assessments) {
            for job in JobName.allCases {
                guard let j = p.jobs[job] else { continue }
                jobRows.append([
                    String(p.index), job.rawValue, DurationParser.format(j.triggerMs * 1_000), String(j.batches),
                    j.p50Ms.map(formatMs) ?? "-", j.p99Ms.map(formatMs) ?? "-", j.maxMs.map(formatMs) ?? "-",
                    j.minHeadroomMs.map(formatMs) ?? "-", String(j.batchesBehindAfterStartup),
                    j.backlogGrowing ? "growing" : "steady", a.jobVerdicts[job]?.rawValue ?? "-",
                ])
            }
        }
        out += markdownTable(jobRows, rightAligned: Set([0, 3, 4, 5, 6, 7, 8]))

        out += "\n## Record latency p99: Kafka create time to each layer's commit\n\n"
        out += markdownTable(recordLatencyRows(), rightAligned: Set(0...6))

        if !recommendations.isEmpty {
            out += "\n## Recommendations\n\n"
            for r in recommendations { out += "- \(r.sentence)\n" }
        } else if !complete {
            out += "\nRecommendations need every point: merge the shards with `medallion-sim whatif-merge`.\n"
        }
        let failing = pointsWithFailedChecks
        if !failing.isEmpty {
            out += "\nCorrectness checks failed at points \(failing.map(String.init).joined(separator: ", ")); reproduce with:\n\n"
            for p in points where !p.checksFailed.isEmpty { out += "    \(definition.reproduceCommand(point(p)))\n" }
        }
        return out
    }

    /// Rows: combinations of every sweep but the last; columns: the last
    /// sweep's values; cells: the chart job's p50, min headroom and verdict.
    func gridTable() -> String? {
        let d = definition
        guard let last = d.sweeps.last else { return nil }
        let rowKeys = d.sweeps.dropLast().map(\.key)
        var header = [rowKeys.isEmpty ? "" : rowKeys.joined(separator: ", ")]
        header[0] += " \\ " + last.key
        header += last.values
        var rows = [header]
        let width = last.values.count
        var k = 0
        while k < points.count {
            let chunk = points[k..<min(k + width, points.count)]
            let label = point(chunk.first!).assignments.dropLast().map(\.value).joined(separator: ", ")
            var row = [label.isEmpty ? "-" : label]
            for p in chunk {
                let j = p.jobs[d.chartJob]
                row.append("\(j?.p50Ms.map(formatMs) ?? "-") / \(j?.minHeadroomMs.map(formatMs) ?? "-") / \(assessments[p.index].verdict.rawValue)")
            }
            rows.append(row)
            k += width
        }
        return markdownTable(rows, rightAligned: [])
    }
}

/// A GitHub markdown table with columns padded to equal width (readable as
/// plain text too). Pipes inside cells are escaped.
func markdownTable(_ rows: [[String]], rightAligned: Set<Int>) -> String {
    guard let header = rows.first else { return "" }
    let cells = rows.map { $0.map { $0.replacingPipes() } }
    var widths = header.map { _ in 3 }
    for r in cells { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    func line(_ r: [String]) -> String {
        "| " + r.enumerated().map { i, c in
            let padding = String(repeating: " ", count: max(0, widths[i] - c.count))
            return rightAligned.contains(i) ? padding + c : c + padding
        }.joined(separator: " | ") + " |\n"
    }
    var out = line(cells[0])
    out += "|" + widths.enumerated().map { i, w in
        rightAligned.contains(i) ? " " + String(repeating: "-", count: w - 1) + ": " : " " + String(repeating: "-", count: w) + " "
    }.joined(separator: "|") + "|\n"
    for r in cells.dropFirst() { out += line(r) }
    return out
}

extension String {
    func replacingPipes() -> String {
        var s = ""
        for c in self { if c == "|" { s += "\\|" } else { s.append(c) } }
        return s
    }
}

extension WhatIfReport {
    static let latencyColumns: [(exchange: String, layer: String)] = [
        ("binance", "bronze"), ("binance", "silver"), ("binance", "gold"),
        ("kraken", "bronze"), ("kraken", "silver"), ("kraken", "gold"),
    ]

    /// Header and one row per point: per exchange, Bronze / Silver / Gold p99.
    func recordLatencyRows() -> [[String]] {
        var rows = [["#"] + Self.latencyColumns.map { "\($0.exchange) \($0.layer)" }]
        for p in points {
            rows.append([String(p.index)] + Self.latencyColumns.map { c in
                p.recordLatencyP99Ms[c.exchange]?[c.layer].map(formatMs) ?? "-"
            })
        }
        return rows
    }
}
