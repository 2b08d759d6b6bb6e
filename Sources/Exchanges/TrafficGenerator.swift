import Kernel
import Codec
import Broker

/// The driver: generates every message of a run up front, appended to the
/// cluster in each partition's append-time order, with a label per message.
///
/// Exchanges are independent (each writes only its own topic from its own
/// streams); within one, sends are processed in create-time order from a
/// queue merging live trades, retries, snapshots, backfills and malformed
/// injections.
public enum TrafficGenerator {
    /// Generates `plan` into `cluster` (topics are created when missing, with the
    /// feed's partition count) and registers its schemas in `registry`.
    /// Precondition: `plan.problems()` is empty, and `registry` holds no other
    /// schema under the plan's ids.
    public static func generate(_ plan: TrafficPlan, into cluster: KafkaCluster = KafkaCluster(),
                                registry: SchemaRegistry = SchemaRegistry()) -> GeneratedTraffic {
        let problems = plan.problems()
        precondition(problems.isEmpty, "invalid traffic plan: \(problems.joined(separator: "; "))")
        let truth = GroundTruth()
        var stats: [FeedStatistics] = []
        var registrations: [SchemaRegistration] = []
        let usesIncompatible = plan.faults.contains {
            if case .malformed(.incompatibleSchema, _) = $0.effect { return true } else { return false }
        }
        for e in ExchangeName.allCases {
            registrations.append(SchemaRegistration(subject: e.subject, id: plan.schemaIds.v1, schema: .tradeV1))
            registrations.append(SchemaRegistration(subject: e.subject, id: plan.schemaIds.v2, schema: .tradeV2))
        }
        if usesIncompatible {
            // Under its own subject, as a producer with a wrong schema would register it.
            registrations.append(SchemaRegistration(subject: "market.crypto.trades.incompatible-value",
                                                    id: plan.schemaIds.incompatible, schema: .incompatible))
        }
        for r in registrations {
            do { try registry.register(subject: r.subject, schemaJSON: r.schemaJSON, id: r.id) } catch {
                preconditionFailure("cannot register schema id \(r.id) under \(r.subject): \(error)")
            }
        }
        for config in plan.feeds.sorted(by: { $0.exchange < $1.exchange }) {
            let topic = cluster.topic(config.exchange.topic)
                ?? cluster.createTopic(config.exchange.topic, partitions: config.partitionCount)
            truth.addTopic(topic.name, partitions: topic.partitionCount)
            let faults = plan.faults.enumerated().filter { $0.element.exchange == config.exchange }.map { ($0.offset, $0.element) }
            let runner = FeedRunner(plan: plan, config: config, topic: topic, faults: faults, truth: truth)
            runner.run()
            stats.append(runner.stats)
        }
        return GeneratedTraffic(cluster: cluster, groundTruth: truth, registry: registry, registrations: registrations, statistics: stats)
    }
}

/// The label a send carries until the broker gives it an offset.
struct PendingLabel {
    enum Outcome { case gold, backfill, duplicateOf(sendId: UInt64), deadLetter(DeadLetterReason) }
    var outcome: Outcome
    var fault: FaultKind
    var faultIndex: Int?
    var eventTimeMicros: Micros?
    var sendId: UInt64
    /// Remember this send's offset: a duplicate of it will refer to it.
    var remember: Bool
}

/// Files labels as the producer appends: the offsets are only known then.
final class LabelSink {
    let truth: GroundTruth
    let topic: String
    private var offsetsBySendId: [UInt64: Int64] = [:]
    init(truth: GroundTruth, topic: String) { self.truth = truth; self.topic = topic }

    func appended(_ l: PendingLabel, partition: Int32, offset: Int64) {
        if l.remember { offsetsBySendId[l.sendId] = offset }
        let outcome: ExpectedOutcome
        switch l.outcome {
        case .gold: outcome = .gold
        case .backfill: outcome = .backfill
        case .deadLetter(let r): outcome = .deadLetter(r)
        case .duplicateOf(let id):
            guard let o = offsetsBySendId.removeValue(forKey: id) else { preconditionFailure("a duplicate was appended before its original") }
            outcome = .duplicate(originalOffset: o)
        }
        truth.record(GroundTruthLabel(outcome: outcome, fault: l.fault, faultIndex: l.faultIndex, eventTimeMicros: l.eventTimeMicros),
                     at: MessageAddress(topic: topic, partition: partition, offset: offset))
    }
}

/// Generates one exchange's feed into its topic.
final class FeedRunner {
    enum Send {
        case live(value: [UInt8], symbol: Int, label: PendingLabel, trade: GeneratedTrade, version: TradeSchemaVersion)
        case retry(value: [UInt8], symbol: Int, label: PendingLabel, notBefore: Micros)
        case snapshot(trade: GeneratedTrade, version: TradeSchemaVersion, originalId: UInt64, originalValid: Bool,
                      faultIndex: Int, notBefore: Micros)
        case backfill(queue: Int)
        case malformed(fault: Int)
    }

    /// An extra arrival process of a spike (multiplier > 1).
    struct SpikeSource {
        var arrivals: HawkesArrivals
        var trades: RandomStream
        var ids: RandomStream
        var latency: RandomStream
        let faultIndex: Int
    }

    /// Trades held back by a late-backfill or outage fault, delivered in order.
    struct BackfillQueue {
        var trades: [GeneratedTrade] = []
        var next = 0
        let faultIndex: Int
        let kind: FaultKind
        let deliverAt: Micros
    }

    /// A fault's own state: its stream, and what it schedules.
    struct ActiveFault {
        let index: Int
        let spec: FaultSpec
        var rng: RandomStream
        var malformedTimes: [Micros] = []
        var malformedNext = 0
        var backfillQueue: Int?
        /// For `.count` selections: the sorted times still to take a trade at.
        var selectionTimes: [Micros] = []
        var selectionNext = 0

        /// Whether this fault takes the eligible trade at `t` (draws only from the fault's stream).
        mutating func selects(_ selection: FaultSelection, at t: Micros) -> Bool {
            switch selection {
            case .share(let r): return rng.chance(r)
            case .count:
                guard selectionNext < selectionTimes.count, selectionTimes[selectionNext] <= t else { return false }
                selectionNext += 1
                return true
            }
        }
    }

    let plan: TrafficPlan
    let config: ExchangeFeedConfig
    let topic: Topic
    let encoder: FeedEncoder
    let sink: LabelSink
    let producer: KafkaProducer<PendingLabel>
    var stats: FeedStatistics
    private var queue = SendQueue<Send>()
    private var base: HawkesArrivals
    private var baseTrades: RandomStream
    private var baseIds: RandomStream
    private var baseLatency: RandomStream
    private var schemaRng: RandomStream
    private var walks: [PriceWalk]
    private var nextTradeId: [Int64]
    private let weights: [UInt64]
    private var spikes: [SpikeSource] = []
    private var backfills: [BackfillQueue] = []
    private var faults: [ActiveFault]
    private var lastIngest: Micros = .min
    private var platformSequence: Int64 = 0
    private var nextSendId: UInt64 = 1
    private let endMicros: Micros

    init(plan: TrafficPlan, config: ExchangeFeedConfig, topic: Topic, faults: [(Int, FaultSpec)], truth: GroundTruth) {
        self.plan = plan
        self.config = config
        self.topic = topic
        let streams = RandomStreams(seed: plan.seed)
        let prefix = "exchange.\(config.exchange.lowercased)."
        let statics = config.symbols.map { SymbolStatics($0, partitionCount: topic.partitionCount) }
        encoder = FeedEncoder(exchange: config.exchange, symbols: statics, ids: plan.schemaIds)
        let sink = LabelSink(truth: truth, topic: topic.name)
        self.sink = sink
        producer = KafkaProducer(topic: topic, deliveryLatency: config.deliveryLatency, rng: streams.stream(prefix + "delivery")) {
            label, partition, offset, _ in sink.appended(label, partition: partition, offset: offset)
        }
        stats = FeedStatistics(exchange: config.exchange)
        stats.messagesPerSymbol = Array(repeating: 0, count: config.symbols.count)
        endMicros = plan.startMicros + plan.durationMicros
        base = HawkesArrivals(rng: streams.stream(prefix + "arrivals"), meanRatePerSecond: config.baseRatePerSecond * config.rateMultiplier,
                              branchingRatio: config.burstBranchingRatio, decayMicros: config.burstDecayMicros,
                              originMicros: plan.startMicros, endMicros: endMicros)
        baseTrades = streams.stream(prefix + "trades")
        baseIds = streams.stream(prefix + "ids")
        baseLatency = streams.stream(prefix + "latency")
        schemaRng = streams.stream(prefix + "schema")
        walks = config.symbols.map { s in
            PriceWalk(rng: streams.stream(prefix + "prices." + s.symbol), originMicros: plan.startMicros, stepMicros: config.priceStepMicros,
                      dailyVolatility: config.dailyVolatility, startUnits: s.startPrice.units, tickUnits: s.tickSize.units)
        }
        nextTradeId = config.symbols.map(\.firstTradeId)
        weights = config.symbols.map(\.popularityWeight)
        self.faults = faults.map { ActiveFault(index: $0.0, spec: $0.1, rng: streams.stream("faults.\($0.0)")) }
        for i in self.faults.indices {
            let f = self.faults[i]
            let s = f.spec
            var selection: FaultSelection? = nil
            if case .duplicate(_, let sel, _) = s.effect { selection = sel }
            if case .lateBackfill(let sel, _) = s.effect { selection = sel }
            if case .count(let n)? = selection, n > 0, s.endMicros > s.startMicros {
                var times = (0..<n).map { _ in self.faults[i].rng.uniform(in: s.startMicros...(s.endMicros - 1)) }
                times.sort()
                self.faults[i].selectionTimes = times
            }
            switch s.effect {
            case .spike(let m) where m > 1:
                let root = "faults.\(f.index)."
                spikes.append(SpikeSource(
                    arrivals: HawkesArrivals(rng: streams.stream(root + "arrivals"),
                                             meanRatePerSecond: config.baseRatePerSecond * config.rateMultiplier * (m - 1),
                                             branchingRatio: config.burstBranchingRatio, decayMicros: config.burstDecayMicros,
                                             originMicros: max(s.startMicros, plan.startMicros), endMicros: min(s.endMicros, endMicros)),
                    trades: streams.stream(root + "trades"), ids: streams.stream(root + "ids"),
                    latency: streams.stream(root + "latency"), faultIndex: f.index))
            case .malformed(_, let count) where count > 0 && s.endMicros > s.startMicros:
                var times = (0..<count).map { _ in self.faults[i].rng.uniform(in: s.startMicros...(s.endMicros - 1)) }
                times.sort()
                self.faults[i].malformedTimes = times
                queue.push(times[0], .malformed(fault: i))
            case .lateBackfill(_, let at):
                self.faults[i].backfillQueue = backfills.count
                backfills.append(BackfillQueue(faultIndex: f.index, kind: .lateBackfill, deliverAt: at))
                queue.push(at, .backfill(queue: backfills.count - 1))
            case .outage(let backfill) where backfill:
                self.faults[i].backfillQueue = backfills.count
                backfills.append(BackfillQueue(faultIndex: f.index, kind: .outage, deliverAt: s.endMicros))
                queue.push(s.endMicros, .backfill(queue: backfills.count - 1))
            default: break
            }
        }
    }

    func run() {
        // Keys are symbols, so partitions are as skewed as the symbols' popularity:
        // reserve each its expected share (+5 %) so an hour's arena is not
        // regrown, but never more than 1M records (~212 MB) per partition up
        // front: memory follows what is produced (the arrays grow
        // geometrically past the reservation), never a configured maximum.
        let expected = config.baseRatePerSecond * config.rateMultiplier * Double(plan.durationMicros) / 1e6
        let totalWeight = Double(weights.reduce(0, +))
        var share = [Double](repeating: 0, count: topic.partitionCount)
        for s in encoder.symbols { share[Int(s.partition)] += Double(s.spec.popularityWeight) / totalWeight }
        for p in topic.partitions {
            let n = Int(min(expected * share[Int(p.partition)] * 1.05, 1_000_000)) + 1_024
            p.reserveCapacity(records: n, bytesEach: 212)
        }
        var steps = 0
        while true {
            // Ctrl-C during generation: let the command line's observer stop the run.
            steps &+= 1
            if steps & 0xFFFF == 0, RunControl.isInterrupted { RunControl.checkpoint(done: 0, total: plan.durationMicros) }
            // Next trade occurrence: the base process first on ties, then spikes in fault order.
            var source = -1
            var t = Micros.max
            if let b = base.peek { t = b; source = 0 }
            for (i, s) in spikes.enumerated() { if let p = s.arrivals.peek, p < t { t = p; source = i + 1 } }
            let nextSend = queue.minTime ?? .max
            if source < 0 && queue.isEmpty { break }
            // An occurrence at t is sent at >= t; so every occurrence at or before the
            // next queued send must be drawn first, to keep sends in create order.
            if source >= 0 && t <= nextSend {
                occur(at: t, source: source)
            } else {
                let e = queue.pop()!
                handle(e.payload, at: e.time)
            }
        }
        producer.flushAll()
        stats.totalMessages = topic.partitions.reduce(0) { $0 + $1.endOffset }
    }

    // MARK: - Trades

    /// Draws one trade's fields (all draws happen whatever the faults do).
    private func drawTrade(at t: Micros, trades: inout RandomStream, ids: inout RandomStream) -> GeneratedTrade {
        let sym = trades.weightedIndex(weights)
        let spec = config.symbols[sym]
        let side: Side = trades.chance(config.buyShare) ? .buy : .sell
        let limit = config.exchange == .kraken ? trades.chance(config.limitOrderShare) : false
        let qtyRaw = Double(spec.medianQuantity.units) * trades.logNormal(mu: 0, sigma: config.quantitySigma)
        let steps = max(1, Int64((qtyRaw / Double(spec.stepSize.units)).rounded(.toNearestOrEven)))
        // Bid-ask bounce: buyers lift the ask one tick above the walk's bid.
        let bid = walks[sym].price(at: t)
        let price = side == .buy ? bid + spec.tickSize.units : bid
        let id = nextTradeId[sym]
        nextTradeId[sym] += 1
        return GeneratedTrade(symbolIndex: sym, side: side, limitOrder: limit, tradeId: id, idHi: ids.nextUInt64(), idLo: ids.nextUInt64(),
                              timestampMicros: t, priceUnits: price, quantityUnits: steps * spec.stepSize.units)
    }

    private func occur(at t: Micros, source: Int) {
        var g: GeneratedTrade
        var latency: Micros
        var fault = FaultKind.none
        var faultIndex: Int? = nil
        if source == 0 {
            base.advance()
            g = drawTrade(at: t, trades: &baseTrades, ids: &baseIds)
            latency = config.feedLatency.draw(&baseLatency)
        } else {
            var s = spikes[source - 1]
            s.arrivals.advance()
            g = drawTrade(at: t, trades: &s.trades, ids: &s.ids)
            latency = config.feedLatency.draw(&s.latency)
            fault = .spike; faultIndex = s.faultIndex
            spikes[source - 1] = s
            stats.spikeTrades += 1
        }
        stats.tradesOccurred += 1
        // Faults that remove or hold back the trade, in fault order.
        for i in faults.indices where faults[i].spec.covers(t) {
            switch faults[i].spec.effect {
            case .spike(let m) where m < 1 && source == 0:
                if faults[i].rng.unitDouble() >= m { stats.thinnedTrades += 1; return }
            case .outage:
                if let q = faults[i].backfillQueue { backfills[q].trades.append(g); stats.backfilledTrades += 1 } else { stats.lostTrades += 1 }
                return
            case .lateBackfill(let selection, _):
                if faults[i].selects(selection, at: t) { backfills[faults[i].backfillQueue!].trades.append(g); stats.backfilledTrades += 1; return }
            default: break
            }
        }
        // Live: the websocket delivers in order, so ingestion times never go back.
        let ingest = max(t + latency, lastIngest)
        lastIngest = ingest
        var version = TradeSchemaVersion.v2
        if config.v1Share.numerator > 0 && schemaRng.chance(config.v1Share) { version = .v1 }
        var outcome = PendingLabel.Outcome.gold
        for i in faults.indices where faults[i].spec.covers(t) {
            switch faults[i].spec.effect {
            case .clockSkew(let ahead, let share):
                if faults[i].rng.chance(share) {
                    g.timestampMicros = ingest + ahead
                    fault = .clockSkew; faultIndex = faults[i].index
                    stats.skewedMessages += 1
                    if g.timestampMicros > ingest + TradeValidator.maxFutureSkewMicros { outcome = .deadLetter(.invalidTimestamp) }
                }
            case .schemaMix(let share):
                if faults[i].rng.chance(share) {
                    version = .v1
                    if fault == .none || fault == .spike { fault = .schemaMix; faultIndex = faults[i].index }
                }
            default: break
            }
        }
        platformSequence += 1
        let value = encoder.encode(g, ingestionMicros: ingest, platformSequence: platformSequence, version: version)
        let label = PendingLabel(outcome: outcome, fault: fault, faultIndex: faultIndex, eventTimeMicros: g.timestampMicros,
                                 sendId: 0, remember: false)
        queue.push(ingest, .live(value: value, symbol: g.symbolIndex, label: label, trade: g, version: version))
    }

    // MARK: - Sends

    private func send(symbol: Int, value: [UInt8], at t: Micros, label: PendingLabel, notBefore: Micros = .min) -> Micros {
        let s = encoder.symbols[symbol]
        return producer.send(partition: s.partition, key: s.key, value: value, createdAtMicros: t, tag: label, notBeforeMicros: notBefore)
    }

    private func handle(_ send: Send, at t: Micros) {
        switch send {
        case .live(let value, let symbol, var label, let trade, let version):
            // Is this send duplicated (first matching duplicate fault wins)?
            var dup: (fault: Int, mode: DuplicateMode, delay: Micros)? = nil
            for i in faults.indices where dup == nil && faults[i].spec.covers(t) {
                if case .duplicate(let mode, let selection, let delay) = faults[i].spec.effect, faults[i].selects(selection, at: t) {
                    dup = (i, mode, delay)
                }
            }
            var valid = true
            if case .deadLetter = label.outcome { valid = false }
            label.sendId = nextSendId; nextSendId += 1
            // Only a valid original can have a duplicate that refers to its offset.
            label.remember = dup != nil && valid
            let appendAt = self.send(symbol: symbol, value: value, at: t, label: label)
            stats.liveMessages += 1
            stats.messagesPerSymbol[symbol] += 1
            if version == .v1 { stats.v1Messages += 1 }
            guard let dup else { return }
            let f = faults[dup.fault]
            switch dup.mode {
            case .producerRetry:
                // Same bytes; a dead letter stays one, a valid trade becomes a duplicate.
                var copy = label
                copy.fault = .producerRetry; copy.faultIndex = f.index; copy.remember = false
                copy.outcome = valid ? .duplicateOf(sendId: label.sendId) : label.outcome
                queue.push(t + dup.delay, .retry(value: value, symbol: symbol, label: copy, notBefore: appendAt))
            case .exchangeResend:
                queue.push(t + dup.delay, .snapshot(trade: trade, version: version, originalId: label.sendId, originalValid: valid,
                                                    faultIndex: f.index, notBefore: appendAt))
            }
        case .retry(let value, let symbol, let label, let notBefore):
            _ = self.send(symbol: symbol, value: value, at: t, label: label, notBefore: notBefore)
            stats.duplicateMessages += 1
        case .snapshot(let trade, let version, let originalId, let originalValid, let faultIndex, let notBefore):
            platformSequence += 1
            let value = encoder.encode(trade, ingestionMicros: t, platformSequence: platformSequence, version: version)
            let outcome: PendingLabel.Outcome
            if trade.timestampMicros > t + TradeValidator.maxFutureSkewMicros { outcome = .deadLetter(.invalidTimestamp) }
            else if originalValid { outcome = .duplicateOf(sendId: originalId) }
            else { outcome = .gold }  // the first valid copy of its message id
            let label = PendingLabel(outcome: outcome, fault: .exchangeResend, faultIndex: faultIndex,
                                     eventTimeMicros: trade.timestampMicros, sendId: 0, remember: false)
            _ = self.send(symbol: trade.symbolIndex, value: value, at: t, label: label, notBefore: notBefore)
            stats.duplicateMessages += 1
        case .backfill(let q):
            var b = backfills[q]
            guard b.next < b.trades.count else { return }
            let g = b.trades[b.next]
            b.next += 1
            platformSequence += 1
            let value = encoder.encode(g, ingestionMicros: t, platformSequence: platformSequence, version: .v2)
            let label = PendingLabel(outcome: .backfill, fault: b.kind, faultIndex: b.faultIndex, eventTimeMicros: g.timestampMicros,
                                     sendId: 0, remember: false)
            _ = self.send(symbol: g.symbolIndex, value: value, at: t, label: label)
            stats.messagesPerSymbol[g.symbolIndex] += 1
            if b.next < b.trades.count { queue.push(t + config.backfillIntervalMicros, .backfill(queue: q)) }
            else { b.trades = [] }
            backfills[q] = b
        case .malformed(let i):
            guard case .malformed(let reason, _) = faults[i].spec.effect else { preconditionFailure("not a malformed fault") }
            var rng = faults[i].rng
            let latency = config.feedLatency.draw(&rng)
            let g = drawTemplate(at: t - latency, rng: &rng)
            // No platform sequence of its own: the feed's sequence (and so every
            // base message's bytes) stays as it would be without the fault.
            let template = encoder.trade(g, ingestionMicros: t, platformSequence: platformSequence, version: .v2)
            let payload = MalformedPayloads.make(reason, from: template, exchange: config.exchange, ids: plan.schemaIds, rng: &rng)
            faults[i].rng = rng
            let label = PendingLabel(outcome: .deadLetter(reason), fault: .malformed, faultIndex: faults[i].index,
                                     eventTimeMicros: payload.eventTimeMicros, sendId: 0, remember: false)
            producer.send(key: payload.key, value: payload.value, createdAtMicros: t, tag: label)
            stats.malformedMessages += 1
            faults[i].malformedNext += 1
            if faults[i].malformedNext < faults[i].malformedTimes.count {
                queue.push(max(t, faults[i].malformedTimes[faults[i].malformedNext]), .malformed(fault: i))
            }
        }
    }

    /// A valid trade for a malformed payload to start from, drawn from the fault's
    /// own stream (the exchange's trade ids are not consumed: it never traded).
    private func drawTemplate(at t: Micros, rng: inout RandomStream) -> GeneratedTrade {
        let sym = rng.weightedIndex(weights)
        let spec = config.symbols[sym]
        let side: Side = rng.chance(config.buyShare) ? .buy : .sell
        let bid = walks[sym].price(at: t)
        return GeneratedTrade(symbolIndex: sym, side: side, limitOrder: false, tradeId: nextTradeId[sym] - 1,
                              idHi: rng.nextUInt64(), idLo: rng.nextUInt64(), timestampMicros: t,
                              priceUnits: side == .buy ? bid + spec.tickSize.units : bid,
                              quantityUnits: spec.medianQuantity.units / spec.stepSize.units * spec.stepSize.units + spec.stepSize.units)
    }
}
