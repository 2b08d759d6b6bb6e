import Broker
import Codec
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Kernel

/// What Silver's decoder says about one Kafka value: header check, schema
/// lookup and Avro decode (with resolution to V2) in one step.
public enum SilverDecodeResult: Sendable, Equatable {
    case trade(Trade, schemaId: Int32)
    case failure(DeadLetterReason, message: String, schemaId: Int32?)
    /// The decoder threw out of the task (from_avro, FAILFAST): the batch fails.
    case fatal(message: String)
}

/// The seam between Silver and the Avro codec: one function per Silver job
/// (a decoder is not shared between threads in Spark either). It reads the
/// Kafka value in place (the buffer is valid only during the call).
public typealias SilverDecoder = (UnsafeRawBufferPointer) -> SilverDecodeResult

// MARK: - Bronze

/// bronze_<exchange>: Kafka topic -> raw bytes + Kafka metadata. Never decodes.
final class BronzeLogic: MicroBatchLogic {
    let table: BronzeTable
    let cluster: KafkaCluster
    let topicName: String
    let sinkTables: [TableName]
    let watermarkInputs = 0
    /// The Kafka source's `failOnDataLoss`.
    let failOnDataLoss: Bool
    /// The virtual time, when a task fetches (retention is judged then).
    let now: () -> Micros

    init(table: BronzeTable, cluster: KafkaCluster, failOnDataLoss: Bool = true, now: @escaping () -> Micros) {
        self.table = table; self.cluster = cluster; self.topicName = table.topicName
        self.sinkTables = [table.name]
        self.failOnDataLoss = failOnDataLoss; self.now = now
    }

    private var partitions: [TopicPartition] { cluster.topic(topicName)?.partitions ?? [] }

    /// "earliest": each partition's log start offset (0 for generated traffic,
    /// the first captured offset for a replay).
    func initialOffsets() -> [Int64] { partitions.map(\.logStartOffset) }
    /// "earliest" is the log start offset then, after retention.
    func startingOffsets(_ mode: StartingOffsets, at t: Micros) -> [Int64] {
        mode == .earliest ? partitions.map { $0.earliestOffset(at: t) } : availableOffsets(at: t)
    }
    func availableOffsets(at t: Micros) -> [Int64] { partitions.map { $0.latestOffset(at: t) } }

    func execute(_ e: OffsetLogEntry, lateThresholdMs: Int64) -> BatchOutput {
        let parts = partitions
        var n = 0
        var warnings: [String] = []
        let t = now()
        for p in 0..<e.endOffsets.count {
            let tp = parts[p]
            var from = e.startOffsets[p]
            // KafkaDataConsumer.get: a fetch below the log start offset (retention
            // deleted those records) is out of range.
            let earliest = tp.earliestOffset(at: t)
            if from < earliest && from < e.endOffsets[p] {
                if failOnDataLoss {
                    var out = BatchOutput(rowsOut: [0])
                    out.taskFailure = "java.lang.IllegalStateException: Cannot fetch offset \(from) (TopicPartition: \(topicName)-\(p)). "
                        + "Some data may have been lost because they are not available in Kafka any more; either the data was aged out "
                        + "by Kafka or the topic may have been deleted before all the data in the topic was processed. If you don't want "
                        + "your streaming query to fail on such cases, set the source option \"failOnDataLoss\" to \"false\"."
                    return out
                }
                let skipTo = min(earliest, e.endOffsets[p])
                warnings.append("Some data may be lost. Recovering from the earliest offset: \(earliest). "
                                + "Offset \(from) of \(topicName)-\(p) is out of range, and records in [\(from), \(skipTo)) will be skipped")
                from = skipTo
            }
            // Offsets may have gaps (a replayed capture): read the records
            // whose offsets fall in [start, end), by position in the log.
            for i in tp.position(ofOffset: from) ..< tp.position(ofOffset: e.endOffsets[p]) {
                table.stage(partition: Int32(p), position: i, kafkaTimestampMs: tp.timestampMs(atPosition: i))
                n += 1
            }
        }
        var out = BatchOutput(rowsIn: n, rowsOut: [n])
        out.warnings = warnings
        return out
    }

    func alreadyCommitted(sink: TableName, queryId: String, batchId: Int64) -> Bool {
        precondition(sink == table.name)
        return table.sink.hasCommitted(queryId: queryId, batchId: batchId)
    }

    func commit(sink: TableName, queryId: String, batchId: Int64, batchTimestampMicros: Micros, at t: Micros) -> Bool {
        precondition(sink == table.name)
        return table.sink.commitStaged(queryId: queryId, job: table.name == .bronzeBinance ? .bronzeBinance : .bronzeKraken,
                                       batchId: batchId, batchTimestampMicros: batchTimestampMicros, at: t)
    }

    func batchCompleted(batchId: Int64) {}
    func abandonBatch() { table.sink.discardStaged() }
    var stateKeys: Int { 0 }
}

// MARK: - Silver

/// silver_<exchange>: Bronze's new snapshots -> header check, schema lookup,
/// decode (V1 or V2 writer, V2 reader), validation in docs/REFERENCE.md §4 order -> valid
/// rows to Silver, each invalid one to the DLQ with exactly one reason. Both
/// writes belong to the batch and are idempotent by batch id.
final class SilverLogic: MicroBatchLogic {
    let job: JobName
    let exchange: ExchangeName
    let bronze: BronzeTable
    let silver: SilverTable
    let dlq: DlqTable
    /// One decoder per decode thread (a decoder is not thread-safe).
    let decoders: [SilverDecoder]
    let sinkTables: [TableName]
    let watermarkInputs = 0
    private var pendingDlq = DlqColumns()
    /// `silver_sinks: foreach_batch`: both writes are plain appends, never
    /// checked against the batch ids already committed.
    let appendOnly: Bool
    /// Which of the two tables this query writes (`two_queries`: one each).
    let writes: SilverWrites
    /// Below this many rows a batch is decoded on one thread: the hand-off costs more.
    static let parallelThreshold = 2_048

    init(job: JobName, bronze: BronzeTable, silver: SilverTable, dlq: DlqTable, decoders: [SilverDecoder],
         appendOnly: Bool = false, writes: SilverWrites = .both) {
        precondition(!decoders.isEmpty)
        self.job = job; self.exchange = job.exchange!; self.bronze = bronze; self.silver = silver; self.dlq = dlq
        self.decoders = decoders
        self.appendOnly = appendOnly
        self.writes = writes
        switch writes {
        case .both: sinkTables = [silver.name, dlq.name]
        case .silverOnly: sinkTables = [silver.name]
        case .dlqOnly: sinkTables = [dlq.name]
        }
    }

    convenience init(job: JobName, bronze: BronzeTable, silver: SilverTable, dlq: DlqTable, decode: @escaping SilverDecoder) {
        self.init(job: job, bronze: bronze, silver: silver, dlq: dlq, decoders: [decode])
    }

    /// What Silver makes of one Bronze row: decode, then validation.
    enum RowOutcome {
        case valid(Trade, schemaId: Int32)
        case invalid(DeadLetterReason, message: String, schemaId: Int32?)
        case fatal(String)
    }

    func outcome(_ r: Int, _ decode: SilverDecoder) -> RowOutcome {
        switch bronze.withValue(r, decode) {
        case .trade(let t, let schemaId):
            if let reason = TradeValidator.firstFailure(t, topicExchange: exchange) {
                return .invalid(reason, message: TradeValidator.message(for: reason, t, topicExchange: exchange), schemaId: schemaId)
            }
            return .valid(t, schemaId: schemaId)
        case .failure(let reason, let message, let schemaId):
            return .invalid(reason, message: message, schemaId: schemaId)
        case .fatal(let message):
            return .fatal(message)
        }
    }

    /// Decodes and validates rows [start, end) on `decoders.count` threads, each
    /// over its own contiguous slice with its own decoder, into disjoint slots of
    /// one buffer: the results are the same, in the same order, as on one thread.
    /// Only reads are shared (Bronze and the Kafka log do not change meanwhile).
    func parallelOutcomes(_ start: Int, _ end: Int) -> [RowOutcome] {
        let n = end - start, k = decoders.count
        let slots = UnsafeMutableBufferPointer<RowOutcome>.allocate(capacity: n)
        // Which thread ran each slice (diagnostics only; never in an output).
        let threads = UnsafeMutableBufferPointer<UInt>.allocate(capacity: k)
        threads.initialize(repeating: 0)
        let shared = UncheckedSendable((self, slots, threads))
        let slice: @Sendable (Int) -> Void = { t in
            let (logic, out, ran) = shared.value
            ran[t] = UInt(pthread_self())
            let lo = n * t / k, hi = n * (t + 1) / k
            for i in lo..<hi { (out.baseAddress! + i).initialize(to: logic.outcome(start + i, logic.decoders[t])) }
        }
        // Slices 1..<k on threads of their own, slice 0 here. Not a shared
        // pool (concurrentPerform ran every slice on the calling thread when
        // the pool was busy): a batch this large amortizes a thread start.
        var spawned: [pthread_t] = []
        for t in 1..<k {
            let box = Unmanaged.passRetained(SliceBox { slice(t) }).toOpaque()
            var tid = pthread_t()
            if pthread_create(&tid, nil, { p in
                Unmanaged<SliceBox>.fromOpaque(p!).takeRetainedValue().run()
                return nil
            }, box) == 0 {
                spawned.append(tid)
            } else {
                Unmanaged<SliceBox>.fromOpaque(box).takeRetainedValue().run()  // no thread: run it here
            }
        }
        slice(0)
        for tid in spawned { pthread_join(tid, nil) }
        parallelBatches += 1
        mostThreadsInABatch = max(mostThreadsInABatch, Set(threads).count)
        threads.deallocate()
        defer { slots.baseAddress!.deinitialize(count: n); slots.deallocate() }
        return Array(slots)
    }

    /// Batches decoded through `parallelOutcomes`, and the most distinct OS
    /// threads that decoded slices of one of them (the sanitizer runs assert
    /// that decoding really ran on several threads).
    private(set) var parallelBatches = 0
    private(set) var mostThreadsInABatch = 0

    func initialOffsets() -> [Int64] { [0] }
    /// An Iceberg streaming read sees only committed snapshots.
    func availableOffsets(at t: Micros) -> [Int64] { [Int64(bronze.rowCount)] }

    func execute(_ e: OffsetLogEntry, lateThresholdMs: Int64) -> BatchOutput {
        let batchTs = e.batchTimestampMs * Time.microsPerMilli
        pendingDlq = DlqColumns()
        var valid = 0
        let start = Int(e.startOffsets[0]), end = Int(e.endOffsets[0])
        // Every row is decoded and validated; a query writing one table keeps
        // its rows and filters the others out (`two_queries`).
        let keepValid = writes != .dlqOnly, keepInvalid = writes != .silverOnly
        func stage(_ r: Int, _ o: RowOutcome) {
            switch o {
            case .valid(let t, let schemaId):
                guard keepValid else { return }
                silver.stage(t, schemaId: schemaId, sourceRow: r)
                valid += 1
            case .invalid(let reason, let message, let schemaId):
                guard keepInvalid else { return }
                pendingDlq.append(exchange: exchange, bronzeRow: r, reason: reason, message: message,
                                  schemaId: schemaId, writeTs: batchTs)
            case .fatal(let message):
                if taskFailure == nil { taskFailure = "\(bronze.name.rawValue) row \(r): \(message)" }
            }
        }
        var taskFailure: String?
        if decoders.count > 1 && end - start >= Self.parallelThreshold {
            for (i, o) in parallelOutcomes(start, end).enumerated() { stage(start + i, o) }
        } else {
            for r in start..<end { stage(r, outcome(r, decoders[0])) }
        }
        let n = Int(e.endOffsets[0] - e.startOffsets[0])
        let rowsOut: [Int]
        switch writes {
        case .both: rowsOut = [valid, pendingDlq.count]
        case .silverOnly: rowsOut = [valid]
        case .dlqOnly: rowsOut = [pendingDlq.count]
        }
        var out = BatchOutput(rowsIn: n, rowsOut: rowsOut)
        out.taskFailure = taskFailure
        return out
    }

    func alreadyCommitted(sink: TableName, queryId: String, batchId: Int64) -> Bool {
        if appendOnly { return false }
        switch sink {
        case silver.name: return silver.sink.hasCommitted(queryId: queryId, batchId: batchId)
        case dlq.name: return dlq.sink.hasCommitted(queryId: queryId, batchId: batchId)
        default: preconditionFailure("\(job.rawValue) does not write \(sink.rawValue)")
        }
    }

    func commit(sink: TableName, queryId: String, batchId: Int64, batchTimestampMicros: Micros, at t: Micros) -> Bool {
        switch sink {
        case silver.name:
            return silver.sink.commitStaged(queryId: queryId, job: job, batchId: batchId,
                                            batchTimestampMicros: batchTimestampMicros, at: t, appendOnly: appendOnly)
        case dlq.name:
            defer { pendingDlq = DlqColumns() }
            return dlq.commit(pendingDlq, queryId: queryId, job: job, batchId: batchId,
                              batchTimestampMicros: batchTimestampMicros, at: t, appendOnly: appendOnly)
        default: preconditionFailure("\(job.rawValue) does not write \(sink.rawValue)")
        }
    }

    func batchCompleted(batchId: Int64) {}
    /// Discards what this query staged (Silver's staging belongs to the query that writes Silver).
    func abandonBatch() {
        if writes != .dlqOnly { silver.sink.discardStaged() }
        pendingDlq = DlqColumns()
    }
    var stateKeys: Int { 0 }
}

/// Which of its two tables a Silver query writes.
enum SilverWrites: Sendable, Equatable {
    /// One query, two sinks (every value of `silver_sinks` but `two_queries`).
    case both
    /// `two_queries`: `valid.writeStream.toTable(silver_<x>_trades)`.
    case silverOnly
    /// `two_queries`: `invalid.writeStream.toTable(silver_dlq_trades)`.
    case dlqOnly
}

// MARK: - Gold

/// gold: union of both Silver streams, per-input watermark (5 min), late rows
/// dropped with the previous batch's watermark, dropDuplicates(message_id)
/// with never-evicted state, partition columns from the event time in UTC.
///
/// Union order within a batch: silver_binance rows, then silver_kraken rows,
/// each in table order; the first row of a message id wins. (Spark's order
/// after the shuffle is not specified; this one is fixed and documented.)
final class GoldLogic: MicroBatchLogic {
    let inputs: [SilverTable]
    let gold: GoldTable
    private(set) var state = DedupState()
    let sinkTables: [TableName] = [.gold]
    /// Inputs with `withWatermark`, the first ones of `inputs` (both, or Binance alone).
    let watermarkInputs: Int
    private(set) var drops: [DroppedRow] = []
    private var pendingDrops: [DroppedRow] = []

    init(inputs: [SilverTable], gold: GoldTable, watermark: GoldWatermarkMode = .both) {
        precondition(inputs.count == 2)
        self.inputs = inputs; self.gold = gold
        watermarkInputs = watermark == .both ? 2 : 1
    }

    func initialOffsets() -> [Int64] { [0, 0] }
    func availableOffsets(at t: Micros) -> [Int64] { inputs.map { Int64($0.rowCount) } }

    func execute(_ e: OffsetLogEntry, lateThresholdMs: Int64) -> BatchOutput {
        pendingDrops.removeAll()
        var out = BatchOutput(rowsOut: [0])
        out.maxEventMs = Array(repeating: nil, count: watermarkInputs)
        out.eventTimeStats = Array(repeating: nil, count: watermarkInputs)
        for (k, silver) in inputs.enumerated() {
            for r in Int(e.startOffsets[k]) ..< Int(e.endOffsets[k]) {
                out.rowsIn += 1
                // from_unixtime(timestamp / 1e6).cast("timestamp"): whole seconds, truncated.
                let eventSeconds = silver.timestampMicros(r) / Time.microsPerSecond
                let eventMs = eventSeconds * 1_000
                // Only a watermarked input's EventTimeWatermarkExec measures event time.
                if k < watermarkInputs {
                    if out.maxEventMs[k] == nil || eventMs > out.maxEventMs[k]! { out.maxEventMs[k] = eventMs }
                    if out.eventTimeStats[k] == nil { out.eventTimeStats[k] = EventTimeStats() }
                    out.eventTimeStats[k]!.add(eventMs)
                }
                // The late filter reads the union's event-time column, which
                // carries the watermark whichever input the row came from.
                if eventMs <= lateThresholdMs {
                    out.lateRows += 1
                    pendingDrops.append(drop(.late, e, silver, r, eventMs, lateThresholdMs))
                    continue
                }
                if state.insert(silver.messageKey(r)) {
                    gold.stage(from: silver, input: k, row: r, eventSeconds: eventSeconds)
                    out.rowsOut[0] += 1
                } else {
                    out.duplicateRows += 1
                    pendingDrops.append(drop(.duplicate, e, silver, r, eventMs, lateThresholdMs))
                }
            }
        }
        return out
    }

    private func drop(_ kind: DroppedRow.Kind, _ e: OffsetLogEntry, _ s: SilverTable, _ r: Int, _ eventMs: Int64,
                      _ threshold: Int64) -> DroppedRow {
        DroppedRow(kind: kind, goldBatchId: e.batchId, sourceTable: s.name, sourceRow: r,
                   messageId: s.messageId(r), eventTimeMs: eventMs, lateThresholdMs: threshold)
    }

    func alreadyCommitted(sink: TableName, queryId: String, batchId: Int64) -> Bool {
        precondition(sink == gold.name)
        return gold.sink.hasCommitted(queryId: queryId, batchId: batchId)
    }

    func commit(sink: TableName, queryId: String, batchId: Int64, batchTimestampMicros: Micros, at t: Micros) -> Bool {
        precondition(sink == gold.name)
        return gold.commitStaged(queryId: queryId, batchId: batchId, batchTimestampMicros: batchTimestampMicros, at: t)
    }

    func batchCompleted(batchId: Int64) {
        state.commit()
        drops.append(contentsOf: pendingDrops)
        pendingDrops.removeAll()
    }

    func abandonBatch() {
        state.rollback()
        gold.sink.discardStaged()
        pendingDrops.removeAll()
    }

    var stateKeys: Int { state.keyCount }
    func checkpointDeleted() { state = DedupState() }
}

/// Silver's decoders.
public enum SilverDecoders {
    /// The real one: the Confluent header, the schema registry and libavro
    /// through the Codec's `TradeDecoder` (one instance per Silver job).
    public static func avro(registry: SchemaRegistry) -> SilverDecoder {
        let decoder = TradeDecoder(registry: registry)
        return { bytes in
            switch decoder.decode(bytes) {
            case .success(let d): return .trade(d.trade, schemaId: d.schemaId)
            case .failure(let f): return .failure(f.reason, message: f.message, schemaId: f.schemaId)
            }
        }
    }
}

extension SilverDecoders {
    /// `pipeline.silver_decoder: from_avro_permissive|from_avro_failfast`: the
    /// job's code drops the 5-byte header unread and calls Spark's `from_avro`
    /// with the V2 schema as the only schema:
    ///
    ///     trade = from_avro(expr("substring(value, 6, length(value) - 5)"), V2_SCHEMA, {"mode": mode})
    ///
    /// What spark-avro's `AvroDataToCatalyst` then does with each kind of bad
    /// payload (it runs `GenericDatumReader.read` over the bytes and never
    /// checks that they are used up):
    /// - any magic byte and any schema id: not looked at; the body is read as V2;
    /// - a V1 body: read as V2, it misreads from the first field V2 added
    ///   (`trade_conditions`); usually the read fails, and when it does not
    ///   the row is a wrong trade;
    /// - trailing bytes: ignored, the record before them is returned;
    /// - a truncated body, an out-of-range enum index, a bad varint: the read
    ///   throws; PERMISSIVE returns null, FAILFAST fails the task.
    /// A null row goes to the DLQ as AVRO_DECODE_ERROR (the code cannot know
    /// more), so the real reason is lost. Validation is unchanged.
    public static func fromAvro(registry: SchemaRegistry, failFast: Bool) -> SilverDecoder {
        let decoder = TradeDecoder(registry: registry)
        let v2 = TradeSchemas.v2Id
        let header: [UInt8] = [0, UInt8(truncatingIfNeeded: v2 >> 24), UInt8(truncatingIfNeeded: v2 >> 16),
                               UInt8(truncatingIfNeeded: v2 >> 8), UInt8(truncatingIfNeeded: v2)]
        return { bytes in
            // Read the body as V2: framed with the V2 header, the codec reads exactly that.
            var framed = header
            if bytes.count > 5 { framed.append(contentsOf: bytes[5...]) }
            var result = decoder.decode(framed)
            if case .failure(let f) = result, f.reason == .trailingBytes, let end = recordEnd(f.message) {
                result = decoder.decode(Array(framed[..<(5 + end)]))  // GenericDatumReader stops at the record's end
            }
            switch result {
            case .success(let d):
                return .trade(d.trade, schemaId: v2)
            case .failure(let f):
                let why = "from_avro: \(f.message)"
                return failFast ? .fatal(message: "Malformed records are detected in record parsing. Current parse Mode: FAILFAST. (\(why))")
                                : .failure(.avroDecodeError, message: "from_avro returned null", schemaId: nil)
            }
        }
    }

    /// "the record ends at byte N of ..." in a trailing-bytes failure.
    static func recordEnd(_ message: String) -> Int? {
        guard let r = message.range(of: "the record ends at byte ") else { return nil }
        return Int(message[r.upperBound...].prefix { $0.isNumber })
    }
}

/// One slice of a parallel decode, handed to a new thread.
final class SliceBox: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Hands values to decode threads that are safe by construction (see
/// `SilverLogic.parallelOutcomes`: one decoder per thread, disjoint writes,
/// shared data only read) but that the compiler cannot prove Sendable.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
