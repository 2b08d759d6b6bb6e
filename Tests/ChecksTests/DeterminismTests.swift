import Testing
import Foundation
import Kernel
import Scenarios
@testable import Checks

/// Same scenario and seed, same bytes — also under another time zone. (The
/// whole library, across time zones, locales and working directories, is
/// checked by scripts/determinism.sh.)
@Suite(.serialized) struct DeterminismTests {
    func outcome() throws -> ScenarioOutcome {
        let s = try ScenarioParser.parse(ChecksCanFailTests.yaml, file: "small.yaml")
        return ScenarioEvaluator.evaluate(try ScenarioRunner.run(s, profilesDirectory: ChecksCanFailTests.root + "/scenarios/profiles"))
    }

    @Test func twoRunsGiveTheSameBytesInAnyTimeZone() throws {
        let a = try outcome()
        let saved = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", "Asia/Kathmandu", 1); tzset()
        defer { if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }; tzset() }
        let b = try outcome()
        #expect(a.summary.pretty == b.summary.pretty)
        #expect(a.tables.map(\.rows) == b.tables.map(\.rows))
        #expect(a.tables.reduce(0) { $0 + $1.rows.count } > 1_000)
        // A different seed is a different run.
        let s = try ScenarioParser.parse(ChecksCanFailTests.yaml, file: "small.yaml", overrides: ["seed=4243"])
        let c = ScenarioEvaluator.evaluate(try ScenarioRunner.run(s, profilesDirectory: ChecksCanFailTests.root + "/scenarios/profiles"))
        #expect(c.tables.map(\.rows) != a.tables.map(\.rows))
    }
}
