import FuzzDriver

@_cdecl("FuzzCaptureJSONL_main")
public func fuzzCaptureJSONLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzCaptureJSONL(data, size) }
}
