// libFuzzer target: a compact capture (after zstd), read and built into a
// replay. The magic is prepended so mutations explore the records.
import FuzzDriver
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureCompact(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    refusedCleanly {
        let c = try CompactCapture.decode(CompactCapture.magic + fuzzInput(data, size), file: "fuzz.mcap")
        _ = try ReplayFeed.build(c, file: "fuzz.mcap")
    }
}
