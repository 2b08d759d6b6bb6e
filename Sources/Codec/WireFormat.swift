/// The Confluent Schema Registry wire format (docs/REFERENCE.md §2): byte 0 is the magic
/// byte 0x00, bytes 1-4 the schema id as a big-endian int32, then the Avro
/// binary body (no container header).
public enum WireFormat {
    public static let magicByte: UInt8 = 0
    public static let headerSize = 5

    /// The header's five bytes: the one place they are made (the encoder, the
    /// feeds' direct writer and `frame` all write these).
    @inlinable
    public static func header(schemaId: Int32) -> (UInt8, UInt8, UInt8, UInt8, UInt8) {
        let id = UInt32(bitPattern: schemaId)
        return (magicByte, UInt8(truncatingIfNeeded: id >> 24), UInt8(truncatingIfNeeded: id >> 16),
                UInt8(truncatingIfNeeded: id >> 8), UInt8(truncatingIfNeeded: id))
    }

    /// Appends the header to `out`.
    @inlinable
    public static func appendHeader(schemaId: Int32, to out: inout [UInt8]) {
        let h = header(schemaId: schemaId)
        out.append(h.0); out.append(h.1); out.append(h.2); out.append(h.3); out.append(h.4)
    }

    public static func frame(schemaId: Int32, body: [UInt8]) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(headerSize + body.count)
        appendHeader(schemaId: schemaId, to: &out)
        out += body
        return out
    }

    /// The schema id of a framed message, or nil when the header is short or
    /// the magic byte is wrong.
    public static func schemaId(of bytes: [UInt8]) -> Int32? {
        guard bytes.count >= headerSize, bytes[0] == magicByte else { return nil }
        return Int32(bitPattern: UInt32(bytes[1]) << 24 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 8 | UInt32(bytes[4]))
    }
}
