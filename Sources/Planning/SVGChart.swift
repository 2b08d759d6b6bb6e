import Checks
import Kernel

/// A line chart as inline SVG, with integer coordinates only (the same
/// figures always give the same bytes). Well-formed XML, so the page that
/// holds it can be checked with an XML parser.
struct SVGChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Int64, y: Int64)]
        var dashed = false
        var dots = false
        /// Points drawn in red: batches behind their trigger.
        var highlighted: [(x: Int64, y: Int64)] = []
    }

    struct Rule {
        var y: Int64
        var label: String
        var color: String
        var dash = "6 4"
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var rules: [Rule] = []
    /// Formats a y value for the axis.
    var yFormat: (Int64) -> String
    /// Formats an x value for the axis; or categorical ticks.
    var xFormat: (Int64) -> String = { String($0) }
    var xTicks: [(x: Int64, label: String)]? = nil
    /// A line of small print under the title.
    var note: String? = nil
    /// Axes in milliseconds get ticks at whole seconds, minutes or hours.
    var xIsTime = true
    var yIsTime = false
    /// A y axis in bytes gets ticks at whole KiB or MiB.
    var yIsBytes = false

    static let width: Int64 = 460, height: Int64 = 250
    static let left: Int64 = 64, right: Int64 = 16, top: Int64 = 40, bottom: Int64 = 44
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#d62728"]

    var svg: String {
        let w = Self.width, h = Self.height
        let pw = w - Self.left - Self.right, ph = h - Self.top - Self.bottom
        let xs = series.flatMap { $0.points.map(\.x) } + (xTicks?.map(\.x) ?? [])
        let ys = series.flatMap { $0.points.map(\.y) } + rules.map(\.y)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\">"
        out += "<title>\(escapeXML(title))</title>"
        out += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>"
        out += "<text x=\"\(Self.left)\" y=\"16\" class=\"ct\">\(escapeXML(title))</text>"
        if let note { out += "<text x=\"\(Self.left)\" y=\"30\" class=\"cn\">\(escapeXML(note))</text>" }
        guard let xMinRaw = xs.min(), let xMaxRaw = xs.max() else {
            out += "<text x=\"\(w / 2)\" y=\"\(h / 2)\" text-anchor=\"middle\" class=\"cn\">no data</text></svg>"
            return out
        }
        let xMin = xMinRaw, xMax = xMaxRaw == xMinRaw ? xMinRaw + 1 : xMaxRaw
        let yMin = min(0, ys.min() ?? 0)
        let ySpan = max(ys.max() ?? 1, yMin + 1) - yMin
        let yTickStep: Int64
        if yIsTime { yTickStep = niceTimeStep(ySpan, ticks: 5) }
        else if yIsBytes {
            let unit: Int64 = ySpan >= 4 << 30 ? 1 << 30 : ySpan >= 4 << 20 ? 1 << 20 : ySpan >= 4 << 10 ? 1 << 10 : 1
            yTickStep = niceStep(ySpan / unit, ticks: 5) * unit
        } else { yTickStep = niceStep(ySpan, ticks: 5) }
        let yMax = ceilTo(max(ys.max() ?? 1, yMin + 1), yTickStep)
        let yLow = -ceilTo(-yMin, yTickStep)
        func px(_ x: Int64) -> Int64 { Self.left + (x - xMin) * pw / (xMax - xMin) }
        func py(_ y: Int64) -> Int64 { Self.top + ph - (y - yLow) * ph / (yMax - yLow) }

        // Grid and y axis.
        var y = yLow
        while y <= yMax {
            out += "<line x1=\"\(Self.left)\" y1=\"\(py(y))\" x2=\"\(w - Self.right)\" y2=\"\(py(y))\" class=\"grid\"/>"
            // Time ticks a whole number of minutes apart read as 2m, 4m, 1h30m; others as seconds.
            let label = yIsTime && yTickStep % 60_000 == 0 ? DurationParser.format(y * 1_000) : yFormat(y)
            out += "<text x=\"\(Self.left - 6)\" y=\"\(py(y) + 4)\" text-anchor=\"end\" class=\"tick\">\(escapeXML(label))</text>"
            y += yTickStep
        }
        // X axis ticks.
        let ticks: [(x: Int64, label: String)]
        if let xTicks { ticks = xTicks } else {
            let step = xIsTime ? niceTimeStep(xMax - xMin, ticks: 5) : niceStep(xMax - xMin, ticks: 5)
            var t = ceilTo(xMin, step)
            var list: [(Int64, String)] = []
            while t <= xMax { list.append((t, xFormat(t))); t += step }
            ticks = list
        }
        for t in ticks {
            out += "<line x1=\"\(px(t.x))\" y1=\"\(Self.top + ph)\" x2=\"\(px(t.x))\" y2=\"\(Self.top + ph + 4)\" class=\"axis\"/>"
            out += "<text x=\"\(px(t.x))\" y=\"\(Self.top + ph + 16)\" text-anchor=\"middle\" class=\"tick\">\(escapeXML(t.label))</text>"
        }
        out += "<line x1=\"\(Self.left)\" y1=\"\(Self.top)\" x2=\"\(Self.left)\" y2=\"\(Self.top + ph)\" class=\"axis\"/>"
        out += "<line x1=\"\(Self.left)\" y1=\"\(Self.top + ph)\" x2=\"\(w - Self.right)\" y2=\"\(Self.top + ph)\" class=\"axis\"/>"
        out += "<text x=\"\(Self.left + pw / 2)\" y=\"\(h - 6)\" text-anchor=\"middle\" class=\"lbl\">\(escapeXML(xLabel))</text>"
        out += "<text x=\"14\" y=\"\(Self.top + ph / 2)\" text-anchor=\"middle\" class=\"lbl\" transform=\"rotate(-90 14 \(Self.top + ph / 2))\">\(escapeXML(yLabel))</text>"

        // Rules (trigger lines, memory) behind the data.
        for r in rules {
            out += "<line x1=\"\(Self.left)\" y1=\"\(py(r.y))\" x2=\"\(w - Self.right)\" y2=\"\(py(r.y))\" stroke=\"\(r.color)\" stroke-width=\"1.5\" stroke-dasharray=\"\(r.dash)\"/>"
            out += "<text x=\"\(w - Self.right - 2)\" y=\"\(py(r.y) - 4)\" text-anchor=\"end\" class=\"rule\" fill=\"\(r.color)\">\(escapeXML(r.label))</text>"
        }
        // Data.
        for s in series where !s.points.isEmpty {
            let path = s.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\"\(s.dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
            if s.dots {
                for p in s.points { out += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"2\" fill=\"\(s.color)\"/>" }
            }
            for p in s.highlighted { out += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"3\" fill=\"#d62728\"/>" }
        }
        // Legend, when there is more than one series.
        let named = series.filter { !$0.name.isEmpty }
        if named.count > 1 {
            var lx = Self.left + 8
            var ly = Self.top + 10
            for s in named {
                out += "<line x1=\"\(lx)\" y1=\"\(ly - 4)\" x2=\"\(lx + 14)\" y2=\"\(ly - 4)\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
                out += "<text x=\"\(lx + 18)\" y=\"\(ly)\" class=\"leg\">\(escapeXML(s.name))</text>"
                ly += 13
                if ly > Self.top + ph - 6 { ly = Self.top + 10; lx += 150 }
            }
        }
        out += "</svg>"
        return out
    }
}

/// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals over `span`.
func niceStep(_ span: Int64, ticks: Int64) -> Int64 {
    let raw = max(1, span / max(1, ticks))
    var p: Int64 = 1
    while p <= raw / 10 { p *= 10 }
    for m: Int64 in [1, 2, 5, 10] where p * m >= raw { return p * m }
    return p * 10
}

/// A step of whole seconds, minutes, hours or days (in ms) giving about `ticks` intervals.
func niceTimeStep(_ spanMs: Int64, ticks: Int64) -> Int64 {
    let raw = max(1, spanMs / max(1, ticks))
    let steps: [Int64] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
                          60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
                          21_600_000, 43_200_000, 86_400_000]
    return steps.first { $0 >= raw } ?? niceStep(spanMs / 86_400_000 + 1, ticks: ticks) * 86_400_000
}

func ceilTo(_ v: Int64, _ step: Int64) -> Int64 {
    step <= 0 ? v : Time.floorDiv(v + step - 1, step) * step
}

/// `1m30s`-style axis labels for milliseconds: whole seconds or minutes.
func formatAxisMs(_ ms: Int64) -> String {
    if ms == 0 { return "0" }
    if ms % 1_000 == 0 { return "\(ms / 1_000)s" }
    return "\(ms)ms"
}

/// `12k`, `3.5M` for counts (integer arithmetic, one decimal).
func formatCount(_ v: Int64) -> String {
    let a = v < 0 ? -v : v, sign = v < 0 ? "-" : ""
    if a < 1_000 { return "\(v)" }
    if a < 1_000_000 { return sign + oneDecimal(a, 1_000) + "k" }
    return sign + oneDecimal(a, 1_000_000) + "M"
}

/// `512 MiB`, `3.2 KiB` for bytes.
func formatBytes(_ v: Int64) -> String {
    if v < 1_024 { return "\(v) B" }
    if v < 1 << 20 { return oneDecimal(v, 1_024) + " KiB" }
    if v < 1 << 30 { return oneDecimal(v, 1 << 20) + " MiB" }
    return oneDecimal(v, 1 << 30) + " GiB"
}

func oneDecimal(_ v: Int64, _ unit: Int64) -> String {
    let tenths = v * 10 / unit
    return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
}
