import Testing
import Foundation
import Kernel
@testable import Checks

@Suite struct GoldenStoreTests {
    func tempRoot() -> String {
        let d = NSTemporaryDirectory() + "golden-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func artifacts(_ late: Int64, rows: [String]) -> RunArtifacts {
        RunArtifacts(summary: .object(["gold": .object(["late_dropped": .int(late), "rows": .int(Int64(rows.count))])]),
                     tables: [(name: "gold_crypto_trades", rows: rows)])
    }

    @Test func missingGoldenIsADifferenceNeverCreated() throws {
        let store = GoldenStore(root: tempRoot())
        let d = try store.compare(artifacts(0, rows: ["{}"]), scenario: "x")
        #expect(d.count == 1 && d[0].description.contains("medallion-sim bless x"))
        #expect(!FileManager.default.fileExists(atPath: store.directory(for: "x")))
    }

    @Test func blessThenCompareIsCleanAndChangesAreShownReadably() throws {
        let store = GoldenStore(root: tempRoot())
        let rows = (0..<10).map { #"{"id":\#($0)}"# }
        try store.bless(artifacts(2, rows: rows), scenario: "x")
        #expect(try store.compare(artifacts(2, rows: rows), scenario: "x").isEmpty)

        var changed = rows; changed.remove(at: 3); changed.append(#"{"id":99}"#)
        let diffs = try store.compare(artifacts(5, rows: changed), scenario: "x")
        let text = diffs.map(\.description).joined(separator: "\n")
        #expect(text.contains("golden gold.late_dropped: \"late_dropped\": 2,"))
        #expect(text.contains("run    gold.late_dropped: \"late_dropped\": 5,"))
        #expect(text.contains(#"- {"id":3}"#))
        #expect(text.contains(#"+ {"id":99}"#))
    }

    @Test func anInterruptedBlessLeavesTheOldGolden() throws {
        let root = tempRoot()
        let store = GoldenStore(root: root)
        let rows = [#"{"id":1}"#]
        try store.bless(artifacts(1, rows: rows), scenario: "x")
        // Simulate a bless that died between its two renames: the old golden is
        // parked and the new one never arrived.
        try FileManager.default.moveItem(atPath: root + "/x", toPath: root + "/.old-x")
        try FileManager.default.createDirectory(atPath: root + "/.staging-x", withIntermediateDirectories: true)
        #expect(store.exists("x"))
        #expect(try store.compare(artifacts(1, rows: rows), scenario: "x").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root + "/.staging-x"))
    }

    @Test func junitHasOneCasePerScenarioAndCheck() {
        var r = JUnitReport()
        r.cases = [.init(scenario: "a", check: "exactly_once", failure: nil),
                   .init(scenario: "a", check: "golden", failure: "summary <differs> & more"),
                   .init(scenario: "b", check: "exactly_once", failure: nil)]
        let xml = r.xml
        #expect(xml.contains(#"<testsuites name="medallion-sim" tests="3" failures="1">"#))
        #expect(xml.contains(#"<testcase classname="a" name="golden">"#))
        #expect(xml.contains("summary &lt;differs&gt; &amp; more"))
    }

    @Test func theLineDiffNamesEachMovedFigureGoldenFirst() {
        let golden = "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": 2\n  },\n  \"b\": 5\n}"
        let run = "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": 3\n  },\n  \"b\": 5,\n  \"c\": 6\n}"
        #expect(LineDiff.describe(golden: golden, run: run) == [
            "golden a.y: \"y\": 2", "run    a.y: \"y\": 3",
            "golden b: \"b\": 5", "run    b: \"b\": 5,", "run    c: \"c\": 6",
        ])
        #expect(LineDiff.describe(golden: golden, run: golden).isEmpty)
    }
}
