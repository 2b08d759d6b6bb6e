/// SplitMix64 (Steele, Lea, Flood 2014): used only to seed other generators and
/// to derive stream seeds. Reference: https://prng.di.unimi.it/splitmix64.c
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64
    public init(seed: UInt64) { state = seed }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman, Vigna 2018), seeded through SplitMix64 as its
/// authors recommend. Reference: https://prng.di.unimi.it/xoshiro256starstar.c
///
/// Every draw helper below uses only integer operations or IEEE-754 basic
/// arithmetic, so the same seed gives the same values on every platform.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    @usableFromInline var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inlinable public mutating func next() -> UInt64 {
        let result = Xoshiro256StarStar.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256StarStar.rotl(s3, 45)
        return result
    }
}

/// One named, independent stream of the run's randomness.
///
/// Streams are derived from (root seed, name) only, never from another
/// stream's position, so adding a component (a new stream name) never changes
/// the draws of an existing one.
public struct RandomStream: Sendable {
    public let name: String
    @usableFromInline var gen: Xoshiro256StarStar

    public init(rootSeed: UInt64, name: String) {
        self.name = name
        gen = Xoshiro256StarStar(seed: RandomStream.derive(rootSeed: rootSeed, name: name))
    }

    /// FNV-1a 64 of the UTF-8 name, mixed with the root seed through SplitMix64.
    public static func derive(rootSeed: UInt64, name: String) -> UInt64 {
        let h = FNV1a64.hash(name)
        var sm = SplitMix64(seed: rootSeed ^ h)
        _ = sm.next()
        return sm.next() ^ h
    }

    /// A child stream, e.g. `stream.child("BTCUSDT")`; independent of this one.
    public func child(_ suffix: String, rootSeed: UInt64) -> RandomStream {
        RandomStream(rootSeed: rootSeed, name: name + "/" + suffix)
    }

    @inlinable public mutating func nextUInt64() -> UInt64 { gen.next() }

    /// Uniform integer in 0..<bound, without modulo bias (Lemire's method).
    @inlinable public mutating func uniform(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var m = gen.next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t { m = gen.next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// Uniform integer in the closed range.
    @inlinable public mutating func uniform(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        if width == 0 { return Int64(bitPattern: gen.next()) }
        return range.lowerBound &+ Int64(bitPattern: uniform(below: width))
    }

    /// Uniform double in [0, 1) with 53 random bits (exact, platform independent).
    @inlinable public mutating func unitDouble() -> Double {
        Double(gen.next() >> 11) * 0x1.0p-53
    }

    /// Uniform double in (0, 1]: safe to take a logarithm of.
    @inlinable public mutating func unitDoubleOpenZero() -> Double {
        Double((gen.next() >> 11) + 1) * 0x1.0p-53
    }

    /// True with probability `p` (an exact integer ratio).
    @inlinable public mutating func chance(_ p: Ratio) -> Bool {
        if p.numerator == 0 { return false }
        if p.numerator >= p.denominator { return true }
        return uniform(below: p.denominator) < p.numerator
    }

    /// Picks an index with probability proportional to integer `weights`.
    public mutating func weightedIndex(_ weights: [UInt64]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "weights must not all be zero")
        var r = uniform(below: total)
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }

    /// Fills `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(count)
        while out.count < count {
            var w = gen.next()
            for _ in 0..<8 where out.count < count { out.append(UInt8(truncatingIfNeeded: w)); w >>= 8 }
        }
        return out
    }
}

/// The run's randomness: one root seed, split into named streams.
public struct RandomStreams: Sendable {
    public let rootSeed: UInt64
    public init(seed: UInt64) { rootSeed = seed }
    public func stream(_ name: String) -> RandomStream { RandomStream(rootSeed: rootSeed, name: name) }
}

/// A probability as an exact integer ratio (TigerBeetle's habit: no floats for odds).
public struct Ratio: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let numerator: UInt64
    public let denominator: UInt64
    public init(_ numerator: UInt64, _ denominator: UInt64) {
        precondition(denominator > 0, "a ratio needs a positive denominator")
        self.numerator = numerator; self.denominator = denominator
    }
    public static let never = Ratio(0, 1)
    public static let always = Ratio(1, 1)
    public static func percent(_ p: UInt64) -> Ratio { Ratio(p, 100) }
    public static func perMillion(_ p: UInt64) -> Ratio { Ratio(p, 1_000_000) }
    public var description: String { "\(numerator)/\(denominator)" }
}
