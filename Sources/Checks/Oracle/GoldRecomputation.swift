import Engine
import Kernel

/// Spark's Gold query replayed from the outside, over the Silver rows each
/// committed Gold batch says it read: per-input maximum event time, a global
/// watermark that is the minimum over inputs (an input without data counts as
/// 0) and never goes down, the previous batch's watermark as the late
/// threshold, and first-wins deduplication on message_id with state that is
/// never evicted.
///
/// Restarts (a committed batch whose run number differs from the previous
/// one's) follow Spark's `populateStartOffsets`: the per-input maxima are
/// forgotten (a new `WatermarkTracker`), and the global watermark comes back
/// as the offset log's value of the batch being re-run, or, after a committed
/// batch, as max(its offset-log value, its commit log's nextBatchWatermarkMs).
/// Both equal the global value the recomputation already holds, so only the
/// per-input reset shows; an engine that restored the offset log's value
/// alone after a committed batch fails on the next batch's watermark.
///
/// With `pipeline.gold_watermark: binance_only` only Binance's input is
/// watermarked: the global watermark is Binance's alone, and the late filter
/// still applies to every row of the union. The recomputation follows that,
/// and also keeps the watermark the design (both inputs) would have had over
/// the same batches, so that rows dropped only because Kraken does not hold
/// the watermark back can be named (`lostToOneWatermark`).
///
/// A model, not a checker: it says what each batch should have done. The Gold
/// checkers compare the engine's batch log, drops and table with it.
struct GoldRecomputation {
    /// One committed Gold batch and what the recomputation says about it.
    struct Batch {
        var record: BatchRecord
        /// The global watermark before the batch (what the batch should run with).
        var watermarkMs: Int64
        /// The late threshold it should use: the previous batch's watermark (as logged).
        var lateThresholdMs: Int64
        /// false when the batch does not name its two Silver ranges (it is then not replayed).
        var namesRanges = true
        /// Per input: the row the previous batch's range ended at.
        var expectedStart: [Int64] = []
        /// Per input: the range ends past the Silver table's end (that input is not replayed).
        var readsPastEnd: [Bool] = []
        /// The global watermark after the batch.
        var watermarkAfterMs: Int64?
        var movedWatermark = false
        /// Dedup keys held after the batch.
        var stateKeysAfter: Int64?
    }

    /// Committed Gold batches in batch id order.
    private(set) var batches: [Batch] = []
    /// message_id -> the Silver row whose batch accepted it first.
    private(set) var accepted: [String: (ref: SilverRowRef, batchId: Int64)] = [:]
    /// Per input (`ExchangeTables` order), per Silver row: what Gold did with it.
    private(set) var fates: [[SilverFate]]
    private(set) var expectedLate = Set<SilverRowRef>()
    private(set) var expectedDuplicates = Set<SilverRowRef>()
    /// Per input: where the last batch's range ended.
    private(set) var readEnd: [Int64] = [0, 0]
    private(set) var finalWatermarkMs: Int64 = 0
    private(set) var batchTimestampMs: [Int64: Int64] = [:]
    /// One row dropped as late that a watermark on both inputs would have kept.
    struct OneWatermarkDrop {
        var ref: SilverRowRef
        var batchId: Int64
        var eventMs: Int64
        var thresholdMs: Int64
        /// The late threshold with both inputs watermarked (min policy), over the same batches.
        var bothThresholdMs: Int64
    }
    /// `gold_watermark: binance_only`: late drops the design would not have made.
    private(set) var lostToOneWatermark: [OneWatermarkDrop] = []

    var lateDropped: Int64 { Int64(expectedLate.count) }
    var duplicatesDropped: Int64 { Int64(expectedDuplicates.count) }

    init(_ p: Pipeline, _ tables: ExchangeTables) {
        let silver = tables.silver
        let delayMs = millis(fromMicros: p.config.watermarkDelayMicros)
        fates = silver.map { [SilverFate](repeating: .unread, count: $0.rowCount) }
        var maxEventMs: [Int64?] = [nil, nil]
        var global: Int64 = 0
        var previousBatchWatermarkMs: Int64 = 0
        var previousRun: Int?
        let oneInput = p.config.goldWatermark == .binanceOnly
        // The design's watermark over the same batches (only tracked under binance_only).
        var bothGlobal: Int64 = 0, bothBeforePrevious: Int64 = 0
        let records = p.batchLog.filter { $0.job == .gold && $0.outcome == .committed }.sorted { $0.batchId < $1.batchId }
        for b in records {
            batchTimestampMs[b.batchId] = b.batchTimestampMs
            if let r = previousRun, r != b.runNumber { maxEventMs = [nil, nil] }  // restarted: inputs start afresh
            previousRun = b.runNumber
            var step = Batch(record: b, watermarkMs: global, lateThresholdMs: previousBatchWatermarkMs)
            guard b.startOffsets.count == 2, b.endOffsets.count == 2 else {
                step.namesRanges = false; batches.append(step); continue
            }
            let threshold = previousBatchWatermarkMs
            let bothThreshold = bothBeforePrevious, bothAtStart = bothGlobal
            for k in 0..<2 {
                step.expectedStart.append(readEnd[k])
                readEnd[k] = b.endOffsets[k]
                let pastEnd = b.endOffsets[k] > Int64(silver[k].rowCount)
                step.readsPastEnd.append(pastEnd)
                if pastEnd { continue }
                for row in Int(b.startOffsets[k])..<Int(b.endOffsets[k]) {
                    let t = silver[k].row(row).trade
                    let eventMs = Time.floorDiv(t.timestampMicros, Time.microsPerSecond) * 1_000
                    if maxEventMs[k] == nil || eventMs > maxEventMs[k]! { maxEventMs[k] = eventMs }
                    let ref = SilverRowRef(input: k, row: row)
                    if eventMs <= threshold {
                        expectedLate.insert(ref); fates[k][row] = .late
                        if oneInput && eventMs > bothThreshold {
                            lostToOneWatermark.append(OneWatermarkDrop(ref: ref, batchId: b.batchId, eventMs: eventMs,
                                                                       thresholdMs: threshold, bothThresholdMs: bothThreshold))
                        }
                    } else if accepted[t.messageId] != nil {
                        expectedDuplicates.insert(ref); fates[k][row] = .duplicate
                    } else {
                        accepted[t.messageId] = (ref, b.batchId); fates[k][row] = .gold
                    }
                }
            }
            let watermarked = oneInput ? maxEventMs.prefix(1) : maxEventMs[...]
            let candidate = watermarked.map { $0.map { $0 - delayMs } ?? 0 }.min()!
            if oneInput {
                bothBeforePrevious = bothAtStart
                bothGlobal = max(bothGlobal, maxEventMs.map { $0.map { $0 - delayMs } ?? 0 }.min()!)
            }
            let before = global
            if candidate > global { global = candidate }
            step.movedWatermark = global > before
            step.watermarkAfterMs = global
            step.stateKeysAfter = Int64(accepted.count)
            previousBatchWatermarkMs = b.watermarkMs
            batches.append(step)
        }
        finalWatermarkMs = global
    }
}
