import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A zstd file could not be written or read. The message names the file, so
/// a user can act on it ("zstd file 'x.zst': truncated (the last frame is
/// incomplete)").
public struct ZstdError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "zstd file '\(path)': \(message)" }
}

/// Whole-buffer helpers over the streaming writer and reader.
public enum ZstdFile {
    public static func write(_ bytes: [UInt8], to path: String, level: Int32 = 3) throws {
        let w = try ZstdWriter(path: path, level: level)
        try w.write(bytes)
        try w.close()
    }

    /// The whole decompressed file; throws when it would exceed `limit` bytes
    /// (a small hostile file can decompress to any size).
    public static func read(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let r = try ZstdReader(path: path)
        var out: [UInt8] = []
        while let chunk = try r.readChunk() {
            guard out.count + chunk.count <= limit else { throw ZstdError(path: path, message: "decompresses to more than the limit of \(limit) bytes") }
            out += chunk
        }
        return out
    }
}

/// Streaming compression to a file (ZSTD_compressStream2). Frames carry a
/// content checksum, so the reader detects corruption, not only truncation.
/// Level 3 is the interactive default; level 19 is ~500x slower (docs/AVRO-LIBRARY.md).
public final class ZstdWriter {
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private let cctx: OpaquePointer
    private let out: UnsafeMutableRawPointer
    private let outCapacity: Int

    public init(path: String, level: Int32 = 3) throws {
        self.path = path
        guard let f = fopen(path, "wb") else {
            throw ZstdError(path: path, message: "cannot open for writing (errno \(errno))")
        }
        guard let c = ZSTD_createCCtx() else {
            fclose(f)
            throw ZstdError(path: path, message: "cannot create a compression context")
        }
        file = f; cctx = c
        outCapacity = ZSTD_CStreamOutSize()
        out = .allocate(byteCount: outCapacity, alignment: 16)
        for (param, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1)] {
            let rc = ZSTD_CCtx_setParameter(cctx, param, value)
            if ZSTD_isError(rc) != 0 {
                throw ZstdError(path: path, message: "bad compression parameter: \(String(cString: ZSTD_getErrorName(rc)))")
            }
        }
    }

    deinit {
        if let file { fclose(file) }
        ZSTD_freeCCtx(cctx)
        out.deallocate()
    }

    private func pump(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws {
        guard let file else { throw ZstdError(path: path, message: "write after close") }
        while true {
            var output = ZSTD_outBuffer(dst: out, size: outCapacity, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &output, &input, mode)
            if ZSTD_isError(remaining) != 0 {
                throw ZstdError(path: path, message: "compression failed: \(String(cString: ZSTD_getErrorName(remaining)))")
            }
            if output.pos > 0, fwrite(out, 1, output.pos, file) != output.pos {
                throw ZstdError(path: path, message: "write failed (errno \(errno))")
            }
            let done = mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var input = ZSTD_inBuffer(src: b.baseAddress, size: b.count, pos: 0)
            try pump(&input, ZSTD_e_continue)
        }
    }

    /// Ends the frame and closes the file. Without it the file is truncated.
    public func close() throws {
        guard file != nil else { return }
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        try pump(&input, ZSTD_e_end)
        let rc = fclose(file)
        file = nil
        if rc != 0 { throw ZstdError(path: path, message: "close failed (errno \(errno))") }
    }
}

/// Streaming decompression from a file. `readChunk` returns the next piece of
/// decompressed data, nil at a clean end, and throws for a corrupt file (bad
/// magic, checksum mismatch) or a truncated one (the last frame incomplete).
public final class ZstdReader {
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private let dctx: OpaquePointer
    private let inBuf: UnsafeMutableRawPointer
    private let inCapacity: Int
    private let outBuf: UnsafeMutableRawPointer
    private let outCapacity: Int
    private var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var eof = false
    private var sawInput = false
    /// ZSTD_decompressStream's last hint: 0 once a frame is complete and flushed.
    private var lastHint = 0

    public init(path: String) throws {
        self.path = path
        guard let f = fopen(path, "rb") else {
            throw ZstdError(path: path, message: "cannot open for reading (errno \(errno))")
        }
        guard let d = ZSTD_createDCtx() else {
            fclose(f)
            throw ZstdError(path: path, message: "cannot create a decompression context")
        }
        file = f; dctx = d
        inCapacity = ZSTD_DStreamInSize(); outCapacity = ZSTD_DStreamOutSize()
        inBuf = .allocate(byteCount: inCapacity, alignment: 16)
        outBuf = .allocate(byteCount: outCapacity, alignment: 16)
        input = ZSTD_inBuffer(src: inBuf, size: 0, pos: 0)
    }

    deinit {
        if let file { fclose(file) }
        ZSTD_freeDCtx(dctx)
        inBuf.deallocate(); outBuf.deallocate()
    }

    private func step() throws -> Int {
        var output = ZSTD_outBuffer(dst: outBuf, size: outCapacity, pos: 0)
        let hint = ZSTD_decompressStream(dctx, &output, &input)
        if ZSTD_isError(hint) != 0 {
            throw ZstdError(path: path, message: "corrupt: \(String(cString: ZSTD_getErrorName(hint)))")
        }
        lastHint = hint
        return output.pos
    }

    public func readChunk() throws -> [UInt8]? {
        while true {
            if input.pos == input.size && !eof {
                guard let file else { return nil }
                let n = fread(inBuf, 1, inCapacity, file)
                if n == 0 {
                    if ferror(file) != 0 { throw ZstdError(path: path, message: "read failed (errno \(errno))") }
                    eof = true
                } else {
                    sawInput = true
                    input = ZSTD_inBuffer(src: inBuf, size: n, pos: 0)
                }
                continue
            }
            if eof && input.pos == input.size {
                guard sawInput else { throw ZstdError(path: path, message: "empty file, not a zstd frame") }
                if lastHint == 0 { return nil }
                // Flush what the context still holds; no progress means the
                // frame never ended.
                let produced = try step()
                if produced > 0 { return Array(UnsafeRawBufferPointer(start: outBuf, count: produced)) }
                throw ZstdError(path: path, message: "truncated (the last frame is incomplete)")
            }
            let produced = try step()
            if produced > 0 { return Array(UnsafeRawBufferPointer(start: outBuf, count: produced)) }
        }
    }
}
