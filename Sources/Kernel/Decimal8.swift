/// An exact decimal with scale 8 — Avro/Spark `decimal(18,8)` — held as a scaled
/// 64-bit integer: `units` = value x 10^8. Never binary floating point.
///
/// The type can hold any Int64 of units so that invalid data (over precision)
/// can be represented and rejected by validation; `isWithinPrecision` says
/// whether the value fits decimal(18,8), i.e. |units| < 10^18.
public struct Decimal8: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let scale = 8
    public static let unitsPerWhole: Int64 = 100_000_000
    public static let precisionLimitUnits: Int64 = 1_000_000_000_000_000_000  // 10^18

    public var units: Int64
    public init(units: Int64) { self.units = units }
    public static let zero = Decimal8(units: 0)

    public static func < (a: Decimal8, b: Decimal8) -> Bool { a.units < b.units }

    public var isWithinPrecision: Bool {
        units > -Decimal8.precisionLimitUnits && units < Decimal8.precisionLimitUnits
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible, Sendable {
        public let input: String
        public let problem: String
        public var description: String { "invalid decimal '\(input)': \(problem)" }
    }

    /// Parses `123`, `-0.5`, `65000.12345678`. More than 8 fractional digits or
    /// more than 18 significant digits is an error, never a rounding.
    public init(parsing text: String) throws(ParseError) {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let f = bytes.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
            negative = f == UInt8(ascii: "-"); bytes.removeFirst()
        }
        var intPart: Int64 = 0, intDigits = 0, fracPart: Int64 = 0, fracDigits = 0
        var seenDot = false
        for c in bytes {
            if c == UInt8(ascii: ".") {
                guard !seenDot else { throw ParseError(input: text, problem: "two decimal points") }
                seenDot = true; continue
            }
            guard c >= 48 && c <= 57 else { throw ParseError(input: text, problem: "unexpected character") }
            let d = Int64(c - 48)
            if seenDot {
                fracDigits += 1
                guard fracDigits <= 8 else { throw ParseError(input: text, problem: "more than 8 decimal places") }
                fracPart = fracPart * 10 + d
            } else {
                intDigits += 1
                intPart = intPart * 10 + d
                guard intPart < 10_000_000_000 else {
                    throw ParseError(input: text, problem: "more than 10 integer digits (decimal(18,8))")
                }
            }
        }
        guard intDigits + fracDigits > 0 else { throw ParseError(input: text, problem: "no digits") }
        for _ in fracDigits..<8 { fracPart *= 10 }
        let u = intPart * Decimal8.unitsPerWhole + fracPart
        self.units = negative ? -u : u
    }

    /// Always 8 fractional digits, as Spark prints decimal(18,8): `65000.12000000`.
    public var description: String {
        let neg = units < 0
        let mag = units.magnitude
        let whole = mag / UInt64(Decimal8.unitsPerWhole)
        let frac = String(mag % UInt64(Decimal8.unitsPerWhole))
        return (neg ? "-" : "") + "\(whole)." + String(repeating: "0", count: 8 - frac.count) + frac
    }

    /// Avro decimal bytes: the unscaled value as big-endian two's complement,
    /// in the fewest bytes that keep the sign (Java's BigInteger.toByteArray).
    public var avroBytes: [UInt8] {
        var n = 8
        while n > 1 {
            let top = UInt8(truncatingIfNeeded: units >> ((n - 1) * 8))
            let next = UInt8(truncatingIfNeeded: units >> ((n - 2) * 8))
            if (top == 0x00 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) { n -= 1 } else { break }
        }
        return (0..<n).map { UInt8(truncatingIfNeeded: units >> ((n - 1 - $0) * 8)) }
    }

    /// Inverse of `avroBytes`. Returns nil when the bytes are empty or the value
    /// does not fit 64 bits (which is over decimal(18,8) precision anyway).
    /// Read in place (every Avro decimal of every decoded trade passes here).
    @inlinable
    public init?(avroBytes b: some Collection<UInt8>) {
        guard let first = b.first else { return nil }
        let fill: UInt8 = first & 0x80 != 0 ? 0xFF : 0x00
        // Sign-extension bytes beyond the last 8 are harmless: each must be
        // `fill` and leave the sign unchanged (the byte after it has fill's
        // top bit); anything else overflows.
        let drop = Swift.max(0, b.count - 8)
        var v: Int64 = first & 0x80 != 0 ? -1 : 0
        var i = 0
        for byte in b {
            if i < drop && byte != fill { return nil }
            if i >= 1 && i <= drop && byte & 0x80 != fill & 0x80 { return nil }
            if i >= drop { v = (v << 8) | Int64(byte) }
            i += 1
        }
        self.units = v
    }
}

/// Random (version 4) UUIDs drawn from a seeded stream: deterministic per seed.
public enum UUIDv4 {
    /// Lower-case canonical form `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    public static func make(_ rng: inout RandomStream) -> String {
        let hi = rng.nextUInt64(), lo = rng.nextUInt64()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * i)) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * i)) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex: [Character] = Array("0123456789abcdef")
        var s = ""; s.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s.append("-") }
            s.append(hex[Int(b >> 4)]); s.append(hex[Int(b & 0x0F)])
        }
        return s
    }

    /// True for a canonical lower- or upper-case version-4 UUID string.
    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 { if c != UInt8(ascii: "-") { return false }; continue }
            let isHex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
            if !isHex { return false }
        }
        guard u[14] == UInt8(ascii: "4") else { return false }
        let v = u[19] | 0x20
        return v == UInt8(ascii: "8") || v == UInt8(ascii: "9") || v == UInt8(ascii: "a") || v == UInt8(ascii: "b")
    }
}
