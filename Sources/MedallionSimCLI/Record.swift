import ArgumentParser
import Foundation
import Kernel
import Replay
import Scenarios

/// `medallion-sim record SCENARIO --capture FILE`: the scenario's Kafka
/// topics and registered schemas as a capture that `replay` reads.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Write a scenario's produced Kafka topics (and its schemas) as a capture.",
        discussion: """
            The capture is docs/REFERENCE.md §9 JSON Lines (zstd-compressed when FILE ends in .zst), or with --compact the \
            project's compact format (always zstd). Messages are in broker append order and carry their append \
            time (append_time_us), so that replaying with the scenario's seed and job settings reproduces its tables.
            """)

    @Argument(help: "The scenario (path or name).")
    var scenario: String

    @Option(help: "Override the scenario's seed.")
    var seed: UInt64?

    @Option(help: "The capture file to write.")
    var capture: String

    @Flag(help: "Write the compact zstd format instead of JSON Lines.")
    var compact = false

    @OptionGroup var options: ScenarioOptions
    @OptionGroup var format: FormatOption

    func run() throws {
        let path = scenarioPath(scenario, directory: options.scenarios)
        let s = try ScenarioParser.load(path: path, overrides: options.overrides + (seed.map { ["seed=\($0)"] } ?? []))
        let c = try ScenarioRecorder.capture(s)
        do { try CaptureWriter.write(c, to: capture, compact: compact) } catch {
            throw InputError(file: capture, line: 0, problem: "cannot write the capture: \(error)")
        }
        let kind = compact ? "compact (zstd)" : capture.hasSuffix(".zst") ? "JSON Lines (zstd)" : "JSON Lines"
        switch format.format {
        case .text:
            print("recorded \(s.name) (seed \(s.seed)): \(c.messageCount) messages on \(c.topics.sorted().joined(separator: ", ")), \(c.schemas.count) schemas -> \(capture) [\(kind)]")
        case .json:
            print(JSONValue.object([
                "scenario": .string(s.name), "seed": .int(Int64(bitPattern: s.seed)), "capture": .string(capture),
                "format": .string(compact ? "compact" : "jsonl"), "messages": .int(Int64(c.messageCount)),
                "topics": .array(c.topics.sorted().map { .string($0) }), "schemas": .int(Int64(c.schemas.count)),
            ]).pretty, terminator: "")
        }
    }
}
