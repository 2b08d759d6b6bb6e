import Engine
import Kernel

/// Gold's dedup state (never evicted, so it only grows) holds one key per
/// accepted message id: the engine's key count after every committed Gold batch
/// equals the recomputation's. Its figures: the final size against executor
/// memory, and when the state would fill that memory at this run's key rate.
struct DedupState {
    static let name = "dedup_state"
    private(set) var problems: [String] = []
    private(set) var keys: Int64
    private(set) var bytes: Int64
    /// Hours until the state reaches executor memory at this run's key rate;
    /// when it did during the run, the whole hours from the feed's start until it did
    /// (the run's average rate would count the hours Gold stood still after it).
    private(set) var exhaustionHours: Int64?
    private(set) var figures: JSONValue = .null

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, _ model: GoldRecomputation) {
        let p = input.pipeline
        keys = Int64(model.accepted.count)
        let perKey = p.config.profile[.gold].stateBytesPerKey
        bytes = keys * perKey
        if let last = model.batches.last?.record, Int64(last.stateKeys) != keys {
            problems.append("the engine reports \(last.stateKeys) dedup keys, recomputed \(keys)")
        }
        for step in model.batches.dropLast() {
            if let want = step.stateKeysAfter, Int64(step.record.stateKeys) != want {
                problems.append("gold batch \(step.record.batchId): the engine reports \(step.record.stateKeys) dedup keys, recomputed \(want)")
            }
        }
        let memory = p.config.profile[.gold].executorMemoryBytes
        let feedMicros = max(1, input.feedEndMicros - input.feedStartMicros)
        if let x = p.stateExhaustion {
            exhaustionHours = max(0, x.timeMicros - input.feedStartMicros) / Time.microsPerHour
        } else if keys > 0 && perKey > 0 {
            let keysPerHour = keys * Time.microsPerHour / feedMicros
            if keysPerHour > 0 { exhaustionHours = memory / (perKey * keysPerHour) }
        }
        figures = .object(["keys": .int(keys), "bytes": .int(bytes),
                           "executor_memory_bytes": .int(memory),
                           "hours_until_memory_exhausted_at_this_rate": .optional(exhaustionHours),
                           "exhausted_during_run": .bool(p.stateExhaustion != nil)])
    }
}
