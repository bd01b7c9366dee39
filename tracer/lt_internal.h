/* lt_internal.h: the tracer's shared internals.
 *
 * Includes run one way: lt_base.h (helpers, no tracer state) <- lt_options.h
 * (the option table) <- lt_shm.h (the layout) <- this file <- the .c files.
 *
 * Where state lives: process-wide segment state is the one struct lt_g
 * (defined in segment.c); option values are options.c's table; the live-
 * block shards are blocks.c's, the unwind caches unwind.c's and cfi.c's,
 * the thread-slot key counters.c's; per-thread state is initial-exec TLS
 * (hooks.c's re-entry flag, counters.c's slot, unwind.c's stack cache).
 * Nothing here may allocate with malloc. */
#ifndef LT_INTERNAL_H
#define LT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lt_base.h"
#include "lt_options.h"
#include "lt_shm.h"

#define LT_RING_SLOTS 16u

/* Process-wide tracer state. `status` moves UNINIT -> BUSY_INIT -> READY,
 * or to OFF (dormant: not our process, or set-up failed, or a fork child).
 * Loaded into a running program (attach.c), it starts DORMANT: every call
 * passes straight through until leaktop_attach (DORMANT -> BUSY_INIT ->
 * READY), and a detach takes it back to DORMANT. */
enum { LT_UNINIT = 0, LT_BUSY_INIT, LT_READY, LT_OFF, LT_DORMANT };

typedef struct lt_globals {
    int            status;          /* atomic */
    lt_shm_header *hdr;             /* the mapped segment */
    uint64_t       sample_bytes;    /* LEAKTOP_SAMPLE once tracing runs (0 = exact, or not
                                       yet): read on every hook, set before READY */
    size_t         seg_size;
    char           seg_name[64];    /* "/leaktop-<uid>-<pid>-<random>" */
    pid_t          launcher;        /* the frontend that launched us (LEAKTOP_LAUNCHER), or 0 */
    uint64_t      *index;           /* hdr->index_off */
    lt_counter    *counters;        /* hdr->counters_off */
    uint8_t       *store;           /* hdr->store_off */
    uint8_t       *tslots;          /* hdr->tslots_off */
    lt_pair       *pairs;           /* hdr->pairs_off (committed once hdr->pairs_ready) */
    uint32_t       tslot_mask;      /* entries per thread slot - 1 */
    uint32_t       frames_captured; /* frames kept per trace */
    uintptr_t      self_lo, self_hi;/* the tracer's own code: never part of a trace */
    int            mark_lock;       /* spinlock serialising ring writes */
    int            service_lock;    /* one thread at a time services mark requests */
    int64_t        stalled_since_ns;/* a claimed request not yet published (service_lock) */
    int            constructed;     /* our constructor ran: libc is fully up */
    int            module_lock;     /* spinlock serialising module-table refreshes */
    int            attach_mode;     /* 1: dlopen'ed into a running program (attach.c) */
    int            epoch;           /* tracing periods so far: the gate's value while open */

    /* Committed (given memory) extents of the growing regions, read lock-
     * free on fast paths (segment.c). Each grows under its own lock, taken
     * only inside a hook (lt_busy set: a signal handler's allocation passes
     * through and cannot wait for it); modules grow under module_lock and
     * ring slots under mark_lock. No lock is taken while holding these. */
    int            traces_lock, store_lock, tslots_lock;
    int            seg_fd;          /* LEAKTOP_COMMIT=fallocate only, else -1 */
    int            seg_fd_lost;     /* the program closed seg_fd: populate instead */
    uint64_t       seg_dev, seg_ino;/* what seg_fd must still be */
    uint64_t       store_committed; /* bytes of the trace store */
    uint32_t       tslots_committed;/* thread slots */
    uint32_t       modules_committed;
    uint32_t       ring_committed[LT_RING_SLOTS];  /* counters per ring slot */
    uint32_t       births_committed[LT_RING_SLOTS];/* birth parts per ring slot */
    int            pairs_lock;      /* commits the pair table at its first use */
    int            pairs_failed;    /* ... which found no room in /dev/shm */
} lt_globals;

extern lt_globals lt_g LT_HIDDEN;

/* hooks.c: set-up from outside an allocation (constructor, leaktop_mark) */
bool     lt_start(void) LT_HIDDEN;
/* READY and still the traced process (a raw clone's copy goes dormant). */
bool     lt_tracing(void) LT_HIDDEN;
/* Non-zero while this thread runs a hook or the tracer's own set-up:
 * LT_BUSY_OTHER for the set-up, else the frame of the allocation call's
 * hook that entered, which returns to lt_busy_ret (one store says both
 * that it is busy and where). */
#define LT_BUSY_OTHER ((uintptr_t)1)
extern __thread uintptr_t lt_busy __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
extern __thread uintptr_t lt_busy_ret __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
/* The tracing period (gate value) this thread's per-thread state belongs
 * to; -1 before its first traced call. */
extern __thread int lt_seen __attribute__((tls_model("initial-exec"))) LT_HIDDEN;

/* guard.c: lt_busy set by an allocation call that will never return (a
 * crash handler siglongjmp'ed out of the allocator it called): true when
 * so, seen from a hook whose frame is `here`; it then clears lt_busy. */
bool lt_busy_abandoned(uintptr_t here) LT_HIDDEN;

/* guard.c: the gate the hooks test with one load (reads 1 only in the
 * traced process, 0 in a copy of it made without fork's handlers), and
 * asynchronous cancellation deferred while a hook runs. */
extern const volatile int *lt_gate LT_HIDDEN;
bool     lt_gate_init(void) LT_HIDDEN;
void     lt_gate_open(void) LT_HIDDEN;            /* a new tracing period: lt_g.epoch + 1 */
void     lt_gate_close(void) LT_HIDDEN;           /* detach */
bool     lt_gate_wiped(void) LT_HIDDEN;
void     lt_go_dormant(void) LT_HIDDEN;
extern __thread int lt_async_cancel __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
void     lt_cancel_hold(void) LT_HIDDEN;
void     lt_cancel_release(void) LT_HIDDEN;

/* signals.c: the program's signal handlers wait while a hook runs. */
extern __thread int lt_deferred __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
void     lt_signals_release(void) LT_HIDDEN;
void     lt_signals_abandoned(void) LT_HIDDEN;  /* the holding hook was left (guard.c) */
void     lt_signals_adopt(void) LT_HIDDEN;         /* wrap the handlers installed before an attach */

/* segment.c */
bool     lt_init(const char *config) LT_HIDDEN;   /* true when tracing; config NULL: environment */
void     lt_service_requests(void) LT_HIDDEN;     /* marks asked by frontends */
void     lt_modules_refresh(void) LT_HIDDEN;      /* after dlopen/dlclose */
/* Room for a new trace: `bytes` of store at *off and trace id *id, both
 * with committed pages. False when the table, the store or /dev/shm is
 * full (then the stack is charged to LT_TRACE_UNKNOWN, sticky). */
bool     lt_seg_claim_trace(uint64_t bytes, uint64_t *off, uint32_t *id) LT_HIDDEN;
/* Gives memory to segment bytes [off, off + len); false when /dev/shm is full. */
bool     lt_seg_commit_range(uint64_t off, uint64_t len) LT_HIDDEN;
/* Commits thread slot i (and those below); false when /dev/shm is full. */
bool     lt_seg_reserve_tslot(uint32_t i) LT_HIDDEN;

/* exec.c: fork and exec behaviour, set up once tracing runs */
void     lt_exec_init(void) LT_HIDDEN;

/* attach.c: loaded into a running program. The functions the tracer
 * defines in place of the program's, by name, with our definition (through
 * a hidden alias, never a GOT) and the real one got.c found. */
typedef struct lt_self_fn {
    const char *name;
    void       *self;
    void       *real;
} lt_self_fn;

lt_self_fn *lt_self_fns(uint32_t *n) LT_HIDDEN;
bool     lt_loaded_late(void) LT_HIDDEN;          /* in the constructor: dlopen'ed, not preloaded */
void     lt_detach(void) LT_HIDDEN;               /* a frontend asked (hook path, lt_busy set) */
void     lt_attach_new_modules(void) LT_HIDDEN;   /* after a dlopen: patch what it brought */

/* Our definition of `fn` by a name no GOT redirects: LT_SELF_DEFINE in the
 * file that defines fn, after it; LT_SELF_DECLARE where it is used. */
#define LT_SELF_DECLARE(fn) extern __typeof__(fn) lt_self_##fn LT_HIDDEN
#define LT_SELF_DEFINE(fn)  extern __typeof__(fn) lt_self_##fn __attribute__((alias(#fn), copy(fn))) LT_HIDDEN

/* got.c: GOT patching and symbol lookup by the modules' own tables. */
void    *lt_got_real(const char *name) LT_HIDDEN;
uint32_t lt_got_patch_all(void) LT_HIDDEN;
uint32_t lt_got_restore_all(void) LT_HIDDEN;

/* counters.c: live totals per trace = shared counter + every thread
 * slot's delta (lt_shm.h). The hot part is inline: a thread adds to its
 * own slot with plain stores; the rest is out of line. */
extern __thread lt_tslot *lt_my_tslot __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
lt_tslot *lt_tslot_acquire(void) LT_HIDDEN;
bool      lt_counters_init(void) LT_HIDDEN;
/* A new tracing period: this thread's slot was in the old segment. */
void      lt_tslot_forget(void) LT_HIDDEN;
/* Where the live counters are (lt_shm.h's reader view): a trace's live
 * totals are its shared counter plus its parts (lt_totals_read). */
void      lt_live_now(lt_live_view *v) LT_HIDDEN;

#define LT_TSLOT_PROBES 8

/* A full slot finds few of the keys it is asked for (an interpreter or a
 * compiler counts in hundreds of thousands of traces; its first keys
 * claimed the slot): a bit per key hash, set when a key takes an entry,
 * lets a key that never did go straight to the shared counters instead of
 * probing. Bits are never cleared (an entry given to another key leaves
 * its old bit): a stale bit only costs the probe. After the entries. */
#define LT_TSLOT_FILTER_BITS  16384u
#define LT_TSLOT_FILTER_BYTES (LT_TSLOT_FILTER_BITS / 8)

static inline uint64_t *lt_tslot_filter(lt_tslot *t)
{
    return (uint64_t *)&t->entries[lt_g.tslot_mask + 1];
}

static inline uint32_t lt_tslot_hash(uint32_t id, uint32_t epoch)
{
    return id * 2654435761u + epoch * 0x9e3779b9u;
}

/* The filter's bit of hash h: its top bits (the slot index is its low). */
static inline uint32_t lt_tslot_filter_bit(uint32_t h)
{
    return h >> (32 - __builtin_ctz(LT_TSLOT_FILTER_BITS));
}

static inline void lt_tslot_filter_set(lt_tslot *t, uint32_t h)
{
    uint32_t b = lt_tslot_filter_bit(h);
    lt_tslot_filter(t)[b / 64] |= 1ULL << (b % 64);
}

static inline bool lt_tslot_filter_has(lt_tslot *t, uint32_t h)
{
    uint32_t b = lt_tslot_filter_bit(h);
    return lt_tslot_filter(t)[b / 64] >> (b % 64) & 1;
}

/* The shared parts when the thread has no slot or its slot no room:
 * lt_counter for epoch 0 (what a program that never marks uses), the
 * pair table for the others (counters.c). */
void      lt_count_shared(uint32_t id, uint32_t epoch, int64_t size, int64_t blocks) LT_HIDDEN;

static inline bool lt_tslot_full(const lt_tslot *t)
{
    return t->used * 4 >= (lt_g.tslot_mask + 1) * 3;
}

/* Adds to this thread's entry for (id, epoch). A new key takes an empty
 * entry, or one whose values are both 0 (recycled: it adds nothing to any
 * sum, so readers lose nothing; lt_shm.h says how they read it). */
static inline bool lt_tslot_add(lt_tslot *t, uint32_t id, uint32_t epoch, int64_t size, int64_t blocks)
{
    uint32_t h = lt_tslot_hash(id, epoch);
    /* Never taken here, and no empty entry left (a full slot recycles
     * only for the keys it probes anyway). */
    if (lt_tslot_full(t) && !lt_tslot_filter_has(t, h))
        return false;
    uint32_t mask = lt_g.tslot_mask;
    uint32_t i = h & mask;
    lt_tslot_entry *zero = NULL;
    for (int probe = 0; probe < LT_TSLOT_PROBES; probe++, i = (i + 1) & mask) {
        lt_tslot_entry *e = &t->entries[i];
        uint32_t cur = e->id_plus1;  /* we are the only writer of this slot */
        if (cur == id + 1 && e->epoch == epoch) {
            __atomic_store_n(&e->size, e->size + size, __ATOMIC_RELAXED);
            __atomic_store_n(&e->count, e->count + blocks, __ATOMIC_RELAXED);
            return true;
        }
        if (cur == 0) {
            if (zero || lt_tslot_full(t))
                break;  /* keep probe runs short: recycle, or the rest goes shared */
            e->size = size;
            e->count = blocks;
            e->epoch = epoch;
            __atomic_store_n(&e->id_plus1, id + 1, __ATOMIC_RELEASE);
            t->used++;
            lt_tslot_filter_set(t, h);
            return true;
        }
        if (!zero && (e->size | e->count) == 0)
            zero = e;
    }
    if (!zero)
        return false;
    /* No key is ever found past an entry that was empty when it was put
     * there, and entries never become empty: this key is nowhere else. */
    __atomic_store_n(&zero->id_plus1, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&zero->size, size, __ATOMIC_RELAXED);
    __atomic_store_n(&zero->count, blocks, __ATOMIC_RELAXED);
    __atomic_store_n(&zero->epoch, epoch, __ATOMIC_RELAXED);
    __atomic_store_n(&zero->id_plus1, id + 1, __ATOMIC_RELEASE);
    lt_tslot_filter_set(t, h);
    return true;
}

static inline void lt_count(uint32_t id, uint32_t epoch, int64_t size, int64_t blocks)
{
    lt_tslot *t = lt_my_tslot;
    if (LT_UNLIKELY(!t))
        t = lt_tslot_acquire();
    if (LT_LIKELY(t != NULL) && lt_tslot_add(t, id, epoch, size, blocks))
        return;
    lt_count_shared(id, epoch, size, blocks);
}

/* The birth epoch of a block allocated now (lt_shm.h): on the control
 * line every hook reads anyway. */
static inline uint32_t lt_epoch_now(void)
{
    return __atomic_load_n(&lt_g.hdr->epoch, __ATOMIC_RELAXED);
}

/* unwind.c: a frame as the unwinder sees it: the return address into it,
 * its stack pointer and its RBP. */
typedef struct lt_frame_state {
    uintptr_t ip, sp, rbp;
} lt_frame_state;

bool     lt_unwind_init(void) LT_HIDDEN;
/* Is [addr, addr + bytes) on this thread's own stack (its bounds known)? */
bool     lt_unwind_on_thread_stack(uintptr_t addr, size_t bytes) LT_HIDDEN;
/* A hook of this thread was left without returning: its unwind-stack
 * flag must not keep the next ones off their stack. */
void     lt_unwind_abandoned(void) LT_HIDDEN;
/* Registers a loaded object's code range and its .eh_frame_hdr. */
void     lt_unwind_add_module(uintptr_t lo, uintptr_t hi, uintptr_t eh_frame_hdr) LT_HIDDEN;
void     lt_unwind_flush(void) LT_HIDDEN;                 /* after dlclose */
void     lt_unwind_report(void) LT_HIDDEN;                /* verify mode, at exit */
/* The trace id of the stack that starts at `caller` (the hook's caller). */
uint32_t lt_capture_stack(const lt_frame_state *caller) LT_HIDDEN;

/* traces.c: stack -> trace id, deduplicated. Never fails: id 0 when full. */
bool     lt_dedupe_open(uint32_t traces_cap) LT_HIDDEN;  /* empty, for traces_cap ids */
uint32_t lt_trace_id(const uintptr_t *frames, uint32_t n) LT_HIDDEN;
/* The same in steps, for a caller that remembers recent ids by hash:
 * the stack's hash, the id for a hash already computed, and whether trace
 * id holds exactly this stack (its record compared frame by frame). */
uint64_t lt_trace_hash(const uintptr_t *frames, uint32_t n) LT_HIDDEN;
uint32_t lt_trace_id_hashed(uint64_t hash, const uintptr_t *frames, uint32_t n) LT_HIDDEN;
bool     lt_trace_is(uint32_t id, uint64_t hash, const uintptr_t *frames, uint32_t n) LT_HIDDEN;

/* The allocator's entry points (forward.c says which allocator). */
typedef struct lt_alloc_fns {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void  (*free)(void *);
    void *(*memalign)(size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    int   (*posix_memalign)(void **, size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
} lt_alloc_fns;

/* What the skip paths read, on one cache line (the hot hooks' other
 * loads are this thread's countdown and the segment's mark line): in a
 * program whose own data keeps evicting the tracer's, each line a call
 * touches is a likely miss (perf on CPython: the skip paths cost three
 * times the bare forwarding, the time at the loads). */
typedef struct lt_hot_line {
    int             skip_bits;  /* LT_SKIP_* (sample.c, forward.c, hooks.c) */
    const uint64_t *marks;      /* the segment header's mark_req and mark_done,
                                   adjacent: two static zeroes until a segment
                                   exists (a dormant process has none); never
                                   unmapped, only replaced by private zeroes */
    const uint64_t *filter;     /* lt_block_filter once sampling runs */
    lt_alloc_fns    next;       /* malloc, calloc, realloc, free on this line */
} lt_hot_line;

extern lt_hot_line lt_hot LT_HIDDEN;  /* forward.c */

/* blocks.c: live-block table, address -> (trace id, size, birth epoch).
 * Insert fails only when the table cannot grow (mmap failed), or for an
 * address of 2^48 or more (x86-64 gives those only to mmap calls that ask
 * for them): the block is then not counted. */
bool     lt_blocks_init(void) LT_HIDDEN;
bool     lt_blocks_insert(uintptr_t addr, uint32_t trace, uint64_t size, uint32_t epoch) LT_HIDDEN;
bool     lt_blocks_remove(uintptr_t addr, uint32_t *trace, uint64_t *size, uint32_t *epoch) LT_HIDDEN;

/* The shadow (blocks.c): lt_shadow[addr >> 30] is the array of addr's
 * GiB, one 8-byte entry per 32-byte granule; NULL until a block lands
 * there. Below 2^47 only. */
#define LT_REGION_BITS  30
#define LT_GRANULE_BITS 5
#define LT_SHADOW_BITS  47
#define LT_REGIONS      (1u << (LT_SHADOW_BITS - LT_REGION_BITS))
#define LT_REGION_SLOTS (1u << (LT_REGION_BITS - LT_GRANULE_BITS))
extern uint64_t *lt_shadow[LT_REGIONS] LT_HIDDEN;

/* Starts bringing addr's shadow entry into the cache (for writing), so
 * its miss overlaps the work a hook does before it inserts or removes:
 * with blocks freed in random order the entry is a miss whenever the
 * heap's own chunk is one. Never faults (a prefetch of an unmapped page
 * is dropped); nothing when addr's GiB has no shadow yet. */
static inline void lt_blocks_prefetch(uintptr_t addr)
{
    uintptr_t r = addr >> LT_REGION_BITS;
    const uint64_t *region = LT_LIKELY(r < LT_REGIONS) ? __atomic_load_n(&lt_shadow[r], __ATOMIC_RELAXED) : NULL;
    if (LT_LIKELY(region != NULL))
        __builtin_prefetch(&region[(addr >> LT_GRANULE_BITS) & (LT_REGION_SLOTS - 1)], 1, 3);
}

/* In sampling mode the table holds sampled blocks only, so nearly every
 * free is a miss. A miss is made cheap by a filter beside the table: one
 * bit per bucket of addresses, set while the bucket holds a live sampled
 * block (blocks.c counts them per bucket, behind the bits). A free whose
 * bit is clear was not sampled: a few shifts and one load, no lock. The
 * bit is set before malloc returns the block, and the program hands the
 * pointer to whichever thread frees it, so that thread sees it.
 * Buckets follow the address, not a hash: one per 64-byte granule of an
 * 8 MiB window, the rest of the address folded in by xor. So frees of
 * nearby blocks read the same word, and the whole filter is 16 KiB: in a
 * program whose own data keeps evicting it, it still mostly stays in L1,
 * where a scattered byte table of 128 KiB cost a miss a free (perf on
 * CPython). The xor keeps blocks at the same offset of different regions
 * (page-aligned mmapped blocks) in different buckets. A bucket shared with
 * a live sampled block sends a free to the table: about (live sampled
 * blocks) / 131072 of frees, plus the blocks that share its 64 bytes. */
#define LT_FILTER_BITS  17   /* buckets: 2^17 bits, 16 KiB */
#define LT_FILTER_GRAIN 6    /* bytes per bucket: 2^6, within the window */
extern uint64_t *lt_block_filter LT_HIDDEN;

static inline uint32_t lt_filter_slot(uintptr_t addr)
{
    uint64_t g = (uint64_t)addr >> LT_FILTER_GRAIN;
    return (uint32_t)((g ^ (g >> LT_FILTER_BITS)) & ((1u << LT_FILTER_BITS) - 1));
}

static inline bool lt_blocks_maybe(uintptr_t addr)
{
    uint32_t slot = lt_filter_slot(addr);
    return (__atomic_load_n(&lt_hot.filter[slot >> 6], __ATOMIC_RELAXED) >> (slot & 63)) & 1;
}

/* sample.c: Poisson sampling over allocated bytes (LEAKTOP_SAMPLE).
 * Each thread counts down the bytes to its next sample point, drawn from
 * an exponential distribution of mean sample_bytes with its own PRNG: no
 * shared state, and the fast path is a compare and a subtraction. A block
 * of s bytes (1 for s = 0, so empty blocks are counted too) is sampled when
 * the next point falls inside it: probability 1 - exp(-s/mean), and blocks
 * are independent (disjoint stretches of a Poisson process). The countdown
 * is ceil(gap): `t < left` is exactly `gap > t`. 0 = not drawn yet. */
extern __thread uint64_t lt_sample_left __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
bool     lt_sample_hit(uint64_t t) LT_HIDDEN;        /* the slow path: draws */
/* What a sampled block of `size` bytes adds to its trace's counters:
 * its size and one block, each times 1/(1 - exp(-s/mean)), the inverse of
 * its chance to be sampled (count in 1/LT_SAMPLE_ONE blocks). Recomputed
 * from the stored size on free, so the subtraction cancels exactly. */
void     lt_sample_weight(uint64_t size, int64_t *bytes, int64_t *count) LT_HIDDEN;
void     lt_sample_init(void) LT_HIDDEN;   /* at set-up: the mean, the seed */
void     lt_sample_start(void) LT_HIDDEN;  /* sets lt_g.sample_bytes: the segment is there */

/* What lets calls pass through on their own, sampling mode only: the
 * countdown is kept (lt_sample_hit, so malloc's test can pass) once
 * sampling runs (lt_sample_start) and the next allocator is known
 * (lt_forward_resolve): LT_SKIP_ALLOC. free's test is one load of the
 * whole word: LT_SKIP_FREE needs besides that no block be left from
 * before resolution (forwarding to glibc, which takes them all; with
 * another allocator, free keeps its full path). Each step sets its own
 * bit, so no order of them can leave the word short; until it is
 * complete, calls take the hooks' full path, which knows how to pass a
 * call through while booting. */
enum { LT_SKIP_SAMPLING = 1, LT_SKIP_FORWARD = 2, LT_SKIP_NO_BOOT = 4, LT_SKIP_DORMANT = 8 };
#define LT_SKIP_ALLOC (LT_SKIP_SAMPLING | LT_SKIP_FORWARD)
#define LT_SKIP_FREE  (LT_SKIP_SAMPLING | LT_SKIP_FORWARD | LT_SKIP_NO_BOOT)
/* A process that will never trace (hooks.c, lt_skip_dormant): free and
 * realloc pass on this word alone; the SAMPLING bit goes, so no filter
 * (there may be none) is looked at. */
#define LT_SKIP_IDLE  (LT_SKIP_FORWARD | LT_SKIP_NO_BOOT | LT_SKIP_DORMANT)

/* True (the common case) when the countdown passes over the block: a
 * compare and a subtraction. False when it ran out: lt_sample_take then
 * decides, from the countdown as it was. */
static inline bool lt_sample_passes(uint64_t size)
{
    uint64_t t = size + (size == 0);
    uint64_t left = lt_sample_left;
    if (LT_LIKELY(t < left)) {
        lt_sample_left = left - t;
        return true;
    }
    return false;
}

/* True when the block is sampled; false (the common case) costs a
 * compare and a subtraction on this thread's countdown. */
static inline bool lt_sample_take(uint64_t size)
{
    return !lt_sample_passes(size) && lt_sample_hit(size + (size == 0));
}

/* A live block's share of its trace's counters, added (sign 1) when it is
 * tracked and taken back (sign -1) when it goes. */
static inline void lt_count_block(uint32_t id, uint32_t epoch, uint64_t size, int64_t sign)
{
    if (LT_LIKELY(lt_g.sample_bytes == 0)) {
        lt_count(id, epoch, sign * (int64_t)size, sign);
        return;
    }
    int64_t bytes, count;
    lt_sample_weight(size, &bytes, &count);
    lt_count(id, epoch, sign * bytes, sign * count);
}

/* forward.c: the allocator the program would use without us (the next
 * definition of malloc: a preloaded or linked jemalloc/tcmalloc, or glibc),
 * in lt_hot.next. glibc's __libc_* entry points serve until it is
 * resolved; the blocks they gave out are remembered (lt_boot_live != 0)
 * and go back there. */
enum { LT_FWD_NONE = 0, LT_FWD_RESOLVING, LT_FWD_DONE };
enum { LT_ALLOC_MALLOC, LT_ALLOC_CALLOC, LT_ALLOC_MEMALIGN, LT_ALLOC_ALIGNED, LT_ALLOC_VALLOC, LT_ALLOC_PVALLOC };

extern int lt_fwd_state LT_HIDDEN;
extern int lt_boot_live LT_HIDDEN;
void  lt_forward_resolve(void) LT_HIDDEN;
void *lt_boot_alloc(int kind, size_t a, size_t b) LT_HIDDEN;
void *lt_boot_realloc(void *old, size_t size) LT_HIDDEN;
void  lt_boot_free(void *p) LT_HIDDEN;
bool  lt_boot_take(void *p) LT_HIDDEN;

#endif
