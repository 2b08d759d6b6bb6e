// libFuzzer target: a scenario file. Lines starting with `--set ` are taken
// out and applied as overrides, as the command line does.
import FuzzDriver
import Kernel
import Scenarios

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenario(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(validating: fuzzInput(data, size), as: UTF8.self) else { return 0 }  // the file reader refuses non-UTF-8
    var yaml: [Substring] = [], sets: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("--set ") { sets.append(String(line.dropFirst(6))) } else { yaml.append(line) }
    }
    return refusedCleanly {
        let s = try ScenarioParser.parse(yaml.joined(separator: "\n"), file: "fuzz.yaml", overrides: sets)
        precondition(s.durationMicros > 0 && s.durationMicros <= Limits.maxDuration)
        precondition(Limits.estimatedMessages(s) <= Limits.maxMessages)
    }
}
