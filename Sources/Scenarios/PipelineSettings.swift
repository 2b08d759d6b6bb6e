import Engine
import Kernel

/// A scenario's `pipeline:` section: which real code the pipeline is written
/// as, where the design record leaves a choice (docs/ENGINE.md, "Variants").
/// The defaults are the design as it should be.
public struct PipelineSettings: Equatable, Sendable {
    public var silverSinks: SilverSinkMode = .idempotent
    public var startingOffsets: StartingOffsets = .earliest
    public var silverDecoder: SilverDecoderMode = .confluent
    public var goldWatermark: GoldWatermarkMode = .both
    /// The Kafka source's `failOnDataLoss` (Spark's default: true).
    public var failOnDataLoss = true
    public var stateStore: StateStoreMode = .hdfs

    public init() {}

    static let keys = ["silver_sinks", "starting_offsets", "silver_decoder", "gold_watermark",
                       "fail_on_data_loss", "state_store"]

    static func parse(_ node: YAMLNode) throws(InputError) -> PipelineSettings {
        let m = try node.mapping(allowed: keys)
        var x = PipelineSettings()
        if let v = m["silver_sinks"] {
            let text = try v.string()
            guard let mode = SilverSinkMode(rawValue: text) else {
                throw v.error("unknown value '\(text)' (expected one of: \(SilverSinkMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            x.silverSinks = mode
        }
        if let v = m["starting_offsets"] {
            let text = try v.string()
            guard let mode = StartingOffsets(rawValue: text) else {
                throw v.error("unknown value '\(text)' (expected earliest or latest)")
            }
            x.startingOffsets = mode
        }
        if let v = m["silver_decoder"] {
            let text = try v.string()
            guard let mode = SilverDecoderMode(rawValue: text) else {
                throw v.error("unknown value '\(text)' (expected one of: \(SilverDecoderMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            x.silverDecoder = mode
        }
        if let v = m["gold_watermark"] {
            let text = try v.string()
            guard let mode = GoldWatermarkMode(rawValue: text) else {
                throw v.error("unknown value '\(text)' (expected both or binance_only)")
            }
            x.goldWatermark = mode
        }
        if let v = m["fail_on_data_loss"] { x.failOnDataLoss = try v.bool() }
        if let v = m["state_store"] {
            let text = try v.string()
            guard let mode = StateStoreMode(rawValue: text) else { throw v.error("unknown value '\(text)' (expected hdfs or rocksdb)") }
            x.stateStore = mode
        }
        return x
    }

    /// The section as scenario-file lines (empty when every value is the default).
    var yaml: String {
        var body = ""
        if silverSinks != .idempotent { body += "  silver_sinks: \(silverSinks.rawValue)\n" }
        if startingOffsets != .earliest { body += "  starting_offsets: \(startingOffsets.rawValue)\n" }
        if silverDecoder != .confluent { body += "  silver_decoder: \(silverDecoder.rawValue)\n" }
        if goldWatermark != .both { body += "  gold_watermark: \(goldWatermark.rawValue)\n" }
        if !failOnDataLoss { body += "  fail_on_data_loss: false\n" }
        if stateStore != .hdfs { body += "  state_store: \(stateStore.rawValue)\n" }
        return body.isEmpty ? "" : "pipeline:\n" + body
    }
}
