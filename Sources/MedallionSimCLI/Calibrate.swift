import ArgumentParser
import Engine
import Foundation
import Kernel
import Codec
import Planning
import Replay
import Scenarios

/// `medallion-sim calibrate LOG...` (docs/CALIBRATION.md): fits cost-profile
/// parameters to Spark progress logs and writes a profile.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a cost profile to Spark progress logs (JSON Lines, a recentProgress JSON array, or driver logs).",
        discussion: """
        Per query: start-up, per-batch overhead, per row read, per row written, per million state keys (stateful \
        queries) with 95% intervals and goodness of fit, and the checkpoint-commit distribution. A parameter the logs \
        cannot identify is named, with the reason, and gets no number. Queries other than --query are ignored (and \
        listed). Exit status: 0 fitted, 2 a bad log (file:line: problem) or usage.
        """)

    @Argument(help: "Progress logs: JSON Lines of StreamingQueryProgress, a JSON array of them, or Spark driver logs.")
    var logs: [String]

    @Option(help: "Fit only this query (by name); others are ignored and listed.")
    var query: String?

    @Option(help: "Write the fitted profile (scenarios/profiles format) to this file.")
    var out: String?

    @Option(help: "Write an HTML report with the fitted-against-observed and residual plots.")
    var html: String?

    @Option(name: .customLong("job"), help: "QUERY=JOB: which profile job a query's fit goes to (repeatable). Default: a query named like a job; silver -> silver_binance, gold -> gold.")
    var jobMap: [String] = []

    @Option(help: "The profile the fit is written over (its other jobs and keys are kept).")
    var base = "production"

    @Option(help: "Folder of cost profiles.")
    var profiles = "scenarios/profiles"

    @Option(help: "Name of the written profile (default: the --out file's name).")
    var name: String?

    @Option(name: .customLong("per-row"), help: "io: per-row costs are not divided by cores (I/O-bound); cpu: written per core so more cores divide them.")
    var perRow: String = "io"

    @Option(help: "executor_cores for the fitted jobs (default: the base profile's).")
    var cores: Int?

    @Option(name: .customLong("predict-capture"), help: "A held-out run's capture: predict the fitted queries' batches on its arrivals.")
    var predictCapture: String?

    @Option(name: .customLong("predict-log"), help: "The held-out run's real progress log, to compare the prediction with.")
    var predictLog: String?

    @Option(help: "The held-out run's trigger interval (with --predict-capture).")
    var trigger = "4s"

    @Option(help: "Headroom for the smallest-trigger search (with --predict-capture).")
    var headroom = "10s"

    @OptionGroup var format: FormatOption

    func run() throws {
        guard let kind = PerRowCost(rawValue: perRow) else {
            throw InputError(file: "--per-row", line: 0, problem: "expected io or cpu, got '\(perRow)'")
        }
        var jobs: [String: JobName] = [:]
        for m in jobMap {
            let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let j = JobName(rawValue: parts[1]), !j.isDlqQuery else {  // profiles hold the five
                throw InputError(file: "--job", line: 0, problem: "expected QUERY=JOB with JOB one of \(JobName.allCases.map(\.rawValue).joined(separator: ", ")), got '\(m)'")
            }
            jobs[parts[0]] = j
        }
        var records: [ProgressRecord] = []
        for path in logs {
            records += try ProgressLogReader.read(try readLog(path), file: path)
        }
        let result = try Calibrator.fit(records, query: query)
        for f in result.fits where jobs[f.name] == nil {
            if let j = JobName(rawValue: f.name) { jobs[f.name] = j }
            else if f.name.contains("gold") { jobs[f.name] = .gold }
            else if f.name.contains("silver") { jobs[f.name] = f.name.contains("kraken") ? .silverKraken : .silverBinance }
            else if f.name.contains("bronze") { jobs[f.name] = f.name.contains("kraken") ? .bronzeKraken : .bronzeBinance }
        }
        var profileNotes: [String] = []
        if let out {
            let baseProfile = try ProfileLoader.load(name: base, directory: profiles)
            let pname = name ?? URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent
            let (profile, notes) = result.profile(base: baseProfile, name: pname, jobs: jobs, perRow: kind, cores: cores)
            profileNotes = notes
            let header = ["Cost profile fitted by `medallion-sim calibrate` from: " + logs.joined(separator: " "),
                          "Jobs fitted: " + result.fits.compactMap { f in jobs[f.name].map { "\(f.name) -> \($0.rawValue)" } }.joined(separator: ", ")
                            + "; the other jobs are the '\(base)' profile's.",
                          "Per-row costs written as \(kind == .io ? "io_*_per_record (not divided by cores)" : "CPU work per core (divided by executor_cores)")."]
            try Data(ProfileWriter.yaml(profile, header: header).utf8).write(to: URL(fileURLWithPath: out))
        }
        if let html { try Data(result.html.utf8).write(to: URL(fileURLWithPath: html)) }
        var predictionText = ""
        var predictionJSON: [JSONValue] = []
        if let cap = predictCapture {
            guard let logPath = predictLog else {
                throw InputError(file: "--predict-log", line: 0, problem: "--predict-capture needs --predict-log (the run's real progress)")
            }
            let triggerMs: Int64, headroomMs: Int64
            do {
                triggerMs = try DurationParser.parse(trigger) / 1_000
                headroomMs = try DurationParser.parse(headroom) / 1_000
            } catch { throw InputError(file: "--trigger/--headroom", line: 0, problem: "\(error)") }
            let capture = try CaptureReader.load(path: cap)
            let real = try ProgressLogReader.read(try readLog(logPath), file: logPath)
            for f in result.fits {
                guard let c = Predictor.compare(fit: f, capture: capture, real: real, triggerMs: triggerMs) else {
                    throw InputError(file: logPath, line: 0, problem: "no executed batch of query '\(f.name)' to compare with")
                }
                let (r, p) = (c.real, c.predicted)
                let modelTrigger = Predictor.smallestTrigger(fit: f, arrivals: c.arrivals, startMs: c.startMs,
                                                             headroomMs: headroomMs, untilMs: c.untilMs)
                let mine = real.filter { $0.name == f.name && $0.executed }
                let realNeed = ((mine.dropFirst().map(\.batchDurationMs).max() ?? 0) + headroomMs + 999) / 1000 * 1000
                func err(_ a: Int64, _ b: Int64) -> String { b == 0 ? "n/a" : "\(Calibrator.fmt(Double(a - b) * 100 / Double(b), 1))%" }
                predictionText += "Prediction for \(f.name) on \(cap) (trigger \(trigger)), against \(logPath):\n"
                predictionText += "  batches after start-up  real \(r.batches)  predicted \(p.batches)\n"
                predictionText += "  p50 batch duration      real \(r.p50Ms) ms  predicted \(p.p50Ms) ms  (\(err(p.p50Ms, r.p50Ms)))\n"
                predictionText += "  p99 batch duration      real \(r.p99Ms) ms  predicted \(p.p99Ms) ms  (\(err(p.p99Ms, r.p99Ms)))\n"
                predictionText += "  batches behind          real \(r.behind)  predicted \(p.behind)\n"
                predictionText += "  keeps up                real \(r.keepsUp ? "yes" : "no")  predicted \(p.keepsUp ? "yes" : "no")\n"
                predictionText += "  smallest trigger with \(headroom) headroom: model \(modelTrigger.map { "\($0 / 1000)s" } ?? "> 10m"), real run's slowest batch + \(headroom): \(realNeed / 1000)s\n"
                predictionJSON.append(.object([
                    "query": .string(f.name), "trigger_ms": .int(triggerMs),
                    "real": .object(["batches": .int(r.batches), "p50_ms": .int(r.p50Ms), "p99_ms": .int(r.p99Ms),
                                     "behind": .int(r.behind), "keeps_up": .bool(r.keepsUp)]),
                    "predicted": .object(["batches": .int(p.batches), "p50_ms": .int(p.p50Ms), "p99_ms": .int(p.p99Ms),
                                          "behind": .int(p.behind), "keeps_up": .bool(p.keepsUp)]),
                    "smallest_trigger_ms": .optional(modelTrigger), "real_slowest_plus_headroom_ms": .int(realNeed),
                ]))
            }
        }
        switch format.format {
        case .text:
            print(result.text, terminator: "")
            for n in profileNotes { print("note: \(n)") }
            if let out { print("profile written to \(out)") }
            print(predictionText, terminator: "")
        case .json:
            var j = result.json
            if case .object(var o) = j, predictCapture != nil { o["predictions"] = .array(predictionJSON); j = .object(o) }
            print(j.pretty, terminator: "")
        }
    }

    /// A log file, plain or zstd-compressed.
    func readLog(_ path: String) throws(InputError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, line: 0, problem: "cannot open the log")
        }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
            do { return String(decoding: try ZstdFile.read(path), as: UTF8.self) } catch {
                throw InputError(file: path, line: 0, problem: "not a valid zstd file")
            }
        }
        guard let s = String(validatingUTF8: data) else { throw InputError(file: path, line: 0, problem: "not UTF-8 text") }
        return s
    }
}

extension String {
    init?(validatingUTF8 data: Data) {
        guard let s = String(data: data, encoding: .utf8) else { return nil }
        self = s
    }
}
