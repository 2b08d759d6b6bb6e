import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// The `pipeline:` variants: the design as it would really be coded. The
/// engine does not prevent their failures; these tests show each one happens.
@Suite struct VariantTests {
    static let jobs = [JobConfig(job: .bronzeBinance, triggerMicros: sec(10)),
                       JobConfig(job: .silverBinance, triggerMicros: sec(10))]

    /// A feed of 60 trades, every 7th malformed (so the DLQ has rows too), and a
    /// Silver crash at `point` at +25 s, restarted 5 s later.
    static func run(_ mode: SilverSinkMode, _ point: CrashPoint) -> Pipeline {
        let c = makeCluster()
        for i in 0..<60 {
            if i % 7 == 3 { produce(c, .binance, at: T0 + sec(Int64(i)), value: [9, 9]) }
            else { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        }
        let crash = CrashPlan(job: .silverBinance, atMicros: T0 + sec(25), point: point, restartAfterMicros: sec(5))
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(120), jobs: jobs, profile: profile(commitMicros: Time.millis(100)),
                               crashes: [crash], seed: 7)
        cfg.silverSinks = mode
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        return p
    }

    static func silverSources(_ p: Pipeline) -> [Int] { p.silverBinance.rows.map(\.sourceBronzeRow).sorted() }
    static func dlqSources(_ p: Pipeline) -> [Int] { p.dlq.rows.map(\.sourceBronzeRow).sorted() }

    @Test(arguments: [CrashPoint.betweenSinks, .beforeCommitLog])
    func foreachBatchAppendsARerunBatchAgain(point: CrashPoint) {
        let p = Self.run(.foreachBatch, point)
        let silver = Self.silverSources(p)
        let crashed = p.batches(.silverBinance).first { $0.outcome == .crashed(point) }!
        let rerun = p.batches(.silverBinance).first { $0.isReplay }!
        #expect(rerun.batchId == crashed.batchId && rerun.sinks[0].outcome == .committed)
        // Every valid row of the crashed batch is in Silver twice; nothing else is.
        let twice = Set(silver.filter { r in silver.filter { $0 == r }.count == 2 })
        #expect(!twice.isEmpty)
        #expect(twice == Set(Int(crashed.startOffsets[0])..<Int(crashed.endOffsets[0])).filter { $0 % 7 != 3 })
        // The DLQ: committed twice only when the crash came after both appends.
        let dlq = Self.dlqSources(p)
        #expect((Set(dlq).count < dlq.count) == (point == .beforeCommitLog))
    }

    @Test(arguments: [SilverSinkMode.idempotent, .foreachBatchIdempotent], [CrashPoint.betweenSinks, .beforeCommitLog])
    func theIdempotentWritesSkipTheRerunBatch(mode: SilverSinkMode, point: CrashPoint) {
        let p = Self.run(mode, point)
        let silver = Self.silverSources(p), dlq = Self.dlqSources(p)
        #expect(Set(silver).count == silver.count && Set(dlq).count == dlq.count)
        #expect(silver.count + dlq.count == 60)
        #expect(p.batches(.silverBinance).first { $0.isReplay }?.sinks[0].outcome == .skippedAlreadyCommitted)
    }

    /// 60 Binance trades, one a second from +1 s; Bronze triggers every 10 s.
    static func bronze(_ mode: StartingOffsets, startAt: Micros? = nil, lose: Bool = false) -> Pipeline {
        let c = makeCluster()
        for i in 0..<60 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i) + 1)) }
        let crash = CrashPlan(job: .bronzeBinance, atMicros: T0 + sec(25), point: .immediately,
                              restartAfterMicros: sec(15), deleteCheckpoint: true)
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(120),
                               jobs: [JobConfig(job: .bronzeBinance, triggerMicros: sec(10), startMicros: startAt)],
                               profile: profile(), crashes: lose ? [crash] : [], seed: 7)
        cfg.startingOffsets = mode
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        return p
    }

    @Test func latestSkipsWhatWasProducedBeforeTheFirstStartAndEarliestDoesNot() {
        let late = Self.bronze(.latest, startAt: T0 + sec(30))
        // The first trigger at +30 s fixes the start at the latest offset then (30 records).
        #expect(Array(late.bronzeBinance.rows.map(\.offset)) == Array(30..<60))
        let early = Self.bronze(.earliest, startAt: T0 + sec(30))
        #expect(Array(early.bronzeBinance.rows.map(\.offset)) == Array(0..<60))
        // Started at the run's start, latest loses nothing: the topic was empty.
        #expect(Array(Self.bronze(.latest).bronzeBinance.rows.map(\.offset)) == Array(0..<60))
    }

    @Test func aLostCheckpointMakesANewQueryLatestSkipsTheDowntimeEarliestReadsEverythingAgain() {
        let latest = Self.bronze(.latest, lose: true)
        let offsets = Array(latest.bronzeBinance.rows.map(\.offset))
        // Killed at +25 s after batches up to +20 s (offsets 0..<20); back at +40 s at the latest offset, 40.
        #expect(offsets == Array(Int64(0)..<20) + Array(Int64(40)..<60))
        #expect(latest.queryId(.bronzeBinance) != Self.bronze(.latest).queryId(.bronzeBinance))
        let earliest = Self.bronze(.earliest, lose: true)
        let counts = Dictionary(grouping: earliest.bronzeBinance.rows.map(\.offset), by: { $0 }).mapValues(\.count)
        #expect((0..<20).allSatisfy { counts[Int64($0)] == 2 } && (20..<60).allSatisfy { counts[Int64($0)] == 1 })
        #expect(latest.logLines.contains { $0.message.contains("Checkpoint of bronze_binance deleted") })
    }
}

/// `silver_decoder: from_avro_*` with the real codec: what Spark's from_avro
/// makes of each kind of bad payload, header stripped, V2 the only schema.
@Suite struct FromAvroTests {
    static func payloads() throws -> (valid: [UInt8], cases: [(String, [UInt8])], t: Trade) {
        let registry = SchemaRegistry.standard()
        let v2 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let v1 = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v1Id)
        let t = FakeWire.trade(.init(exchange: .binance, id: 5, timestampMicros: T0, ingestionMicros: T0))
        let valid = v2.encode(t)
        var unknownId = valid; unknownId[4] = 99
        var badMagic = valid; badMagic[0] = 7
        return (valid, [("trailing", valid + [1, 2, 3]), ("unknown_id", unknownId), ("bad_magic", badMagic),
                        ("truncated", Array(valid.dropLast(4))), ("v1", v1.encode(t)), ("header_only", Array(valid[..<3]))], t)
    }

    @Test func permissiveReadsTheBodyAsV2IgnoresHeaderAndTrailingBytesAndNullsTheRest() throws {
        let (_, cases, t) = try Self.payloads()
        let decode = SilverDecoders.fromAvro(registry: .standard(), failFast: false)
        func run(_ b: [UInt8]) -> SilverDecodeResult { b.withUnsafeBytes { decode($0) } }
        let byName = Dictionary(uniqueKeysWithValues: cases.map { ($0.0, run($0.1)) })
        // Header and trailing bytes are not looked at: three malformed payloads become valid rows.
        for name in ["trailing", "unknown_id", "bad_magic"] {
            #expect(byName[name] == .trade(t, schemaId: TradeSchemas.v2Id), "\(name)")
        }
        // A read that throws is a null row: the DLQ can only say AVRO_DECODE_ERROR.
        for name in ["truncated", "header_only"] {
            #expect(byName[name] == .failure(.avroDecodeError, message: "from_avro returned null", schemaId: nil), "\(name)")
        }
        // V1 read as V2: never the V1 trade resolved to V2 as the Confluent decoder does.
        if case .trade(let got, _) = byName["v1"]! { #expect(got != t) }
    }

    @Test func failFastFailsTheBatchAndTheJobLoopsOnIt() throws {
        let (valid, cases, _) = try Self.payloads()
        let c = makeCluster()
        produce(c, .binance, at: T0 + sec(1), value: valid)
        produce(c, .binance, at: T0 + sec(2), value: cases.first { $0.0 == "truncated" }!.1)
        var p = profile()
        p[.silverBinance].restartDelayMicros = sec(30)
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(300), jobs: VariantTests.jobs, profile: p, seed: 3)
        cfg.silverDecoder = .fromAvroFailfast
        let run = Pipeline(cluster: c, registry: .standard(), config: cfg).run()
        let silver = run.batches(.silverBinance)
        #expect(silver.count >= 5)
        #expect(silver.allSatisfy { b in if case .taskFailed(let why) = b.outcome { return why.contains("FAILFAST") }; return false })
        #expect(Set(silver.map(\.batchId)) == [0])
        #expect(run.silverBinance.rowCount == 0 && run.dlq.rowCount == 0)
        #expect(run.logLines.contains { $0.message.contains("terminated with exception") })
    }

    /// `gold_watermark: binance_only`: one watermark operator, so a silent
    /// Kraken no longer holds the watermark at 0 (Binance's hour-old rows are
    /// late), and a Kraken row behind Binance's watermark is dropped as late
    /// too (the late filter reads the union's column). With `both`, nothing is late.
    @Test(arguments: [GoldWatermarkMode.both, .binanceOnly])
    func aWatermarkOnBinanceAloneDropsKrakenRowsBehindIt(mode: GoldWatermarkMode) {
        let c = makeCluster()
        for i in 0..<600 {
            let at = T0 + sec(Int64(i))
            produceTrade(c, .binance, id: UInt64(i + 1), at: at, eventMicros: i % 50 == 0 ? at - sec(3600) : at)
        }
        produceTrade(c, .kraken, id: 10_000, at: T0 + sec(605), eventMicros: T0 + sec(200))
        let jobs = [JobName.bronzeBinance, .bronzeKraken, .silverBinance, .silverKraken, .gold].map {
            JobConfig(job: $0, triggerMicros: $0 == .gold ? sec(60) : sec(10))
        }
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(900), jobs: jobs, profile: .free, seed: 7)
        cfg.goldWatermark = mode
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        let late = p.droppedRows.filter { $0.kind == .late }
        if mode == .both {
            #expect(late.isEmpty && p.gold.rowCount == 601)
        } else {
            #expect(late.contains { $0.sourceTable == .silverKraken && $0.messageId == FakeWire.messageId(10_000) })
            #expect(!late.filter { $0.sourceTable == .silverBinance }.isEmpty)
            #expect(p.gold.rowCount == 601 - late.count)
            // The watermark is Binance's alone: max event time seen minus 5 minutes.
            let last = p.committed(.gold).last!
            #expect(last.watermarkAfterMs == (T0 + sec(599)) / 1_000 - 300_000)
        }
    }

    /// 600 Binance trades, one a second; the topic keeps 60 s (10-second
    /// segments, cleaner every 30 s); bronze_binance is killed at +25 s and
    /// back at +205 s, when what it had not read is partly deleted.
    static func retention(failOnDataLoss: Bool) -> Pipeline {
        let c = makeCluster()
        c.topic(ExchangeName.binance.topic)!.retention = TopicRetention(retentionMs: 60_000, segmentMs: 10_000,
                                                                        checkIntervalMs: 30_000)
        for i in 0..<600 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        let crash = CrashPlan(job: .bronzeBinance, atMicros: T0 + sec(25), point: .immediately, restartAfterMicros: sec(180))
        var costs = profile()
        costs[.bronzeBinance].restartDelayMicros = sec(30)
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(700),
                               jobs: [JobConfig(job: .bronzeBinance, triggerMicros: sec(10))],
                               profile: costs, crashes: [crash], seed: 7)
        cfg.failOnDataLoss = failOnDataLoss
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        return p
    }

    @Test func anOutageLongerThanRetentionLoopsWithFailOnDataLossAndSkipsWithout() {
        let stuck = Self.retention(failOnDataLoss: true)
        let failed = stuck.batches(.bronzeBinance).filter {
            if case .taskFailed(let why) = $0.outcome { return why.contains("Cannot fetch offset 21") }
            return false
        }
        // The same batch fails on every restart; nothing after offset 21 reaches Bronze.
        #expect(failed.count >= 2 && Set(failed.map(\.batchId)).count == 1)
        #expect(stuck.bronzeBinance.rowCount == 21)
        let skipped = Self.retention(failOnDataLoss: false)
        let offsets = skipped.bronzeBinance.rows.map(\.offset)
        let earliest = skipped.cluster.topic(ExchangeName.binance.topic)!.partitions[0].earliestOffset(at: T0 + sec(205))
        #expect(earliest > 21)
        // Everything before the crash, then from the log start at the restart on: the gap is lost.
        #expect(Array(offsets) == Array(0..<21) + Array(earliest..<600))
        #expect(skipped.logLines.contains { $0.message.contains("records in [21, \(earliest)) will be skipped") })
    }

    /// Dedup state past executor memory: with the HDFS-backed store (on the
    /// heap) the batch is an OutOfMemoryError and Gold loops on it; RocksDB
    /// commits every batch, each slower by its rows' state cost.
    @Test(arguments: [StateStoreMode.hdfs, .rocksdb])
    func stateBeyondExecutorMemoryLoopsOnTheHeapStoreAndNotInRocksDB(store: StateStoreMode) {
        let c = makeCluster()
        for i in 0..<300 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        var costs = profile()
        costs[.gold].stateBytesPerKey = 224
        costs[.gold].executorMemoryBytes = 224 * 100
        costs[.gold].restartDelayMicros = sec(30)
        let jobs = [JobName.bronzeBinance, .silverBinance, .gold].map {
            JobConfig(job: $0, triggerMicros: $0 == .gold ? sec(60) : sec(10))
        }
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(600), jobs: jobs, profile: costs, seed: 7)
        cfg.stateStore = store
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        let oom = p.batches(.gold).filter {
            if case .taskFailed(let why) = $0.outcome { return why.hasPrefix("java.lang.OutOfMemoryError") }
            return false
        }
        if store == .hdfs {
            #expect(oom.count >= 2 && Set(oom.map(\.batchId)).count == 1)
            #expect(p.gold.rowCount <= 100 && p.stateExhaustion?.batchId == oom[0].batchId)
        } else {
            #expect(oom.isEmpty && p.gold.rowCount == 300)
            #expect(p.committed(.gold).allSatisfy { $0.rowsIn == 0 || $0.processingMicros! >= Int64($0.rowsIn) * 20 })
        }
    }
}

extension VariantTests {
    // MARK: two_queries

    /// The feed of `run` (60 trades, every 7th malformed) with silver_sinks
    /// two_queries: silver_binance writes Silver, silver_binance_dlq the DLQ.
    static func twoQueries(crash: CrashPlan? = nil, costs: CostProfile = profile(commitMicros: Time.millis(100)),
                           mode: SilverSinkMode = .twoQueries) -> Pipeline {
        let c = makeCluster()
        for i in 0..<60 {
            if i % 7 == 3 { produce(c, .binance, at: T0 + sec(Int64(i)), value: [9, 9]) }
            else { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        }
        var cfg = EngineConfig(startMicros: T0, endMicros: T0 + sec(120), jobs: jobs, profile: costs,
                               crashes: crash.map { [$0] } ?? [], seed: 7)
        cfg.silverSinks = mode
        let p = Pipeline(cluster: c, config: cfg, decoders: { _ in FakeWire.decode })
        p.run()
        return p
    }

    static let malformed = Array(stride(from: 3, to: 60, by: 7))
    static let valid = (0..<60).filter { $0 % 7 != 3 }

    @Test func twoQueriesEachDecodeEveryRowAndWriteOneTable() {
        let p = Self.twoQueries()
        // The DLQ query is configured as its Silver job, and is a query of its own.
        #expect(p.config.jobs.first { $0.job == .silverBinanceDlq }?.triggerMicros == sec(10))
        #expect(p.queryId(.silverBinanceDlq) != nil && p.queryId(.silverBinanceDlq) != p.queryId(.silverBinance))
        #expect(p.batches(.silverBinance).allSatisfy { $0.sinks.map(\.table) == [.silverBinance] })
        #expect(p.batches(.silverBinanceDlq).allSatisfy { $0.sinks.map(\.table) == [.silverDlq] })
        // Each query read (and decoded) every Bronze row.
        for job in [JobName.silverBinance, .silverBinanceDlq] {
            #expect(p.committed(job).reduce(0) { $0 + $1.rowsIn } == 60, "\(job)")
        }
        #expect(Self.silverSources(p) == Self.valid && Self.dlqSources(p) == Self.malformed)
        #expect(p.dlq.snapshots.allSatisfy { $0.queryId == p.queryId(.silverBinanceDlq) })
        // Its own progress, an Iceberg sink of one table.
        let progress = SparkProgress.lines(pipeline: p, job: .silverBinanceDlq)
        #expect(!progress.isEmpty && progress.allSatisfy { $0.contains("IcebergSink[silver_dlq_trades]") })
    }

    /// A crash of one query before its commit log re-runs that query's batch
    /// only; its sink skips the batch id it holds, so nothing is duplicated.
    @Test(arguments: [JobName.silverBinance, .silverBinanceDlq])
    func aCrashOfOneQueryRerunsOnlyItsOwnBatch(job: JobName) {
        let crash = CrashPlan(job: job, atMicros: T0 + sec(25), point: .beforeCommitLog, restartAfterMicros: sec(5))
        let p = Self.twoQueries(crash: crash)
        let rerun = p.batches(job).filter(\.isReplay)
        #expect(rerun.count == 1 && rerun[0].sinks[0].outcome == .skippedAlreadyCommitted)
        let other = job.sibling!
        #expect(p.batches(other).allSatisfy { $0.runNumber == 1 && !$0.isReplay })
        #expect(p.processRuns.filter { $0.job == other }.count == 1 && p.processRuns.filter { $0.job == job }.count == 2)
        #expect(Self.silverSources(p) == Self.valid && Self.dlqSources(p) == Self.malformed)
    }

    /// The DLQ query killed for good: Silver goes on with every valid row, the
    /// dead letters after the DLQ query's last commit are nowhere.
    @Test func aStoppedDlqQueryStrandsItsRowsWhileSilverGoesOn() {
        let crash = CrashPlan(job: .silverBinanceDlq, atMicros: T0 + sec(25), point: .immediately, restartAfterMicros: nil)
        let p = Self.twoQueries(crash: crash)
        #expect(Self.silverSources(p) == Self.valid)
        let readTo = p.committed(.silverBinanceDlq).map { Int($0.endOffsets[0]) }.max() ?? 0
        #expect(readTo < 26 && Self.dlqSources(p) == Self.malformed.filter { $0 < readTo })
        #expect(p.committed(.silverBinance).last!.endOffsets[0] == 60)
    }

    /// The two queries share the application's cores: while both are up each
    /// batch's CPU work runs on half of them; once the DLQ query is down, the
    /// Silver query has them all again. One query (the design) decodes once on all.
    @Test func theTwoQueriesShareTheApplicationsCores() {
        var costs = profile()
        costs[.silverBinance].decodeNanosPerRecord = 100_000_000   // 100 ms a row, CPU
        costs[.silverBinance].executorCores = 2
        func perRow(_ p: Pipeline, _ job: JobName, _ during: (Micros) -> Bool) -> Set<Micros> {
            Set(p.committed(job).filter { $0.rowsIn > 0 && during($0.startMicros) }.map { $0.processingMicros! / Int64($0.rowsIn) })
        }
        let one = Self.twoQueries(costs: costs, mode: .idempotent)
        #expect(perRow(one, .silverBinance) { _ in true } == [50_000])
        let two = Self.twoQueries(costs: costs)
        #expect(perRow(two, .silverBinance) { _ in true } == [100_000])
        #expect(perRow(two, .silverBinanceDlq) { _ in true } == [100_000])
        let crash = CrashPlan(job: .silverBinanceDlq, atMicros: T0 + sec(25), point: .immediately, restartAfterMicros: nil)
        let alone = Self.twoQueries(crash: crash, costs: costs)
        #expect(perRow(alone, .silverBinance) { $0 < T0 + sec(25) } == [100_000])
        #expect(perRow(alone, .silverBinance) { $0 > T0 + sec(25) } == [50_000])
    }
}
