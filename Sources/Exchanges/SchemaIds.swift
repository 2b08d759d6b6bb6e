import Codec

/// Schema ids a feed writes and the ones fault injection uses.
public struct SchemaIds: Sendable, Equatable {
    // Defaults are the codec's TradeSchemas.v1Id and v2Id.
    /// The older V1 schema's id (schema mix, `v1Share`).
    public var v1: Int32
    /// The current V2 schema's id.
    public var v2: Int32
    /// An id never registered (UNKNOWN_SCHEMA_ID faults).
    public var unknown: Int32
    /// An id under which an incompatible writer schema is registered (INCOMPATIBLE_SCHEMA faults).
    public var incompatible: Int32
    public init(v1: Int32 = TradeSchemas.v1Id, v2: Int32 = TradeSchemas.v2Id, unknown: Int32 = 9_999, incompatible: Int32 = 3) {
        self.v1 = v1; self.v2 = v2; self.unknown = unknown; self.incompatible = incompatible
    }
    public static let standard = SchemaIds()
}
