import Broker
import Foundation
import Kernel
import Testing
@testable import Engine

/// The engine's batches as Spark `StreamingQueryProgress` JSON: the fields
/// whose meaning Spark's ProgressReporter fixes.
@Suite struct SparkProgressTests {
    static func objects(_ p: Pipeline, _ job: JobName) -> [[String: Any]] {
        SparkProgress.lines(pipeline: p, job: job).map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    static func run() -> Pipeline {
        let c = makeCluster()
        _ = syntheticFeed(c, from: T0, to: T0 + Time.minutes(6), binancePerSecond: 20, krakenPerSecond: 2, seed: 3,
                          faults: false)
        let crash = CrashPlan(job: .gold, atMicros: T0 + Time.minutes(3), point: .beforeOffsetLog,
                              restartAfterMicros: Time.seconds(30))
        return pipeline(c, end: T0 + Time.minutes(10), profile: profile(overheadMicros: Time.seconds(1)),
                        crashes: [crash]).run()
    }

    @Test func timestampsAreSparksIsoFormatInUTC() {
        #expect(SparkProgress.timestamp(0) == "1970-01-01T00:00:00.000Z")
        #expect(SparkProgress.timestamp(1_768_899_605_123) == "2026-01-20T09:00:05.123Z")
    }

    @Test func idIsStableAcrossARestartAndRunIdIsNewForEachRun() {
        let gold = Self.objects(Self.run(), .gold)
        #expect(gold.count > 5)
        #expect(Set(gold.map { $0["id"] as! String }).count == 1)
        #expect(Set(gold.map { $0["runId"] as! String }).count == 2)
    }

    @Test func inputRateDividesByTheTimeSinceThePreviousTriggerAndTheFirstIsZero() {
        let p = Self.run()
        let bronze = Self.objects(p, .bronzeBinance)
        let records = p.committed(.bronzeBinance)
        #expect(bronze.count > 10 && bronze.count == records.count)
        // The first trigger at T0 found nothing (no batch); batch 0 ran at the
        // next one, 10 s later: its rate divides by those 10 s, not by infinity.
        #expect(records[0].previousTriggerMicros == T0)
        // Bronze Binance: a batch every 10 s trigger (1 s each), data in every one.
        for o in bronze {
            let rows = Double(o["numInputRows"] as! Int)
            #expect(o["inputRowsPerSecond"] as! Double == rows / 10)
            let dur = o["batchDuration"] as! Int
            #expect(o["processedRowsPerSecond"] as! Double == rows / (Double(max(1, dur)) / 1000))
            #expect((o["durationMs"] as! [String: Int])["triggerExecution"] == dur)
        }
        // A run's first trigger has no previous one: Spark divides by +infinity, 0.0.
        let gold = Self.objects(p, .gold), goldRecords = p.committed(.gold)
        for (o, b) in zip(gold, goldRecords) where b.previousTriggerMicros == nil {
            #expect(o["inputRowsPerSecond"] as! Double == 0)
        }
        #expect(bronze[0]["eventTime"] == nil)   // no watermark: Spark omits the empty map
        let src = (bronze[1]["sources"] as! [[String: Any]])[0]
        #expect(src["description"] as! String == "KafkaV2[Subscribe[market.crypto.trades.binance]]")
        #expect((src["endOffset"] as! [String: [String: Int]])["market.crypto.trades.binance"]?["0"] != nil)
        #expect((bronze[0]["stateOperators"] as! [Any]).isEmpty)
    }

    @Test func goldReportsTheWatermarkAlwaysAndEventTimeStatsOnlyWithRows() {
        let p = Self.run()
        let gold = Self.objects(p, .gold)
        let records = p.committed(.gold)
        #expect(gold.count == records.count)
        var sawEmpty = false
        for (o, b) in zip(gold, records) {
            let ev = o["eventTime"] as! [String: String]
            #expect(ev["watermark"] == SparkProgress.timestamp(b.watermarkMs))
            #expect((ev["min"] != nil) == ((o["numInputRows"] as! Int) > 0))
            if ev["min"] == nil { sawEmpty = true }
            let state = (o["stateOperators"] as! [[String: Any]])[0]
            #expect(state["operatorName"] as! String == "dedupe")
            #expect(state["numRowsTotal"] as! Int == b.stateKeys)
            #expect(state["numRowsUpdated"] as! Int == b.sinks[0].rows)
            #expect(state["numRowsDroppedByWatermark"] as! Int == b.lateRows)
        }
        // Gold's no-data batches (run because the watermark moved) carry only the watermark.
        #expect(sawEmpty == records.contains { $0.isNoDataBatch })
    }
}
