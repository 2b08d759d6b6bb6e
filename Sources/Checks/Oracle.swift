import Broker
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
    public var silverLatencyP99Micros: Int64?
    public var endToEndP99Micros: Int64?
    public var lateDropped: Int64 = 0
    public var duplicatesDropped: Int64 = 0
    public var dedupStateKeys: Int64 = 0
    public var dedupStateBytes: Int64 = 0
    /// When Gold's dedup state would reach executor memory at this run's key rate.
    public var stateExhaustionHours: Int64?
    /// Gold's watermark lag (batch start - watermark) per Gold batch, for charts.
    public var watermarkLag: [(timeMicros: Micros, lagMicros: Micros)] = []
    public var stateSeries: [(timeMicros: Micros, keys: Int64)] = []

    public var passed: Bool { checks.allSatisfy(\.passed) }
}

/// Per-job timing figures, recomputed from the batch log's start and end times.
public struct JobFigures: Sendable {
    public var triggerMicros: Micros
    public var batches: Int = 0
    public var attempts: Int = 0
    public var processingMicros: [Int64] = []  // finished attempts, in order
    public var batchStarts: [Micros] = []
    public var batchRows: [Int64] = []
    public var behind: Int64 = 0
    /// Batches behind after each run's first (start-up) batch.
    public var behindAfterStartup: Int64 = 0
    public var minHeadroomAfterStartup: Int64?
    public var maxHeadroomAfterStartup: Int64?
    public var firstBatchMicros: Int64?
    public var backlogGrowing = false
    public var behindTimes: [Micros] = []
    /// Rows per batch in the steady state: after each run's start-up and
    /// catch-up batches, before the feeds stop.
    public var steadyRows: [Int64] = []
    /// (rows, processing time) of every finished batch after start-up, for the work-per-row fit.
    public var fitRows: [Int64] = []
    public var fitMicros: [Int64] = []
    public var steadyBehind: Int64 = 0
}

public enum Oracle {
    static let alertName = "SilverBinanceProcessingBehind"
    static let alertThreshold: Int64 = 3
    static let alertForMicros: Micros = 10 * Time.microsPerMinute
    static let alertEvaluationMicros: Micros = Time.microsPerMinute
    public static let silverLatencySLAMicros: Micros = 60 * Time.microsPerSecond
    public static let endToEndSLAMicros: Micros = 5 * Time.microsPerMinute

    // swiftlint:disable:next function_body_length
    public static func check(_ input: OracleInput) -> OracleResult {
        var r = OracleResult()
        let p = input.pipeline
        let bronzeTables = [p.bronzeBinance, p.bronzeKraken]
        let silverTables = [p.silverBinance, p.silverKraken]
        let exchanges: [ExchangeName] = [.binance, .kraken]

        // MARK: Bronze: every produced record exactly once, bytes untouched.
        var bronzeProblems: [String] = []
        var produced: Int64 = 0
        var bronzeInFlight: Int64 = 0
        for (k, e) in exchanges.enumerated() {
            let table = bronzeTables[k]
            guard let topic = input.cluster.topic(e.topic) else {
                if table.rowCount > 0 { bronzeProblems.append("\(table.name.rawValue) has rows but topic \(e.topic) does not exist") }
                continue
            }
            let job: JobName = k == 0 ? .bronzeBinance : .bronzeKraken
            let committedEnd = committedEndOffsets(p, job, count: topic.partitionCount)
            // Per partition, per record (by position in the log): how often Bronze holds it.
            // Offsets may have gaps (a replayed capture), so rows are matched by exact offset.
            var seen = topic.partitions.map { [UInt8](repeating: 0, count: $0.recordCount) }
            for i in 0..<table.rowCount {
                let part = Int(table.partitionOf(i)), off = table.offsetOf(i)
                guard part < seen.count, let pos = topic.partitions[part].exactPosition(ofOffset: off) else {
                    bronzeProblems.append("\(table.name.rawValue) row \(i): \(e.topic)-\(part)@\(off) was never produced")
                    continue
                }
                seen[part][pos] &+= 1
                if seen[part][pos] == 1 && table.value(i)[...] != topic.partitions[part].valueSlice(atPosition: pos) {
                    bronzeProblems.append("\(table.name.rawValue) row \(i): bytes differ from \(e.topic)-\(part)@\(off)")
                }
            }
            for (part, counts) in seen.enumerated() {
                produced += Int64(counts.count)
                let log = topic.partitions[part]
                for (pos, c) in counts.enumerated() where c != 1 {
                    let off = log.offset(atPosition: pos)
                    if c > 1 { bronzeProblems.append("\(e.topic)-\(part)@\(off) is in \(table.name.rawValue) \(c) times") }
                    if c == 0 {
                        if off < committedEnd[part] {
                            bronzeProblems.append("\(e.topic)-\(part)@\(off) is missing from \(table.name.rawValue) (its batch committed)")
                        } else { bronzeInFlight += 1 }
                    }
                }
            }
        }
        r.checks.append(.from("bronze_exactly_once", problems: bronzeProblems))

        // MARK: Silver and DLQ: every Bronze row in exactly one of them, content recomputed.
        var silverProblems: [String] = []
        var silverContentProblems: [String] = []
        var dlqProblems: [String] = []
        var silverInFlight: Int64 = 0
        var unverifiedSilver: Int64 = 0
        // Per Bronze row: where it went (-1: nowhere yet; else silver row index; -2: DLQ).
        var bronzeFate: [[Int]] = bronzeTables.map { [Int](repeating: -1, count: $0.rowCount) }
        var confusion: [String: [String: Int64]] = [:]
        func label(_ t: BronzeTable, _ i: Int) -> GroundTruthLabel? {
            input.groundTruth?.label(topic: t.topicName, partition: t.partitionOf(i), offset: t.offsetOf(i))
        }
        for k in 0..<2 {
            let silver = silverTables[k], bronze = bronzeTables[k], e = exchanges[k]
            for i in 0..<silver.rowCount {
                let row = silver.row(i)
                let b = row.sourceBronzeRow
                guard b >= 0 && b < bronze.rowCount else {
                    silverProblems.append("\(silver.name.rawValue) row \(i) points at Bronze row \(b), which does not exist"); continue
                }
                if bronzeFate[k][b] != -1 {
                    silverProblems.append("\(bronze.name.rawValue) row \(b) reached Silver/DLQ twice"); continue
                }
                bronzeFate[k][b] = i
                let bytes = bronze.value(b)
                switch ReferenceTradeReader.classify(bytes) {
                case .trade(let t, let id):
                    if t != row.trade { silverContentProblems.append("\(silver.name.rawValue) row \(i) differs from the trade in its Kafka bytes (\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b)))") }
                    if id != row.schemaId { silverContentProblems.append("\(silver.name.rawValue) row \(i): schema_id \(row.schemaId), bytes say \(id)") }
                case .trailingBytes, .unreadable:
                    if let id = WireFormat.schemaId(of: bytes), id == 1 || id == 2 {
                        silverContentProblems.append("\(silver.name.rawValue) row \(i) was decoded from bytes that are not a whole V\(id) record")
                    } else { unverifiedSilver += 1 }
                }
                if let reason = TradeValidator.firstFailure(row.trade, topicExchange: e) {
                    silverContentProblems.append("\(silver.name.rawValue) row \(i) (\(row.trade.messageId)) fails validation: \(reason.rawValue)")
                }
                if let l = label(bronze, b), case .deadLetter(let want) = l.outcome {
                    dlqProblems.append("\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b)) should be in the DLQ as \(want.rawValue) but is in \(silver.name.rawValue)")
                }
            }
        }
        var dlqByReason: [DeadLetterReason: Int64] = [:]
        var dlqReasonOfBronze: [[Int: DeadLetterReason]] = [[:], [:]]  // lookups only
        for i in 0..<p.dlq.rowCount {
            let row = p.dlq.row(i)
            guard let k = bronzeTables.firstIndex(where: { $0.name == row.sourceTable }) else {
                dlqProblems.append("DLQ row \(i) comes from \(row.sourceTable.rawValue), not a Bronze table"); continue
            }
            let bronze = bronzeTables[k], b = row.sourceBronzeRow
            guard b >= 0 && b < bronze.rowCount else { dlqProblems.append("DLQ row \(i) points at a missing Bronze row"); continue }
            if bronzeFate[k][b] != -1 { silverProblems.append("\(bronze.name.rawValue) row \(b) reached Silver/DLQ twice"); continue }
            bronzeFate[k][b] = -2
            dlqReasonOfBronze[k][b] = row.errorReason
            dlqByReason[row.errorReason, default: 0] += 1
            if row.sourceTopic != bronze.topicName || row.sourcePartition != bronze.partitionOf(b) || row.sourceOffset != bronze.offsetOf(b) {
                dlqProblems.append("DLQ row \(i): source \(row.sourceTopic)-\(row.sourcePartition)@\(row.sourceOffset) is not its Bronze row's")
            }
            if row.rawValue != bronze.value(b) { dlqProblems.append("DLQ row \(i): raw bytes differ from its Bronze row") }
            if row.errorCategory != row.errorReason.category {
                dlqProblems.append("DLQ row \(i): category \(row.errorCategory.rawValue) does not own reason \(row.errorReason.rawValue)")
            }
            if row.exchange != exchanges[k].rawValue { dlqProblems.append("DLQ row \(i): exchange \(row.exchange), topic of \(exchanges[k].rawValue)") }
            // Independent of labels: what the bytes themselves say, where that is determined.
            if let want = independentReason(bronze.value(b), exchange: exchanges[k], registry: input.registry), want != row.errorReason {
                dlqProblems.append("DLQ row \(i) (\(row.sourceTopic)-\(row.sourcePartition)@\(row.sourceOffset)): reason \(row.errorReason.rawValue), the bytes say \(want.rawValue)")
            }
        }
        // Confusion matrix: injected (labels) against actual, over every Bronze row.
        for k in 0..<2 {
            let bronze = bronzeTables[k]
            let silverJob: JobName = k == 0 ? .silverBinance : .silverKraken
            let readEnd = Int(committedEndOffsets(p, silverJob, count: 1)[0])
            for b in 0..<bronze.rowCount {
                let fate = bronzeFate[k][b]
                if fate == -1 {
                    if b < readEnd { silverProblems.append("\(bronze.name.rawValue) row \(b) is in neither Silver nor the DLQ (its batch committed)") }
                    else { silverInFlight += 1 }
                }
                guard let l = label(bronze, b) else { continue }
                let injected: String
                if case .deadLetter(let want) = l.outcome { injected = want.rawValue } else { injected = "VALID" }
                let actual: String
                switch fate {
                case -1: actual = "IN_FLIGHT"
                case -2: actual = dlqReasonOfBronze[k][b]?.rawValue ?? "?"
                default: actual = "NOT_IN_DLQ"
                }
                confusion[injected, default: [:]][actual, default: 0] += 1
                if case .deadLetter(let want) = l.outcome, fate == -2, actual != want.rawValue {
                    dlqProblems.append("\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b)): injected \(want.rawValue), DLQ says \(actual)")
                }
                if injected == "VALID" && fate == -2 {
                    dlqProblems.append("a valid trade (\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b))) landed in the DLQ as \(actual)")
                }
            }
        }
        r.checks.append(.from("silver_dlq_exactly_once", problems: silverProblems))
        r.checks.append(.from("silver_content", problems: silverContentProblems))
        r.checks.append(.from("dlq_categorization", problems: input.groundTruth == nil && dlqProblems.isEmpty
            ? [] : dlqProblems))

        // MARK: Gold: watermarks, late filter and dedup recomputed from the rows each batch read.
        var goldProblems: [String] = []
        var goldContentProblems: [String] = []
        let delayMs = ms(p.config.watermarkDelayMicros)
        let goldBatches = p.batchLog.filter { $0.job == .gold && $0.outcome == .committed }.sorted { $0.batchId < $1.batchId }
        var lastId: Int64 = -1
        for b in goldBatches {
            if b.batchId == lastId { goldProblems.append("gold batch \(b.batchId) committed twice") }
            else if b.batchId != lastId + 1 { goldProblems.append("gold batch ids jump from \(lastId) to \(b.batchId)") }
            lastId = b.batchId
        }
        var maxEventMs: [Int64?] = [nil, nil]
        var globalWatermarkMs: Int64 = 0       // computed at the end of the latest batch
        var previousBatchWatermarkMs: Int64 = 0 // the watermark of the previous batch
        var accepted: [String: (input: Int, row: Int, batch: Int64)] = [:]
        var silverFate: [[UInt8]] = silverTables.map { [UInt8](repeating: 0, count: $0.rowCount) }  // 1 gold, 2 late, 3 dup
        var expectedLate = Set<Int64>(), expectedDup = Set<Int64>()  // input << 40 | row
        var readEnd: [Int64] = [0, 0]
        var batchTimestampMs: [Int64: Int64] = [:]
        var watermarkMoved: [Int64: Bool] = [:]
        for b in goldBatches {
            batchTimestampMs[b.batchId] = b.batchTimestampMs
            if b.watermarkMs != globalWatermarkMs {
                goldProblems.append("gold batch \(b.batchId): watermark \(b.watermarkMs) ms, recomputed \(globalWatermarkMs) ms")
            }
            let threshold = previousBatchWatermarkMs
            if b.lateThresholdMs != threshold {
                goldProblems.append("gold batch \(b.batchId): late threshold \(b.lateThresholdMs) ms, recomputed \(threshold) ms (the previous batch's watermark)")
            }
            guard b.startOffsets.count == 2, b.endOffsets.count == 2 else {
                goldProblems.append("gold batch \(b.batchId) does not name its two Silver ranges"); continue
            }
            for k in 0..<2 {
                if b.startOffsets[k] != readEnd[k] {
                    goldProblems.append("gold batch \(b.batchId) reads \(silverTables[k].name.rawValue) from row \(b.startOffsets[k]), the previous batch ended at \(readEnd[k])")
                }
                readEnd[k] = b.endOffsets[k]
                guard b.endOffsets[k] <= Int64(silverTables[k].rowCount) else {
                    goldProblems.append("gold batch \(b.batchId) reads past the end of \(silverTables[k].name.rawValue)"); continue
                }
                for row in Int(b.startOffsets[k])..<Int(b.endOffsets[k]) {
                    let t = silverTables[k].row(row).trade
                    let eventMs = Time.floorDiv(t.timestampMicros, Time.microsPerSecond) * 1_000
                    if maxEventMs[k] == nil || eventMs > maxEventMs[k]! { maxEventMs[k] = eventMs }
                    let key = Int64(k) << 40 | Int64(row)
                    if eventMs <= threshold {
                        expectedLate.insert(key); silverFate[k][row] = 2
                    } else if accepted[t.messageId] != nil {
                        expectedDup.insert(key); silverFate[k][row] = 3
                    } else {
                        accepted[t.messageId] = (k, row, b.batchId); silverFate[k][row] = 1
                    }
                }
            }
            // Spark's WatermarkTracker: an input that has never had data counts as 0;
            // the global watermark is the minimum, and never goes down.
            let perInput = maxEventMs.map { $0.map { $0 - delayMs } ?? 0 }
            let candidate = perInput.min()!
            let before = globalWatermarkMs
            if candidate > globalWatermarkMs { globalWatermarkMs = candidate }
            watermarkMoved[b.batchId] = globalWatermarkMs > before
            if let after = b.watermarkAfterMs, after != globalWatermarkMs {
                goldProblems.append("gold batch \(b.batchId): watermark after \(after) ms, recomputed \(globalWatermarkMs) ms")
            }
            previousBatchWatermarkMs = b.watermarkMs
            r.watermarkLag.append((b.startMicros, b.startMicros - globalWatermarkMs * 1_000))
            r.stateSeries.append((b.startMicros, Int64(accepted.count)))
        }
        // A batch that moved the watermark is followed by a batch at the next trigger, data or not.
        for b in goldBatches where watermarkMoved[b.batchId] == true {
            let next = goldBatches.first { $0.batchId == b.batchId + 1 }
            if next == nil, let end = b.endMicros, end + b.triggerMicros < input.pipeline.config.endMicros {
                goldProblems.append("gold batch \(b.batchId) moved the watermark but no batch followed it")
            }
        }
        // The engine's drops against the recomputation.
        var engineLate = Set<Int64>(), engineDup = Set<Int64>()
        for d in p.droppedRows {
            guard let k = silverTables.firstIndex(where: { $0.name == d.sourceTable }) else { continue }
            let key = Int64(k) << 40 | Int64(d.sourceRow)
            let (inserted, _) = d.kind == .late ? engineLate.insert(key) : engineDup.insert(key)
            if !inserted { goldProblems.append("\(d.sourceTable.rawValue) row \(d.sourceRow) dropped twice (\(d.kind.rawValue))") }
            if d.kind == .late && d.eventTimeMs > d.lateThresholdMs {
                goldProblems.append("\(d.messageId) dropped as late with event time \(d.eventTimeMs) ms above its threshold \(d.lateThresholdMs) ms")
            }
        }
        for key in expectedLate.subtracting(engineLate).sorted().prefix(5) {
            goldProblems.append("\(silverTables[Int(key >> 40)].name.rawValue) row \(key & 0xFF_FFFF_FFFF) is late by the recomputed watermark but was not dropped as late")
        }
        for key in engineLate.subtracting(expectedLate).sorted().prefix(5) {
            goldProblems.append("\(silverTables[Int(key >> 40)].name.rawValue) row \(key & 0xFF_FFFF_FFFF) was dropped as late but is not late by the recomputed watermark")
        }
        if expectedDup != engineDup {
            goldProblems.append("duplicate drops: \(engineDup.count) by the engine, \(expectedDup.count) recomputed")
        }
        // Gold rows: exactly the accepted ids, once each, equal to their Silver source.
        let snapshots = p.gold.snapshots
        var seenIds = Set<String>()
        var snapIndex = 0
        for i in 0..<p.gold.rowCount {
            while snapIndex < snapshots.count && i >= snapshots[snapIndex].firstRow + snapshots[snapIndex].rowCount { snapIndex += 1 }
            let row = p.gold.row(i)
            let id = row.trade.messageId
            guard seenIds.insert(id).inserted else { goldProblems.append("message_id \(id) is in Gold twice"); continue }
            guard let a = accepted[id] else { goldProblems.append("message_id \(id) is in Gold but no recomputed batch accepted it"); continue }
            if silverTables[a.input].name != row.sourceTable || a.row != row.sourceRow {
                goldProblems.append("Gold row \(i) (\(id)) comes from \(row.sourceTable.rawValue) row \(row.sourceRow), recomputed \(silverTables[a.input].name.rawValue) row \(a.row)")
            }
            let source = silverTables[a.input].row(a.row).trade
            // Gold holds vendor_data only as its JSON string, compared below.
            var fields = row.trade
            fields.vendorData = source.vendorData
            if fields != source { goldContentProblems.append("Gold row \(i) (\(id)) differs from its Silver row") }
            if row.vendorDataJSON != source.vendorData.map({ vendorJSON($0) }) {
                goldContentProblems.append("Gold row \(i) (\(id)): vendor_data \(row.vendorDataJSON ?? "null"), expected \(source.vendorData.map { vendorJSON($0) } ?? "null")")
            }
            let eventSeconds = Time.floorDiv(source.timestampMicros, Time.microsPerSecond)
            let civil = UTCDateTime(micros: eventSeconds * Time.microsPerSecond)
            if row.eventTimeSeconds != eventSeconds || row.exchangeDate != civil.dateString || Int64(row.exchangeHour) != civil.hour {
                goldContentProblems.append("Gold row \(i) (\(id)): partition \(row.exchangeDate)/\(row.exchangeHour), event time says \(civil.dateString)/\(civil.hour)")
            }
            if snapIndex < snapshots.count, let ts = batchTimestampMs[snapshots[snapIndex].batchId],
               row.goldIngestionTimestampMicros != ts * Time.microsPerMilli {
                goldContentProblems.append("Gold row \(i) (\(id)): gold_ingestion_timestamp is not its batch's timestamp")
            }
        }
        for (id, a) in accepted.sorted(by: { $0.key < $1.key }) where !seenIds.contains(id) {
            goldProblems.append("message_id \(id) (\(silverTables[a.input].name.rawValue) row \(a.row), gold batch \(a.batch)) is missing from Gold")
        }
        r.lateDropped = Int64(expectedLate.count)
        r.duplicatesDropped = Int64(expectedDup.count)
        r.checks.append(.from("gold_exactly_once", problems: goldProblems))
        r.checks.append(.from("gold_content", problems: goldContentProblems))

        // MARK: Accounting: produced = gold + late + duplicates + DLQ (+ still in flight).
        let goldRows = Int64(p.gold.rowCount), dlqRows = Int64(p.dlq.rowCount)
        let silverRows = Int64(p.silverBinance.rowCount + p.silverKraken.rowCount)
        let goldInFlight = silverRows - Int64(readEnd[0] + readEnd[1])
        let inFlight = bronzeInFlight + silverInFlight + goldInFlight
        let unexplained = produced - (goldRows + r.lateDropped + r.duplicatesDropped + dlqRows + inFlight)
        var accountingProblems: [String] = []
        if unexplained != 0 {
            accountingProblems.append("\(unexplained) produced messages are unexplained: produced \(produced) = gold \(goldRows) + late \(r.lateDropped) + duplicates \(r.duplicatesDropped) + DLQ \(dlqRows) + in flight \(inFlight) does not hold")
        }
        // Each label honoured: what the ground truth says must happen did.
        var fates: [String: [String: Int64]] = [:]
        if let truth = input.groundTruth {
            for k in 0..<2 {
                let bronze = bronzeTables[k]
                for b in 0..<bronze.rowCount {
                    guard let l = truth.label(topic: bronze.topicName, partition: bronze.partitionOf(b), offset: bronze.offsetOf(b)) else {
                        accountingProblems.append("\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b)) has no ground-truth label"); continue
                    }
                    let fate: String
                    switch bronzeFate[k][b] {
                    case -1: fate = "in_flight"
                    case -2: fate = "dlq"
                    case let s:
                        switch silverFate[k][s] { case 1: fate = "gold"; case 2: fate = "late"; case 3: fate = "duplicate"; default: fate = "in_flight" }
                    }
                    let outcome: String
                    switch l.outcome { case .deadLetter: outcome = "dlq"; default: outcome = l.outcome.name }
                    fates[outcome, default: [:]][fate, default: 0] += 1
                    let ok: Bool
                    switch (l.outcome, fate) {
                    case (_, "in_flight"): ok = true
                    case (.gold, "gold"), (.gold, "late"), (.backfill, "gold"), (.backfill, "late"): ok = true
                    case (.duplicate, "duplicate"), (.duplicate, "late"): ok = true
                    case (.deadLetter, "dlq"): ok = true
                    default: ok = false
                    }
                    if !ok {
                        accountingProblems.append("\(bronze.topicName)-\(bronze.partitionOf(b))@\(bronze.offsetOf(b)): labelled \(l.outcome.name) (\(l.fault.rawValue)) but ended as \(fate)")
                    }
                }
            }
        }
        r.checks.append(.from("accounting", problems: accountingProblems))
        r.figures["accounting"] = .object([
            "produced": .int(produced), "gold": .int(goldRows), "late_dropped": .int(r.lateDropped),
            "duplicates_dropped": .int(r.duplicatesDropped), "dlq": .int(dlqRows), "in_flight": .int(inFlight),
            "unexplained": .int(unexplained),
            "in_flight_by_layer": .object(["kafka_to_bronze": .int(bronzeInFlight), "bronze_to_silver": .int(silverInFlight),
                                           "silver_to_gold": .int(goldInFlight)]),
            "by_label": .object(fates.mapValues { .object($0.mapValues { .int($0) }) }),
        ])
        r.figures["dlq"] = .object([
            "rows": .int(dlqRows),
            "by_reason": .object(Dictionary(uniqueKeysWithValues: dlqByReason.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            "by_category": .object(Dictionary(grouping: dlqByReason, by: { $0.key.category.rawValue })
                .mapValues { .int($0.reduce(0) { $0 + $1.value }) }),
            "confusion_matrix": input.groundTruth == nil ? .null
                : .object(confusion.mapValues { .object($0.mapValues { .int($0) }) }),
            "silver_rows_not_verifiable": .int(unverifiedSilver),
        ])

        // MARK: Jobs: timing, headroom, batches behind, recomputed from start and end times.
        var jobProblems: [String] = []
        for job in JobName.allCases {
            let records = p.batchLog.filter { $0.job == job }
            guard let jc = p.config.jobs.first(where: { $0.job == job }) else { continue }
            var f = JobFigures(triggerMicros: jc.triggerMicros)
            var runsSeen = Set<Int>()
            var batchesInRun: [Int: Int] = [:]
            for b in records {
                f.attempts += 1
                if b.outcome == .committed { f.batches += 1 }
                guard let end = b.endMicros else { continue }
                let elapsed = end - b.startMicros
                f.processingMicros.append(elapsed)
                f.batchStarts.append(b.startMicros)
                f.batchRows.append(Int64(b.rowsIn))
                let isStartup = runsSeen.insert(b.runNumber).inserted
                batchesInRun[b.runNumber, default: 0] += 1
                // The batch after start-up works off the backlog the start-up built.
                let isCatchUp = batchesInRun[b.runNumber] == 2
                if isStartup && f.firstBatchMicros == nil { f.firstBatchMicros = elapsed }
                // Spark's ProcessingTimeExecutor: behind when elapsed > interval, strictly.
                let behind = elapsed > jc.triggerMicros
                if behind != b.behind {
                    jobProblems.append("\(job.rawValue) batch \(b.batchId): took \(ms(elapsed)) ms of a \(ms(jc.triggerMicros)) ms trigger, engine says behind=\(b.behind)")
                }
                if behind { f.behind += 1; f.behindTimes.append(end); if !isStartup { f.behindAfterStartup += 1 } }
                if !isStartup && !b.isNoDataBatch { f.fitRows.append(Int64(b.rowsIn)); f.fitMicros.append(elapsed) }
                // The headroom band is the feed's steady state: not start-up, not
                // the drain after the feeds stop (whose batches are small by construction).
                if !isStartup && !isCatchUp && !b.isNoDataBatch && b.startMicros < input.feedEndMicros {
                    f.steadyRows.append(Int64(b.rowsIn))
                    if behind { f.steadyBehind += 1 }
                    let headroom = jc.triggerMicros - elapsed
                    f.minHeadroomAfterStartup = min(f.minHeadroomAfterStartup ?? headroom, headroom)
                    f.maxHeadroomAfterStartup = max(f.maxHeadroomAfterStartup ?? headroom, headroom)
                }
            }
            // Does the backlog keep growing? A job that overruns its trigger starts
            // its next batch at once and reads what arrived meanwhile: rows' = R x D,
            // with D = a + c x rows its batch time. So batch sizes follow
            // rows' = R a + (R c) rows, which settles (at a longer cadence) when
            // R c < 1 and grows without bound when R c >= 1. c, seconds of work per
            // row, is fitted by least squares on the job's measured batches (after
            // start-up, no-data batches aside); R is the rate messages arrived on the
            // topics upstream of the job over the feed (not what it managed to read).
            // Only a job behind on most steady batches can be growing.
            let upstream = job.exchange.map { [$0] } ?? exchanges
            let arrived = upstream.reduce(Int64(0)) { sum, e in
                sum + (input.cluster.topic(e.topic)?.partitions.reduce(Int64(0)) { $0 + Int64($1.recordCount) } ?? 0)
            }
            f.backlogGrowing = f.steadyBehind * 2 > Int64(f.steadyRows.count)
                && Self.rowsOutpaceWork(f.fitRows, f.fitMicros, rowsPerSecond:
                    Double(arrived) * 1e6 / Double(max(1, input.feedEndMicros - input.feedStartMicros)))
            r.jobs[job] = f
        }
        r.checks.append(.from("batches_behind_recomputed", problems: jobProblems))

        // Metrics: k2_silver_batches_behind_total{exchange} from the batch log, and the engine's last sample.
        var metricProblems: [String] = []
        var behindTotals: [String: JSONValue] = [:]
        for (job, e) in [(JobName.silverBinance, ExchangeName.binance), (.silverKraken, .kraken)] {
            let mine = r.jobs[job]?.behind ?? 0
            behindTotals[e.lowercased] = .int(mine)
            let engine = p.metrics.last { $0.name == "k2_silver_batches_behind_total" && $0.labels.contains { $0.value == e.lowercased } }
            if let engine, Int64(engine.value) != mine {
                metricProblems.append("k2_silver_batches_behind_total{exchange=\"\(e.lowercased)\"} is \(engine.value), recomputed \(mine)")
            }
        }
        var quantiles: [String: JSONValue] = [:]
        for s in p.metrics where s.name == "k2_silver_batch_processing_seconds" {
            let labels = s.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            quantiles[labels] = .number(formatSeconds(s.value))
        }
        r.checks.append(.from("metrics", problems: metricProblems))

        // The alert: k2_silver_batches_behind_total{exchange="binance"} > 3 for 10m, evaluated every minute.
        let behindTimes = r.jobs[.silverBinance]?.behindTimes ?? []
        var pendingSince: Micros?
        var t = input.feedStartMicros
        while t <= p.config.endMicros {
            let count = Int64(behindTimes.filter { $0 <= t }.count)
            if count > alertThreshold {
                if pendingSince == nil { pendingSince = t }
                if t - pendingSince! >= alertForMicros { r.alertFired = true; r.alertFirstFiredMicros = t; break }
            } else { pendingSince = nil }
            t += alertEvaluationMicros
        }
        r.figures["metrics"] = .object([
            "k2_silver_batches_behind_total": .object(behindTotals),
            "k2_silver_batch_processing_seconds": .object(quantiles),
        ])
        r.figures["alerts"] = .object([alertName: .object([
            "expr": .string("k2_silver_batches_behind_total{exchange=\"binance\"} > 3"), "for": .string("10m"),
            "fired": .bool(r.alertFired),
            "first_fired_at": r.alertFirstFiredMicros.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
        ])])

        // MARK: SLAs: Silver latency and end-to-end latency, from commit times.
        // Measured over messages produced after every job's first (start-up)
        // batch ended: the steady state an SLA monitor sees, not the cold start.
        var warmedUp = input.feedStartMicros
        for job in JobName.allCases {
            if let first = p.batchLog.first(where: { $0.job == job })?.endMicros { warmedUp = max(warmedUp, first) }
        }
        var e2e: [Int64] = []
        // Silver latency (SPEC §6, the SLA on k2_silver_batch_processing_seconds):
        // Silver batch processing time, both exchanges, after each run's start-up batch.
        var silverLatencies: [Int64] = []
        for job in [JobName.silverBinance, .silverKraken] {
            var runs = Set<Int>()
            for b in p.batchLog where b.job == job {
                guard let end = b.endMicros else { continue }
                if runs.insert(b.runNumber).inserted { continue }
                silverLatencies.append(end - b.startMicros)
            }
        }
        var gi = 0
        let goldSnaps = p.gold.snapshots
        for i in 0..<p.gold.rowCount {
            while gi < goldSnaps.count && i >= goldSnaps[gi].firstRow + goldSnaps[gi].rowCount { gi += 1 }
            guard gi < goldSnaps.count else { break }
            let row = p.gold.row(i)
            guard let k = silverTables.firstIndex(where: { $0.name == row.sourceTable }) else { continue }
            let b = silverTables[k].row(row.sourceRow).sourceBronzeRow
            let created = kafkaCreateMicros(input.cluster, bronzeTables[k], b)
            if created >= warmedUp { e2e.append(goldSnaps[gi].committedAtMicros - created) }
        }
        silverLatencies.sort(); e2e.sort()
        r.silverLatencyP99Micros = percentile(silverLatencies, 99)
        r.endToEndP99Micros = percentile(e2e, 99)
        let silverOK = (r.silverLatencyP99Micros ?? 0) < silverLatencySLAMicros
        let e2eOK = (r.endToEndP99Micros ?? 0) < endToEndSLAMicros
        r.figures["sla"] = .object([
            "end_to_end_measured_from": .string(UTCDateTime(micros: warmedUp).iso8601),
            "silver_batch_processing_ms": .object(["p50": .optional(percentile(silverLatencies, 50).map(ms)),
                                          "p99": .optional(r.silverLatencyP99Micros.map(ms)),
                                          "max": .optional(silverLatencies.last.map(ms)), "target_p99_ms": .int(ms(silverLatencySLAMicros)),
                                          "holds": .bool(silverOK)]),
            "end_to_end_ms": .object(["p50": .optional(percentile(e2e, 50).map(ms)), "p99": .optional(r.endToEndP99Micros.map(ms)),
                                      "max": .optional(e2e.last.map(ms)), "target_p99_ms": .int(ms(endToEndSLAMicros)),
                                      "holds": .bool(e2eOK)]),
        ])

        // MARK: Gold's dedup state: never evicted, so it only grows.
        var stateProblems: [String] = []
        r.dedupStateKeys = Int64(accepted.count)
        let perKey = p.config.profile[.gold].stateBytesPerKey
        r.dedupStateBytes = r.dedupStateKeys * perKey
        if let last = goldBatches.last, Int64(last.stateKeys) != r.dedupStateKeys {
            stateProblems.append("the engine reports \(last.stateKeys) dedup keys, recomputed \(r.dedupStateKeys)")
        }
        let memory = p.config.profile[.gold].executorMemoryBytes
        let feedHours = max(1, input.feedEndMicros - input.feedStartMicros)
        if r.dedupStateKeys > 0 && perKey > 0 {
            // keys per hour at this run's rate -> hours until state = memory
            let keysPerHour = r.dedupStateKeys * Time.microsPerHour / feedHours
            if keysPerHour > 0 { r.stateExhaustionHours = memory / (perKey * keysPerHour) }
        }
        r.checks.append(.from("dedup_state", problems: stateProblems))
        r.figures["gold"] = .object([
            "rows": .int(goldRows), "late_dropped": .int(r.lateDropped), "duplicates_dropped": .int(r.duplicatesDropped),
            "batches": .int(Int64(goldBatches.count)),
            "no_data_batches": .int(Int64(goldBatches.filter(\.isNoDataBatch).count)),
            "final_watermark": .string(UTCDateTime(micros: globalWatermarkMs * 1_000).iso8601),
            "dedup_state": .object(["keys": .int(r.dedupStateKeys), "bytes": .int(r.dedupStateBytes),
                                    "executor_memory_bytes": .int(memory),
                                    "hours_until_memory_exhausted_at_this_rate": .optional(r.stateExhaustionHours),
                                    "exhausted_during_run": .bool(p.stateExhaustion != nil)]),
            "partitions": .object(Dictionary(p.gold.partitions.map { ("\($0.exchangeDate)/\(twoDigits($0.exchangeHour))", JSONValue.int($0.rowCount)) },
                                             uniquingKeysWith: { a, _ in a })),
        ])
        return r
    }

    /// True when the fitted work per row times the arrival rate is at least 1
    /// (see the backlog comment in `check`). Needs a spread of batch sizes.
    static func rowsOutpaceWork(_ rows: [Int64], _ micros: [Int64], rowsPerSecond: Double) -> Bool {
        let n = Double(rows.count)
        guard rows.count >= 3 else { return false }
        let mx = Double(rows.reduce(0, +)) / n, my = Double(micros.reduce(0, +)) / n
        var sxy = 0.0, sxx = 0.0
        for (x, y) in zip(rows, micros) {
            sxy += (Double(x) - mx) * (Double(y) - my)
            sxx += (Double(x) - mx) * (Double(x) - mx)
        }
        guard sxx > 0 else { return false }
        let secondsPerRow = sxy / sxx / 1e6
        return secondsPerRow * rowsPerSecond >= 1
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
        c.topic(bronze.topicName)!.partitions[Int(bronze.partitionOf(row))].timestampMs(at: bronze.offsetOf(row)) * Time.microsPerMilli
    }

    /// The DLQ reason the bytes themselves determine, without the codec: the
    /// header checks, a schema id the registry does not know, and — for the
    /// two standard layouts — the reference reader and the validation rules.
    /// nil when only the codec can tell (another registered writer schema).
    static func independentReason(_ bytes: [UInt8], exchange: ExchangeName, registry: SchemaRegistry) -> DeadLetterReason? {
        if bytes.isEmpty { return .emptyPayload }
        if bytes.count < 5 { return .truncatedHeader }
        if bytes[0] != 0 { return .invalidMagicByte }
        guard let id = WireFormat.schemaId(of: bytes) else { return nil }
        if registry.schemaJSON(id: id) == nil { return .unknownSchemaId }
        guard id == 1 || id == 2 else { return nil }
        switch ReferenceTradeReader.classify(bytes) {
        case .unreadable: return .avroDecodeError
        case .trailingBytes: return .trailingBytes
        case .trade(let t, _): return TradeValidator.firstFailure(t, topicExchange: exchange)
        }
    }

    /// Gold's vendor_data: a JSON object with keys sorted by UTF-8 bytes.
    static func vendorJSON(_ m: [String: String]) -> String {
        JSONValue.object(m.mapValues { .string($0) }).compact
    }

    static func twoDigits(_ h: Int) -> String { h < 10 ? "0\(h)" : "\(h)" }

    /// Seconds with millisecond precision, formatted from an integer (no float printing).
    static func formatSeconds(_ v: Double) -> String {
        let millis = Int64((v * 1_000).rounded(.toNearestOrEven))
        let sign = millis < 0 ? "-" : ""
        let m = millis.magnitude
        let frac = String(m % 1_000)
        return "\(sign)\(m / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
