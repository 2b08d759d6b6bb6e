import Codec
import Engine
import Kernel
@testable import Planning
import Replay
import Scenarios
import Testing

/// The real PySpark runs (Tests/PlanningTests/Fixtures/spark, made by
/// make_spark_runs.py): calibrate reads what Spark wrote, in both forms.
@Suite struct SparkFixtureTests {
    static let dir = "\(Paths.tests)/Fixtures/spark"

    static let runs = ["ramp-20-300", "steady-1200", "steady-150", "steady-20", "steady-60", "steady-600"]

    @Test(arguments: runs)
    func theDriverLogAndRecentProgressHoldTheSameBatches(run: String) throws {
        for q in ["silver", "gold"] {
            let jsonlPath = "\(Self.dir)/\(run)/\(q).progress.jsonl", logPath = "\(Self.dir)/\(run)/driver.log"
            let jsonl = try ProgressLogReader.read(try readText(jsonlPath), file: jsonlPath).filter(\.executed)
            let log = try ProgressLogReader.read(try readText(logPath), file: logPath).filter { $0.name == q }
            // The driver logs every executed batch; recentProgress also has idle-trigger progress.
            #expect(log.count == jsonl.count && jsonl.count >= 20)
            #expect(zip(log, jsonl).allSatisfy {
                $0.batchId == $1.batchId && $0.batchDurationMs == $1.batchDurationMs && $0.numInputRows == $1.numInputRows
                    && $0.runId == $1.runId
            })
            if q == "gold" { #expect(jsonl.allSatisfy { $0.stateRowsBefore != nil && $0.rowsWritten != nil }) }
            else { #expect(jsonl.allSatisfy { $0.rowsWritten == nil }) }   // foreachBatch: numOutputRows -1
        }
    }

    @Test func aFitOnThreeRunsPredictsTheFourthsBatchesFromItsCapture() throws {
        let fitRuns = ["steady-20", "steady-150", "ramp-20-300"]
        var records: [ProgressRecord] = []
        for r in fitRuns {
            let p = "\(Self.dir)/\(r)/silver.progress.jsonl"
            records += try ProgressLogReader.read(try readText(p), file: p)
        }
        let fit = try #require(try Calibrator.fit(records, query: "silver").fits.first)
        #expect(fit.runs == 3)
        let capture = try CaptureReader.load(path: "\(Self.dir)/steady-60/capture.jsonl.zst")
        let arrivals = Predictor.arrivals(capture, topics: ["market.crypto.trades.binance"])
        let realPath = "\(Self.dir)/steady-60/silver.progress.jsonl"
        let real = try ProgressLogReader.read(try readText(realPath), file: realPath).filter(\.executed)
        #expect(arrivals.count > 10_000)
        let a = Predictor.run(fit: fit, arrivals: arrivals, startMs: real[0].timestampMs, triggerMs: 4_000,
                              untilMs: real.last!.timestampMs)
        let b = Predictor.run(fit: fit, arrivals: arrivals, startMs: real[0].timestampMs, triggerMs: 4_000,
                              untilMs: real.last!.timestampMs)
        #expect(a.batchDurationsMs == b.batchDurationsMs)          // seeded: the same prediction twice
        #expect(a.batchDurationsMs.count > 20)
        // Every trigger of the prediction is epoch-aligned or an overrun's end.
        #expect(zip(a.startsMs, a.startsMs.dropFirst()).allSatisfy { $1 > $0 })
    }

    /// Leave-one-out over the six runs, as scripts/calibration_holdout.sh and
    /// docs/CALIBRATION.md: the prediction's p50 / p99 (ms) and verdict for
    /// each held-out run and query. Pinned: the page's table is this test's.
    @Test func theHeldOutPredictionsAreThoseOfTheCalibrationPage() throws {
        let expected: [String: (p50: Int64, p99: Int64)] = [
            "steady-20 silver": (1187, 5465), "steady-20 gold": (1338, 2786),
            "steady-60 silver": (1363, 4739), "steady-60 gold": (1309, 2213),
            "steady-150 silver": (1458, 5628), "steady-150 gold": (1545, 2934),
            "ramp-20-300 silver": (1615, 4784), "ramp-20-300 gold": (1497, 2409),
            "steady-600 silver": (1935, 3128), "steady-600 gold": (1931, 3475),
            "steady-1200 silver": (3707, 5192), "steady-1200 gold": (3412, 4536),
        ]
        var within15 = 0, sameVerdict = 0
        for held in Self.runs {
            let capture = try CaptureReader.load(path: "\(Self.dir)/\(held)/capture.jsonl.zst")
            for q in ["silver", "gold"] {
                var records: [ProgressRecord] = []
                for r in Self.runs where r != held {
                    let p = "\(Self.dir)/\(r)/\(q).progress.jsonl"
                    records += try ProgressLogReader.read(try readText(p), file: p)
                }
                let fit = try #require(try Calibrator.fit(records, query: q).fits.first)
                let realPath = "\(Self.dir)/\(held)/\(q).progress.jsonl"
                let real = try ProgressLogReader.read(try readText(realPath), file: realPath)
                let c = try #require(Predictor.compare(fit: fit, capture: capture, real: real, triggerMs: 4_000))
                let (r, p) = (c.real, c.predicted)
                let want = try #require(expected["\(held) \(q)"])
                #expect(p.p50Ms == want.p50 && p.p99Ms == want.p99, "\(held) \(q): predicted p50 \(p.p50Ms) p99 \(p.p99Ms)")
                if abs(p.p50Ms - r.p50Ms) * 100 <= 15 * r.p50Ms { within15 += 1 }
                if p.keepsUp == r.keepsUp { sameVerdict += 1 }
            }
        }
        #expect(sameVerdict == 12)
        #expect(within15 == 6)
    }

    func readText(_ path: String) throws -> String {
        if path.hasSuffix(".zst") { return "" }
        return try Scenarios.readTextFile(path)
    }
}
