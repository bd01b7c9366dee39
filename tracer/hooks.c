/* hooks.c: the interposed allocation API and the allocation path.
 * Every hook forwards to the allocator the program would use without us
 * (forward.c: the next malloc in the lookup order, glibc's __libc_* until
 * that is known); tracing is a handful of small inline steps: guard,
 * stack -> trace id, counters, live-block table.
 * Built with frame pointers: each exported hook hands the unwinder its
 * caller's frame (LT_CALLER), so the tracer's own frames are never walked. */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_internal.h"

/* The function leaktop.h's macro calls; a strong definition (the header
 * declares it weak for programs). */
void leaktop_mark(const char *label);

/* Per-thread re-entry guard: libunwind, libc and our own set-up may
 * allocate while a hook runs; those nested calls go straight to the
 * allocator, untraced. While it is set, signal handlers wait (signals.c)
 * and asynchronous cancellation is deferred (guard.c), so nothing can
 * leave a hook half-done.
 * An allocation call's hook sets it to its frame (the frame of the
 * function that entered, lt_enter being always inlined) and notes where
 * that returns (lt_busy_ret), so that a hook left without returning can
 * be told from one still running (lt_busy_abandoned).
 * initial-exec TLS: the tracer is loaded at start-up, so its TLS is static
 * and reading it never calls __tls_get_addr (which may allocate). */
__thread uintptr_t lt_busy __attribute__((tls_model("initial-exec")));
__thread uintptr_t lt_busy_ret __attribute__((tls_model("initial-exec")));
__thread int lt_seen __attribute__((tls_model("initial-exec"))) = -1;

/* `call`: an allocation call's hook, which notes its frame. */
static inline __attribute__((always_inline)) void lt_crit_begin(bool call)
{
    if (LT_UNLIKELY(lt_async_cancel))
        lt_cancel_hold();
    lt_busy = call ? (uintptr_t)__builtin_frame_address(0) : LT_BUSY_OTHER;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);  /* set before anything a handler could see half-done */
    /* After lt_busy: a handler's hook that ran before it would note its own. */
    if (call) {
        lt_busy_ret = (uintptr_t)__builtin_return_address(0);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
}

/* Out of line: a signal held back, or a cancellation to let through. */
static void __attribute__((noinline)) lt_crit_release(void)
{
    if (lt_deferred)
        lt_signals_release();
    if (lt_async_cancel)
        lt_cancel_release();
}

static inline void lt_crit_end(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    lt_busy = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (LT_UNLIKELY(lt_deferred | lt_async_cancel))
        lt_crit_release();
}

/* Starts tracing if nobody did yet (and, first, finds the allocator to
 * forward to); allocations made by the set-up itself pass through
 * untraced. */
bool lt_start(void)
{
    int st = __atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE);
    if (st != LT_UNINIT)
        return st == LT_READY && lt_tracing();
    lt_crit_begin(false);
    if (__atomic_load_n(&lt_fwd_state, __ATOMIC_ACQUIRE) == LT_FWD_NONE)
        lt_forward_resolve();
    bool ok = lt_gate_init() && lt_init(NULL);
    if (ok)
        lt_gate_open();
    lt_crit_end();
    return ok;
}

/* READY, and still the traced process: a copy made without fork() (a raw
 * clone) finds the gate's page wiped and goes dormant here. */
bool lt_tracing(void)
{
    if (__atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) != LT_READY)
        return false;
    if (lt_gate_wiped()) {
        lt_go_dormant();
        return false;
    }
    return true;
}

/* This thread's first traced call in this tracing period: what it kept
 * of an earlier one (its counter slot, in a segment since removed) goes.
 * (The unwinder's per-thread stack caches go by a process-wide epoch.) */
static void lt_thread_sync(void)
{
    int epoch = *lt_gate;
    if (epoch == 0 || epoch == lt_seen)
        return;  /* the gate opens just after READY: the slow path until then */
    if (lt_seen != -1)
        lt_tslot_forget();
    lt_seen = epoch;
}

/* A process that will never trace — LT_OFF: not the launched program, a
 * child of it (fork, raw clone), or a failed set-up — when preloaded
 * (nothing turns it back on; loaded into a running program, a later
 * attach may) lets every call pass on the skip paths, at the floor's
 * cost: free and realloc by the whole skip word (LT_SKIP_IDLE),
 * the allocating hooks by this thread's countdown, set here to more bytes
 * than a process allocates. With sample_bytes 0 no countdown is drawn, so
 * a thread whose countdown is 0 (new, or exact mode's) comes here at its
 * first call and gets one too. Nothing else sets the skip bits any more:
 * forwarding is resolved (required) and sampling never starts again. */
static void lt_skip_dormant(void)
{
    int bits = __atomic_load_n(&lt_hot.skip_bits, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) != LT_OFF || lt_g.attach_mode ||
        !(bits & LT_SKIP_FORWARD))
        return;
    /* Written once: with another allocator (no LT_SKIP_NO_BOOT) frees
     * keep coming here, and the line every hook reads must stay clean. */
    if (!(bits & LT_SKIP_DORMANT)) {
        __atomic_store_n(&lt_g.sample_bytes, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&lt_hot.skip_bits, (bits & ~LT_SKIP_SAMPLING) | LT_SKIP_DORMANT, __ATOMIC_RELEASE);
    }
    lt_sample_left = UINT64_MAX;
}

static bool __attribute__((noinline)) lt_enter_slow(void)
{
    bool ok = __atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) == LT_UNINIT ? lt_start() : lt_tracing();
    if (ok)
        lt_thread_sync();
    else
        lt_skip_dormant();
    return ok;
}

/* Always inlined: the frame lt_crit_begin notes is the entering
 * function's, which lives until its lt_leave. */
static inline __attribute__((always_inline)) bool lt_enter(void)
{
    if (LT_UNLIKELY(lt_busy) && !lt_busy_abandoned((uintptr_t)__builtin_frame_address(0)))
        return false;
    if (LT_UNLIKELY(*lt_gate != lt_seen) && !lt_enter_slow())
        return false;
    lt_crit_begin(true);
    return true;
}

static inline void lt_leave(void)
{
    /* Frontends' mark requests are serviced from the allocation path (the
     * tracer has no thread, and a signal would intrude on the program): one
     * look at a cache line that only changes when a mark is asked for, so
     * a request is taken at the very next call of any thread. */
    const lt_shm_header *h = lt_g.hdr;
    if (LT_UNLIKELY(__atomic_load_n(&h->mark_req, __ATOMIC_RELAXED) !=
                    __atomic_load_n(&h->mark_done, __ATOMIC_RELAXED)))
        lt_service_requests();
    lt_crit_end();
}

/* Untraced calls: the next allocator, or glibc until it is known. */
static inline bool lt_booting(void)
{
    return LT_UNLIKELY(__atomic_load_n(&lt_fwd_state, __ATOMIC_ACQUIRE) != LT_FWD_DONE);
}

/* The next allocator's entry point of this kind (a tail call). */
static inline void *lt_forward(int kind, size_t a, size_t b)
{
    switch (kind) {
    case LT_ALLOC_MALLOC:   return lt_hot.next.malloc(a);
    case LT_ALLOC_CALLOC:   return lt_hot.next.calloc(a, b);
    case LT_ALLOC_MEMALIGN: return lt_hot.next.memalign(a, b);
    case LT_ALLOC_ALIGNED:  return lt_hot.next.aligned_alloc(a, b);
    case LT_ALLOC_VALLOC:   return lt_hot.next.valloc(a);
    default:                return lt_hot.next.pvalloc(a);
    }
}

static inline void *lt_pass(int kind, size_t a, size_t b)
{
    if (lt_booting())
        return lt_boot_alloc(kind, a, b);
    return lt_forward(kind, a, b);
}

static inline void *lt_pass_realloc(void *old, size_t size)
{
    return lt_booting() ? lt_boot_realloc(old, size) : lt_hot.next.realloc(old, size);
}

/* A block glibc gave out before the next allocator was known goes back
 * to glibc (only ever the case when that allocator is not glibc). */
static inline bool lt_is_boot(void *p)
{
    return LT_UNLIKELY(__atomic_load_n(&lt_boot_live, __ATOMIC_RELAXED)) && p && lt_boot_take(p);
}

/* The caller's frame as it will be when this hook returns: the return
 * address, the stack pointer after the return, and the caller's RBP that
 * our prologue (push rbp; mov rbp, rsp) saved. Only in exported hooks. */
#define LT_CALLER() ((lt_frame_state){                          \
    .ip = (uintptr_t)__builtin_return_address(0),               \
    .sp = (uintptr_t)__builtin_frame_address(0) + 16,           \
    .rbp = *(const uintptr_t *)__builtin_frame_address(0),      \
})

/* Sampling mode. A block the countdown passes over goes straight to the
 * allocator before any of the hook's guard work (lt_skip_alloc), a free
 * whose filter bucket is empty likewise (lt_skip_free), and a realloc
 * that is both (lt_skip_realloc); a dormant process passes every call the
 * same way (lt_skip_dormant). Nothing of the tracer's shared state is
 * touched, and a signal handler running meanwhile can only find this
 * thread's countdown a few bytes off.
 * Those calls are a handful of instructions ending in a jump to the
 * allocator (no frame, no saved registers, errno untouched): every call
 * they make is a tail call. They never reach lt_leave, so they look at
 * the mark requests here and take them out of line. */
static inline bool lt_marks_asked(void)
{
    const uint64_t *m = __atomic_load_n(&lt_hot.marks, __ATOMIC_RELAXED);
    return LT_UNLIKELY(__atomic_load_n(&m[0], __ATOMIC_RELAXED) != __atomic_load_n(&m[1], __ATOMIC_RELAXED));
}

static void lt_fast_mark(void)
{
    if (lt_enter())
        lt_leave();  /* takes the requests */
}

/* True: pass the call through untraced (the block is not sampled). One
 * test on this thread's countdown, which is non-zero only in sampling
 * mode once forwarding is resolved (lt_sample_hit), so there is no boot
 * block to note; in exact mode it stays 0 and the test fails. When it
 * runs out the hook goes on to lt_unsampled, so that drawing the next gap
 * (a call) needs no frame on this path. */
static inline bool lt_skip_alloc(size_t size)
{
    return lt_sample_passes(size);
}

/* The skip paths' word, read once per call (lt_internal.h). */
static inline int lt_skip_word(void)
{
    return __atomic_load_n(&lt_hot.skip_bits, __ATOMIC_ACQUIRE);
}

/* True: p is not in the table (not sampled) nor a boot block: free it
 * untraced. NULL may go either way (both end in a no-op). */
static inline bool lt_skip_free(int bits, void *p)
{
    return bits == LT_SKIP_FREE && !lt_blocks_maybe((uintptr_t)p);
}

/* True: neither of realloc's blocks is sampled: the old one's filter
 * bucket is empty (NULL's too, or realloc(NULL, n) takes the full path,
 * which is as right) and the countdown passes over the new size. The
 * countdown is tested last, as it is the one test that changes
 * something: when the full path is taken it decides the new block once,
 * from the countdown as it was. A realloc that fails or frees (size 0)
 * drew on the countdown for a block that does not exist: a stretch of
 * the Poisson process no block owns, so no other block's chance moves.
 * Either way the old block was not in the table, so there is nothing to
 * keep or remove, and the new one is not sampled: exact as the full path. */
static inline bool lt_skip_realloc(int bits, void *old, size_t size)
{
    return bits == LT_SKIP_FREE && !lt_blocks_maybe((uintptr_t)old) && lt_sample_passes(size);
}

static void *__attribute__((noinline)) lt_pass_marked(int kind, size_t a, size_t b)
{
    lt_fast_mark();
    return lt_pass(kind, a, b);
}

static void __attribute__((noinline)) lt_free_marked(void *p)
{
    lt_fast_mark();
    lt_hot.next.free(p);
}

/* After lt_skip_alloc said true. */
static inline void *lt_pass_unsampled(int kind, size_t a, size_t b)
{
    if (lt_marks_asked())
        return lt_pass_marked(kind, a, b);
    return lt_forward(kind, a, b);
}

/* After lt_skip_free said true. */
static inline void lt_free_unsampled(void *p)
{
    if (lt_marks_asked())
        lt_free_marked(p);
    else
        lt_hot.next.free(p);
}

static void *__attribute__((noinline)) lt_realloc_marked(void *old, size_t size)
{
    lt_fast_mark();
    return lt_hot.next.realloc(old, size);
}

/* After lt_skip_realloc said true. */
static inline void *lt_realloc_unsampled(void *old, size_t size)
{
    if (lt_marks_asked())
        return lt_realloc_marked(old, size);
    return lt_hot.next.realloc(old, size);
}

/* The rest of the sampling decision, on the hooks' full path (and realloc
 * decides there for both blocks at once): true when the new block is not
 * sampled. */
static inline bool lt_unsampled(size_t size)
{
    return LT_UNLIKELY(lt_g.sample_bytes != 0) && !lt_sample_take(size);
}

/* Might the table hold p? Always in exact mode; in sampling mode only
 * when p's filter bucket is not empty. */
static inline bool lt_may_hold(void *p)
{
    return LT_LIKELY(lt_g.sample_bytes == 0) || lt_blocks_maybe((uintptr_t)p);
}

static inline void lt_track(void *p, size_t size, const lt_frame_state *caller)
{
    /* The block's table entry is a cache miss when the heap's chunk was
     * one (blocks freed in random order): started now, it overlaps the
     * stack capture. */
    lt_blocks_prefetch((uintptr_t)p);
    /* Until our constructor ran, libc may not be ready to tell a thread's
     * stack bounds: the first few allocations use libunwind alone. */
    uint32_t id = lt_capture_stack(__atomic_load_n(&lt_g.constructed, __ATOMIC_ACQUIRE) ? caller : NULL);
    uint32_t epoch = lt_epoch_now();
    if (lt_blocks_insert((uintptr_t)p, id, size, epoch))
        lt_count_block(id, epoch, size, 1);
}

/* Must run before the block goes back to glibc: once freed, another thread
 * may get the same address and insert it. */
static inline void lt_untrack(void *p)
{
    uint32_t id, epoch;
    uint64_t size;
    if (!lt_blocks_remove((uintptr_t)p, &id, &size, &epoch))
        return; /* a block we never saw (allocated before tracing, or nested) */
    lt_count_block(id, epoch, size, -1);
}

/* Records a fresh block (in sampling mode, a sampled one: the others
 * passed by, lt_skip_alloc); keeps errno as the allocator left it. */
static inline void *lt_after_alloc(void *p, size_t size, const lt_frame_state *caller)
{
    if (p) {
        int saved = errno;
        lt_track(p, size, caller);
        errno = saved;
    }
    lt_leave();
    return p;
}

/* The traced half of every allocating hook, out of line so that the
 * hooks' unsampled path needs no frame and saves no register (the one
 * `size` would otherwise live in). The caller's frame is taken in the
 * exported hook (LT_CALLER) and handed down. `size` is what the block
 * counts for (calloc's product: an overflowing one fails in calloc, and
 * what it drew on the countdown is harmless). */
static void *__attribute__((noinline)) lt_alloc_traced(int kind, size_t a, size_t b, size_t size,
                                                       const lt_frame_state *caller)
{
    if (lt_unsampled(size) || !lt_enter())
        return lt_pass(kind, a, b);
    return lt_after_alloc(lt_forward(kind, a, b), size, caller);
}

/* The hooks a program calls most start a cache line: where their few
 * instructions fall decides how they are fetched, and the unsampled path
 * measured 0.3 ns a malloc/free pair apart between two placements. */
#define LT_HOT_HOOK __attribute__((aligned(64)))

LT_HOT_HOOK void *malloc(size_t size)
{
    if (lt_skip_alloc(size))
        return lt_pass_unsampled(LT_ALLOC_MALLOC, size, 0);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_MALLOC, size, 0, size, &caller);
}

LT_HOT_HOOK void *calloc(size_t n, size_t each)
{
    if (lt_skip_alloc(n * each))
        return lt_pass_unsampled(LT_ALLOC_CALLOC, n, each);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_CALLOC, n, each, n * each, &caller);
}

static void lt_free_traced(void *p);

LT_HOT_HOOK void free(void *p)
{
    int bits = lt_skip_word();
    if (lt_skip_free(bits, p)) {
        lt_free_unsampled(p);
        return;
    }
    if (bits == LT_SKIP_IDLE) {
        lt_hot.next.free(p);
        return;
    }
    if (!p)
        return;
    if (lt_is_boot(p)) {
        lt_boot_free(p);
        return;
    }
    if (!lt_may_hold(p)) {  /* sampling with another allocator: not sampled */
        lt_hot.next.free(p);
        return;
    }
    lt_free_traced(p);
}

static void __attribute__((noinline)) lt_free_traced(void *p)
{
    /* Two misses when blocks die in random order: glibc's (it reads the
     * chunk's size word before p and writes the tcache link at p) and the
     * table's entry. Both are started here so they overlap, instead of
     * the allocator's waiting until the table's is over. A prefetch never
     * faults, whatever p is. */
    __builtin_prefetch((const char *)p - sizeof(size_t), 1, 3);
    __builtin_prefetch(p, 1, 3);
    lt_blocks_prefetch((uintptr_t)p);
    if (!lt_enter()) {
        lt_hot.next.free(p);
        return;
    }
    int saved = errno;
    lt_untrack(p);
    errno = saved;
    lt_leave();
    lt_hot.next.free(p);
}

/* realloc moves the block to the realloc call's traceback (tracemalloc
 * does the same), born now: the current epoch. The old entry is removed first and put back if the
 * allocator fails, because a successful realloc frees the old address at once. */
static inline void *lt_realloc(void *old, size_t size, const lt_frame_state *caller)
{
    uint32_t old_id = 0, old_epoch = 0;
    uint64_t old_size = 0;
    bool had = old && lt_may_hold(old) && lt_blocks_remove((uintptr_t)old, &old_id, &old_size, &old_epoch);
    void *p = lt_hot.next.realloc(old, size);
    int saved = errno;
    if (had) {
        /* realloc(p, 0) frees p; a failed realloc keeps it (re-insert can
         * only fail when the table cannot grow: then stop counting it). */
        bool old_gone = p != NULL || (old && size == 0);
        if (old_gone || !lt_blocks_insert((uintptr_t)old, old_id, old_size, old_epoch))
            lt_count_block(old_id, old_epoch, old_size, -1);
    }
    if (p && !lt_unsampled(size))
        lt_track(p, size, caller);
    errno = saved;
    lt_leave();
    return p;
}

/* The full path: both blocks are decided inside (lt_realloc). */
static void *__attribute__((noinline)) lt_realloc_traced(void *old, size_t size, const lt_frame_state *caller)
{
    if (lt_is_boot(old))
        return lt_boot_realloc(old, size);
    if (!lt_enter())
        return lt_pass_realloc(old, size);
    return lt_realloc(old, size, caller);
}

/* Like malloc: the skip path (neither block sampled, or a dormant
 * process) is a few tests ending in a jump to the allocator; the rest is
 * out of line. */
LT_HOT_HOOK void *realloc(void *old, size_t size)
{
    int bits = lt_skip_word();
    if (lt_skip_realloc(bits, old, size))
        return lt_realloc_unsampled(old, size);
    if (bits == LT_SKIP_IDLE)
        return lt_hot.next.realloc(old, size);
    lt_frame_state caller = LT_CALLER();
    return lt_realloc_traced(old, size, &caller);
}

void *reallocarray(void *old, size_t n, size_t each)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, each, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    int bits = lt_skip_word();
    if (lt_skip_realloc(bits, old, bytes))
        return lt_realloc_unsampled(old, bytes);
    if (bits == LT_SKIP_IDLE)
        return lt_hot.next.realloc(old, bytes);
    lt_frame_state caller = LT_CALLER();
    return lt_realloc_traced(old, bytes, &caller);
}

static inline bool lt_align_ok(size_t align)
{
    return align != 0 && (align & (align - 1)) == 0;
}

void *memalign(size_t align, size_t size)
{
    if (lt_skip_alloc(size))
        return lt_pass_unsampled(LT_ALLOC_MEMALIGN, align, size);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_MEMALIGN, align, size, size, &caller);
}

/* glibc's own checks, so the host sees the same results. posix_memalign
 * does not set errno. */
int posix_memalign(void **out, size_t align, size_t size)
{
    if (!lt_align_ok(align) || align % sizeof(void *) != 0)
        return EINVAL;
    int saved = errno;
    void *p;
    if (lt_skip_alloc(size)) {
        p = lt_pass_unsampled(LT_ALLOC_MEMALIGN, align, size);
    } else {
        lt_frame_state caller = LT_CALLER();
        p = lt_alloc_traced(LT_ALLOC_MEMALIGN, align, size, size, &caller);
    }
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* In glibc 2.36 aligned_alloc is memalign (odd alignments are rounded
 * up); another allocator's own aligned_alloc keeps its own rules. */
void *aligned_alloc(size_t align, size_t size)
{
    if (lt_skip_alloc(size))
        return lt_pass_unsampled(LT_ALLOC_ALIGNED, align, size);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_ALIGNED, align, size, size, &caller);
}

void *valloc(size_t size)
{
    if (lt_skip_alloc(size))
        return lt_pass_unsampled(LT_ALLOC_VALLOC, size, 0);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_VALLOC, size, 0, size, &caller);
}

void *pvalloc(size_t size)
{
    if (lt_skip_alloc(size))
        return lt_pass_unsampled(LT_ALLOC_PVALLOC, size, 0);
    lt_frame_state caller = LT_CALLER();
    return lt_alloc_traced(LT_ALLOC_PVALLOC, size, 0, size, &caller);
}

/* dlopen/dlclose change the module table the frontend symbolizes with,
 * and, loaded into a running program, what a dlopen brought needs its
 * GOTs patched. The refresh holds a lock: it runs as a hook does (no
 * handler inside). */
static void lt_modules_changed(void)
{
    if (lt_busy)
        return;
    lt_crit_begin(false);
    if (lt_g.attach_mode)
        lt_attach_new_modules();
    if (lt_tracing())
        lt_modules_refresh();
    lt_crit_end();
}

void *dlopen(const char *file, int flags)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    void *h = real(file, flags);
    if (h)
        lt_modules_changed();
    return h;
}

void *dlmopen(Lmid_t ns, const char *file, int flags)
{
    static void *(*real)(Lmid_t, const char *, int);
    if (!real)
        real = (void *(*)(Lmid_t, const char *, int))dlsym(RTLD_NEXT, "dlmopen");
    void *h = real(ns, file, flags);
    if (h)
        lt_modules_changed();
    return h;
}

int dlclose(void *handle)
{
    static int (*real)(void *);
    if (!real)
        real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    int rc = real(handle);
    lt_modules_changed();
    return rc;
}

void leaktop_mark_impl(const char *label, uint32_t reason) LT_HIDDEN;

void leaktop_mark(const char *label)
{
    /* A program may mark before it ever allocated: start tracing now. */
    if (lt_busy || !lt_start())
        return;
    lt_crit_begin(false);
    leaktop_mark_impl(label, LT_SNAP_MARK);
    lt_crit_end();
}

/* Our definitions by names no GOT redirects (attach.c's table). */
LT_SELF_DEFINE(malloc);
LT_SELF_DEFINE(calloc);
LT_SELF_DEFINE(realloc);
LT_SELF_DEFINE(reallocarray);
LT_SELF_DEFINE(free);
LT_SELF_DEFINE(posix_memalign);
LT_SELF_DEFINE(aligned_alloc);
LT_SELF_DEFINE(memalign);
LT_SELF_DEFINE(valloc);
LT_SELF_DEFINE(pvalloc);
LT_SELF_DEFINE(dlopen);
LT_SELF_DEFINE(dlmopen);
LT_SELF_DEFINE(dlclose);
