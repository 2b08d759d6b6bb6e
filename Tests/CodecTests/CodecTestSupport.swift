import Kernel
import TestSupport
@testable import Codec
#if canImport(Glibc)
import Glibc
#endif

/// Test-side Avro binary writer, written from the Avro specification
/// (https://avro.apache.org/docs/1.11.1/specification/#binary-encoding)
/// independently of the codec, to build payloads the encoder cannot.
enum SpecAvro {
    static func long(_ n: Int64) -> [UInt8] { avroLong(n) }
    static func string(_ s: String) -> [UInt8] { long(Int64(s.utf8.count)) + Array(s.utf8) }
    static func bytes(_ b: [UInt8]) -> [UInt8] { long(Int64(b.count)) + b }
    static func header(_ id: Int32) -> [UInt8] { WireFormat.frame(schemaId: id, body: []) }
}

enum Samples {
    static let ingest: Micros = 1_768_899_600_000_000  // 2026-01-20T09:00:00Z

    /// A trade exercising every field shape: optional fields present or not,
    /// empty or full arrays and maps, negative and extreme decimals.
    static func trade(_ rng: inout RandomStream) -> Trade {
        let kraken = rng.chance(.percent(50))
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.uniform(below: UInt64(xs.count)))] }
        let units: [Int64] = [1, 99, 6_500_012_000_000, 999_999_999_999_999_999, -1, -50_000_000,
                              -999_999_999_999_999_999, 0, 127, 128, -128, -129, 32_767, 32_768]
        var t = Trade(
            messageId: UUIDv4.make(&rng), tradeId: String(rng.uniform(in: 0...9_999_999_999)),
            symbol: kraken ? pick(["BTC/USD", "ETH/EUR", "SOL/USD"]) : pick(["BTCUSDT", "ETHUSDT", "SOLBTC"]),
            exchange: kraken ? "KRAKEN" : "BINANCE",
            timestampMicros: ingest - rng.uniform(in: 0...5_000_000),
            price: Decimal8(units: rng.chance(.percent(30)) ? pick(units) : rng.uniform(in: 1...999_999_999_999_999_999)),
            quantity: Decimal8(units: rng.chance(.percent(30)) ? pick(units) : rng.uniform(in: 1...10_000_000_000)),
            currency: kraken ? "USD" : "USDT", side: rng.chance(.percent(50)) ? .buy : .sell,
            ingestionTimestampMicros: ingest)
        t.tradeConditions = (0..<Int(rng.uniform(below: 4))).map { _ in pick(["", "odd_lot", "late", "ü"]) }
        t.sourceSequence = rng.chance(.percent(50)) ? rng.uniform(in: Int64.min...Int64.max) : nil
        t.platformSequence = rng.chance(.percent(50)) ? rng.uniform(in: 0...1 << 40) : nil
        if rng.chance(.percent(60)) {
            var v: [String: String] = [:]
            for _ in 0..<Int(rng.uniform(below: 5)) { v[pick(["m", "is_best_match", "k", "z", "é"])] = pick(["true", "", "12.5"]) }
            t.vendorData = v
        }
        return t
    }

    /// What a V1 writer keeps of a trade: V2's additions take their defaults.
    static func asV1(_ t: Trade) -> Trade {
        var t = t
        t.tradeConditions = []; t.platformSequence = nil; t.vendorData = nil
        return t
    }
}

/// Resident set size in bytes, from /proc/self/statm (Linux).
func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    withUnsafeMutablePointer(to: &size) { s in
        withUnsafeMutablePointer(to: &resident) { r in
            _ = withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// FNV-1a 64, for pinning encoded bytes compactly.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01B3 }
    return h
}
