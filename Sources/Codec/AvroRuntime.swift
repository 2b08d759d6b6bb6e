import CAvro

/// Process-wide libavro set-up.
///
/// The guarded allocator (Sources/CAvro/shim.h) must be installed before
/// libavro allocates anything, so every codec type that touches libavro
/// calls `AvroRuntime.ensureReady()` first; Swift initialises the global
/// below exactly once, thread-safely. Public for the raw libavro baseline of
/// `bench codec`, which must run on the same allocator.
public enum AvroRuntime {
    private static let installed: Bool = {
        mav_install_allocator()
        return true
    }()

    public static func ensureReady() { _ = installed }

    /// Parses a schema with libavro; nil when libavro refuses it. The caller
    /// composes the error message: `avro_strerror` is one process-wide buffer
    /// and not thread-safe in this build (docs/AVRO-LIBRARY.md).
    public static func parseSchema(_ json: String) -> avro_schema_t? {
        ensureReady()
        var schema: avro_schema_t? = nil
        let rc = json.withCString { avro_schema_from_json_length($0, json.utf8.count, &schema) }
        guard rc == 0, let schema else { return nil }
        return schema
    }
}

/// The guarded allocator's per-thread state, reached only from this file:
/// shim.h's state lives in a static local of a static inline function, and
/// every object file that calls those functions gets its own copy. Keeping
/// every call here keeps one copy, shared with the allocator itself.
enum AllocationGuard {
    /// Starts a guarded read: blocks over `capBytes` are refused and every
    /// block allocated is recorded until `endOK` or `reclaim`.
    @inline(never) static func begin(capBytes: Int) { mav_guard_begin(capBytes) }
    /// The read succeeded: the recorded blocks belong to the value.
    @inline(never) static func endOK() { mav_guard_end_ok() }
    /// The read failed: destroys `record` (freeing what it owns), then frees
    /// the blocks libavro leaked. Returns how many it freed.
    @inline(never) static func reclaim(destroying record: UnsafeMutablePointer<avro_value_t>) -> Int {
        mav_guard_begin_reclaim()
        avro_value_decref(record)
        record.pointee = avro_value_t()
        return mav_guard_finish_reclaim()
    }
    /// Blocks refused on this thread so far.
    @inline(never) static func refusedOnThisThread() -> Int { mav_guard_refused() }
}
