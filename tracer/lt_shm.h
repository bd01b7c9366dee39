/* lt_shm.h: the shared-memory layout, the one contract between the tracer
 * (writer, inside the target) and the frontend (reader). Fixed-width types
 * only; every region is found through offsets in the header, which a reader
 * validates against the segment size before use.
 *
 * A segment is the POSIX shm object "/leaktop-<uid>-<pid>-<random>"
 * (/dev/shm/...), created O_EXCL, mode 0600, by the traced process at its
 * first allocation. The random suffix makes the name unpredictable, so
 * another user cannot take it first; readers find it by the uid-pid prefix
 * and verify owner, mode and the header's writer_pid.
 *
 * Its size (ftruncate) is fixed at creation, to what the file system had
 * free, and never changes, so readers can map it whole once and keep the
 * mapping after the target dies: the final state needs no flush. Pages are
 * committed (given memory) in steps as the tracer needs them, by a call that
 * fails cleanly when /dev/shm is full, never by touching them (a SIGBUS);
 * the tracer publishes a region's length (ntraces, store offsets in index[],
 * tslots_hwm, ring_head, nmodules) only after committing it, and readers
 * read nothing beyond what was published. */
#ifndef LT_SHM_H
#define LT_SHM_H

#include <stdbool.h>
#include <stdint.h>

#define LT_SHM_MAGIC       0x31504f544b41454cULL /* "LEAKTOP1" little-endian */
#define LT_SHM_VERSION     5u
#define LT_SHM_DIR         "/dev/shm"
#define LT_SHM_PREFIX      "leaktop-"   /* then "<uid>-<pid>-<16 hex digits>" */
#define LT_SHM_RANDOM_HEX  16
#define LT_LABEL_MAX       64   /* bytes, NUL included */
#define LT_PATH_MAX        1024 /* module path bytes, NUL included */
#define LT_EXEC_PATH_MAX   256  /* exec'd program path bytes kept, NUL included */
#define LT_BUILD_ID_MAX    32
#define LT_MARK_QUEUE      16   /* mark requests waiting at once */

/* Traceback depth: the one source for both sides. LEAKTOP_FRAMES / --frames
 * take 1..LT_MAX_FRAMES; the tracer keeps LT_WRAPPER_SLACK more frames so
 * the frontend can drop allocator wrappers and still show the limit. */
#define LT_DEFAULT_FRAMES  32u
#define LT_WRAPPER_SLACK   4u
#define LT_FRAMES_MAX      256u /* hard cap on captured frames per trace */
#define LT_MAX_FRAMES      (LT_FRAMES_MAX - LT_WRAPPER_SLACK)

/* Trace id 0 is reserved: blocks whose stack could not be stored (trace
 * store full, unwinding failed) are charged to it, so totals stay exact. */
#define LT_TRACE_UNKNOWN   0u

/* Fixed point of sampled block counts: a block of weight w adds
 * round(w * LT_SAMPLE_ONE) to `count` (w is 1/(1 - exp(-s/sample_bytes)),
 * from 1 to sample_bytes). */
#define LT_SAMPLE_ONE      65536

/* Birth epochs (retained since a mark, PRODUCT.md §10). The epoch is the
 * number of baselines taken so far: every stored mark and every baseline a
 * frontend takes (lt_epoch_bump) add one. A live block remembers the epoch
 * it was born in (realloc: its result is born at the realloc), and the
 * live totals are kept per (trace, birth epoch), so for a baseline taken
 * at epoch e the retained figures are the totals of epochs >= e, exactly.
 * Epochs take 10 bits beside each live block, and stop at LT_EPOCH_MAX:
 * a mark copies every live (trace, epoch) part, so the limit bounds its
 * cost. A baseline taken past it is refused (LT_EPOCH_NONE), never
 * approximated; baselines taken before stay exact. */
#define LT_EPOCH_MAX       1023u
#define LT_EPOCH_NONE      UINT32_MAX

/* Per-trace live totals. Written with relaxed atomic adds by the tracer;
 * a reader sees each field torn-free (naturally aligned 8-byte words).
 * Sampled segments (header.sample_bytes != 0) hold estimates: each
 * sampled live block adds its weighted size (rounded to a byte) to `size`
 * and its weight in units of 1/LT_SAMPLE_ONE block to `count`; readers
 * divide `count` by LT_SAMPLE_ONE (ring slots hold the same units). */
typedef struct lt_counter {
    int64_t size;   /* bytes live */
    int64_t count;  /* blocks live */
} lt_counter;

/* Per-thread deltas, keyed by (trace id, birth epoch). A trace's live
 * totals are its lt_counter PLUS its entries in the shared pair table and
 * in every thread slot: each thread adds to its own slot with plain stores
 * (no atomic read-modify-write on a line other threads share), and deltas
 * never move, so a thread that exits hands its slot, entries intact, to
 * the next one, and the sum stays exact at any instant — after a SIGKILL
 * too. A slot that is full, or no free slot, falls back to shared counters
 * with atomic adds: lt_counter for epoch 0, the pair table for the others.
 * An entry whose size and count are both 0 adds nothing, so its owner may
 * give it to another key: it stores id_plus1 = 0, the values, the epoch,
 * then the new id_plus1 (release). A reader therefore re-reads id_plus1 and
 * epoch after the values and retries on a change (lt_tslot_entry_read).
 * The slot's bytes after its entries (tslot_size covers them) are its
 * owner's: a filter of the keys it holds, which readers never read. */
typedef struct lt_tslot_entry {
    uint32_t id_plus1;      /* trace id + 1; 0 = empty. Published last (release) */
    uint32_t epoch;         /* birth epoch of the blocks it counts */
    int64_t  size;          /* written by the owning thread only */
    int64_t  count;
} lt_tslot_entry;

typedef struct lt_tslot {
    uint32_t owned;         /* 1 while a live thread owns the slot */
    uint32_t used;          /* entries in use (owner's bookkeeping) */
    uint8_t  pad[56];       /* header is one cache line */
    lt_tslot_entry entries[];  /* tslot_entries, open addressing by trace id */
} lt_tslot;

/* Shared (trace, epoch) counters for epochs >= 1 when a thread slot has
 * no room: open addressing on `key` = epoch << 32 | (trace id + 1), claimed
 * with a CAS from 0, then atomic adds. Committed whole at its first use.
 * After the table comes its index, uint32_t[pairs_cap]: the claimer of an
 * entry takes the next index position (pairs_used, fetch_add) and stores
 * the entry's position + 1 there (release) before adding to it, so readers
 * visit the entries in use, not the whole table.
 * When a key finds no room within LT_PAIR_PROBES, the delta goes to the
 * trace's lt_counter (totals stay exact) and `pairs_lost` says retained
 * figures are not known from then on. */
typedef struct lt_pair {
    uint64_t key;           /* 0 = empty */
    int64_t  size;
    int64_t  count;
} lt_pair;

#define LT_PAIR_PROBES     32

/* One thread-slot entry as a reader must take it (see lt_tslot_entry):
 * false when empty. */
static inline bool lt_tslot_entry_read(const lt_tslot_entry *e, uint32_t *id_plus1, uint32_t *epoch,
                                       int64_t *size, int64_t *count)
{
    for (int tries = 0; tries < 64; tries++) {
        uint32_t id = __atomic_load_n(&e->id_plus1, __ATOMIC_ACQUIRE);
        if (id == 0)
            return false;
        uint32_t ep = __atomic_load_n(&e->epoch, __ATOMIC_RELAXED);
        *size = __atomic_load_n(&e->size, __ATOMIC_RELAXED);
        *count = __atomic_load_n(&e->count, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->id_plus1, __ATOMIC_RELAXED) == id &&
            __atomic_load_n(&e->epoch, __ATOMIC_RELAXED) == ep) {
            *id_plus1 = id;
            *epoch = ep;
            return true;
        }
    }
    return false;  /* its owner keeps recycling it: it held zeros each time */
}

/* Where the live counters are, as a reader validated them (never fields
 * re-read from an untrusted segment). */
typedef struct lt_live_view {
    const lt_counter *shared;   /* traces */
    const lt_pair    *pairs;    /* pairs_cap entries, or NULL before the table's first use */
    const uint32_t   *pairs_index;  /* after them: positions + 1 of entries in use */
    uint32_t          pairs_cap;
    uint32_t          pairs_used;   /* index positions taken (bounded by pairs_cap) */
    const uint8_t    *tslots;
    uint32_t          nslots;   /* tslots_hwm, bounded by the caller */
    uint64_t          slot_size;
    uint32_t          entries;  /* per slot */
} lt_live_view;

/* Calls fn for every (trace, epoch) part of the live totals with a
 * non-zero value: the pair table's entries and the thread slots'. The
 * shared lt_counter parts (epoch 0, or lost pairs) are not included. */
static inline void lt_parts_each(const lt_live_view *v,
                                 void (*fn)(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count),
                                 void *ctx)
{
    uint32_t used = v->pairs_used < v->pairs_cap ? v->pairs_used : v->pairs_cap;
    for (uint32_t u = 0; v->pairs && u < used; u++) {
        uint32_t i = __atomic_load_n(&v->pairs_index[u], __ATOMIC_ACQUIRE);
        if (i == 0 || --i >= v->pairs_cap)
            continue;   /* taken, not yet published: nothing added to it yet */
        uint64_t key = __atomic_load_n(&v->pairs[i].key, __ATOMIC_ACQUIRE);
        if (key == 0)
            continue;
        int64_t size = __atomic_load_n(&v->pairs[i].size, __ATOMIC_RELAXED);
        int64_t count = __atomic_load_n(&v->pairs[i].count, __ATOMIC_RELAXED);
        if (size | count)
            fn(ctx, (uint32_t)key - 1, (uint32_t)(key >> 32), size, count);
    }
    for (uint32_t s = 0; s < v->nslots; s++) {
        const lt_tslot *t = (const lt_tslot *)(v->tslots + (uint64_t)s * v->slot_size);
        for (uint32_t k = 0; k < v->entries; k++) {
            uint32_t id, epoch;
            int64_t size, count;
            if (lt_tslot_entry_read(&t->entries[k], &id, &epoch, &size, &count) && (size | count))
                fn(ctx, id - 1, epoch, size, count);
        }
    }
}

typedef struct lt_totals_ctx {
    lt_counter *out;
    uint32_t    n;
} lt_totals_ctx;

static inline void lt_totals_add(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count)
{
    (void)epoch;
    lt_totals_ctx *c = (lt_totals_ctx *)ctx;
    if (id < c->n) {
        c->out[id].size += size;
        c->out[id].count += count;
    }
}

/* A trace's live totals, as both sides must read them: the shared
 * counter plus that trace's parts of every epoch in the pair table and
 * every thread slot. Reads `n` traces into out[]. */
static inline void lt_shared_read(const lt_live_view *v, lt_counter *out, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        out[i].size = __atomic_load_n(&v->shared[i].size, __ATOMIC_RELAXED);
        out[i].count = __atomic_load_n(&v->shared[i].count, __ATOMIC_RELAXED);
    }
}

static inline void lt_totals_read(const lt_live_view *v, lt_counter *out, uint32_t n)
{
    lt_shared_read(v, out, n);
    lt_totals_ctx c = {out, n};
    lt_parts_each(v, lt_totals_add, &c);
}

/* A trace record in the append-only store. `frames` are return addresses,
 * most recent first, the tracer's own frames already removed. `module_gen`
 * is the module-table generation when the trace was first seen: an address
 * belongs to the module whose [gen_loaded, gen_unloaded) contains it, which
 * keeps addresses unambiguous when dlclose/dlopen reuse an address range. */
typedef struct lt_trace_rec {
    uint32_t nframes;
    uint32_t module_gen;
    uint64_t hash;
    uint64_t frames[];  /* nframes entries */
} lt_trace_rec;

/* One loaded object (executable, shared library, dlopen'ed plugin).
 * Entries are appended; `gen_unloaded` is set once when it goes away. */
typedef struct lt_module {
    uint64_t bias;          /* load bias: runtime address = ELF vaddr + bias */
    uint64_t lo, hi;        /* runtime range of its PT_LOAD segments */
    uint32_t gen_loaded;    /* module-table generation it appeared in */
    uint32_t gen_unloaded;  /* UINT32_MAX while loaded */
    uint32_t build_id_len;
    uint8_t  build_id[LT_BUILD_ID_MAX];
    uint32_t flags;         /* LT_MOD_* */
    char     path[LT_PATH_MAX];
} lt_module;

#define LT_MOD_TRACER 1u    /* the tracer itself: its frames are never shown */
#define LT_MOD_MAIN   2u    /* the main executable */

/* Snapshot ring slot. Seqlock: the writer makes `seq` odd, writes, makes it
 * even again (release). A reader copies, then re-reads `seq`: a change means
 * a torn read, retried or skipped. The writer never waits for readers. */
typedef struct lt_slot {
    uint64_t seq;           /* odd while being written */
    uint64_t snap_no;       /* 1, 2, 3, ... (ring_head value when written) */
    int64_t  time_ns;       /* CLOCK_MONOTONIC */
    uint32_t reason;        /* LT_SNAP_* */
    uint32_t ntraces;       /* counters[] entries valid in this slot */
    char     label[LT_LABEL_MAX];
    uint32_t epoch;         /* the baseline this mark is: blocks born after it
                               have epochs >= this; LT_EPOCH_NONE past LT_EPOCH_MAX */
    uint32_t nbirths;       /* lt_tslot_entry parts at births_off, or
                               LT_BIRTHS_UNKNOWN when they did not fit */
    uint8_t  pad[24];       /* header is 128 bytes */
    lt_counter counters[];  /* ntraces entries, indexed by trace id */
    /* then, at ring_births_off from the slot's start: lt_tslot_entry
     * births[ring_births_cap], the non-zero (trace, epoch >= 1) parts of
     * the live totals at the mark, as lt_parts_each gives them (a pair may
     * come in several parts: add them up). Epoch-0 parts are left out:
     * the totals less these parts are the blocks born before any baseline. */
} lt_slot;

#define LT_BIRTHS_UNKNOWN UINT32_MAX

#define LT_SNAP_MARK      1u  /* leaktop_mark() in the program */
#define LT_SNAP_REQUESTED 2u  /* a frontend's mark request (leaktop mark PID) */

/* Why new stacks are charged to LT_TRACE_UNKNOWN (full_flags, sticky). */
#define LT_FULL_TRACES    1u  /* traces_cap ids used (LEAKTOP_MAX_TRACES) */
#define LT_FULL_STORE     2u  /* the trace store is out of room */
#define LT_FULL_SPACE     4u  /* /dev/shm had no room left to commit pages */
#define LT_FULL_NOFD      8u  /* LEAKTOP_COMMIT=fallocate: the program closed the segment's
                                 descriptor, and this kernel has no MADV_POPULATE_WRITE */
#define LT_FULL_SECCOMP  16u  /* the program's seccomp filter refuses the calls that give the
                                 segment pages (fallocate, madvise) */

/* A mark request from a frontend (`leaktop mark PID LABEL`): entry
 * (n % LT_MARK_QUEUE) holds request n, published when seq == n + 1. */
typedef struct lt_mark_req {
    uint64_t seq;           /* request number + 1 once the label is written */
    uint64_t snap_no;       /* tracer: the snapshot it became; 0 = not stored */
    char     label[LT_LABEL_MAX];
} lt_mark_req;

#define LT_STATE_RUNNING  1u
#define LT_STATE_EXITING  2u  /* exit() reached the tracer's destructor */
#define LT_STATE_DISABLED 3u  /* the tracer gave up (e.g. out of memory) */
#define LT_STATE_DETACHED 4u  /* a frontend's detach_req was taken: the tracer is dormant,
                                 this segment is final and its name removed */

/* Loading the tracer into a running program (leaktop attach PID): the
 * injector dlopen's libleaktop.so (its constructor then changes nothing)
 * and calls this symbol, `int leaktop_attach(const char *config)`, with
 * newline-separated LEAKTOP_NAME=value lines (the environment variables'
 * names and ranges; the host's environment is not read). It redirects the
 * allocation calls of every loaded module, creates and publishes a segment
 * (header.attached = 1) and returns 0, or a positive errno value: EEXIST
 * when the tracer was preloaded (the process is traced already, from its
 * start), EALREADY when an attach is tracing and no detach was asked. After
 * a detach it may be called again: a new segment, counts from zero. */
#define LT_ATTACH_SYMBOL  "leaktop_attach"

/* What held traces_cap below traces_asked (header.traces_bound). 0 is
 * also what a tracer from before the field wrote there (padding). */
#define LT_BOUND_SHM     0u  /* /dev/shm's free room (or nothing: traces_cap == traces_asked) */
#define LT_BOUND_AS      1u  /* the program's address-space limit (ulimit -v): a share of it */
#define LT_BOUND_FSIZE   2u  /* the program's file size limit (ulimit -f) */

/* The header at offset 0. Static fields are written once before `magic`
 * is stored (release); dynamic fields are atomics. */
typedef struct lt_shm_header {
    /* identity and static layout */
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;       /* sizeof(lt_shm_header) */
    uint64_t segment_size;
    int32_t  writer_pid;
    uint32_t frames_limit;      /* frames the user asked for (--frames) */
    uint32_t frames_captured;   /* frames actually kept per trace (limit + slack
                                   for allocator wrappers the frontend skips) */
    uint32_t traces_cap;        /* max trace ids, id 0 included */
    uint32_t traces_asked;      /* LEAKTOP_MAX_TRACES (traces_cap is less when
                                   /dev/shm had no room for that many, or the
                                   program's limits: traces_bound) */
    uint32_t traces_bound;      /* LT_BOUND_*: what lowered traces_cap */
    int64_t  start_realtime_ns; /* CLOCK_REALTIME at tracer start */
    int64_t  start_mono_ns;     /* CLOCK_MONOTONIC at tracer start */
    uint64_t sample_bytes;      /* 0: exact counts; else the mean sampling interval
                                   (LEAKTOP_SAMPLE) and every counter is an estimate */

    uint64_t modules_off;       /* lt_module[modules_cap] */
    uint32_t modules_cap;
    uint32_t ring_slots;
    uint64_t index_off;         /* uint64_t[traces_cap]: store offset + 1, 0 = not yet published */
    uint64_t counters_off;      /* lt_counter[traces_cap] */
    uint64_t store_off;         /* lt_trace_rec area */
    uint64_t store_size;
    uint64_t ring_off;          /* lt_slot[ring_slots], each ring_slot_size bytes */
    uint64_t ring_slot_size;
    uint64_t tslots_off;        /* lt_tslot[tslots], each tslot_size bytes */
    uint32_t tslots;
    uint32_t tslot_entries;     /* power of two */
    uint64_t tslot_size;
    uint64_t pairs_off;         /* lt_pair[pairs_cap], then uint32_t index[pairs_cap]: shared
                                   (trace, epoch >= 1) counters */
    uint32_t pairs_cap;         /* power of two */
    uint32_t ring_births_cap;   /* birth parts a ring slot holds */
    uint64_t ring_births_off;   /* from each slot's start */

    /* dynamic, written by the tracer (own cache line: see below) */
    _Alignas(64) uint32_t state;             /* LT_STATE_* */
    uint32_t ntraces;           /* ids < ntraces are allocated (check index[] for publication) */
    uint64_t store_used;
    uint64_t heartbeat_ns;      /* CLOCK_MONOTONIC of the last mark */
    uint64_t dropped_traces;    /* allocations charged to LT_TRACE_UNKNOWN
                                   because a new stack could not be stored */
    uint32_t nmodules;
    uint32_t module_gen;        /* bumped at every dlopen/dlclose that changed the set */
    uint32_t tslots_hwm;        /* thread slots ever owned are below this index */
    uint32_t pad_dyn;
    uint64_t modules_seq;       /* seqlock over the module table */
    uint64_t ring_head;         /* snapshots written so far; newest is slot (head-1) % ring_slots */

    /* dynamic, written rarely by the tracer: growth and exec */
    _Alignas(64) uint32_t traces_committed;  /* ids below this have committed index
                                                and counter pages: readers read no
                                                further (also bound by ntraces) */
    uint32_t full_flags;        /* LT_FULL_*: why traces are dropped */
    uint64_t marks_dropped;     /* marks not stored: no room to commit a slot */
    uint32_t exec_pending;      /* 1 from just before execve until it fails:
                                   still 1 after a successful exec, whose image
                                   writes (if traced at all) its own segment */
    uint32_t execs_failed;
    uint64_t pairs_lost;        /* (trace, epoch) deltas the pair table had no room for:
                                   counted in the totals, but retained is not known */
    uint32_t pairs_ready;       /* the pair table is committed (release) */
    uint32_t pairs_used;        /* positions taken in the pair table's index */
    char     exec_path[LT_EXEC_PATH_MAX];    /* the program being exec'd */

    /* control words. A frontend claims request n (CAS on mark_claim), fills
     * mark_queue[n % LT_MARK_QUEUE], then bumps mark_req; the tracer, which
     * compares mark_req with mark_done on every hook call (one line, only
     * written when marks are asked for), takes the published ones in order.
     * On their own cache line so a frontend's writes never slow the
     * tracer's counters down. */
    _Alignas(64) uint64_t mark_req;          /* requests published */
    uint64_t mark_done;         /* tracer: requests serviced */
    uint64_t mark_claim;        /* requests claimed by frontends */
    uint32_t epoch;             /* birth epoch of blocks allocated now (lt_epoch_bump):
                                   on this line because every hook reads it already */
    uint32_t pad_ctl;
    _Alignas(64) lt_mark_req mark_queue[LT_MARK_QUEUE];

    /* Attach and detach (LT_ATTACH_SYMBOL). Detach protocol: a frontend
     * stores detach_req = 1 (release), then makes mark_req differ from
     * mark_done by publishing a mark request as above (its label, e.g.
     * "detach", becomes the final snapshot). The tracer looks at detach_req
     * when it services requests, at its next hook call (the one-load
     * mark_req check of the hot path, nothing more): it takes the published
     * requests, stores state = LT_STATE_DETACHED, removes the segment's name
     * and goes dormant (calls pass straight to the allocator). A program
     * that makes no allocation call does that at its next one: a frontend
     * that will not wait may shm_unlink the name itself. */
    uint32_t attached;          /* 1: tracing began at leaktop_attach, not at the
                                   program's start: every figure is "since attach" */
    uint32_t detach_req;        /* frontend: 1 = detach (see above) */
    int64_t  attach_mono_ns;    /* CLOCK_MONOTONIC of the attach; 0 when preloaded */
    uint64_t reserved[14];
} lt_shm_header;

/* Starts a new birth epoch (a baseline now): the tracer at each stored
 * mark, a frontend when it takes a baseline of its own. Returns the new
 * epoch, or LT_EPOCH_NONE when LT_EPOCH_MAX was reached (such a baseline
 * has no exact retained figures). */
static inline uint32_t lt_epoch_bump(uint32_t *epoch)
{
    uint32_t cur = __atomic_load_n(epoch, __ATOMIC_RELAXED);
    do {
        if (cur >= LT_EPOCH_MAX)
            return LT_EPOCH_NONE;
    } while (!__atomic_compare_exchange_n(epoch, &cur, cur + 1, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    return cur + 1;
}

#endif
