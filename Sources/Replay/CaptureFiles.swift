import Codec
import Foundation
import Kernel

/// Reads captures: JSON Lines (docs/REFERENCE.md §9), plain or zstd-compressed, or the
/// project's compact binary format (always zstd-compressed). Any problem is an
/// `InputError` naming the file and the line (or record) — nothing partial is
/// returned.
public enum CaptureReader {
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    public static func load(path: String) throws(InputError) -> Capture {
        guard let f = fopen(path, "rb") else { throw InputError(file: path, line: 0, problem: "cannot open the capture") }
        var head = [UInt8](repeating: 0, count: 4)
        let n = fread(&head, 1, 4, f)
        fclose(f)
        var bytes: [UInt8]
        if n == 4 && head == zstdMagic {
            do { bytes = try readZstd(path) } catch {
                throw InputError(file: path, line: 0, problem: "corrupt or truncated zstd data: \(error)")
            }
        } else {
            do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw InputError(file: path, line: 0, problem: "cannot read the capture")
            }
        }
        if bytes.starts(with: CompactCapture.magic) {
            return try CompactCapture.decode(bytes, file: path)
        }
        return try parseJSONLines(bytes, file: path)
    }

    /// The whole decompressed file, grown in few large steps (a capture of a
    /// few hours is hundreds of MB; per-chunk regrowth would copy it repeatedly).
    static func readZstd(_ path: String) throws -> [UInt8] {
        let r = try ZstdReader(path: path)
        var out: [UInt8] = []
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int {
            out.reserveCapacity(size * 4)  // captures compress about 3:1
        }
        while let chunk = try r.readChunk() {
            guard out.count + chunk.count <= Capture.maxDecompressedBytes else {
                throw InputError(file: path, line: 0, problem: "the capture decompresses to more than the limit of \(Capture.maxDecompressedBytes >> 30) GiB")
            }
            out.append(contentsOf: chunk)
        }
        return out
    }
}

/// Writes captures: docs/REFERENCE.md §9 JSON Lines (optionally zstd-compressed) or the compact format.
public enum CaptureWriter {
    /// Compact when asked; else JSON Lines, zstd-compressed when the name ends in `.zst`.
    public static func write(_ c: Capture, to path: String, compact: Bool) throws {
        if compact {
            try ZstdFile.write(CompactCapture.encode(c), to: path, level: 3)
        } else if path.hasSuffix(".zst") {
            try ZstdFile.write(jsonLines(c), to: path, level: 3)
        } else {
            try Data(jsonLines(c)).write(to: URL(fileURLWithPath: path))
        }
    }
}
