import ArgumentParser
import Foundation
import Kernel
import Planning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `medallion-sim` command (docs/REFERENCE.md §8). Exit status: 0 all checks hold,
/// 1 a check or golden comparison failed, 2 bad input or usage.
struct MedallionSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medallion-sim",
        abstract: "Deterministic simulation and replay of a Kafka -> Spark -> Iceberg medallion pipeline.",
        discussion: "Exit status: 0 all checks hold, 1 a check or golden comparison failed, 2 bad input or usage.",
        subcommands: [Run.self, Check.self, Bless.self, WhatIf.self, WhatIfMerge.self, Explore.self, ReplayCommand.self, RecordCommand.self, Calibrate.self, Bench.self]
    )
}

/// `medallion-sim bench ...`: release-build throughput figures.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (use a release build).",
        subcommands: [BenchCodec.self, BenchExchanges.self, BenchEngine.self, BenchWhatIf.self, BenchReplay.self, BenchSources.self, BenchCalibrate.self]
    )
}

/// What the traffic benchmarks (engine, replay, sources) share: the output
/// format, the hours of production-rate traffic and the root seed.
struct BenchTraffic: ParsableArguments {
    @OptionGroup var output: FormatOption

    @Option(help: "Hours of production-rate traffic (Binance ~60/s, Kraken ~2/s: about 227 k messages an hour). Default and bound: engine 24 of 168, replay 5 of 168, sources 2 of 48.")
    var hours: Int?

    @Option(help: "Root seed of the traffic (and of the engine or the replay).")
    var seed: UInt64 = 1

    func check(hours h: Int, max: Int) throws {
        guard (1...max).contains(h) else { throw ValidationError("--hours must be between 1 and \(max) (got \(h)).") }
    }
}

/// A benchmark figure with exactly `digits` decimals (`2.50`), rounded.
func fixedDecimals(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = Int64((x * scale).rounded())
    let whole = v / Int64(scale), frac = String(v % Int64(scale))
    return "\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
}

/// Named exit statuses of the command-line contract.
enum Exit {
    static let ok: Int32 = 0
    static let checkFailed: Int32 = 1
    static let badInput: Int32 = 2
}

/// Thrown by a command whose checks failed (its report is already printed).
struct ChecksFailed: Error {}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

struct FormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text
}

/// `--shard I/N` and `--shards N` (or the test runners' sharding variables):
/// which of a command's runs (explore) or points (whatif) this process makes.
struct ShardOptions: ParsableArguments {
    @Option(help: "Run only shard I of N: the runs (whatif: points) whose index % N == I.")
    var shard: String?

    @Option(help: "Shard count for a Kubernetes indexed job (JOB_COMPLETION_INDEX gives the index).")
    var shards: Int?

    func validate() throws {
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
    }

    /// The shard this process runs. Bazel: touching its status file says "this test shards".
    func selection() throws -> ShardSelection {
        let s = try ShardSelection.resolve(option: shard, shards: shards, environment: ProcessInfo.processInfo.environment)
        if let status = s.statusFile { try writeFileAtomically(status, "") }
        return s
    }
}

/// How often the simulated Prometheus scrapes the jobs (`--scrape-interval 15s`).
struct ScrapeOption: ParsableArguments {
    @Option(name: .long, help: "Prometheus scrape interval for metrics.om and the alert (a duration, e.g. 15s).")
    var scrapeInterval = "15s"

    func micros() throws -> Micros {
        let m: Micros
        do { m = try DurationParser.parse(scrapeInterval) } catch {
            throw InputError(file: "--scrape-interval", line: 0, problem: "'\(scrapeInterval)' is not a duration (e.g. 15s)")
        }
        guard m >= Time.microsPerSecond, m <= Time.microsPerHour, m % Time.microsPerMilli == 0 else {
            throw InputError(file: "--scrape-interval", line: 0, problem: "must be between 1s and 1h (got \(scrapeInterval))")
        }
        return m
    }
}

func printError(_ s: String) {
    let line = s.hasSuffix("\n") ? s : s + "\n"
    // Unbuffered write to fd 2: Glibc's `stderr` global is not concurrency-safe in Swift 6.
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

@main
enum Main {
    static func main() {
        do {
            var command = try MedallionSim.parseAsRoot()
            Progress.install()
            try command.run()
            exit(Exit.ok)
        } catch let e as InputError {
            printError("error: \(e)")
            exit(Exit.badInput)
        } catch is ChecksFailed {
            exit(Exit.checkFailed)
        } catch {
            let code = MedallionSim.exitCode(for: error)
            let message = MedallionSim.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(Exit.ok)
            }
            if !message.isEmpty { printError(message) }
            // ArgumentParser reports usage and validation errors as 64 (EX_USAGE);
            // the contract says 2.
            exit(code == .validationFailure ? Exit.badInput : code.rawValue == 1 ? Exit.checkFailed : Exit.badInput)
        }
    }
}

/// Progress of long runs on standard error — a bar when it is a terminal,
/// nothing otherwise — and Ctrl-C: the run stops at the engine's next
/// checkpoint (between slices of virtual time, never while a file is being
/// written), says so, and exits 130 having written nothing more.
enum Progress {
    nonisolated(unsafe) static var lastShown = -1
    nonisolated(unsafe) static var shownAt: Micros = 0

    static func install() {
        RunControl.installInterruptHandler()
        let terminal = isatty(2) != 0
        RunControl.observer = { done, total in
            if RunControl.isInterrupted {
                if terminal { printError("") }
                printError("interrupted (Ctrl-C) at \(DurationParser.format(max(0, done))) of \(DurationParser.format(total)) of virtual time; stopped cleanly, nothing more written")
                exit(130)
            }
            guard terminal, total > 0 else { return }
            let percent = Int(min(100, max(0, done * 100 / total)))
            guard percent != lastShown else { return }
            lastShown = percent
            let width = 30, filled = percent * width / 100
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            // Carriage return, no newline: the bar redraws in place; cleared at 100%.
            let line = percent >= 100 ? "\r\u{1B}[K" : "\r[\(bar)] \(percent)% of \(DurationParser.format(total)) virtual"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            if percent >= 100 { lastShown = -1 }
        }
    }
}
