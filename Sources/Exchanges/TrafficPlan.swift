import Kernel
import Codec
import Broker

// What a run's traffic is (the plan) and what generating it gives back; the
// generator that turns one into the other is in TrafficGenerator.swift.

/// What to generate: the run's seed, time span, feeds and faults.
public struct TrafficPlan: Sendable, Equatable {
    public var seed: UInt64
    public var startMicros: Micros
    public var durationMicros: Micros
    /// One config per exchange that trades (an exchange without a feed stays silent).
    public var feeds: [ExchangeFeedConfig]
    /// Faults, each drawing from its own stream `faults.<index in this list>`.
    public var faults: [FaultSpec]
    public var schemaIds: SchemaIds

    public init(seed: UInt64, startMicros: Micros, durationMicros: Micros,
                feeds: [ExchangeFeedConfig] = [.defaultBinance, .defaultKraken], faults: [FaultSpec] = [],
                schemaIds: SchemaIds = .standard) {
        self.seed = seed; self.startMicros = startMicros; self.durationMicros = durationMicros
        self.feeds = feeds; self.faults = faults; self.schemaIds = schemaIds
    }

    /// Problems that make the plan unusable, as sentences (empty when fine).
    public func problems() -> [String] {
        var out: [String] = []
        if durationMicros < 0 { out.append("duration must be >= 0") }
        for e in ExchangeName.allCases where feeds.filter({ $0.exchange == e }).count > 1 {
            out.append("\(e.lowercased): more than one feed config")
        }
        for f in feeds { out += f.problems() }
        for (i, f) in faults.enumerated() {
            out += f.problems().map { "fault \(i): \($0)" }
            if !feeds.contains(where: { $0.exchange == f.exchange }) { out.append("fault \(i): no feed for \(f.exchange.lowercased)") }
        }
        let idSet = [schemaIds.v1, schemaIds.v2, schemaIds.unknown, schemaIds.incompatible]
        if Set(idSet).count != 4 { out.append("schema ids v1, v2, unknown and incompatible must differ") }
        return out
    }
}

/// A generated run: the topics, the labels (for the checks only) and the
/// schemas registered (`registrations`, to put in the run's schema registry).
public struct GeneratedTraffic {
    public let cluster: KafkaCluster
    /// The labels: for the checks only, never for the engine.
    public let groundTruth: GroundTruth
    /// The registry holding every schema id the topics use (V1, V2, and the
    /// incompatible writer schema when a fault needs it; never the unknown id).
    public let registry: SchemaRegistry
    /// (subject, schema id, which schema) registered for the run, in order.
    public let registrations: [SchemaRegistration]
    public let statistics: [FeedStatistics]
}

/// One schema a run registers: the V1 and V2 trade schemas under both subjects,
/// and the incompatible writer schema when a fault uses it.
public struct SchemaRegistration: Sendable, Equatable {
    public enum Schema: Sendable, Equatable { case tradeV1, tradeV2, incompatible }
    public var subject: String
    public var id: Int32
    public var schema: Schema

    public var schemaJSON: String {
        switch schema {
        case .tradeV1: return TradeSchemas.v1JSON
        case .tradeV2: return TradeSchemas.v2JSON
        case .incompatible: return MalformedPayloads.incompatibleSchemaJSON
        }
    }
}
