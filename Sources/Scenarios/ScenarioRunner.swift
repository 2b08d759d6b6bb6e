import Broker
import Codec
import Engine
import Exchanges
import Kernel

/// One finished run of a scenario: the traffic that was produced (with its
/// ground truth, for the checks only) and the engine that processed it.
public struct ScenarioRun {
    public let scenario: Scenario
    public let profile: CostProfile
    public let plan: TrafficPlan
    public let traffic: GeneratedTraffic
    public let engineConfig: EngineConfig
    public let pipeline: Pipeline
    public var endMicros: Micros { engineConfig.endMicros }
}

/// Wires a scenario's feeds, faults and job settings into the exchanges and
/// the engine, and runs them. Deterministic: same scenario, same bytes.
public enum ScenarioRunner {
    /// Delay of a producer retry after the original send (a request timeout).
    public static let producerRetryDelayMicros: Micros = 500 * Time.microsPerMilli
    /// Delay of an exchange re-send (a snapshot after a reconnect).
    public static let exchangeResendDelayMicros: Micros = 20 * Time.microsPerSecond
    /// Window given to instantaneous faults that spread their messages.
    public static let defaultFaultWindowMicros: Micros = Time.microsPerMinute

    /// `decodeThreads`: Silver decodes large batches on that many threads
    /// (`EngineConfig.decodeThreads`); outputs are the same for any number.
    public static func run(_ s: Scenario, profilesDirectory: String = "scenarios/profiles",
                           decodeThreads: Int = 1) throws(InputError) -> ScenarioRun {
        let profile = try ProfileLoader.load(name: s.profile, directory: profilesDirectory)
        return try run(s, profile: profile, decodeThreads: decodeThreads)
    }

    public static func run(_ s: Scenario, profile: CostProfile, decodeThreads: Int = 1) throws(InputError) -> ScenarioRun {
        let plan = try trafficPlan(s)
        let traffic = TrafficGenerator.generate(plan)
        for e in ExchangeName.allCases { traffic.cluster.topic(e.topic)?.retention = topicRetention(s, e) }
        var config = engineConfig(s, profile: profile)
        config.decodeThreads = decodeThreads
        let pipeline = Pipeline(cluster: traffic.cluster, registry: traffic.registry, config: config)
        pipeline.run()
        return ScenarioRun(scenario: s, profile: profile, plan: plan, traffic: traffic, engineConfig: config, pipeline: pipeline)
    }

    static func double(_ d: Decimal8) -> Double { Double(d.units) / Double(Decimal8.unitsPerWhole) }

    public static func feedConfig(_ e: ExchangeName, _ x: ExchangeSettings?) -> ExchangeFeedConfig {
        var c = ExchangeFeedConfig.default(for: e)
        guard let x else { return c }
        if !x.enabled { c.rateMultiplier = 0 }
        if let m = x.rateMultiplier { c.rateMultiplier = x.enabled ? double(m) : 0 }
        if let p = x.partitions { c.partitionCount = p }
        if let names = x.symbols { c.symbols = c.symbols.filter { names.contains($0.symbol) } }
        if let v = x.v1Share { c.v1Share = v }
        if let b = x.burstBranchingRatio { c.burstBranchingRatio = double(b) }
        if let median = x.deliveryLatencyMedianMicros {
            if case .logNormal(_, let sigma) = c.deliveryLatency {
                c.deliveryLatency = .logNormal(medianMicros: median, sigma: sigma)
            } else {
                c.deliveryLatency = .logNormal(medianMicros: median, sigma: 0.5)
            }
        }
        return c
    }

    public static func trafficPlan(_ s: Scenario) throws(InputError) -> TrafficPlan {
        var faults: [FaultSpec] = []
        for f in s.faults {
            let from = s.startMicros + f.atMicros
            let until = from + (f.forMicros > 0 ? f.forMicros : defaultFaultWindowMicros)
            switch f.kind {
            case .producerRetryDuplicates(let e, let n):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until,
                                        effect: .duplicate(.producerRetry, .count(n), delayMicros: producerRetryDelayMicros)))
            case .exchangeResendDuplicates(let e, let n):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until,
                                        effect: .duplicate(.exchangeResend, .count(n), delayMicros: exchangeResendDelayMicros)))
            case .lateBackfill(let e, let n, let age):
                faults.append(.lateBackfill(exchange: e, deliverAtMicros: from, count: n, ageMicros: age))
            case .malformed(let e, let reasons, let n):
                faults += FaultSpec.malformed(exchange: e, startMicros: from, endMicros: until, reasons: reasons, countEach: n)
            case .spike(let e, let m):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until, effect: .spike(multiplier: double(m))))
            case .outage(let e, let backfill):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until, effect: .outage(backfill: backfill)))
            case .clockSkew(let e, let skew):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until, effect: .clockSkew(aheadMicros: skew, share: .always)))
            case .schemaMix(let e, let share):
                faults.append(FaultSpec(exchange: e, startMicros: from, endMicros: until, effect: .schemaMix(v1Share: share)))
            case .slowCommits, .commitFailures, .crash, .checkpointLost:
                continue  // engine faults
            }
        }
        let plan = TrafficPlan(seed: s.seed, startMicros: s.startMicros, durationMicros: s.durationMicros,
                               feeds: ExchangeName.allCases.map { feedConfig($0, s.exchanges[$0]) }, faults: faults)
        if let problem = plan.problems().first {
            throw InputError(file: s.file, line: 0, problem: problem)
        }
        return plan
    }

    public static func engineConfig(_ s: Scenario, profile: CostProfile) -> EngineConfig {
        // two_queries: a DLQ query the scenario configures takes its Silver
        // job's settings for what it leaves out (else the engine copies them).
        let dlq = s.pipeline.silverSinks == .twoQueries ? JobName.dlqQueries.filter { s.jobs[$0] != nil } : []
        let jobs = (JobName.allCases + dlq).map { job -> JobConfig in
            let x = s.jobs[job], app = job.isDlqQuery ? s.jobs[job.application] : nil
            return JobConfig(job: job, triggerMicros: x?.triggerMicros ?? app?.triggerMicros, executorCores: x?.cores ?? app?.cores,
                             maxOffsetsPerTrigger: x?.maxOffsetsPerTrigger ?? app?.maxOffsetsPerTrigger,
                             startMicros: (x?.startAtMicros ?? app?.startAtMicros).map { s.startMicros + $0 })
        }
        var overrides: [CostOverride] = []
        var crashes: [CrashPlan] = []
        for f in s.faults {
            let from = s.startMicros + f.atMicros, until = from + f.forMicros
            switch f.kind {
            case .slowCommits(let table, let extra):
                overrides.append(CostOverride(fromMicros: from, untilMicros: until, tables: [TableName(rawValue: table)!],
                                              extraCommitLatencyMicros: extra))
            case .commitFailures(let table, let p):
                overrides.append(CostOverride(fromMicros: from, untilMicros: until, tables: [TableName(rawValue: table)!],
                                              commitFailureProbability: p))
            case .crash(let job, let point, let after):
                crashes.append(CrashPlan(job: job, atMicros: from, point: point, restartAfterMicros: after))
            case .checkpointLost(let job, let after):
                crashes.append(CrashPlan(job: job, atMicros: from, point: .immediately, restartAfterMicros: after,
                                         deleteCheckpoint: true))
            default:
                continue
            }
        }
        var profile = profile
        for job in JobName.allCases {
            if let m = s.jobs[job]?.executorMemoryMiB { profile[job].executorMemoryBytes = m * 1_048_576 }
        }
        var config = EngineConfig(startMicros: s.startMicros, endMicros: s.startMicros + s.durationMicros + s.drainMicros,
                                  jobs: jobs, profile: profile, overrides: overrides, crashes: crashes, seed: s.seed)
        config.silverSinks = s.pipeline.silverSinks
        config.startingOffsets = s.pipeline.startingOffsets
        config.silverDecoder = s.pipeline.silverDecoder
        config.goldWatermark = s.pipeline.goldWatermark
        config.failOnDataLoss = s.pipeline.failOnDataLoss
        config.stateStore = s.pipeline.stateStore
        return config
    }

    /// The exchange topic's retention: the scenario's keys over Kafka's defaults.
    public static func topicRetention(_ s: Scenario, _ e: ExchangeName) -> TopicRetention {
        var r = TopicRetention.kafkaDefault
        guard let x = s.exchanges[e] else { return r }
        if let v = x.retentionMicros { r.retentionMs = Time.floorDiv(v, Time.microsPerMilli) }
        if let v = x.retentionBytes { r.retentionBytes = v }
        if let v = x.segmentMicros { r.segmentMs = max(1, Time.floorDiv(v, Time.microsPerMilli)) }
        if let v = x.segmentBytes { r.segmentBytes = v }
        return r
    }
}
