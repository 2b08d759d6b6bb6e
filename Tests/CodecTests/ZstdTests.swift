import Testing
import Kernel
@testable import Codec
#if canImport(Glibc)
import Glibc
#endif

func temporaryPath(_ name: String) -> String {
    let dir = String(cString: getenv("TMPDIR") ?? strdup("/tmp"))
    return "\(dir)/medallion-codec-\(getpid())-\(name)"
}

extension ResourceSensitiveTests {
    @Test func zstdRoundTripsAMultiMegabyteBuffer() throws {
        var rng = RandomStreams(seed: 7).stream("codec.zstd")
        // Compressible like trade JSON lines, with random parts.
        var data: [UInt8] = []
        while data.count < 6 << 20 {
            data += Array(#"{"symbol":"BTCUSDT","price":"65000.12000000","qty":""#.utf8) + rng.bytes(8) + [0x0A]
        }
        let path = temporaryPath("roundtrip.zst")
        defer { unlink(path) }
        try ZstdFile.write(data, to: path)
        #expect(try ZstdFile.read(path) == data)
        // Streaming, in pieces.
        let w = try ZstdWriter(path: path, level: 1)
        for start in stride(from: 0, to: data.count, by: 100_000) { try w.write(Array(data[start..<min(start + 100_000, data.count)])) }
        try w.close()
        let r = try ZstdReader(path: path)
        var back: [UInt8] = []
        while let chunk = try r.readChunk() { back += chunk }
        #expect(back == data)
        #expect(try r.readChunk() == nil)
    }

    @Test func zstdCorruptAndTruncatedFilesNameTheFile() throws {
        let data = Array(repeating: Array("trade line\n".utf8), count: 50_000).flatMap { $0 }
        let path = temporaryPath("damaged.zst")
        defer { unlink(path) }
        try ZstdFile.write(data, to: path)
        let whole = try ZstdFile.read(path)
        #expect(whole == data)
        let f = fopen(path, "rb")!
        var compressed = [UInt8](repeating: 0, count: 1 << 20)
        let n = fread(&compressed, 1, compressed.count, f); fclose(f)
        compressed = Array(compressed[..<n])

        func expectError(_ bytes: [UInt8], _ mention: String) {
            let g = fopen(path, "wb")!; _ = fwrite(bytes, 1, bytes.count, g); fclose(g)
            do {
                _ = try ZstdFile.read(path)
                Issue.record("read a \(mention) file")
            } catch let e as ZstdError {
                #expect(e.description.contains(path) && e.description.contains(mention), "\(e)")
            } catch { Issue.record("\(error)") }
        }
        expectError(Array(compressed[..<(n / 2)]), "truncated")
        expectError(Array(compressed[..<(n - 1)]), "truncated")
        var flipped = compressed; flipped[n / 2] ^= 0x40
        expectError(flipped, "corrupt")
        expectError(Array("not zstd at all".utf8), "corrupt")
        expectError([], "empty")
        #expect(throws: ZstdError.self) { try ZstdFile.read(temporaryPath("missing.zst")) }
    }
}
