import Broker
import Codec
import Engine
import Kernel
import Replay
import Scenarios

/// What a replay found, in virtual time: when the pipeline first fell
/// behind, first breached an SLA, sent data to the DLQ, dropped late rows.
/// Every time is virtual (the capture's clock, scaled by `--speed`).
public struct IncidentReport {
    /// A batch that took longer than its trigger (start-up batches excluded:
    /// a replay starts every job cold, production's did not).
    public struct BatchEvent: Sendable {
        public var job: JobName
        public var batchId: Int64
        public var startMicros: Micros
        public var endMicros: Micros
        public var processingMicros: Micros
        public var triggerMicros: Micros
    }
    public struct EndToEndBreach: Sendable {
        public var goldBatchId: Int64
        public var committedAtMicros: Micros
        public var messageId: String
        public var kafkaTimeMicros: Micros
        public var latencyMicros: Micros
    }
    /// One minute (of the source messages' Kafka time) with DLQ rows.
    public struct DlqMinute: Sendable {
        public var minuteMicros: Micros
        public var rows: Int64
        public var byReason: [(reason: String, rows: Int64)]
        public var firstWrittenMicros: Micros
    }
    /// One Gold batch that dropped late rows.
    public struct LateDrop: Sendable {
        public var goldBatchId: Int64
        public var batchStartMicros: Micros
        public var rows: Int64
        public var lateThresholdMs: Int64
        public var minEventMs: Int64
        public var maxEventMs: Int64
    }

    public var firstBatchBehind: BatchEvent?
    /// Per job, the first batch behind (after start-up), in job order.
    public var firstBehindPerJob: [BatchEvent] = []
    public var startupBatchesBehind: Int = 0
    /// The first Silver batch (after start-up) at or over the 60 s Silver latency SLA.
    public var firstSilverSLABreach: BatchEvent?
    /// The first Gold commit holding a message older than the 5 min end-to-end SLA.
    public var firstEndToEndSLABreach: EndToEndBreach?
    public var alertFiredMicros: Micros?
    public var dlqMinutes: [DlqMinute] = []
    public var lateDrops: [LateDrop] = []
    public var stateExhaustion: StateMemoryExhaustion?

    public var json: JSONValue {
        func t(_ m: Micros) -> JSONValue { .string(UTCDateTime(micros: m).iso8601) }
        func batch(_ b: BatchEvent?) -> JSONValue {
            guard let b else { return .null }
            return .object(["job": .string(b.job.rawValue), "batch_id": .int(b.batchId), "start": t(b.startMicros),
                            "end": t(b.endMicros), "processing_ms": .int(millis(fromMicros: b.processingMicros)),
                            "trigger_ms": .int(millis(fromMicros: b.triggerMicros))])
        }
        return .object([
            "first_batch_behind": batch(firstBatchBehind),
            "first_batch_behind_per_job": .array(firstBehindPerJob.map { batch($0) }),
            "startup_batches_behind": .int(Int64(startupBatchesBehind)),
            "first_sla_breach": .object([
                "silver_latency": batch(firstSilverSLABreach),
                "end_to_end": firstEndToEndSLABreach.map { e in
                    .object(["gold_batch_id": .int(e.goldBatchId), "committed_at": t(e.committedAtMicros),
                             "message_id": .string(e.messageId), "kafka_time": t(e.kafkaTimeMicros),
                             "latency_ms": .int(millis(fromMicros: e.latencyMicros))])
                } ?? .null,
            ]),
            "alert_first_fired": alertFiredMicros.map(t) ?? .null,
            "dlq_minutes": .array(dlqMinutes.map { d in
                .object(["minute": t(d.minuteMicros), "rows": .int(d.rows), "first_written": t(d.firstWrittenMicros),
                         "by_reason": .object(Dictionary(uniqueKeysWithValues: d.byReason.map { ($0.reason, JSONValue.int($0.rows)) }))])
            }),
            "late_drops": .array(lateDrops.map { l in
                .object(["gold_batch_id": .int(l.goldBatchId), "batch_start": t(l.batchStartMicros), "rows": .int(l.rows),
                         "late_threshold": t(l.lateThresholdMs * 1_000), "min_event_time": t(l.minEventMs * 1_000),
                         "max_event_time": t(l.maxEventMs * 1_000)])
            }),
            "state_memory_exhausted": stateExhaustion.map { .object(["at": t($0.timeMicros), "gold_batch_id": .int($0.batchId)]) } ?? .null,
        ])
    }

    /// The report as text lines (indented by the caller).
    public var lines: [String] {
        func t(_ m: Micros) -> String { UTCDateTime(micros: m).iso8601 }
        func batch(_ b: BatchEvent) -> String {
            "\(b.job.rawValue) batch \(b.batchId) at \(t(b.startMicros)): \(formatSeconds(b.processingMicros)) of a \(formatSeconds(b.triggerMicros)) trigger"
        }
        var out: [String] = []
        out.append("first batch behind    " + (firstBatchBehind.map(batch) ?? "none (after start-up)")
                   + (startupBatchesBehind > 0 ? "; \(startupBatchesBehind) start-up batches behind (cold start)" : ""))
        for b in firstBehindPerJob where b.job != firstBatchBehind?.job { out.append("                      " + batch(b)) }
        out.append("first SLA breach      silver latency: " + (firstSilverSLABreach.map {
            "\($0.job.rawValue) batch \($0.batchId) ended \(t($0.endMicros)) after \(formatSeconds($0.processingMicros)) (SLA < 60s)"
        } ?? "none"))
        out.append("                      end to end: " + (firstEndToEndSLABreach.map {
            "gold batch \($0.goldBatchId) committed \(t($0.committedAtMicros)) message \($0.messageId) of \(t($0.kafkaTimeMicros)), \(formatSeconds($0.latencyMicros)) (SLA < 5m)"
        } ?? "none"))
        out.append("alert                 SilverBinanceProcessingBehind " + (alertFiredMicros.map { "fired at \(t($0))" } ?? "never fired"))
        if dlqMinutes.isEmpty {
            out.append("DLQ bursts            none")
        } else {
            out.append("DLQ bursts            \(dlqMinutes.count) minutes with DLQ rows (by minute of Kafka time):")
            for d in dlqMinutes.prefix(12) {
                let reasons = d.byReason.map { "\($0.reason) \($0.rows)" }.joined(separator: ", ")
                out.append("  \(t(d.minuteMicros).prefix(16))  \(d.rows) rows: \(reasons); first written \(t(d.firstWrittenMicros))")
            }
            if dlqMinutes.count > 12 { out.append("  ... \(dlqMinutes.count - 12) more minutes (see --format json)") }
        }
        if lateDrops.isEmpty {
            out.append("late drops            none")
        } else {
            out.append("late drops            \(lateDrops.reduce(0) { $0 + $1.rows }) rows in \(lateDrops.count) gold batches:")
            for l in lateDrops.prefix(12) {
                out.append("  gold batch \(l.goldBatchId) at \(t(l.batchStartMicros)): \(l.rows) rows, event times \(t(l.minEventMs * 1_000))..\(t(l.maxEventMs * 1_000)) <= watermark \(t(l.lateThresholdMs * 1_000))")
            }
            if lateDrops.count > 12 { out.append("  ... \(lateDrops.count - 12) more batches (see --format json)") }
        }
        if let s = stateExhaustion {
            out.append("dedup state           exceeds executor memory at \(t(s.timeMicros)) (gold batch \(s.batchId))")
        }
        return out
    }
}

/// Everything a finished replay is judged by and leaves behind.
public struct ReplayOutcome {
    public var run: ReplayRun
    public var oracle: OracleResult
    /// The oracle's checks (without ground truth), then any `expect.*` given with `--set`.
    public var checks: [CheckResult]
    public var incident: IncidentReport
    public var summary: JSONValue
    /// Every table as JSON Lines, made on demand (for `--out`): exporting them
    /// costs more than the checks.
    public var tables: [(name: String, rows: [String])] { TableExport.allTables(of: run.pipeline) }
    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// `DIR/metrics.om`, the alert's rule file and its `promtool test rules` file.
    public func writePrometheusFiles(to dir: String, source: String) throws {
        guard let alert = oracle.alert else { return }
        try PrometheusFiles.write(pipeline: run.pipeline, alert: alert, scrapeIntervalMicros: alert.scrapeIntervalMicros,
                                  source: source, to: dir)
    }

    /// `DIR/tables.sqlite`: the six tables as one SQLite database.
    public func writeSQLite(to dir: String) throws {
        try SQLiteExport.write(run.pipeline, to: dir + "/" + SQLiteExport.fileName)
    }
}

public enum ReplayEvaluator {
    public static func evaluate(_ run: ReplayRun,
                                scrapeIntervalMicros: Micros = ScrapedMetrics.defaultIntervalMicros) -> ReplayOutcome {
        let p = run.pipeline
        var input = OracleInput(cluster: run.feed.cluster, registry: run.feed.registry, groundTruth: nil,
                                pipeline: p, feedStartMicros: run.feedStartMicros, feedEndMicros: run.feedEndMicros)
        input.scrapeIntervalMicros = scrapeIntervalMicros
        RunControl.stopIfInterrupted()
        let oracle = Oracle.check(input)
        RunControl.stopIfInterrupted()
        var checks = oracle.checks
        checks += ScenarioEvaluator.expectationChecks(run.settings.expect, oracle)
        let incident = incidentReport(run, oracle)
        let summary = summaryJSON(run, oracle, checks, incident)
        return ReplayOutcome(run: run, oracle: oracle, checks: checks, incident: incident, summary: summary)
    }

    static func incidentReport(_ run: ReplayRun, _ oracle: OracleResult) -> IncidentReport {
        let p = run.pipeline
        var r = IncidentReport()
        r.alertFiredMicros = oracle.alertFirstFiredMicros
        r.stateExhaustion = p.stateExhaustion

        // Batches behind and Silver latency, in the order batches ended.
        var runsSeen = Set<String>()
        for b in p.batchLog.sorted(by: { ($0.endMicros ?? .max, $0.job) < ($1.endMicros ?? .max, $1.job) }) {
            guard let end = b.endMicros else { continue }
            let isStartup = runsSeen.insert("\(b.job.rawValue)#\(b.runNumber)").inserted
            let elapsed = end - b.startMicros
            let event = IncidentReport.BatchEvent(job: b.job, batchId: b.batchId, startMicros: b.startMicros, endMicros: end,
                                                  processingMicros: elapsed, triggerMicros: b.triggerMicros)
            if elapsed > b.triggerMicros {
                if isStartup { r.startupBatchesBehind += 1; continue }
                if r.firstBatchBehind == nil { r.firstBatchBehind = event }
                if !r.firstBehindPerJob.contains(where: { $0.job == b.job }) { r.firstBehindPerJob.append(event) }
            }
            if !isStartup, b.job == .silverBinance || b.job == .silverKraken, elapsed >= Oracle.silverLatencySLAMicros,
               r.firstSilverSLABreach == nil {
                r.firstSilverSLABreach = event
            }
        }
        r.firstBehindPerJob.sort { $0.job < $1.job }

        // End to end: Kafka create time -> the Gold commit holding the message,
        // over messages produced after every job's start-up batch (as the oracle measures).
        let warmedUp = SLAs.warmedUpMicros(p, feedStartMicros: run.feedStartMicros)
        let silver = [p.silverBinance, p.silverKraken], bronze = [p.bronzeBinance, p.bronzeKraken]
        let snaps = p.gold.snapshots
        search: for s in snaps {
            for i in s.firstRow ..< s.firstRow + s.rowCount {
                let row = p.gold.row(i)
                guard let k = silver.firstIndex(where: { $0.name == row.sourceTable }) else { continue }
                let b = silver[k].row(row.sourceRow).sourceBronzeRow
                let created = Oracle.kafkaCreateMicros(run.feed.cluster, bronze[k], b)
                guard created >= warmedUp else { continue }
                let latency = s.committedAtMicros - created
                if latency >= Oracle.endToEndSLAMicros {
                    r.firstEndToEndSLABreach = .init(goldBatchId: s.batchId, committedAtMicros: s.committedAtMicros,
                                                     messageId: row.trade.messageId, kafkaTimeMicros: created, latencyMicros: latency)
                    break search
                }
            }
        }

        // DLQ rows by the minute of their source message's Kafka time.
        var minutes: [Micros: (rows: Int64, reasons: [String: Int64], first: Micros)] = [:]
        for i in 0..<p.dlq.rowCount {
            let d = p.dlq.row(i)
            let k = d.sourceTable == .bronzeBinance ? 0 : 1
            let created = Oracle.kafkaCreateMicros(run.feed.cluster, bronze[k], d.sourceBronzeRow)
            let minute = Time.floorDiv(created, Time.microsPerMinute) * Time.microsPerMinute
            var m = minutes[minute] ?? (0, [:], d.dlqWriteTimestampMicros)
            m.rows += 1
            m.reasons[d.errorReason.rawValue, default: 0] += 1
            m.first = min(m.first, d.dlqWriteTimestampMicros)
            minutes[minute] = m
        }
        r.dlqMinutes = minutes.keys.sorted().map { k in
            let m = minutes[k]!
            return .init(minuteMicros: k, rows: m.rows, byReason: m.reasons.keys.sorted().map { ($0, m.reasons[$0]!) },
                         firstWrittenMicros: m.first)
        }

        // Late drops per Gold batch.
        var starts: [Int64: Micros] = [:]
        for b in p.batchLog where b.job == .gold && b.outcome == .committed { starts[b.batchId] = b.startMicros }
        for d in p.droppedRows where d.kind == .late {
            if let last = r.lateDrops.last, last.goldBatchId == d.goldBatchId {
                r.lateDrops[r.lateDrops.count - 1].rows += 1
                r.lateDrops[r.lateDrops.count - 1].minEventMs = min(last.minEventMs, d.eventTimeMs)
                r.lateDrops[r.lateDrops.count - 1].maxEventMs = max(last.maxEventMs, d.eventTimeMs)
            } else {
                r.lateDrops.append(.init(goldBatchId: d.goldBatchId, batchStartMicros: starts[d.goldBatchId] ?? 0, rows: 1,
                                         lateThresholdMs: d.lateThresholdMs, minEventMs: d.eventTimeMs, maxEventMs: d.eventTimeMs))
            }
        }
        return r
    }

    static func summaryJSON(_ run: ReplayRun, _ o: OracleResult, _ checks: [CheckResult], _ incident: IncidentReport,
) -> JSONValue {
        let s = run.settings, f = run.feed
        var jobs: [String: JSONValue] = [:]
        for (job, figures) in o.jobs { jobs[job.rawValue] = ScenarioEvaluator.jobJSON(figures) }
        var out: [String: JSONValue] = [
            "replay": .object([
                "capture": .string(run.file),
                "sources": run.sources?.json ?? .null,
                "messages_replayed": .int(Int64(f.replayedMessages)),
                "messages_with_append_time": .int(Int64(f.messagesWithAppendTime)),
                "messages_moved_to_keep_offset_order": .int(Int64(f.reorderedMessages)),
                "ignored_topics": .array(f.ignoredTopics.map {
                    .object(["topic": .string($0.topic), "messages": .int(Int64($0.messages)), "partitions": .int(Int64($0.partitions))])
                }),
                "schemas": .array(f.schemas.map { .object(["id": .int(Int64($0.id)), "subject": .string($0.subject)]) }),
                "speed": .number(f.speedText),
                "first_message": f.firstMicros.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
                "last_message": f.lastMicros.map { .string(UTCDateTime(micros: $0).iso8601) } ?? .null,
                "start": .string(UTCDateTime(micros: s.startMicros).iso8601),
                "duration": .string(DurationParser.format(s.durationMicros)),
                "drain": .string(DurationParser.format(s.drainMicros)),
                "seed": .int(Int64(bitPattern: s.seed)), "profile": .string(s.profile),
            ]),
            "tables": TableExport.rowCounts(of: run.pipeline),
            "jobs": .object(jobs),
            "checks": .object(Dictionary(uniqueKeysWithValues: checks.map {
                ($0.name, JSONValue.string($0.passed ? "pass" : "FAIL: " + ($0.details.first ?? "")))
            })),
            "incident": incident.json,
        ]
        for (k, v) in o.figures { out[k] = v }
        return .object(out)
    }
}
