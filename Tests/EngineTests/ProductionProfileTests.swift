import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §5: the `production` profile reproduces the design record's
/// observations on production-like traffic (Binance ~60 trades/s over 3
/// partitions, Kraken ~2/s).
@Suite struct ProductionProfileTests {
    static func run(silverBinanceTrigger: Micros, minutes: Int64 = 30) -> Pipeline {
        let c = makeCluster(binancePartitions: 3)
        syntheticFeed(c, from: T0, to: T0 + Time.minutes(minutes), binancePerSecond: 60, krakenPerSecond: 2,
                      seed: 2026, faults: false)
        var jobs = JobConfig.defaults
        jobs[JobName.silverBinance.ordinal].triggerMicros = silverBinanceTrigger
        return pipeline(c, end: T0 + Time.minutes(minutes), jobs: jobs, profile: .production, seed: 2026).run()
    }

    static func seconds(_ b: [BatchRecord]) -> [Double] { b.map { Double($0.processingMicros!) / 1e6 } }
    /// Batches that started once the job had caught up after start-up.
    static func steady(_ p: Pipeline, _ job: JobName) -> [BatchRecord] {
        p.committed(job).filter { $0.startMicros >= T0 + Time.minutes(10) }
    }

    @Test func silverBinanceAt30sFallsBehindOnEveryBatchAfterStartUp() {
        let p = Self.run(silverBinanceTrigger: sec(30))
        let all = p.committed(.silverBinance)
        let first = Double(all[0].processingMicros!) / 1e6
        #expect(first >= 140 && first <= 156, "first batch \(first) s")
        let after = Array(all.dropFirst())
        #expect(after.count >= 30)
        #expect(after.allSatisfy { $0.behind }, "\(Self.seconds(after))")
        let steady = Self.seconds(Self.steady(p, .silverBinance))
        #expect(steady.allSatisfy { $0 >= 36 && $0 <= 45 }, "\(steady)")
        let warnings = p.logLines.filter { $0.job == .silverBinance && $0.message.hasPrefix("Current batch is falling behind") }
        #expect(warnings.count == after.count + 1)
        let counter = ScrapedMetrics(pipeline: p).series("k2_silver_batches_behind", ["exchange": "binance"])
        #expect(counter?.points.last! == [.integer(Int64(after.count + 1))])
    }

    /// The design record's resource configuration: `--total-executor-cores 1` for Gold.
    @Test func goldRunsOnOneExecutorCore() {
        #expect(CostProfile.production[.gold].executorCores == 1)
    }

    @Test func silverBinanceAt60sRuns40To50sWithNoBatchBehindAndGoldTakes30To40s() {
        let p = Self.run(silverBinanceTrigger: sec(60))
        let all = p.committed(.silverBinance)
        let first = Double(all[0].processingMicros!) / 1e6
        #expect(first >= 140 && first <= 156, "first batch \(first) s")
        let steady = Self.steady(p, .silverBinance)
        #expect(steady.count >= 18)
        #expect(Self.seconds(steady).allSatisfy { $0 >= 40 && $0 <= 50 }, "\(Self.seconds(steady))")
        #expect(steady.allSatisfy { !$0.behind })
        // Decision #013's fix: nothing behind after start-up, the catch-up batch
        // right after it included, and 10-20 s of headroom.
        #expect(all.dropFirst().allSatisfy { !$0.behind }, "\(Self.seconds(Array(all.prefix(4))))")
        #expect(steady.allSatisfy { $0.headroomMicros! >= sec(10) && $0.headroomMicros! <= sec(20) },
                "\(steady.map { Double($0.headroomMicros!) / 1e6 })")
        let gold = Self.steady(p, .gold).filter { !$0.isNoDataBatch }
        #expect(gold.count >= 18)
        #expect(Self.seconds(gold).allSatisfy { $0 >= 30 && $0 <= 40 }, "\(Self.seconds(gold))")
        // Bronze jobs and silver_kraken fit their triggers with room to spare (< 60 % of the interval).
        for job in [JobName.bronzeBinance, .bronzeKraken, .silverKraken] {
            let s = Self.steady(p, job)
            #expect(s.count >= 10, "\(job)")
            #expect(s.allSatisfy { $0.processingMicros! * 10 < $0.triggerMicros * 6 }, "\(job): \(Self.seconds(s))")
        }
    }
}
