import Engine
import Foundation
import Kernel

/// `--out DIR` also writes `DIR/progress/<job>.jsonl`: every committed batch
/// of every job that ran, as Spark's `StreamingQueryProgress` JSON
/// (`SparkProgress`), one object a line, so the tools that read Spark's
/// progress (and `medallion-sim calibrate`) read a simulated run too.
public enum ProgressExport {
    /// (job, lines) for each job with at least one committed batch, in job order.
    public static func all(of p: Pipeline) -> [(job: String, lines: [String])] {
        JobName.everyQuery.compactMap { job in
            let lines = SparkProgress.lines(pipeline: p, job: job)
            return lines.isEmpty ? nil : (job.rawValue, lines)
        }
    }

    public static func write(_ progress: [(job: String, lines: [String])], to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/progress", withIntermediateDirectories: true)
        for (job, lines) in progress {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(dir)/progress/\(job).jsonl"))
        }
    }
}

extension ScenarioOutcome {
    public var progress: [(job: String, lines: [String])] { ProgressExport.all(of: pipeline) }
}

extension ReplayOutcome {
    public var progress: [(job: String, lines: [String])] { ProgressExport.all(of: run.pipeline) }
}
