import CZlib
import CZstd

/// Whole-buffer decompression of the codecs replay's sources use: gzip
/// (zlib) and zstd, as found in compressed Kafka record batches and in
/// Spark's compressed part files. Both stream into a growing buffer, so a
/// frame that does not state its decompressed size (Kafka's Java producer
/// writes such zstd frames) is read too. Errors are a short reason; the
/// caller names the file and the place.
public enum Decompression {
    public static let gzipMagic: [UInt8] = [0x1F, 0x8B]
    public static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Caps a decompressed batch or file (a corrupt length must not exhaust memory).
    public static let maxOutput = 1 << 31

    /// gzip (one member or several concatenated, as `cat a.gz b.gz` makes).
    public static func gunzip(_ input: UnsafeRawBufferPointer, sizeHint: Int = 0) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(max(sizeHint, input.count * 4))
        var consumed = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while consumed < input.count {
            var s = z_stream()
            // 15 + 16: a gzip wrapper, the largest window.
            guard inflateInit2_(&s, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw Failure(reason: "gzip: cannot start zlib")
            }
            defer { inflateEnd(&s) }
            let rest = UnsafeMutableRawPointer(mutating: input.baseAddress!).advanced(by: consumed)
            s.next_in = rest.assumingMemoryBound(to: Bytef.self)
            s.avail_in = uInt(input.count - consumed)
            var status: Int32 = Z_OK
            repeat {
                let produced: Int = chunk.withUnsafeMutableBytes { c in
                    s.next_out = c.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    s.avail_out = uInt(c.count)
                    status = inflate(&s, Z_NO_FLUSH)
                    return c.count - Int(s.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let msg = s.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw Failure(reason: status == Z_BUF_ERROR ? "gzip: truncated data" : "gzip: \(msg)")
                }
                out.append(contentsOf: chunk[0..<produced])
                guard out.count <= maxOutput else { throw Failure(reason: "gzip: decompresses to more than 2 GiB") }
                if status == Z_OK && s.avail_in == 0 && produced == 0 { throw Failure(reason: "gzip: truncated data") }
            } while status != Z_STREAM_END
            consumed = input.count - Int(s.avail_in)
            // Trailing zero padding after the last member is tolerated, anything else must be another member.
            if consumed < input.count, input[consumed] != 0x1F {
                if input[consumed...].allSatisfy({ $0 == 0 }) { break }
                throw Failure(reason: "gzip: unexpected bytes after the compressed data")
            }
        }
        return out
    }

    /// zstd (one frame or several).
    public static func unzstd(_ input: UnsafeRawBufferPointer, sizeHint: Int = 0) throws(Failure) -> [UInt8] {
        guard let d = ZSTD_createDStream() else { throw Failure(reason: "zstd: cannot start") }
        defer { ZSTD_freeDStream(d) }
        ZSTD_initDStream(d)
        var out: [UInt8] = []
        out.reserveCapacity(max(sizeHint, input.count * 4))
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var chunk = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        var last: Int = 0
        while true {
            let produced: Int = chunk.withUnsafeMutableBytes { c in
                var outBuf = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                last = ZSTD_decompressStream(d, &outBuf, &inBuf)
                return outBuf.pos
            }
            if ZSTD_isError(last) != 0 {
                throw Failure(reason: "zstd: " + String(cString: ZSTD_getErrorName(last)))
            }
            out.append(contentsOf: chunk[0..<produced])
            guard out.count <= maxOutput else { throw Failure(reason: "zstd: decompresses to more than 2 GiB") }
            if inBuf.pos == inBuf.size && produced < chunk.count { break }
        }
        if last != 0 { throw Failure(reason: "zstd: truncated data") }
        return out
    }

    /// A file's bytes, decompressed when they start with the gzip or zstd magic.
    public static func decodeFile(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        let zstd = bytes.starts(with: zstdMagic)
        guard zstd || bytes.starts(with: gzipMagic) else { return bytes }
        let result: Result<[UInt8], Failure> = bytes.withUnsafeBytes { b in
            do throws(Failure) { return .success(zstd ? try unzstd(b) : try gunzip(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
