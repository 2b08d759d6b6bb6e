import Broker
import Engine
import Kernel

/// Bronze holds every produced record exactly once, bytes untouched: Spark's
/// Kafka source with a checkpoint and an idempotent Iceberg append.
///
/// Rows are matched to records by exact (partition, offset), because a replayed
/// capture's offsets may have gaps. A record missing from Bronze is a problem
/// only when the Bronze job's last committed batch covered its offset;
/// otherwise it is still in flight.
struct BronzeExactlyOnce {
    static let name = "bronze_exactly_once"
    private(set) var problems: [String] = []
    /// Records in the exchanges' topics.
    private(set) var produced: Int64 = 0
    /// Records not in Bronze whose offsets no committed batch has covered yet.
    private(set) var inFlight: Int64 = 0
    /// Records lost because retention deleted them before Bronze read them
    /// (the Kafka source skipped them: failOnDataLoss false).
    private(set) var expired: Int64 = 0

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, _ tables: ExchangeTables) {
        for (k, e) in tables.exchanges.enumerated() {
            let table = tables.bronze[k]
            guard let topic = input.cluster.topic(e.topic) else {
                if table.rowCount > 0 { problems.append("\(table.name.rawValue) has rows but topic \(e.topic) does not exist") }
                continue
            }
            let committedEnd = Oracle.committedEndOffsets(input.pipeline, tables.bronzeJobs[k], count: topic.partitionCount)
            // Per partition, per record (by position in the log): how often Bronze holds it.
            var seen = topic.partitions.map { [UInt8](repeating: 0, count: $0.recordCount) }
            for i in 0..<table.rowCount {
                let part = Int(table.partitionOf(i)), off = table.offsetOf(i)
                guard part < seen.count, let pos = topic.partitions[part].exactPosition(ofOffset: off) else {
                    problems.append("\(table.name.rawValue) row \(i): \(e.topic)-\(part)@\(off) was never produced")
                    continue
                }
                seen[part][pos] &+= 1
                if seen[part][pos] == 1 && !table.withValue(i, { v in
                    topic.partitions[part].valueSlice(atPosition: pos).withUnsafeBytes { v.sameBytes(as: $0) } }) {
                    problems.append("\(table.name.rawValue) row \(i): bytes differ from \(e.topic)-\(part)@\(off)")
                }
            }
            for (part, counts) in seen.enumerated() {
                produced += Int64(counts.count)
                let log = topic.partitions[part]
                for (pos, c) in counts.enumerated() where c != 1 {
                    let off = log.offset(atPosition: pos)
                    if c > 1 { problems.append("\(e.topic)-\(part)@\(off) is in \(table.name.rawValue) \(c) times") }
                    if c == 0 {
                        if off < committedEnd[part] {
                            let why = Self.whyLost(off, partition: part, log: log, input.pipeline, tables.bronzeJobs[k])
                            if why.expired { expired += 1 }
                            problems.append("\(e.topic)-\(part)@\(off) is missing from \(table.name.rawValue): record lost, \(why.text)")
                        } else { inFlight += 1 }
                    }
                }
            }
        }
    }

    /// Why an offset below the committed end is not in Bronze, from the
    /// committed batches' ranges in commit order: the first batch that starts
    /// past it says how it was skipped.
    static func whyLost(_ off: Int64, partition part: Int, log: TopicPartition, _ p: Pipeline, _ job: JobName)
        -> (text: String, expired: Bool) {
        let batches = p.batchLog.filter { $0.job == job && $0.outcome == .committed && part < $0.startOffsets.count }
        if let b = batches.first(where: { $0.startOffsets[part] <= off && off < $0.endOffsets[part] }) {
            // The batch's range covers it: was it still in Kafka when the batch's task fetched?
            let earliest = log.earliestOffset(at: b.startMicros)
            guard off < earliest else { return ("inside a committed batch's range but not written", false) }
            let r = log.retention
            let limits = [r.retentionMs.map { "retention.ms \($0)" }, r.retentionBytes.map { "retention.bytes \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            return ("data expired: \(log.topic)'s retention (\(limits)) had deleted it when \(job.rawValue)'s batch \(b.batchId) "
                    + "fetched [\(b.startOffsets[part]), \(b.endOffsets[part])) at \(UTCDateTime(micros: b.startMicros).iso8601), "
                    + "the log then starting at \(earliest): failOnDataLoss false skipped [\(b.startOffsets[part]), \(min(earliest, b.endOffsets[part])))", true)
        }
        let producedMs = log.timestampMs(at: off)
        return (whySkipped(off, partition: part, producedMs: producedMs, batches, p, job), false)
    }

    /// An offset no committed batch's range covers: the first batch that starts past it says how it was skipped.
    static func whySkipped(_ off: Int64, partition part: Int, producedMs: Int64, _ batches: [BatchRecord], _ p: Pipeline,
                           _ job: JobName) -> String {
        guard let j = batches.firstIndex(where: { $0.startOffsets[part] > off }) else {
            return "inside a committed batch's range but not written"
        }
        let b = batches[j]
        let at = UTCDateTime(micros: b.startMicros).iso8601
        let firstStart = p.config.jobs.first { $0.job == job }?.startMicros ?? p.config.startMicros
        if j == 0 && producedMs * 1_000 <= firstStart {
            return "produced before \(job.rawValue)'s first start: its first batch (\(at)) started at offset \(b.startOffsets[part]) (startingOffsets latest)"
        }
        if j == 0 || b.batchId == 0 {
            return "offsets skipped: \(job.rawValue) restarted without its checkpoint and its new query began at offset \(b.startOffsets[part]) (\(at), startingOffsets latest)"
        }
        return "offsets skipped: batch \(b.batchId) (\(at)) started at \(b.startOffsets[part]), past batch \(batches[j - 1].batchId)'s end \(batches[j - 1].endOffsets[part])"
    }
}
