import Testing
@testable import Kernel

@Suite struct RandomTests {
    // Reference values from the C reference implementations (prng.di.unimi.it):
    // splitmix64 seeded with 1234567.
    @Test func splitMix64MatchesReference() {
        var g = SplitMix64(seed: 1234567)
        #expect(g.next() == 6457827717110365317)
        #expect(g.next() == 3203168211198807973)
        #expect(g.next() == 9817491932198370423)
    }

    /// Pinned against the authors' reference C code (splitmix64.c seeding
    /// xoshiro256starstar.c, compiled apart from this project), not against
    /// this implementation: a change to either generator changes every run.
    @Test func xoshiroMatchesTheReferenceImplementation() {
        var sm = SplitMix64(seed: 0)
        #expect(sm.next() == 0xE220_A839_7B1D_CDAF)
        var a = Xoshiro256StarStar(seed: 42)
        #expect((0..<4).map { _ in a.next() } == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E,
                                                   0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1])
        var c = Xoshiro256StarStar(seed: 43)
        #expect(c.next() != 0x1578_0B2E_0C2E_C716)
    }

    @Test func namedStreamsAreIndependentOfEachOther() {
        let streams = RandomStreams(seed: 7)
        var x1 = streams.stream("exchange.binance")
        let first = (0..<4).map { _ in x1.nextUInt64() }
        // Drawing from another stream in between changes nothing.
        var y = streams.stream("exchange.kraken"); _ = y.nextUInt64()
        var x2 = streams.stream("exchange.binance")
        let second = (0..<4).map { _ in x2.nextUInt64() }
        #expect(second == first)
        var z = streams.stream("exchange.kraken")
        let other = z.nextUInt64()
        #expect(other != first[0])
    }

    /// Fixed expected values: if these change, every golden file changes.
    @Test func streamsAndUUIDsAreFixedForASeed() {
        var s = RandomStreams(seed: 2026).stream("test")
        let draws = (0..<3).map { _ in s.nextUInt64() }
        var again = RandomStreams(seed: 2026).stream("test")
        let redrawn = (0..<3).map { _ in again.nextUInt64() }
        #expect(redrawn == draws)
        var u = RandomStreams(seed: 2026).stream("uuid")
        let id = UUIDv4.make(&u)
        #expect(UUIDv4.isValid(id))
        #expect(id == expectedUUIDSeed2026)
        #expect(draws == expectedDrawsSeed2026)
    }

    @Test func uniformBelowStaysInRangeAndCoversIt() {
        var s = RandomStreams(seed: 1).stream("u")
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { seen[Int(s.uniform(below: 7))] += 1 }
        #expect(seen.allSatisfy { $0 > 850 && $0 < 1150 })
    }

    @Test func chanceFollowsTheRatio() {
        var s = RandomStreams(seed: 3).stream("c")
        let hits = (0..<100_000).filter { _ in s.chance(Ratio(1, 4)) }.count
        #expect(abs(hits - 25_000) < 600)
        let never = s.chance(.never), always = s.chance(.always)
        #expect(!never); #expect(always)
    }

    @Test func weightedIndexFollowsWeights() {
        var s = RandomStreams(seed: 9).stream("w")
        var counts = [0, 0, 0]
        for _ in 0..<60_000 { counts[s.weightedIndex([1, 2, 3])] += 1 }
        #expect(abs(counts[0] - 10_000) < 500 && abs(counts[2] - 30_000) < 700)
    }
}

// Pinned from this implementation (its SplitMix64 matches the reference C code,
// above). A change here is a change of every seeded output and every golden.
let expectedDrawsSeed2026: [UInt64] = [2679104012201978568, 16032164458087393346, 12516088281940635497]
let expectedUUIDSeed2026 = "b48735ac-4e01-41b0-9b51-55699aead0da"
