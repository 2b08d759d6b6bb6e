import Broker
import Codec
import Kernel
import Testing
@testable import Engine

/// Gold's row references are sealed like Bronze's and Silver's (see
/// BrokerTests/SealedSegmentTests for the segments themselves): once a
/// committed segment is out of the live window it is packed, compressed and
/// spilled, and readers must not notice; memory holds the live window only.
@Suite struct GoldSealingTests {
    static let segmentRows = GoldTable.Rows.segmentRows

    /// Silver inputs of 7 (binance) and 5 (kraken) committed rows, and a Gold table over them.
    static func tables() -> (GoldTable, [SilverTable]) {
        let cluster = KafkaCluster()
        let pool = StringPool(), lists = StringListPool()
        let silver = [ExchangeName.binance, .kraken].enumerated().map { k, e in
            let bronze = BronzeTable(name: k == 0 ? .bronzeBinance : .bronzeKraken, topic: e.topic, cluster: cluster)
            let s = SilverTable(name: GoldTable.inputs[k], exchange: e, bronze: bronze, pool: pool, lists: lists)
            for i in 0..<(k == 0 ? 7 : 5) {
                let id = UInt64(k * 100 + i)
                s.stage(FakeWire.trade(.init(exchange: e, id: id, timestampMicros: T0 + sec(Int64(i)), ingestionMicros: T0)),
                        schemaId: 2, sourceRow: i)
            }
            let made = s.sink.commitStaged(queryId: "q", job: k == 0 ? .silverBinance : .silverKraken, batchId: 0,
                                           batchTimestampMicros: T0, at: T0)
            #expect(made && s.rowCount == (k == 0 ? 7 : 5))
            return s
        }
        return (GoldTable(inputs: silver), silver)
    }

    /// Gold row `g`: input, Silver row and event time. One row a second, so
    /// an event hour is 3,600 rows; every 11th row is two hours late, every
    /// 13th is before 1970 (negative seconds: the hour is floored).
    static func source(_ g: Int) -> (input: Int, row: Int, eventSeconds: Int64) {
        let input = g % 3 == 0 ? 1 : 0
        let e = T0 / Time.microsPerSecond + Int64(g) - (g % 11 == 0 ? 7_200 : 0)
        return (input, g % (input == 0 ? 7 : 5), g % 13 == 0 ? -e : e)
    }

    /// What a reader saw of row `i` while it was live.
    struct Seen: Equatable {
        var source: [Int] = [], eventSeconds: Int64 = 0, ingestion: Micros = 0
        var messageId = "", vendor: String? = nil, row: GoldRow? = nil
    }

    static func read(_ gold: GoldTable, _ i: Int, fullRow: Bool) -> Seen {
        let s = gold.source(i)
        return Seen(source: [s.input, s.row], eventSeconds: gold.eventSeconds(i), ingestion: gold.ingestionMicros(i),
                    messageId: gold.messageId(i), vendor: gold.vendorDataJSON(i), row: fullRow ? gold.row(i) : nil)
    }

    /// Partitions counted the way Gold counted them when it kept every row
    /// whole: one scan of the event times.
    static func partitions(_ eventSeconds: [Int64]) -> [GoldPartition] {
        var counts: [Int64: Int] = [:]
        for e in eventSeconds { counts[Time.floorDiv(e, 3600), default: 0] += 1 }
        return counts.keys.sorted().map { h in
            let c = UTCDateTime(micros: h * Time.microsPerHour)
            return GoldPartition(exchangeDate: c.dateString, exchangeHour: Int(c.hour), rowCount: counts[h]!)
        }
    }

    /// 12 segments of rows committed in batches of 10,000, with an abandoned
    /// batch and a replayed one (dropped by the idempotence check) on the
    /// way: every row read back after sealing is what it was while live,
    /// the partitions are those of a scan of every row, and the bytes held
    /// stay within the live window while the spilled bytes grow.
    @Test func sealedGoldReadsBackAsLiveAndHoldsTheLiveWindowOnly() {
        let (gold, silver) = Self.tables()
        let n = 12 * Self.segmentRows + 4_321
        var seen: [Seen] = []
        var eventSeconds: [Int64] = []
        var heldAtFiveSegments = 0, spilledAtFiveSegments = 0
        var batch: Int64 = 0
        func stage(_ range: Range<Int>) {
            for g in range {
                let s = Self.source(g)
                gold.stage(from: silver[s.input], input: s.input, row: s.row, eventSeconds: s.eventSeconds)
            }
        }
        while gold.rowCount < n {
            let first = gold.rowCount, end = min(first + 10_000, n)
            if batch == 20 {
                // An abandoned batch, then a replay of the last committed one: neither leaves a row.
                stage(first ..< end)
                gold.sink.discardStaged()
                stage(first ..< first + 77)
                #expect(!gold.commitStaged(queryId: "gold", batchId: batch - 1, batchTimestampMicros: 0, at: 0))
                #expect(gold.rowCount == first && gold.sink.stagedCount == 0)
            }
            stage(first ..< end)
            #expect(gold.commitStaged(queryId: "gold", batchId: batch, batchTimestampMicros: T0 + batch, at: T0 + batch))
            for i in first..<end {
                seen.append(Self.read(gold, i, fullRow: i % 97 == 0 || i == n - 1))
                eventSeconds.append(Self.source(i).eventSeconds)
            }
            batch += 1
            if heldAtFiveSegments == 0 && gold.rowCount >= 5 * Self.segmentRows {
                (heldAtFiveSegments, spilledAtFiveSegments) = (gold.storageBytes, gold.spilledBytes)
            }
        }
        #expect(gold.rowCount == n && gold.snapshots.count == Int(batch))
        // Sealed: every segment but the last three, on disk.
        #expect(gold.sink.rows.sealedCount == 10 && gold.spilledBytes > 0)
        #expect(!gold.sink.rows.isLive(0) && gold.sink.rows.isLive(12))
        for i in 0..<n {
            let now = Self.read(gold, i, fullRow: seen[i].row != nil)
            if now != seen[i] { Issue.record("row \(i): \(now) after sealing, \(seen[i]) while live"); break }
        }
        #expect(Array(gold.rows.map(\.eventTimeSeconds)) == eventSeconds)
        let expected = Self.partitions(eventSeconds)
        #expect(expected.count > 100 && expected.contains { $0.exchangeDate < "1970-01-01" })
        #expect(gold.partitions == expected)
        #expect(gold.partitions == expected, "asked twice")
        // Held in memory: the live window, at most four segments of 13 bytes
        // a row (twice over: an array's capacity depends on the allocator),
        // at 5 segments as at 12, under what the 12 segments' rows take
        // whole; what is sealed goes to disk.
        let bound = 4 * Self.segmentRows * 13 * 2 + 64 << 10
        #expect(bound < n * 13)
        #expect(heldAtFiveSegments > 0 && heldAtFiveSegments < bound)
        #expect(gold.storageBytes < bound, "held \(gold.storageBytes) B at 12 segments, \(heldAtFiveSegments) B at 5")
        #expect(spilledAtFiveSegments > 0 && gold.spilledBytes > 2 * spilledAtFiveSegments)
    }

    /// The corruption hooks the oracle's tests use still change what readers
    /// see, partitions included.
    @Test func testHooksMoveRowsBetweenPartitions() {
        let (gold, silver) = Self.tables()
        for g in 0..<10 {
            let s = Self.source(g + 1)
            gold.stage(from: silver[s.input], input: s.input, row: s.row, eventSeconds: s.eventSeconds)
        }
        #expect(gold.commitStaged(queryId: "gold", batchId: 0, batchTimestampMicros: T0, at: T0))
        let hour = gold.partitions
        #expect(hour.map(\.rowCount) == [10])
        gold.testOnly_setEventSeconds(4, gold.eventSeconds(4) + 3_600)
        #expect(gold.partitions.map(\.rowCount) == [9, 1])
        gold.testOnly_duplicateRow(4, silver: silver[0])
        #expect(gold.rowCount == 11 && gold.source(10) == gold.source(4) && gold.partitions.map(\.rowCount) == [9, 2])
        gold.testOnly_loseLastRow()
        #expect(gold.rowCount == 10 && gold.partitions.map(\.rowCount) == [9, 1])
        gold.testOnly_setEventSeconds(4, gold.eventSeconds(4) - 3_600)
        #expect(gold.partitions == hour)
    }
}
