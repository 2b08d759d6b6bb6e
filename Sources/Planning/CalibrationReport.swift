import Checks
import Engine
import Kernel

/// How `calibrate` turns fitted per-row costs into a profile: the logs show
/// wall time per row on the cores the query had; they cannot tell CPU work
/// (which more cores divide) from I/O (which they do not).
public enum PerRowCost: String, Sendable, CaseIterable {
    /// Written as `io_read_per_record` / `io_write_per_record`: not divided by
    /// cores, so the profile reproduces the observed times whatever
    /// `executor_cores` says (the design record's Alternative A: I/O-bound).
    case io
    /// Written as `decode_per_record` / `write_per_record` multiplied by the
    /// cores, so that more cores make batches faster.
    case cpu
}

extension CalibrationResult {
    /// `base` with the fitted query's parameters in `job`'s place.
    public func profile(base: CostProfile, name: String, jobs: [String: JobName], perRow: PerRowCost,
                        cores: Int?) -> (CostProfile, [String]) {
        var p = base
        p.name = name
        var notes: [String] = []
        for f in fits {
            guard let job = jobs[f.name] else {
                notes.append("query '\(f.name)' is not mapped to a job (use --job \(f.name)=JOB); not written to the profile")
                continue
            }
            var j = p[job]
            if let c = cores { j.executorCores = c }
            func parameterMs(_ k: String) -> Double? { f.parameter(k)?.value }
            func micros(_ v: Double) -> Int64 { Int64(max(0, v * 1000).rounded()) }
            if let v = parameterMs("startup") { j.startupMicros = micros(v) }
            if let v = parameterMs("batch_overhead") { j.batchOverheadMicros = micros(v) }
            let read = parameterMs("per_row_read") ?? 0, written = parameterMs("per_row_written") ?? 0
            // µs resolution in the profile file: per-row costs in whole µs.
            let readNs = Int64(max(0, read * 1000).rounded()) * 1000, writtenNs = Int64(max(0, written * 1000).rounded()) * 1000
            j.decodeNanosPerRecord = 0; j.validateNanosPerRecord = 0; j.writeNanosPerRecord = 0
            j.ioReadNanosPerRecord = 0; j.ioWriteNanosPerRecord = 0
            switch perRow {
            case .io: j.ioReadNanosPerRecord = readNs; j.ioWriteNanosPerRecord = writtenNs
            case .cpu:
                j.decodeNanosPerRecord = readNs * Int64(j.executorCores)
                j.writeNanosPerRecord = writtenNs * Int64(j.executorCores)
            }
            j.statePerMillionKeysMicros = micros(parameterMs("per_million_state_keys") ?? 0)
            if let m = parameterMs("commit_median") {
                let sinks = job == .silverBinance || job == .silverKraken ? 2 : 1   // Silver commits its table and the DLQ
                j.commitLatency = CommitLatency(medianMicros: micros(m / Double(sinks)), sigma: min(5, ((parameterMs("commit_sigma") ?? 0) * 100).rounded() / 100),
                                                maxMicros: j.commitLatency.maxMicros)
            } else {
                j.commitLatency = CommitLatency(medianMicros: 0, sigma: 0, maxMicros: j.commitLatency.maxMicros)
                notes.append("\(f.name): no checkpoint commit times in the log; commits cost 0 (their time is in the overhead)")
            }
            p[job] = j
        }
        return (p, notes)
    }

    // MARK: Text

    public var text: String {
        var s = ""
        for f in fits {
            s += "Query \(f.name): \(f.batches) batches in \(f.runs) run\(f.runs == 1 ? "" : "s") from \(f.files.count) file\(f.files.count == 1 ? "" : "s")\n"
            for p in f.parameters {
                var line = "  " + p.label.padding(toLength: 56, withPad: " ", startingAt: 0)
                if let v = p.value {
                    line += Self.num(v) + (p.unit.isEmpty ? "" : " " + p.unit)
                    if let l = p.low, let h = p.high { line += "  (95% CI \(Self.num(l)) .. \(Self.num(h)))" }
                    if let n = p.note { line += "  [\(n)]" }
                } else {
                    line += "-  " + (p.note ?? "not fitted")
                }
                s += line + "\n"
            }
            if let r2 = f.rSquared, let rmse = f.rmseMs {
                s += "  fit: R^2 \(Self.num(r2, 3)), RMSE \(Self.num(rmse)) ms over the steady-state batches\n"
            }
            for n in f.notes { s += "  note: \(n)\n" }
        }
        for (name, count) in ignored {
            s += "Ignored query \(name): \(count) progress object\(count == 1 ? "" : "s") (not the query asked for)\n"
        }
        return s
    }

    static func num(_ v: Double, _ digits: Int = 2) -> String {
        guard v.isFinite else { return "n/a" }
        let a = abs(v)
        let d = a >= 100 ? 0 : a >= 1 ? digits : a >= 0.01 ? digits + 2 : 6
        return Calibrator.fmt(v, d).replacingOccurrences(of: "e-0", with: "e-")
    }

    // MARK: JSON

    public var json: JSONValue {
        func dbl(_ v: Double?) -> JSONValue {
            guard let v, v.isFinite else { return .null }
            return .number(SparkProgress.javaDouble((v * 1e6).rounded() / 1e6))
        }
        return .object([
            "queries": .array(fits.map { f in
                .object([
                    "name": .string(f.name), "files": .array(f.files.map { .string($0) }),
                    "batches": .int(f.batches), "runs": .int(f.runs), "idle_progress_ignored": .int(f.idleIgnored),
                    "r_squared": dbl(f.rSquared), "rmse_ms": dbl(f.rmseMs),
                    "parameters": .object(Dictionary(uniqueKeysWithValues: f.parameters.map { p in
                        (p.key, JSONValue.object([
                            "unit": .string(p.unit), "value": dbl(p.value), "ci95_low": dbl(p.low), "ci95_high": dbl(p.high),
                            "identifiable": .bool(p.value != nil), "note": .optional(p.note),
                        ]))
                    })),
                    "batches_fitted": .array(f.points.map { pt in
                        .object(["file": .string(pt.file), "batch_id": .int(pt.batchId), "startup": .bool(pt.startup),
                                 "observed_ms": dbl(pt.observedMs), "fitted_ms": dbl(pt.fittedMs)])
                    }),
                    "notes": .array(f.notes.map { .string($0) }),
                ])
            }),
            "ignored_queries": .array(ignored.map { .object(["name": .string($0.name), "progress_objects": .int($0.count)]) }),
        ])
    }

    // MARK: HTML

    public var html: String {
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        h += "<title>Calibration</title>\n<style>\n\(WhatIfReport.css)</style>\n</head>\n<body>\n<h1>Calibration from Spark progress</h1>\n"
        for f in fits {
            h += "<h2>Query \(escapeXML(f.name))</h2>\n<p>\(f.batches) batches, \(f.runs) runs, files: "
            h += f.files.map { "<code>\(escapeXML($0))</code>" }.joined(separator: ", ") + "</p>\n"
            h += "<table><tr><th>parameter</th><th>value</th><th>95% interval</th><th>note</th></tr>\n"
            for p in f.parameters {
                let v = p.value.map { Self.num($0) + " " + p.unit } ?? "-"
                let ci = p.low.flatMap { l in p.high.map { "\(Self.num(l)) .. \(Self.num($0))" } } ?? ""
                h += "<tr><td>\(escapeXML(p.label))</td><td>\(escapeXML(v))</td><td>\(escapeXML(ci))</td><td>\(escapeXML(p.note ?? ""))</td></tr>\n"
            }
            h += "</table>\n"
            if let r2 = f.rSquared, let rmse = f.rmseMs {
                h += "<p>R² \(Self.num(r2, 3)), RMSE \(Self.num(rmse)) ms (steady-state batches).</p>\n"
            }
            let observed = f.points.enumerated().map { (x: Int64($0.offset), y: Int64($0.element.observedMs.rounded())) }
            let fitted = f.points.enumerated().map { (x: Int64($0.offset), y: Int64($0.element.fittedMs.rounded())) }
            let residual = f.points.enumerated().map { (x: Int64($0.offset), y: Int64(($0.element.observedMs - $0.element.fittedMs).rounded())) }
            h += SVGChart(title: "\(f.name): batch duration, observed and fitted", xLabel: "batch (log order)", yLabel: "ms",
                          series: [SVGChart.Series(name: "observed", color: SVGChart.palette[0], points: observed, dots: true),
                                   SVGChart.Series(name: "fitted", color: SVGChart.palette[1], points: fitted, dashed: true)],
                          yFormat: { String($0) }, xIsTime: false).svg + "\n"
            h += SVGChart(title: "\(f.name): residual (observed - fitted)", xLabel: "batch (log order)", yLabel: "ms",
                          series: [SVGChart.Series(name: "residual", color: SVGChart.palette[3], points: residual, dots: true)],
                          rules: [SVGChart.Rule(y: 0, label: "0", color: "#888888")],
                          yFormat: { String($0) }, xIsTime: false).svg + "\n"
            for n in f.notes { h += "<p class=\"note\">\(escapeXML(n))</p>\n" }
        }
        for (name, count) in ignored { h += "<p>Ignored query <code>\(escapeXML(name))</code>: \(count) progress objects.</p>\n" }
        h += "</body>\n</html>\n"
        return h
    }
}
