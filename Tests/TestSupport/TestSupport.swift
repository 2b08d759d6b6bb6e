import Foundation

/// The repository's root folder, found from this file's path (Tests/TestSupport/).
public enum Repository {
    public static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// `root + "/" + relative`.
    public static func path(_ relative: String) -> String { root + "/" + relative }
}

/// The real `medallion-sim` binary, run as a child process.
///
/// `run` is async and never blocks a thread of Swift's cooperative pool (which
/// has one thread per core): the pipes are drained and the exit awaited on
/// Dispatch's own threads. A synchronous `waitUntilExit` in a test holds a pool
/// thread for the whole child run and starves every other test in parallel.
public enum CLI {
    /// The binary SwiftPM built next to the test bundle, else under .build/debug.
    public static let binary: String = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let candidates = ["\(dir)/medallion-sim", Bundle.main.bundleURL.appendingPathComponent("medallion-sim").path,
                          Repository.path(".build/debug/medallion-sim")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Variables a CI shard runner may set that change what `whatif` runs.
    static let shardVariables = ["JOB_COMPLETION_INDEX", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE",
                                 "MEDALLION_SIM_SHARDS", "TEST_UNDECLARED_OUTPUTS_DIR"]

    /// Runs `medallion-sim ARGS` in `cwd` (default: the repository root).
    public static func run(_ args: [String], cwd: String = Repository.root,
                           environment extra: [String: String] = [:]) async throws -> Output {
        try await run(executable: binary, args, cwd: cwd, environment: extra)
    }

    /// Runs a POSIX shell command line (as a user would paste it) in `cwd`, with
    /// `medallion-sim` on the PATH.
    public static func shell(_ commandLine: String, cwd: String) async throws -> Output {
        let dir = URL(fileURLWithPath: binary).deletingLastPathComponent().path
        let path = dir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try await run(executable: "/bin/sh", ["-c", commandLine], cwd: cwd, environment: ["PATH": path])
    }

    static func run(executable: String, _ args: [String], cwd: String, environment extra: [String: String]) async throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        for k in shardVariables { env[k] = nil }
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        try p.run()
        // Both pipes are read at once (a full pipe would block the child) and
        // the exit is awaited, all off the cooperative pool.
        async let o = drain(out.fileHandleForReading)
        async let e = drain(err.fileHandleForReading)
        let (stdout, stderr) = await (o, e)
        await offPool { exited.wait() }
        return Output(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func drain(_ h: FileHandle) async -> Data {
        await offPool { h.readDataToEndOfFile() }
    }

    /// Runs blocking work on a Dispatch thread and suspends (not blocks) until it is done.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in
            DispatchQueue.global().async { c.resume(returning: work()) }
        }
    }

    /// A new empty folder under the system's temporary folder.
    public static func temporaryDirectory(_ prefix: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

/// An Avro `long` (zig-zag, then base-128 varint), written from the Avro
/// specification independently of the codec, for payloads the encoder cannot build.
public func avroLong(_ n: Int64) -> [UInt8] {
    var u = UInt64(bitPattern: (n << 1) ^ (n >> 63))
    var out: [UInt8] = []
    while u >= 0x80 { out.append(UInt8(u & 0x7F) | 0x80); u >>= 7 }
    out.append(UInt8(u))
    return out
}
