import Kernel

/// The engine's batches in Spark's `StreamingQueryProgress` JSON: what
/// `query.lastProgress` returns, what a `StreamingQueryListener` receives and
/// what the driver logs as "Streaming query made progress". One object per
/// batch that ran (committed, crashed or failed batches alike: Spark reports a
/// batch when its trigger finishes, so a killed one is never reported; here
/// only batches that reached the commit log are written).
///
/// Field meanings follow Spark 4's `ProgressReporter`/`ProgressContext`:
/// - `id`: the query id, kept in the checkpoint, the same across restarts;
///   `runId`: new for every start and restart (seeded, so reproducible).
/// - `timestamp`: the trigger's start, ISO-8601 UTC with milliseconds.
/// - `batchDuration` and `durationMs.triggerExecution`: trigger end minus
///   start on the millisecond clock.
/// - `inputRowsPerSecond`: rows / (this trigger's start - the previous
///   trigger's start of the same run, no-data triggers included); 0.0 for a
///   run's first trigger (Spark divides by +infinity).
///   `processedRowsPerSecond`: rows / max(1 ms, batch duration).
/// - `durationMs`: the engine does not split planning, WAL and checkpoint
///   writes from the batch's work, so `addBatch` carries the batch's processing
///   and table commits and `latestOffset`, `getBatch`, `queryPlanning`,
///   `walCommit`, `commitOffsets` are 0. A no-data batch (run because the
///   watermark moved) has the same keys, as in Spark.
/// - `eventTime` (Gold only, the query with a watermark): `watermark` always
///   (the batch's watermark from the offset log); `min`, `max`, `avg` only when
///   the batch read rows, taken from the first watermarked input in the plan
///   that saw rows (Spark reports one `EventTimeWatermarkExec`'s statistics:
///   silver_binance's, else silver_kraken's). Jobs without event time have no
///   `eventTime` key (Spark omits an empty map).
/// - `stateOperators` (Gold's `dropDuplicates`): `dedupe`, keys after the
///   batch, keys inserted, memory, rows dropped as late.
/// - `sources`: Bronze reads Kafka (`KafkaV2[Subscribe[topic]]`, offsets
///   `{"topic":{"partition":offset}}`, null start on the first batch); Silver
///   and Gold read tables (offsets `{"position":row}`).
/// - `sink`: rows written (`numOutputRows`); -1 for Silver, which writes two
///   tables through `foreachBatch` (Spark's `ForeachBatchSink` reports -1).
public enum SparkProgress {
    /// One compact JSON object per committed batch of `job`, in batch order.
    public static func lines(pipeline p: Pipeline, job: JobName) -> [String] {
        guard let queryId = p.queryId(job) else { return [] }
        let streams = RandomStreams(seed: p.config.seed)
        var runIds: [Int: String] = [:]
        var out: [String] = []
        for b in p.batchLog where b.job == job && b.outcome == .committed {
            let runId: String
            if let r = runIds[b.runNumber] { runId = r } else {
                var s = streams.stream("engine.\(job.rawValue).run-id.\(b.runNumber)")
                runId = UUIDv4.make(&s)
                runIds[b.runNumber] = runId
            }
            out.append(object(b, queryId: queryId, runId: runId, pipeline: p).compact)
        }
        return out
    }

    static func object(_ b: BatchRecord, queryId: String, runId: String, pipeline p: Pipeline) -> JSONValue {
        let startMs = Time.floorDiv(b.startMicros, Time.microsPerMilli)
        let endMs = Time.floorDiv(b.endMicros ?? b.startMicros, Time.microsPerMilli)
        let durationMs = endMs - startMs
        let inputSec: Double? = b.previousTriggerMicros.map {
            Double(startMs - Time.floorDiv($0, Time.microsPerMilli)) / 1000
        }
        let processingSec = Double(max(1, durationMs)) / 1000
        func inputRate(_ rows: Int64) -> JSONValue {
            guard let s = inputSec else { return number(0) }     // rows / +infinity
            return number(Double(rows) / s)                      // s == 0: Spark's NaN/inf is omitted; see below
        }
        let durations: [String: JSONValue] = [
            "latestOffset": .int(0), "getBatch": .int(0), "queryPlanning": .int(0), "walCommit": .int(0),
            "addBatch": .int(durationMs), "commitOffsets": .int(0), "triggerExecution": .int(durationMs),
        ]
        // Sources.
        var sources: [JSONValue] = []
        var perSourceRows: [Int64] = []
        switch b.job {
        case .bronzeBinance, .bronzeKraken:
            let topic = b.job.exchange!.topic
            func offsets(_ v: [Int64]) -> JSONValue {
                var parts: [String: JSONValue] = [:]
                for (i, o) in v.enumerated() { parts[String(i)] = .int(o) }
                return .object([topic: .object(parts)])
            }
            let rows = Int64(b.rowsIn)
            perSourceRows = [rows]
            let behind = zip(b.latestOffsets, b.endOffsets).map { $0 - $1 }
            let avgBehind = behind.isEmpty ? 0 : Double(behind.reduce(0, +)) / Double(behind.count)
            sources.append(source(
                description: "KafkaV2[Subscribe[\(topic)]]",
                start: b.batchId == 0 ? .null : offsets(b.startOffsets),
                end: offsets(b.endOffsets), latest: offsets(b.latestOffsets), rows: rows,
                inputRate: inputRate(rows), processedRate: number(Double(rows) / processingSec),
                metrics: [
                    "avgOffsetsBehindLatest": .string(javaDouble(avgBehind)),
                    "maxOffsetsBehindLatest": .string(String(behind.max() ?? 0)),
                    "minOffsetsBehindLatest": .string(String(behind.min() ?? 0)),
                ]))
        case .silverBinance, .silverKraken, .silverBinanceDlq, .silverKrakenDlq, .gold:
            let tables: [TableName] = b.job == .gold ? [.silverBinance, .silverKraken]
                : [b.job.exchange == .binance ? .bronzeBinance : .bronzeKraken]
            for (k, t) in tables.enumerated() {
                let rows = k < b.endOffsets.count ? b.endOffsets[k] - b.startOffsets[k] : 0
                perSourceRows.append(rows)
                func pos(_ v: [Int64]) -> JSONValue { k < v.count ? .object(["position": .int(v[k])]) : .null }
                sources.append(source(
                    description: "IcebergMicroBatchStream[\(t.rawValue)]",
                    start: b.batchId == 0 ? .null : pos(b.startOffsets), end: pos(b.endOffsets),
                    latest: pos(b.latestOffsets), rows: rows, inputRate: inputRate(rows),
                    processedRate: number(Double(rows) / processingSec), metrics: [:]))
            }
        }
        let rowsIn = perSourceRows.reduce(0, +)
        var o: [String: JSONValue] = [
            "id": .string(queryId), "runId": .string(runId), "name": .string(b.job.rawValue),
            "timestamp": .string(timestamp(startMs)), "batchId": .int(b.batchId), "batchDuration": .int(durationMs),
            "numInputRows": .int(rowsIn), "inputRowsPerSecond": inputRate(rowsIn),
            "processedRowsPerSecond": number(Double(rowsIn) / processingSec),
            "durationMs": .object(durations), "sources": .array(sources),
        ]
        // Spark omits a rate that is NaN or infinite (a zero-length interval).
        if inputSec == 0 {
            o["inputRowsPerSecond"] = nil
            o["sources"] = .array(sources.map { s in
                guard case .object(var m) = s else { return s }
                m["inputRowsPerSecond"] = nil
                return .object(m)
            })
        }
        let written = b.sinks.reduce(0) { $0 + $1.rows }
        switch b.job {
        case .silverBinance where b.sinks.count > 1, .silverKraken where b.sinks.count > 1:  // one query, two tables (two_queries: one each)
            o["sink"] = .object(["description": .string("ForeachBatchSink"), "numOutputRows": .int(-1)])
        default:
            o["sink"] = .object(["description": .string("IcebergSink[\(b.sinks.first?.table.rawValue ?? b.job.rawValue)]"),
                                 "numOutputRows": .int(written)])
        }
        if b.job == .gold {
            var ev: [String: JSONValue] = ["watermark": .string(timestamp(b.watermarkMs))]
            if rowsIn > 0, let s = b.eventTimeStats.compactMap({ $0 }).first(where: { $0.count > 0 }) {
                ev["min"] = .string(timestamp(s.minMs))
                ev["max"] = .string(timestamp(s.maxMs))
                ev["avg"] = .string(timestamp(Int64(s.avgMs)))
            }
            o["eventTime"] = .object(ev)
            let profile = p.config.profile[.gold]
            o["stateOperators"] = .array([.object([
                "operatorName": .string("dedupe"),
                "numRowsTotal": .int(b.stateKeys),
                "numRowsUpdated": .int(written),
                "allUpdatesTimeMs": .int(0), "numRowsRemoved": .int(0), "allRemovalsTimeMs": .int(0),
                "commitTimeMs": .int(0),
                "memoryUsedBytes": .int(Int64(b.stateKeys) * profile.stateBytesPerKey),
                "numRowsDroppedByWatermark": .int(b.lateRows),
                "numShufflePartitions": .int(200), "numStateStoreInstances": .int(200),
                "customMetrics": .object(["numDroppedDuplicateRows": .int(b.duplicateRows)]),
            ])])
        } else {
            o["stateOperators"] = .array([])
        }
        return .object(o)
    }

    static func source(description: String, start: JSONValue, end: JSONValue, latest: JSONValue, rows: Int64,
                       inputRate: JSONValue, processedRate: JSONValue, metrics: [String: JSONValue]) -> JSONValue {
        var m: [String: JSONValue] = [
            "description": .string(description), "startOffset": start, "endOffset": end, "latestOffset": latest,
            "numInputRows": .int(rows), "inputRowsPerSecond": inputRate, "processedRowsPerSecond": processedRate,
        ]
        if !metrics.isEmpty { m["metrics"] = .object(metrics) }
        return .object(m)
    }

    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in UTC, as Spark's progress timestamps.
    public static func timestamp(_ ms: Int64) -> String {
        let d = UTCDateTime(micros: ms * Time.microsPerMilli)
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(d.year, 4))-\(p(d.month, 2))-\(p(d.day, 2))T\(p(d.hour, 2)):\(p(d.minute, 2)):\(p(d.second, 2)).\(p(d.microsecond / 1000, 3))Z"
    }

    /// A JSON number for a finite double, in its shortest round-trip form, with
    /// a fraction so that it reads back as a double (`0.0`, not `0`).
    static func number(_ v: Double) -> JSONValue { .number(javaDouble(v)) }

    public static func javaDouble(_ v: Double) -> String {
        let s = "\(v)"
        return s.contains(".") || s.contains("e") || s.contains("E") ? s : s + ".0"
    }
}
