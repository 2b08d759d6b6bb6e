// libFuzzer target: golden files. The input up to the first NUL is a
// summary.json, the rest a table file (as stored, zstd); both go through
// the comparison a `check` makes, against a fixed run.
#if canImport(Glibc)
import Glibc
#endif
import Checks
import FuzzDriver
import Kernel

nonisolated(unsafe) let root: String = {
    var t = Array("/tmp/fuzz-golden-XXXXXX".utf8CString)
    guard let p = mkdtemp(&t) else { fatalError("mkdtemp") }
    let dir = String(cString: p)
    mkdir(dir + "/x", 0o700); mkdir(dir + "/x/tables", 0o700)
    return dir
}()
nonisolated(unsafe) let run = RunArtifacts(summary: .object(["scenario": .string("x"), "rows": .int(2)]),
                                           tables: [(name: "t", rows: [#"{"a":1}"#, #"{"b":"ü"}"#])])

func write(_ bytes: ArraySlice<UInt8>, _ path: String) {
    guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGolden(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let cut = bytes.firstIndex(of: 0) ?? bytes.count
    let summary = bytes[..<cut], table = bytes[min(cut + 1, bytes.count)...]
    write(summary, root + "/x/summary.json")
    write(table, root + "/x/tables/t.jsonl.zst")
    _ = refusedCleanly { _ = try GoldenStore(root: root).compare(run, scenario: "x") }
    // The table text itself (as if decompressed), rows checked.
    return refusedCleanly { _ = try GoldenStore.tableRows(Array(table), path: "t") }
}
