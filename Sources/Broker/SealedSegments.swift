import CZstd
import Kernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Column chunks packed back to back and zstd-compressed: how a long run keeps
/// the old, read-rarely part of a log or a table at a fraction of its size
/// (docs/ENGINE.md, "Memory over long runs"). Only trivial element types
/// (integers, bytes, Bools) go in; `SealedUnpacker` reads them back in the
/// order they were packed. Nothing here reaches an output.
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
/// threads that read it (Silver's decode threads read Kafka values, the
/// checks read tables on two threads): a lookup and an unpack happen under a
/// lock; what it hands out is never mutated.
///
/// Every read of a sealed row passes here, so the lookup is inlinable (the
/// reader's module specializes it for its segment type) and scans a plain
/// array of indices, newest first.
public final class SealedCache<Segment>: @unchecked Sendable {
    @usableFromInline var indices: [Int] = []
    @usableFromInline var segments: [Segment] = []
    @usableFromInline let capacity: Int
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(capacity: Int = 4) {
        self.capacity = capacity
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }

    /// Segment `index`, unpacked by `unpack` when it is not cached.
    @inlinable
    public func segment(_ index: Int, unpack: () -> Segment) -> Segment {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var i = indices.count - 1
        while i >= 0 {
            if indices[i] == index { return segments[i] }
            i -= 1
        }
        let s = unpack()
        if indices.count == capacity { indices.removeFirst(); segments.removeFirst() }
        indices.append(index); segments.append(s)
        return s
    }
}

// MARK: - Segments of a log or a table

/// A block of consecutive rows (or log records) as columns, which can be
/// sealed: packed and compressed, and unpacked again, identical.
public protocol SealableSegment: AnyObject {
    init()
    var count: Int { get }
    /// Bytes its columns have allocated while it is live.
    var heldBytes: Int { get }
    /// Keeps the first `n` rows.
    func truncate(to n: Int)
    func pack(into p: inout SealedPacker)
    init(unpacking u: inout SealedUnpacker)
}

/// Rows in segments of `segmentRows` (a power of two): row `i` is row
/// `i % segmentRows` of segment `i / segmentRows`. The owner seals the
/// segments nobody writes any more (`seal(below:)`): they go to a
/// `SealedStore` (compressed, on disk by default) and are unpacked into a
/// small cache when read. Readers never notice, except in speed.
///
/// A segment is a class so that a read retains one reference, not every
/// column; the owner appends to `tail()` and then calls `didAppend()`.
public struct Segments<Segment: SealableSegment> {
    public static var segmentRows: Int { 1 << 15 }
    public static var shift: Int { 15 }
    @usableFromInline var live: [Segment?] = [Segment()]
    @usableFromInline let sealed: SealedStore<Segment>
    @usableFromInline var rows = 0
    public var count: Int { rows }

    public init() { self.init(spill: SealedStore<Segment>.spillByDefault) }
    public init(spill: Bool) { sealed = SealedStore(spill: spill) }

    /// Segment `k`, unpacked when sealed.
    @inlinable @inline(__always)
    public func segment(_ k: Int) -> Segment {
        if let s = live[k] { return s }
        return sealed.segment(k)
    }

    /// The segment holding row `i` and the row's index in it.
    @inlinable @inline(__always)
    public func at(_ i: Int) -> (Segment, Int) { (segment(i &>> Self.shift), i & (Self.segmentRows - 1)) }

    public var segmentCount: Int { live.count }
    /// Segments `0 ..< sealedCount` are sealed.
    public var sealedCount: Int { sealed.count }
    public func isLive(_ k: Int) -> Bool { live[k] != nil }

    /// The segment the next row goes in: a new one when the last is full.
    @inlinable
    public mutating func tail() -> Segment {
        if live[live.count - 1]!.count == Self.segmentRows { live.append(Segment()) }
        return live[live.count - 1]!
    }

    /// Counts the row just appended to `tail()`.
    @inlinable
    public mutating func didAppend() { rows += 1 }

    /// Keeps the first `n` rows; the rows dropped must all be in live segments.
    public mutating func truncate(to n: Int) {
        guard n < count else { return }
        // Segment `last` keeps the rows after the last full segment (maybe none).
        let last = n >> Self.shift
        precondition(last >= sealed.count, "only rows of live segments are truncated")
        live.removeLast(live.count - last - 1)
        live[last]!.truncate(to: n & (Self.segmentRows - 1))
        rows = n
    }

    /// Seals every segment below `bound` not sealed yet (oldest first).
    public mutating func seal(below bound: Int) {
        while sealed.count < min(bound, live.count - 1) {
            let k = sealed.count
            sealed.append(live[k]!)
            live[k] = nil
        }
    }

    /// Bytes held in memory: the live segments' columns and what the sealed store keeps in memory.
    public var heldBytes: Int { live.reduce(live.capacity * 8) { $0 + ($1?.heldBytes ?? 0) } + sealed.heldBytes }
    /// Compressed bytes written to disk.
    public var spilledBytes: Int { sealed.spilledBytes }
    var spillFileName: String? { sealed.spillFileName }
}

/// The sealed segments of one log or table, compressed: in memory, or
/// (`spill`) appended to a file of the process's spill folder
/// (`SpillFolder`) with only each segment's end offset kept in memory, and
/// read back with `pread`. A small cache holds the last segments unpacked.
/// Segments are sealed in order (0, 1, 2, ...) on the simulation thread;
/// reads may come from several threads.
public final class SealedStore<Segment: SealableSegment>: @unchecked Sendable {
    /// Whether stores spill to disk unless told otherwise.
    public static var spillByDefault: Bool { true }

    private let spill: Bool
    private var chunks: [[UInt8]] = []
    /// On disk: segment k is bytes `ends[k-1] ..< ends[k]` (0 for k = 0) of `file`.
    private var ends: [Int64] = []
    private var file: SpillFile?
    @usableFromInline let cache = SealedCache<Segment>()
    /// `count`, kept for inlinable readers.
    @usableFromInline var sealedSegments = 0

    public init(spill: Bool) { self.spill = spill }

    public var count: Int { spill ? ends.count : chunks.count }

    /// Seals `s` as segment `count`.
    public func append(_ s: Segment) {
        var p = SealedPacker()
        s.pack(into: &p)
        let bytes = p.compressed()
        defer { sealedSegments += 1 }
        guard spill else { chunks.append(bytes); return }
        if file == nil { file = SpillFile() }
        let at = ends.last ?? 0
        file!.write(bytes, at: at)
        ends.append(at + Int64(bytes.count))
    }

    /// Sealed segment `k`, from the cache or unpacked.
    @inlinable
    public func segment(_ k: Int) -> Segment {
        precondition(k < sealedSegments, "segment \(k) is not sealed")
        return cache.segment(k) { unpack(k) }
    }

    @usableFromInline
    func unpack(_ k: Int) -> Segment {
        var u = SealedUnpacker(compressed: compressed(k))
        return Segment(unpacking: &u)
    }

    /// Segment `k`'s compressed bytes.
    public func compressed(_ k: Int) -> [UInt8] {
        guard spill else { return chunks[k] }
        let start = k == 0 ? 0 : ends[k - 1]
        return file!.read(Int(ends[k] - start), at: start)
    }

    public var heldBytes: Int {
        spill ? ends.capacity * 8 : chunks.reduce(chunks.capacity * 8) { $0 + $1.capacity }
    }
    public var spilledBytes: Int { Int(ends.last ?? 0) }
    /// The (unlinked) spill file's name, once something spilled.
    var spillFileName: String? { file?.name }
}

// MARK: - The spill folder

/// The process's spill folder, `$TMPDIR/medallion-sim-<pid>` (`/tmp` without
/// `TMPDIR`), made when the first segment spills. Each spill file is unlinked
/// as soon as it is open, so its space goes back when the store goes (or the
/// process dies, however it dies); the folder itself is removed at exit,
/// including the command line's error and Ctrl-C exits (`atexit`, and the
/// second Ctrl-C's immediate exit through `RunControl`).
public enum SpillFolder {
    /// The folder's path, made on first use; a clear fatal error if it cannot be.
    public static let path: String = {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/medallion-sim-\(getpid())"
        if mkdir(path, 0o700) != 0 {
            let e = errno
            // A folder left by an earlier process of the same pid is reused
            // only if it is a real folder of ours (never a symbolic link).
            var st = stat()
            guard e == EEXIST, lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else {
                spillFailure("cannot create the spill folder \(path)", errno: e)
            }
        }
        made = true
        RunControl.setFolderToRemoveAtExit(path)
        atexit { SpillFolder.remove() }
        return path
    }()

    /// Whether the folder was made (something spilled) in this process.
    nonisolated(unsafe) private static var made = false

    /// Removes the folder (empty: its files were unlinked when opened).
    static func remove() { if made { rmdir(path) } }

    nonisolated(unsafe) private static var counter = 0
    nonisolated(unsafe) private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// A new file name in the folder (the folder made if need be).
    static func nextName() -> String {
        let folder = path
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        counter += 1
        return folder + "/segments-\(counter)"
    }
}

/// Ends the process with a clear message (exit status 2): a segment that
/// cannot be spilled or read back would otherwise be data silently lost.
func spillFailure(_ what: String, errno e: Int32) -> Never {
    let line = "error: \(what): \(String(cString: strerror(e))) (sealed segments spill to $TMPDIR or /tmp; set TMPDIR to a folder with space)\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

/// One spill file: opened in the spill folder and unlinked at once, written
/// at increasing offsets, read with `pread` (safe from several threads);
/// closed, and so gone, with its store.
final class SpillFile {
    private let fd: Int32
    let name: String

    init() {
        name = SpillFolder.nextName()
        fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { spillFailure("cannot create the spill file \(name)", errno: errno) }
        unlink(name)
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8], at offset: Int64) {
        bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = pwrite(fd, b.baseAddress! + done, b.count - done, off_t(offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { spillFailure("cannot write a sealed segment to \(name)", errno: n == 0 ? EIO : errno) }
                done += n
            }
        }
    }

    func read(_ count: Int, at offset: Int64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buf.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { spillFailure("cannot read a sealed segment back from \(name)", errno: n == 0 ? EIO : errno) }
                done += n
            }
            initialized = count
        }
    }
}
