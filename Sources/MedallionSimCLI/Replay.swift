import ArgumentParser
import Checks
import Engine
import Foundation
import Kernel
import Replay
import Scenarios

/// `medallion-sim replay CAPTURE`: a capture of Kafka traffic through the
/// whole engine, checked without ground truth, with an incident report.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a capture of Kafka traffic through the pipeline and report when it fell behind, breached an SLA or dead-lettered data.",
        discussion: """
            Each PATH is recognized by its content: a capture in medallion-sim's JSON Lines (plain or zstd) or \
            compact format; Kafka log segments (a broker's `<topic>-<partition>/*.log`, or a directory of such \
            directories); or a Spark JSON export of Bronze (a directory of part files, plain, gzip or zstd). \
            Several PATHs are merged (e.g. the two exchange topics from different places). Writer schemas come \
            from the capture or from --schemas DIR (Schema Registry REST answers saved as JSON, or a `_schemas` \
            partition directory). Messages keep their partitions and offsets and become available at their \
            timestamps (see docs/REPLAY.md). Run settings use the scenario keys: --set jobs.silver_binance.trigger=30s, \
            --set seed=7, --set drain=20m, --set start=2026-01-20T09:00:00Z, --set duration=2h, \
            --set expect.alert_fires=false. Exit status: 0 checks hold, 1 a check failed, 2 bad capture or usage.
            """)

    @Argument(help: "Captures, Kafka log segment directories, Bronze exports (recognized by content).")
    var paths: [String]

    @Option(help: "Schema Registry export: a directory of REST answers (JSON) or a _schemas partition directory (repeatable).")
    var schemas: [String] = []

    @Option(name: .customLong("bronze-columns"), help: "Column names of a Bronze export, e.g. value=payload,offset=kafka_offset (fields: topic, partition, offset, timestamp, key, value).")
    var bronzeColumns: String?

    @Option(name: .customLong("set"), help: "Override a run setting, e.g. --set jobs.silver_binance.trigger=30s (repeatable).")
    var overrides: [String] = []

    @Option(help: "Time factor relative to the first message: 2 replays twice as fast, 0.5 half as fast.")
    var speed: String = "1"

    @Option(help: "Cost profile (scenarios/profiles/<name>.yaml); same as --set profile=NAME.")
    var profile: String?

    @Option(help: "Folder of cost profiles (default: scenarios/profiles; the production profile is built in).")
    var profiles: String?

    @OptionGroup var output: RunOutputOption
    @OptionGroup var scrape: ScrapeOption
    @OptionGroup var format: FormatOption

    static func parseSpeed(_ text: String) throws(InputError) -> Decimal8 {
        let d: Decimal8
        do { d = try Decimal8(parsing: text) } catch {
            throw InputError(file: "--speed", line: 0, problem: "'\(text)' is not a number (e.g. 2 or 0.5)")
        }
        guard d.units >= ReplayFeed.minSpeed.units, d.units <= ReplayFeed.maxSpeed.units else {
            throw InputError(file: "--speed", line: 0, problem: "must be at least \(ReplayFeed.minSpeed) and at most \(ReplayFeed.maxSpeed) (got \(text))")
        }
        return d
    }

    func run() throws {
        let speedFactor = try Self.parseSpeed(speed)
        let sets = (profile.map { ["profile=\($0)"] } ?? []) + overrides
        // Everything that can be wrong with the input is found before anything is reported.
        let columns = try bronzeColumns.map { (m: String) throws(InputError) in try BronzeColumns(mapping: m) } ?? BronzeColumns()
        let replay = try ReplayRunner.run(paths: paths, sources: ReplaySourceOptions(schemas: schemas, bronzeColumns: columns),
                                          speed: speedFactor, overrides: sets, profilesDirectory: profiles ?? "scenarios/profiles")
        let outcome = ReplayEvaluator.evaluate(replay, scrapeIntervalMicros: try scrape.micros())
        let source = "replay of " + paths.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        try output.write(summary: outcome.summary, tables: outcome.tables, progress: outcome.progress,
                         prometheus: { try outcome.writePrometheusFiles(to: $0, source: source) }, sqlite: outcome.writeSQLite(to:))
        switch format.format {
        case .text: printReplayText(outcome)
        case .json: print(outcome.summary.pretty, terminator: "")
        }
        if !outcome.passed {
            printError("checks failed; reproduce with: \(reproduceCommand(speed: speedFactor, sets: sets))")
            throw ChecksFailed()
        }
    }

    func reproduceCommand(speed: Decimal8, sets: [String]) -> String {
        (["medallion-sim", "replay"] + paths + schemas.flatMap { ["--schemas", $0] }
            + (bronzeColumns.map { ["--bronze-columns", $0] } ?? []) + (speed.units == Decimal8.unitsPerWhole ? [] : ["--speed", "\(speed)"])
            + sets.flatMap { ["--set", $0] } + (profiles.map { ["--profiles", $0] } ?? [])).map(shellQuoted).joined(separator: " ")
    }
}

func printReplayText(_ o: ReplayOutcome) {
    let f = o.run.feed, s = o.run.settings
    print("\(o.passed ? "PASS" : "FAIL")  replay of \(o.run.file): \(f.replayedMessages) messages, speed \(f.speedText), seed \(s.seed), profile \(s.profile)")
    print("  window   \(UTCDateTime(micros: s.startMicros).iso8601) + \(DurationParser.format(s.durationMicros)) + drain \(DurationParser.format(s.drainMicros))"
          + (f.firstMicros.map { "; messages \(UTCDateTime(micros: $0).iso8601)" } ?? "")
          + (f.lastMicros.map { " .. \(UTCDateTime(micros: $0).iso8601)" } ?? ""))
    for line in o.run.sources?.lines ?? [] { print("  " + line) }
    for t in f.ignoredTopics {
        print("  ignored  topic \(t.topic): \(t.messages) messages in \(t.partitions) partitions (replay feeds only \(ReplayFeed.replayedTopics.joined(separator: " and ")))")
    }
    if f.schemas.isEmpty { print("  note     the capture registers no schemas: every message goes to the DLQ as UNKNOWN_SCHEMA_ID") }
    if f.reorderedMessages > 0 {
        print("  note     \(f.reorderedMessages) messages made available after their timestamp to keep their partition's offset order")
    }
    for c in o.checks {
        print("  \(c.passed ? "ok  " : "FAIL") \(c.name)")
        if !c.passed { for d in c.details { print("         \(d)") } }
    }
    if let acc = o.summary["accounting"] {
        let v = { (k: String) -> String in acc[k].map { $0.compact } ?? "?" }
        print("  produced \(v("produced")) = gold \(v("gold")) + late \(v("late_dropped")) + duplicates \(v("duplicates_dropped")) + DLQ \(v("dlq")) + in flight \(v("in_flight"))")
    }
    if let byReason = o.oracle.figures["dlq"]?["by_reason"], case .object(let m) = byReason, !m.isEmpty {
        print("  DLQ by reason: " + m.keys.sorted().map { "\($0) \(m[$0]!.compact)" }.joined(separator: ", "))
    }
    printJobTable(o.oracle.jobs)
    if let sla = o.oracle.figures["sla"] {
        let silver = sla["silver_batch_processing_ms"], e2e = sla["end_to_end_ms"]
        print("  SLAs     silver p99 \(silver?["p99"]?.compact ?? "-") ms (< 60000: \(silver?["holds"]?.compact ?? "?")), end to end p99 \(e2e?["p99"]?.compact ?? "-") ms (< 300000: \(e2e?["holds"]?.compact ?? "?"))")
    }
    print("  incident report (virtual time):")
    for line in o.incident.lines { print("    " + line) }
}
