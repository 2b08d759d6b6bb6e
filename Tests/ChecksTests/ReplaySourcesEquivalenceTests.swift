import Foundation
import Testing
import Kernel
import Codec
import Broker
import Engine
import Replay
import Scenarios
@testable import Checks

/// The same traffic, read from where production keeps it — Kafka log segments
/// written by kafka-python, Bronze exports written by PySpark, schemas from
/// registry exports — replays to the same tables and the same report as from
/// medallion-sim's own JSON Lines (Tests/ReplayTests/Fixtures/sources: the
/// scripts convert the JSON Lines one way; this test compares).
@Suite struct ReplaySourcesEquivalenceTests {
    static var root: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }
    static var fixtures: String { root + "/Tests/ReplayTests/Fixtures/sources" }

    func replay(_ paths: [String], _ options: ReplaySourceOptions = .init()) throws -> ReplayOutcome {
        ReplayEvaluator.evaluate(try ReplayRunner.run(paths: paths.map { Self.fixtures + "/" + $0 }, sources: options,
                                                      profilesDirectory: Self.root + "/scenarios/profiles"))
    }

    func expectSame(_ a: ReplayOutcome, _ b: ReplayOutcome, _ name: String) {
        for t in TableName.allCases {
            let x = TableExport.rows(of: t, in: a.run.pipeline), y = TableExport.rows(of: t, in: b.run.pipeline)
            #expect(x.count == y.count, "\(name) \(t.rawValue): \(x.count) rows, JSON Lines \(y.count)")
            if let i = (0..<min(x.count, y.count)).first(where: { x[$0] != y[$0] }) {
                Issue.record("\(name) \(t.rawValue) row \(i) differs:\n  \(x[i])\n  \(y[i])")
            }
        }
        #expect(a.incident.json == b.incident.json, "\(name): incident report")
        #expect(a.incident.lines == b.incident.lines, "\(name): incident report text")
        #expect(a.checks.map(\.name) == b.checks.map(\.name) && a.checks.map(\.passed) == b.checks.map(\.passed), "\(name)")
        // The summary but for what names the source.
        var x = a.summary, y = b.summary
        for s in [0, 1] {
            var v = s == 0 ? x : y
            if case .object(var o) = v, case .object(var r)? = o["replay"] {
                r["capture"] = nil; r["sources"] = nil; r["schemas"] = nil
                o["replay"] = .object(r); v = .object(o)
            }
            if s == 0 { x = v } else { y = v }
        }
        #expect(x == y, "\(name): summary")
    }

    @Test func segmentsAndBronzeExportsReplayLikeTheirJSONLines() throws {
        let reference = try replay(["expected.jsonl"])
        #expect(reference.passed)
        #expect(reference.run.feed.replayedMessages == 672)
        #expect(reference.run.pipeline.dlq.rowCount > 0 && reference.run.pipeline.gold.rowCount > 0)

        let cases: [(String, [String], ReplaySourceOptions)] = [
            ("segments + REST answers", ["kafka-logs"], .init(schemas: [Self.fixtures + "/registry"])),
            ("segments + _schemas topic", ["kafka-logs"], .init(schemas: [Self.fixtures + "/registry-topic/_schemas-0"])),
            ("bronze json", ["bronze-json"], .init(schemas: [Self.fixtures + "/registry"])),
            ("bronze json.gz, +01:00", ["bronze-json-gz"], .init(schemas: [Self.fixtures + "/registry"])),
            ("bronze renamed, zstd", ["bronze-renamed"],
             .init(schemas: [Self.fixtures + "/registry"],
                   bronzeColumns: try BronzeColumns(mapping: "topic=kafka_topic,partition=kafka_partition,offset=kafka_offset,timestamp=ts,value=payload"))),
            ("kraken from bronze, binance from segments",
             ["bronze-json", "kafka-logs/market.crypto.trades.binance-0", "kafka-logs/market.crypto.trades.binance-1"],
             .init(schemas: [Self.fixtures + "/registry-topic/_schemas-0"])),
        ]
        for (name, paths, options) in cases {
            let outcome = try replay(paths, options)
            #expect(outcome.passed, "\(name): \(outcome.checks.filter { !$0.passed }.map(\.name))")
            expectSame(outcome, reference, name)
            #expect(outcome.run.sources?.partitions.count == 3, "\(name)")
        }
    }

    @Test func segmentsWrittenBackAsJSONLinesReplayTheSame() throws {
        // The other way round: what the segment reader loaded, written by `CaptureWriter`, read back.
        let (capture, _) = try ReplaySources.load(paths: [Self.fixtures + "/kafka-logs"],
                                                  options: .init(schemas: [Self.fixtures + "/registry-topic/_schemas-0"]))
        let path = NSTemporaryDirectory() + "segments-\(getpid()).jsonl"
        try CaptureWriter.write(capture, to: path, compact: false)
        let a = ReplayEvaluator.evaluate(try ReplayRunner.run(paths: [path], sources: .init(), profilesDirectory: Self.root + "/scenarios/profiles"))
        let b = try replay(["kafka-logs"], .init(schemas: [Self.fixtures + "/registry-topic/_schemas-0"]))
        #expect(a.passed && b.passed)
        expectSame(a, b, "segments -> JSON Lines")
    }

    @Test func withoutSchemasEveryMessageIsStillData() throws {
        // Segments carry no schemas: without --schemas every framed message is UNKNOWN_SCHEMA_ID in the DLQ.
        let outcome = try replay(["kafka-logs"])
        let p = outcome.run.pipeline
        #expect(p.silverBinance.rowCount == 0 && p.silverKraken.rowCount == 0)
        #expect(p.dlq.rowCount == 672)
        let reasons = Set((0..<p.dlq.rowCount).map { p.dlq.row($0).errorReason.rawValue })
        #expect(reasons.contains("UNKNOWN_SCHEMA_ID"))
        #expect(outcome.passed, "\(outcome.checks.filter { !$0.passed }.map { "\($0.name): \($0.details.prefix(2))" })")
    }
}
