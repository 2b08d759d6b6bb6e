import Testing
@testable import Kernel

@Suite struct TimeAndValueTests {
    @Test func durationsParse() throws {
        #expect(try DurationParser.parse("90s") == 90_000_000)
        #expect(try DurationParser.parse("1h30m") == 5_400_000_000)
        #expect(try DurationParser.parse("250ms") == 250_000)
        #expect(try DurationParser.parse("2d") == 172_800_000_000)
        #expect(try DurationParser.parse("1m30s500ms") == 90_500_000)
        #expect(try DurationParser.parse("0") == 0)
        #expect(DurationParser.format(5_400_000_000) == "1h30m")
        #expect(DurationParser.format(250_000) == "250ms")
    }

    @Test(arguments: ["", "s", "10", "10x", "30m1h", "1.5s", "-3s", "99999999999999999999s", "1h1h"])
    func badDurationsAreNamed(_ text: String) {
        #expect(throws: DurationParser.Failure.self) { try DurationParser.parse(text) }
    }

    @Test func civilDatesAreRight() {
        #expect(UTCDateTime(micros: 0).iso8601 == "1970-01-01T00:00:00.000000Z")
        // 2026-01-20T09:00:00Z = 1768899600 s (the capture example in docs/REFERENCE.md §9).
        let t = UTCDateTime(micros: 1_768_899_600_000_000 + 123_456)
        #expect(t.iso8601 == "2026-01-20T09:00:00.123456Z")
        #expect(UTCDateTime.micros(year: 2026, month: 1, day: 20, hour: 9) == 1_768_899_600_000_000)
        // Genesis block day, leap days, before the epoch.
        #expect(UTCDateTime.micros(year: 2009, month: 1, day: 3) == 1_230_940_800_000_000)
        #expect(UTCDateTime(micros: UTCDateTime.micros(year: 2024, month: 2, day: 29, hour: 23)).dateString == "2024-02-29")
        #expect(UTCDateTime(micros: -1).iso8601 == "1969-12-31T23:59:59.999999Z")
        for days in stride(from: -800_000 as Int64, through: 800_000, by: 997) {
            let (y, m, d) = UTCDateTime.civil(fromDays: days)
            #expect(UTCDateTime.days(fromCivil: y, m, d) == days)
        }
    }

    @Test func decimalsParseAndPrintExactly() throws {
        #expect(try Decimal8(parsing: "65000.12").units == 6_500_012_000_000)
        #expect(try Decimal8(parsing: "-0.00000001").units == -1)
        #expect(try Decimal8(parsing: "9999999999.99999999").units == 999_999_999_999_999_999)
        #expect(Decimal8(units: 6_500_012_000_000).description == "65000.12000000")
        #expect(Decimal8(units: -1).description == "-0.00000001")
        #expect(throws: Decimal8.ParseError.self) { try Decimal8(parsing: "0.000000001") }
        #expect(throws: Decimal8.ParseError.self) { try Decimal8(parsing: "1e5") }
        #expect(throws: Decimal8.ParseError.self) { try Decimal8(parsing: "10000000000") }
        #expect(Decimal8(units: Decimal8.precisionLimitUnits).isWithinPrecision == false)
        #expect(Decimal8(units: Decimal8.precisionLimitUnits - 1).isWithinPrecision)
    }

    @Test func decimalAvroBytesAreMinimalTwosComplement() {
        // Hand-computed: 1 -> 01; -1 -> FF; 128 -> 00 80; -128 -> 80; -129 -> FF 7F; 0 -> 00.
        #expect(Decimal8(units: 1).avroBytes == [0x01])
        #expect(Decimal8(units: -1).avroBytes == [0xFF])
        #expect(Decimal8(units: 128).avroBytes == [0x00, 0x80])
        #expect(Decimal8(units: -128).avroBytes == [0x80])
        #expect(Decimal8(units: -129).avroBytes == [0xFF, 0x7F])
        #expect(Decimal8(units: 0).avroBytes == [0x00])
        #expect(Decimal8(units: Int64.min).avroBytes == [0x80, 0, 0, 0, 0, 0, 0, 0])
        for u: Int64 in [0, 1, -1, 127, 128, -128, -129, 6_500_012_000_000, -999_999_999_999_999_999, .max, .min] {
            #expect(Decimal8(avroBytes: Decimal8(units: u).avroBytes) == Decimal8(units: u))
        }
        #expect(Decimal8(avroBytes: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])?.units == 1)
        #expect(Decimal8(avroBytes: [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]) == nil)
        #expect(Decimal8(avroBytes: [UInt8]()) == nil)
    }

    /// The in-place reading agrees with the plain one it replaced (copy, drop
    /// sign-extension bytes while they are harmless, fold) on every shape of
    /// input: lengths 0 to 12, bytes drawn mostly from the sign-relevant ones.
    @Test func decimalAvroBytesReadInPlaceAsTheyWereReadFromACopy() {
        func plain(_ b: [UInt8]) -> Int64? {
            guard let first = b.first else { return nil }
            let fill: UInt8 = first & 0x80 != 0 ? 0xFF : 0x00
            var bytes = b
            while bytes.count > 8 {
                guard bytes[0] == fill, (bytes[1] & 0x80) == (fill & 0x80) else { return nil }
                bytes.removeFirst()
            }
            var v: Int64 = first & 0x80 != 0 ? -1 : 0
            for byte in bytes { v = (v << 8) | Int64(byte) }
            return v
        }
        var rng = RandomStreams(seed: 11).stream("test.decimal-bytes")
        let palette: [UInt8] = [0x00, 0xFF, 0x80, 0x7F, 0x01, 0xFE]
        for _ in 0..<20_000 {
            let n = Int(rng.uniform(below: 13))
            let b = (0..<n).map { _ in rng.uniform(below: 4) == 0 ? UInt8(rng.uniform(below: 256)) : palette[Int(rng.uniform(below: UInt64(palette.count)))] }
            #expect(Decimal8(avroBytes: b)?.units == plain(b), "\(b)")
            #expect(Decimal8(avroBytes: b[...])?.units == plain(b), "\(b) as a slice")
        }
    }

    @Test func uuidValidation() {
        #expect(UUIDv4.isValid("3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
        #expect(!UUIDv4.isValid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"))  // version 1
        #expect(!UUIDv4.isValid("not-a-uuid"))
    }

    @Test func schedulerOrdersByTimeThenPriorityThenFIFO() {
        let clock = VirtualClock(start: 100)
        let s = EventScheduler(clock: clock)
        var log: [String] = []
        s.schedule(at: 200) { _ in log.append("b1") }
        s.schedule(at: 150) { _ in log.append("a") }
        s.schedule(at: 200, priority: -1) { _ in log.append("b0") }
        s.schedule(at: 200) { t in log.append("b2"); s.schedule(at: t) { _ in log.append("b3") } }
        s.run(until: 1_000)
        #expect(log == ["a", "b0", "b1", "b2", "b3"])
        #expect(clock.now == 1_000)
    }
}

@Suite struct JSONValueTests {
    @Test func canonicalFormSortsKeysAndEscapes() {
        let v: JSONValue = .object(["b": .int(2), "a": .array([.null, .bool(true), .number("1.50000000")]),
                                    "é": .string("q\"\\\n\u{01}"), "B": .object([:])])
        #expect(v.compact == #"{"B":{},"a":[null,true,1.50000000],"b":2,"é":"q\"\\\n\u0001"}"#)
        #expect(v.pretty.hasPrefix("{\n  \"B\": {},\n  \"a\": [\n    null,"))
    }
}

@Suite struct JSONReaderTests {
    @Test func readsWhatJSONValueWrites() throws {
        let v = JSONValue.object(["s": .string("q\"\\\n\u{1}é€😀"), "i": .int(-42), "n": .null, "b": .bool(true),
                                  "a": .array([.int(1), .array([]), .object([:])]), "x": .number("1.5e3")])
        #expect(try JSONReader.parse(v.pretty, file: "t") == v)
        #expect(try JSONReader.parse(v.compact, file: "t") == v)
    }

    @Test func aRepeatedKeyIsAnInputErrorAtItsLine() {
        do {
            _ = try JSONReader.parse("{\n\"a\": 1,\n\"a\": 2}", file: "dup.json")
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.file == "dup.json" && error.line == 3, "\(error)")
            #expect(error.problem == "invalid JSON: duplicate key 'a'", "\(error)")
        }
    }
}

@Suite struct OrderedJSONTests {
    @Test func keysKeepTheirOrderAndTheTextComesBackTheSame() throws {
        let text = #"{"z":1,"a":[true,null,"x\u0001"],"m":{"b":1.50,"a":-2e3}}"#
        let v = try OrderedJSON.parse(" \n" + text + "\n")
        #expect(v.canonicalText == text)
        guard case .object(let o) = v else { Issue.record("not an object"); return }
        #expect(Array(o.keys) == ["z", "a", "m"])
        #expect(v["m"]?["b"] == .number("1.50"))
        // Equality is order-sensitive, as the canonical text is.
        #expect(try OrderedJSON.parse(#"{"a":1,"b":2}"#) != OrderedJSON.parse(#"{"b":2,"a":1}"#))
    }

    @Test func aRepeatedKeyIsRefusedAtTheRepeat() {
        let text = #"{"a":{"k":1,"j":2,"k":3}}"#
        do {
            _ = try OrderedJSON.parse(text)
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.problem == "duplicate key 'k'")
            #expect(error.offset == 18)
        }
    }

    @Test func theLenientReadKeepsTheLastValueWhereTheKeyFirstAppearedAndReportsEachRepeat() throws {
        var repeats: [OrderedJSON.DuplicateKey] = []
        let v = try OrderedJSON.parse(#"{"k":1,"j":2,"k":3,"o":{"k":4,"k":5}}"#, duplicateKeys: &repeats)
        #expect(v.canonicalText == #"{"k":3,"j":2,"o":{"k":5}}"#)
        #expect(repeats == [.init(key: "k", offset: 13), .init(key: "k", offset: 30)])
        var none: [OrderedJSON.DuplicateKey] = []
        _ = try OrderedJSON.parse(#"{"k":1,"o":{"k":2}}"#, duplicateKeys: &none)
        #expect(none.isEmpty)
    }
}
