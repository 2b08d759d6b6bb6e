import Codec
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
    /// The accepted message ids, each with the Silver row whose batch accepted it first.
    private(set) var accepted: AcceptedIds
    /// Per input (`ExchangeTables` order), per Silver row, one byte: bits 0-1
    /// the `SilverFate` of its last read, then whether it was accepted, was
    /// late and was a duplicate in any read (a row read twice, by an engine
    /// that got its ranges wrong, keeps every mark).
    private var marks: [[UInt8]]
    private static let acceptedBit: UInt8 = 4, lateBit: UInt8 = 8, duplicateBit: UInt8 = 16
    /// Rows late, and duplicates, in any read.
    private(set) var lateDropped: Int64 = 0
    private(set) var duplicatesDropped: Int64 = 0
    /// Per input: where the last batch's range ended.
    private(set) var readEnd: [Int64] = [0, 0]
    private(set) var finalWatermarkMs: Int64 = 0
    private(set) var batchTimestampMs: [Int64: Int64] = [:]
    private let silver: [SilverTable]
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

    /// What Gold's batches did with a Silver row (its last read).
    func fate(_ k: Int, _ row: Int) -> SilverFate { SilverFate(rawValue: marks[k][row] & 3)! }
    func isAccepted(_ r: SilverRowRef) -> Bool { marks[r.input][r.row] & Self.acceptedBit != 0 }
    /// The Silver row whose batch accepted `id` first, or nil.
    func acceptedRow(of id: String) -> SilverRowRef? { accepted.find(id, hash: AcceptedIds.hash(id), idAt: messageId) }
    func messageId(_ r: SilverRowRef) -> String { silver[r.input].messageId(r.row) }

    /// The rows marked `bit`, in (input, row) order.
    private func rows(marked bit: UInt8) -> [SilverRowRef] {
        var out: [SilverRowRef] = []
        for (k, m) in marks.enumerated() { for (row, b) in m.enumerated() where b & bit != 0 { out.append(SilverRowRef(input: k, row: row)) } }
        return out
    }
    /// Rows late by the recomputed watermark, in (input, row) order.
    var expectedLate: [SilverRowRef] { rows(marked: Self.lateBit) }
    /// Rows dropped as duplicates by the recomputation, in (input, row) order.
    var expectedDuplicates: [SilverRowRef] { rows(marked: Self.duplicateBit) }
    /// Each accepted row, in (input, row) order (table order: committed Silver
    /// rows sit in compressed segments behind a small cache).
    func forEachAccepted(_ body: (SilverRowRef) -> Void) {
        for (k, m) in marks.enumerated() { for (row, b) in m.enumerated() where b & Self.acceptedBit != 0 { body(SilverRowRef(input: k, row: row)) } }
    }

    /// The batch that accepted `r`: the first to read it without finding it late
    /// (an accepted row is accepted there, its id being new).
    func acceptingBatch(of r: SilverRowRef) -> Int64? {
        let eventMs = Self.eventMs(silver[r.input].timestampMicros(r.row))
        return batches.first { step in
            step.namesRanges && !step.readsPastEnd[r.input] && step.record.startOffsets[r.input] <= Int64(r.row)
                && Int64(r.row) < step.record.endOffsets[r.input] && eventMs > step.lateThresholdMs
        }?.record.batchId
    }

    /// A trade's event time as Gold's watermark sees it: whole seconds, in ms.
    static func eventMs(_ timestampMicros: Micros) -> Int64 { Time.floorDiv(timestampMicros, Time.microsPerSecond) * 1_000 }

    init(_ p: Pipeline, _ tables: ExchangeTables) {
        let silver = tables.silver
        self.silver = silver
        let delayMs = millis(fromMicros: p.config.watermarkDelayMicros)
        marks = silver.map { [UInt8](repeating: SilverFate.unread.rawValue, count: $0.rowCount) }
        accepted = AcceptedIds(capacity: silver.reduce(0) { $0 + $1.rowCount })
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
                // Two columns of each row: its event time and, unless it is late, its message id.
                for row in Int(b.startOffsets[k])..<Int(b.endOffsets[k]) {
                    let columns = silver[k].columns(row)
                    let eventMs = Self.eventMs(columns.timestampMicros)
                    if maxEventMs[k] == nil || eventMs > maxEventMs[k]! { maxEventMs[k] = eventMs }
                    let ref = SilverRowRef(input: k, row: row)
                    if eventMs <= threshold {
                        if mark(ref, .late, Self.lateBit) { lateDropped += 1 }
                        if oneInput && eventMs > bothThreshold {
                            lostToOneWatermark.append(OneWatermarkDrop(ref: ref, batchId: b.batchId, eventMs: eventMs,
                                                                       thresholdMs: threshold, bothThresholdMs: bothThreshold))
                        }
                        continue
                    }
                    let id = columns.messageId
                    let h = AcceptedIds.hash(id)
                    if accepted.find(id, hash: h, idAt: { silver[$0.input].messageId($0.row) }) != nil {
                        if mark(ref, .duplicate, Self.duplicateBit) { duplicatesDropped += 1 }
                    } else {
                        accepted.insert(hash: h, ref)
                        marks[k][row] = marks[k][row] & ~3 | SilverFate.gold.rawValue | Self.acceptedBit
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

    /// Sets a row's last fate and its mark; true the first time the row gets the mark.
    private mutating func mark(_ r: SilverRowRef, _ fate: SilverFate, _ bit: UInt8) -> Bool {
        let m = marks[r.input][r.row]
        marks[r.input][r.row] = m & ~3 | fate.rawValue | bit
        return m & bit == 0
    }
}
