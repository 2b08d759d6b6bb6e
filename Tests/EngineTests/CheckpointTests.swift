import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §3 "Offset log and commit log", "Idempotent table commits" and "Commit latency and retries".
@Suite struct CheckpointTests {
    @Test func aSinkSkipsABatchIdItAlreadyCommittedForThatQuery() {
        var log = SnapshotLog()
        #expect(!log.alreadyCommitted(queryId: "q", batchId: 0))
        log.record(queryId: "q", job: .gold, batchId: 0, batchTimestampMicros: 1, at: 1, rows: 5)
        log.record(queryId: "q", job: .gold, batchId: 1, batchTimestampMicros: 2, at: 2, rows: 0)
        log.record(queryId: "q", job: .gold, batchId: 2, batchTimestampMicros: 3, at: 3, rows: 2)
        #expect([0, 4, 5, 6].map { log.batchTimestamp(ofRow: $0) } == [1, 1, 3, 3])
        #expect(log.alreadyCommitted(queryId: "q", batchId: 1))
        #expect(log.alreadyCommitted(queryId: "q", batchId: 0))  // Iceberg: epoch <= last committed
        #expect(!log.alreadyCommitted(queryId: "q", batchId: 3))
        #expect(!log.alreadyCommitted(queryId: "other", batchId: 0))
        #expect(log.committedRows == 7 && log.snapshots.map(\.sequence) == [1, 2, 3])
    }

    @Test func replayAfterACrashBeforeTheCommitLogSkipsTheSinksAndReusesRangeTimestampAndWatermark() {
        let c = makeCluster()
        for i in 0..<40 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        let crash = CrashPlan(job: .bronzeBinance, atMicros: T0 + sec(15), point: .beforeCommitLog,
                              restartAfterMicros: sec(7))
        let p = profile(overheadMicros: sec(1), commitMicros: sec(1))
        let run = pipeline(c, end: T0 + sec(60), jobs: [JobConfig(job: .bronzeBinance)], profile: p,
                           crashes: [crash]).run()
        let b = run.batches(.bronzeBinance)
        let crashed = b.first { $0.outcome == .crashed(.beforeCommitLog) }!
        let replay = b.first { $0.isReplay }!
        #expect(crashed.batchId == 2 && replay.batchId == 2)
        #expect(crashed.sinks[0].outcome == .committed)
        #expect(replay.sinks[0].outcome == .skippedAlreadyCommitted)
        #expect(replay.startOffsets == crashed.startOffsets && replay.endOffsets == crashed.endOffsets)
        #expect(replay.batchTimestampMs == crashed.batchTimestampMs && replay.watermarkMs == crashed.watermarkMs)
        #expect(replay.runNumber == 2 && replay.startMicros == crashed.endMicros! + sec(7))
        #expect(replay.outcome == .committed)
        // Nothing lost, nothing twice.
        let offsets = Array(run.bronzeBinance.rows.map(\.offset))
        #expect(offsets == Array(0..<40))
        #expect(run.bronzeBinance.snapshots.map(\.batchId) == Array(0..<Int64(run.bronzeBinance.snapshots.count)))
        // The restart pays the start-up cost again (free profile: none), then the loop resumes.
        #expect(b.filter { $0.outcome == .committed }.map(\.batchId) == Array(0..<Int64(b.count - 1)))
    }

    @Test func failedCommitsBackOffExponentiallyThenTheBatchFailsAndTheJobRestartsFromItsCheckpoint() {
        let c = makeCluster()
        for i in 0..<30 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        var p = profile(commitMicros: Time.millis(50))
        p[.bronzeBinance].restartDelayMicros = sec(20)
        let failing = CostOverride(fromMicros: T0 + sec(10), untilMicros: T0 + sec(12), tables: [.bronzeBinance],
                                   commitFailureProbability: .always)
        let run = pipeline(c, end: T0 + sec(90), jobs: [JobConfig(job: .bronzeBinance)], profile: p,
                           overrides: [failing]).run()
        let warns = run.logLines.filter { $0.message.contains("retrying in") }
        #expect(warns.map { $0.message.split(separator: " ").suffix(2).joined(separator: " ") }
                == ["100 ms", "200 ms", "400 ms", "800 ms"])
        #expect(warns.map(\.timeMicros) == [T0 + sec(10) + Time.millis(50), T0 + sec(10) + Time.millis(200), T0 + sec(10) + Time.millis(450),
                                            T0 + sec(10) + Time.millis(900)])
        let failed = run.batches(.bronzeBinance).first { $0.outcome == .failed(table: .bronzeBinance) }!
        #expect(failed.batchId == 1 && failed.sinks[0].attempts == 5)
        #expect(failed.endMicros == T0 + sec(10) + Time.millis(1_750))
        let replay = run.batches(.bronzeBinance).first { $0.isReplay }!
        #expect(replay.batchId == 1 && replay.startMicros == failed.endMicros! + sec(20))
        #expect(replay.endOffsets == failed.endOffsets && replay.outcome == .committed)
        let offsets = Array(run.bronzeBinance.rows.map(\.offset))
        #expect(offsets == Array(0..<30))
    }

    @Test func slowCommitsOnOneTableStretchOnlyThatTablesCommits() {
        let c = makeCluster()
        for i in 0..<20 { produceTrade(c, .binance, id: UInt64(i + 1), at: T0 + sec(Int64(i))) }
        let p = profile(commitMicros: sec(1))
        let slow = CostOverride(fromMicros: T0, untilMicros: T0 + sec(100), tables: [.silverDlq],
                                extraCommitLatencyMicros: sec(45))
        let jobs = [JobConfig(job: .bronzeBinance), JobConfig(job: .silverBinance, triggerMicros: sec(30))]
        let run = pipeline(c, end: T0 + sec(100), jobs: jobs, profile: p, overrides: [slow]).run()
        let bronze = run.committed(.bronzeBinance)
        #expect(bronze.allSatisfy { $0.processingMicros == sec(1) })
        let silver = run.committed(.silverBinance).first!
        #expect(silver.sinks.map { $0.finishedAtMicros! - silver.startMicros } == [sec(1), sec(47)])
        #expect(silver.behind)
    }
}
