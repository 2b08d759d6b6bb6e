// libFuzzer target: a cost profile file.
import Engine
import FuzzDriver
import Kernel
import Scenarios

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(validating: fuzzInput(data, size), as: UTF8.self) else { return 0 }
    return refusedCleanly {
        let p = try ProfileLoader.parse(text, file: "fuzz.yaml")
        for job in JobName.allCases {
            let j = p.jobs[job]!
            precondition(j.decodeNanosPerRecord <= Limits.maxPerRecord * 1_000 && j.startupMicros <= Limits.maxProfileLatency)
        }
    }
}
