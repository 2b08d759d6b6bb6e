import ArgumentParser
import Codec
import Kernel

/// `medallion-sim bench codec`: single-thread throughput of the trade codec
/// and of the raw libavro calls under it, so capacity planners know their
/// machine and the wrapper's overhead is visible. Wall-clock time is read
/// here and nowhere in the simulation.
struct BenchCodec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Trade codec throughput (records/s, one thread) against raw libavro. Use a release build."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(help: "Records per measurement (each is repeated 3 times; the best counts).")
    var records: Int = 500_000

    @Option(help: ArgumentHelp("Measure only these figures (comma-separated names, e.g. decode_typical), for profiling; the rest print 0.",
                               valueName: "names"))
    var only: String? = nil

    func validate() throws {
        guard records >= 1_000 else { throw ValidationError("--records must be at least 1000 (got \(records)).") }
        if let only {
            let unknown = only.split(separator: ",").map(String.init).filter { !Self.figureNames.contains($0) }
            guard unknown.isEmpty else {
                throw ValidationError("--only: unknown figure \(unknown.joined(separator: ", ")); known: \(Self.figureNames.joined(separator: ", ")).")
            }
        }
    }

    /// Typical production trades: UUID message ids, a vendor map on most,
    /// a condition on some. Seeded, so every run measures the same data.
    static func sampleTrades(_ n: Int) -> [Trade] {
        var rng = RandomStreams(seed: 1).stream("bench.codec")
        let ingest: Micros = 1_768_899_600_000_000
        return (0..<n).map { i in
            let kraken = i % 4 == 3
            var t = Trade(messageId: UUIDv4.make(&rng), tradeId: String(rng.uniform(in: 1_000_000_000...9_999_999_999)),
                          symbol: kraken ? "BTC/USD" : "BTCUSDT", exchange: kraken ? "KRAKEN" : "BINANCE",
                          timestampMicros: ingest - rng.uniform(in: 0...2_000_000),
                          price: Decimal8(units: rng.uniform(in: 6_000_000_000_000...7_000_000_000_000)),
                          quantity: Decimal8(units: rng.uniform(in: 10_000...100_000_000)),
                          currency: kraken ? "USD" : "USDT", side: rng.chance(.percent(50)) ? .buy : .sell,
                          sourceSequence: rng.uniform(in: 0...1 << 40), ingestionTimestampMicros: ingest)
            if rng.chance(.percent(30)) { t.tradeConditions = ["odd_lot"] }
            if rng.chance(.percent(50)) { t.platformSequence = rng.uniform(in: 0...1 << 40) }
            if rng.chance(.percent(70)) { t.vendorData = ["is_best_match": "true", "m": rng.chance(.percent(50)) ? "true" : "false"] }
            return t
        }
    }

    /// Figure names and what each measures, in print order.
    static let figures: [(name: String, meaning: String)] = [
        ("encode", "TradeEncoder.encode, Swift Trade -> framed bytes, 1024 varied trades"),
        ("encode_typical", "TradeEncoder.encode of the raw baseline's record"),
        ("decode", "TradeDecoder.decode, framed bytes -> Swift Trade (pre-scan, libavro read, checks), 1024 varied trades"),
        ("decode_typical", "TradeDecoder.decode of the raw baseline's record"),
        ("decode_distinct", "decode of the 1024 trades with every vendor_data map distinct (no map shared)"),
        ("raw_write", "avro_value_write alone, value already filled"),
        ("raw_set_write", "libavro setters from prepared C buffers + avro_value_write"),
        ("raw_read", "avro_value_read alone into a reused value"),
        ("raw_read_copy", "avro_value_read + every field copied out with libavro getters into C buffers"),
        ("raw_read_copy_mixed", "raw_read_copy over the decode figure's 1024 varied bodies"),
        ("raw_read_swift", "avro_value_read + every field into a Swift Trade (String(decoding:), new Dictionary), no pre-scan, no checks"),
        ("raw_read_swift_mixed", "raw_read_swift over the decode figure's 1024 varied bodies"),
    ]
    static let figureNames = figures.map(\.name)

    /// Best of three rounds of `n` operations each, in records/s, for every
    /// operation. Rounds are interleaved (each round runs every operation
    /// once) so that a change in machine load between figures — other
    /// builds share the cores — does not bias one figure against another.
    static func measure(_ n: Int, _ ops: [(Int) -> Void]) -> [Double] {
        let clock = ContinuousClock()
        for op in ops { for i in 0..<min(n / 10, 50_000) { op(i) } }  // warm caches and allocator
        var best = Array(repeating: Duration.seconds(1_000_000), count: ops.count)
        for _ in 0..<3 {
            for (k, op) in ops.enumerated() {
                let t = clock.measure { for i in 0..<n { op(i) } }
                best[k] = min(best[k], t)
            }
        }
        return best.map { d in
            Double(n) / (Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
    }

    func run() throws {
        let registry = SchemaRegistry.standard()
        let trades = Self.sampleTrades(1_024)
        let encoder = try TradeEncoder(registry: registry, schemaId: TradeSchemas.v2Id)
        let decoder = TradeDecoder(registry: registry)
        let encoded = trades.map { encoder.encode($0) }
        for (t, e) in zip(trades, encoded) {
            guard case .success(let d) = decoder.decode(e), d.trade == t else {
                throw ValidationError("the codec does not round-trip its own sample; refusing to benchmark")
            }
        }
        // Worst case for the decoder's shared vendor_data maps: none repeats.
        let distinct = trades.enumerated().map { i, t in
            var t = t
            if t.vendorData != nil { t.vendorData!["seq"] = String(i) }
            return t
        }
        let encodedDistinct = distinct.map { encoder.encode($0) }
        // The raw baseline works on one representative record (a vendor map, no conditions).
        let typical = trades.first { $0.vendorData != nil && $0.tradeConditions.isEmpty } ?? trades[0]
        let raw = try RawAvroBaseline(trade: typical)
        let typicalBytes = encoder.encode(typical)
        raw.writeOnly()
        guard raw.lastLength + WireFormat.headerSize == typicalBytes.count else {
            throw ValidationError("raw baseline writes \(raw.lastLength) bytes, codec \(typicalBytes.count - 5)")
        }
        for (t, e) in zip(trades, encoded) {
            let swift = e.withUnsafeBytes { raw.readIntoTrade(UnsafeRawBufferPointer(rebasing: $0[WireFormat.headerSize...])) }
            guard swift == t else { throw ValidationError("raw_read_swift does not read back the sample; refusing to benchmark") }
        }
        let typicalEncoded = Array(repeating: typicalBytes, count: 1)
        // Bodies without the header, for the raw reads over the varied records.
        let bodies = encoded.map { Array($0[WireFormat.headerSize...]) }

        var sink = 0
        let mask = trades.count - 1
        // The consumer takes the trade out of the result the usual way, and
        // reads one field so the work is observable.
        func consume(_ r: Result<DecodedTrade, DecodeFailure>) -> Int {
            switch r {
            case .success(let d): return d.trade.messageId.utf8.count
            case .failure: return 1
            }
        }
        let ops: [String: (Int) -> Void] = [
            "encode": { i in sink &+= encoder.encode(trades[i & mask]).count },
            "encode_typical": { _ in sink &+= encoder.encode(typical).count },
            "decode": { i in sink &+= consume(decoder.decode(encoded[i & mask])) },
            "decode_typical": { _ in sink &+= consume(decoder.decode(typicalEncoded[0])) },
            "decode_distinct": { i in sink &+= consume(decoder.decode(encodedDistinct[i & mask])) },
            "raw_write": { _ in raw.writeOnly() },
            "raw_set_write": { _ in raw.setAndWrite() },
            "raw_read": { _ in raw.readOnly() },
            "raw_read_copy": { _ in sink &+= raw.readAndCopy() },
            "raw_read_copy_mixed": { i in sink &+= bodies[i & mask].withUnsafeBytes { raw.readAndCopy($0) } },
            "raw_read_swift": { _ in sink &+= raw.readIntoTrade().messageId.utf8.count },
            "raw_read_swift_mixed": { i in sink &+= bodies[i & mask].withUnsafeBytes { raw.readIntoTrade($0) }.messageId.utf8.count },
        ]
        precondition(Set(ops.keys) == Set(Self.figureNames), "every figure needs an operation")
        let selected = only.map { Set($0.split(separator: ",").map(String.init)) } ?? Set(Self.figureNames)
        let names = Self.figureNames.filter { selected.contains($0) }
        let measured = Self.measure(records, names.map { ops[$0]! })
        if sink == 42 { print("") }  // keeps the work observable
        var v: [String: Double] = [:]
        for name in Self.figureNames { v[name] = 0 }
        for (name, x) in zip(names, measured) { v[name] = x }

        // Overhead: how much longer the wrapper takes per record than the
        // raw calls (same records, so the comparison is fair).
        func over(_ wrapper: String, _ baseline: String) -> Double {
            v[baseline]! > 0 && v[wrapper]! > 0 ? (v[baseline]! / v[wrapper]! - 1) * 100 : .nan  // nan: not measured (--only)
        }
        let overheads: [(key: String, text: String, value: Double)] = [
            ("encode_overhead_pct", "encode_typical vs raw_set_write", over("encode_typical", "raw_set_write")),
            ("encode_vs_raw_write_pct", "encode_typical vs raw_write", over("encode_typical", "raw_write")),
            ("decode_overhead_pct", "decode_typical vs raw_read_copy", over("decode_typical", "raw_read_copy")),
            ("decode_mixed_overhead_pct", "decode vs raw_read_copy_mixed", over("decode", "raw_read_copy_mixed")),
            ("decode_vs_raw_read_pct", "decode_typical vs raw_read", over("decode_typical", "raw_read")),
            ("decode_vs_raw_swift_pct", "decode_typical vs raw_read_swift", over("decode_typical", "raw_read_swift")),
            ("decode_mixed_vs_raw_swift_pct", "decode vs raw_read_swift_mixed", over("decode", "raw_read_swift_mixed")),
        ]
        let targets: [(String, Bool)] = [
            ("encode >= 500000 records/s", v["encode"]! >= 500_000),
            ("decode >= 300000 records/s", v["decode"]! >= 300_000),
            ("encode overhead (encode_typical vs raw_set_write) <= 25%", overheads[0].value <= 25),
            // Issue #2: "decode-into-a-Swift-value throughput ... and the same for the
            // raw libavro calls": the baseline is raw libavro decoding into a Swift
            // value (docs/AVRO-LIBRARY.md's "decode and copy every field into a Swift struct").
            ("decode overhead (decode vs raw_read_swift, typical and mixed) <= 25%",
             max(overheads[5].value, overheads[6].value) <= 25),
        ]

        func r(_ x: Double) -> Int { Int(x.rounded()) }
        func pct(_ x: Double) -> String { guard x.isFinite else { return "null" }; return String(Double(Int((x * 10).rounded())) / 10) }
        switch format {
        case .text:
            print("codec throughput, one thread, records/s (best of 3 interleaved rounds x \(records))")
            for (name, meaning) in Self.figures {
                let value = String(r(v[name]!)).leftPadded(toLength: 10)
                print("  \(name.padding(toLength: 21))\(value)  \(meaning)")
            }
            print("overhead of the wrapper (time per record over the baseline's, same records):")
            for o in overheads { print("  \(o.text.padding(toLength: 34))\(o.value.isFinite ? pct(o.value) + "%" : "n/a")") }
            print("The decode target compares like with like: raw_read_swift is raw libavro calls")
            print("decoding into the same Swift value (docs/AVRO-LIBRARY.md's 'decode and copy every field into a")
            print("Swift struct'); over it, the wrapper's pre-scan, checks and shared maps show.")
            print("raw_read_copy copies into C buffers instead: the gap to it is the cost of Swift")
            print("String and Dictionary values themselves, not of the wrapper.")
            for (t, ok) in targets { print("  target \(t): \(ok ? "met" : "NOT met")") }
        case .json:
            var parts = Self.figureNames.map { "\"\($0)_records_per_s\":\(r(v[$0]!))" }
            parts += overheads.map { "\"\($0.key)\":\(pct($0.value))" }
            parts.append("\"records\":\(records)")
            parts.append("\"targets_met\":\(targets.allSatisfy { $0.1 })")
            print("{" + parts.sorted().joined(separator: ",") + "}")
        }
    }
}

private extension String {
    func padding(toLength n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadded(toLength n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
