import Foundation
import Broker
import Codec
import Engine
import Exchanges
import Kernel
import Replay

/// One finished replay of a capture: the capture on the virtual clock, the
/// run's settings (in the scenario vocabulary) and the engine that processed it.
public struct ReplayRun {
    /// The capture's path (or a name for a capture built in code).
    public let file: String
    /// Start, duration, drain, seed, profile, jobs, engine faults and
    /// expectations, as `--set` left them.
    public let settings: Scenario
    public let profile: CostProfile
    public let feed: ReplayFeed
    public let engineConfig: EngineConfig
    public let pipeline: Pipeline
    /// What was read, when the replay came from `replay PATH...` (sources,
    /// partitions, offset ranges and gaps).
    public var sources: SourceReport? = nil
    public var feedStartMicros: Micros { settings.startMicros }
    public var feedEndMicros: Micros { settings.startMicros + settings.durationMicros }
}

/// Wires a capture into the engine. The run's settings reuse the scenario
/// file's vocabulary and validation: `--set jobs.silver_binance.trigger=30s`,
/// `seed`, `profile`, `start`, `duration`, `drain`, engine faults
/// (`slow_commits`, `commit_failures`, `crash`) and `expect.*` mean what
/// they mean in a scenario. Keys that shape generated traffic (`exchanges.*`,
/// traffic faults) are refused: a replay's traffic is the capture.
public enum ReplayRunner {
    /// Default window: the jobs start at the minute the first message falls in
    /// and the feed lasts to the last message, rounded up to a whole minute;
    /// then the scenario default drain (10 min) lets the jobs catch up.
    public static func defaultWindow(_ feed: ReplayFeed) -> (start: Micros, duration: Micros)? {
        guard let first = feed.firstMicros, let last = feed.lastMicros else { return nil }
        let start = Time.floorDiv(first, Time.microsPerMinute) * Time.microsPerMinute
        let minutes = Time.floorDiv(last - start, Time.microsPerMinute) + 1
        return (start, minutes * Time.microsPerMinute)
    }

    /// The run's settings: a scenario document with the capture's window,
    /// then the overrides, validated like a scenario file.
    public static func settings(for feed: ReplayFeed, file: String, overrides: [String]) throws(InputError) -> Scenario {
        guard let window = defaultWindow(feed) else {
            let ignored = feed.ignoredTopics.map { "\($0.topic) (\($0.messages))" }.joined(separator: ", ")
            throw InputError(file: file, line: 0, problem: "no messages on \(ReplayFeed.replayedTopics.joined(separator: " or ")) to replay"
                             + (ignored.isEmpty ? "" : "; ignored topics: \(ignored)"))
        }
        guard window.duration <= 7 * Time.microsPerDay else {
            throw InputError(file: file, line: 0, problem: "the capture spans \(DurationParser.format(window.duration)); replay at most 7d at a time (or raise --speed)")
        }
        let civil = UTCDateTime(micros: window.start)
        let start = String(civil.iso8601.prefix(19)) + "Z"
        let text = """
            name: replay
            description: replay of a capture
            start: \(start)
            duration: \(DurationParser.format(window.duration))
            """
        let s = try ScenarioParser.parse(text, file: "--set", overrides: overrides)
        if let e = s.exchanges.keys.sorted().first {
            throw InputError(file: "--set", line: 0, problem: "exchanges.\(e.lowercased) shapes generated traffic; a replay's traffic is the capture")
        }
        for f in s.faults {
            switch f.kind {
            case .slowCommits, .commitFailures, .crash: continue
            default:
                throw InputError(file: "--set", line: 0, problem: "traffic faults (duplicates, malformed, spike, outage, ...) shape generated traffic; a replay can only add engine faults (slow_commits, commit_failures, crash)")
            }
        }
        return s
    }

    /// Loads a capture file and replays it.
    public static func run(path: String, speed: Decimal8 = Decimal8(units: Decimal8.unitsPerWhole), overrides: [String] = [],
                           profilesDirectory: String = "scenarios/profiles") throws(InputError) -> ReplayRun {
        let capture = try CaptureReader.load(path: path)
        return try run(capture, file: path, speed: speed, overrides: overrides, profilesDirectory: profilesDirectory)
    }

    /// Reads every source (recognized by content; see `ReplaySources`) and replays them as one capture.
    public static func run(paths: [String], sources options: ReplaySourceOptions, speed: Decimal8 = Decimal8(units: Decimal8.unitsPerWhole),
                           overrides: [String] = [], profilesDirectory: String = "scenarios/profiles") throws(InputError) -> ReplayRun {
        let (capture, report) = try ReplaySources.load(paths: paths, options: options)
        var run = try run(capture, file: paths.joined(separator: " "), speed: speed, overrides: overrides, profilesDirectory: profilesDirectory)
        run.sources = report
        return run
    }

    public static func run(_ capture: Capture, file: String, speed: Decimal8 = Decimal8(units: Decimal8.unitsPerWhole),
                           overrides: [String] = [], profilesDirectory: String = "scenarios/profiles") throws(InputError) -> ReplayRun {
        let feed = try ReplayFeed.build(capture, speed: speed, file: file)
        let s = try settings(for: feed, file: file, overrides: overrides)
        let profile = try ProfileLoader.load(name: s.profile, directory: profilesDirectory)
        return run(feed, file: file, settings: s, profile: profile)
    }

    /// Silver decodes on every core the machine has: a replay is one run, not
    /// one of many in parallel, and the tables are the same for any number.
    public static var decodeThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs the engine over a built feed (everything validated already).
    public static func run(_ feed: ReplayFeed, file: String, settings s: Scenario, profile: CostProfile) -> ReplayRun {
        var config = ScenarioRunner.engineConfig(s, profile: profile)
        config.decodeThreads = decodeThreads
        let pipeline = Pipeline(cluster: feed.cluster, registry: feed.registry, config: config)
        pipeline.run()
        return ReplayRun(file: file, settings: s, profile: profile, feed: feed, engineConfig: config, pipeline: pipeline)
    }
}

/// `record`: a scenario's produced topics and registered schemas as a capture.
public enum ScenarioRecorder {
    /// Generates the scenario's traffic (the engine does not run: a capture is
    /// what Kafka held) and captures it.
    public static func capture(_ s: Scenario) throws(InputError) -> Capture {
        let traffic = TrafficGenerator.generate(try ScenarioRunner.trafficPlan(s))
        return capture(traffic)
    }

    public static func capture(_ traffic: GeneratedTraffic) -> Capture {
        let schemas = traffic.registrations.map { CapturedSchema(id: $0.id, subject: $0.subject, schema: $0.schemaJSON) }
        return CaptureRecorder.capture(of: traffic.cluster, schemas: schemas)
    }
}
