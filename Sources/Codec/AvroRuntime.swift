import CAvro

/// Process-wide libavro set-up.
///
/// The guarded allocator (Sources/CAvro/shim.h) must be installed before
/// libavro allocates anything, so every codec type that touches libavro
/// calls `AvroRuntime.ensureReady()` first; Swift initialises the global
/// below exactly once, thread-safely.
enum AvroRuntime {
    private static let installed: Bool = {
        mav_install_allocator()
        return true
    }()

    static func ensureReady() { _ = installed }

    /// Parses a schema with libavro; nil when libavro refuses it. The caller
    /// composes the error message: `avro_strerror` is one process-wide buffer
    /// and not thread-safe in this build (LIBAVRO.md).
    static func parseSchema(_ json: String) -> avro_schema_t? {
        ensureReady()
        var schema: avro_schema_t? = nil
        let rc = json.withCString { avro_schema_from_json_length($0, json.utf8.count, &schema) }
        guard rc == 0, let schema else { return nil }
        return schema
    }
}
