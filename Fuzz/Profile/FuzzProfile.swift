// libFuzzer target: a cost profile file.
import Engine
import Kernel
import Scenarios

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let p = try ProfileLoader.parse(text, file: "fuzz.yaml")
        for job in JobName.allCases {
            let j = p.jobs[job]!
            precondition(j.decodeNanosPerRecord <= Limits.maxPerRecord * 1_000 && j.startupMicros <= Limits.maxProfileLatency)
        }
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
