import Kernel
import Codec

/// What a correct pipeline must do with one produced Kafka message. This is the
/// injected intent; lateness depends on the watermark, so the checks decide it.
public enum ExpectedOutcome: Sendable, Equatable, Hashable {
    /// Valid and the first message with its message id: exactly one Gold row
    /// (unless the watermark makes it late; skewed clocks can do that to any trade).
    case gold
    /// Valid and the first with its id, but delivered late on purpose (a reconnect
    /// or outage backfill): one Gold row, or a counted late drop when its event
    /// time is at or below the batch's watermark.
    case backfill
    /// Valid, but carries the message id of the message at `originalOffset` in the
    /// same partition (appended earlier): never a second Gold row.
    case duplicate(originalOffset: Int64)
    /// Lands in the DLQ with this reason (exactly).
    case deadLetter(DeadLetterReason)

    public var name: String {
        switch self {
        case .gold: return "gold"
        case .backfill: return "backfill"
        case .duplicate: return "duplicate"
        case .deadLetter(let r): return "dlq:" + r.rawValue
        }
    }
}

/// The ground truth of one produced message. Kept apart from the broker: the
/// engine never reads labels, only the checks do.
public struct GroundTruthLabel: Sendable, Equatable {
    public var outcome: ExpectedOutcome
    /// The fault that decided the outcome, else the one that touched the message, else `none`.
    public var fault: FaultKind
    /// Index of that fault in the run's fault list (nil for `none` and config-level V1 traffic).
    public var faultIndex: Int?
    /// The trade's timestamp (event time source), when the payload carries a decodable trade.
    public var eventTimeMicros: Micros?

    public init(outcome: ExpectedOutcome, fault: FaultKind, faultIndex: Int? = nil, eventTimeMicros: Micros?) {
        self.outcome = outcome; self.fault = fault; self.faultIndex = faultIndex; self.eventTimeMicros = eventTimeMicros
    }
}

/// (topic, partition, offset): where a message is; sorts by topic name, partition, offset.
public struct MessageAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public init(topic: String, partition: Int32, offset: Int64) { self.topic = topic; self.partition = partition; self.offset = offset }
    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition, a.offset) < (b.topic, b.partition, b.offset) }
    public var description: String { "\(topic)-\(partition)@\(offset)" }
}

/// The ledger of labels for every produced message, keyed by (topic, partition,
/// offset). Stored column-wise (12 bytes a message; duplicates' original
/// offsets in a side table) because a day holds millions of messages.
public final class GroundTruth {
    final class PartitionLabels {
        var codes: [UInt32] = []        // outcome kind | reason | fault kind | fault index + 1
        var eventTimes: [Int64] = []    // Int64.min: unknown
        var originalOffsets: [Int64: Int64] = [:]
    }
    private var byTopic: [String: [PartitionLabels]] = [:]

    public init() {}

    static let noEventTime = Int64.min

    static func encode(_ l: GroundTruthLabel) -> UInt32 {
        let kind: UInt32, reason: UInt32
        switch l.outcome {
        case .gold: kind = 0; reason = 0
        case .backfill: kind = 1; reason = 0
        case .duplicate: kind = 2; reason = 0
        case .deadLetter(let r): kind = 3; reason = UInt32(DeadLetterReason.allCases.firstIndex(of: r)!)
        }
        let fault = UInt32(FaultKind.allCases.firstIndex(of: l.fault)!)
        let index = UInt32(l.faultIndex.map { $0 + 1 } ?? 0)
        precondition(index < 1 << 20, "at most 2^20 - 1 faults")
        return kind | reason << 2 | fault << 6 | index << 12
    }

    static func decode(_ code: UInt32, eventTime: Int64, original: Int64?) -> GroundTruthLabel {
        let outcome: ExpectedOutcome
        switch code & 3 {
        case 0: outcome = .gold
        case 1: outcome = .backfill
        case 2: outcome = .duplicate(originalOffset: original!)
        default: outcome = .deadLetter(DeadLetterReason.allCases[Int((code >> 2) & 15)])
        }
        let index = Int(code >> 12)
        return GroundTruthLabel(outcome: outcome, fault: FaultKind.allCases[Int((code >> 6) & 63)],
                                faultIndex: index == 0 ? nil : index - 1,
                                eventTimeMicros: eventTime == noEventTime ? nil : eventTime)
    }

    /// Prepares a topic's partitions (labels must then be filed in offset order).
    public func addTopic(_ topic: String, partitions: Int) {
        if byTopic[topic] == nil { byTopic[topic] = (0..<partitions).map { _ in PartitionLabels() } }
    }

    /// Files the label of the message just appended at `offset` (offsets come in order).
    public func record(_ label: GroundTruthLabel, at a: MessageAddress) {
        guard let parts = byTopic[a.topic], Int(a.partition) < parts.count else {
            preconditionFailure("no ground-truth topic \(a.topic) partition \(a.partition)")
        }
        let p = parts[Int(a.partition)]
        precondition(Int64(p.codes.count) == a.offset, "labels must be filed in offset order (\(a))")
        p.codes.append(GroundTruth.encode(label))
        p.eventTimes.append(label.eventTimeMicros ?? GroundTruth.noEventTime)
        if case .duplicate(let o) = label.outcome {
            precondition(o < a.offset, "a duplicate's original must come first (\(a))")
            p.originalOffsets[a.offset] = o
        }
    }

    /// Test only: files another label for the message at `a`, as a wrong ledger would.
    public func testOnly_relabel(_ label: GroundTruthLabel, at a: MessageAddress) {
        let p = byTopic[a.topic]![Int(a.partition)]
        p.codes[Int(a.offset)] = GroundTruth.encode(label)
        if case .duplicate(let o) = label.outcome { p.originalOffsets[a.offset] = o }
    }

    /// Topics in name order.
    public var topics: [String] { byTopic.keys.sorted() }
    public func partitionCount(topic: String) -> Int { byTopic[topic]?.count ?? 0 }
    public func labelCount(topic: String, partition: Int32) -> Int64 {
        guard let parts = byTopic[topic], Int(partition) < parts.count else { return 0 }
        return Int64(parts[Int(partition)].codes.count)
    }
    public var totalCount: Int64 { byTopic.values.reduce(0) { $0 + $1.reduce(0) { $0 + Int64($1.codes.count) } } }

    public func label(at a: MessageAddress) -> GroundTruthLabel? {
        guard let parts = byTopic[a.topic], Int(a.partition) < parts.count else { return nil }
        let p = parts[Int(a.partition)]
        guard a.offset >= 0 && a.offset < Int64(p.codes.count) else { return nil }
        let i = Int(a.offset)
        return GroundTruth.decode(p.codes[i], eventTime: p.eventTimes[i], original: p.originalOffsets[a.offset])
    }

    public func label(topic: String, partition: Int32, offset: Int64) -> GroundTruthLabel? {
        label(at: MessageAddress(topic: topic, partition: partition, offset: offset))
    }

    /// Every label in (topic, partition, offset) order.
    public func forEach(_ body: (MessageAddress, GroundTruthLabel) -> Void) {
        for t in topics {
            for (pi, p) in byTopic[t]!.enumerated() {
                for i in p.codes.indices {
                    let o = Int64(i)
                    body(MessageAddress(topic: t, partition: Int32(pi), offset: o),
                         GroundTruth.decode(p.codes[i], eventTime: p.eventTimes[i], original: p.originalOffsets[o]))
                }
            }
        }
    }

    /// Counts by (outcome name, fault kind), sorted: a compact summary for reports.
    public func summary() -> [(outcome: String, fault: FaultKind, count: Int64)] {
        var counts: [String: Int64] = [:]
        forEach { _, l in counts[l.outcome.name + "\u{0}" + l.fault.rawValue, default: 0] += 1 }
        return counts.keys.sorted().map { k in
            let parts = k.split(separator: "\u{0}", omittingEmptySubsequences: false)
            return (String(parts[0]), FaultKind(rawValue: String(parts[1]))!, counts[k]!)
        }
    }
}
