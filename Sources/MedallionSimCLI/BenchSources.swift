import ArgumentParser
import Engine
import Foundation
import Kernel
import Replay
import Scenarios

/// `medallion-sim bench sources`: how fast replay reads each kind of source.
/// Records hours of production-rate traffic (not timed), writes it as a JSON
/// Lines capture, as Kafka log segments (zstd batches) and as a Spark-style
/// Bronze JSON export, then times reading each into a capture, the way
/// `replay PATH` does. Wall-clock time is read here and nowhere in the simulation.
struct BenchSources: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "Reading speed of replay's sources: JSON Lines capture, Kafka log segments (zstd), Bronze JSON export. Use a release build."
    )

    @OptionGroup var traffic: BenchTraffic

    @Option(help: "Timed reads of each source; the report gives the slowest and the fastest.")
    var runs: Int = 3

    /// Hours of traffic recorded: 2 by default, at most 48.
    var hours: Int { traffic.hours ?? 2 }

    func validate() throws {
        try traffic.check(hours: hours, max: 48)
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be between 1 and 20 (got \(runs)).") }
    }

    struct Figure {
        var name: String
        var bytes: Int
        var seconds: [Double] = []
        var messages = 0
    }

    static func size(_ path: String) -> Int {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return 0 }
        if !isDir.boolValue { return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        return ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).reduce(0) { $0 + size(path + "/" + $1) }
    }

    /// Same records (topic, partition, offset, timestamp, key, value), whatever the order and append times.
    static func sameRecords(_ a: Capture, _ b: Capture) -> Bool {
        guard a.messageCount == b.messageCount else { return false }
        func order(_ c: Capture) -> [Int] {
            (0..<c.messageCount).sorted {
                let ta = c.topics[Int(c.topicIndex[$0])], tb = c.topics[Int(c.topicIndex[$1])]
                return (ta, c.partitions[$0], c.offsets[$0]) < (tb, c.partitions[$1], c.offsets[$1])
            }
        }
        for (i, j) in zip(order(a), order(b)) {
            var x = a.message(i), y = b.message(j)
            x.appendTimeMicros = nil; y.appendTimeMicros = nil
            if x != y { return false }
        }
        return true
    }

    func run() throws {
        let clock = ContinuousClock()
        let scenario = try ScenarioParser.parse("""
            name: bench-sources
            description: production rates for the sources benchmark
            seed: \(traffic.seed)
            duration: \(hours)h
            """, file: "bench-sources")
        let dir = NSTemporaryDirectory() + "medallion-bench-sources-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let recorded = try ScenarioRecorder.capture(scenario)
        let jsonl = dir + "/capture.jsonl", logs = dir + "/kafka-logs", bronze = dir + "/bronze"
        try CaptureWriter.write(recorded, to: jsonl, compact: false)
        try KafkaLogWriter.write(recorded, to: logs)
        try BronzeExportWriter.write(recorded, to: bronze)

        var figures = [Figure(name: "JSON Lines capture (today's reader)", bytes: Self.size(jsonl)),
                       Figure(name: "Kafka log segments, zstd batches", bytes: Self.size(logs)),
                       Figure(name: "Bronze JSON export (Spark layout)", bytes: Self.size(bronze))]
        var consistent = true
        for _ in 0..<runs {
            for k in figures.indices {
                let t = clock.now
                let c: Capture
                switch k {
                case 0: c = try CaptureReader.load(path: jsonl)
                case 1: c = try ReplaySources.load(paths: [logs]).0
                default: c = try ReplaySources.load(paths: [bronze]).0
                }
                figures[k].seconds.append(BenchReplay.seconds(clock.now - t))
                figures[k].messages = c.messageCount
                if figures[k].seconds.count == 1 && !Self.sameRecords(c, recorded) { consistent = false }
            }
        }
        func rate(_ f: Figure, _ s: Double) -> Int { Int((Double(f.messages) / s).rounded()) }
        let jsonlBest = rate(figures[0], figures[0].seconds.min()!)
        let faster = figures.dropFirst().allSatisfy { rate($0, $0.seconds.max()!) >= jsonlBest }
        switch traffic.output.format {
        case .text:
            print("sources benchmark: \(hours) h of production traffic, \(recorded.messageCount) messages, seed \(traffic.seed), \(runs) runs each (reading into a capture, as replay does)")
            for f in figures {
                let rates = f.seconds.map { rate(f, $0) }
                print("  " + f.name.padding(toLength: 38, withPad: " ", startingAt: 0)
                      + "  \(rates.min()!)-\(rates.max()!) messages/s  (\(f.bytes >> 20) MiB)")
            }
            print("  every source read back the recorded records: \(consistent ? "yes" : "NO")")
            print("  segments and Bronze at least as fast as JSON Lines (slowest run vs fastest): \(faster ? "yes" : "NO")")
        case .json:
            print(JSONValue.object([
                "hours": .int(Int64(hours)), "seed": .int(Int64(bitPattern: traffic.seed)), "messages": .int(Int64(recorded.messageCount)),
                "sources": .array(figures.map { f in
                    .object(["name": .string(f.name), "bytes": .int(Int64(f.bytes)),
                             "messages_per_second": .array(f.seconds.map { .int(Int64(rate(f, $0))) })])
                }),
                "consistent": .bool(consistent), "at_least_as_fast_as_json_lines": .bool(faster),
            ]).pretty, terminator: "")
        }
        if !consistent { throw ChecksFailed() }
    }
}
