import Testing
import Kernel
import Codec
@testable import Replay

/// Capture shapes that crashed a replay (a precondition or an overflow),
/// built here; each must be an `InputError` naming the problem.
@Suite struct HostileCaptureTests {
    static func varint(_ v: UInt64) -> [UInt8] {
        var u = v, out: [UInt8] = []
        while u >= 0x80 { out.append(UInt8(u & 0x7F) | 0x80); u >>= 7 }
        out.append(UInt8(u))
        return out
    }
    static func zigzag(_ v: Int64) -> [UInt8] { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    static func text(_ s: String) -> [UInt8] { varint(UInt64(s.utf8.count)) + Array(s.utf8) }
    static let topic: [UInt8] = [2] + text("market.crypto.trades.binance")
    /// A message record: topic 0, partition p, offset delta 1, timestamp delta, no key, value "x".
    static func message(partition p: UInt64 = 0, tsDelta: Int64 = 1_768_899_600_000) -> [UInt8] {
        [3] + varint(0) + varint(p) + varint(1) + zigzag(tsDelta) + varint(0) + varint(2) + [0x78]
    }

    func expectRefused(_ body: [UInt8], _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let c = try CompactCapture.decode(CompactCapture.magic + body, file: "c.mcap")
            _ = try ReplayFeed.build(c, file: "c.mcap")
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(needle), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func aTopicWithoutMessagesIsAnInputError() {
        expectRefused(Self.topic, "topic 'market.crypto.trades.binance' is defined but has no messages")
        expectRefused(Self.topic + Self.message() + [2] + Self.text("market.crypto.trades.kraken"), "'market.crypto.trades.kraken' is defined but has no messages")
    }

    @Test func timestampsAndPartitionsAreBounded() {
        expectRefused(Self.topic + Self.message(tsDelta: Int64.max), "is after the limit 253402300799999")
        expectRefused(Self.topic + Self.message(partition: 1 << 30), "numbered below 16384")
        expectRefused(Self.topic + Self.message(partition: 20_000), "numbered below 16384")
        // Two messages a century apart: beyond the replayable span.
        expectRefused(Self.topic + Self.message() + Self.message(tsDelta: 100 * 365 * 86_400_000), "span")
    }

    @Test func jsonLinesTimestampsAndPartitionsAreBounded() {
        func line(ts: String = "1768899600000", partition: String = "0") -> [UInt8] {
            Array(#"{"type":"message","topic":"market.crypto.trades.binance","partition":\#(partition),"offset":1,"timestamp_ms":\#(ts),"key_b64":null,"value_b64":"AAAAAAE="}"#.utf8) + [10]
        }
        for (bytes, needle) in [(line(ts: "9223372036854775807"), "after the limit"), (line(partition: "2147483647"), "numbered below 16384")] {
            do {
                _ = try CaptureReader.parseJSONLines(bytes, file: "c.jsonl")
                Issue.record("accepted")
            } catch {
                #expect(error.description.contains("c.jsonl:1") && error.description.contains(needle), "\(error)")
            }
        }
    }
}
