import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Column chunks packed back to back and zstd-compressed: how a long run keeps
/// the old, read-rarely part of a log or a table in memory at a fraction of
/// its size (docs/ENGINE.md, "Memory over long runs"). Only trivial element
/// types (integers, bytes, Bools) go in; `SealedUnpacker` reads them back in
/// the order they were packed. Nothing here reaches an output.
public struct SealedPacker {
    private var raw: [UInt8] = []

    public init() {}

    public mutating func put<T: BitwiseCopyable>(_ a: [T]) {
        var n = UInt64(a.count)
        withUnsafeBytes(of: &n) { raw.append(contentsOf: $0) }
        a.withUnsafeBytes { raw.append(contentsOf: $0) }
    }

    /// The packed columns, compressed (zstd level 1: ~0.5 GB/s, the engine's budget).
    public func compressed() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(raw.count))
        let n = raw.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, 1) }
        }
        precondition(ZSTD_isError(n) == 0, "zstd could not compress a sealed segment")
        // A copy of exactly the compressed size (the bound's slack is freed).
        return Array(out[..<n])
    }
}

/// Reads back what a `SealedPacker` packed.
public struct SealedUnpacker {
    private let raw: [UInt8]
    private var at = 0

    public init(compressed: [UInt8]) {
        let size = compressed.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        precondition(size != ZSTD_CONTENTSIZE_ERROR && size != ZSTD_CONTENTSIZE_UNKNOWN, "a sealed segment is corrupt")
        var out = [UInt8](repeating: 0, count: Int(size))
        let n = compressed.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count) }
        }
        precondition(ZSTD_isError(n) == 0 && n == out.count, "a sealed segment is corrupt")
        raw = out
    }

    public mutating func take<T: BitwiseCopyable>(_: T.Type = T.self) -> [T] {
        var n: UInt64 = 0
        withUnsafeMutableBytes(of: &n) { d in raw.withUnsafeBytes { d.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at ..< at + 8])) } }
        at += 8
        let bytes = Int(n) * MemoryLayout<T>.stride
        let out = [T](unsafeUninitializedCapacity: Int(n)) { buf, count in
            raw.withUnsafeBytes { UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at ..< at + bytes])) }
            count = Int(n)
        }
        at += bytes
        return out
    }
}

/// The few most recently unpacked segments of one log or table, shared by the
/// threads that read it (Silver's decode threads read Kafka values): a lookup
/// and an unpack happen under a lock; what it hands out is an immutable value.
public final class SealedCache<Segment>: @unchecked Sendable {
    private var entries: [(index: Int, segment: Segment)] = []
    private let capacity: Int
    private var mutex = pthread_mutex_t()

    public init(capacity: Int = 2) {
        self.capacity = capacity
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// Segment `index`, unpacked by `unpack` when it is not cached.
    public func segment(_ index: Int, unpack: () -> Segment) -> Segment {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let i = entries.firstIndex(where: { $0.index == index }) { return entries[i].segment }
        let s = unpack()
        if entries.count == capacity { entries.removeFirst() }
        entries.append((index, s))
        return s
    }

    /// Forgets everything (a segment was unsealed or rewritten).
    public func clear() {
        pthread_mutex_lock(&mutex)
        entries.removeAll()
        pthread_mutex_unlock(&mutex)
    }
}
