// libFuzzer target: a capture in JSON Lines, read and built into a replay
// (registry, topics, partitions, timing). Bad input must be an InputError.
import FuzzDriver
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureJSONL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    refusedCleanly {
        let c = try CaptureReader.parseJSONLines(fuzzInput(data, size), file: "fuzz.jsonl")
        _ = try ReplayFeed.build(c, file: "fuzz.jsonl")
    }
}
