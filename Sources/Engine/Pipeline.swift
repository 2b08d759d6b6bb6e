import Kernel
import Codec
import Broker

/// Everything a run of the engine needs besides its input.
public struct EngineConfig: Sendable {
    public var startMicros: Micros
    public var endMicros: Micros
    /// Jobs not listed do not run.
    public var jobs: [JobConfig]
    public var profile: CostProfile
    public var overrides: [CostOverride]
    public var crashes: [CrashPlan]
    /// Root seed; the engine draws from streams named `engine.<job>.*`.
    public var seed: UInt64
    /// Gold's `withWatermark` delay on each input.
    public var watermarkDelayMicros: Micros
    public var retry: CommitRetryPolicy
    /// Threads Silver decodes a batch's rows on (each with its own decoder);
    /// rows are staged in order afterwards, so the output is the same for any
    /// number. 1 keeps the engine on one core (its benchmark, what-if workers).
    public var decodeThreads: Int = 1
    /// How the Silver jobs write Silver and the DLQ (`pipeline.silver_sinks`).
    public var silverSinks: SilverSinkMode = .idempotent
    /// Where the Bronze (Kafka) queries start without a checkpoint (`pipeline.starting_offsets`).
    public var startingOffsets: StartingOffsets = .earliest
    /// How Silver decodes (`pipeline.silver_decoder`); applies with `init(cluster:registry:config:)`.
    public var silverDecoder: SilverDecoderMode = .confluent
    /// The Kafka source's `failOnDataLoss` (`pipeline.fail_on_data_loss`):
    /// a fetch below the log start offset (retention deleted the records)
    /// fails the query (true, Spark's default) or skips to the earliest offset.
    public var failOnDataLoss = true
    /// Gold's state store (`pipeline.state_store`).
    public var stateStore: StateStoreMode = .hdfs
    /// RocksDB's cost per row through the dedup (a get, and a put for a new
    /// key, through JNI): an assumption, not measured (docs/ENGINE.md).
    public var rocksdbNanosPerRow: Int64 = 20_000
    /// Which Gold inputs are watermarked (`pipeline.gold_watermark`).
    public var goldWatermark: GoldWatermarkMode = .both

    public init(startMicros: Micros, endMicros: Micros, jobs: [JobConfig] = JobConfig.defaults,
                profile: CostProfile = .production, overrides: [CostOverride] = [], crashes: [CrashPlan] = [],
                seed: UInt64 = 1, watermarkDelayMicros: Micros = 5 * Time.microsPerMinute,
                retry: CommitRetryPolicy = CommitRetryPolicy()) {
        self.startMicros = startMicros; self.endMicros = endMicros; self.jobs = jobs; self.profile = profile
        self.overrides = overrides; self.crashes = crashes; self.seed = seed
        self.watermarkDelayMicros = watermarkDelayMicros; self.retry = retry
    }

    /// The queries a run starts: `jobs`, and with `silver_sinks: two_queries`
    /// each Silver job's DLQ query, configured as its Silver job unless `jobs`
    /// lists it.
    public var queries: [JobConfig] {
        guard silverSinks == .twoQueries else { return jobs }
        var out = jobs
        for jc in jobs where jc.job == .silverBinance || jc.job == .silverKraken {
            let dlq = jc.job.sibling!
            guard !jobs.contains(where: { $0.job == dlq }) else { continue }
            var c = jc
            c.job = dlq
            out.append(c)
        }
        return out
    }
}

/// The medallion pipeline on one `EventScheduler`: five queries, six tables.
///
/// The engine reads Kafka only through `latestOffset(at:)` and the records
/// below it, so the cluster may be filled before the run or while it runs
/// (appends scheduled on the same scheduler at a priority below
/// `EnginePriority.commit`). It never sees ground-truth labels.
///
///     let p = Pipeline(cluster: kafka, registry: .standard(), config: cfg)
///     p.run()                      // or p.start(); scheduler.run(until: ...); p.finish()
///     p.gold.rows, p.batchLog, p.processRuns, p.logLines, p.droppedRows
public final class Pipeline {
    public let config: EngineConfig
    public let scheduler: EventScheduler
    public let cluster: KafkaCluster

    public let bronzeBinance: BronzeTable
    public let bronzeKraken: BronzeTable
    public let silverBinance: SilverTable
    public let silverKraken: SilverTable
    public let dlq: DlqTable
    public let gold: GoldTable

    /// Every batch attempt, in the order batches ended (crashed ones included).
    public private(set) var batchLog: [BatchRecord] = []
    public private(set) var logLines: [LogLine] = []
    /// Every process run of every job: when it started and when it died
    /// (nil: still up at the end). The metrics' counters live in a process.
    public private(set) var processRuns: [ProcessRun] = []
    var scrapeRewrite: (@Sendable (inout ScrapedMetrics) -> Void)?
    public private(set) var stateExhaustion: StateMemoryExhaustion?

    private let goldLogic: GoldLogic
    private var queries: [JobName: StreamingQuery] = [:]
    private var armed: [JobName: [CrashPlan]] = [:]
    private var started = false
    private var finished = false

    /// - Parameters:
    ///   - scheduler: share one with the feeds; nil makes a fresh one at `startMicros`.
    ///   - decoders: makes a Silver job's decoder; called once per job and decode thread.
    public init(cluster: KafkaCluster, config: EngineConfig, scheduler: EventScheduler? = nil,
                decoders: (ExchangeName) -> SilverDecoder) {
        precondition(config.endMicros >= config.startMicros, "the run must end after it starts")
        precondition(config.silverSinks == .twoQueries || !config.jobs.contains { $0.job.isDlqQuery },
                     "a DLQ query runs only with silver_sinks two_queries")
        var config = config
        config.jobs = config.queries
        self.config = config
        self.cluster = cluster
        self.scheduler = scheduler ?? EventScheduler(clock: VirtualClock(start: config.startMicros))
        let pool = StringPool(), lists = StringListPool()
        bronzeBinance = BronzeTable(name: .bronzeBinance, topic: ExchangeName.binance.topic, cluster: cluster)
        bronzeKraken = BronzeTable(name: .bronzeKraken, topic: ExchangeName.kraken.topic, cluster: cluster)
        silverBinance = SilverTable(name: .silverBinance, exchange: .binance, bronze: bronzeBinance, pool: pool, lists: lists)
        silverKraken = SilverTable(name: .silverKraken, exchange: .kraken, bronze: bronzeKraken, pool: pool, lists: lists)
        dlq = DlqTable(bronze: [.binance: bronzeBinance, .kraken: bronzeKraken])
        gold = GoldTable(inputs: [silverBinance, silverKraken])
        goldLogic = GoldLogic(inputs: [silverBinance, silverKraken], gold: gold, watermark: config.goldWatermark)

        let streams = RandomStreams(seed: config.seed)
        var seen = Set<JobName>()
        for jc in config.jobs.sorted(by: { $0.job < $1.job }) where jc.enabled {
            precondition(seen.insert(jc.job).inserted, "job \(jc.job.rawValue) configured twice")
            let logic: MicroBatchLogic
            switch jc.job {
            case .bronzeBinance, .bronzeKraken:
                let clock = self.scheduler.clock
                logic = BronzeLogic(table: jc.job == .bronzeBinance ? bronzeBinance : bronzeKraken, cluster: cluster,
                                    failOnDataLoss: config.failOnDataLoss, now: { clock.now })
            case .silverBinance, .silverKraken, .silverBinanceDlq, .silverKrakenDlq:
                // two_queries: each query decodes every row with decoders of its own.
                let binance = jc.job.exchange == .binance
                let writes: SilverWrites = config.silverSinks != .twoQueries ? .both : jc.job.isDlqQuery ? .dlqOnly : .silverOnly
                logic = SilverLogic(job: jc.job, bronze: binance ? bronzeBinance : bronzeKraken,
                                    silver: binance ? silverBinance : silverKraken, dlq: dlq,
                                    decoders: (0..<max(1, config.decodeThreads)).map { _ in decoders(binance ? .binance : .kraken) },
                                    appendOnly: config.silverSinks == .foreachBatch, writes: writes)
            case .gold: logic = goldLogic
            }
            var idStream = streams.stream("engine.\(jc.job.rawValue).query-id")
            queries[jc.job] = StreamingQuery(config: jc, profile: config.profile[jc.job], logic: logic, pipeline: self,
                                             queryId: UUIDv4.make(&idStream), streams: streams)
        }
    }

    /// The usual wiring: each Silver job decodes with its own `TradeDecoder`
    /// over `registry`.
    public convenience init(cluster: KafkaCluster, registry: SchemaRegistry, config: EngineConfig,
                            scheduler: EventScheduler? = nil) {
        let mode = config.silverDecoder
        self.init(cluster: cluster, config: config, scheduler: scheduler, decoders: { _ in
            mode == .confluent ? SilverDecoders.avro(registry: registry)
                               : SilverDecoders.fromAvro(registry: registry, failFast: mode == .fromAvroFailfast)
        })
    }

    /// Tables in docs/REFERENCE.md §2's order.
    public var tables: [MedallionTable] { [bronzeBinance, bronzeKraken, silverBinance, silverKraken, dlq, gold] }

    public func table(_ name: TableName) -> MedallionTable { tables.first { $0.name == name }! }

    /// Rows Gold dropped as late or duplicate, in the order their batches committed.
    public var droppedRows: [DroppedRow] { goldLogic.drops }

    /// The persistent query id of a job (tags its snapshots).
    public func queryId(_ job: JobName) -> String? { queries[job]?.queryId }

    /// Whether a query was up and is down now (killed or failed, not yet
    /// restarted). A `two_queries` query shares its application's cores with
    /// its sibling unless the sibling is down.
    func isDown(_ job: JobName) -> Bool {
        guard let q = queries[job] else { return true }
        return q.runNumber > 0 && !q.running
    }

    /// Batches counted behind so far, per job.
    public func batchesBehind(_ job: JobName) -> Int { queries[job]?.batchesBehind ?? 0 }

    // MARK: Running

    /// Schedules every configured query's start and the configured crashes.
    public func start() {
        precondition(!started, "start() called twice")
        started = true
        for plan in config.crashes { scheduleCrash(plan) }
        for job in JobName.everyQuery {
            guard let q = queries[job] else { continue }
            q.start(at: max(q.config.startMicros ?? config.startMicros, scheduler.clock.now))
        }
    }

    /// Crash job X at time T at point P; restart D later (nil: stays down).
    public func scheduleCrash(_ plan: CrashPlan) {
        guard let q = queries[plan.job] else { return }
        precondition(!plan.deleteCheckpoint || plan.point == .immediately, "a checkpoint is lost with an immediate kill")
        if plan.point == .immediately {
            scheduler.schedule(at: max(plan.atMicros, scheduler.clock.now), priority: EnginePriority.crash) { now in
                q.crash(at: now, point: .immediately, restartAfter: plan.restartAfterMicros)
                if plan.deleteCheckpoint { q.deleteCheckpoint(at: now) }
            }
        } else {
            armed[plan.job, default: []].append(plan)
        }
    }

    /// Runs to `config.endMicros` and closes the books.
    @discardableResult
    public func run() -> Pipeline {
        if !started { start() }
        // In slices of virtual time, with a checkpoint between two (progress
        // and Ctrl-C, see RunControl). Running to t1 and then to t2 processes
        // exactly the events one run to t2 would, in the same order.
        let total = config.endMicros - config.startMicros
        let slice = max(Time.microsPerMinute, total / 100)
        var t = scheduler.clock.now
        while t < config.endMicros {
            t = min(config.endMicros, t + slice)
            scheduler.run(until: t)
            RunControl.checkpoint(done: t - config.startMicros, total: total)
        }
        scheduler.run(until: config.endMicros)
        finish()
        return self
    }

    /// Silver batches decoded on several threads so far, and the most
    /// distinct threads one of them ran on (diagnostics, not an output).
    public var parallelDecode: (batches: Int, mostThreads: Int) {
        var batches = 0, most = 0
        for job in [JobName.silverBinance, .silverKraken] + JobName.dlqQueries {
            guard let s = queries[job]?.logic as? SilverLogic else { continue }
            batches += s.parallelBatches; most = max(most, s.mostThreadsInABatch)
        }
        return (batches, most)
    }

    /// Approximate bytes held per structure (Kafka logs, tables, Gold's dedup
    /// state, the batch log, the log lines), for memory reports: a
    /// diagnostic, not an output. Arrays count their capacity where they
    /// expose it; per-record heap blocks (a batch's offset arrays, a log
    /// line's message) at their payload plus a 32-byte block header.
    public var memoryBreakdown: [(name: String, bytes: Int)] {
        var out: [(String, Int)] = [("kafka", cluster.topics.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + $1.heldBytes } })]
        for t in tables { out.append((t.name.rawValue, t.storageBytes)) }
        out.append(("gold dedup state", goldLogic.state.heldBytes))
        out.append(("gold drops", goldLogic.drops.capacity * MemoryLayout<DroppedRow>.stride + goldLogic.drops.count * 64))
        let batchBytes = batchLog.reduce(batchLog.capacity * MemoryLayout<BatchRecord>.stride) { acc, b in
            acc + 4 * 32 + (b.startOffsets.count + b.endOffsets.count) * 8 + b.sinks.count * MemoryLayout<SinkCommitRecord>.stride
        }
        out.append(("batch log", batchBytes))
        out.append(("log lines", logLines.reduce(logLines.capacity * MemoryLayout<LogLine>.stride) { $0 + 32 + $1.message.utf8.count }))
        return out
    }

    /// Compressed bytes of sealed segments spilled to disk (Kafka's logs,
    /// Bronze, Silver, Gold): not resident, for memory reports.
    public var spilledBytes: Int {
        cluster.topics.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + $1.spilledBytes } }
            + [bronzeBinance, bronzeKraken].reduce(0) { $0 + $1.spilledBytes }
            + [silverBinance, silverKraken].reduce(0) { $0 + $1.spilledBytes } + gold.spilledBytes
    }

    /// Records batches still in flight at the end of the run.
    public func finish() {
        guard !finished else { return }
        finished = true
        for job in JobName.everyQuery { queries[job]?.finishRun(at: scheduler.clock.now) }
    }

    // MARK: Callbacks from the queries

    func takeCrash(_ job: JobName, _ point: CrashPoint, at t: Micros) -> CrashPlan? {
        guard var plans = armed[job], let i = plans.firstIndex(where: { $0.point == point && $0.atMicros <= t }) else {
            return nil
        }
        let plan = plans.remove(at: i)
        armed[job] = plans
        return plan
    }

    func log(_ t: Micros, _ job: JobName, _ level: LogLevel, _ message: String) {
        logLines.append(LogLine(timeMicros: t, job: job, level: level, message: message))
    }

    func record(_ r: BatchRecord) {
        batchLog.append(r)
    }

    func processStarted(_ job: JobName, run: Int, at t: Micros) {
        processRuns.append(ProcessRun(job: job, runNumber: run, startMicros: t, endMicros: nil))
    }

    func processDied(_ job: JobName, at t: Micros) {
        guard let i = processRuns.lastIndex(where: { $0.job == job }) else { return }
        processRuns[i].endMicros = t
    }

    func noteStateExhaustion(_ r: BatchRecord, memory: Int64) {
        guard stateExhaustion == nil, let end = r.endMicros else { return }
        stateExhaustion = StateMemoryExhaustion(timeMicros: end, batchId: r.batchId, stateKeys: r.stateKeys,
                                                stateBytes: r.stateBytes, executorMemoryBytes: memory)
        log(end, r.job, .error, "Dedup state of \(r.stateKeys) keys (\(r.stateBytes) bytes) exceeds executor memory (\(memory) bytes)")
    }
}

extension Pipeline {
    /// Test only: rewrites batch record `i` of the log, so tests can prove the
    /// oracle recomputes what the log claims instead of believing it.
    public func testOnly_rewriteBatch(_ i: Int, _ change: (inout BatchRecord) -> Void) {
        change(&batchLog[i])
    }

    /// Test only: changes what the next scrapes read, as an engine that exported a wrong value would.
    public func testOnly_rewriteScrapes(_ change: @escaping @Sendable (inout ScrapedMetrics) -> Void) {
        scrapeRewrite = change
    }
}
