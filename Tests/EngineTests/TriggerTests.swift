import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §3 "Processing-time trigger" and "Kafka source", rule by rule.
@Suite struct TriggerTests {
    /// One record a second on the Binance topic from `from` to `to`.
    func steadyFeed(_ c: KafkaCluster, from: Micros, to: Micros) {
        var id: UInt64 = 1
        var t = from
        while t < to { produceTrade(c, .binance, id: id, at: t); id += 1; t += sec(1) }
    }

    @Test func firstBatchAtStartThenEpochAlignedAndOverrunStartsAtOnceThenSnapsBack() {
        let c = makeCluster()
        let start = T0 + sec(3)  // not on a 10 s boundary
        steadyFeed(c, from: T0 - sec(5), to: T0 + sec(120))
        // Every batch costs 2 s; the one starting at +20 s costs 12 s (overrun).
        var p = profile(overheadMicros: sec(2), jobs: [.bronzeBinance])
        p[.bronzeBinance].startupMicros = 0
        let spike = CostOverride(fromMicros: T0 + sec(20), untilMicros: T0 + sec(21), jobs: [.bronzeBinance],
                                 extraBatchMicros: sec(10))
        let run = pipeline(c, start: start, end: T0 + sec(75), jobs: [JobConfig(job: .bronzeBinance)],
                           profile: p, overrides: [spike]).run()
        let starts = run.committed(.bronzeBinance).map { ($0.startMicros - T0) / Time.microsPerMilli }
        // 3: query start. 10, 20: aligned. The +20 batch ends at 32 > 30, so the
        // next starts at once (32); the one after snaps back to 40.
        #expect(starts == [3_000, 10_000, 20_000, 32_000, 40_000, 50_000, 60_000, 70_000])
        let ids = run.committed(.bronzeBinance).map(\.batchId)
        #expect(ids == Array(0..<8))
        #expect(run.committed(.bronzeBinance)[2].behind)  // 12 s > 10 s
        #expect(run.batchesBehind(.bronzeBinance) == 1)
    }

    @Test func elapsedEqualToIntervalIsNotBehindButOneMillisecondMoreIs() {
        for (extra, behind) in [(Micros(0), false), (Time.millis(1), true), (Time.millis(1) - 1, false)] {
            let c = makeCluster()
            steadyFeed(c, from: T0 - sec(5), to: T0 + sec(30))
            let p = profile(overheadMicros: sec(10) + extra, jobs: [.bronzeBinance])
            let run = pipeline(c, end: T0 + sec(12), jobs: [JobConfig(job: .bronzeBinance)], profile: p).run()
            let b = run.committed(.bronzeBinance)
            #expect(b.count == 1)
            #expect(b.first?.processingMicros == sec(10) + extra)
            #expect(b.first?.behind == behind, "extra \(extra) us")
            let warnings = run.logLines.filter { $0.message.hasPrefix("Current batch is falling behind") }
            if behind {
                #expect(warnings.map(\.message) == [
                    "Current batch is falling behind. The trigger interval is 10000 milliseconds, but spent 10001 milliseconds",
                ])
            } else {
                #expect(warnings.isEmpty)
            }
        }
    }

    @Test func triggerWithoutNewDataRunsNoBatchAndKeepsTheBatchId() {
        let c = makeCluster()
        produceTrade(c, .binance, id: 1, at: T0 + sec(1))
        produceTrade(c, .binance, id: 2, at: T0 + sec(65))
        let run = pipeline(c, end: T0 + sec(120), jobs: [JobConfig(job: .bronzeBinance)]).run()
        let b = run.batches(.bronzeBinance)
        #expect(b.map(\.batchId) == [0, 1])
        #expect(b.map { ($0.startMicros - T0) / Time.microsPerSecond } == [10, 70])
        #expect(run.bronzeBinance.snapshots.count == 2)
    }

    @Test func plansPerPartitionFromCommittedEndToLatestAtPlanningTime() {
        let c = makeCluster(binancePartitions: 3)
        produceTrade(c, .binance, id: 1, at: T0 + sec(1), partition: 0)
        produceTrade(c, .binance, id: 2, at: T0 + sec(2), partition: 2)
        produceTrade(c, .binance, id: 3, at: T0 + sec(10), partition: 2)  // appended exactly at planning time
        produceTrade(c, .binance, id: 4, at: T0 + sec(10) + 1, partition: 1)  // 1 us too late
        let run = pipeline(c, end: T0 + sec(25), jobs: [JobConfig(job: .bronzeBinance)]).run()
        let b = run.batches(.bronzeBinance)
        #expect(b.count == 2)
        #expect(b[0].startOffsets == [0, 0, 0] && b[0].endOffsets == [1, 0, 2])
        #expect(b[1].startOffsets == [1, 0, 2] && b[1].endOffsets == [1, 1, 2])
        let rows = Array(run.bronzeBinance.rows)
        #expect(rows.map(\.partition) == [0, 2, 2, 1])
        #expect(rows.map(\.offset) == [0, 0, 1, 0])
        #expect(rows[0].kafkaTimestampMs == (T0 + sec(1)) / 1_000)
        #expect(rows[0].bronzeIngestionTimestampMicros == T0 + sec(10))  // batch timestamp
        #expect(rows[0].value == c.topic(ExchangeName.binance.topic)!.partitions[0].value(at: 0))
    }

    @Test func maxOffsetsPerTriggerSplitsInProportionToBacklogAsSparkDoes() {
        // Spark's KafkaMicroBatchStream.rateLimit: floor of the share, but a
        // share below 1 rounds up so no partition starves.
        #expect(RateLimit.apply(limit: 1000, from: [0, 0, 5], until: [9900, 9, 5]) == [999, 1, 5])
        #expect(RateLimit.apply(limit: 5, from: [0, 0, 0, 0], until: [3, 3, 3, 3]) == [1, 1, 1, 1])  // 1.25 floors
        // 0.5 each rounds up: the batch reads 4 > 2, as Spark does.
        #expect(RateLimit.apply(limit: 2, from: [0, 0, 0, 0], until: [3, 3, 3, 3]) == [1, 1, 1, 1])
        #expect(RateLimit.apply(limit: 10, from: [0, 0], until: [0, 0]) == [0, 0])
        #expect(RateLimit.apply(limit: 100, from: [10, 20], until: [15, 22]) == [15, 22])
        // 3 x (1/3) is exactly 1.0 in doubles, as in Spark.
        #expect(RateLimit.apply(limit: 3, from: [0, 0, 0], until: [1, 1, 1]) == [1, 1, 1])

        let c = makeCluster(binancePartitions: 2)
        for i in 0..<30 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(1), partition: i % 3 == 0 ? 1 : 0) }
        let run = pipeline(c, end: T0 + sec(45), jobs: [JobConfig(job: .bronzeBinance, maxOffsetsPerTrigger: 10)]).run()
        let b = run.batches(.bronzeBinance)
        // Backlog 20:10 -> shares 6.67 and 3.33, floored: 9 a batch, not 10.
        #expect(b.map(\.rowsIn) == [9, 9, 9, 3])
        #expect(b[0].endOffsets == [6, 3])
        #expect(run.bronzeBinance.rowCount == 30)
    }
}
