import Kernel

/// One micro-batch streaming query on the virtual clock: Spark's
/// `MicroBatchExecution` driven by a `ProcessingTimeExecutor`.
///
/// The trigger loop (ProcessingTimeExecutor.execute):
///
///     triggerTime = now; next = triggerTime / I * I + I   (ms, epoch-aligned)
///     run the trigger handler (maybe a batch)
///     elapsed = now - triggerTime; if elapsed > I: "falling behind"
///     wait until next (returns at once if already past it)
///
/// The trigger handler (MicroBatchExecution): if the offset log holds a batch
/// the commit log does not, re-run it as recorded; else plan offsets at this
/// instant, and run a batch only when there is new data or the last batch
/// moved the watermark (a no-data batch). A batch: offset log -> execute ->
/// sink commits in order -> watermark update -> commit log.
///
/// Durable across a crash: the offset log, the commit log (batch id and
/// `nextBatchWatermarkMs`) and the tables. Lost: everything else (watermark
/// per input, the in-flight batch's state changes, whether a no-data batch
/// was due).
final class StreamingQuery {
    let job: JobName
    let config: JobConfig
    let profile: JobProfile
    let logic: MicroBatchLogic
    unowned let pipeline: Pipeline
    private(set) var queryId: String
    let intervalMs: Int64
    private var commitRng: RandomStream
    private var failureRng: RandomStream

    // Checkpoint: survives crashes.
    private(set) var offsetLog: [OffsetLogEntry] = []
    private(set) var lastCommittedBatchId: Int64 = -1
    /// The commit log's `CommitMetadata.nextBatchWatermarkMs` of the last
    /// committed batch: the global watermark after that batch's update.
    private(set) var lastCommitNextBatchWatermarkMs: Int64 = 0
    /// Where the query started without a checkpoint (`startingOffsets`,
    /// resolved at its first planning and kept, as Spark's initial-offset file).
    private(set) var initialStart: [Int64]?
    private var checkpointsLost = 0
    private let streams: RandomStreams
    /// Spark keeps 100 entries; the engine needs the last two (the re-run
    /// batch and its predecessor, whose watermark is the late threshold).
    static let offsetLogRetention = 3

    // Process memory: lost at a crash.
    private(set) var running = false
    private var incarnation = 0
    private(set) var runNumber = 0
    private var firstBatchPending = true
    private(set) var watermark: WatermarkTracker?
    private var lastExecutedWatermarkMs: Int64?
    private var inFlight: BatchRecord?
    private var inFlightOutput: BatchOutput?
    private var inFlightNextTrigger: Micros = 0
    private(set) var batchesBehind = 0
    /// When the previous trigger of this run fired (a batch or not): Spark's
    /// `lastTriggerStartTimestamp`, the divisor of `inputRowsPerSecond`.
    private var lastTriggerMicros: Micros?

    init(config: JobConfig, profile: JobProfile, logic: MicroBatchLogic, pipeline: Pipeline, queryId: String,
         streams: RandomStreams) {
        precondition(config.triggerMicros > 0 && config.triggerMicros % Time.microsPerMilli == 0,
                     "\(config.job.rawValue): trigger must be a positive whole number of milliseconds")
        self.job = config.job; self.config = config; self.logic = logic; self.pipeline = pipeline
        var p = profile
        if let c = config.executorCores { p.executorCores = c }
        self.profile = p
        self.queryId = queryId
        self.intervalMs = config.triggerMicros / Time.microsPerMilli
        self.streams = streams
        commitRng = streams.stream("engine.\(job.rawValue).commit-latency")
        failureRng = streams.stream("engine.\(job.rawValue).commit-failure")
    }

    // MARK: Lifecycle

    /// Starts (or restarts) the query at `t`: the first trigger fires at once.
    func start(at t: Micros) {
        pipeline.scheduler.schedule(at: t, priority: EnginePriority.restart) { [self] now in
            guard !running else { return }
            running = true
            incarnation += 1
            runNumber += 1
            pipeline.processStarted(job, run: runNumber, at: now)
            firstBatchPending = true
            lastExecutedWatermarkMs = nil
            lastTriggerMicros = nil
            if logic.watermarkInputs > 0 {
                var w = WatermarkTracker(inputs: logic.watermarkInputs, delayMs: pipeline.config.watermarkDelayMicros / 1_000)
                // MicroBatchExecution.populateStartOffsets: the offset log's value,
                // then, when that batch is committed, the larger of it and the
                // commit log's nextBatchWatermarkMs.
                if let last = offsetLog.last {
                    w.setWatermark(last.batchWatermarkMs)
                    if last.batchId == lastCommittedBatchId {
                        w.setWatermark(max(w.globalMs, lastCommitNextBatchWatermarkMs))
                    }
                }
                watermark = w
            }
            pipeline.log(now, job, .info, runNumber == 1
                ? "Starting query \(queryId) (run \(runNumber))"
                : "Restarting query \(queryId) from checkpoint (run \(runNumber)); last committed batch \(lastCommittedBatchId)")
            trigger(now)
        }
    }

    /// Kills the job now. The in-flight batch (if any) is abandoned.
    func crash(at now: Micros, point: CrashPoint, restartAfter: Micros?, outcome: BatchOutcome? = nil) {
        guard running else {
            pipeline.log(now, job, .info, "Crash at \(point.rawValue) ignored: query not running")
            return
        }
        running = false
        pipeline.processDied(job, at: now)
        incarnation += 1  // cancels every pending event of this run
        if var r = inFlight {
            r.outcome = outcome ?? .crashed(point)
            r.endMicros = now
            pipeline.record(r)
        }
        inFlight = nil; inFlightOutput = nil
        logic.abandonBatch()
        switch outcome {
        case .failed(let table)?:
            pipeline.log(now, job, .error, "Query \(queryId) terminated: commit to \(table.rawValue) failed after \(pipeline.config.retry.maxRetries + 1) attempts")
        case .taskFailed(let why)?:
            pipeline.log(now, job, .error, "Query \(queryId) terminated with exception: \(why)")
        default:
            pipeline.log(now, job, .error, "Query \(queryId) killed (\(point.rawValue))")
        }
        if let d = restartAfter { start(at: now + d) }
    }

    /// The checkpoint folder is deleted (the job is down): the next start is a
    /// new query with a new id, no offsets, no watermark, and (Kafka) the
    /// starting offsets of `pipeline.starting_offsets`. The tables stay.
    func deleteCheckpoint(at now: Micros) {
        offsetLog = []
        lastCommittedBatchId = -1
        lastCommitNextBatchWatermarkMs = 0
        initialStart = nil
        checkpointsLost += 1
        var ids = streams.stream("engine.\(job.rawValue).query-id.\(checkpointsLost)")
        queryId = UUIDv4.make(&ids)
        logic.checkpointDeleted()
        pipeline.log(now, job, .warn, "Checkpoint of \(job.rawValue) deleted; the next start is a new query \(queryId)")
    }

    /// The run ended: record the batch still in flight, if any.
    func finishRun(at end: Micros) {
        if var r = inFlight {
            r.outcome = .inFlightAtEnd
            pipeline.record(r)
            inFlight = nil
        }
    }

    // MARK: Trigger loop

    /// `ProcessingTimeExecutor.nextBatchTime`, on the ms clock.
    func nextBatchTime(_ t: Micros) -> Micros {
        let ms = Time.floorDiv(t, Time.microsPerMilli)
        return (Time.floorDiv(ms, intervalMs) * intervalMs + intervalMs) * Time.microsPerMilli
    }

    private func scheduleTrigger(at t: Micros) {
        let inc = incarnation
        pipeline.scheduler.schedule(at: t, priority: EnginePriority.trigger) { [self] now in
            guard incarnation == inc, running else { return }
            trigger(now)
        }
    }

    private func trigger(_ t: Micros) {
        let next = nextBatchTime(t)
        let previousTrigger = lastTriggerMicros
        lastTriggerMicros = t
        var latest: [Int64] = []
        let entry: OffsetLogEntry
        var isReplay = false, isNoData = false
        if let last = offsetLog.last, last.batchId > lastCommittedBatchId {
            // Re-run exactly as recorded: same range, timestamp, watermark.
            entry = last
            isReplay = true
        } else {
            if offsetLog.isEmpty && initialStart == nil {
                initialStart = logic.startingOffsets(pipeline.config.startingOffsets, at: t)
            }
            var start = offsetLog.last?.endOffsets ?? initialStart!
            var end = logic.availableOffsets(at: t)
            latest = end
            // New source partitions start at their earliest offset (the log start).
            if start.count < end.count { start += logic.initialOffsets()[start.count ..< end.count] }
            if let limit = config.maxOffsetsPerTrigger { end = RateLimit.apply(limit: limit, from: start, until: end) }
            let hasNewData = end != start
            var watermarkMoved = false
            if let w = watermark, let last = lastExecutedWatermarkMs { watermarkMoved = w.globalMs > last }
            guard hasNewData || watermarkMoved else {
                // No batch, no batch id: wait for the next aligned trigger.
                scheduleTrigger(at: next)
                return
            }
            isNoData = !hasNewData
            if let plan = pipeline.takeCrash(job, .beforeOffsetLog, at: t) {
                return crash(at: t, point: .beforeOffsetLog, restartAfter: plan.restartAfterMicros)
            }
            entry = OffsetLogEntry(batchId: lastCommittedBatchId + 1, startOffsets: start, endOffsets: end,
                                   batchTimestampMs: Time.floorDiv(t, Time.microsPerMilli),
                                   batchWatermarkMs: watermark?.globalMs ?? 0)
            offsetLog.append(entry)
            if offsetLog.count > StreamingQuery.offsetLogRetention { offsetLog.removeFirst() }
        }
        let lateThreshold: Int64
        if entry.batchId == 0 {
            lateThreshold = 0
        } else {
            guard let prev = offsetLog.last(where: { $0.batchId == entry.batchId - 1 }) else {
                preconditionFailure("\(job.rawValue): offset log lost batch \(entry.batchId - 1)")
            }
            lateThreshold = prev.batchWatermarkMs
        }
        inFlight = BatchRecord(
            job: job, batchId: entry.batchId, runNumber: runNumber, isReplay: isReplay, isNoDataBatch: isNoData,
            startOffsets: entry.startOffsets, endOffsets: entry.endOffsets, rowsIn: 0,
            sinks: logic.sinkTables.map { SinkCommitRecord(table: $0, rows: 0, outcome: .notReached, attempts: 0) },
            triggerMicros: config.triggerMicros, startMicros: t, batchTimestampMs: entry.batchTimestampMs,
            behind: false, watermarkMs: entry.batchWatermarkMs, lateThresholdMs: lateThreshold, lateRows: 0,
            duplicateRows: 0, stateKeys: logic.stateKeys, stateBytes: 0, stateExceedsMemory: false,
            outcome: .inFlightAtEnd)
        inFlight!.latestOffsets = latest.isEmpty ? entry.endOffsets : latest
        inFlight!.previousTriggerMicros = previousTrigger
        inFlightNextTrigger = next
        if !isReplay, let plan = pipeline.takeCrash(job, .afterOffsetLog, at: t) {
            return crash(at: t, point: .afterOffsetLog, restartAfter: plan.restartAfterMicros)
        }

        var output = logic.execute(entry, lateThresholdMs: lateThreshold)
        inFlightOutput = output
        for w in output.warnings { pipeline.log(t, job, .warn, w) }
        inFlight!.rowsIn = output.rowsIn
        for i in 0..<output.rowsOut.count { inFlight!.sinks[i].rows = output.rowsOut[i] }
        inFlight!.lateRows = output.lateRows
        inFlight!.duplicateRows = output.duplicateRows
        inFlight!.eventTimeStats = output.eventTimeStats
        // Overrides name the application's job. A two_queries query shares its
        // application's executor cores with its sibling: both are triggered at
        // the same aligned instants and read the same rows, so each gets half
        // (at least one), unless the sibling is down.
        let cost = ActiveCost(pipeline.config.overrides, job: job.application, table: nil, at: t)
        var profile = self.profile
        if pipeline.config.silverSinks == .twoQueries, let sibling = job.sibling, !pipeline.isDown(sibling) {
            profile.executorCores = max(1, profile.executorCores / 2)
        }
        var processing = profile.processingMicros(rowsIn: Int64(output.rowsIn),
                                                  rowsOut: Int64(output.rowsOut.reduce(0, +)),
                                                  stateKeys: Int64(inFlight!.stateKeys),
                                                  firstBatch: firstBatchPending, cost: cost)
        if logic.watermarkInputs > 0 {  // the stateful job: Gold's dedup
            switch pipeline.config.stateStore {
            case .rocksdb:
                processing += Int64(output.rowsIn) * pipeline.config.rocksdbNanosPerRow / 1_000
            case .hdfs:
                // HDFSBackedStateStoreProvider holds every key on the heap: the
                // batch's new keys past executor memory are an OutOfMemoryError.
                let bytes = Int64(logic.stateKeys) * profile.stateBytesPerKey
                if output.taskFailure == nil, profile.stateBytesPerKey > 0, bytes > profile.executorMemoryBytes {
                    output.taskFailure = "java.lang.OutOfMemoryError: Java heap space (dedup state of \(logic.stateKeys) keys, "
                        + "\(bytes) bytes, on the heap of a \(profile.executorMemoryBytes)-byte executor: HDFSBackedStateStoreProvider)"
                    var r = inFlight!
                    r.stateKeys = logic.stateKeys; r.stateBytes = bytes; r.endMicros = t + processing
                    pipeline.noteStateExhaustion(r, memory: profile.executorMemoryBytes)
                }
            }
        }
        firstBatchPending = false
        let inc = incarnation
        if let failure = output.taskFailure {
            // The task threw: Spark retries it (spark.task.maxFailures), the same
            // bytes fail the same way, the stage and the query fail, and the job's
            // supervisor restarts it from its checkpoint: the same batch again.
            pipeline.scheduler.schedule(at: t + processing, priority: EnginePriority.commit) { [self] now in
                guard incarnation == inc else { return }
                // At least 1 ms: the same bytes fail the same way, so a zero-cost
                // profile would otherwise loop forever at one instant.
                crash(at: now, point: .immediately, restartAfter: max(profile.restartDelayMicros, Time.microsPerMilli),
                      outcome: .taskFailed(failure))
            }
            return
        }
        pipeline.scheduler.schedule(at: t + processing, priority: EnginePriority.commit) { [self] now in
            guard incarnation == inc else { return }
            commitSink(0, attempt: 1, at: now)
        }
    }

    // MARK: Commits

    private func commitSink(_ i: Int, attempt: Int, at now: Micros) {
        let sinks = logic.sinkTables
        guard i < sinks.count else { return finishBatch(at: now) }
        let batchId = inFlight!.batchId
        let batchTs = inFlight!.batchTimestampMs * Time.microsPerMilli
        if logic.alreadyCommitted(sink: sinks[i], queryId: queryId, batchId: batchId) {
            // Iceberg reads the table's snapshot summaries and returns: no new snapshot.
            _ = logic.commit(sink: sinks[i], queryId: queryId, batchId: batchId, batchTimestampMicros: batchTs, at: now)
            inFlight!.sinks[i].outcome = .skippedAlreadyCommitted
            inFlight!.sinks[i].finishedAtMicros = now
            return afterSink(i, at: now)
        }
        let cost = ActiveCost(pipeline.config.overrides, job: job.application, table: sinks[i], at: now)
        let latency = profile.commitMicros(&commitRng, cost: cost)
        let fails = failureRng.chance(cost.failureProbability)
        let inc = incarnation
        pipeline.scheduler.schedule(at: now + latency, priority: EnginePriority.commit) { [self] done in
            guard incarnation == inc else { return }
            inFlight!.sinks[i].attempts = attempt
            if fails {
                let retry = pipeline.config.retry
                if attempt <= retry.maxRetries {
                    let wait = retry.backoff(afterFailedAttempt: attempt)
                    pipeline.log(done, job, .warn, "Commit of batch \(batchId) to \(sinks[i].rawValue) failed (attempt \(attempt)); retrying in \(wait / Time.microsPerMilli) ms")
                    pipeline.scheduler.schedule(at: done + wait, priority: EnginePriority.commit) { [self] again in
                        guard incarnation == inc else { return }
                        commitSink(i, attempt: attempt + 1, at: again)
                    }
                } else {
                    inFlight!.sinks[i].outcome = .failed
                    inFlight!.sinks[i].finishedAtMicros = done
                    crash(at: done, point: .immediately, restartAfter: profile.restartDelayMicros,
                          outcome: .failed(table: sinks[i]))
                }
                return
            }
            let made = logic.commit(sink: sinks[i], queryId: queryId, batchId: batchId, batchTimestampMicros: batchTs, at: done)
            inFlight!.sinks[i].outcome = made ? .committed : .skippedAlreadyCommitted
            inFlight!.sinks[i].finishedAtMicros = done
            afterSink(i, at: done)
        }
    }

    private func afterSink(_ i: Int, at now: Micros) {
        let n = logic.sinkTables.count
        if i == 0, n > 1, let plan = pipeline.takeCrash(job, .betweenSinks, at: now) {
            return crash(at: now, point: .betweenSinks, restartAfter: plan.restartAfterMicros)
        }
        commitSink(i + 1, attempt: 1, at: now)
    }

    private func finishBatch(at now: Micros) {
        if let plan = pipeline.takeCrash(job, .beforeCommitLog, at: now) {
            return crash(at: now, point: .beforeCommitLog, restartAfter: plan.restartAfterMicros)
        }
        if logic.sinkTables.count == 1, let plan = pipeline.takeCrash(job, .betweenSinks, at: now) {
            return crash(at: now, point: .betweenSinks, restartAfter: plan.restartAfterMicros)
        }
        var r = inFlight!
        let output = inFlightOutput!
        logic.batchCompleted(batchId: r.batchId)
        if watermark != nil {
            watermark!.update(maxEventMs: output.maxEventMs)
            r.watermarkAfterMs = watermark!.globalMs
        }
        lastExecutedWatermarkMs = r.watermarkMs
        lastCommittedBatchId = r.batchId  // the commit log, with the watermark after the batch
        lastCommitNextBatchWatermarkMs = watermark?.globalMs ?? 0
        let elapsedMs = Time.floorDiv(now, Time.microsPerMilli) - Time.floorDiv(r.startMicros, Time.microsPerMilli)
        r.endMicros = now
        r.processingMicros = now - r.startMicros
        r.headroomMicros = config.triggerMicros - (now - r.startMicros)
        r.behind = elapsedMs > intervalMs
        if r.behind {
            batchesBehind += 1
            pipeline.log(now, job, .warn, "Current batch is falling behind. The trigger interval is \(intervalMs) milliseconds, but spent \(elapsedMs) milliseconds")
        }
        r.stateKeys = logic.stateKeys
        r.stateBytes = Int64(r.stateKeys) * profile.stateBytesPerKey
        r.stateExceedsMemory = profile.stateBytesPerKey > 0 && r.stateBytes > profile.executorMemoryBytes
        r.outcome = .committed
        inFlight = nil; inFlightOutput = nil
        pipeline.record(r)
        if r.stateExceedsMemory { pipeline.noteStateExhaustion(r, memory: profile.executorMemoryBytes) }
        scheduleTrigger(at: max(now, inFlightNextTrigger))
    }
}
