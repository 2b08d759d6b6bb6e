/// FNV-1a, 64 bits: the one non-cryptographic hash the project uses, for
/// random stream names, table digests, Kafka digests and the oracle's id
/// table. Deterministic across processes (unlike `Hasher`).
public struct FNV1a64: Sendable {
    public var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    @inlinable
    public mutating func mix<C: Sequence>(_ bytes: C) where C.Element == UInt8 {
        for b in bytes { mix(byte: b) }
    }

    @inlinable
    public mutating func mix(byte b: UInt8) {
        value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3
    }

    /// The hash of a string's UTF-8 bytes.
    public static func hash(_ s: String) -> UInt64 {
        var h = FNV1a64()
        h.mix(s.utf8)
        return h.value
    }
}
