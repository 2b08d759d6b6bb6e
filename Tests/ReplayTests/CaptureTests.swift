import Testing
import Foundation
import Kernel
import Codec
@testable import Replay

@Suite struct CaptureTests {
    static let schemaLine = #"{"type":"schema","id":1,"subject":"market.crypto.trades.binance-value","schema":"\"string\""}"#
    static func message(_ offset: Int, partition: Int = 0, value: String = "AAAAAAE=") -> String {
        #"{"type":"message","topic":"market.crypto.trades.binance","partition":\#(partition),"offset":\#(offset),"timestamp_ms":1768899600000,"key_b64":null,"value_b64":"\#(value)"}"#
    }

    func parse(_ lines: [String], trailingNewline: Bool = true) throws(InputError) -> Capture {
        let text = lines.joined(separator: "\n") + (trailingNewline ? "\n" : "")
        return try CaptureReader.parseJSONLines(Array(text.utf8), file: "cap.jsonl")
    }

    func problem(_ lines: [String], trailingNewline: Bool = true) -> InputError? {
        do { _ = try parse(lines, trailingNewline: trailingNewline); return nil } catch { return error }
    }

    @Test func readsTheSpecExample() throws {
        let c = try parse([Self.schemaLine, Self.message(0), Self.message(5), Self.message(0, partition: 1)])
        #expect(c.schemas == [CapturedSchema(id: 1, subject: "market.crypto.trades.binance-value", schema: #""string""#)])
        #expect(c.messages.count == 3)
        #expect(c.messages[0].value == [0, 0, 0, 0, 1])
        #expect(c.messages[1].offset == 5)  // gaps are allowed
        #expect(c.messages[0].key == nil)
    }

    @Test func badLinesNameTheirLine() {
        #expect(problem([Self.schemaLine, Self.message(3), Self.message(2)])?.line == 3)
        #expect(problem([Self.schemaLine, Self.message(3), Self.message(3)])?.problem.contains("offsets must increase") == true)
        #expect(problem([Self.message(0, value: "***")])?.problem == "value_b64 is not valid base64")
        let unknown = Self.message(0).replacingOccurrences(of: "\"key_b64\"", with: "\"headers\":[],\"key_b64\"")
        #expect(problem([unknown])?.problem == "unknown field 'headers' in a message line")
        #expect(problem([#"{"type":"tombstone"}"#])?.problem.contains("unknown type") == true)
        let truncated = String(Self.message(1).prefix(40))
        let e = problem([Self.message(0), truncated], trailingNewline: false)
        #expect(e?.line == 2 && e?.problem.contains("truncated") == true)
        #expect(problem([#"{"type":"message","topic":"t","partition":"0","offset":0,"timestamp_ms":1}"#])?.problem.contains("partition") == true)
        // A key given twice: which one counts would be a guess, so the line is refused.
        let twice = Self.message(0).replacingOccurrences(of: "\"offset\":0", with: "\"offset\":0,\"offset\":7")
        #expect(twice != Self.message(0))
        #expect(problem([twice])?.problem == "duplicate key 'offset'")
    }

    @Test func compactAndJSONLinesRoundTripThroughZstd() throws {
        var c = Capture(schemas: [CapturedSchema(id: 2, subject: "s", schema: TradeSchemas.v2JSON)])
        var rng = RandomStreams(seed: 5).stream("capture")
        for i in 0..<2_000 {
            let ts = 1_768_899_600_000 + Int64(rng.uniform(in: -5_000...5_000))
            c.append(CapturedMessage(topic: i % 3 == 0 ? "a" : "b", partition: Int32(i % 2), offset: Int64(i * 2 + 7),
                                     timestampMs: ts, appendTimeMicros: i % 4 == 0 ? nil : ts * 1_000 + Int64(rng.uniform(in: 0...90_000)),
                                     key: i % 5 == 0 ? nil : rng.bytes(4), value: i % 7 == 0 ? nil : rng.bytes(Int(rng.uniform(below: 200)))))
        }
        let dir = NSTemporaryDirectory() + "capture-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, compact) in [("c.medcap.zst", true), ("c.jsonl.zst", false), ("c.jsonl", false)] {
            try CaptureWriter.write(c, to: dir + "/" + name, compact: compact)
            let back = try CaptureReader.load(path: dir + "/" + name)
            #expect(back == c, "\(name)")
        }
        // A corrupt compressed capture is a clear error naming the file, not a partial result.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/c.medcap.zst")))
        bytes.removeLast(bytes.count / 2)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad.zst"))
        #expect(throws: InputError.self) { try CaptureReader.load(path: dir + "/bad.zst") }
    }
}
