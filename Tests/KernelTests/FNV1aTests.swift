import Kernel
import Testing

struct FNV1aTests {
    /// The published FNV-1a 64 test vectors: digests and stream seeds rest on them.
    @Test func matchesTheReferenceVectors() {
        #expect(FNV1a64.hash("") == 0xCBF2_9CE4_8422_2325)
        #expect(FNV1a64.hash("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(FNV1a64.hash("foobar") == 0x8594_4171_F739_67E8)
        var h = FNV1a64()
        h.mix("foo".utf8); h.mix(byte: UInt8(ascii: "b")); h.mix("ar".utf8)
        #expect(h.value == FNV1a64.hash("foobar"))   // streamed in pieces, the same hash
    }
}
