import ArgumentParser
import Engine
import Foundation
import Kernel
import Planning

/// `medallion-sim bench calibrate`: reads and fits N progress records (Gold
/// shaped: sources, state operator, event time; ~1.2 KB each) from one JSON
/// Lines text. Wall-clock time is read here only.
struct BenchCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Time calibrate on N generated progress records (use a release build). Target: 100,000 in under 5 s.")

    @Option(help: "Progress records.")
    var records = 100_000

    @OptionGroup var output: FormatOption

    func run() throws {
        var rng = RandomStreams(seed: 11).stream("bench.calibrate")
        var s = rng
        let id = UUIDv4.make(&s), runId = UUIDv4.make(&s)
        var text = ""
        text.reserveCapacity(records * 1_300)
        var state: Int64 = 0
        for b in 0..<records {
            let rows = Int64(50 + Int(rng.nextUInt64() % 400))
            state += rows
            let ms = 1_768_899_600_000 + Int64(b) * 2_000
            let dur = 300 + rows * 2 + state / 100_000 + Int64(rng.nextUInt64() % 50)
            let ts = SparkProgress.timestamp(ms)
            text += "{\"id\":\"\(id)\",\"runId\":\"\(runId)\",\"name\":\"gold\",\"timestamp\":\"\(ts)\",\"batchId\":\(b),\"batchDuration\":\(dur),\"numInputRows\":\(rows),\"inputRowsPerSecond\":\(Double(rows) / 2),\"processedRowsPerSecond\":\(Double(rows) * 1000 / Double(dur)),\"durationMs\":{\"addBatch\":\(dur - 40),\"commitOffsets\":20,\"getBatch\":0,\"latestOffset\":1,\"queryPlanning\":5,\"triggerExecution\":\(dur),\"walCommit\":14},\"eventTime\":{\"avg\":\"\(ts)\",\"max\":\"\(ts)\",\"min\":\"\(ts)\",\"watermark\":\"\(ts)\"},\"stateOperators\":[{\"operatorName\":\"dedupe\",\"numRowsTotal\":\(state),\"numRowsUpdated\":\(rows),\"allUpdatesTimeMs\":3,\"numRowsRemoved\":0,\"allRemovalsTimeMs\":0,\"commitTimeMs\":9,\"memoryUsedBytes\":\(state * 224),\"numRowsDroppedByWatermark\":0,\"numShufflePartitions\":200,\"numStateStoreInstances\":200,\"customMetrics\":{\"numDroppedDuplicateRows\":0}}],\"sources\":[{\"description\":\"IcebergMicroBatchStream[silver_binance_trades]\",\"startOffset\":{\"position\":\(state - rows)},\"endOffset\":{\"position\":\(state)},\"latestOffset\":{\"position\":\(state)},\"numInputRows\":\(rows),\"inputRowsPerSecond\":\(Double(rows) / 2),\"processedRowsPerSecond\":1.0}],\"sink\":{\"description\":\"IcebergSink[gold_crypto_trades]\",\"numOutputRows\":\(rows)}}\n"
        }
        let clock = ContinuousClock()
        var result: CalibrationResult?
        let elapsed = try clock.measure {
            let recs = try ProgressLogReader.read(text, file: "bench.jsonl")
            result = try Calibrator.fit(recs, query: nil)
        }
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let perRow = result?.fits.first?.parameter("per_row_read")?.value ?? .nan
        switch output.format {
        case .text:
            print("calibrate: \(records) progress records (\(text.utf8.count / 1_048_576) MiB) read and fitted in \(Calibrator.fmt(secs, 2)) s (\(Int(Double(records) / secs)) records/s); fitted per row read \(Calibrator.fmt(perRow, 3)) ms (generated: 2 ms)")
        case .json:
            print(JSONValue.object(["records": .int(records), "seconds": .number(Calibrator.fmt(secs, 3)),
                                    "bytes": .int(text.utf8.count)]).pretty, terminator: "")
        }
    }
}
