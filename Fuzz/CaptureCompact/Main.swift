import FuzzDriver

@_cdecl("FuzzCaptureCompact_main")
public func fuzzCaptureCompactMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzCaptureCompact(data, size) }
}
