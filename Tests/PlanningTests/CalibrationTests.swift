import Engine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Kernel
@testable import Planning
import Scenarios
import Testing

/// `calibrate`: reading the three log forms, the fit, what it refuses to
/// fit, and bad logs.
@Suite struct CalibrationTests {
    static let id = "5c59be6c-1c7d-4146-a8aa-88f999d136ac", run1 = "47c37103-7346-4e54-9e8e-18793513c00f"

    /// A progress object: `duration = overhead + perRow x rows (+ startup)`, pretty or compact.
    static func progress(_ batch: Int, rows: Int64, duration: Int64, name: String = "silver", id: String = id,
                         runId: String = run1, commit: Int64 = 30, pretty: Bool = false) -> String {
        let o: JSONValue = .object([
            "id": .string(id), "runId": .string(runId), "name": .string(name),
            "timestamp": .string(SparkProgress.timestamp(1_768_899_600_000 + Int64(batch) * 4_000)),
            "batchId": .int(Int64(batch)), "batchDuration": .int(duration), "numInputRows": .int(rows),
            "inputRowsPerSecond": .number("1.0"), "processedRowsPerSecond": .number("1.0"),
            "durationMs": .object(["addBatch": .int(duration - commit), "walCommit": .int(commit / 2),
                                   "commitOffsets": .int(commit - commit / 2), "triggerExecution": .int(duration),
                                   "latestOffset": .int(0), "getBatch": .int(0), "queryPlanning": .int(0)]),
            "stateOperators": .array([]), "sources": .array([]),
            "sink": .object(["description": .string("ForeachBatchSink"), "numOutputRows": .int(-1)]),
        ])
        return pretty ? o.pretty : o.compact
    }

    /// 40 batches: rows vary 50..440, 500 ms overhead + 3 ms per row + 30 ms commits, a 9 s start.
    static func varied(name: String = "silver") -> [String] {
        (0..<40).map { b in
            let rows = Int64(50 + (b * 37) % 400)
            return progress(b, rows: rows, duration: (b == 0 ? 9_000 : 0) + 500 + 3 * rows + 30, name: name)
        }
    }

    static func fit(_ text: String, query: String? = nil) throws -> CalibrationResult {
        try Calibrator.fit(try ProgressLogReader.read(text, file: "p.jsonl"), query: query)
    }

    @Test func recoversOverheadPerRowCostStartupAndCommitsFromVariedBatches() throws {
        let r = try Self.fit(Self.varied().joined(separator: "\n") + "\n")
        let f = try #require(r.fits.first)
        #expect(f.batches == 40 && f.runs == 1)
        #expect(abs(f.parameter("per_row_read")!.value! - 3) < 1e-6)
        #expect(abs(f.parameter("batch_overhead")!.value! - 500) < 1e-3)
        #expect(abs(f.parameter("startup")!.value! - 9_000) < 1e-3)
        #expect(abs(f.parameter("commit_median")!.value! - 30) < 1e-6)
        #expect(f.parameter("per_row_written")!.value == nil)    // foreachBatch: -1 rows
        #expect(f.rSquared! > 0.999)
    }

    @Test func sameSizedBatchesMakeThePerRowCostNotIdentifiable() throws {
        let text = (0..<40).map { Self.progress($0, rows: 80 + Int64($0 % 2), duration: 750) }.joined(separator: "\n")
        let f = try #require(try Self.fit(text).fits.first)
        let p = f.parameter("per_row_read")!
        #expect(p.value == nil && p.low == nil)
        #expect(p.note!.contains("not identifiable: every batch had about the same number of rows read"))
        #expect(f.parameter("batch_overhead")!.value != nil)
        let report = try Self.fit(text).text
        #expect(report.contains("per row read") && report.contains("not identifiable"))
        #expect(!report.contains("ms/row"))
    }

    /// Batches that got faster as they got bigger (the machine's load fell
    /// while traffic rose): a cost cannot be negative, so the per-row cost is
    /// left out with the reason and the overhead is refitted without it.
    @Test func aNegativeFittedCostIsLeftOutAndTheFitRedone() throws {
        let text = (0..<40).map { b -> String in
            let rows = Int64(50 + (b * 37) % 400)
            return Self.progress(b, rows: rows, duration: 2_000 - 2 * rows + Int64(b % 3) * 10)
        }.joined(separator: "\n")
        let f = try #require(try Self.fit(text).fits.first)
        let p = f.parameter("per_row_read")!
        #expect(p.value == nil)
        #expect(p.note!.contains("negative cost (-2.0"))
        // Without the row term the overhead is the typical batch (its robust mean), not the 2 s intercept.
        let overhead = try #require(f.parameter("batch_overhead")!.value)
        #expect(overhead > 1_300 && overhead < 1_900)
    }

    @Test func readsJSONLinesAnArrayAndADriverLogAlike() throws {
        let lines = Self.varied()
        let jsonl = try Self.fit(lines.joined(separator: "\n"))
        let array = try Self.fit("[" + lines.joined(separator: ",\n") + "]")
        let pretty = (0..<40).map { b -> String in
            let rows = Int64(50 + (b * 37) % 400)
            return "26/12/01 16:01:37 INFO ProgressReporter: Streaming query made progress: "
                + Self.progress(b, rows: rows, duration: (b == 0 ? 9_000 : 0) + 500 + 3 * rows + 30, pretty: true)
                + "26/12/01 16:01:38 WARN ProcessingTimeExecutor: Current batch is falling behind.\n"
        }.joined()
        let log = try Self.fit("26/12/01 16:01:00 INFO SparkContext: Running Spark version 4.3.0\n" + pretty)
        for r in [array, log] {
            #expect(r.fits[0].batches == 40)
            #expect(r.fits[0].parameter("per_row_read")!.value == jsonl.fits[0].parameter("per_row_read")!.value)
        }
    }

    @Test func anUnrequestedQueryIsIgnoredAndNamed() throws {
        let text = (Self.varied() + Self.varied(name: "gold").map {
            $0.replacingOccurrences(of: Self.id, with: "11111111-1c7d-4146-a8aa-88f999d136ac")
        }).joined(separator: "\n")
        let r = try Self.fit(text, query: "silver")
        #expect(r.fits.map(\.name) == ["silver"])
        #expect(r.ignored.count == 1 && r.ignored[0].name == "gold" && r.ignored[0].count == 40)
        #expect(r.text.contains("Ignored query gold: 40 progress objects"))
    }

    @Test func badLogsNameTheFileAndLine() {
        func problem(_ text: String) -> InputError? {
            do { _ = try Self.fit(text); return nil } catch { return error as? InputError }
        }
        let lines = Self.varied()
        // Truncated: the last object never closes.
        let truncated = problem(lines[0] + "\n" + lines[1] + "\n" + String(lines[2].prefix(80)))
        #expect(truncated?.file == "p.jsonl" && truncated?.line == 3)
        #expect(truncated?.problem.contains("truncated") == true)
        // A missing field.
        let missing = problem(lines[0] + "\n" + lines[1].replacingOccurrences(of: "\"numInputRows\"", with: "\"rows\""))
        #expect(missing?.line == 2 && missing?.problem == "missing field 'numInputRows'")
        // Another query with the same name mixed in.
        let other = lines[5].replacingOccurrences(of: Self.id, with: "22222222-1c7d-4146-a8aa-88f999d136ac")
        let mixed = problem(lines[0..<5].joined(separator: "\n") + "\n" + other)
        #expect(mixed?.line == 6 && mixed?.problem.contains("a different query is mixed into 'silver'") == true)
        // Not a progress log at all.
        #expect(problem("hello\nworld\n")?.problem.contains("no progress objects") == true)
    }

    @Test func theReportPageIsWellFormedWithAResidualPlot() throws {
        let r = try Self.fit(Self.varied().joined(separator: "\n"))
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(r.html.replacingOccurrences(of: "<!DOCTYPE html>\n", with: "").utf8))
        parser.delegate = counter
        #expect(parser.parse())
        #expect(counter.counts["svg"] == 2)
        #expect(r.html.contains("residual (observed - fitted)"))
    }

    @Test func theWrittenProfileLoadsAndReproducesTheFit() throws {
        let r = try Self.fit(Self.varied().joined(separator: "\n"))
        let base = try ProfileLoader.load(name: "production", directory: "scenarios/profiles")
        for kind in PerRowCost.allCases {
            let (p, _) = r.profile(base: base, name: "fitted", jobs: ["silver": .silverBinance], perRow: kind, cores: 2)
            let loaded = try ProfileLoader.parse(ProfileWriter.yaml(p), file: "fitted.yaml")
            #expect(loaded == p)
            let j = loaded[.silverBinance]
            #expect(j.startupMicros == 9_000_000 && j.batchOverheadMicros == 500_000)
            // 3 ms a row read: in full as I/O, or 6 ms of CPU on 2 cores.
            #expect(kind == .io ? j.ioReadNanosPerRecord == 3_000_000 : j.decodeNanosPerRecord == 6_000_000)
            #expect(j.commitLatency.medianMicros == 15_000)   // 30 ms over two sinks
            #expect(loaded[.gold] == base[.gold])
        }
    }
}
