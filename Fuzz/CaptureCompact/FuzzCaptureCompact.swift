// libFuzzer target: a compact capture (after zstd), read and built into a
// replay. The magic is prepended so mutations explore the records.
import Kernel
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureCompact(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = CompactCapture.magic + (size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    do {
        let c = try CompactCapture.decode(bytes, file: "fuzz.mcap")
        _ = try ReplayFeed.build(c, file: "fuzz.mcap")
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
