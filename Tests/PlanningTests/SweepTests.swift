import Engine
import Kernel
@testable import Planning
import Testing

@Suite struct SweepTests {
    @Test func cartesianProductIsNestedLoopsFirstSweepSlowest() throws {
        let sweeps = [try Sweep.parse("a=1,2"), try Sweep.parse("b=x,y,z")]
        let points = CartesianProduct.points(sweeps)
        #expect(points.map { $0.overrides.joined(separator: " ") } == [
            "a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z",
        ])
        #expect(points.map(\.index) == Array(0..<6))
        #expect(CartesianProduct.count(sweeps) == 6)
    }

    @Test func threeSweepsAndNone() throws {
        let sweeps = try ["a=1,2", "b=x", "c=p,q"].map { try Sweep.parse($0) }
        #expect(CartesianProduct.points(sweeps).map { $0.assignments.map(\.value).joined() } == ["1xp", "1xq", "2xp", "2xq"])
        let none = CartesianProduct.points([])
        #expect(none.count == 1 && none[0].assignments.isEmpty)
    }

    @Test func parseKeepsBracketedCommasAndTrimsSpaces() throws {
        let s = try Sweep.parse("exchanges.binance.symbols=[BTCUSDT,ETHUSDT], [BTCUSDT]")
        #expect(s.key == "exchanges.binance.symbols")
        #expect(s.values == ["[BTCUSDT,ETHUSDT]", "[BTCUSDT]"])
        #expect(try Sweep.parse("jobs.gold.trigger=30s").triggerJob == "gold")
        #expect(try Sweep.parse("exchanges.kraken.rate_multiplier=1,2").isTrafficLevel)
    }

    @Test(arguments: ["no-equals", "=1,2", "a=1,,2", "a=1,1", "a..b=1", "a=[1,2"])
    func parseRefuses(_ text: String) {
        #expect(throws: InputError.self) { try Sweep.parse(text) }
    }

    @Test func planRefusesAKeySweptTwiceOrBothSetAndSwept() {
        #expect(throws: InputError.self) { try Fixture.plan(sweeps: ["jobs.gold.trigger=30s", "jobs.gold.trigger=60s"]) }
        #expect(throws: InputError.self) { try Fixture.plan(overrides: ["jobs.silver_binance.trigger=30s"]) }
    }

    @Test func planValidatesEveryPointUpFront() {
        // The second value is no duration: the plan fails before anything runs, naming the key.
        do {
            _ = try Fixture.plan(sweeps: ["jobs.silver_binance.trigger=30s,banana"])
            Issue.record("expected an InputError")
        } catch let e as InputError {
            #expect(e.description.contains("trigger") || e.description.contains("banana"), "\(e)")
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: InputError.self) { try Fixture.plan(sweeps: ["jobs.silver_binance.triger=30s"]) }
    }

    @Test func headroomAppliesToSweptTriggersOrExplicitJobs() throws {
        let p = try Fixture.plan()
        #expect(p.definition.headroomMicros == [.silverBinance: 20 * Time.microsPerSecond])
        let q = try Fixture.plan(headroom: ["15s", "gold=25s"])
        #expect(q.definition.headroomMicros == [.silverBinance: 15 * Time.microsPerSecond, .gold: 25 * Time.microsPerSecond])
        // No trigger swept: every job whose trigger exceeds the headroom (all but the 10 s bronze_binance).
        let r = try Fixture.plan(sweeps: ["exchanges.binance.rate_multiplier=0.05"], headroom: ["25s"])
        #expect(Set(r.definition.headroomMicros.keys) == [.bronzeKraken, .silverBinance, .silverKraken, .gold])
        #expect(throws: InputError.self) { try HeadroomOption.parse(["nojob=5s"]) }
        #expect(throws: InputError.self) { try HeadroomOption.parse(["fast"]) }
    }

    @Test func chartJobDefaultsToTheFirstSweptTrigger() throws {
        #expect(try Fixture.plan(sweeps: ["jobs.gold.trigger=60s", "jobs.silver_kraken.trigger=30s"]).definition.chartJob == .gold)
        #expect(try Fixture.plan(sweeps: ["exchanges.binance.rate_multiplier=0.05"]).definition.chartJob == .silverBinance)
    }
}
