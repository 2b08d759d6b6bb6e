import Kernel
import Codec
import Broker

/// One Iceberg snapshot: the atomic append of one streaming batch to one table.
public struct Snapshot: Sendable, Equatable {
    /// 1, 2, 3... per table, in commit order.
    public let sequence: Int64
    /// The writing query's id (persisted in its checkpoint, so it survives restarts).
    public let queryId: String
    public let job: JobName
    /// The Spark batch (epoch) id; with `queryId` the snapshot's idempotence tag.
    public let batchId: Int64
    public let committedAtMicros: Micros
    /// The snapshot added rows `firstRow ..< firstRow + rowCount` of the table.
    public let firstRow: Int
    public let rowCount: Int
}

/// The snapshot history of a table and Iceberg's streaming-sink idempotence:
/// before committing epoch `b` for query `q`, the sink finds the last epoch
/// `q` committed and skips the commit when `b <= last` (Iceberg's
/// `SparkWrite` streaming commit does exactly this), so a replayed batch never
/// duplicates rows.
///
/// It also answers "which batch wrote row i": the columns that Spark fills
/// with `current_timestamp()` (Bronze ingestion, Silver validation, Gold
/// ingestion time) are the batch timestamp of the row's snapshot, so they are
/// kept once per snapshot instead of once per row.
struct SnapshotLog {
    private(set) var snapshots: [Snapshot] = []
    private var batchTimestamps: [Micros] = []
    private var lastBatchByQuery: [String: Int64] = [:]
    private(set) var committedRows = 0

    func alreadyCommitted(queryId: String, batchId: Int64) -> Bool {
        guard let last = lastBatchByQuery[queryId] else { return false }
        return batchId <= last
    }

    mutating func record(queryId: String, job: JobName, batchId: Int64, batchTimestampMicros: Micros, at t: Micros,
                         rows: Int, appendOnly: Bool = false) {
        precondition(appendOnly || !alreadyCommitted(queryId: queryId, batchId: batchId), "double commit of batch \(batchId)")
        snapshots.append(Snapshot(sequence: Int64(snapshots.count + 1), queryId: queryId, job: job, batchId: batchId,
                                  committedAtMicros: t, firstRow: committedRows, rowCount: rows))
        batchTimestamps.append(batchTimestampMicros)
        lastBatchByQuery[queryId] = max(batchId, lastBatchByQuery[queryId] ?? batchId)
        committedRows += rows
    }

    /// Test only: forgets the last committed row, as a lost write would
    /// (later empty snapshots, e.g. no-data batches, shift down by one row).
    mutating func testOnly_forgetLastRow() {
        guard let k = snapshots.lastIndex(where: { $0.rowCount > 0 }) else { return }
        for j in k..<snapshots.count {
            let s = snapshots[j]
            snapshots[j] = Snapshot(sequence: s.sequence, queryId: s.queryId, job: s.job, batchId: s.batchId,
                                    committedAtMicros: s.committedAtMicros, firstRow: j == k ? s.firstRow : s.firstRow - 1,
                                    rowCount: j == k ? s.rowCount - 1 : s.rowCount)
        }
        committedRows -= 1
    }

    /// The batch timestamp of the snapshot holding committed row `row`. O(log snapshots).
    func batchTimestamp(ofRow row: Int) -> Micros {
        precondition(row < committedRows, "row \(row) is not committed")
        // The last snapshot whose firstRow <= row (empty snapshots before it share its firstRow).
        var lo = 0, hi = snapshots.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if snapshots[mid].firstRow <= row { lo = mid + 1 } else { hi = mid }
        }
        return batchTimestamps[lo - 1]
    }
}

/// Row storage behind a staged sink: the committed rows, then the staged ones.
protocol SinkRows {
    init()
    var count: Int { get }
    /// Keeps the first `n` rows.
    mutating func truncate(to n: Int)
}

/// Segmented rows (Bronze, Silver, Gold), sealed once committed and out of the live window.
extension Segments: SinkRows {}

extension StagedSink {
    /// Called after each staged row: when a segment has just opened, seals
    /// every full committed segment but the last three (what running batches
    /// write and read).
    @inline(__always)
    mutating func sealCommittedSegments<S>() where Rows == Segments<S> {
        if rows.count & (Rows.segmentRows - 1) == 1 {
            rows.seal(below: min(committedRows >> Rows.shift, rows.segmentCount - 3))
        }
    }
}

/// Iceberg's streaming sink for one table, written once for all four: a
/// running batch stages rows after the committed ones; the commit publishes
/// them as one snapshot, or drops them when the query already committed the
/// batch (the idempotence check of `SnapshotLog`); an abandoned batch
/// discards them. Readers see only committed rows.
struct StagedSink<Rows: SinkRows> {
    var rows = Rows()
    private(set) var log = SnapshotLog()

    var committedRows: Int { log.committedRows }
    var stagedCount: Int { rows.count - log.committedRows }
    var snapshots: [Snapshot] { log.snapshots }

    func hasCommitted(queryId: String, batchId: Int64) -> Bool { log.alreadyCommitted(queryId: queryId, batchId: batchId) }

    /// Publishes the staged rows as one snapshot, or drops them if the batch
    /// was already committed. Returns whether a snapshot was made.
    /// `appendOnly` (foreachBatch's plain append): no batch-id check, so a
    /// re-run batch is appended again.
    mutating func commitStaged(queryId: String, job: JobName, batchId: Int64, batchTimestampMicros: Micros, at t: Micros,
                               appendOnly: Bool = false) -> Bool {
        if !appendOnly && log.alreadyCommitted(queryId: queryId, batchId: batchId) { discardStaged(); return false }
        log.record(queryId: queryId, job: job, batchId: batchId, batchTimestampMicros: batchTimestampMicros, at: t,
                   rows: stagedCount, appendOnly: appendOnly)
        return true
    }

    mutating func discardStaged() {
        if rows.count > log.committedRows { rows.truncate(to: log.committedRows) }
    }

    /// The batch timestamp of the snapshot holding committed row `row`.
    func batchTimestamp(ofRow row: Int) -> Micros { log.batchTimestamp(ofRow: row) }

    /// Test only: see `SnapshotLog.testOnly_forgetLastRow`.
    mutating func testOnly_forgetLastRow() { log.testOnly_forgetLastRow() }
}

/// What every table answers: its name, committed rows, snapshots.
public protocol MedallionTable: AnyObject {
    var name: TableName { get }
    /// Rows visible to readers: those of committed snapshots.
    var rowCount: Int { get }
    var snapshots: [Snapshot] { get }
    /// Approximate bytes the engine holds for the table (for memory reports).
    var storageBytes: Int { get }
}

// MARK: - Bronze

/// A Bronze row: the Kafka value untouched plus where and when it came from.
public struct BronzeRow: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var kafkaTimestampMs: Int64
    public var bronzeIngestionTimestampMicros: Micros
    public var value: [UInt8]
}

/// `bronze_<exchange>_trades`. The value bytes are not copied: a row refers to
/// its Kafka record by (partition, position in the partition's log), whose
/// log is immutable; the record's Kafka offset is read from the log at the
/// edge (`offsetOf`, `row`), so a replayed capture's real offsets, gaps
/// included, are what the table shows.
public final class BronzeTable: MedallionTable {
    public let name: TableName
    public let topicName: String
    private let cluster: KafkaCluster
    /// A row: where its Kafka record is (partition, position in its log) and
    /// the record's timestamp; in segments, sealed as Silver's are.
    final class Segment: SealableSegment {
        var partition: [Int32] = []
        var position: [Int] = []
        var kafkaTimestampMs: [Int64] = []
        init() {}
        var count: Int { partition.count }
        var heldBytes: Int { partition.capacity * 4 + position.capacity * 8 + kafkaTimestampMs.capacity * 8 }
        func truncate(to n: Int) {
            let k = count - n
            partition.removeLast(k); position.removeLast(k); kafkaTimestampMs.removeLast(k)
        }
        func pack(into p: inout SealedPacker) { p.put(partition); p.put(position); p.put(kafkaTimestampMs) }
        init(unpacking u: inout SealedUnpacker) { partition = u.take(); position = u.take(); kafkaTimestampMs = u.take() }
    }
    var sink = StagedSink<Segments<Segment>>()

    init(name: TableName, topic: String, cluster: KafkaCluster) {
        self.name = name; self.topicName = topic; self.cluster = cluster
    }

    public var rowCount: Int { sink.committedRows }
    public var snapshots: [Snapshot] { sink.snapshots }
    public var storageBytes: Int { sink.rows.heldBytes }
    /// Compressed bytes of sealed segments on disk.
    public var spilledBytes: Int { sink.rows.spilledBytes }

    func stage(partition p: Int32, position i: Int, kafkaTimestampMs ts: Int64) {
        if topicRef == nil { topicRef = cluster.topic(topicName) }
        let s = sink.rows.tail()
        s.partition.append(p); s.position.append(i); s.kafkaTimestampMs.append(ts)
        sink.rows.didAppend()
        sink.sealCommittedSegments()
    }

    /// The topic, cached when the first row is staged: on the simulation
    /// thread, before Silver's decode threads read rows (a lazy cache filled
    /// on first read was written by one thread while others read it).
    private var topicRef: Topic?
    /// The topic (a row implies it exists). Reading never writes the cache.
    private var topic: Topic { topicRef ?? cluster.topic(topicName)! }

    /// Row `i`'s Kafka record: its partition and its position in the partition's log.
    @inline(__always)
    public func source(_ i: Int) -> (partition: Int32, position: Int) {
        let (s, j) = sink.rows.at(i)
        return (s.partition[j], s.position[j])
    }

    /// The Kafka value of row `i` (a copy of the log's bytes).
    public func value(_ i: Int) -> [UInt8] {
        let (p, at) = source(i)
        return Array(topic.partitions[Int(p)].valueSlice(atPosition: at))
    }

    /// Calls `body` with the Kafka value of row `i` in place (no copy).
    public func withValue<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let (p, at) = source(i)
        return topic.partitions[Int(p)].valueSlice(atPosition: at).withUnsafeBytes(body)
    }

    /// Bronze ingestion time: the writing batch's timestamp.
    public func ingestionMicros(_ i: Int) -> Micros { sink.batchTimestamp(ofRow: i) }
    public func partitionOf(_ i: Int) -> Int32 { source(i).partition }
    /// The Kafka offset of row `i`'s record.
    public func offsetOf(_ i: Int) -> Int64 {
        let (p, at) = source(i)
        return topic.partitions[Int(p)].offset(atPosition: at)
    }

    public func row(_ i: Int) -> BronzeRow {
        precondition(i < rowCount, "row \(i) is not committed")
        let (s, j) = sink.rows.at(i)
        return BronzeRow(topic: topicName, partition: s.partition[j], offset: offsetOf(i),
                         kafkaTimestampMs: s.kafkaTimestampMs[j], bronzeIngestionTimestampMicros: ingestionMicros(i),
                         value: value(i))
    }

    /// Committed rows in table (commit) order.
    public var rows: LazyMapSequence<Range<Int>, BronzeRow> { (0..<rowCount).lazy.map { self.row($0) } }
}

// MARK: - Silver

/// A Silver row: the 15 V2 fields plus Silver's three columns.
public struct SilverRow: Equatable, Sendable {
    public var trade: Trade
    public var validationTimestampMicros: Micros
    public var bronzeIngestionTimestampMicros: Micros
    public var schemaId: Int32
    /// Lineage (engine metadata, not a table column): the Bronze row it came from.
    public var sourceBronzeRow: Int
}

/// `silver_<exchange>_trades`.
public final class SilverTable: MedallionTable {
    public let name: TableName
    public let exchange: ExchangeName
    let bronze: BronzeTable
    let pool: StringPool
    let lists: StringListPool
    /// Rows in `Segments` of 32,768: a segment holds the trade's fields, the
    /// writer schema id and the Bronze row each row came from. Committed
    /// segments older than the last `liveSegments` are sealed (packed,
    /// zstd-compressed, spilled to disk) and unpacked into a small cache when
    /// read (Gold far behind, the checks, the export); readers never notice.
    final class Segment: SealableSegment {
        /// The trade columns live in memory of their own, so that a reader
        /// can take them in place through a pointer (`withTrades`) without a
        /// formal access to a stored property (which another reading thread
        /// would see, under TSan, as a conflicting one).
        private let storage: UnsafeMutablePointer<TradeColumns>
        var trades: TradeColumns {
            _read { yield storage.pointee }
            _modify { yield &storage.pointee }
        }
        var schemaId: [Int32] = []
        var sourceRow: [UInt32] = []
        init() { storage = .allocate(capacity: 1); storage.initialize(to: TradeColumns()) }
        deinit { storage.deinitialize(count: 1); storage.deallocate() }
        var count: Int { trades.count }
        func truncate(to n: Int) {
            let k = count - n
            trades.truncate(to: n); schemaId.removeLast(k); sourceRow.removeLast(k)
        }
        var heldBytes: Int { trades.byteCount + schemaId.count * 8 }
        /// `body` reads the trade columns in place. A method called on
        /// `trades` itself runs on a copy of the struct (a retain and a
        /// release for each of its columns), which for a row's comparison
        /// costs more than the comparison.
        @inline(__always) func withTrades<R>(_ body: (UnsafePointer<TradeColumns>) -> R) -> R { body(storage) }
        func pack(into p: inout SealedPacker) { trades.pack(into: &p); p.put(schemaId); p.put(sourceRow) }
        init(unpacking u: inout SealedUnpacker) {
            storage = .allocate(capacity: 1); storage.initialize(to: TradeColumns(unpacking: &u))
            schemaId = u.take(); sourceRow = u.take()
        }
    }
    typealias Rows = Segments<Segment>
    var sink = StagedSink<Rows>()

    init(name: TableName, exchange: ExchangeName, bronze: BronzeTable, pool: StringPool, lists: StringListPool) {
        self.name = name; self.exchange = exchange; self.bronze = bronze; self.pool = pool; self.lists = lists
    }

    public var rowCount: Int { sink.committedRows }
    public var snapshots: [Snapshot] { sink.snapshots }
    public var storageBytes: Int { sink.rows.heldBytes }
    /// Compressed bytes of sealed segments on disk.
    public var spilledBytes: Int { sink.rows.spilledBytes }

    func stage(_ t: Trade, schemaId s: Int32, sourceRow r: Int) {
        let seg = sink.rows.tail()
        seg.trades.append(t, pool: pool, lists: lists)
        seg.schemaId.append(s); seg.sourceRow.append(UInt32(r))
        sink.rows.didAppend()
        sink.sealCommittedSegments()
    }

    func messageKey(_ i: Int) -> MessageKey { let (s, j) = sink.rows.at(i); return s.trades.messageId.key(j) }

    // Single columns of row `i`, read without building the row (the checks
    // read millions of rows for one or two fields each); `columns` for several.

    /// `message_id`.
    public func messageId(_ i: Int) -> String { columns(i).messageId }
    /// `timestamp` (the event time), in microseconds.
    public func timestampMicros(_ i: Int) -> Micros { columns(i).timestampMicros }
    /// Lineage: the Bronze row the row came from.
    public func sourceBronzeRow(_ i: Int) -> Int { columns(i).sourceBronzeRow }

    /// Several columns of one row, read through one lookup of its segment
    /// (for readers that take more than one field of a row).
    public struct Columns {
        let segment: Segment
        let j: Int
        let table: SilverTable

        public var messageId: String { segment.trades.messageId.string(j) }
        public var timestampMicros: Micros { segment.trades.timestamp[j] }
        public var exchange: String { table.pool[segment.trades.exchange[j]] }
        public var sourceBronzeRow: Int { Int(segment.sourceRow[j]) }
        public var schemaId: Int32 { segment.schemaId[j] }
        /// `vendor_data`'s entries, or nil, in no promised order (a map has none): for readers that would only iterate the map.
        public var vendorEntries: [(key: String, value: String)]? { VendorData.entries(segment.trades.vendor[j]) }
        /// `vendor_data` as Gold holds it for a row made from this one: the JSON object string, or nil.
        public var goldVendorDataJSON: String? {
            var json: [UInt8] = []
            return goldVendorDataJSON(into: &json) ? String(decoding: json, as: UTF8.self) : nil
        }
        /// `goldVendorDataJSON`'s UTF-8 written into `out` (emptied first), without
        /// building a string; false (and `out` empty) when it is nil.
        public func goldVendorDataJSON(into out: inout [UInt8]) -> Bool {
            out.removeAll(keepingCapacity: true)
            let vendor = segment.trades.vendor[j]
            guard vendor[vendor.startIndex] == 1 else { return false }
            VendorData.writeJSONObject(fromCanonical: vendor, into: &out)
            return true
        }
        /// Whether the row's 15 trade fields are `t` (`trade == t`, without building the row).
        public func holds(_ t: Trade) -> Bool {
            let (j, pool, lists) = (j, table.pool, table.lists)
            return segment.withTrades { TradeColumns.holds($0, j, t, pool: pool, lists: lists) }
        }
        /// The row's 15 trade fields (`vendor_data` as a map), without Silver's three timestamp columns.
        public var trade: Trade { segment.trades.trade(j, pool: table.pool, lists: table.lists, vendorIsCanonicalMap: true) }
        /// The trade fields as Gold holds them: `vendor_data` nil (Gold keeps it as `goldVendorDataJSON`).
        var goldTrade: Trade { segment.trades.trade(j, pool: table.pool, lists: table.lists, vendorIsCanonicalMap: false) }
    }

    /// Row `i`'s columns.
    public func columns(_ i: Int) -> Columns { let (s, j) = sink.rows.at(i); return Columns(segment: s, j: j, table: self) }

    public func row(_ i: Int) -> SilverRow {
        precondition(i < rowCount, "row \(i) is not committed")
        let (s, j) = sink.rows.at(i)
        let source = Int(s.sourceRow[j])
        return SilverRow(trade: s.trades.trade(j, pool: pool, lists: lists, vendorIsCanonicalMap: true),
                         validationTimestampMicros: sink.batchTimestamp(ofRow: i),
                         bronzeIngestionTimestampMicros: bronze.ingestionMicros(source),
                         schemaId: s.schemaId[j], sourceBronzeRow: source)
    }

    public var rows: LazyMapSequence<Range<Int>, SilverRow> { (0..<rowCount).lazy.map { self.row($0) } }
}

// MARK: - DLQ

/// A `silver_dlq_trades` row: exactly one reason per rejected message.
public struct DlqRow: Equatable, Sendable {
    public var rawValue: [UInt8]
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    /// The exchange of the topic it came from (`BINANCE`, `KRAKEN`).
    public var exchange: String
    public var errorCategory: DeadLetterCategory
    public var errorReason: DeadLetterReason
    public var errorMessage: String
    /// The schema id of the header, when the header could be read.
    public var schemaId: Int32?
    public var bronzeIngestionTimestampMicros: Micros
    public var dlqWriteTimestampMicros: Micros
    /// Lineage (engine metadata): the Bronze table and row it came from.
    public var sourceTable: TableName
    public var sourceBronzeRow: Int
}

/// Column storage for DLQ rows; also a Silver batch's pending DLQ output
/// (the DLQ has two writers, so each stages into its own buffer).
struct DlqColumns: SinkRows {
    var exchange: [UInt8] = []         // ExchangeName index
    var bronzeRow: [UInt32] = []
    var reason: [UInt8] = []           // DeadLetterReason index
    var message = ByteArena()
    var schemaId: [Int32] = []
    var hasSchemaId: [Bool] = []
    var dlqWrite: [Int64] = []

    var count: Int { reason.count }

    mutating func append(exchange e: ExchangeName, bronzeRow r: Int, reason: DeadLetterReason, message m: String,
                         schemaId s: Int32?, writeTs: Micros) {
        exchange.append(UInt8(ExchangeName.allCases.firstIndex(of: e)!))
        bronzeRow.append(UInt32(r))
        self.reason.append(UInt8(DeadLetterReason.allCases.firstIndex(of: reason)!))
        message.append(string: m)
        schemaId.append(s ?? 0); hasSchemaId.append(s != nil)
        dlqWrite.append(writeTs)
    }

    mutating func truncate(to n: Int) {
        let k = count - n
        exchange.removeLast(k); bronzeRow.removeLast(k); reason.removeLast(k); message.truncate(to: n)
        schemaId.removeLast(k); hasSchemaId.removeLast(k); dlqWrite.removeLast(k)
    }

    mutating func append(contentsOf o: DlqColumns) {
        for i in 0..<o.count {
            exchange.append(o.exchange[i]); bronzeRow.append(o.bronzeRow[i]); reason.append(o.reason[i])
            message.append(from: o.message, row: i)
            schemaId.append(o.schemaId[i]); hasSchemaId.append(o.hasSchemaId[i]); dlqWrite.append(o.dlqWrite[i])
        }
    }
}

/// `silver_dlq_trades`, shared by both Silver jobs. Raw bytes are read through
/// the Bronze row (which refers to the immutable Kafka record).
public final class DlqTable: MedallionTable {
    public let name = TableName.silverDlq
    private let bronze: [ExchangeName: BronzeTable]
    var sink = StagedSink<DlqColumns>()

    init(bronze: [ExchangeName: BronzeTable]) { self.bronze = bronze }

    public var rowCount: Int { sink.committedRows }
    public var snapshots: [Snapshot] { sink.snapshots }
    public var storageBytes: Int { sink.rows.count * 28 + sink.rows.message.byteCount }

    /// Stages a writer's pending rows (each writer buffers its own, see
    /// `DlqColumns`) and commits them as one snapshot; see `StagedSink.commitStaged`.
    func commit(_ pending: DlqColumns, queryId: String, job: JobName, batchId: Int64, batchTimestampMicros: Micros,
                at t: Micros, appendOnly: Bool = false) -> Bool {
        precondition(sink.stagedCount == 0, "the DLQ stages only inside a commit")
        sink.rows.append(contentsOf: pending)
        return sink.commitStaged(queryId: queryId, job: job, batchId: batchId, batchTimestampMicros: batchTimestampMicros,
                                 at: t, appendOnly: appendOnly)
    }

    public func row(_ i: Int) -> DlqRow {
        precondition(i < rowCount, "row \(i) is not committed")
        let e = ExchangeName.allCases[Int(sink.rows.exchange[i])]
        let b = bronze[e]!
        let r = Int(sink.rows.bronzeRow[i])
        let reason = DeadLetterReason.allCases[Int(sink.rows.reason[i])]
        return DlqRow(rawValue: b.value(r), sourceTopic: b.topicName, sourcePartition: b.partitionOf(r),
                      sourceOffset: b.offsetOf(r), exchange: e.rawValue, errorCategory: reason.category,
                      errorReason: reason, errorMessage: sink.rows.message.string(i),
                      schemaId: sink.rows.hasSchemaId[i] ? sink.rows.schemaId[i] : nil,
                      bronzeIngestionTimestampMicros: b.ingestionMicros(r), dlqWriteTimestampMicros: sink.rows.dlqWrite[i],
                      sourceTable: b.name, sourceBronzeRow: r)
    }

    public var rows: LazyMapSequence<Range<Int>, DlqRow> { (0..<rowCount).lazy.map { self.row($0) } }
}

// MARK: - Gold

/// A Gold row: the 15 V2 fields (`trade`, whose `vendorData` is always nil
/// here because Gold holds it as `vendorDataJSON`), plus Gold's columns.
public struct GoldRow: Equatable, Sendable {
    public var trade: Trade
    /// `vendor_data` as a JSON object string with sorted keys (`VendorData.json`).
    public var vendorDataJSON: String?
    public var goldIngestionTimestampMicros: Micros
    /// `YYYY-MM-DD` of the event time in UTC (partition column).
    public var exchangeDate: String
    /// 0...23, hour of the event time in UTC (partition column).
    public var exchangeHour: Int
    /// Event time: `timestamp / 1_000_000` truncated to whole seconds.
    public var eventTimeSeconds: Int64
    /// Lineage (engine metadata): the Silver table and row it came from.
    public var sourceTable: TableName
    public var sourceRow: Int
}

/// One (exchange_date, exchange_hour) partition of Gold and its row count.
public struct GoldPartition: Equatable, Sendable {
    public var exchangeDate: String
    public var exchangeHour: Int
    public var rowCount: Int
}

/// `gold_crypto_trades`, partitioned by (exchange_date, exchange_hour).
///
/// A Gold row is its Silver source row's fields (vendor data as JSON) plus
/// the event time and the batch timestamp, and committed Silver rows never
/// change; so Gold keeps a reference to the source row (13 bytes a row)
/// instead of a copy of its fields (~150 bytes), and builds the row when
/// read. At production rates the copy was a quarter of the engine's memory.
/// The references are in `Segments` of 32,768 rows, sealed (packed,
/// zstd-compressed, spilled to disk) once committed and out of the live
/// window, as Bronze's and Silver's are; the rows per partition are counted
/// as they are committed, so `partitions` reads no row.
public final class GoldTable: MedallionTable {
    public let name = TableName.gold
    /// silver_binance, silver_kraken: what `sourceInput` indexes.
    private let inputs: [SilverTable]
    /// A row: its event time in whole seconds (the partition columns derive
    /// from it) and the Silver table and row it came from.
    final class Segment: SealableSegment {
        var eventSeconds: [Int64] = []
        var sourceInput: [UInt8] = []      // index into GoldTable.inputs
        var sourceRow: [UInt32] = []
        init() {}
        var count: Int { eventSeconds.count }
        var heldBytes: Int { eventSeconds.capacity * 8 + sourceInput.capacity + sourceRow.capacity * 4 }
        func truncate(to n: Int) {
            let k = count - n
            eventSeconds.removeLast(k); sourceInput.removeLast(k); sourceRow.removeLast(k)
        }
        func pack(into p: inout SealedPacker) { p.put(eventSeconds); p.put(sourceInput); p.put(sourceRow) }
        init(unpacking u: inout SealedUnpacker) { eventSeconds = u.take(); sourceInput = u.take(); sourceRow = u.take() }
    }
    typealias Rows = Segments<Segment>
    var sink = StagedSink<Rows>()
    /// Committed rows per event hour (hours since the epoch): rows
    /// `0 ..< countedRows` are counted, kept equal to `rowCount`.
    private var hourCounts: [Int64: Int] = [:]
    private var countedRows = 0
    static let inputs: [TableName] = [.silverBinance, .silverKraken]

    init(inputs: [SilverTable]) {
        precondition(inputs.map(\.name) == GoldTable.inputs)
        self.inputs = inputs
    }

    public var rowCount: Int { sink.committedRows }
    public var snapshots: [Snapshot] { sink.snapshots }
    /// Bytes held in memory: the live segments, the sealed ones' offsets, the hour counts.
    public var storageBytes: Int { sink.rows.heldBytes + hourCounts.capacity * 16 }
    /// Compressed bytes of sealed segments on disk.
    public var spilledBytes: Int { sink.rows.spilledBytes }

    /// Stages committed row `i` of `silver` (input `input`).
    func stage(from silver: SilverTable, input: Int, row i: Int, eventSeconds e: Int64) {
        precondition(silver === inputs[input] && i < silver.rowCount, "gold stages committed rows of its inputs")
        let s = sink.rows.tail()
        s.eventSeconds.append(e); s.sourceInput.append(UInt8(input)); s.sourceRow.append(UInt32(i))
        sink.rows.didAppend()
        sink.sealCommittedSegments()
    }

    /// Commits the staged rows (see `StagedSink.commitStaged`) and counts
    /// them in their partitions; they are in live segments still (only
    /// committed rows are sealed, when the next segment opens).
    func commitStaged(queryId: String, batchId: Int64, batchTimestampMicros: Micros, at t: Micros) -> Bool {
        let made = sink.commitStaged(queryId: queryId, job: .gold, batchId: batchId, batchTimestampMicros: batchTimestampMicros, at: t)
        countCommittedRows()
        return made
    }

    /// Counts rows `countedRows ..< rowCount` in their event hours, a run of
    /// rows of the same hour at once.
    private func countCommittedRows() {
        var i = countedRows
        while i < rowCount {
            let (s, j) = sink.rows.at(i)
            let n = min(s.count - j, rowCount - i)
            var hour = Time.floorDiv(s.eventSeconds[j], 3600), run = 0
            for e in s.eventSeconds[j ..< j + n] {
                let h = Time.floorDiv(e, 3600)
                if h != hour { hourCounts[hour, default: 0] += run; hour = h; run = 0 }
                run += 1
            }
            hourCounts[hour, default: 0] += run
            i += n
        }
        countedRows = rowCount
    }

    /// Takes committed row `i` out of its hour's count (test hooks only).
    private func uncount(_ i: Int) {
        let h = Time.floorDiv(eventSeconds(i), 3600)
        hourCounts[h]! -= 1
        if hourCounts[h] == 0 { hourCounts[h] = nil }
    }

    // Single columns of row `i`, read without building the row.

    /// Lineage: the Silver input (0 silver_binance, 1 silver_kraken, as
    /// `GoldTable.inputs`) and row the row came from.
    public func source(_ i: Int) -> (input: Int, row: Int) { let s = sourceAndEventSeconds(i); return (s.input, s.row) }
    /// The event time in whole seconds (`exchange_date` and `exchange_hour` derive from it).
    public func eventSeconds(_ i: Int) -> Int64 { sourceAndEventSeconds(i).eventSeconds }
    /// `gold_ingestion_timestamp`: the writing batch's timestamp.
    public func ingestionMicros(_ i: Int) -> Micros { sink.batchTimestamp(ofRow: i) }
    /// `message_id`, read through the row's Silver source.
    public func messageId(_ i: Int) -> String { let (k, r) = source(i); return inputs[k].messageId(r) }
    /// `vendor_data`: the JSON object string, or nil.
    public func vendorDataJSON(_ i: Int) -> String? { let (k, r) = source(i); return inputs[k].columns(r).goldVendorDataJSON }
    /// Lineage and event time of row `i` in one read: see `source` and `eventSeconds`.
    public func sourceAndEventSeconds(_ i: Int) -> (input: Int, row: Int, eventSeconds: Int64) {
        precondition(i < rowCount, "row \(i) is not committed")
        let (s, j) = sink.rows.at(i)
        return (Int(s.sourceInput[j]), Int(s.sourceRow[j]), s.eventSeconds[j])
    }

    public func row(_ i: Int) -> GoldRow {
        precondition(i < rowCount, "row \(i) is not committed")
        let (s, j) = sink.rows.at(i)
        let e = s.eventSeconds[j]
        let civil = UTCDateTime(micros: e * Time.microsPerSecond)
        let input = Int(s.sourceInput[j]), r = Int(s.sourceRow[j])
        let source = inputs[input].columns(r)
        return GoldRow(trade: source.goldTrade, vendorDataJSON: source.goldVendorDataJSON,
                       goldIngestionTimestampMicros: sink.batchTimestamp(ofRow: i),
                       exchangeDate: civil.dateString, exchangeHour: Int(civil.hour), eventTimeSeconds: e,
                       sourceTable: GoldTable.inputs[input], sourceRow: r)
    }

    public var rows: LazyMapSequence<Range<Int>, GoldRow> { (0..<rowCount).lazy.map { self.row($0) } }

    /// Partitions in (date, hour) order with their committed row counts.
    public var partitions: [GoldPartition] {
        hourCounts.keys.sorted().map { h in
            let c = UTCDateTime(micros: h * Time.microsPerHour)
            return GoldPartition(exchangeDate: c.dateString, exchangeHour: Int(c.hour), rowCount: hourCounts[h]!)
        }
    }
}

// MARK: - Test-only corruption hooks
//
// These exist so tests can prove that every check of the independent oracle
// can fail: each breaks one promise the engine keeps. Nothing but tests calls them.

extension GoldTable {
    /// Loses the last committed Gold row (and its place in its partition's count).
    public func testOnly_loseLastRow() {
        guard rowCount > 0 else { return }
        uncount(rowCount - 1)
        sink.testOnly_forgetLastRow()
        countedRows = rowCount
    }

    /// Commits a second copy of committed row `i` in a snapshot of its own.
    public func testOnly_duplicateRow(_ i: Int, silver: SilverTable) {
        precondition(i < rowCount && sink.stagedCount == 0)
        let last = sink.snapshots.last!
        let (k, r) = source(i)
        stage(from: inputs[k], input: k, row: r, eventSeconds: eventSeconds(i))
        _ = commitStaged(queryId: last.queryId + "-corrupt", batchId: last.batchId,
                         batchTimestampMicros: sink.batchTimestamp(ofRow: i), at: last.committedAtMicros)
    }
}

extension BronzeTable {
    /// Commits a second copy of committed row `i` in a snapshot of its own.
    public func testOnly_duplicateRow(_ i: Int) {
        precondition(i < rowCount && sink.stagedCount == 0)
        let last = sink.snapshots.last!
        let (s, j) = sink.rows.at(i)
        stage(partition: s.partition[j], position: s.position[j], kafkaTimestampMs: s.kafkaTimestampMs[j])
        _ = sink.commitStaged(queryId: last.queryId + "-corrupt", job: last.job, batchId: last.batchId,
                              batchTimestampMicros: sink.batchTimestamp(ofRow: i), at: last.committedAtMicros)
    }
}

extension SilverTable {
    /// Points Silver row `i`'s lineage at another Bronze row (the row's fields stay).
    public func testOnly_setSourceRow(_ i: Int, bronzeRow: Int) {
        precondition(sink.rows.isLive(i >> Rows.shift), "a test rewrites rows of live segments only")
        let (s, j) = sink.rows.at(i)
        s.sourceRow[j] = UInt32(bronzeRow)
    }
}

extension GoldTable {
    /// Moves Gold row `i`'s event time (and so its partition) without touching its trade.
    public func testOnly_setEventSeconds(_ i: Int, _ seconds: Int64) {
        precondition(sink.rows.isLive(i >> Rows.shift), "a test rewrites rows of live segments only")
        let counted = i < countedRows
        if counted { uncount(i) }
        let (s, j) = sink.rows.at(i)
        s.eventSeconds[j] = seconds
        if counted { hourCounts[Time.floorDiv(seconds, 3600), default: 0] += 1 }
    }
}

extension DlqTable {
    /// Files DLQ row `i` under another reason (its category follows the reason).
    public func testOnly_setReason(_ i: Int, _ reason: DeadLetterReason) {
        sink.rows.reason[i] = UInt8(DeadLetterReason.allCases.firstIndex(of: reason)!)
    }
}
