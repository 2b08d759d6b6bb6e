import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §3 ("a crash can happen at any point of this sequence"): each job
/// killed at each point, restarted a minute later, against a run without a
/// crash. Processing-time columns aside, the tables hold the same rows, and
/// the exactly-once accounting holds, checked from the tables alone.
@Suite struct CrashTests {
    static let feedEnd = T0 + Time.minutes(8)
    static let runEnd = T0 + Time.minutes(20)

    static func run(crash: CrashPlan?) -> (Pipeline, FeedStats, KafkaCluster) {
        let c = makeCluster(binancePartitions: 3)
        let stats = syntheticFeed(c, from: T0, to: feedEnd, binancePerSecond: 20, krakenPerSecond: 2, seed: 42,
                                  faults: true)
        let p = pipeline(c, end: runEnd, profile: .production, crashes: crash.map { [$0] } ?? [], seed: 42).run()
        return (p, stats, c)
    }

    /// Each table's rows as a multiset, without the columns that record
    /// processing times. Keys are the rows' own values (hashed, compared
    /// field by field), not their descriptions: building a reflective
    /// description of every trade was most of this suite's CPU time.
    struct Snapshot: Equatable, Sendable {
        struct BronzeKey: Hashable, Sendable {
            var topic: String, partition: Int32, offset: Int64, kafkaTimestampMs: Int64, value: [UInt8]
        }
        struct SilverKey: Hashable, Sendable { var table: TableName, trade: Trade, schemaId: Int32 }
        struct DLQKey: Hashable, Sendable {
            var sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64, errorReason: DeadLetterReason
            var errorMessage: String, schemaId: Int32?, rawValue: [UInt8]
        }
        struct GoldKey: Hashable, Sendable { var trade: Trade, vendorDataJSON: String?, exchangeDate: String, exchangeHour: Int }
        var bronze: [BronzeKey: Int] = [:]
        var silver: [SilverKey: Int] = [:]
        var dlq: [DLQKey: Int] = [:]
        var gold: [GoldKey: Int] = [:]
    }

    /// Keys whose counts differ between two multisets (0 = equal).
    static func differences<K: Hashable>(_ a: [K: Int], _ b: [K: Int]) -> Int {
        Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.count
    }

    /// Row contents without the columns that record processing times.
    static func contents(_ p: Pipeline) -> Snapshot {
        var s = Snapshot()
        for t in [p.bronzeBinance, p.bronzeKraken] {
            for r in t.rows {
                s.bronze[.init(topic: r.topic, partition: r.partition, offset: r.offset, kafkaTimestampMs: r.kafkaTimestampMs,
                               value: r.value), default: 0] += 1
            }
        }
        for t in [p.silverBinance, p.silverKraken] {
            for r in t.rows { s.silver[.init(table: t.name, trade: r.trade, schemaId: r.schemaId), default: 0] += 1 }
        }
        for r in p.dlq.rows {
            s.dlq[.init(sourceTopic: r.sourceTopic, sourcePartition: r.sourcePartition, sourceOffset: r.sourceOffset,
                        errorReason: r.errorReason, errorMessage: r.errorMessage, schemaId: r.schemaId,
                        rawValue: r.rawValue), default: 0] += 1
        }
        for r in p.gold.rows {
            s.gold[.init(trade: r.trade, vendorDataJSON: r.vendorDataJSON, exchangeDate: r.exchangeDate,
                         exchangeHour: r.exchangeHour), default: 0] += 1
        }
        return s
    }

    /// docs/REFERENCE.md §6's accounting, from the tables and Kafka only.
    static func checkExactlyOnce(_ p: Pipeline, _ c: KafkaCluster, _ stats: FeedStats, _ label: String) {
        // Every produced Kafka message is in Bronze exactly once.
        var kafka = 0
        for (e, t) in [(ExchangeName.binance, p.bronzeBinance), (.kraken, p.bronzeKraken)] {
            let topic = c.topic(e.topic)!
            var seen = Set<String>()
            for r in t.rows { seen.insert("\(r.partition)/\(r.offset)") }
            let total = topic.partitions.reduce(0) { $0 + Int($1.endOffset) }
            #expect(seen.count == total && t.rowCount == total, "\(label): \(e) bronze")
            kafka += total
        }
        #expect(kafka == stats.produced, "\(label)")
        // Every Bronze row is in Silver or the DLQ exactly once.
        for (t, s) in [(p.bronzeBinance, p.silverBinance), (p.bronzeKraken, p.silverKraken)] {
            var hits = [Int](repeating: 0, count: t.rowCount)
            for r in s.rows { hits[r.sourceBronzeRow] += 1 }
            for r in p.dlq.rows where r.sourceTable == t.name { hits[r.sourceBronzeRow] += 1 }
            #expect(hits.allSatisfy { $0 == 1 }, "\(label): \(t.name) rows not in exactly one of Silver/DLQ")
        }
        // Every distinct valid message id is in Gold exactly once (nothing is late here).
        var validIds = Set<String>()
        for s in [p.silverBinance, p.silverKraken] { for r in s.rows { validIds.insert(r.trade.messageId) } }
        var goldIds: [String: Int] = [:]
        for r in p.gold.rows { goldIds[r.trade.messageId, default: 0] += 1 }
        #expect(goldIds.count == validIds.count && goldIds.values.allSatisfy { $0 == 1 }, "\(label): gold")
        #expect(p.droppedRows.allSatisfy { $0.kind == .duplicate }, "\(label): late rows")
        // produced = gold + duplicates dropped + DLQ, nothing unexplained.
        #expect(p.gold.rowCount + p.droppedRows.count + p.dlq.rowCount == stats.produced, "\(label): accounting")
    }

    @Test func theRunWithoutACrashAccountsForEveryMessage() {
        let (p, stats, c) = Self.run(crash: nil)
        #expect(stats.malformed > 10 && stats.resends > 5 && stats.retries > 5)
        #expect(p.dlq.rowCount == stats.malformed)
        #expect(p.droppedRows.count == stats.resends + stats.retries)
        Self.checkExactlyOnce(p, c, stats, "baseline")
        #expect(p.batchLog.allSatisfy { $0.outcome == .committed })
    }

    /// The tables of the run without a crash, computed once for every crash test.
    static let expected: Snapshot = contents(run(crash: nil).0)

    @Test(arguments: JobName.allCases)
    func crashAtEveryPointLosesAndDuplicatesNothing(job: JobName) {
        let expected = Self.expected
        for point in CrashPoint.allCases {
            let label = "\(job.rawValue) @ \(point.rawValue)"
            let plan = CrashPlan(job: job, atMicros: T0 + Time.minutes(4), point: point,
                                 restartAfterMicros: Time.minutes(1))
            let (p, stats, c) = Self.run(crash: plan)
            // The crash happened, and the job came back.
            #expect(p.logLines.contains { $0.job == job && $0.message.contains("killed (\(point.rawValue))") }, "\(label)")
            #expect(p.logLines.contains { $0.job == job && $0.message.hasPrefix("Restarting query") }, "\(label)")
            if point == .afterOffsetLog || point == .betweenSinks || point == .beforeCommitLog {
                let crashed = p.batches(job).first { $0.outcome == .crashed(point) }
                let replay = p.batches(job).first { $0.isReplay }
                #expect(crashed != nil && replay?.batchId == crashed?.batchId, "\(label)")
                #expect(replay?.endOffsets == crashed?.endOffsets, "\(label)")
                #expect(replay?.batchTimestampMs == crashed?.batchTimestampMs, "\(label)")
            }
            let got = Self.contents(p)
            let diffs = [Self.differences(got.bronze, expected.bronze), Self.differences(got.silver, expected.silver),
                         Self.differences(got.dlq, expected.dlq), Self.differences(got.gold, expected.gold)]
            #expect(diffs == [0, 0, 0, 0], "\(label): rows differing in bronze, silver, dlq, gold")
            #expect(expected.gold.count > 9_000, "\(label)")
            Self.checkExactlyOnce(p, c, stats, label)
        }
    }
}

/// docs/REFERENCE.md §7: same input, seed and code -> the same run, batch for batch.
@Suite struct DeterminismTests {
    @Test func twoRunsWithTheSameSeedAreIdentical() {
        let crash = CrashPlan(job: .silverBinance, atMicros: T0 + Time.minutes(4), point: .betweenSinks,
                              restartAfterMicros: Time.minutes(1))
        let slow = CostOverride(fromMicros: T0 + Time.minutes(2), untilMicros: T0 + Time.minutes(6),
                                tables: [.silverKraken], commitFailureProbability: .percent(30))
        func once() -> Pipeline {
            let c = makeCluster(binancePartitions: 3)
            syntheticFeed(c, from: T0, to: CrashTests.feedEnd, binancePerSecond: 20, krakenPerSecond: 2, seed: 9,
                          faults: true)
            return pipeline(c, end: CrashTests.runEnd, profile: .production, overrides: [slow], crashes: [crash],
                            seed: 9).run()
        }
        let a = once(), b = once()
        #expect(a.batchLog == b.batchLog)
        #expect(a.logLines == b.logLines)
        #expect(a.processRuns == b.processRuns)
        #expect(ScrapedMetrics(pipeline: a) == ScrapedMetrics(pipeline: b))
        #expect(a.droppedRows == b.droppedRows)
        #expect(a.tables.map { $0.snapshots } == b.tables.map { $0.snapshots })
        #expect(Array(a.gold.rows) == Array(b.gold.rows))
        #expect(Array(a.dlq.rows) == Array(b.dlq.rows))
        #expect(a.logLines.contains { $0.message.contains("retrying in") })
    }
}
