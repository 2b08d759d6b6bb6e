import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// docs/REFERENCE.md §3 "Silver" and the DLQ of §2: every Bronze row lands in Silver or the
/// DLQ, with exactly one reason.
@Suite struct SilverTests {
    static let jobs: [JobConfig] = [
        JobConfig(job: .bronzeBinance, triggerMicros: sec(10)), JobConfig(job: .silverBinance, triggerMicros: sec(30)),
    ]

    @Test func validRowsGoToSilverAndEachInvalidOneToTheDLQWithOneReason() {
        let c = makeCluster()
        let at = T0 + sec(2)
        let good = FakeWire.encode(.init(exchange: .binance, id: 1, timestampMicros: at, ingestionMicros: at))
        produce(c, .binance, at: at, value: good)
        produce(c, .binance, at: at, value: [])                                     // EMPTY_PAYLOAD
        produce(c, .binance, at: at, value: [0, 0, 0])                              // TRUNCATED_HEADER
        produce(c, .binance, at: at, value: [1] + Array(good.dropFirst()))          // INVALID_MAGIC_BYTE
        produce(c, .binance, at: at, value: [0, 0, 0, 0, 9] + Array(good.dropFirst(5)))  // UNKNOWN_SCHEMA_ID
        produce(c, .binance, at: at, value: Array(good.dropLast()))                 // AVRO_DECODE_ERROR
        produceTrade(c, .binance, id: 2, at: at, priceUnits: 0)                     // INVALID_PRICE
        produce(c, .binance, at: at, value: FakeWire.encode(.init(exchange: .kraken, id: 3, timestampMicros: at,
                                                                  ingestionMicros: at)))  // INVALID_SYMBOL (first failing check)
        produceTrade(c, .binance, id: 4, at: at, eventMicros: at + sec(301))        // INVALID_TIMESTAMP
        let run = pipeline(c, end: T0 + sec(40), jobs: Self.jobs).run()

        #expect(run.bronzeBinance.rowCount == 9)
        #expect(run.silverBinance.rowCount == 1)
        #expect(run.dlq.rowCount == 8)
        let dlq = Array(run.dlq.rows)
        #expect(dlq.map(\.errorReason) == [.emptyPayload, .truncatedHeader, .invalidMagicByte, .unknownSchemaId,
                                           .avroDecodeError, .invalidPrice, .invalidSymbol, .invalidTimestamp])
        #expect(dlq.map(\.errorCategory) == dlq.map(\.errorReason.category))
        #expect(dlq.map(\.schemaId) == [nil, nil, nil, 9, 2, 2, 2, 2])
        #expect(dlq.map(\.sourceOffset) == Array(1...8))
        #expect(dlq.allSatisfy { $0.sourceTopic == ExchangeName.binance.topic && $0.sourcePartition == 0 })
        #expect(dlq.allSatisfy { $0.exchange == "BINANCE" })
        #expect(dlq.allSatisfy { $0.bronzeIngestionTimestampMicros == T0 + sec(10) })
        #expect(dlq.allSatisfy { $0.dlqWriteTimestampMicros == T0 + sec(30) })
        #expect(dlq[0].rawValue == [] && dlq[1].rawValue == [0, 0, 0])
        #expect(dlq[5].errorMessage.contains("price 0.00000000"))

        let s = run.silverBinance.row(0)
        #expect(s.trade == FakeWire.trade(.init(exchange: .binance, id: 1, timestampMicros: at, ingestionMicros: at)))
        #expect(s.schemaId == 2)
        #expect(s.validationTimestampMicros == T0 + sec(30))
        #expect(s.bronzeIngestionTimestampMicros == T0 + sec(10))
        #expect(s.sourceBronzeRow == 0)
        // Both writes belong to batch 0 of the same query.
        let qid = run.queryId(.silverBinance)!
        #expect(run.silverBinance.snapshots.map { [$0.queryId, "\($0.batchId)"] } == [[qid, "0"]])
        #expect(run.dlq.snapshots.map { [$0.queryId, "\($0.batchId)"] } == [[qid, "0"]])
    }

    @Test func bothSilverJobsShareTheDLQEachIdempotentUnderItsOwnQueryId() {
        let c = makeCluster()
        produce(c, .binance, at: T0 + sec(1), value: [])
        produce(c, .kraken, at: T0 + sec(1), value: [7])
        let jobs = [JobConfig(job: .bronzeBinance), JobConfig(job: .bronzeKraken), JobConfig(job: .silverBinance),
                    JobConfig(job: .silverKraken)]
        let run = pipeline(c, end: T0 + sec(130), jobs: jobs).run()
        #expect(run.dlq.rowCount == 2)
        #expect(Set(run.dlq.snapshots.map(\.queryId)) == [run.queryId(.silverBinance)!, run.queryId(.silverKraken)!])
        #expect(run.dlq.snapshots.allSatisfy { $0.batchId == 0 })
        #expect(Set(run.dlq.rows.map(\.exchange)) == ["BINANCE", "KRAKEN"])
    }
}
