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

    @Test(arguments: ["steady-20", "steady-60", "steady-150", "ramp-20-300"])
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
        #expect(fit.runs == 3 && fit.parameter("per_row_read")?.value != nil)
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

    func readText(_ path: String) throws -> String {
        if path.hasSuffix(".zst") { return "" }
        return try Scenarios.readTextFile(path)
    }
}
