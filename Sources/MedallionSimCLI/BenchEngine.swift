import ArgumentParser
import Broker
import Checks
import Codec
import Engine
import Foundation
import Kernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `medallion-sim bench engine`: a simulated day (or `--hours H`) at
/// production rates through all five jobs on the simulation thread (Silver
/// decoding large batches on `--threads`, and from 2 threads on, the traffic
/// generated and encoded ahead on a thread of its own: `BenchFeed`), with every trade
/// Avro-encoded into Kafka and decoded by Silver. Reports end-to-end trades/s,
/// simulated time per wall time and peak RSS. Wall-clock time is read here
/// and nowhere in the simulation.
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine throughput: a simulated day at production rates, all five jobs, encode and decode included. Use a release build."
    )

    @OptionGroup var traffic: BenchTraffic

    @Option(help: "Threads Silver decodes large batches on; from 2, the traffic is also generated on a thread of its own (default: the machine's cores; 1 keeps everything on one thread).")
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Flag(help: "Also run the oracle's checks on the run (as `run` does, without ground truth), timed and measured apart.")
    var checks = false

    @Flag(help: "Print the engine's memory by structure after the run.")
    var memory = false

    @Flag(help: "Also print an FNV-1a 64 digest of every Kafka record: the same for any --threads.")
    var digest = false

    @Option(help: ArgumentHelp(
        "Gold's state store: rocksdb (default) or hdfs.",
        discussion: "rocksdb keeps the never-evicted dedup state off-heap, so Gold does the whole run and every trade reaches it (the state, ~37 M keys at 168 h, is what grows). hdfs is Spark's default heap store: past ~11 h the state exceeds the production profile's 512 MiB executor, Gold fails on OutOfMemoryError batch after batch and does no work afterwards (pipeline.state_store in docs/ENGINE.md)."))
    var stateStore: StateStoreMode = .rocksdb

    /// Simulated hours of traffic (the jobs then get 10 more minutes to drain): 24 by default, at most 168.
    var hours: Int { traffic.hours ?? 24 }
    func validate() throws {
        try traffic.check(hours: hours, max: 168)
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64 (got \(threads)).") }
    }

    /// Resident memory now (Linux `/proc/self/statm`; 0 where unavailable).
    static func currentRSSBytes() -> Int {
        guard let f = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(f) }
        var size = 0, resident = 0
        guard withUnsafeMutablePointer(to: &size, { s in withUnsafeMutablePointer(to: &resident) { r in
            withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) } } }) == 2 else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func peakRSSBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)         // bytes on Darwin
        #endif
    }

    func run() throws {
        let start = UTCDateTime.micros(year: 2026, month: 1, day: 20)
        let feedEnd = start + Time.hours(Int64(hours))
        let end = feedEnd + Time.minutes(10)
        let registry = SchemaRegistry.standard()
        let cluster = KafkaCluster()
        cluster.createTopic(ExchangeName.binance.topic, partitions: 3)
        cluster.createTopic(ExchangeName.kraken.topic, partitions: 1)
        let scheduler = EventScheduler(clock: VirtualClock(start: start))
        // On 2 threads or more, the traffic is generated and encoded on a
        // thread of its own, up to 256 simulated seconds ahead.
        let generator = try BenchFeed(cluster: cluster, registry: registry, seed: traffic.seed, start: start, end: feedEnd,
                                      ahead: threads > 1 ? 256 : nil)
        // One event per simulated second, ahead of the engine's events at that time.
        func feed(_ t: Micros) {
            generator.append(second: t)
            if t + Time.microsPerSecond < feedEnd {
                scheduler.schedule(at: t + Time.microsPerSecond, priority: 0) { feed($0) }
            }
        }
        scheduler.schedule(at: start, priority: 0) { feed($0) }
        var config = EngineConfig(startMicros: start, endMicros: end, profile: .production, seed: traffic.seed)
        config.decodeThreads = threads
        config.stateStore = stateStore
        let pipeline = Pipeline(cluster: cluster, registry: registry, config: config, scheduler: scheduler)

        let clock = ContinuousClock()
        let began = clock.now
        pipeline.run()
        let elapsed = clock.now - began
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var rss = Self.peakRSSBytes()
        let engineRSS = rss, residentAfterEngine = Self.currentRSSBytes()
        let breakdown = pipeline.memoryBreakdown, spilled = pipeline.spilledBytes
        var checkSeconds = 0.0, checksPassed = true
        if checks {
            let t0 = clock.now
            let result = Oracle.check(OracleInput(cluster: cluster, registry: registry, groundTruth: nil, pipeline: pipeline,
                                                  feedStartMicros: start, feedEndMicros: feedEnd))
            let d = clock.now - t0
            checkSeconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            checksPassed = result.passed
            for c in result.checks where !c.passed { printError("check \(c.name) failed: \(c.details.first ?? "")") }
            rss = Self.peakRSSBytes()
        }

        let produced = generator.produced
        let simulatedSeconds = Double(end - start) / 1e6
        let tradesPerSecond = Double(produced) / wall
        let ratio = simulatedSeconds / wall
        let bronze = pipeline.bronzeBinance.rowCount + pipeline.bronzeKraken.rowCount
        let silver = pipeline.silverBinance.rowCount + pipeline.silverKraken.rowCount
        let dlq = pipeline.dlq.rowCount
        let gold = pipeline.gold.rowCount
        let batches = pipeline.batchLog.count
        let consistent = bronze == produced && silver + dlq == bronze && gold == silver && dlq == 0
        let dayWall = wall * 24 / Double(hours)
        let targets: [(String, Bool)] = [
            ("trades/s end to end >= 150000", tradesPerSecond >= 150_000),
            ("a simulated 24 h in < 60 s of wall time", dayWall < 60),
            ("peak RSS < 4 GiB", rss < 4 << 30),
            ("every trade in Bronze, Silver and Gold exactly once", consistent),
        ]
        let tableBytes = pipeline.tables.reduce(0) { $0 + $1.storageBytes }

        switch traffic.output.format {
        case .text:
            print("engine benchmark: \(hours) h of production traffic (+10 min drain), five jobs, Silver decoding on \(threads) thread\(threads == 1 ? "" : "s"), state store \(stateStore.rawValue), seed \(traffic.seed)")
            print("  trades produced        \(produced)  (Avro-encoded into Kafka, decoded by Silver)")
            print("  rows                   bronze \(bronze), silver \(silver), dlq \(dlq), gold \(gold); batches \(batches)")
            print("  wall time              \(fmt(wall)) s  (generator incl. Avro encode \(fmt(generator.generatorSeconds)) s"
                  + (threads > 1 ? " on its own thread, waited for \(fmt(generator.waitedSeconds)) s)" : ")"))
            print("  trades/s end to end    \(Int(tradesPerSecond.rounded()))")
            print("  simulated/wall time    \(Int(ratio.rounded())) x  (24 h would take \(fmt(dayWall)) s)")
            print("  peak RSS               \(rss >> 20) MiB  (engine table storage ~\(tableBytes >> 20) MiB: "
                  + pipeline.tables.map { "\($0.name.rawValue) \($0.storageBytes >> 20)" }.joined(separator: ", ") + ")")
            let keys = pipeline.batchLog.last { $0.job == .gold && $0.outcome == .committed }?.stateKeys ?? 0
            print("  gold dedup state       \(keys) keys at the end (\((Int64(keys) * config.profile[.gold].stateBytesPerKey) >> 20) MiB at the profile's bytes a key)")
            if let x = pipeline.stateExhaustion {
                print("                         past the \(x.executorMemoryBytes >> 20) MiB executor at \(UTCDateTime(micros: x.timeMicros).iso8601) (\(x.stateKeys) keys, batch \(x.batchId)): "
                      + (stateStore == .hdfs ? "OutOfMemoryError, Gold failed batch after batch from then on" : "off-heap in RocksDB, Gold went on"))
            }
            if checks {
                print("  checks                 \(checksPassed ? "all hold" : "FAILED") in \(fmt(checkSeconds)) s; peak RSS after the engine \(engineRSS >> 20) MiB")
            }
            if memory {
                print("  resident after engine  \(residentAfterEngine >> 20) MiB; held by structure (MiB):")
                for (name, bytes) in breakdown { print("    \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(bytes >> 20)") }
                print("  sealed, spilled to disk \(spilled >> 20) MiB (compressed; not resident)")
            }
            if digest { print("  Kafka records digest   \(String(BenchFeed.digest(cluster), radix: 16))  (FNV-1a 64)") }
            for (t, ok) in targets { print("  target \(t): \(ok ? "met" : "NOT met")") }
        case .json:
            let parts = [
                "\"hours\":\(hours)", "\"seed\":\(traffic.seed)", "\"state_store\":\"\(stateStore.rawValue)\"",
                "\"state_exhausted_at\":" + (pipeline.stateExhaustion.map { "\"\(UTCDateTime(micros: $0.timeMicros).iso8601)\"" } ?? "null"), "\"threads\":\(threads)", "\"trades\":\(produced)",
                "\"bronze_rows\":\(bronze)", "\"silver_rows\":\(silver)", "\"dlq_rows\":\(dlq)", "\"gold_rows\":\(gold)",
                "\"batches\":\(batches)", "\"wall_seconds\":\(fmt(wall))", "\"generator_seconds\":\(fmt(generator.generatorSeconds))",
                "\"trades_per_second\":\(Int(tradesPerSecond.rounded()))", "\"sim_to_wall_ratio\":\(Int(ratio.rounded()))",
                "\"day_wall_seconds\":\(fmt(dayWall))", "\"peak_rss_bytes\":\(rss)", "\"table_storage_bytes\":\(tableBytes)",
                "\"targets_met\":\(targets.allSatisfy { $0.1 })", "\"engine_peak_rss_bytes\":\(engineRSS)",
                "\"spilled_bytes\":\(spilled)",
            ] + (digest ? ["\"kafka_fnv1a64\":\"\(String(BenchFeed.digest(cluster), radix: 16))\""] : [])
              + (checks ? ["\"checks_passed\":\(checksPassed)", "\"check_seconds\":\(fmt(checkSeconds))"] : [])
            print("{" + parts.sorted().joined(separator: ",") + "}")
        }
        if !consistent || !checksPassed { throw ChecksFailed() }
    }

    private func fmt(_ x: Double) -> String { String(Double(Int((x * 100).rounded())) / 100) }
}
extension StateStoreMode: ExpressibleByArgument {}
