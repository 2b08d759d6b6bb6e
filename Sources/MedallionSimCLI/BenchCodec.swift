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

    static let figureNames = ["encode", "encode_typical", "decode", "decode_typical",
                              "raw_write", "raw_set_write", "raw_read", "raw_read_copy"]

    struct Figure { let name: String; let recordsPerSecond: Double; let meaning: String }

    /// Best of three runs of `n` operations, in records/s.
    static func measure(_ n: Int, _ op: (Int) -> Void) -> Double {
        let clock = ContinuousClock()
        for i in 0..<min(n / 10, 50_000) { op(i) }  // warm caches and allocator
        var best = Duration.seconds(1_000_000)
        for _ in 0..<3 {
            let t = clock.measure { for i in 0..<n { op(i) } }
            best = min(best, t)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
        return Double(n) / seconds
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
        // The raw baseline works on one representative record (a vendor map, no conditions).
        let typical = trades.first { $0.vendorData != nil && $0.tradeConditions.isEmpty } ?? trades[0]
        let raw = try RawAvroBaseline(trade: typical)
        let typicalBytes = encoder.encode(typical)
        raw.writeOnly()
        guard raw.lastLength + WireFormat.headerSize == typicalBytes.count else {
            throw ValidationError("raw baseline writes \(raw.lastLength) bytes, codec \(typicalBytes.count - 5)")
        }
        let typicalEncoded = Array(repeating: typicalBytes, count: 1)

        let selected = Set(only.map { $0.split(separator: ",").map(String.init) } ?? Self.figureNames)
        func measure(_ name: String, _ op: (Int) -> Void) -> Double {
            precondition(Self.figureNames.contains(name), "figure \(name) missing from figureNames")
            return selected.contains(name) ? Self.measure(records, op) : 0
        }
        var sink = 0
        let mask = trades.count - 1
        let encodeMixed = measure("encode") { i in sink &+= encoder.encode(trades[i & mask]).count }
        let encodeTypical = measure("encode_typical") { _ in sink &+= encoder.encode(typical).count }
        let decodeMixed = measure("decode") { i in
            if case .success(let d) = decoder.decode(encoded[i & mask]) { sink &+= d.trade.messageId.utf8.count }
        }
        let decodeTypical = measure("decode_typical") { _ in
            if case .success(let d) = decoder.decode(typicalEncoded[0]) { sink &+= d.trade.messageId.utf8.count }
        }
        let rawWrite = measure("raw_write") { _ in raw.writeOnly() }
        let rawSetWrite = measure("raw_set_write") { _ in raw.setAndWrite() }
        let rawRead = measure("raw_read") { _ in raw.readOnly() }
        let rawReadCopy = measure("raw_read_copy") { _ in sink &+= raw.readAndCopy() }
        if sink == 42 { print("") }  // keeps the work observable

        let figures = [
            Figure(name: "encode", recordsPerSecond: encodeMixed, meaning: "TradeEncoder.encode, Swift Trade -> framed bytes, 1024 varied trades"),
            Figure(name: "encode_typical", recordsPerSecond: encodeTypical, meaning: "TradeEncoder.encode of the raw baseline's record"),
            Figure(name: "decode", recordsPerSecond: decodeMixed, meaning: "TradeDecoder.decode, framed bytes -> Swift Trade (pre-scan, libavro read, checks), 1024 varied trades"),
            Figure(name: "decode_typical", recordsPerSecond: decodeTypical, meaning: "TradeDecoder.decode of the raw baseline's record"),
            Figure(name: "raw_write", recordsPerSecond: rawWrite, meaning: "avro_value_write alone, value already filled"),
            Figure(name: "raw_set_write", recordsPerSecond: rawSetWrite, meaning: "libavro setters from prepared C buffers + avro_value_write"),
            Figure(name: "raw_read", recordsPerSecond: rawRead, meaning: "avro_value_read alone into a reused value"),
            Figure(name: "raw_read_copy", recordsPerSecond: rawReadCopy, meaning: "avro_value_read + every field copied out with libavro getters into C buffers"),
        ]
        // Overhead: how much longer the wrapper takes per record than the raw
        // calls it cannot avoid (same record, so the comparison is fair).
        let encodeOverhead = (rawSetWrite / encodeTypical - 1) * 100
        let decodeOverhead = (rawReadCopy / decodeTypical - 1) * 100
        let encodeVsWrite = (rawWrite / encodeTypical - 1) * 100
        let decodeVsRead = (rawRead / decodeTypical - 1) * 100
        let targets: [(String, Bool)] = [
            ("encode >= 500000 records/s", encodeMixed >= 500_000),
            ("decode >= 300000 records/s", decodeMixed >= 300_000),
            ("encode overhead over raw_set_write <= 25%", encodeOverhead <= 25),
            ("decode overhead over raw_read_copy <= 25%", decodeOverhead <= 25),
        ]

        func r(_ x: Double) -> Int { Int(x.rounded()) }
        func pct(_ x: Double) -> String { guard x.isFinite else { return "null" }; return String(Double(Int((x * 10).rounded())) / 10) }
        switch format {
        case .text:
            print("codec throughput, one thread, records/s (best of 3 x \(records))")
            for f in figures {
                let name = f.name.padding(toLength: 16)
                let value = String(r(f.recordsPerSecond)).leftPadded(toLength: 10)
                print("  \(name)\(value)  \(f.meaning)")
            }
            print("overhead of the wrapper, same record:")
            print("  encode vs raw_set_write  \(pct(encodeOverhead))%   (vs raw_write alone \(pct(encodeVsWrite))%)")
            print("  decode vs raw_read_copy  \(pct(decodeOverhead))%   (vs raw_read alone \(pct(decodeVsRead))%)")
            for (t, ok) in targets { print("  target \(t): \(ok ? "met" : "NOT met")") }
        case .json:
            var parts = figures.map { "\"\($0.name)_records_per_s\":\(r($0.recordsPerSecond))" }
            parts.append("\"encode_overhead_pct\":\(pct(encodeOverhead))")
            parts.append("\"decode_overhead_pct\":\(pct(decodeOverhead))")
            parts.append("\"encode_vs_raw_write_pct\":\(pct(encodeVsWrite))")
            parts.append("\"decode_vs_raw_read_pct\":\(pct(decodeVsRead))")
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
