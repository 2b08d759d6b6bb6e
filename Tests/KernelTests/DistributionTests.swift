import Testing
@testable import Kernel

@Suite struct DistributionTests {
    @Test func deterministicLogAndExpAreAccurate() {
        // Compared with known constants, not with libm (which is what we avoid).
        #expect(abs(DeterministicMath.log(2.718281828459045) - 1) < 1e-15)
        #expect(abs(DeterministicMath.log(10) - 2.302585092994046) < 1e-15)
        #expect(DeterministicMath.log(1) == 0)
        #expect(abs(DeterministicMath.exp(1) - 2.718281828459045) < 1e-15)
        #expect(abs(DeterministicMath.exp(-30) - 9.357622968840175e-14) < 1e-27)
        for x in stride(from: -20.0, through: 20.0, by: 0.37) {
            let rt = DeterministicMath.log(DeterministicMath.exp(x))
            #expect(abs(rt - x) < 1e-13 * max(1, abs(x)))
        }
    }

    @Test func exponentialMeanIsRight() {
        var s = RandomStreams(seed: 11).stream("e")
        let n = 200_000
        var sum: Int64 = 0
        for _ in 0..<n { sum += s.exponentialMicros(mean: 1_000_000) }
        let mean = Double(sum) / Double(n)
        #expect(abs(mean - 1_000_000) < 10_000)  // 1%: ~4.5 standard errors
    }

    @Test func poissonMeanAndVarianceAreRight() {
        var s = RandomStreams(seed: 12).stream("p")
        for lambda in [0.5, 4.0, 75.0] {
            let n = 50_000
            let xs = (0..<n).map { _ in Double(s.poisson(mean: lambda)) }
            let mean = xs.reduce(0, +) / Double(n)
            let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
            #expect(abs(mean - lambda) < 5 * (lambda / Double(n)).squareRoot())
            #expect(abs(variance / lambda - 1) < 0.05)
        }
    }

    @Test func logNormalMedianIsRight() {
        var s = RandomStreams(seed: 13).stream("l")
        var xs = (0..<20_001).map { _ in s.logNormalMicros(median: 500_000, sigma: 0.5) }
        xs.sort()
        #expect(abs(xs[10_000] - 500_000) < 10_000)
    }
}
