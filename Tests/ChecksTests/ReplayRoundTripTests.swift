import Foundation
import Testing
import TestSupport
import Kernel
import Codec
import Broker
import Engine
import Replay
import Scenarios
@testable import Checks

/// Replay end to end: a recorded scenario replays to the same tables, and a
/// capture written by another Avro implementation decodes field by field.
@Suite struct ReplayRoundTripTests {
    static var root: String { Repository.root }

    /// Light traffic with every kind of trouble the generator can make, and
    /// non-default job settings (so the replay must carry them over).
    static let yaml = """
    name: roundtrip
    description: faults of every traffic kind, for record and replay
    seed: 31337
    duration: 6m
    drain: 5m
    exchanges:
      binance:
        rate_multiplier: 0.05
        partitions: 4
        v1_share: 10%
      kraken:
        rate_multiplier: 2
    jobs:
      silver_binance:
        trigger: 30s
      bronze_binance:
        max_offsets_per_trigger: 50
    faults:
    \(RegistryIdsTests.malformedFault("binance"))
      - kind: duplicates
        exchange: kraken
        at: 2m
        mode: producer_retry
        count: 5
      - kind: duplicates
        exchange: binance
        at: 2m
        mode: exchange_resend
        count: 5
      - kind: late_backfill
        exchange: binance
        at: 4m
        count: 20
        age: 15m
      - kind: slow_commits
        table: gold_crypto_trades
        at: 3m
        for: 1m
        extra_latency: 40s
    """

    @Test func recordThenReplayReproducesEveryTableRowForRow() throws {
        let s = try ScenarioParser.parse(Self.yaml, file: "roundtrip.yaml")
        let original = try ScenarioRunner.run(s, profile: .production)
        let capture = ScenarioRecorder.capture(original.traffic)
        #expect(capture.messageCount > 500)
        let dir = NSTemporaryDirectory() + "roundtrip-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let settings = ["seed=31337", "duration=6m", "drain=5m", "jobs.silver_binance.trigger=30s",
                        "jobs.bronze_binance.max_offsets_per_trigger=50",
                        "faults=[{kind: slow_commits, table: gold_crypto_trades, at: 3m, for: 1m, extra_latency: 40s}]"]
        for (name, compact) in [("c.jsonl", false), ("c.jsonl.zst", false), ("c.medcap.zst", true)] {
            try CaptureWriter.write(capture, to: dir + "/" + name, compact: compact)
            let loaded = try CaptureReader.load(path: dir + "/" + name)
            #expect(loaded == capture, "\(name)")
            let feed = try ReplayFeed.build(loaded, file: name)
            let replaySettings = try ReplayRunner.settings(for: feed, file: name, overrides: settings)
            #expect(replaySettings.startMicros == s.startMicros)
            let replay = ReplayRunner.run(feed, file: name, settings: replaySettings, profile: .production)
            for t in TableName.allCases {
                let a = TableExport.rows(of: t, in: original.pipeline), b = TableExport.rows(of: t, in: replay.pipeline)
                #expect(a.count == b.count, "\(name) \(t.rawValue): \(a.count) rows, replay \(b.count)")
                if let i = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) {
                    Issue.record("\(name) \(t.rawValue) row \(i) differs:\n  \(a[i])\n  \(b[i])")
                }
            }
            #expect(original.pipeline.batchLog.map(\.batchId) == replay.pipeline.batchLog.map(\.batchId))
            // Without labels the oracle still holds the replay to exactly-once and the DLQ's reasons.
            let outcome = ReplayEvaluator.evaluate(replay)
            #expect(outcome.passed, "\(outcome.checks.filter { !$0.passed }.map { "\($0.name): \($0.details)" })")
            #expect(outcome.oracle.figures["dlq"]?["by_reason"] == ScenarioEvaluator.evaluate(original).oracle.figures["dlq"]?["by_reason"])
            // The incident report sees the injected trouble, with virtual times.
            #expect(!outcome.incident.dlqMinutes.isEmpty)
            #expect(outcome.incident.lateDrops.reduce(0) { $0 + $1.rows } == outcome.oracle.lateDropped)
        }
    }

    struct Expected: Decodable {
        struct Row: Decodable {
            let topic: String, partition: Int32, offset: Int64, schema_id: Int32
            let message_id: String, trade_id: String, symbol: String, exchange: String, asset_class: String
            let timestamp_us: Int64, price: String, quantity: String, currency: String, side: String
            let trade_conditions: [String], source_sequence: Int64?, ingestion_timestamp_us: Int64
            let platform_sequence: Int64?, vendor_data: [String: String]?
        }
        struct Dead: Decodable { let topic: String, partition: Int32, offset: Int64, reason: String, schema_id: Int32 }
        let silver: [Row]
        let dlq: [Dead]
    }

    @Test func aCaptureWrittenWithFastavroDecodesFieldByField() throws {
        let fixtures = Self.root + "/Tests/ReplayTests/Fixtures"
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/independent-capture.expected.json")))
        let run = try ReplayRunner.run(path: fixtures + "/independent-capture.jsonl", profilesDirectory: Self.root + "/scenarios/profiles")
        #expect(run.feed.ignoredTopics == [IgnoredTopic(topic: "market.crypto.trades.coinbase", messages: 1, partitions: 1)])
        let p = run.pipeline
        let silver = (0..<p.silverBinance.rowCount).map { (p.silverBinance, $0) } + (0..<p.silverKraken.rowCount).map { (p.silverKraken, $0) }
        #expect(silver.count == expected.silver.count)
        for want in expected.silver {
            guard let (table, i) = silver.first(where: { $0.0.row($0.1).trade.messageId == want.message_id }) else {
                Issue.record("\(want.message_id) is not in Silver"); continue
            }
            let row = table.row(i), t = row.trade
            let bronze = want.exchange == "BINANCE" ? p.bronzeBinance : p.bronzeKraken
            // Partitions and the capture's real offsets, gaps included.
            #expect(bronze.partitionOf(row.sourceBronzeRow) == want.partition && bronze.offsetOf(row.sourceBronzeRow) == want.offset)
            #expect(row.schemaId == want.schema_id)
            #expect(t.tradeId == want.trade_id && t.symbol == want.symbol && t.exchange == want.exchange && t.assetClass == want.asset_class)
            #expect(t.timestampMicros == want.timestamp_us && t.ingestionTimestampMicros == want.ingestion_timestamp_us)
            let price = try Decimal8(parsing: want.price), quantity = try Decimal8(parsing: want.quantity)
            #expect(t.price == price && t.quantity == quantity, "\(t.price) \(t.quantity)")
            #expect(t.currency == want.currency && t.side.rawValue == want.side)
            #expect(t.tradeConditions == want.trade_conditions)
            #expect(t.sourceSequence == want.source_sequence && t.platformSequence == want.platform_sequence)
            #expect(t.vendorData == want.vendor_data, "\(want.message_id)")
        }
        #expect(p.dlq.rowCount == expected.dlq.count)
        for want in expected.dlq {
            let hit = (0..<p.dlq.rowCount).map { p.dlq.row($0) }.first { $0.sourceOffset == want.offset }
            #expect(hit?.sourceTopic == want.topic && hit?.sourcePartition == want.partition)
            #expect(hit?.errorReason.rawValue == want.reason && hit?.schemaId == want.schema_id)
        }
        // Bronze shows the offsets production had, and the offset log speaks in them too.
        #expect((0..<p.bronzeBinance.rowCount).map { p.bronzeBinance.offsetOf($0) }.sorted() == [88, 89, 1_234_567, 1_234_568, 1_234_575, 1_234_576])
        let firstBronze = p.batchLog.first { $0.job == .bronzeBinance && $0.rowsIn > 0 }!
        #expect(firstBronze.startOffsets == [1_234_567, 0, 88])
        let outcome = ReplayEvaluator.evaluate(run)
        #expect(outcome.passed, "\(outcome.checks.filter { !$0.passed }.map { "\($0.name): \($0.details)" })")
        #expect(outcome.incident.dlqMinutes.map { $0.byReason.map(\.reason) } == [["AVRO_DECODE_ERROR"], ["UNKNOWN_SCHEMA_ID"]])
    }

    @Test func theIncidentReportNamesTheFirstBatchBehindAndTheAlert() throws {
        // Incident 013 re-enacted: silver_binance at a 30 s trigger at production rates.
        let s = try ScenarioParser.parse("""
            name: incident
            description: production rates
            seed: 13
            duration: 25m
            exchanges:
              kraken:
                rate_multiplier: 1
            """, file: "incident.yaml")
        let capture = try ScenarioRecorder.capture(s)
        let feed = try ReplayFeed.build(capture, file: "incident")
        let settings = try ReplayRunner.settings(for: feed, file: "incident", overrides: ["jobs.silver_binance.trigger=30s"])
        let outcome = ReplayEvaluator.evaluate(ReplayRunner.run(feed, file: "incident", settings: settings, profile: .production))
        let first = try #require(outcome.incident.firstBatchBehind)
        #expect(first.job == .silverBinance && first.processingMicros > 30 * Time.microsPerSecond)
        #expect(first.startMicros > settings.startMicros)
        #expect(outcome.incident.alertFiredMicros != nil)
        #expect(outcome.incident.lines.first?.hasPrefix("first batch behind    silver_binance batch") == true)
    }
}
