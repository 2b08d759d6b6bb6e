import ArgumentParser
import Checks
import Engine
import Foundation
import Kernel
import Replay
import Scenarios

/// `medallion-sim bench replay`: records hours of production-rate traffic to
/// a compact zstd capture, then times loading it and replaying it through all
/// five jobs. Wall-clock time is read here and nowhere in the simulation.
struct BenchReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay throughput from a compact zstd capture (load + all five jobs). Use a release build."
    )

    @OptionGroup var traffic: BenchTraffic

    @Option(help: "Where to write the capture (default: a temporary file, removed afterwards).")
    var capture: String?

    @Flag(help: "Also time the oracle's checks over the replay (not part of the replay figure).")
    var withChecks = false

    /// Hours of traffic recorded: 5 by default (about 1.1 M messages), at most 168.
    var hours: Int { traffic.hours ?? 5 }

    func validate() throws {
        try traffic.check(hours: hours, max: 168)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    func run() throws {
        let clock = ContinuousClock()
        let yaml = """
            name: bench-replay
            description: production rates for the replay benchmark
            seed: \(traffic.seed)
            duration: \(hours)h
            """
        let scenario = try ScenarioParser.parse(yaml, file: "bench-replay")
        let path = capture ?? NSTemporaryDirectory() + "medallion-bench-replay-\(getpid()).medcap.zst"
        defer { if capture == nil { try? FileManager.default.removeItem(atPath: path) } }

        var t = clock.now
        let recorded = try ScenarioRecorder.capture(scenario)
        try CaptureWriter.write(recorded, to: path, compact: true)
        let recordSeconds = Self.seconds(clock.now - t)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0

        t = clock.now
        let loaded = try CaptureReader.load(path: path)
        let loadSeconds = Self.seconds(clock.now - t)
        t = clock.now
        let feed = try ReplayFeed.build(loaded, file: path)
        let settings = try ReplayRunner.settings(for: feed, file: path, overrides: ["seed=\(traffic.seed)"])
        let profile = try ProfileLoader.load(name: settings.profile)
        let buildSeconds = Self.seconds(clock.now - t)
        t = clock.now
        let run = ReplayRunner.run(feed, file: path, settings: settings, profile: profile)
        let engineSeconds = Self.seconds(clock.now - t)
        var checkSeconds: Double?
        var checksPassed: Bool?
        if withChecks {
            t = clock.now
            checksPassed = ReplayEvaluator.evaluate(run).passed
            checkSeconds = Self.seconds(clock.now - t)
        }

        let p = run.pipeline
        let messages = feed.replayedMessages
        let total = loadSeconds + buildSeconds + engineSeconds
        let perSecond = Double(messages) / total
        let bronze = p.bronzeBinance.rowCount + p.bronzeKraken.rowCount
        let silver = p.silverBinance.rowCount + p.silverKraken.rowCount
        let consistent = bronze == messages && silver + p.dlq.rowCount == bronze
        let targetMet = perSecond >= 200_000
        func f(_ x: Double) -> String { String(Double(Int((x * 100).rounded())) / 100) }
        switch traffic.output.format {
        case .text:
            print("replay benchmark: \(hours) h of production traffic, compact zstd capture, five jobs on one thread, Silver decoding on \(ReplayRunner.decodeThreads), seed \(traffic.seed)")
            print("  messages               \(messages)  (capture \(fileBytes >> 20) MiB; recorded in \(f(recordSeconds)) s, not timed)")
            print("  rows                   bronze \(bronze), silver \(silver), dlq \(p.dlq.rowCount), gold \(p.gold.rowCount); batches \(p.batchLog.count)")
            print("  load (read, unzstd, decode)  \(f(loadSeconds)) s")
            print("  feed (cluster, registry)     \(f(buildSeconds)) s")
            print("  engine (all five jobs)       \(f(engineSeconds)) s")
            print("  messages/s load + replay     \(Int(perSecond.rounded()))")
            if let checkSeconds { print("  oracle checks                \(f(checkSeconds)) s (\(checksPassed! ? "pass" : "FAIL"); not in the figure)") }
            print("  peak RSS               \(BenchEngine.peakRSSBytes() >> 20) MiB")
            print("  target >= 200000 messages/s: \(targetMet ? "met" : "NOT met")")
        case .json:
            var o: [String: JSONValue] = [
                "hours": .int(Int64(hours)), "seed": .int(Int64(bitPattern: traffic.seed)), "messages": .int(Int64(messages)),
                "capture_bytes": .int(Int64(fileBytes)), "load_seconds": .number(f(loadSeconds)),
                "feed_seconds": .number(f(buildSeconds)), "engine_seconds": .number(f(engineSeconds)),
                "messages_per_second": .int(Int64(perSecond.rounded())), "target_met": .bool(targetMet),
                "peak_rss_bytes": .int(Int64(BenchEngine.peakRSSBytes())), "consistent": .bool(consistent),
            ]
            if let checkSeconds { o["check_seconds"] = .number(f(checkSeconds)); o["checks_passed"] = .bool(checksPassed!) }
            print(JSONValue.object(o).pretty, terminator: "")
        }
        if !consistent { throw ChecksFailed() }
    }
}
