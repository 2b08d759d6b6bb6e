import Testing
import TestSupport
import Kernel
import Codec
import Engine
import Exchanges
import Scenarios
@testable import Checks

/// Each checker of the oracle is shown to fail, with a clear message, when the
/// promise it guards is broken (a table, a log, a metric or a label tampered
/// with after an honest run) — so a green run means something. One test (at
/// least) per checker in Sources/Checks/Oracle; `everyCheckerHasAFailingTest`
/// keeps the list honest.
@Suite struct ChecksCanFailTests {
    static var root: String { Repository.root }

    static let yaml = """
    name: small
    description: A few minutes of light traffic with every kind of DLQ payload.
    seed: 4242
    duration: 6m
    drain: 5m
    exchanges:
      binance:
        rate_multiplier: 0.05
    faults:
      - kind: malformed
        exchange: binance
        at: 1m
        for: 3m
        reasons: [AVRO_DECODE_ERROR, INVALID_PRICE, UNKNOWN_SCHEMA_ID]
        count: 2
    expect:
      max_batches_behind:
        bronze_binance: 0
    """

    func run(_ text: String = Self.yaml) throws -> ScenarioRun {
        let s = try ScenarioParser.parse(text, file: "small.yaml")
        return try ScenarioRunner.run(s, profilesDirectory: Self.root + "/scenarios/profiles")
    }

    func failing(_ o: ScenarioOutcome) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: o.checks.filter { !$0.passed }.map { ($0.name, $0.details) })
    }

    /// The failing checks of a tampered run, with `expect` judged as well.
    func failing(_ r: ScenarioRun, expecting e: Expectations = Expectations()) -> [String: [String]] {
        let o = ScenarioEvaluator.evaluate(r)
        let checks = o.checks + ScenarioEvaluator.expectationChecks(e, o.oracle)
        return Dictionary(uniqueKeysWithValues: checks.filter { !$0.passed }.map { ($0.name, $0.details) })
    }

    /// The checks the tests below break, one at least each: every check the oracle
    /// reports, plus the SLA measurement and the alert, judged through `expect`.
    static let broken: Set<String> = [
        BronzeExactlyOnce.name, SilverDLQExactlyOnce.name, SilverContent.name, DLQCategorization.name,
        GoldExactlyOnce.name, GoldContent.name, GoldDataQuality.name, Accounting.name, BatchesBehind.name, MetricsAndAlert.name,
        DedupState.name, "expect.sla_holds", "expect.alert_fires",
    ]

    @Test func everyCheckerHasAFailingTest() throws {
        let reported = Set(ScenarioEvaluator.evaluate(try run()).oracle.checks.map(\.name))
        #expect(reported.count == 11)
        #expect(reported.isSubset(of: Self.broken), "a check without a failing test: \(reported.subtracting(Self.broken))")
    }

    @Test func aBronzeRowCommittedTwiceFailsBronzeExactlyOnce() throws {
        let r = try run()
        let b = r.pipeline.bronzeBinance
        b.testOnly_duplicateRow(5)
        let f = failing(r)
        let want = "\(b.topicName)-\(b.partitionOf(5))@\(b.offsetOf(5)) is in bronze_binance_trades 2 times"
        #expect(f[BronzeExactlyOnce.name]?.first == want, "\(f)")
    }

    @Test func aSilverRowClaimingAnotherBronzeRowFailsSilverDLQExactlyOnce() throws {
        let r = try run()
        let s = r.pipeline.silverBinance
        let taken = s.row(2).sourceBronzeRow, orphan = s.row(3).sourceBronzeRow
        s.testOnly_setSourceRow(3, bronzeRow: taken)
        let details = failing(r)[SilverDLQExactlyOnce.name] ?? []
        #expect(details.first == "Silver duplicate: bronze_binance_trades row \(taken) is in silver_binance_trades twice (rows 2 and 3)", "\(details)")
        #expect(details.contains("bronze_binance_trades row \(orphan) is in neither Silver nor the DLQ (its batch committed)"), "\(details)")
    }

    @Test func silverRowsThatAreNotTheirBytesFailSilverContent() throws {
        let r = try run()
        let s = r.pipeline.silverBinance
        let a = s.row(2).sourceBronzeRow, b = s.row(3).sourceBronzeRow
        s.testOnly_setSourceRow(2, bronzeRow: b)
        s.testOnly_setSourceRow(3, bronzeRow: a)
        let f = failing(r)
        #expect(f[SilverContent.name]?.first?.hasPrefix("silver_binance_trades row 2 differs from the trade in its Kafka bytes") == true, "\(f)")
        #expect(f.keys.sorted() == [SilverContent.name], "each Bronze row is still claimed once: \(f.keys.sorted())")
    }

    /// The content check read in chunks by two threads says what one pass in
    /// row order says, in the same order, however the chunks fall.
    @Test func silverContentInChunksOnTwoThreadsIsOnePass() throws {
        let r = try run()
        let s = r.pipeline.silverBinance
        for (a, b) in [(2, 3), (9, 17), (40, 41), (s.rowCount - 2, s.rowCount - 1)] {
            let x = s.row(a).sourceBronzeRow, y = s.row(b).sourceBronzeRow
            s.testOnly_setSourceRow(a, bronzeRow: y)
            s.testOnly_setSourceRow(b, bronzeRow: x)
        }
        let tables = ExchangeTables(r.pipeline)
        func pass(chunkRows: Int, threads: Int) -> SilverContent {
            let pass = SilverContentPass(tables, registry: r.traffic.registry, chunkRows: chunkRows)
            for (k, silver) in tables.silver.enumerated() { for i in 0..<silver.rowCount { pass.claim(k, i) } }
            pass.claimsKnown()
            if threads == 2 { bothAtOnce({ pass.work() }, { pass.work() }) } else { pass.work(); pass.work() }
            return pass.checker
        }
        let one = pass(chunkRows: 1 << 30, threads: 1)
        #expect(one.problems.count == 8, "\(one.problems)")
        for chunkRows in [1, 4, 7, 64] {
            let chunked = pass(chunkRows: chunkRows, threads: 2)
            #expect(chunked.problems == one.problems, "chunks of \(chunkRows)")
            #expect(chunked.unverifiable == one.unverifiable)
        }
    }

    @Test func aGoldRowInTheWrongPartitionFailsGoldContentAndThePartitionQuery() throws {
        let r = try run()
        let row = r.pipeline.gold.row(4)
        r.pipeline.gold.testOnly_setEventSeconds(4, row.eventTimeSeconds + 3_600)
        let f = failing(r)
        #expect(f[GoldContent.name]?.first?.hasPrefix("Gold row 4 (\(row.trade.messageId)): partition ") == true, "\(f)")
        // SHOW PARTITIONS (query 3) lists a partition the recomputation does not have.
        #expect(f[GoldDataQuality.name]?.allSatisfy { $0.hasPrefix("query 3: partition ") } == true, "\(f)")
        #expect(f.keys.sorted() == [GoldContent.name, GoldDataQuality.name], "\(f.keys.sorted())")
    }

    @Test func aMessageEndingOtherThanItsLabelSaysFailsAccounting() throws {
        let r = try run()
        let b = r.pipeline.bronzeBinance
        let address = MessageAddress(topic: b.topicName, partition: b.partitionOf(10), offset: b.offsetOf(10))
        var label = try #require(r.traffic.groundTruth.label(at: address))
        #expect(label.outcome == .gold)
        label.outcome = .duplicate(originalOffset: 0)
        r.traffic.groundTruth.testOnly_relabel(label, at: address)
        let f = failing(r)
        #expect(f[Accounting.name]?.first == "\(address): labelled duplicate (\(label.fault.rawValue)) but ended as gold", "\(f)")
        #expect(f.keys.sorted() == [Accounting.name], "\(f.keys.sorted())")
    }

    @Test func anExportedMetricThatDisagreesWithTheBatchLogFailsMetrics() throws {
        let r = try run()
        let series = try #require(ScrapedMetrics(pipeline: r.pipeline).series("k2_silver_batches_behind", ["exchange": "binance"]))
        guard case .integer(let behind)? = series.points.last??.first else { Issue.record("no last sample"); return }
        r.pipeline.testOnly_rewriteScrapes { m in
            let f = m.families.firstIndex { $0.name == "k2_silver_batches_behind" }!
            let s = m.families[f].series.firstIndex { $0.labels.contains(MetricLabel(name: "exchange", value: "binance")) }!
            m.families[f].series[s].points[m.times.count - 1] = [.integer(behind + 2)]
        }
        let f = failing(r)
        let at = UTCDateTime(micros: ScrapedMetrics(pipeline: r.pipeline).times.last!).iso8601
        #expect(f[MetricsAndAlert.name] == ["k2_silver_batches_behind_total{exchange=\"binance\"} at \(at) is \(behind + 2), recomputed \(behind)"], "\(f)")
        #expect(f.keys.sorted() == [MetricsAndAlert.name], "\(f.keys.sorted())")
    }

    @Test func fourSilverBatchesBehindForTenMinutesFireTheAlert() throws {
        let r = try run()
        var e = Expectations()
        e.alertFires = false
        #expect(failing(r, expecting: e).isEmpty)
        // Four batches that ran two triggers long and ended before the feed began:
        // the count is 4 > 3 at every evaluation from the feed's start on.
        let start = r.scenario.startMicros
        let silver = r.pipeline.batchLog.indices.filter { r.pipeline.batchLog[$0].job == .silverBinance }
        for i in silver.prefix(4) {
            r.pipeline.testOnly_rewriteBatch(i) {
                $0.startMicros = start - 2 * $0.triggerMicros; $0.endMicros = start - 1; $0.behind = true
            }
        }
        let o = ScenarioEvaluator.evaluate(r)
        #expect(o.oracle.alertFirstFiredMicros == start + 10 * Time.microsPerMinute)
        let f = failing(r, expecting: e)
        #expect(f["expect.alert_fires"] == ["SilverBinanceProcessingBehind fired; the scenario expects it not to fire"], "\(f)")
    }

    @Test func silverBatchesAtTheSLAsLimitBreachTheSLA() throws {
        let r = try run()
        var e = Expectations()
        e.slaHolds = true
        #expect(failing(r, expecting: e).isEmpty)
        // Every Silver Binance batch after start-up takes exactly 60 s: not behind
        // (that needs more than the trigger) but not under the 60 s p99 target either.
        var runs = Set<Int>()
        for i in r.pipeline.batchLog.indices where r.pipeline.batchLog[i].job == .silverBinance {
            guard r.pipeline.batchLog[i].endMicros != nil, !runs.insert(r.pipeline.batchLog[i].runNumber).inserted else { continue }
            r.pipeline.testOnly_rewriteBatch(i) { $0.endMicros = $0.startMicros + Oracle.silverLatencySLAMicros }
        }
        let f = failing(r, expecting: e)
        #expect(f["expect.sla_holds"]?.first?.hasPrefix("Silver p99 60.000s, end-to-end p99 ") == true, "\(f)")
        #expect(f["expect.sla_holds"]?.first?.hasSuffix("; the scenario expects the SLAs to hold") == true, "\(f)")
        #expect(f.keys.sorted() == ["expect.sla_holds"], "\(f.keys.sorted())")
    }

    @Test func dedupKeysTheEngineMiscountedFailDedupState() throws {
        let r = try run()
        let gold = r.pipeline.batchLog.indices.filter { r.pipeline.batchLog[$0].job == .gold && r.pipeline.batchLog[$0].outcome == .committed }
        let last = try #require(gold.last), middle = gold[gold.count / 2]
        let keys = r.pipeline.batchLog[last].stateKeys
        r.pipeline.testOnly_rewriteBatch(last) { $0.stateKeys += 1 }
        r.pipeline.testOnly_rewriteBatch(middle) { $0.stateKeys += 7 }
        let f = failing(r)
        let details = f[DedupState.name] ?? []
        #expect(details.first == "the engine reports \(keys + 1) dedup keys, recomputed \(keys)", "\(f)")
        #expect(details.contains { $0.hasPrefix("gold batch \(r.pipeline.batchLog[middle].batchId): the engine reports ") }, "\(f)")
        #expect(f.keys.sorted() == [DedupState.name], "\(f.keys.sorted())")
    }

    @Test func aWatermarkMoveWithNoBatchAfterItFailsGoldExactlyOnce() throws {
        let r = try run()
        let log = r.pipeline.batchLog
        let gold = log.indices.filter { log[$0].job == .gold && log[$0].outcome == .committed }
        // A batch that moved the watermark, and the Gold attempt that followed it.
        let moved = try #require(zip(gold, gold.dropFirst()).first { log[$0.1].watermarkMs > log[$0.0].watermarkMs }?.0)
        let id = log[moved].batchId
        let next = try #require(log.indices.first { log[$0].job == .gold && log[$0].batchId == id + 1 })
        #expect(!(failing(r)[GoldExactlyOnce.name] ?? []).contains { $0.contains("no batch followed it") })
        // The engine that forgot the no-data batch: its attempt is gone from the log.
        r.pipeline.testOnly_rewriteBatch(next) { $0.job = .silverKraken; $0.batchId = 1_000_000 }
        let details = failing(r)[GoldExactlyOnce.name] ?? []
        #expect(details.contains("gold batch \(id) moved the watermark but no batch followed it"), "\(details)")
    }

    @Test func anUntouchedRunPassesEveryCheck() throws {
        let o = ScenarioEvaluator.evaluate(try run())
        #expect(failing(o).isEmpty, "\(failing(o))")
        #expect(o.oracle.figures["dlq"]?["rows"] == .int(6))
    }

    @Test func aLostGoldRowFailsGoldExactlyOnceAndAccounting() throws {
        let r = try run()
        r.pipeline.gold.testOnly_loseLastRow()
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.first?.contains("is missing from Gold") == true, "\(f)")
        #expect(f["accounting"]?.first?.contains("unexplained") == true, "\(f)")
    }

    @Test func aDuplicatedGoldRowFailsGoldExactlyOnce() throws {
        let r = try run()
        r.pipeline.gold.testOnly_duplicateRow(3, silver: r.pipeline.silverBinance)
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.contains { $0.contains("is in Gold twice") } == true, "\(f)")
        // The design record's queries see it too: a duplicated id, one row too many for its exchange and partition.
        let q = f["gold_data_quality"] ?? []
        for n in ["query 1:", "query 2:", "query 3:"] { #expect(q.contains { $0.hasPrefix(n) }, "\(n) \(q)") }
    }

    @Test func aDLQRowUnderTheWrongReasonFailsCategorization() throws {
        let r = try run()
        let i = (0..<r.pipeline.dlq.rowCount).first { r.pipeline.dlq.row($0).errorReason == .invalidPrice }!
        r.pipeline.dlq.testOnly_setReason(i, .invalidQuantity)
        let f = failing(ScenarioEvaluator.evaluate(r))
        let details = f["dlq_categorization"] ?? []
        #expect(details.contains { $0.contains("injected INVALID_PRICE, DLQ says INVALID_QUANTITY") }, "\(f)")
        #expect(details.contains { $0.contains("reason INVALID_QUANTITY, the bytes say INVALID_PRICE") }, "\(f)")
    }

    @Test func aBatchThatRanLongerThanTheLogSaysFailsTheRecomputation() throws {
        let r = try run()
        let i = r.pipeline.batchLog.lastIndex { $0.job == .silverBinance && !$0.behind }!
        r.pipeline.testOnly_rewriteBatch(i) { $0.endMicros = $0.startMicros + $0.triggerMicros + 1 }
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["batches_behind_recomputed"]?.first?.contains("engine says behind=false") == true, "\(f)")
    }

    @Test func aSlowJobFailsTheScenariosExpectation() throws {
        let slowed = Self.yaml.replacingOccurrences(of: "expect:", with: """
              - kind: slow_commits
                table: bronze_binance_trades
                at: 2m
                for: 2m
                extra_latency: 15s
            expect:
            """)
        let f = failing(ScenarioEvaluator.evaluate(try run(slowed)))
        #expect(f["expect.max_batches_behind.bronze_binance"]?.first?.contains("batches behind after start-up, expected at most 0") == true, "\(f)")
        #expect(f.count == 1, "only the expectation fails: \(f.keys.sorted())")
    }

    @Test func aWatermarkTheEngineGotWrongFailsGold() throws {
        let r = try run()
        let i = r.pipeline.batchLog.lastIndex { $0.job == .gold && $0.outcome == .committed }!
        r.pipeline.testOnly_rewriteBatch(i) { $0.lateThresholdMs += 1 }
        let f = failing(ScenarioEvaluator.evaluate(r))
        #expect(f["gold_exactly_once"]?.first?.contains("recomputed") == true, "\(f)")
    }
}
