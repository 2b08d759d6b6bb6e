/// Virtual time and durations are integer microseconds since the Unix epoch (UTC).
///
/// Integers, never floating point, so that every run on every machine agrees to
/// the microsecond. Names carry their unit last (`commitLatencyMicros`).
public typealias Micros = Int64

public enum Time {
    public static let microsPerMilli: Micros = 1_000
    public static let microsPerSecond: Micros = 1_000_000
    public static let microsPerMinute: Micros = 60_000_000
    public static let microsPerHour: Micros = 3_600_000_000
    public static let microsPerDay: Micros = 86_400_000_000

    @inlinable public static func seconds(_ s: Int64) -> Micros { s * microsPerSecond }
    @inlinable public static func millis(_ ms: Int64) -> Micros { ms * microsPerMilli }
    @inlinable public static func minutes(_ m: Int64) -> Micros { m * microsPerMinute }
    @inlinable public static func hours(_ h: Int64) -> Micros { h * microsPerHour }

    /// Floor division that rounds toward negative infinity (Swift's `/` truncates).
    @inlinable public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }
}

/// A civil date and time in UTC, computed with integer arithmetic only (no
/// Foundation calendars, so no time zone or locale can change the result).
public struct UTCDateTime: Equatable, Sendable {
    public var year: Int64
    public var month: Int64   // 1...12
    public var day: Int64     // 1...31
    public var hour: Int64    // 0...23
    public var minute: Int64
    public var second: Int64
    public var microsecond: Int64

    public init(micros: Micros) {
        let days = Time.floorDiv(micros, Time.microsPerDay)
        var rem = micros - days * Time.microsPerDay
        hour = rem / Time.microsPerHour; rem -= hour * Time.microsPerHour
        minute = rem / Time.microsPerMinute; rem -= minute * Time.microsPerMinute
        second = rem / Time.microsPerSecond; rem -= second * Time.microsPerSecond
        microsecond = rem
        (year, month, day) = UTCDateTime.civil(fromDays: days)
    }

    /// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
    public static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = Time.floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Howard Hinnant's `days_from_civil`: (y, m, d) to days since 1970-01-01.
    public static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = Time.floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Micros since the epoch for a UTC civil time.
    public static func micros(year: Int64, month: Int64, day: Int64,
                              hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0) -> Micros {
        days(fromCivil: year, month, day) * Time.microsPerDay
            + hour * Time.microsPerHour + minute * Time.microsPerMinute + second * Time.microsPerSecond
    }

    /// `2026-01-20`
    public var dateString: String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// `2026-01-20T09:00:00.000000Z` (always six fractional digits, so strings sort as times).
    public var iso8601: String {
        "\(dateString)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(microsecond, 6))Z"
    }

    private func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v < 0 ? -v : v)
        let body = s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        return v < 0 ? "-" + body : body
    }
}

/// Parsing of human durations: `90s`, `1h30m`, `250ms`, `2d`, `500us`, `0`.
public enum DurationParser {
    public struct Failure: Error, Equatable, CustomStringConvertible, Sendable {
        public let input: String
        public let problem: String
        public var description: String { "invalid duration '\(input)': \(problem)" }
    }

    /// Returns the duration in microseconds. Units: `d`, `h`, `m`, `s`, `ms`, `us`.
    /// Components must appear from largest to smallest, each at most once.
    public static func parse(_ text: String) throws(Failure) -> Micros {
        let input = text.trimmingSpaces()
        guard !input.isEmpty else { throw Failure(input: text, problem: "empty") }
        if input == "0" { return 0 }
        let units: [(String, Micros)] = [
            ("d", Time.microsPerDay), ("h", Time.microsPerHour), ("m", Time.microsPerMinute),
            ("s", Time.microsPerSecond), ("ms", Time.microsPerMilli), ("us", 1),
        ]
        var total: Micros = 0
        var lastRank = -1
        var chars = Array(input.utf8)[...]
        while !chars.isEmpty {
            var digits: Int64 = 0
            var nDigits = 0
            while let c = chars.first, c >= 48 && c <= 57 {
                let (m, o1) = digits.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
                guard !o1 && !o2 else { throw Failure(input: text, problem: "number too large") }
                digits = a; nDigits += 1; chars.removeFirst()
            }
            guard nDigits > 0 else {
                throw Failure(input: text, problem: "expected a number, e.g. 90s, 1h30m, 250ms")
            }
            var unit = ""
            while let c = chars.first, (c >= 97 && c <= 122) { unit.append(Character(UnicodeScalar(c))); chars.removeFirst() }
            guard let rank = units.firstIndex(where: { $0.0 == unit }) else {
                throw Failure(input: text, problem: unit.isEmpty
                    ? "missing unit (d, h, m, s, ms, us)" : "unknown unit '\(unit)' (use d, h, m, s, ms, us)")
            }
            guard rank > lastRank else {
                throw Failure(input: text, problem: "units must go from largest to smallest, each once")
            }
            lastRank = rank
            let (p, o1) = digits.multipliedReportingOverflow(by: units[rank].1)
            let (t, o2) = total.addingReportingOverflow(p)
            guard !o1 && !o2 else { throw Failure(input: text, problem: "duration too large") }
            total = t
        }
        return total
    }

    /// The shortest canonical spelling: `1h30m`, `250ms`, `0s`.
    public static func format(_ micros: Micros) -> String {
        if micros == 0 { return "0s" }
        var rest = micros < 0 ? -micros : micros
        var out = micros < 0 ? "-" : ""
        for (u, size) in [("d", Time.microsPerDay), ("h", Time.microsPerHour), ("m", Time.microsPerMinute),
                          ("s", Time.microsPerSecond), ("ms", Time.microsPerMilli), ("us", Int64(1))] {
            if rest >= size { out += "\(rest / size)\(u)"; rest %= size }
        }
        return out
    }
}

extension String {
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
