#ifndef MEDALLION_CAVRO_SHIM_H
#define MEDALLION_CAVRO_SHIM_H
// libavro exposes its value interface as C macros, which Swift cannot call;
// the codec's static inline wrappers live here (see Sources/Codec).
//
// Only the Codec module may import CAvro: the guarded allocator below keeps
// per-thread state in `static _Thread_local` variables, and every module that
// calls these inline functions gets its own copy of that state.
#include <avro.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---- value accessors (macros in value.h) ---------------------------------

static inline int mav_reset(avro_value_t *v) { return avro_value_reset(v); }
static inline int mav_get_by_index(const avro_value_t *v, size_t i, avro_value_t *child) {
    return avro_value_get_by_index(v, i, child, NULL);
}
static inline int mav_get_by_name(const avro_value_t *v, const char *name, avro_value_t *child, size_t *index) {
    return avro_value_get_by_name(v, name, child, index);
}
static inline int mav_get_size(const avro_value_t *v, size_t *size) { return avro_value_get_size(v, size); }
static inline int mav_get_string(const avro_value_t *v, const char **s, size_t *size) {
    return avro_value_get_string(v, s, size);
}
static inline int mav_get_bytes(const avro_value_t *v, const void **b, size_t *size) {
    return avro_value_get_bytes(v, b, size);
}
static inline int mav_get_long(const avro_value_t *v, int64_t *out) { return avro_value_get_long(v, out); }
static inline int mav_get_int(const avro_value_t *v, int32_t *out) { return avro_value_get_int(v, out); }
static inline int mav_get_enum(const avro_value_t *v, int *out) { return avro_value_get_enum(v, out); }
static inline int mav_get_discriminant(const avro_value_t *v, int *out) { return avro_value_get_discriminant(v, out); }
static inline int mav_get_current_branch(const avro_value_t *v, avro_value_t *branch) {
    return avro_value_get_current_branch(v, branch);
}
static inline int mav_map_get_by_index(const avro_value_t *v, size_t i, avro_value_t *child, const char **key) {
    return avro_value_get_by_index(v, i, child, key);
}
static inline int mav_set_string_len(avro_value_t *v, const char *s, size_t size_with_nul) {
    return avro_value_set_string_len(v, s, size_with_nul);
}
static inline int mav_set_bytes(avro_value_t *v, void *b, size_t size) { return avro_value_set_bytes(v, b, size); }
static inline int mav_set_long(avro_value_t *v, int64_t x) { return avro_value_set_long(v, x); }
static inline int mav_set_enum(avro_value_t *v, int x) { return avro_value_set_enum(v, x); }
static inline int mav_set_null(avro_value_t *v) { return avro_value_set_null(v); }
static inline int mav_set_branch(avro_value_t *v, int discriminant, avro_value_t *branch) {
    return avro_value_set_branch(v, discriminant, branch);
}
static inline int mav_append(avro_value_t *v, avro_value_t *child) { return avro_value_append(v, child, NULL); }
static inline int mav_add(avro_value_t *v, const char *key, avro_value_t *child) {
    return avro_value_add(v, key, child, NULL, NULL);
}
static inline void mav_iface_decref(avro_value_iface_t *iface) { avro_value_iface_decref(iface); }

/// One byte probe after a record: libavro never reports trailing bytes and
/// `avro_reader_is_eof` is always false for memory readers. Returns 1 when
/// the reader had at least one byte left.
static inline int mav_reader_has_more(avro_reader_t r) {
    char b;
    return avro_read(r, &b, 1) == 0 ? 1 : 0;
}

// ---- guarded allocator ---------------------------------------------------
//
// libavro 1.11.1 allocates a length it has read before checking that the
// bytes exist (a 2^30 string length in a 20-byte message allocates 1 GiB),
// and leaks a block on about two thirds of failed reads. The codec walks
// every payload in Swift before libavro sees it, so neither should happen;
// this allocator is the second line of defense:
//
// - while a thread is inside a guarded read, a block larger than that
//   thread's cap (derived from the input size) is refused (NULL), which
//   libavro reports as a failed read;
// - every block allocated during the guarded read is recorded in a small
//   per-thread table and removed when freed. If the read fails, the codec
//   destroys the value it read into (freeing what the value owns) and then
//   frees whatever is still recorded: exactly the blocks libavro leaked.
//
// The allocator never adds a header to a block, so blocks allocated before
// it was installed can still be freed through it.

#define MAV_TRACK_MAX 1024

enum { MAV_IDLE = 0, MAV_READING = 1, MAV_RECLAIMING = 2 };

typedef struct { void *ptr; size_t size; } mav_tracked_t;

typedef struct {
    int state;
    size_t cap;          // largest block allowed while reading
    size_t count;        // live entries in `blocks`
    size_t refused;      // blocks refused since the thread started (diagnostics)
    mav_tracked_t blocks[MAV_TRACK_MAX];
} mav_guard_t;

// A function-local static: Swift's importer emits a static inline function
// together with its local statics, but not a file-scope static variable.
// Each object file that calls these functions gets its own copy, so the
// codec calls them from one Swift file only (Sources/Codec/AvroRuntime.swift).
static inline mav_guard_t *mav_guard_state(void) {
    // initial-exec: no __tls_get_addr call per allocation (the codec is
    // linked into the executable, never dlopen'ed).
    static _Thread_local mav_guard_t g __attribute__((tls_model("initial-exec")));
    return &g;
}

static inline void mav_untrack(mav_guard_t *g, void *ptr) {
    // Newest first: libavro usually frees what it has just allocated.
    for (size_t i = g->count; i > 0; i--) {
        if (g->blocks[i - 1].ptr == ptr) {
            g->blocks[i - 1] = g->blocks[g->count - 1];
            g->count--;
            return;
        }
    }
}

static void *mav_allocator(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud; (void)osize;
    mav_guard_t *g = mav_guard_state();
    if (g->state == MAV_IDLE) {
        if (nsize == 0) { free(ptr); return NULL; }
        return realloc(ptr, nsize);
    }
    if (nsize == 0) {
        if (ptr != NULL) mav_untrack(g, ptr);
        free(ptr);
        return NULL;
    }
    if (g->state == MAV_RECLAIMING) {
        // Destroying the value: untrack what moves, track nothing new.
        void *p = realloc(ptr, nsize);
        if (p != NULL && ptr != NULL) mav_untrack(g, ptr);
        return p;
    }
    if (nsize > g->cap) {
        g->refused++;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    if (ptr != NULL) mav_untrack(g, ptr);
    // A record needing more than MAV_TRACK_MAX blocks has passed the Swift
    // pre-scan, so its read cannot fail on malformed bytes: stop recording.
    if (g->count < MAV_TRACK_MAX) {
        g->blocks[g->count].ptr = p;
        g->blocks[g->count].size = nsize;
        g->count++;
    }
    return p;
}

/// Installs the guarded allocator process-wide. Call once, before any other
/// libavro call (the codec does so through a lazily initialised global).
static inline void mav_install_allocator(void) { avro_set_allocator(mav_allocator, NULL); }

static inline void mav_guard_begin(size_t cap) {
    mav_guard_t *g = mav_guard_state();
    g->state = MAV_READING;
    g->cap = cap;
    g->count = 0;
}

/// The read succeeded: everything recorded now belongs to the value.
static inline void mav_guard_end_ok(void) {
    mav_guard_t *g = mav_guard_state();
    g->state = MAV_IDLE;
    g->count = 0;
}

/// The read failed. Call before destroying the value read into.
static inline void mav_guard_begin_reclaim(void) { mav_guard_state()->state = MAV_RECLAIMING; }

/// After the value is destroyed: frees the blocks libavro leaked. Returns
/// how many there were.
static inline size_t mav_guard_finish_reclaim(void) {
    mav_guard_t *g = mav_guard_state();
    size_t n = g->count;
    for (size_t i = 0; i < n; i++) free(g->blocks[i].ptr);
    g->count = 0;
    g->state = MAV_IDLE;
    return n;
}

static inline size_t mav_guard_refused(void) { return mav_guard_state()->refused; }

#endif
