// libFuzzer target: a capture in JSON Lines, read and built into a replay
// (registry, topics, partitions, timing). Bad input must be an InputError.
import Kernel
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureJSONL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let c = try CaptureReader.parseJSONLines(bytes, file: "fuzz.jsonl")
        _ = try ReplayFeed.build(c, file: "fuzz.jsonl")
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
