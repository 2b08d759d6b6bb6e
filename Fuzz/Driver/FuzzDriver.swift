// What every libFuzzer target of Fuzz/ shares: starting libFuzzer's driver
// from the target's entry point, the input as bytes, and the rule that bad
// input is refused with an InputError that says something.
import Kernel

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Runs libFuzzer with the process's arguments; it calls `target` with each input.
/// SwiftPM links an executable's entry point as `<Target>_main` (main is
/// defined as that symbol), so each target's Main.swift calls this from there.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var c = argc, v = argv
    return LLVMFuzzerRunDriver(&c, &v, target)
}

/// libFuzzer's input as bytes (it passes a null pointer for the empty input).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
}

/// Runs `body` on one input: it may succeed or refuse the input, but only
/// with an InputError carrying a message (a crash or trap is the finding).
public func refusedCleanly(_ body: () throws -> Void) -> CInt {
    do {
        try body()
    } catch let e as InputError {
        precondition(!e.description.isEmpty)
    } catch {
        preconditionFailure("refused with something other than an InputError: \(error)")
    }
    return 0
}
