/// Transcendental functions built only from IEEE-754 basic operations (+ - * /
/// and sqrt, which are correctly rounded everywhere), so their results are
/// bit-identical on every platform. libm's `log`/`exp` are not guaranteed to be.
public enum DeterministicMath {
    static let ln2: Double = 0.693_147_180_559_945_3
    static let sqrtHalf: Double = 0.707_106_781_186_547_6

    /// Natural logarithm for x > 0.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log needs a positive finite argument")
        // x = m * 2^e with m in [sqrt(1/2), sqrt(2)).
        var e = Int(x.exponent)
        var m = x.significand  // [1, 2)
        if m > 1.0 / sqrtHalf { m *= 0.5; e += 1 }
        // log(m) = 2 atanh(z), z = (m-1)/(m+1), |z| <= 0.1716.
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var term = z
        var sum = 0.0
        var k = 1.0
        for _ in 0..<24 {
            sum += term / k
            term *= z2
            k += 2
        }
        return 2 * sum + Double(e) * ln2
    }

    /// e^x, for x in a range where the result is finite.
    public static func exp(_ x: Double) -> Double {
        if x < -745 { return 0 }
        precondition(x < 709, "exp overflow")
        // x = k ln2 + r, |r| <= ln2/2.
        let k = (x / ln2).rounded(.toNearestOrEven)
        let r = x - k * ln2
        var term = 1.0
        var sum = 1.0
        for i in 1...27 {
            term *= r / Double(i)
            sum += term
        }
        return sum * pow2(Int(k))
    }

    /// 2^k exactly.
    static func pow2(_ k: Int) -> Double {
        Double(sign: .plus, exponent: k, significand: 1.0)
    }
}

extension RandomStream {
    /// Exponential with the given mean, in whole microseconds (quantized, so the
    /// value that reaches any output is an integer).
    public mutating func exponentialMicros(mean: Micros) -> Micros {
        if mean <= 0 { return 0 }
        let u = unitDoubleOpenZero()
        let v = -DeterministicMath.log(u) * Double(mean)
        return Micros(v.rounded(.toNearestOrEven))
    }

    /// Standard normal, Marsaglia's polar method (log and sqrt only).
    public mutating func standardNormal() -> Double {
        while true {
            let a = 2 * unitDouble() - 1
            let b = 2 * unitDouble() - 1
            let s = a * a + b * b
            if s > 0 && s < 1 {
                return a * (-2 * DeterministicMath.log(s) / s).squareRoot()
            }
        }
    }

    /// Log-normal: exp(mu + sigma * N(0,1)).
    public mutating func logNormal(mu: Double, sigma: Double) -> Double {
        DeterministicMath.exp(mu + sigma * standardNormal())
    }

    /// Log-normal with a given median (in micros) and shape sigma, quantized to micros.
    public mutating func logNormalMicros(median: Micros, sigma: Double) -> Micros {
        if median <= 0 { return 0 }
        let v = Double(median) * DeterministicMath.exp(sigma * standardNormal())
        return Micros(v.rounded(.toNearestOrEven))
    }

    /// Poisson with mean `lambda` (Knuth's method, in chunks of at most 30 so
    /// e^-lambda never underflows; Poisson counts add).
    public mutating func poisson(mean lambda: Double) -> Int64 {
        precondition(lambda >= 0 && lambda.isFinite)
        var remaining = lambda
        var total: Int64 = 0
        while remaining > 0 {
            let chunk = Swift.min(remaining, 30)
            remaining -= chunk
            let limit = DeterministicMath.exp(-chunk)
            var p = 1.0
            var k: Int64 = -1
            repeat { k += 1; p *= unitDouble() } while p > limit
            total += k
        }
        return total
    }
}
