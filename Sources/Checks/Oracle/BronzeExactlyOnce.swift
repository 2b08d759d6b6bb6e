import Broker
import Engine

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
                if seen[part][pos] == 1 && table.value(i)[...] != topic.partitions[part].valueSlice(atPosition: pos) {
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
                            problems.append("\(e.topic)-\(part)@\(off) is missing from \(table.name.rawValue) (its batch committed)")
                        } else { inFlight += 1 }
                    }
                }
            }
        }
    }
}
