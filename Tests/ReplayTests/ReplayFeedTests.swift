import Testing
import Kernel
import Codec
import Broker
@testable import Replay

/// The timing rules of docs/REPLAY.md, one by one.
@Suite struct ReplayFeedTests {
    static let binance = ExchangeName.binance.topic, kraken = ExchangeName.kraken.topic
    static let t0Ms: Int64 = 1_768_899_600_000

    func message(_ topic: String = binance, partition: Int32 = 0, offset: Int64, ms: Int64, append: Micros? = nil) -> CapturedMessage {
        CapturedMessage(topic: topic, partition: partition, offset: offset, timestampMs: Self.t0Ms + ms,
                        appendTimeMicros: append, key: Array("BTCUSDT".utf8), value: [0, 0, 0, 0, 2])
    }

    func availability(_ feed: ReplayFeed, _ topic: String = binance, partition: Int = 0) -> [Micros] {
        let log = feed.cluster.topic(topic)!.partitions[partition]
        return (0..<log.recordCount).map { log.appendedAtMicros(atPosition: $0) - Self.t0Ms * 1_000 }
    }

    @Test func messagesBecomeAvailableAtTheirTimestampOrAppendTime() throws {
        let c = Capture(messages: [message(offset: 10, ms: 0), message(offset: 11, ms: 1_000, append: (Self.t0Ms + 1_000) * 1_000 + 37_000)])
        let feed = try ReplayFeed.build(c, file: "c")
        #expect(availability(feed) == [0, 1_037_000])
        #expect(feed.messagesWithAppendTime == 1)
        #expect(feed.cluster.topic(Self.binance)!.partitions[0].logStartOffset == 10)
    }

    @Test func speedScalesAroundTheFirstMessageAndMovesKafkaTimestamps() throws {
        let c = Capture(messages: [message(offset: 0, ms: 1_000), message(offset: 1, ms: 5_000), message(Self.kraken, offset: 0, ms: 2_001)])
        let feed = try ReplayFeed.build(c, speed: try Decimal8(parsing: "2"), file: "c")
        // t0 is the earliest message (1 s); gaps halve; ms timestamps follow, floored.
        #expect(availability(feed) == [1_000_000, 3_000_000])
        #expect(availability(feed, Self.kraken) == [1_500_500])
        #expect(feed.cluster.topic(Self.kraken)!.partitions[0].timestampMs(atPosition: 0) == Self.t0Ms + 1_500)
        #expect(feed.speedText == "2")
        let slow = try ReplayFeed.build(c, speed: try Decimal8(parsing: "0.5"), file: "c")
        #expect(availability(slow) == [1_000_000, 9_000_000])
    }

    @Test func aPartitionNeverMakesAMessageAvailableBeforeTheOneAtThePreviousOffset() throws {
        let c = Capture(messages: [message(offset: 0, ms: 5_000), message(offset: 3, ms: 2_000), message(offset: 4, ms: 6_000),
                                   message(partition: 1, offset: 0, ms: 1_000)])
        let feed = try ReplayFeed.build(c, file: "c")
        #expect(availability(feed) == [5_000_000, 5_000_000, 6_000_000])
        #expect(availability(feed, partition: 1) == [1_000_000])
        #expect(feed.reorderedMessages == 1)
        #expect(feed.cluster.topic(Self.binance)!.partitions[0].latestOffset(at: (Self.t0Ms + 5_000) * 1_000) == 4)
    }

    @Test func otherTopicsAreReportedNotFed() throws {
        let c = Capture(messages: [message(offset: 0, ms: 0), message("trades.coinbase", partition: 2, offset: 5, ms: 0)])
        let feed = try ReplayFeed.build(c, file: "c")
        #expect(feed.ignoredTopics == [IgnoredTopic(topic: "trades.coinbase", messages: 1, partitions: 3)])
        #expect(feed.cluster.topic("trades.coinbase") == nil && feed.replayedMessages == 1)
    }

    @Test func aCaptureBuiltInCodeIsCheckedToo() {
        let c = Capture(messages: [message(offset: 5, ms: 0), message(offset: 5, ms: 1)])
        #expect(throws: InputError.self) { try ReplayFeed.build(c, file: "c") }
        #expect(throws: InputError.self) { try ReplayFeed.build(Capture(), speed: Decimal8(units: 0), file: "c") }
    }
}
