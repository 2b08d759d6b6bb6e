import Foundation
import Testing
import Kernel
import Codec
@testable import Replay

/// The production sources: Kafka log segments written by kafka-python, Bronze
/// exports written by PySpark, registry exports. Fixtures and the scripts
/// that wrote them: Tests/ReplayTests/Fixtures/sources.
@Suite struct ReplaySourcesTests {
    static var fixtures: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/Fixtures/sources"
    }
    static var logs: String { fixtures + "/kafka-logs" }
    static func expected() throws -> Capture { try CaptureReader.load(path: fixtures + "/expected.jsonl") }

    /// A scratch copy of the Kafka logs to damage.
    static func scratchLogs(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "replay-sources-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.copyItem(atPath: logs, toPath: dir)
        return dir
    }

    func sameMessages(_ a: Capture, _ b: Capture) -> Bool {
        a.messageCount == b.messageCount && a.messages.elementsEqual(b.messages)
    }

    @Test func kafkaSegmentsReadAsTheTrafficTheyHold() throws {
        let (c, report) = try ReplaySources.load(paths: [Self.logs], options: .init(schemas: [Self.fixtures + "/registry"]))
        let want = try Self.expected()
        #expect(c.messageCount == 672)
        #expect(sameMessages(c, want))
        #expect(Set(c.schemas.map(\.id)) == [1, 2, 3])
        let kraken = try #require(report.partitions.first { $0.topic == "market.crypto.trades.kraken" })
        // Commit marker, 5 aborted records, abort marker: one gap of 7 offsets.
        #expect(kraken.gaps == 1 && kraken.missingOffsets == 7 && kraken.messages == 331)
        let notes = report.sources[0].notes.joined(separator: "\n")
        #expect(notes.contains("5 records of aborted transactions skipped") && notes.contains("2 transaction markers skipped"))
        #expect(notes.contains("9 gzip") && notes.contains("6 zstd"))
        #expect(report.partitions.map(\.firstOffset) == [1000, 0, 0])
    }

    @Test func headersTimestampTypesAndKeysAreKept() throws {
        let dir = Self.logs + "/market.crypto.trades.binance-0"
        let (records, summary) = try KafkaLog.records(files: try KafkaLog.segmentFiles(in: dir), topic: "market.crypto.trades.binance", partition: 0)
        #expect(summary.files.count == 2 && records.count == 214)
        #expect(records.allSatisfy { $0.headers == [KafkaHeader(key: "producer", value: Array("feed-handler-2".utf8)), KafkaHeader(key: "trace", value: nil)] })
        #expect(records.first?.key == Array("BTCUSDT".utf8) && records.first?.offset == 1000)
        let (p1, _) = try KafkaLog.records(files: try KafkaLog.segmentFiles(in: Self.logs + "/market.crypto.trades.binance-1"),
                                           topic: "market.crypto.trades.binance", partition: 1)
        // The second batch (offsets 25-49) has log-append time: every record takes the batch's max timestamp.
        let second = p1.filter { (25..<50).contains($0.offset) }
        #expect(second.count == 25 && second.allSatisfy { $0.logAppendTime && $0.timestampMs == second[0].timestampMs })
        #expect(p1.filter { $0.logAppendTime }.count == 25)
    }

    @Test func registryExportsByRestAnswerAndByTopicAgree() throws {
        let want = try Self.expected().schemas
        let rest = try RegistryExport.load(Self.fixtures + "/registry")
        let topic = try RegistryExport.load(Self.fixtures + "/registry-topic/_schemas-0")
        // The topic holds what the subject answers hold; the id answers add the same schemas under ids/<id>.
        #expect(Set(topic.map { "\($0.id) \($0.subject)" }) == Set(want.map { "\($0.id) \($0.subject)" }))
        #expect(Set(rest.map { "\($0.id) \($0.schema)" }) == Set(want.map { "\($0.id) \($0.schema)" }))
        #expect(rest.contains { $0.subject == "ids/3" })
    }

    @Test func bronzeExportsWrittenBySparkReadAsTheTrafficTheyHold() throws {
        let want = try Self.expected()
        for (dir, mapping) in [("bronze-json", nil), ("bronze-json-gz", nil),
                               ("bronze-renamed", "topic=kafka_topic,partition=kafka_partition,offset=kafka_offset,timestamp=ts,value=payload")] {
            let columns = try mapping.map { try BronzeColumns(mapping: $0) } ?? BronzeColumns()
            let (c, report) = try ReplaySources.load(paths: [Self.fixtures + "/" + dir], options: .init(bronzeColumns: columns))
            #expect(sameMessages(c, want), "\(dir)")
            #expect(report.sources.map(\.kind) == [.bronzeExport], "\(dir)")
        }
        // Without the mapping, the renamed export says which column is missing.
        #expect(throws: InputError.self) { try ReplaySources.load(paths: [Self.fixtures + "/bronze-renamed"]) }
    }

    @Test func sparkTimestampsWithZones() {
        func parsedMs(_ s: String) -> Int64? { let b = Array(s.utf8); return SparkTimestamp.parseMillis(b, 0, b.count) }
        #expect(parsedMs("2026-01-20T09:00:00.228Z") == 1_768_899_600_228)
        #expect(parsedMs("2026-01-20T10:00:00.228+01:00") == 1_768_899_600_228)
        #expect(parsedMs("2026-01-20 04:00:00.2289999-0500") == 1_768_899_600_228)
        #expect(parsedMs("2026-01-20T09:00:00Z") == 1_768_899_600_000)
        #expect(parsedMs("2026-01-20T09:00:00.228") == nil)  // no zone
        #expect(parsedMs("2026-13-20T09:00:00Z") == nil)
    }

    @Test func severalSourcesMergeAndIdenticalRecordsCountOnce() throws {
        let want = try Self.expected()
        // The Binance partitions from the broker's log, everything again from Bronze.
        let (c, report) = try ReplaySources.load(
            paths: [Self.logs + "/market.crypto.trades.binance-0", Self.logs + "/market.crypto.trades.binance-1", Self.fixtures + "/bronze-json"],
            options: .init(schemas: [Self.fixtures + "/registry-topic/_schemas-0"]))
        #expect(report.duplicatesAcrossSources == 341)
        #expect(sameMessages(c, want))
        #expect(report.sources.map(\.kind) == [.kafkaLog, .kafkaLog, .bronzeExport, .registry])
    }

    // MARK: - Damaged segments

    func failure(_ paths: [String]) -> InputError? {
        do { _ = try ReplaySources.load(paths: paths); return nil } catch { return error }
    }

    static func patch(_ file: String, _ body: (inout [UInt8]) -> Void) throws {
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        body(&b)
        try Data(b).write(to: URL(fileURLWithPath: file))
    }

    typealias Batches = [(pos: Int, base: Int64)]

    /// A scratch copy of the logs (folder `name`) with one segment of
    /// `partition` edited by `body`, which gets the segment's batches.
    static func patchedSegment(_ name: String, _ partition: String, firstOffset: String = "00000000000000000000",
                               _ body: (inout [UInt8], Batches) -> Void) throws -> (dir: String, seg: String, batches: Batches) {
        let dir = try scratchLogs(name)
        let seg = "\(dir)/market.crypto.trades.\(partition)/\(firstOffset).log"
        let found = try batches(seg)
        try patch(seg) { body(&$0, found) }
        return (dir, seg, found)
    }

    /// Byte position and base offset of each batch of a segment.
    static func batches(_ file: String) throws -> Batches {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        var out: [(Int, Int64)] = []
        var pos = 0
        while pos + 12 <= b.count {
            let base = b[pos..<pos + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            let len = b[pos + 8..<pos + 12].reduce(0) { $0 << 8 | Int($1) }
            out.append((pos, base)); pos += 12 + len
        }
        return out
    }

    @Test func aCorruptedBatchNamesFileByteOffsetAndBaseOffset() throws {
        // Batch 5: the first data batch after the transaction markers.
        let (dir, seg, batches) = try Self.patchedSegment("crc", "kraken-0") { $0[$1[5].pos + 100] ^= 0x40 }
        let third = batches[5]
        let e = try #require(failure([dir]))
        #expect(e.file == seg)
        #expect(e.problem.hasPrefix("byte offset \(third.pos): batch at base offset \(third.base): CRC-32C mismatch"), "\(e)")
    }

    @Test func anUnknownMagicNamesFileByteOffsetAndBaseOffset() throws {
        let (dir, seg, batches) = try Self.patchedSegment("magic", "binance-1") { $0[$1[1].pos + 16] = 1 }
        let b = batches[1]
        let e = try #require(failure([dir]))
        #expect(e.file == seg && e.problem.hasPrefix("byte offset \(b.pos): batch at base offset \(b.base): unknown magic 1"), "\(e)")
    }

    @Test func anUnsupportedCodecNamesTheCodecAndTheBatch() throws {
        for (codec, name) in [(2, "snappy"), (3, "lz4")] {
            let (dir, seg, _) = try Self.patchedSegment("codec\(codec)", "binance-1") { bytes, batches in
                let b = batches[0], end = batches[1].pos
                bytes[b.pos + 22] = (bytes[b.pos + 22] & ~7) | UInt8(codec)
                let crc = CRC32C.checksum(Array(bytes[(b.pos + 21)..<end]))
                for k in 0..<4 { bytes[b.pos + 17 + k] = UInt8((crc >> (24 - 8 * UInt32(k))) & 0xFF) }
            }
            let e = try #require(failure([dir]))
            #expect(e.file == seg && e.problem.hasPrefix("byte offset 0: batch at base offset 0: \(name)-compressed batch"), "\(e)")
        }
    }

    @Test func aTruncatedBatchInsideTheLogIsAnError() throws {
        // The first of binance-0's two segments: a cut there is not a crash's tail.
        let (dir, seg, batches) = try Self.patchedSegment("cut", "binance-0", firstOffset: "00000000000000001000") { b, _ in
            b.removeLast(40)
        }
        let last = batches.last!
        let e = try #require(failure([dir]))
        #expect(e.file == seg && e.problem.hasPrefix("byte offset \(last.pos): batch at base offset \(last.base): truncated batch"), "\(e)")
    }

    @Test func aTruncatedTailReplaysWhatPrecedesItAndSaysSo() throws {
        let (dir, seg, batches) = try Self.patchedSegment("tail", "kraken-0") { b, _ in b.removeLast(30) }
        let last = batches.last!
        let (c, report) = try ReplaySources.load(paths: [dir])
        let want = try Self.expected()
        let lastBatchRecords = want.messages.filter { $0.topic == "market.crypto.trades.kraken" && $0.offset >= last.base }.count
        #expect(lastBatchRecords > 0)
        #expect(c.messageCount == want.messageCount - lastBatchRecords)
        let note = report.sources[0].notes.first { $0.contains("TRUNCATED TAIL") }
        #expect(note?.contains("\(seg) at byte offset \(last.pos)") == true && note?.contains("base offset \(last.base)") == true, "\(report.lines)")
    }

    @Test func crc32cKnownAnswers() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }
}

/// Damaged input of every shape is an error or a read, never a crash.
@Suite struct ReplaySourcesRobustnessTests {
    static func tempDir(_ name: String) -> String {
        let d = NSTemporaryDirectory() + "replay-robust-\(getpid())-\(name)/market.crypto.trades.kraken-0"
        try? FileManager.default.removeItem(atPath: d)
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func everyCutAndManyFlippedBytesOfASegmentAreHandled() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ReplaySourcesTests.logs + "/market.crypto.trades.binance-1/00000000000000000000.log")))
        let dir = Self.tempDir("segment")
        let file = dir + "/00000000000000000000.log"
        var reads = 0, errors = 0
        func attempt(_ bytes: [UInt8]) {
            try? Data(bytes).write(to: URL(fileURLWithPath: file))
            do { _ = try KafkaLog.records(files: [file], topic: "t", partition: 0); reads += 1 } catch { errors += 1 }
        }
        for cut in stride(from: 0, to: original.count, by: 29) { attempt(Array(original[..<cut])) }
        var pos = 1  // flips at a fixed walk over positions (deterministic)
        for k in 0..<200 {
            var b = original
            pos = (pos * 7_919 + 13) % b.count
            b[pos] ^= UInt8(1 << (k % 8))
            attempt(b)
        }
        #expect(reads > 0 && errors > 0)
    }

    @Test func damagedBronzeLinesAreErrorsNamingTheirLine() throws {
        let good = #"{"topic":"market.crypto.trades.kraken","partition":0,"offset":5,"kafka_timestamp":"2026-01-20T09:00:00.228Z","value":"AAAAAAI="}"#
        let cases: [(String, String)] = [
            (String(good.dropLast(10)), "truncated line"),
            (good.replacingOccurrences(of: "\"AAAAAAI=\"", with: "\"AAA*AAI=\""), "not valid base64"),
            (good.replacingOccurrences(of: "228Z", with: "228"), "not a timestamp with a zone"),
            (good.replacingOccurrences(of: "\"offset\":5", with: "\"offset\":\"5\""), "offset is not an integer"),
            (good.replacingOccurrences(of: ",\"kafka_timestamp\":\"2026-01-20T09:00:00.228Z\"", with: ""), "no 'kafka_timestamp' column"),
            (good.replacingOccurrences(of: "\"partition\":0", with: "\"partition\":-1"), "partition -1 out of range"),
        ]
        for (line, words) in cases {
            let text = good + "\n" + line + (words == "truncated line" ? "" : "\n")
            do {
                _ = try BronzeExport.capture(files: [("part-00000.json", Array(text.utf8))], columns: BronzeColumns())
                Issue.record("accepted: \(line)")
            } catch {
                #expect(error.line == 2 && error.problem.contains(words), "\(error)")
            }
        }
        // Every prefix of a good file: a read or an error, never a crash.
        let text = Array((good + "\n" + good.replacingOccurrences(of: "\"offset\":5", with: "\"offset\":6") + "\n").utf8)
        for cut in 0...text.count { _ = try? BronzeExport.capture(files: [("p", Array(text[..<cut]))], columns: BronzeColumns()) }
    }
}
