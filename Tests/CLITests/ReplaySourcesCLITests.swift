import Foundation
import Testing

/// `replay PATH...` on production sources, through the built binary.
@Suite(.serialized) struct ReplaySourcesCLITests {
    static var fixtures: String { ReplayCLITests.root + "/Tests/ReplayTests/Fixtures/sources" }

    @Test func segmentsAndARegistryExportReplayAndTheReportSaysWhatWasRead() async throws {
        let r = try await ReplayCLITests.run(["replay", Self.fixtures + "/kafka-logs", "--schemas", Self.fixtures + "/registry"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("kafka log segments, 4 files, 672 messages"))
        #expect(r.stdout.contains("offsets  market.crypto.trades.kraken-0: 0..337, 331 messages, 1 gap (7 offsets missing)"))
        #expect(r.stdout.contains("5 records of aborted transactions skipped"))
        #expect(r.stdout.contains("registry export, 8 schema registrations"))
    }

    @Test func aBronzeExportWithRenamedColumnsNeedsTheMapping() async throws {
        let path = Self.fixtures + "/bronze-renamed"
        let bad = try await ReplayCLITests.run(["replay", path])
        #expect(bad.status == 2 && bad.stdout.isEmpty)
        #expect(bad.stderr.contains("no capture, Kafka log segment or Bronze export found") || bad.stderr.contains("--bronze-columns"), "\(bad.stderr)")
        let good = try await ReplayCLITests.run(["replay", path, "--schemas", Self.fixtures + "/registry-topic/_schemas-0", "--bronze-columns",
                                           "topic=kafka_topic,partition=kafka_partition,offset=kafka_offset,timestamp=ts,value=payload",
                                           "--format", "json"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("\"kind\" : \"bronze export\"") || good.stdout.contains("\"kind\": \"bronze export\""), "\(good.stdout.prefix(400))")
    }

    @Test func aCorruptSegmentExitsTwoNamingFileByteOffsetAndBaseOffset() async throws {
        let dir = NSTemporaryDirectory() + "replay-sources-cli-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.copyItem(atPath: Self.fixtures + "/kafka-logs", toPath: dir)
        let seg = dir + "/market.crypto.trades.binance-1/00000000000000000000.log"
        var b = try Data(contentsOf: URL(fileURLWithPath: seg))
        b[200] ^= 0x01  // inside the first batch's compressed records
        try b.write(to: URL(fileURLWithPath: seg))
        let r = try await ReplayCLITests.run(["replay", dir])
        #expect(r.status == 2 && r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("error: \(seg): byte offset 0: batch at base offset 0: CRC-32C mismatch"), "\(r.stderr)")
    }
}
