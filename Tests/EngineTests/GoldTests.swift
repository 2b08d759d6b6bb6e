import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §3, the "Gold" rules one by one. Upstream jobs trigger every 10 s and cost
/// nothing, so a record appended at +5 s is in Silver at +10 s; Gold
/// triggers every 60 s.
@Suite struct GoldTests {
    static let jobs: [JobConfig] = [
        JobConfig(job: .bronzeBinance, triggerMicros: sec(10)), JobConfig(job: .bronzeKraken, triggerMicros: sec(10)),
        JobConfig(job: .silverBinance, triggerMicros: sec(10)), JobConfig(job: .silverKraken, triggerMicros: sec(10)),
        JobConfig(job: .gold, triggerMicros: sec(60)),
    ]
    /// Event time in ms of `T0 + s` seconds.
    func evMs(_ s: Int64) -> Int64 { (T0 + sec(s)) / 1_000 }

    @Test func lateRowsUseThePreviousBatchWatermarkEqualityIsLateAndNoDataBatchCarriesTheNewWatermark() {
        let c = makeCluster()
        produceTrade(c, .binance, id: 1, at: T0 + sec(5))
        produceTrade(c, .kraken, id: 2, at: T0 + sec(5))
        let w1 = evMs(5) - 300_000  // min over inputs of (max event - 5 min)
        // Arrives for Gold batch 1, the no-data-free batch right after the move:
        // event time == W1 but the late threshold is still batch 0's watermark (0).
        produceTrade(c, .binance, id: 3, at: T0 + sec(65), eventMicros: w1 * 1_000 + 999_999)
        // Gold batch 2: threshold W1. Equal (after truncation to seconds) is late; one second later is not.
        produceTrade(c, .binance, id: 4, at: T0 + sec(125), eventMicros: w1 * 1_000 + 500_000)
        produceTrade(c, .binance, id: 5, at: T0 + sec(125), eventMicros: w1 * 1_000 + 1_000_000)
        let run = pipeline(c, end: T0 + sec(300), jobs: Self.jobs).run()
        let g = run.committed(.gold)
        #expect(g.map(\.batchId) == [0, 1, 2])
        #expect(g.map { ($0.startMicros - T0) / Time.microsPerSecond } == [60, 120, 180])
        #expect(g.map(\.watermarkMs) == [0, w1, w1])
        #expect(g.map(\.lateThresholdMs) == [0, 0, w1])
        #expect(g.map(\.watermarkAfterMs) == [w1, w1, w1])
        #expect(g.map(\.rowsIn) == [2, 1, 2])
        #expect(g.map(\.lateRows) == [0, 0, 1])
        #expect(g.map { $0.sinks[0].rows } == [2, 1, 1])
        #expect(run.droppedRows == [DroppedRow(kind: .late, goldBatchId: 2, sourceTable: .silverBinance, sourceRow: 2,
                                               messageId: FakeWire.messageId(4), eventTimeMs: w1, lateThresholdMs: w1)])
        #expect(Set(run.gold.rows.map(\.trade.messageId)) == Set([1, 2, 3, 5].map { FakeWire.messageId($0) }))
    }

    @Test func aBatchThatMovesTheWatermarkIsFollowedByANoDataBatchAndOnlyOne() {
        let c = makeCluster()
        produceTrade(c, .binance, id: 1, at: T0 + sec(5))
        produceTrade(c, .kraken, id: 2, at: T0 + sec(5))
        let w1 = evMs(5) - 300_000
        produceTrade(c, .binance, id: 3, at: T0 + sec(185), eventMicros: w1 * 1_000)
        let run = pipeline(c, end: T0 + sec(400), jobs: Self.jobs).run()
        let g = run.committed(.gold)
        // 60: data, moves the watermark. 120: no-data batch. 180: nothing to do.
        // 240: data, judged against the no-data batch's watermark W1: late.
        #expect(g.map { ($0.startMicros - T0) / Time.microsPerSecond } == [60, 120, 240])
        #expect(g.map(\.isNoDataBatch) == [false, true, false])
        #expect(g[1].rowsIn == 0 && g[1].startOffsets == g[1].endOffsets)
        #expect(g[1].sinks[0].outcome == .committed && g[1].sinks[0].rows == 0)
        #expect(run.gold.snapshots.map(\.rowCount) == [2, 0, 0])
        #expect(run.gold.snapshots.map(\.batchId) == [0, 1, 2])
        #expect(g[2].lateThresholdMs == w1 && g[2].lateRows == 1)
    }

    @Test func aSilentInputHoldsTheGlobalWatermarkAtZeroUnderTheMinPolicy() {
        let c = makeCluster()
        // Only Binance trades for 10 minutes, some an hour old: nothing is late
        // because the Kraken input has never had data and counts as 0.
        for i in 0..<600 {
            let at = T0 + sec(Int64(i))
            produceTrade(c, .binance, id: UInt64(i + 1), at: at, eventMicros: i % 50 == 0 ? at - sec(3600) : at)
        }
        produceTrade(c, .kraken, id: 10_000, at: T0 + sec(605), eventMicros: T0 + sec(200))
        let run = pipeline(c, end: T0 + sec(900), jobs: Self.jobs).run()
        let g = run.committed(.gold)
        let beforeKraken = g.filter { $0.startMicros < T0 + sec(660) }
        #expect(beforeKraken.allSatisfy { $0.watermarkAfterMs == 0 && $0.lateRows == 0 })
        #expect(beforeKraken.count == 11)  // 0 (the +0 s record), 60, ..., 600
        // Kraken's first row: min(binance 599 s - 5 min, kraken 200 s - 5 min) = kraken's.
        let first = g.first { $0.startMicros == T0 + sec(660) }!
        #expect(first.watermarkAfterMs == evMs(200) - 300_000)
        #expect(run.gold.rowCount == 601)
        #expect(run.droppedRows.isEmpty)
    }

    /// MicroBatchExecution.populateStartOffsets: after a committed batch the
    /// restart restores max(offset log's batchWatermarkMs, commit log's
    /// nextBatchWatermarkMs), so the watermark batch 0 moved survives a crash
    /// before batch 1 is planned, even though the rebuilt tracker has only
    /// Binance data afterwards (Kraken counts as 0 again).
    @Test func aRestartAfterACommittedBatchRestoresTheCommitLogsNextBatchWatermark() {
        let c = makeCluster()
        produceTrade(c, .binance, id: 1, at: T0 + sec(5))
        produceTrade(c, .kraken, id: 2, at: T0 + sec(5))
        let w1 = evMs(5) - 300_000
        produceTrade(c, .binance, id: 3, at: T0 + sec(125))
        produceTrade(c, .binance, id: 4, at: T0 + sec(185), eventMicros: w1 * 1_000)  // late against W1
        let crash = CrashPlan(job: .gold, atMicros: T0 + sec(100), point: .beforeOffsetLog, restartAfterMicros: sec(30))
        let run = pipeline(c, end: T0 + sec(400), jobs: Self.jobs, crashes: [crash]).run()
        let g = run.committed(.gold)
        #expect(g.map(\.batchId) == [0, 1, 2])
        #expect(g.map(\.runNumber) == [1, 2, 2])
        #expect(g.map { ($0.startMicros - T0) / Time.microsPerSecond } == [60, 150, 240])
        #expect(g.map(\.watermarkMs) == [0, w1, w1])       // the offset log alone would give batch 1 zero
        #expect(g.map(\.lateThresholdMs) == [0, 0, w1])
        #expect(g[2].lateRows == 1)
        #expect(run.droppedRows.map(\.messageId) == [FakeWire.messageId(4)])
        #expect(run.batches(.gold).contains { $0.outcome == .crashed(.beforeOffsetLog) } == false)  // never recorded: no batch existed
    }

    @Test func trackerFollowsSparkMinPolicyNeverDecreasesAndForgetsInputsOnRestart() {
        var w = WatermarkTracker(inputs: 2, delayMs: 300_000)
        let m1 = w.update(maxEventMs: [1_000_000, nil])  // input 1 silent -> counts as 0
        #expect(!m1 && w.globalMs == 0)
        let m2 = w.update(maxEventMs: [nil, 900_000])
        #expect(m2 && w.globalMs == 600_000 && w.perInputMs == [700_000, 600_000])
        let m3 = w.update(maxEventMs: [500_000, 400_000])  // older data never lowers it
        #expect(!m3 && w.perInputMs == [700_000, 600_000] && w.globalMs == 600_000)
        w.setWatermark(600_000)  // restart: global from the offset log, inputs unknown
        let m4 = w.update(maxEventMs: [2_000_000, nil])
        #expect(!m4 && w.globalMs == 600_000)
    }

    @Test func dropDuplicatesKeepsTheFirstRowWithinAndAcrossBatchesAndStateNeverShrinks() {
        let c = makeCluster()
        // Within one batch: id 7 twice on Binance, and on Kraken: the first Binance row wins.
        produceTrade(c, .binance, id: 7, at: T0 + sec(5), priceUnits: 100)
        produceTrade(c, .binance, id: 7, at: T0 + sec(6), priceUnits: 200)
        produceTrade(c, .kraken, id: 7, at: T0 + sec(4), priceUnits: 300)
        produceTrade(c, .kraken, id: 8, at: T0 + sec(4))
        // Across batches: 20 minutes later, long after id 7's event time fell
        // below the watermark, it comes back with a fresh event time: still a
        // duplicate, because the dedup key has no event time and nothing is evicted.
        for i in 0..<1_500 {
            let at = T0 + sec(10 + Int64(i))
            if i == 1_390 { produceTrade(c, .binance, id: 7, at: at, priceUnits: 400) }
            produceTrade(c, i % 2 == 0 ? .binance : .kraken, id: UInt64(100 + i), at: at)
        }
        let run = pipeline(c, end: T0 + sec(1_800), jobs: Self.jobs).run()
        let sevens = run.gold.rows.filter { $0.trade.messageId == FakeWire.messageId(7) }
        #expect(sevens.count == 1)
        #expect(sevens.first?.trade.price == Decimal8(units: 100))
        #expect(sevens.first?.sourceTable == .silverBinance)
        let dups = run.droppedRows.filter { $0.kind == .duplicate }
        #expect(dups.count == 3)
        #expect(dups.allSatisfy { $0.messageId == FakeWire.messageId(7) })
        #expect(dups.last!.goldBatchId > 15)
        #expect(run.committed(.gold).last!.watermarkAfterMs! > evMs(1_000))
        let keys = run.committed(.gold).map(\.stateKeys)
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(keys.last == 2 + 1_500)
        #expect(run.gold.rowCount == 2 + 1_500)
    }

    @Test func goldRowsCarryDerivedColumnsAndVendorDataAsSortedJSON() {
        let c = makeCluster()
        let event = UTCDateTime.micros(year: 2026, month: 1, day: 20, hour: 8, minute: 59, second: 59) + 999_999
        produceTrade(c, .binance, id: 1, at: T0 + sec(5), eventMicros: event)
        produceTrade(c, .binance, id: 4, at: T0 + sec(5))  // vendor_data null
        let run = pipeline(c, end: T0 + sec(70), jobs: Self.jobs).run()
        let rows = Array(run.gold.rows)
        #expect(rows.count == 2)
        let silver = run.silverBinance.row(0)
        #expect(rows[0].eventTimeSeconds == (event / 1_000_000))
        #expect(rows[0].exchangeDate == "2026-01-20" && rows[0].exchangeHour == 8)
        #expect(rows[1].exchangeHour == 9)
        #expect(rows[0].goldIngestionTimestampMicros == T0 + sec(60))
        #expect(rows[0].vendorDataJSON == #"{"e":"trade","is_buyer_maker":"false"}"#)
        #expect(rows[0].vendorDataJSON == VendorData.json(silver.trade.vendorData))
        #expect(rows[1].vendorDataJSON == nil)
        var expected = silver.trade
        expected.vendorData = nil
        #expect(rows[0].trade == expected)
        #expect(run.gold.partitions == [GoldPartition(exchangeDate: "2026-01-20", exchangeHour: 8, rowCount: 1),
                                        GoldPartition(exchangeDate: "2026-01-20", exchangeHour: 9, rowCount: 1)])
    }

    @Test func stateSizeIsReportedAndMemoryExhaustionIsNamed() {
        let c = makeCluster()
        for i in 0..<300 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        var p = CostProfile.free
        p[.gold].stateBytesPerKey = 224
        p[.gold].executorMemoryBytes = 224 * 100
        // RocksDB keeps the state off-heap: the batch commits, the size is reported.
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(400), jobs: Self.jobs, profile: p, seed: 7)
        cfg.stateStore = .rocksdb
        let run = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode }).run()
        let g = run.committed(.gold)
        #expect(g.allSatisfy { $0.stateBytes == Int64($0.stateKeys) * 224 })
        let first = g.first { $0.stateExceedsMemory }!
        #expect(first.stateKeys > 100)
        #expect(g.filter { $0.batchId < first.batchId }.allSatisfy { $0.stateKeys <= 100 })
        #expect(run.stateExhaustion == StateMemoryExhaustion(timeMicros: first.endMicros!, batchId: first.batchId,
                                                             stateKeys: first.stateKeys, stateBytes: first.stateBytes,
                                                             executorMemoryBytes: 22_400))
    }
}

/// The dedup state's hash set against Swift's `Set`, with inserts and the
/// rollbacks a crash makes (backward-shift deletion is easy to get wrong).
@Suite struct UUIDSetTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func behavesLikeASetUnderInsertAndRemove(seed: UInt64) {
        var rng = RandomStreams(seed: seed).stream("test.uuidset")
        var mine = UUIDSet()
        var reference = Set<[UInt64]>()
        for step in 0..<60_000 {
            // Few distinct values (sequential low bits, as the test ids) so that collisions and removals interact.
            let h = rng.uniform(below: 4), l = rng.uniform(below: 3_000)
            if rng.chance(.percent(30)) {
                mine.remove(h, l); reference.remove([h, l])
            } else {
                let a = mine.insert(h, l), b = reference.insert([h, l]).inserted
                #expect(a == b, "seed \(seed) step \(step)")
            }
            if step % 5_000 == 0 {
                let all = reference.allSatisfy { mine.contains($0[0], $0[1]) }
                #expect(all && mine.count == reference.count, "seed \(seed) step \(step)")
            }
        }
        let all = reference.allSatisfy { mine.contains($0[0], $0[1]) }
        #expect(all && mine.count == reference.count, "seed \(seed)")
    }
}
