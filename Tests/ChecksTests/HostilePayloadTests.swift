import Testing
import Kernel
import TestSupport
import Codec
@testable import Checks

/// Payload shapes that crashed the decoder or on which Silver and the
/// independent oracle disagreed. Each class: payloads built here, both
/// verdicts computed, the expected DLQ reason asserted (a crash fails the run).
@Suite struct HostilePayloadTests {
    /// Avro binary helpers, from the specification.
    static func long(_ n: Int64) -> [UInt8] { avroLong(n) }
    static func string(_ b: [UInt8]) -> [UInt8] { long(Int64(b.count)) + b }
    static func string(_ s: String) -> [UInt8] { string(Array(s.utf8)) }
    static let ingest: Int64 = 1_768_899_600_000_000

    /// The 15 fields of a valid V2 Binance trade, one entry per field.
    static func v2Fields() -> [[UInt8]] {
        [string("3f2504e0-4f89-41d3-9a0c-0305e82c3301"), string("1"), string("BTCUSDT"), string("BINANCE"),
         string("crypto"), long(ingest), long(2) + [0x01, 0x00], long(1) + [0x05], string("USDT"), long(0),
         long(1) + string("x") + [0], long(1) + long(9), long(ingest), long(0),
         long(1) + long(1) + string("k") + string("v") + [0]]
    }
    static func payload(_ fields: [[UInt8]]) -> [UInt8] { [0, 0, 0, 0, 2] + fields.flatMap { $0 } }
    static func with(_ k: Int, _ bytes: [UInt8]) -> [UInt8] {
        var f = v2Fields(); f[k] = bytes; return payload(f)
    }

    let registry = SchemaRegistry.standard()

    /// Both verdicts; they must agree, and equal `want`.
    func expectBoth(_ bytes: [UInt8], _ want: DeadLetterReason?, _ what: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        let decoder = TradeDecoder(registry: registry)
        let engine = PayloadDifferential.engineReason(bytes, decoder: decoder, exchange: .binance)
        let oracle = PayloadDifferential.oracleReason(bytes, exchange: .binance, registry: registry, layouts: .init(registry: registry))
        #expect(engine == want, "\(what): engine", sourceLocation: sourceLocation)
        #expect(oracle == .some(want), "\(what): oracle", sourceLocation: sourceLocation)
    }

    @Test func theTemplateIsAValidTrade() {
        expectBoth(Self.payload(Self.v2Fields()), nil, "template")
    }

    /// Class: 64-bit timestamps at the extremes (overflow in the validator).
    @Test func extremeTimestampsAreJudgedWithoutOverflow() {
        expectBoth(Self.with(12, Self.long(Int64.max)), nil, "ingestion Int64.max")
        expectBoth(Self.with(12, Self.long(Int64.min)), .invalidTimestamp, "ingestion Int64.min")
        expectBoth(Self.with(5, Self.long(Int64.max)), .invalidTimestamp, "timestamp Int64.max")
        expectBoth(Self.with(5, Self.long(Int64.min)), .invalidTimestamp, "timestamp Int64.min")
    }

    /// Class: large arrays and maps of tiny items (libavro crashed when the
    /// allocation cap refused its array growth mid-read).
    @Test func largeArraysOfEmptyStringsDecode() {
        for n in [2_049, 60_000, 100_000, 200_000] {
            let conditions = Self.long(Int64(n)) + [UInt8](repeating: 0, count: n) + [0]
            expectBoth(Self.with(10, conditions), nil, "\(n) empty trade conditions")
            // The same as one block with its byte size.
            let sized = Self.long(-Int64(n)) + Self.long(Int64(n)) + [UInt8](repeating: 0, count: n) + [0]
            expectBoth(Self.with(10, sized), nil, "\(n) empty trade conditions, sized block")
        }
        // A 60-entry vendor map of one-byte keys stays valid; 70 entries is too many.
        func vendor(_ n: Int) -> [UInt8] {
            Self.long(1) + Self.long(Int64(n)) + (0..<n).flatMap { Self.string("k\($0)") + Self.string("") } + [0]
        }
        expectBoth(Self.with(14, vendor(60)), nil, "60 vendor entries")
        expectBoth(Self.with(14, vendor(70)), .invalidVendorData, "70 vendor entries")
    }

    /// Class: strings that are not UTF-8. The Avro specification encodes a
    /// string as UTF-8, so these bytes are not a string: AVRO_DECODE_ERROR,
    /// in every string field, the array items and the map's keys and values.
    @Test func invalidUTF8IsADecodeError() {
        let bad: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x41, 0xE2, 0x82]]
        for b in bad {
            for k in [0, 1, 2, 3, 4, 8] { expectBoth(Self.with(k, Self.string(b)), .avroDecodeError, "field \(k) = \(b)") }
            expectBoth(Self.with(10, Self.long(1) + Self.string(b) + [0]), .avroDecodeError, "trade condition \(b)")
            expectBoth(Self.with(14, Self.long(1) + Self.long(1) + Self.string(b) + Self.string("v") + [0]), .avroDecodeError, "vendor key \(b)")
            expectBoth(Self.with(14, Self.long(1) + Self.long(1) + Self.string("k") + Self.string(b) + [0]), .avroDecodeError, "vendor value \(b)")
        }
        // Valid multi-byte UTF-8 still reads (and then fails validation where the rules say so).
        expectBoth(Self.with(10, Self.long(1) + Self.string("ü€😀") + [0]), nil, "multi-byte condition")
        expectBoth(Self.with(2, Self.string("BTCÜSDT")), .invalidSymbol, "multi-byte symbol")
        // A NUL inside a map key cannot be carried by libavro's C-string keys: refused by both.
        expectBoth(Self.with(14, Self.long(1) + Self.long(1) + Self.string([0x6B, 0, 0x6B]) + Self.string("v") + [0]), .avroDecodeError, "NUL in key")
    }

    /// Class: varints. A long is 64 bits: a 10-byte varint whose last byte
    /// carries more than the 64th bit, or an 11-byte one, is not a long; an
    /// int (enum index) is at most 5 bytes and within 32 bits.
    @Test func varintsBeyondTheirWidthAreDecodeErrors() {
        let over64: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        let max64: [UInt8] = [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]  // Int64.max, zigzag
        expectBoth(Self.with(12, over64), .avroDecodeError, "ingestion over 64 bits")
        expectBoth(Self.with(12, max64), nil, "ingestion Int64.max in 10 bytes")
        expectBoth(Self.with(5, over64), .avroDecodeError, "timestamp over 64 bits")
        expectBoth(Self.with(13, Self.long(1) + over64), .avroDecodeError, "platform_sequence over 64 bits")
        expectBoth(Self.with(9, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), .avroDecodeError, "6-byte enum index")
        expectBoth(Self.with(10, Self.long(Int64.min) + Self.string("x") + [0]), .avroDecodeError, "block count Int64.min")
        expectBoth(Self.with(10, Self.long(-1) + Self.long(5) + Self.string("x") + [0]), .avroDecodeError, "block size mismatch")
    }

    /// Class: trailing bytes win over an unreadable field value, in both.
    @Test func trailingBytesAreToldBeforeFieldValues() {
        var f = Self.v2Fields(); f[6] = Self.long(0)  // zero-length decimal
        expectBoth(Self.payload(f), .avroDecodeError, "zero-length price")
        expectBoth(Self.payload(f) + [0], .trailingBytes, "zero-length price, then a byte")
    }

    /// Class: schema size. Field names are checked for duplicates in linear
    /// time, and a schema has bounded size.
    @Test func largeSchemasAreBoundedAndParsedInLinearTime() throws {
        func schema(_ n: Int) -> String {
            #"{"type":"record","name":"R","fields":["# + (0..<n).map { #"{"name":"f\#($0)","type":"long"}"# }.joined(separator: ",") + "]}"
        }
        let r = SchemaRegistry()
        try r.register(subject: "s", schemaJSON: schema(9_000), id: 10)
        #expect(throws: (any Error).self) { try r.register(subject: "s", schemaJSON: schema(100_000), id: 11) }
        let deep = String(repeating: #"{"type":"array","items":"#, count: 300) + #""long""# + String(repeating: "}", count: 300)
        #expect(throws: (any Error).self) { try r.register(subject: "d", schemaJSON: deep, id: 12) }
    }
}
