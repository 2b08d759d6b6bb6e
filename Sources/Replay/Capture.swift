import Codec
import Foundation
import Kernel

/// A writer schema registered by a capture (docs/REFERENCE.md §9 `"type":"schema"` line).
public struct CapturedSchema: Equatable, Sendable {
    public var id: Int32
    public var subject: String
    public var schema: String
    public init(id: Int32, subject: String, schema: String) {
        self.id = id; self.subject = subject; self.schema = schema
    }
}

/// One Kafka record of a capture (docs/REFERENCE.md §9 `"type":"message"` line).
public struct CapturedMessage: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    /// When the broker appended the record, if the capture knows it (`record`
    /// writes it, as the extension field `append_time_us`; a production
    /// capture usually has only the producer's timestamp).
    public var appendTimeMicros: Micros?
    public var key: [UInt8]?
    /// `nil` is a Kafka tombstone (null value); Silver files it as EMPTY_PAYLOAD.
    public var value: [UInt8]?
    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64, appendTimeMicros: Micros? = nil,
                key: [UInt8]?, value: [UInt8]?) {
        self.topic = topic; self.partition = partition; self.offset = offset
        self.timestampMs = timestampMs; self.appendTimeMicros = appendTimeMicros; self.key = key; self.value = value
    }
}

/// A capture of production Kafka traffic: schemas and messages in file order.
///
/// Within one (topic, partition) offsets strictly increase — a Kafka log's
/// offsets do — but may have gaps (compaction, transaction markers). The
/// readers enforce this; `ReplayFeed` checks it again for captures built in code.
///
/// Stored as columns (topics and keys interned, values in one arena): a
/// capture of a few hours of production traffic holds millions of messages,
/// and replay speed is bounded by how fast they load.
public struct Capture: Equatable, Sendable {
    /// Limits on a captured message, checked when a capture is read (and,
    /// whatever its source, when a replay is built), so that arithmetic on
    /// them never overflows (a time in ms times 1,000 fits in 64 bits) and no
    /// per-partition table is sized by a hostile number.
    /// The latest timestamp: 9999-12-31T23:59:59.999Z.
    public static let maxTimestampMs: Int64 = 253_402_300_799_999
    public static let maxAppendTimeMicros: Micros = maxTimestampMs * 1_000 + 999
    /// A zstd capture decompresses to at most this (hours of production
    /// traffic are hundreds of MB; a small hostile file can claim any size).
    public static let maxDecompressedBytes = 4 << 30
    /// Partitions are numbered below this (real topics have tens to hundreds).
    public static let maxPartitions: Int32 = 16_384
    public var schemas: [CapturedSchema] = []
    /// Topic names in order of first appearance.
    public private(set) var topics: [String] = []
    private var topicLookup: [String: Int32] = [:]
    /// Per message: index into `topics`.
    public private(set) var topicIndex: [Int32] = []
    public private(set) var partitions: [Int32] = []
    public private(set) var offsets: [Int64] = []
    public private(set) var timestampsMs: [Int64] = []
    /// Per message: the broker append time, or `Capture.unknownAppendTime`.
    public private(set) var appendTimes: [Micros] = []
    /// Distinct keys in order of first appearance; per message an index, -1 for null.
    public private(set) var distinctKeys: [[UInt8]] = []
    private var keyLookup: [[UInt8]: Int32] = [:]
    public private(set) var keyIndex: [Int32] = []
    /// Values back to back; message i's is `valueBytes[valueStart(i) ..< valueEnds[i]]`.
    private var valueBytes: [UInt8] = []
    private var valueEnds: [Int] = []
    /// Per message: 1 for a null value (tombstone).
    private var valueIsNull: [UInt8] = []

    public static let unknownAppendTime: Micros = .min

    public init(schemas: [CapturedSchema] = [], messages: [CapturedMessage] = []) {
        self.schemas = schemas
        for m in messages { append(m) }
    }

    public var messageCount: Int { offsets.count }

    public mutating func reserveCapacity(messages n: Int, valueBytes bytes: Int) {
        topicIndex.reserveCapacity(n); partitions.reserveCapacity(n); offsets.reserveCapacity(n)
        timestampsMs.reserveCapacity(n); appendTimes.reserveCapacity(n); keyIndex.reserveCapacity(n)
        valueEnds.reserveCapacity(n); valueIsNull.reserveCapacity(n); valueBytes.reserveCapacity(bytes)
    }

    public mutating func internTopic(_ name: String) -> Int32 {
        if let i = topicLookup[name] { return i }
        let i = Int32(topics.count)
        topics.append(name); topicLookup[name] = i
        return i
    }

    public mutating func internKey(_ key: [UInt8]?) -> Int32 {
        guard let key else { return -1 }
        if let i = keyLookup[key] { return i }
        let i = Int32(distinctKeys.count)
        distinctKeys.append(key); keyLookup[key] = i
        return i
    }

    /// Interns a key given in place (the readers' path: no allocation for a known key).
    public mutating func internKey(bytes: UnsafeRawBufferPointer) -> Int32 {
        if distinctKeys.count <= 16 {
            for (i, k) in distinctKeys.enumerated() where k.count == bytes.count
                && k.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return Int32(i) }
        }
        return internKey(Array(bytes))
    }

    public mutating func append(_ m: CapturedMessage) {
        let t = internTopic(m.topic), k = internKey(m.key)
        if let v = m.value {
            v.withUnsafeBytes { append(topic: t, partition: m.partition, offset: m.offset, timestampMs: m.timestampMs,
                                       appendTimeMicros: m.appendTimeMicros ?? Self.unknownAppendTime, keyIndex: k, value: $0) }
        } else {
            append(topic: t, partition: m.partition, offset: m.offset, timestampMs: m.timestampMs,
                   appendTimeMicros: m.appendTimeMicros ?? Self.unknownAppendTime, keyIndex: k, value: nil)
        }
    }

    /// The fast path of the readers: interned topic and key, value bytes copied in.
    public mutating func append(topic: Int32, partition: Int32, offset: Int64, timestampMs: Int64, appendTimeMicros: Micros,
                                keyIndex key: Int32, value: UnsafeRawBufferPointer?) {
        precondition(topic >= 0 && Int(topic) < topics.count && key < Int32(distinctKeys.count))
        topicIndex.append(topic); partitions.append(partition); offsets.append(offset)
        timestampsMs.append(timestampMs); appendTimes.append(appendTimeMicros); keyIndex.append(key)
        if let value { valueBytes.append(contentsOf: value.assumingMemoryBound(to: UInt8.self)) }
        valueEnds.append(valueBytes.count)
        valueIsNull.append(value == nil ? 1 : 0)
    }

    @inline(__always) func valueStart(_ i: Int) -> Int { i == 0 ? 0 : valueEnds[i - 1] }

    /// Whether message i's value is null (a tombstone).
    public func isNullValue(_ i: Int) -> Bool { valueIsNull[i] != 0 }
    /// Message i's value bytes in place (empty for a tombstone).
    public func valueSlice(_ i: Int) -> ArraySlice<UInt8> { valueBytes[valueStart(i) ..< valueEnds[i]] }
    public func key(_ i: Int) -> [UInt8]? { keyIndex[i] < 0 ? nil : distinctKeys[Int(keyIndex[i])] }

    public func message(_ i: Int) -> CapturedMessage {
        CapturedMessage(topic: topics[Int(topicIndex[i])], partition: partitions[i], offset: offsets[i],
                        timestampMs: timestampsMs[i],
                        appendTimeMicros: appendTimes[i] == Self.unknownAppendTime ? nil : appendTimes[i],
                        key: key(i), value: isNullValue(i) ? nil : Array(valueSlice(i)))
    }

    /// The messages, in file order (each materialized on access).
    public var messages: Messages { Messages(capture: self) }

    /// Same schemas and same messages in the same order (however topics and
    /// keys happen to be interned).
    public static func == (a: Capture, b: Capture) -> Bool {
        guard a.schemas == b.schemas, a.messageCount == b.messageCount else { return false }
        return (0..<a.messageCount).allSatisfy { a.message($0) == b.message($0) }
    }

    public struct Messages: RandomAccessCollection {
        let capture: Capture
        public var startIndex: Int { 0 }
        public var endIndex: Int { capture.messageCount }
        public subscript(i: Int) -> CapturedMessage { capture.message(i) }
    }
}
