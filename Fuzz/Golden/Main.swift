import FuzzDriver

@_cdecl("FuzzGolden_main")
public func fuzzGoldenMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzGolden(data, size) }
}
