import Engine
import Kernel

/// Writes a `CostProfile` in the `scenarios/profiles` format that
/// `ProfileLoader` reads (every job, every key; the optional keys only when
/// not zero). Costs are written in whole microseconds.
public enum ProfileWriter {
    public static func yaml(_ p: CostProfile, header: [String] = []) -> String {
        var s = header.map { "# " + $0 + "\n" }.joined()
        s += "name: \(p.name)\njobs:\n"
        func d(_ micros: Int64) -> String { DurationParser.format(micros) }
        func ns(_ n: Int64) -> String { "\(n / 1_000)us" }
        for job in JobName.allCases {
            let j = p[job]
            s += "  \(job.rawValue):\n"
            s += "    startup: \(d(j.startupMicros))\n"
            s += "    batch_overhead: \(d(j.batchOverheadMicros))\n"
            s += "    decode_per_record: \(ns(j.decodeNanosPerRecord))\n"
            s += "    validate_per_record: \(ns(j.validateNanosPerRecord))\n"
            s += "    write_per_record: \(ns(j.writeNanosPerRecord))\n"
            if j.ioReadNanosPerRecord != 0 { s += "    io_read_per_record: \(ns(j.ioReadNanosPerRecord))\n" }
            if j.ioWriteNanosPerRecord != 0 { s += "    io_write_per_record: \(ns(j.ioWriteNanosPerRecord))\n" }
            if j.statePerMillionKeysMicros != 0 { s += "    state_per_million_keys: \(d(j.statePerMillionKeysMicros))\n" }
            s += "    executor_cores: \(j.executorCores)\n"
            s += "    commit_latency_median: \(d(j.commitLatency.medianMicros))\n"
            let sigmaUnits = Int64((j.commitLatency.sigma * 100).rounded())
            s += "    commit_latency_sigma: \(sigmaUnits / 100).\(String(format2: sigmaUnits % 100))\n"
            s += "    commit_latency_max: \(d(j.commitLatency.maxMicros ?? 60 * Time.microsPerSecond))\n"
            s += "    state_bytes_per_key: \(j.stateBytesPerKey)\n"
            s += "    executor_memory_mib: \(j.executorMemoryBytes / 1_048_576)\n"
            s += "    restart_delay: \(d(j.restartDelayMicros))\n"
        }
        return s
    }
}

extension String {
    init(format2 v: Int64) { self = v < 10 ? "0\(v)" : "\(v)" }
}
