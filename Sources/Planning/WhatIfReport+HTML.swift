import Checks
import Engine
import Kernel

extension WhatIfReport {
    /// One self-contained page (no scripts, no external files): the summary
    /// and points tables, recommendations, two overview charts across the
    /// sweep, and per point four charts over virtual time. XHTML-compatible
    /// (well-formed XML), integers only in coordinates: the same results
    /// always give the same bytes.
    public var html: String {
        let d = definition
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        h += "<title>What-if: \(escapeXML(d.scenarioName))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        h += "<h1>What-if: \(escapeXML(d.scenarioName))</h1>\n"
        h += "<p>Scenario <code>\(escapeXML(d.scenarioFile))</code> (fnv1a64 \(d.scenarioDigest))"
        if !d.overrides.isEmpty { h += " with " + d.overrides.map { "<code>--set \(escapeXML($0))</code>" }.joined(separator: " ") }
        h += "; \(d.pointCount) point\(d.pointCount == 1 ? "" : "s")"
        if !complete { h += " (this shard: \(points.count))" }
        h += ".</p>\n"
        if !d.sweeps.isEmpty {
            h += "<p>Sweeps (the first varies slowest):</p>\n<ul>\n"
            for s in d.sweeps { h += "<li><code>\(escapeXML(s.key))</code>: \(escapeXML(s.values.joined(separator: ", ")))</li>\n" }
            h += "</ul>\n"
        }
        let held = JobName.allCases.compactMap { j in d.headroomMicros[j].map { "\(j.rawValue) &gt;= \(DurationParser.format($0))" } }
        h += "<p>Headroom held: \(held.isEmpty ? "none" : held.joined(separator: ", ")). SLAs: Silver latency p99 &lt; \(DurationParser.format(Oracle.silverLatencySLAMicros)), end-to-end p99 &lt; \(DurationParser.format(Oracle.endToEndSLAMicros)). "
        h += "Verdicts, best to worst: <span class=\"v-ok\">ok</span>, <span class=\"v-tight\">tight</span> (less headroom than held), <span class=\"v-behind\">behind</span> (batches behind after start-up), <span class=\"v-sla_breach\">sla_breach</span>, <span class=\"v-unsustainable\">unsustainable</span> (backlog keeps growing).</p>\n"

        if !recommendations.isEmpty {
            h += "<h2>Recommendations</h2>\n<ul>\n"
            for r in recommendations { h += "<li>\(escapeXML(r.sentence))</li>\n" }
            h += "</ul>\n"
        }

        if complete && !d.sweeps.isEmpty {
            h += "<h2>Across the sweep: \(escapeXML(d.chartJob.rawValue))</h2>\n<div class=\"charts\">\n"
            h += overviewChart(processing: true).svg + "\n" + overviewChart(processing: false).svg + "\n</div>\n"
        }

        h += "<h2>Points</h2>\n<table>\n<thead><tr><th>#</th>"
        for s in d.sweeps { h += "<th>\(escapeXML(s.key))</th>" }
        h += "<th>verdict</th><th>\(escapeXML(d.chartJob.rawValue)) p50</th><th>min headroom</th><th>behind</th><th>Silver p99</th><th>e2e p99</th><th>alert</th><th>dedup state fills memory in</th><th>why</th></tr></thead>\n<tbody>\n"
        for (p, a) in zip(points, assessments) {
            let j = p.jobs[d.chartJob]
            h += "<tr><td class=\"n\"><a href=\"#point-\(p.index)\">\(p.index)</a></td>"
            for v in point(p).assignments { h += "<td>\(escapeXML(v.value))</td>" }
            h += "<td class=\"v-\(a.verdict.rawValue)\">\(a.verdict.rawValue)</td>"
            h += "<td class=\"n\">\(j?.p50Ms.map(formatMs) ?? "-")</td><td class=\"n\">\(j?.minHeadroomMs.map(formatMs) ?? "-")</td>"
            h += "<td class=\"n\">\(j.map { String($0.batchesBehindAfterStartup) } ?? "-")</td>"
            h += "<td class=\"n\">\(p.silverP99Ms.map(formatMs) ?? "-")</td><td class=\"n\">\(p.endToEndP99Ms.map(formatMs) ?? "-")</td>"
            h += "<td>\(p.alertFired ? "fired" : "-")</td><td>\(escapeXML(stateText(p)))</td>"
            var reasons = a.reasons
            if !p.checksFailed.isEmpty { reasons.insert("CHECKS FAILED: " + p.checksFailed.joined(separator: ", "), at: 0) }
            h += "<td>\(escapeXML(reasons.joined(separator: "; ")))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        h += "<h2>Record latency p99: Kafka create time to each layer's commit</h2>\n<table>\n<thead><tr>"
        for c in recordLatencyRows()[0] { h += "<th>\(escapeXML(c))</th>" }
        h += "</tr></thead>\n<tbody>\n"
        for row in recordLatencyRows().dropFirst() {
            h += "<tr>" + row.map { "<td class=\"n\">\(escapeXML($0))</td>" }.joined() + "</tr>\n"
        }
        h += "</tbody>\n</table>\n"

        for (p, a) in zip(points, assessments) {
            let title = point(p).assignments.map(\.override).joined(separator: ", ")
            h += "<h3 id=\"point-\(p.index)\">Point \(p.index)\(title.isEmpty ? "" : ": " + escapeXML(title)) <span class=\"v-\(a.verdict.rawValue)\">\(a.verdict.rawValue)</span></h3>\n"
            h += "<p class=\"repro\"><code>\(escapeXML(d.reproduceCommand(point(p))))</code></p>\n"
            h += jobTable(p, a)
            h += "<div class=\"charts\">\n"
            for c in pointCharts(p) { h += c.svg + "\n" }
            h += "</div>\n"
        }
        h += "</body>\n</html>\n"
        return h
    }

    func stateText(_ p: PointResult) -> String {
        if let at = p.stateExhaustedAtMs { return "during the run (\(formatMs(at)))" }
        return p.stateExhaustionHours.map { "\($0) h" } ?? "-"
    }

    func jobTable(_ p: PointResult, _ a: PointAssessment) -> String {
        var h = "<table class=\"jobs\">\n<thead><tr><th>job</th><th>trigger</th><th>batches</th><th>p50</th><th>p99</th><th>max</th><th>min headroom</th><th>behind</th><th>backlog</th><th>verdict</th></tr></thead>\n<tbody>\n"
        for job in JobName.allCases {
            guard let j = p.jobs[job] else { continue }
            let v = a.jobVerdicts[job]?.rawValue ?? "ok"
            h += "<tr><td>\(job.rawValue)</td><td class=\"n\">\(DurationParser.format(j.triggerMs * 1_000))</td><td class=\"n\">\(j.batches)</td>"
            h += "<td class=\"n\">\(j.p50Ms.map(formatMs) ?? "-")</td><td class=\"n\">\(j.p99Ms.map(formatMs) ?? "-")</td><td class=\"n\">\(j.maxMs.map(formatMs) ?? "-")</td>"
            h += "<td class=\"n\">\(j.minHeadroomMs.map(formatMs) ?? "-")</td><td class=\"n\">\(j.batchesBehindAfterStartup)</td>"
            h += "<td>\(j.backlogGrowing ? "growing" : "steady")</td><td class=\"v-\(v)\">\(v)</td></tr>\n"
        }
        return h + "</tbody>\n</table>\n"
    }

    /// Across the sweep: the chart job's p50 processing time (against its
    /// trigger, dashed) or its min headroom (against the headroom held), with
    /// the last sweep on the x axis and one line per combination of the others.
    func overviewChart(processing: Bool) -> SVGChart {
        let d = definition
        let last = d.sweeps.last!
        let width = last.values.count
        var series: [SVGChart.Series] = []
        var k = 0, n = 0
        while k < points.count {
            let chunk = Array(points[k..<min(k + width, points.count)])
            let label = point(chunk[0]).assignments.dropLast().map(\.override).joined(separator: ", ")
            let color = SVGChart.palette[n % SVGChart.palette.count]
            var values: [(x: Int64, y: Int64)] = [], triggers: [(x: Int64, y: Int64)] = []
            for (i, p) in chunk.enumerated() {
                guard let j = p.jobs[d.chartJob] else { continue }
                if processing { if let v = j.p50Ms { values.append((Int64(i), v)) } }
                else if let v = j.minHeadroomMs { values.append((Int64(i), v)) }
                triggers.append((Int64(i), j.triggerMs))
            }
            series.append(.init(name: label.isEmpty ? (processing ? "p50" : "min headroom") : label, color: color, points: values, dots: true))
            if processing {
                series.append(.init(name: "", color: color, points: triggers, dashed: true))
            }
            k += width; n += 1
        }
        var rules: [SVGChart.Rule] = []
        if !processing {
            rules.append(.init(y: 0, label: "0: behind below", color: "#d62728", dash: "2 2"))
            if let need = d.headroomMicros[d.chartJob] {
                rules.append(.init(y: need / 1_000, label: "headroom held \(formatMs(need / 1_000))", color: "#2ca02c"))
            }
        }
        return SVGChart(
            title: processing ? "\(d.chartJob.rawValue): p50 processing time per batch (dashed: trigger)"
                              : "\(d.chartJob.rawValue): min headroom after start-up",
            xLabel: last.key, yLabel: processing ? "processing time" : "headroom",
            series: series, rules: rules, yFormat: formatAxisMs,
            xTicks: last.values.enumerated().map { (Int64($0.offset), $0.element) }, xIsTime: false, yIsTime: true)
    }

    /// Four charts over virtual time for one point.
    func pointCharts(_ p: PointResult) -> [SVGChart] {
        let d = definition
        let job = d.chartJob
        let offset: (Int64) -> String = { DurationParser.format($0 * 1_000) }
        var charts: [SVGChart] = []
        if let j = p.jobs[job] {
            let pts = j.batchSeries.map { (x: $0.startMs, y: $0.processingMs) }
            let behind = j.batchSeries.filter { $0.processingMs > j.triggerMs }.map { (x: $0.startMs, y: $0.processingMs) }
            var rules = [SVGChart.Rule(y: j.triggerMs, label: "trigger \(DurationParser.format(j.triggerMs * 1_000))", color: "#d62728")]
            if let need = d.headroomMicros[job].map({ $0 / 1_000 }), need > 0, need < j.triggerMs {
                rules.append(.init(y: j.triggerMs - need, label: "trigger - headroom \(formatMs(need))", color: "#2ca02c", dash: "2 3"))
            }
            charts.append(SVGChart(
                title: "\(job.rawValue): processing time per batch", xLabel: "virtual time since start", yLabel: "processing time",
                series: [.init(name: "processing", color: SVGChart.palette[0], points: pts, dots: true, highlighted: behind)],
                rules: rules, yFormat: formatAxisMs, xFormat: offset,
                note: "red: batch took longer than the trigger (\(behind.count) of \(pts.count))", yIsTime: true))
            charts.append(SVGChart(
                title: "\(job.rawValue): backlog (rows read per batch)", xLabel: "virtual time since start", yLabel: "rows per batch",
                series: [.init(name: "rows", color: SVGChart.palette[1], points: j.batchSeries.map { (x: $0.startMs, y: $0.rows) }, dots: true)],
                yFormat: formatCount, xFormat: offset,
                note: j.backlogGrowing ? "backlog keeps growing: unsustainable" : "backlog steady"))
        }
        charts.append(SVGChart(
            title: "Gold watermark lag (batch start - watermark)", xLabel: "virtual time since start", yLabel: "lag",
            series: [.init(name: "lag", color: SVGChart.palette[2], points: p.watermarkLag.map { (x: $0.startMs, y: $0.lagMs) }, dots: true)],
            yFormat: formatAxisMs, xFormat: offset, yIsTime: true))
        let bytes = p.stateSeries.map { (x: $0.startMs, y: $0.keys * p.stateBytesPerKey) }
        let maxBytes = bytes.map(\.y).max() ?? 0
        var stateRules: [SVGChart.Rule] = []
        // Draw executor memory only when it is on the same scale as the state.
        if maxBytes * 10 >= p.executorMemoryBytes {
            stateRules.append(.init(y: p.executorMemoryBytes, label: "executor memory \(formatBytes(p.executorMemoryBytes))", color: "#d62728"))
        }
        charts.append(SVGChart(
            title: "Gold dedup state (never evicted)", xLabel: "virtual time since start", yLabel: "state size",
            series: [.init(name: "state", color: SVGChart.palette[3], points: bytes, dots: false)],
            rules: stateRules, yFormat: formatBytes, xFormat: offset,
            note: "executor memory \(formatBytes(p.executorMemoryBytes)); full: \(stateText(p))", yIsBytes: true))
        return charts
    }

    static let css = """
    body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1900px; }
    h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; } h3 { font-size: 15px; margin-top: 26px; border-top: 1px solid #ddd; padding-top: 12px; }
    table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
    th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; }
    th { background: #f3f3f3; }
    td.n { text-align: right; font-variant-numeric: tabular-nums; }
    .v-ok { background: #d9f2d9; } .v-tight { background: #fff3c4; } .v-behind { background: #ffd8b0; }
    .v-sla_breach { background: #ffc2c2; } .v-unsustainable { background: #e89090; }
    span.v-ok, span.v-tight, span.v-behind, span.v-sla_breach, span.v-unsustainable { padding: 1px 5px; border-radius: 3px; }
    .charts { display: flex; flex-wrap: wrap; gap: 10px; }
    svg.chart { border: 1px solid #ddd; }
    svg .ct { font-size: 12px; font-weight: bold; fill: #222; }
    svg .cn { font-size: 10px; fill: #666; }
    svg .tick { font-size: 10px; fill: #444; }
    svg .lbl { font-size: 11px; fill: #333; }
    svg .leg { font-size: 10px; fill: #333; }
    svg .rule { font-size: 10px; }
    svg .grid { stroke: #eee; stroke-width: 1; }
    svg .axis { stroke: #888; stroke-width: 1; }
    p.repro code { font-size: 12px; color: #555; }

    """
}
