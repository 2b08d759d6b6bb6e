import Broker
import Dispatch
import Foundation
import Codec
import Engine
import Exchanges
import Kernel

/// What the oracle is given: what was produced, what the engine left behind,
/// and (for generated traffic) the ground truth. It trusts none of the
/// engine's own counters: every figure is recomputed from the topics and the
/// tables, and the engine's counters are checked against the recomputation.
public struct OracleInput {
    public var cluster: KafkaCluster
    public var registry: SchemaRegistry
    /// nil for replays of captures: checks that need labels say so.
    public var groundTruth: GroundTruth?
    public var pipeline: Pipeline
    public var feedStartMicros: Micros
    public var feedEndMicros: Micros
    /// How often the simulated Prometheus scrapes the jobs (metrics and the alert).
    public var scrapeIntervalMicros: Micros = ScrapedMetrics.defaultIntervalMicros

    public init(cluster: KafkaCluster, registry: SchemaRegistry, groundTruth: GroundTruth?, pipeline: Pipeline,
                feedStartMicros: Micros, feedEndMicros: Micros) {
        self.cluster = cluster; self.registry = registry; self.groundTruth = groundTruth; self.pipeline = pipeline
        self.feedStartMicros = feedStartMicros; self.feedEndMicros = feedEndMicros
    }
}

/// The oracle's verdicts and the figures behind them.
public struct OracleResult {
    public var checks: [CheckResult] = []
    /// Sections of the summary, by name.
    public var figures: [String: JSONValue] = [:]
    /// Per job, for expectations and what-if reports.
    public var jobs: [JobName: JobFigures] = [:]
    public var alertFired = false
    public var alertFirstFiredMicros: Micros?
    /// The alert at every evaluation, as Prometheus evaluates it.
    public var alert: AlertHistory?
    /// Silver batch processing time p99 (the `batch_processing` definition).
    public var silverLatencyP99Micros: Int64?
    /// Kafka create time to Silver commit, p99 over both exchanges (the `record_latency` definition).
    public var silverRecordLatencyP99Micros: Int64?
    /// Per exchange (`binance`, `kraken`) and layer (`bronze`, `silver`, `gold`):
    /// p99 of Kafka create time to that layer's commit, per record.
    public var recordLatencyP99Micros: [String: [String: Int64]] = [:]
    public var endToEndP99Micros: Int64?
    public var lateDropped: Int64 = 0
    public var duplicatesDropped: Int64 = 0
    public var dedupStateKeys: Int64 = 0
    public var dedupStateBytes: Int64 = 0
    /// When Gold's dedup state would reach executor memory at this run's key rate.
    public var stateExhaustionHours: Int64?

    public var passed: Bool { checks.allSatisfy(\.passed) }
}

/// The oracle: one checker per promise the pipeline makes, each a small type
/// that takes what it needs and says what it found (one file each, beside this one).
/// Checkers later in the list build on the recomputations of earlier ones
/// (where each Bronze row went, what Gold should have done with each Silver
/// row) but never on the engine's own account of them.
public enum Oracle {
    public static let silverLatencySLAMicros: Micros = 60 * Time.microsPerSecond
    public static let endToEndSLAMicros: Micros = 5 * Time.microsPerMinute

    public static func check(_ input: OracleInput) -> OracleResult {
        let p = input.pipeline
        let tables = ExchangeTables(p)

        // Two halves that share nothing but reads of the finished run, on two
        // threads: Silver and the DLQ; Bronze, Gold's recomputation and its rows.
        // Each writes only its own checkers, so the results are those of one
        // thread. The Silver content check, the largest, is split in chunks
        // that each thread takes as it finishes its half (put together in
        // row order).
        let content = SilverContentPass(tables, registry: input.registry)
        var bronze: BronzeExactlyOnce!, silverDLQ: SilverDLQExactlyOnce!, dlq: DLQCategorization!, sla: SLAs!
        var goldModel: GoldRecomputation!, gold: GoldExactlyOnce!, goldRows: GoldRows!
        var goldContent = GoldContent(p)
        var goldQuality = GoldDataQuality()
        var goldLatencies = GoldLatencies(input, tables)
        bothAtOnce({
            silverDLQ = SilverDLQExactlyOnce(input, tables) { k, i in content.claim(k, i) }
            content.claimsKnown()
            dlq = DLQCategorization(input, tables, fates: silverDLQ.fates)
            sla = SLAs(input, tables, silverDLQ)
            content.work()
        }, {
            bronze = BronzeExactlyOnce(input, tables)
            goldModel = GoldRecomputation(p, tables)
            // One copy of the model for the row pass (an implicitly unwrapped
            // optional read per row would copy it out every time).
            let model: GoldRecomputation = goldModel
            gold = GoldExactlyOnce(p, tables, model)
            // One read of the Gold table for the four checkers that look at its rows.
            goldRows = GoldRows(p, tables, model) { v in
                gold.visit(v, p.gold, tables.silver)
                goldContent.visit(v, p.gold, tables.silver, model)
                goldQuality.visit(v)
                goldLatencies.visit(v)
            }
            gold.finish(goldRows, tables.silver, goldModel)
            goldQuality.finish(p, tables, goldModel, goldRows)
            content.work()
        })
        let silverContent = content.checker
        sla.finish(goldLatencies)
        let accounting = Accounting(input, tables, bronze: bronze, silverDLQ: silverDLQ, gold: goldModel)
        let behind = BatchesBehind(input, tables)
        let metrics = MetricsAndAlert(input)
        let state = DedupState(input, goldModel)

        var r = OracleResult()
        r.checks = [
            bronze.result, silverDLQ.result, silverContent.result, dlq.result, gold.result, goldContent.result,
            goldQuality.result, accounting.result, behind.result, metrics.result, state.result,
        ]
        r.jobs = behind.jobs
        r.alertFired = metrics.alertFiredMicros != nil
        r.alertFirstFiredMicros = metrics.alertFiredMicros
        r.alert = metrics.alert
        r.silverLatencyP99Micros = sla.silverLatencyP99Micros
        r.silverRecordLatencyP99Micros = sla.silverRecordLatencyP99Micros
        r.recordLatencyP99Micros = sla.recordLatencyP99Micros
        r.endToEndP99Micros = sla.endToEndP99Micros
        r.lateDropped = goldModel.lateDropped
        r.duplicatesDropped = goldModel.duplicatesDropped
        r.dedupStateKeys = state.keys
        r.dedupStateBytes = state.bytes
        r.stateExhaustionHours = state.exhaustionHours

        r.figures["accounting"] = accounting.figures
        r.figures["dlq"] = .object([
            "rows": .int(Int64(p.dlq.rowCount)),
            "by_reason": .object(Dictionary(uniqueKeysWithValues: dlq.byReason.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            "by_category": .object(Dictionary(grouping: dlq.byReason, by: { $0.key.category.rawValue })
                .mapValues { .int($0.reduce(0) { $0 + $1.value }) }),
            "confusion_matrix": dlq.confusion.map { .object($0.mapValues { .object($0.mapValues { .int($0) }) }) } ?? .null,
            "silver_rows_not_verifiable": .int(silverContent.unverifiable),
        ])
        r.figures["metrics"] = metrics.metricFigures
        r.figures["alerts"] = metrics.alertFigures
        r.figures["sla"] = sla.figures
        var goldFigures: [String: JSONValue] = [
            "rows": .int(Int64(p.gold.rowCount)), "late_dropped": .int(r.lateDropped),
            "duplicates_dropped": .int(r.duplicatesDropped),
            "batches": .int(Int64(goldModel.batches.count)),
            "no_data_batches": .int(Int64(goldModel.batches.filter(\.record.isNoDataBatch).count)),
            "final_watermark": .string(UTCDateTime(micros: goldModel.finalWatermarkMs * 1_000).iso8601),
            "dedup_state": state.figures,
            "partitions": .object(Dictionary(p.gold.partitions.map { ("\($0.exchangeDate)/\(twoDigits($0.exchangeHour))", JSONValue.int($0.rowCount)) },
                                             uniquingKeysWith: { a, _ in a })),
        ]
        for (k, v) in goldQuality.figures { goldFigures[k] = v }
        r.figures["gold"] = .object(goldFigures)
        return r
    }

    /// The end offsets of the job's last committed batch (what its checkpoint says it has read).
    static func committedEndOffsets(_ p: Pipeline, _ job: JobName, count: Int) -> [Int64] {
        var end = [Int64](repeating: 0, count: count)
        for b in p.batchLog where b.job == job && b.outcome == .committed {
            for (i, o) in b.endOffsets.enumerated() where i < count { end[i] = max(end[i], o) }
        }
        return end
    }

    /// The producer create time of a Bronze row's record, read from the topic itself.
    static func kafkaCreateMicros(_ c: KafkaCluster, _ bronze: BronzeTable, _ row: Int) -> Micros {
        KafkaCreateTimes(c, bronze).micros(row)
    }

    static func twoDigits(_ h: Int) -> String { h < 10 ? "0\(h)" : "\(h)" }
}

/// The two exchanges' Bronze and Silver tables side by side, in the order
/// Binance, Kraken: the index `k` every checker uses for "which exchange".
struct ExchangeTables {
    let exchanges: [ExchangeName] = [.binance, .kraken]
    let bronze: [BronzeTable]
    let silver: [SilverTable]
    let bronzeJobs: [JobName] = [.bronzeBinance, .bronzeKraken]
    let silverJobs: [JobName] = [.silverBinance, .silverKraken]

    init(_ p: Pipeline) {
        bronze = [p.bronzeBinance, p.bronzeKraken]
        silver = [p.silverBinance, p.silverKraken]
    }

    /// `market.crypto.trades.binance-0@17`: where a Bronze row's record sits in Kafka.
    func address(_ k: Int, _ b: Int) -> String {
        "\(bronze[k].topicName)-\(bronze[k].partitionOf(b))@\(bronze[k].offsetOf(b))"
    }

    func label(_ truth: GroundTruth?, _ k: Int, _ b: Int) -> GroundTruthLabel? {
        truth?.label(topic: bronze[k].topicName, partition: bronze[k].partitionOf(b), offset: bronze[k].offsetOf(b))
    }
}

/// Runs `a` here and `b` on a thread of its own, and returns when both have.
/// For work that only reads what the other may read and writes apart.
func bothAtOnce(_ a: () -> Void, _ b: () -> Void) {
    withoutActuallyEscaping(b) { b in
        final class Work: @unchecked Sendable {
            var run: (() -> Void)?
            let done = DispatchSemaphore(value: 0)
            init(_ run: @escaping () -> Void) { self.run = run }
        }
        let work = Work(b)
        // The thread lets go of `b` before it signals: `b` must not outlive this call.
        let thread = Thread { work.run?(); work.run = nil; work.done.signal() }
        thread.stackSize = 8 << 20
        thread.start()
        a()
        work.done.wait()
    }
}
