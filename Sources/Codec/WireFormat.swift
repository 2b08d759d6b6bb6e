/// The Confluent Schema Registry wire format (docs/REFERENCE.md §2): byte 0 is the magic
/// byte 0x00, bytes 1-4 the schema id as a big-endian int32, then the Avro
/// binary body (no container header).
public enum WireFormat {
    public static let magicByte: UInt8 = 0
    public static let headerSize = 5

    public static func frame(schemaId: Int32, body: [UInt8]) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(headerSize + body.count)
        out.append(magicByte)
        let id = UInt32(bitPattern: schemaId)
        out.append(UInt8(truncatingIfNeeded: id >> 24)); out.append(UInt8(truncatingIfNeeded: id >> 16))
        out.append(UInt8(truncatingIfNeeded: id >> 8)); out.append(UInt8(truncatingIfNeeded: id))
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
