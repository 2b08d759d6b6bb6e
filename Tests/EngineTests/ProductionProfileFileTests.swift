import Foundation
import Kernel
import Testing
import TestSupport
@testable import Engine

/// `scenarios/profiles/production.yaml` and `CostProfile.production` agree
/// (the lead's scenario module loads the file; the engine's tests use the
/// constant). The file is flat enough to read here without a YAML library.
@Suite struct ProductionProfileFileTests {
    static func readProfile() throws -> [String: [String: String]] {
        let text = try String(contentsOfFile: Repository.path("scenarios/profiles/production.yaml"), encoding: .utf8)
        var jobs: [String: [String: String]] = [:]
        var job: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let indent = line.prefix { $0 == " " }.count
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if indent == 2 { job = parts[0]; jobs[parts[0]] = [:] }
            if indent == 4, let j = job { jobs[j]![parts[0]] = parts[1] }
        }
        return jobs
    }

    @Test func fileAndConstantHoldTheSameNumbers() throws {
        let file = try Self.readProfile()
        #expect(Set(file.keys) == Set(JobName.allCases.map(\.rawValue)))
        for job in JobName.allCases {
            let f = file[job.rawValue]!
            let p = CostProfile.production[job]
            func d(_ k: String) throws -> Micros { try DurationParser.parse(f[k]!) }
            #expect(try d("startup") == p.startupMicros, "\(job)")
            #expect(try d("batch_overhead") == p.batchOverheadMicros, "\(job)")
            #expect(try d("decode_per_record") * 1_000 == p.decodeNanosPerRecord, "\(job)")
            #expect(try d("validate_per_record") * 1_000 == p.validateNanosPerRecord, "\(job)")
            #expect(try d("write_per_record") * 1_000 == p.writeNanosPerRecord, "\(job)")
            #expect(Int(f["executor_cores"]!) == p.executorCores, "\(job)")
            #expect(try d("commit_latency_median") == p.commitLatency.medianMicros, "\(job)")
            #expect(Double(f["commit_latency_sigma"]!) == p.commitLatency.sigma, "\(job)")
            #expect(try d("commit_latency_max") == p.commitLatency.maxMicros, "\(job)")
            #expect(Int64(f["state_bytes_per_key"]!) == p.stateBytesPerKey, "\(job)")
            #expect(Int64(f["executor_memory_mib"]!)! << 20 == p.executorMemoryBytes, "\(job)")
            #expect(try d("restart_delay") == p.restartDelayMicros, "\(job)")
        }
    }
}
