import Engine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Kernel
@testable import Planning
import Testing

/// Counts elements while parsing; records the first XML error.
final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var svgTitles: [String] = []
    private var inTitle = false
    private var depthInSVG = 0

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        counts[name, default: 0] += 1
        if name == "svg" { depthInSVG += 1 }
        inTitle = name == "title" && depthInSVG > 0
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "svg" { depthInSVG -= 1 }
        inTitle = false
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inTitle { svgTitles.append(string) }
    }
}

@Suite struct ReportTests {
    @Test func htmlIsWellFormedXMLWithEveryChart() throws {
        let (_, whole) = try Fixture.get()
        let html = WhatIfReport(whole).html
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\""))
        #expect(!html.contains("<script"), "the page must be self-contained and static")
        #expect(!html.contains("http://") || !html.contains("src=\"http"), "no external resources")
        let parser = XMLParser(data: Data(html.utf8))
        let counter = ElementCounter()
        parser.delegate = counter
        let ok = parser.parse()
        #expect(ok, "not well-formed: \(String(describing: parser.parserError)) at line \(parser.lineNumber)")
        // Two overview charts, then four per point.
        #expect(counter.counts["svg"] == 2 + 4 * whole.points.count)
        #expect((counter.counts["polyline"] ?? 0) >= 4 * whole.points.count)
        let titles = counter.svgTitles.joined(separator: "\n")
        for t in ["silver_binance: processing time per batch", "silver_binance: backlog (rows read per batch)",
                  "Gold watermark lag", "Gold dedup state", "p50 processing time per batch", "min headroom after start-up"] {
            #expect(titles.contains(t), "missing chart '\(t)'")
        }
        #expect(counter.counts["table"] == 2 + whole.points.count)  // points, record latency, one per point
    }

    @Test func textIsMarkdownWithTheGridPointsJobsAndRecommendations() throws {
        let (_, whole) = try Fixture.get()
        let text = WhatIfReport(whole).text
        #expect(text.contains("## silver_binance: p50 processing / min headroom / verdict"))
        #expect(text.contains("| jobs.silver_binance.trigger \\ exchanges.binance.rate_multiplier | 0.05"))
        #expect(text.contains("## Points") && text.contains("## Jobs") && text.contains("## Recommendations"))
        // Every table row has as many cells as its header.
        for block in text.components(separatedBy: "\n\n") where block.hasPrefix("|") {
            let lines = block.split(separator: "\n").filter { $0.hasPrefix("|") }
            let widths = Set(lines.map { $0.split(separator: "|", omittingEmptySubsequences: false).count })
            #expect(widths.count == 1, "ragged table:\n\(block)")
        }
    }

    @Test func jsonReportHasVerdictsAndNoSeries() throws {
        let (_, whole) = try Fixture.get()
        let json = WhatIfReport(whole).json
        guard case .array(let points)? = json["points"] else { Issue.record("no points"); return }
        #expect(points.count == 4)
        for p in points {
            #expect(p["verdict"] != nil && p["reproduce"] != nil && p["set"] != nil)
            #expect(p["dedup_state_series"] == nil && p["gold_watermark_lag_series"] == nil)
        }
        #expect(json["complete"] == .bool(true))
        #expect(!json.pretty.contains("batch_series"))
    }

    /// Verdicts and recommendations on hand-made figures (no simulation).
    @Test func verdictsAndRecommendations() throws {
        let d = SweepDefinition(
            scenarioFile: "s.yaml", scenarioName: "s", scenarioDigest: "0", profileDigests: [:], overrides: [],
            sweeps: [Sweep(key: "jobs.silver_binance.trigger", values: ["60s", "30s"]),
                     Sweep(key: "exchanges.binance.rate_multiplier", values: ["1", "2"])],
            headroomMicros: [.silverBinance: 20 * Time.microsPerSecond], chartJob: .silverBinance)
        func point(_ i: Int, headroomMs: Int64, behind: Int64 = 0, growing: Bool = false, silverP99: Int64 = 40_000) -> PointResult {
            let trigger: Int64 = i < 2 ? 60_000 : 30_000
            let job = JobResult(triggerMs: trigger, batches: 10, p50Ms: trigger - headroomMs, p99Ms: nil, maxMs: nil,
                                minHeadroomMs: headroomMs, batchesBehindAfterStartup: behind, backlogGrowing: growing,
                                maxBatchRows: 0, batchSeries: [])
            return PointResult(index: i, overrides: d.points[i].overrides, checksFailed: [], produced: 0, alertFired: false,
                               silverP99Ms: silverP99, endToEndP99Ms: 100_000, lateDropped: 0, dedupStateKeys: 0, dedupStateBytes: 0,
                               stateBytesPerKey: 1, executorMemoryBytes: 1, stateExhaustionHours: nil, stateExhaustedAtMs: nil,
                               jobs: [.silverBinance: job], watermarkLag: [], stateSeries: [])
        }
        let points = [point(0, headroomMs: 25_000), point(1, headroomMs: 12_000),
                      point(2, headroomMs: -5_000, behind: 3), point(3, headroomMs: -20_000, behind: 9, growing: true, silverP99: 61_000)]
        let report = WhatIfReport(WhatIfResults(definition: d, shard: .whole, points: points))
        #expect(report.assessments.map(\.verdict) == [.ok, .tight, .behind, .unsustainable])
        #expect(report.assessments[3].reasons.contains { $0.contains("Silver latency p99") })
        let r = report.recommendations
        let triggers = r.filter { $0.kind == .smallestTrigger }
        #expect(triggers.map(\.value) == ["60s", nil])   // at traffic 1: 60s (30s is behind); at 2: none
        #expect(triggers.map { $0.context.map(\.value) } == [["1"], ["2"]])
        let ok = r.filter { $0.kind == .largestTrafficOK }
        #expect(ok.map(\.value) == ["1", nil])           // at 60s: 1 (2 is tight); at 30s: none
        let sustainable = r.filter { $0.kind == .largestTrafficSustainable }
        #expect(sustainable.map(\.value) == ["2", "1"])
    }

    @Test func chartsUseIntegerCoordinatesOnly() throws {
        let (_, whole) = try Fixture.get()
        let html = WhatIfReport(whole).html
        // Inside SVG elements every number is an integer: no float formatting can differ between machines.
        for svg in html.components(separatedBy: "<svg").dropFirst() {
            let body = svg.components(separatedBy: "</svg>")[0]
            for attr in ["points=\"", "cx=\"", "cy=\"", "x1=\"", "y2=\""] {
                for piece in body.components(separatedBy: attr).dropFirst() {
                    let value = piece.prefix { $0 != "\"" }
                    #expect(!value.contains("."), "non-integer coordinate \(value)")
                }
            }
        }
    }
}
