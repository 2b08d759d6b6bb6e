import Foundation
import Testing
import Kernel
import Codec
import Broker
import Engine
import Replay
import Scenarios
@testable import Checks

/// A real registry's ids are arbitrary: a capture made with Confluent's
/// serializer may have V1 under 100042 and V2 under 7, and another subject
/// with its own ids. The engine reads each message with the writer schema
/// registered under its id, and so must the oracle.
@Suite struct RegistryIdsTests {
    static let yaml = """
    name: registry-ids
    description: V1 and V2 traffic with malformed payloads of every reason
    seed: 4242
    duration: 4m
    drain: 5m
    exchanges:
      binance:
        rate_multiplier: 0.05
        v1_share: 20%
      kraken:
        rate_multiplier: 2
        v1_share: 20%
    faults:
    \(malformedFault("binance"))
    \(malformedFault("kraken"))
    """

    /// A scenario fault (YAML list item): malformed payloads of every reason from 1m to 3m.
    static func malformedFault(_ exchange: String) -> String {
        "  - kind: malformed\n    exchange: \(exchange)\n    at: 1m\n    for: 2m\n    reasons: all"
    }

    /// Kraken's subject registers textually different (but wire-identical)
    /// schemas, so a registry gives them ids of their own.
    static func withDoc(_ json: String) -> String {
        json.replacingOccurrences(of: #"{"type":"record","#, with: #"{"type":"record","doc":"Kraken trades","#)
    }

    /// The same traffic with every V1/V2 schema id replaced: Binance V1 -> `binance.v1`,
    /// V2 -> `binance.v2`; Kraken V1 -> 31, V2 -> 30. Other ids (unknown, incompatible) stay.
    static func renumbered(_ c: Capture, binance: (v1: Int32, v2: Int32)) -> Capture {
        let krakenTopic = ExchangeName.kraken.topic
        func newId(_ id: Int32, kraken: Bool) -> Int32? {
            switch (id, kraken) {
            case (1, false): return binance.v1
            case (2, false): return binance.v2
            case (1, true): return 31
            case (2, true): return 30
            default: return nil
            }
        }
        var schemas: [CapturedSchema] = []
        for s in c.schemas {
            let kraken = s.subject == ExchangeName.kraken.subject
            if let id = newId(s.id, kraken: kraken) {
                schemas.append(CapturedSchema(id: id, subject: s.subject, schema: kraken ? withDoc(s.schema) : s.schema))
            } else {
                schemas.append(s)
            }
        }
        let messages = c.messages.map { m -> CapturedMessage in
            var m = m
            if var v = m.value, v.count >= 5, v[0] == 0, let old = WireFormat.schemaId(of: v),
               let id = newId(old, kraken: m.topic == krakenTopic) {
                withUnsafeBytes(of: UInt32(bitPattern: id).bigEndian) { for i in 0..<4 { v[1 + i] = $0[i] } }
                m.value = v
            }
            return m
        }
        return Capture(schemas: schemas, messages: messages)
    }

    @Test func aCaptureWithArbitrarySchemaIdsReplaysWithEveryCheckPassing() throws {
        let s = try ScenarioParser.parse(Self.yaml, file: "registry-ids.yaml")
        let original = try ScenarioRecorder.capture(s)
        // V1 under 100042 and V2 under 7; and the case a real registry produced: V2 under 1, V1 under 2.
        for binance: (v1: Int32, v2: Int32) in [(100_042, 7), (2, 1)] {
            try check(original, binance: binance)
        }
    }

    func check(_ original: Capture, binance: (v1: Int32, v2: Int32)) throws {
        let capture = Self.renumbered(original, binance: binance)
        #expect(Set(capture.schemas.map(\.id)).isSuperset(of: [binance.v1, binance.v2, 31, 30]))

        func replay(_ c: Capture) throws -> ReplayOutcome {
            let feed = try ReplayFeed.build(c, file: "ids")
            let settings = try ReplayRunner.settings(for: feed, file: "ids", overrides: ["seed=4242"])
            return ReplayEvaluator.evaluate(ReplayRunner.run(feed, file: "ids", settings: settings, profile: .production))
        }
        let outcome = try replay(capture)
        #expect(outcome.passed, "\(binance): \(outcome.checks.filter { !$0.passed }.map { "\($0.name): \($0.details.prefix(3))" })")
        // Every Silver row was checked against the independent reader, none skipped as unreadable.
        #expect(outcome.oracle.figures["dlq"]?["silver_rows_not_verifiable"] == .int(0), "\(binance)")
        // The same rows as with the project's own ids, only the schema_id column differs.
        let baseline = try replay(original)
        let p = outcome.run.pipeline, q = baseline.run.pipeline
        #expect(p.silverBinance.rowCount == q.silverBinance.rowCount && p.silverKraken.rowCount == q.silverKraken.rowCount)
        #expect(p.silverBinance.rowCount > 0 && p.silverKraken.rowCount > 0)
        #expect((0..<p.silverBinance.rowCount).allSatisfy { p.silverBinance.row($0).trade == q.silverBinance.row($0).trade })
        #expect(Set((0..<p.silverBinance.rowCount).map { p.silverBinance.row($0).schemaId }) == [binance.v1, binance.v2])
        #expect(Set((0..<p.silverKraken.rowCount).map { p.silverKraken.row($0).schemaId }) == [31, 30])
        #expect(outcome.oracle.figures["dlq"]?["by_reason"] == baseline.oracle.figures["dlq"]?["by_reason"])
        let reasons = (0..<p.dlq.rowCount).map { p.dlq.row($0).errorReason.rawValue }
        #expect(reasons.contains("TRAILING_BYTES") && reasons.contains("AVRO_DECODE_ERROR"))
    }

    @Test func theReferenceReaderRecognizesLayoutsByTheirFieldsNotTheirIds() {
        let layouts = ReferenceTradeReader.Layouts(schemaJSON: { id in
            switch id {
            case 100_042: return TradeSchemas.v1JSON
            case 7: return Self.withDoc(TradeSchemas.v2JSON)
            case 3: return #"{"type":"record","name":"Trade","fields":[{"name":"message_id","type":"long"}]}"#
            default: return nil
            }
        })
        #expect(layouts.layout(of: 100_042) == .v1)
        #expect(layouts.layout(of: 7) == .v2)
        #expect(layouts.layout(of: 3) == nil)
        #expect(layouts.layout(of: 1) == nil)
        // A schema with another decimal scale is neither layout: its bytes mean other prices.
        let scale2 = ReferenceTradeReader.Layouts(schemaJSON: { _ in TradeSchemas.v2JSON.replacingOccurrences(of: "\"scale\":8", with: "\"scale\":2") })
        #expect(scale2.layout(of: 2) == nil)
    }
}
