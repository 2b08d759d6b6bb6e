import Engine
import Kernel

/// Gold holds exactly the message ids the recomputed batches accepted, once
/// each, from the Silver row that was first; the engine's batch log (ids,
/// watermarks, late thresholds, the Silver ranges read, the no-data batch after
/// a watermark move) and its late and duplicate drops agree with the
/// recomputation.
struct GoldExactlyOnce {
    static let name = "gold_exactly_once"
    private(set) var problems: [String] = []

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ p: Pipeline, _ tables: ExchangeTables, _ model: GoldRecomputation) {
        let silver = tables.silver
        var lastId: Int64 = -1
        for b in model.batches.map(\.record) {
            if b.batchId == lastId { problems.append("gold batch \(b.batchId) committed twice") }
            else if b.batchId != lastId + 1 { problems.append("gold batch ids jump from \(lastId) to \(b.batchId)") }
            lastId = b.batchId
        }
        for step in model.batches {
            let b = step.record
            if b.watermarkMs != step.watermarkMs {
                problems.append("gold batch \(b.batchId): watermark \(b.watermarkMs) ms, recomputed \(step.watermarkMs) ms")
            }
            if b.lateThresholdMs != step.lateThresholdMs {
                problems.append("gold batch \(b.batchId): late threshold \(b.lateThresholdMs) ms, recomputed \(step.lateThresholdMs) ms (the previous batch's watermark)")
            }
            guard step.namesRanges else {
                problems.append("gold batch \(b.batchId) does not name its two Silver ranges"); continue
            }
            for k in 0..<2 {
                if b.startOffsets[k] != step.expectedStart[k] {
                    problems.append("gold batch \(b.batchId) reads \(silver[k].name.rawValue) from row \(b.startOffsets[k]), the previous batch ended at \(step.expectedStart[k])")
                }
                if step.readsPastEnd[k] { problems.append("gold batch \(b.batchId) reads past the end of \(silver[k].name.rawValue)") }
            }
            if let after = b.watermarkAfterMs, let want = step.watermarkAfterMs, after != want {
                problems.append("gold batch \(b.batchId): watermark after \(after) ms, recomputed \(want) ms")
            }
        }
        // A batch that moved the watermark is followed by a batch at the next trigger, data or not.
        // (An attempt counts: a next batch that failed, e.g. out of memory, followed it too.)
        // One pass over the log for the ids Gold attempted: a search per batch
        // was quadratic, most of a week's checks.
        var attempted = Set<Int64>()
        for b in p.batchLog where b.job == .gold { attempted.insert(b.batchId) }
        for step in model.batches where step.movedWatermark {
            let b = step.record
            if !attempted.contains(b.batchId + 1), let end = b.endMicros, end + b.triggerMicros < p.config.endMicros {
                problems.append("gold batch \(b.batchId) moved the watermark but no batch followed it")
            }
        }
        checkDrops(p, silver, model)
    }

    /// Gold rows: exactly the accepted ids, once each, from the Silver row that was first.
    mutating func visit(_ v: GoldRows.Visit, _ gold: GoldTable, _ silver: [SilverTable]) {
        guard v.occurrence == 1 else { problems.append("message_id \(gold.messageId(v.index)) is in Gold twice"); return }
        guard let a = v.accepted else {
            problems.append("message_id \(gold.messageId(v.index)) is in Gold but no recomputed batch accepted it"); return
        }
        if a != v.source {
            problems.append("Gold row \(v.index) (\(gold.messageId(v.index))) comes from \(silver[v.source.input].name.rawValue) row \(v.source.row), recomputed \(silver[a.input].name.rawValue) row \(a.row)")
        }
    }

    /// After the Gold rows: accepted ids that are not in Gold, by message id.
    mutating func finish(_ rows: GoldRows, _ silver: [SilverTable], _ model: GoldRecomputation) {
        var missing: [(id: String, ref: SilverRowRef)] = []
        model.forEachAccepted { r in if !rows.inGold(r) { missing.append((model.messageId(r), r)) } }
        for (id, r) in missing.sorted(by: { $0.id < $1.id }) {
            let batch = model.acceptingBatch(of: r).map(String.init) ?? "?"
            problems.append("message_id \(id) (\(silver[r.input].name.rawValue) row \(r.row), gold batch \(batch)) is missing from Gold")
        }
    }

    /// The engine's late and duplicate drops against the recomputation.
    private mutating func checkDrops(_ p: Pipeline, _ silver: [SilverTable], _ model: GoldRecomputation) {
        var engineLate = Set<SilverRowRef>(), engineDuplicates = Set<SilverRowRef>()
        for d in p.droppedRows {
            guard let k = silver.firstIndex(where: { $0.name == d.sourceTable }) else { continue }
            let ref = SilverRowRef(input: k, row: d.sourceRow)
            let (inserted, _) = d.kind == .late ? engineLate.insert(ref) : engineDuplicates.insert(ref)
            if !inserted { problems.append("\(d.sourceTable.rawValue) row \(d.sourceRow) dropped twice (\(d.kind.rawValue))") }
            if d.kind == .late && d.eventTimeMs > d.lateThresholdMs {
                problems.append("\(d.messageId) dropped as late with event time \(d.eventTimeMs) ms above its threshold \(d.lateThresholdMs) ms")
            }
        }
        let expectedLate = model.expectedLate, expectedDuplicates = model.expectedDuplicates
        for ref in expectedLate.lazy.filter({ !engineLate.contains($0) }).prefix(5) {
            problems.append("\(silver[ref.input].name.rawValue) row \(ref.row) is late by the recomputed watermark but was not dropped as late")
        }
        let late = Set(expectedLate)
        for ref in engineLate.subtracting(late).sorted().prefix(5) {
            problems.append("\(silver[ref.input].name.rawValue) row \(ref.row) was dropped as late but is not late by the recomputed watermark")
        }
        if expectedDuplicates.count != engineDuplicates.count || !expectedDuplicates.allSatisfy(engineDuplicates.contains) {
            problems.append("duplicate drops: \(engineDuplicates.count) by the engine, \(expectedDuplicates.count) recomputed")
        }
    }
}
