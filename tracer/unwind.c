/* unwind.c: stack capture for the allocation path, exact and fast.
 *
 * Frames are followed with the CFI rules of cfi.c (computed once per
 * return address and cached). On top of them a per-thread cache of recent
 * stacks: replaying a cached stack's per-frame rules IS the unwind — every
 * return-address and saved-RBP slot is re-read from the live stack and
 * compared — so a hit is exact by construction and skips rule lookups and
 * trace hashing. Whatever the
 * fast path does not handle (CFA expressions, signal frames, unusual
 * encodings, a stack outside the thread's bounds) is captured with
 * libunwind's unw_backtrace instead. LEAKTOP_UNWIND=libunwind forces that;
 * LEAKTOP_UNWIND=verify runs both and counts disagreements. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lt_cfi.h"
#include "lt_internal.h"

/* ---- one step, and the per-thread state ---------------------------------- */

static __thread uintptr_t lt_stack_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t lt_stack_hi __attribute__((tls_model("initial-exec")));
static __thread int       lt_stack_known __attribute__((tls_model("initial-exec")));  /* 0 unknown, 1 yes, -1 never */

static inline bool lt_on_stack(uintptr_t addr)
{
    return addr >= lt_stack_lo && addr <= lt_stack_hi - 8 && (addr & 7) == 0;
}

/* The stack words a walk read (their offsets from its starting stack
 * pointer, and their values): the walk is a function of its start and of
 * these words alone, so finding them unchanged replays it (lt_cache_check). */
#define LT_READS_MAX 96  /* two a frame: the return address, the saved RBP */

typedef struct lt_reads {
    uint32_t  n;          /* UINT32_MAX: an offset did not fit, never checked */
    int32_t   off[LT_READS_MAX];
    uintptr_t val[LT_READS_MAX];
} lt_reads;

static inline void lt_read_note(lt_reads *r, uintptr_t sp0, uintptr_t at, uintptr_t val)
{
    intptr_t off = (intptr_t)(at - sp0);
    if (r->n >= LT_READS_MAX || off < INT32_MIN || off > INT32_MAX) {
        r->n = UINT32_MAX;
        return;
    }
    r->off[r->n] = (int32_t)off;
    r->val[r->n++] = val;
}

/* Moves `st` to the caller of its frame with `rule`. False when the frame
 * is the outermost one or a read would leave the thread's stack. With
 * `reads`, notes the words it read (relative to sp0). */
static inline bool lt_step_noting(lt_frame_state *st, lt_rule rule, lt_reads *reads, uintptr_t sp0)
{
    uintptr_t base = lt_rule_cfa_reg(rule) == LT_REG_RSP ? st->sp : st->rbp;
    uintptr_t cfa = base + (intptr_t)lt_rule_cfa_off(rule);
    if (cfa <= st->sp || !lt_on_stack(cfa - 8))
        return false;
    uintptr_t rbp = st->rbp;
    if (lt_rule_rbp_saved(rule)) {
        uintptr_t at = cfa + (intptr_t)lt_rule_rbp_off(rule);
        if (!lt_on_stack(at))
            return false;
        rbp = *(const uintptr_t *)at;
        if (reads)
            lt_read_note(reads, sp0, at, rbp);
    }
    st->ip = *(const uintptr_t *)(cfa - 8);
    if (reads)
        lt_read_note(reads, sp0, cfa - 8, st->ip);
    st->sp = cfa;
    st->rbp = rbp;
    return true;
}

static inline bool lt_step(lt_frame_state *st, lt_rule rule)
{
    return lt_step_noting(st, rule, NULL, 0);
}

/* ---- the thread's stack bounds ------------------------------------------------ */

static uintptr_t lt_hex(const char *p, const char **end)
{
    uintptr_t v = 0;
    for (;; p++) {
        unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
                   : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 16u;
        if (d == 16)
            break;
        v = v << 4 | d;
    }
    *end = p;
    return v;
}

/* The mapping of /proc/self/maps that holds `addr`, read with raw system
 * calls into a buffer on our stack: no stdio, no allocation, no lock of
 * glibc's. (pthread_getattr_np takes the thread's own lock and allocates
 * under it: a thread whose first traced allocation happens inside it —
 * every Rust program, Boehm GC, JVMs — would deadlock on that lock.)
 * `below` gets the end of the mapping before it (where [stack] can grow). */
static bool lt_maps_find(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, uintptr_t *below, bool *grows)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
    size_t have = 0;
    uintptr_t prev_end = 0;
    bool found = false, eof = false;
    while (!found) {
        char *nl = have ? memchr(buf, '\n', have) : NULL;
        if (!nl) {
            if (eof || have == sizeof(buf))
                break;  /* the end, or a line longer than the buffer */
            ssize_t n = syscall(SYS_read, fd, buf + have, sizeof(buf) - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                eof = true;
            else
                have += (size_t)n;
            continue;
        }
        /* "start-end perms offset dev inode   name" */
        const char *p = buf, *end;
        uintptr_t start = lt_hex(p, &end);
        uintptr_t stop = *end == '-' ? lt_hex(end + 1, &end) : 0;
        if (addr >= start && addr < stop) {
            *lo = start;
            *hi = stop;
            *below = prev_end;
            *grows = memmem(p, (size_t)(nl - p), "[stack]", 7) != NULL;
            found = true;
        }
        prev_end = stop;
        size_t used = (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, have - used);
        have -= used;
    }
    syscall(SYS_close, fd);
    return found;
}

/* The initial thread's stack is the [stack] mapping (it grows down into
 * the gap below); any other thread's is the mapping that holds its thread
 * descriptor, which glibc puts at the top of the thread's stack (its own
 * or one the program supplied). Either way the bounds do not depend on the
 * stack the thread happens to run on now (a coroutine's, a signal's). */
static bool lt_stack_find(uintptr_t *lo, uintptr_t *hi)
{
    extern void *__libc_stack_end;
    bool initial = syscall(SYS_gettid) == syscall(SYS_getpid);
    uintptr_t probe = initial ? (uintptr_t)__libc_stack_end : (uintptr_t)pthread_self();
    uintptr_t below;
    bool grows;
    if (!lt_maps_find(probe, lo, hi, &below, &grows))
        return false;
    if (grows)
        *lo = below;
    return true;
}

/* Stack bounds once per thread. Every read of the unwinder stays inside
 * them: a damaged frame chain can not make it fault. */
static bool lt_stack_bounds(void)
{
    if (LT_LIKELY(lt_stack_known))
        return lt_stack_known > 0;
    int saved = errno;
    uintptr_t lo, hi;
    lt_stack_known = -1;
    if (lt_stack_find(&lo, &hi)) {
        lt_stack_lo = lo;
        lt_stack_hi = hi;
        lt_stack_known = 1;
    }
    errno = saved;
    return lt_stack_known > 0;
}

/* ---- the per-thread stack cache -------------------------------------------- */

#define LT_CACHE_SETS   32  /* an interpreter calls malloc from many (ip, sp) heads, */
#define LT_CACHE_ASSOC  4   /* and an allocation wrapper from one head over many stacks */
#define LT_CACHE_WAYS   (LT_CACHE_SETS * LT_CACHE_ASSOC)
#define LT_CACHE_FRAMES 48
#define LT_SELF_FRAMES  12  /* at most this many of the tracer's frames on a stack (10 at -O0 in
                             * verify mode: unw_backtrace, lt_capture_libunwind, lt_verify,
                             * lt_capture_cached, lt_capture_fast, lt_capture_stack, lt_track,
                             * lt_after_alloc, lt_alloc_traced, the hook) */
#define LT_NEAR_RULES   512 /* the thread's own rule cache, direct-mapped */
#define LT_NEAR_TRACES  2048 /* and its recent trace ids by stack hash */
#define LT_STATE_BITS   12  /* the frame-state index: 4096 entries */
#define LT_SPLICE_TRIES 4   /* failed suffix checks one walk may spend */

/* A stack walked before: for each frame k its return address, stack
 * pointer and RBP (those two only for the frames the walk took itself,
 * not spliced), and where the words read by the step from frame k to k+1
 * begin in `reads` (reads_at[n]: their end). Valid while `epoch`
 * matches (dlclose may change what an address means). Bit k of
 * rbp_needed: the walk from frame k on used RBP_k (an RBP-based CFA came
 * before any frame restored RBP); where it is clear any RBP_k gives the
 * same frames, which matters where RBP is a general register (-O2 code). */
typedef struct lt_cached {
    uintptr_t ip0, sp0, rbp0;
    uint32_t  n, id, epoch;
    uint32_t  walked;     /* frames [0, walked) the walk took itself; the rest it spliced */
    bool      whole;      /* the walk reached the outermost frame (else it stopped at max) */
    uint64_t  rbp_needed;
    lt_reads  reads;      /* what the walk read: unchanged means the same stack */
    uintptr_t ips[LT_CACHE_FRAMES];
    uintptr_t sps[LT_CACHE_FRAMES];
    uintptr_t rbps[LT_CACHE_FRAMES];
    uint8_t   reads_at[LT_CACHE_FRAMES + 1];
} lt_cached;

/* A thread's caches, mapped on its first traced call (only the entries it
 * uses become memory; ~370 KB in all): recent stacks, and the rules of the
 * return addresses its walks met, packed densely so they stay in this
 * core's cache where cfi.c's shared table (one slot a line, by hash) does
 * not. A miss walks into the spare way, which then takes the place of its
 * set's least recently used: that one stays intact during the walk, to
 * splice from. */
typedef struct lt_thread_cache {
    /* The set of a start (ip, sp) holds its ways most recently used first,
     * with a hash of each one's start: a miss touches no way. */
    uint8_t   way_of[LT_CACHE_SETS][LT_CACHE_ASSOC];
    uint32_t  head_tag[LT_CACHE_SETS][LT_CACHE_ASSOC];
    uint8_t   spare;
    /* Frame states the cached walks passed through: (ip, sp) of frame k
     * of way w -> tag << 14 | (w + 1) << 6 | k, where the tag is more bits
     * of the state's hash (so that another state's entry is told without
     * touching its way). Entries are checked against the way on use: stale
     * ones are harmless. Filled with the frames a walk took itself (those
     * it spliced keep pointing at the way they came from). */
    uint32_t  states[1u << LT_STATE_BITS];
    lt_cached ways[LT_CACHE_WAYS + 1];
    uint32_t  rules_epoch;
    struct {
        uintptr_t ip;
        lt_rule   rule;
    } rules[LT_NEAR_RULES];
    /* Trace ids never change meaning (the store is append-only), so these
     * need no epoch; a hit is still checked against the trace's record. */
    struct {
        uint64_t hash;
        uint32_t id_plus1;
    } traces[LT_NEAR_TRACES];
} lt_thread_cache;

_Static_assert(LT_CACHE_FRAMES <= 64 && LT_CACHE_WAYS + 1 < 256, "state index entries: 6 bits of frame, 8 of way");
_Static_assert(LT_CACHE_SETS == 32, "the set is the head hash's top 5 bits");
_Static_assert(LT_READS_MAX <= UINT8_MAX, "reads_at is a byte");

static __thread lt_thread_cache *lt_cache __attribute__((tls_model("initial-exec")));
static __thread int lt_cache_gone __attribute__((tls_model("initial-exec")));
static pthread_key_t lt_cache_key;
static bool lt_cache_key_ok;
static uint32_t lt_epoch = 1;

/* Runs in the exiting thread itself: clear the pointer before unmapping,
 * and never make a new cache for it (later destructors may allocate). */
static void lt_cache_release(void *p)
{
    lt_cache = NULL;
    lt_cache_gone = 1;
    lt_unmap(p, sizeof(lt_thread_cache));
}

static void lt_cache_ensure(void)
{
    if (LT_LIKELY(lt_cache != NULL) || lt_cache_gone || !lt_cache_key_ok)
        return;
    lt_thread_cache *c = lt_map(sizeof(lt_thread_cache));
    if (!c)
        return;
    for (uint32_t i = 0; i < LT_CACHE_WAYS; i++)
        c->way_of[i / LT_CACHE_ASSOC][i % LT_CACHE_ASSOC] = (uint8_t)i;
    c->spare = LT_CACHE_WAYS;
    lt_cache = c;
    pthread_setspecific(lt_cache_key, c);
}

/* The hash of a start (ip, sp): its top 5 bits pick the set, bits 20-51
 * are its head tag. */
static inline uint64_t lt_head_hash(const lt_frame_state *st)
{
    return (st->ip ^ (st->sp >> 4)) * 0x9e3779b97f4a7c15ULL;
}

/* The hash of a frame state for the state index: the top bits pick the
 * entry, the next 18 its tag. */
static inline uint64_t lt_state_hash(uintptr_t ip, uintptr_t sp)
{
    return (ip ^ (sp >> 4) * 0xff51afd7ed558ccdULL) * 0x9e3779b97f4a7c15ULL;
}

#define LT_STATE_TAG(h) ((uint32_t)((h) >> (64 - LT_STATE_BITS - 18)) & 0x3ffff)

/* The rule of a frame, from this thread's cache when it has it (the same
 * answer as lt_rule_for: rules only change with the epoch). */
static inline lt_rule lt_rule_near(uintptr_t ip, uint32_t epoch)
{
    lt_thread_cache *c = lt_cache;
    if (LT_UNLIKELY(!c))
        return lt_rule_for(ip);
    if (LT_UNLIKELY(c->rules_epoch != epoch)) {
        memset(c->rules, 0, sizeof(c->rules));
        c->rules_epoch = epoch;
    }
    uint32_t i = (uint32_t)((ip * 0x9e3779b97f4a7c15ULL) >> 55) & (LT_NEAR_RULES - 1);
    if (LT_LIKELY(c->rules[i].ip == ip))
        return c->rules[i].rule;
    lt_rule r = lt_rule_for(ip);
    c->rules[i].ip = ip;
    c->rules[i].rule = r;
    return r;
}

/* The trace id of a stack the walk just took (the stack cache missed): a
 * stack this thread met recently is found by its hash here, which spares
 * the probe of traces.c's dedupe table, a cache miss per call in a large
 * program (cc1plus: 70% of lt_trace_id's time). */
static uint32_t lt_trace_near(const uintptr_t *frames, uint32_t n)
{
    lt_thread_cache *c = lt_cache;
    if (!c || n == 0)
        return lt_trace_id(frames, n);
    uint64_t h = lt_trace_hash(frames, n);
    uint32_t i = (uint32_t)h & (LT_NEAR_TRACES - 1);
    uint32_t id = c->traces[i].id_plus1 - 1;
    if (c->traces[i].hash == h && c->traces[i].id_plus1 && lt_trace_is(id, h, frames, n))
        return id;
    id = lt_trace_id_hashed(h, frames, n);
    if (id != LT_TRACE_UNKNOWN) {
        c->traces[i].hash = h;
        c->traces[i].id_plus1 = id + 1;
    }
    return id;
}

/* ---- capture ---------------------------------------------------------------- */

enum { LT_MODE_FAST = 0, LT_MODE_LIBUNWIND, LT_MODE_VERIFY };
static int lt_mode;
/* Verify mode only (shared lines): stacks compared, disagreements, stacks
 * left to libunwind, and how the fast path got the others. */
static uint64_t lt_verify_stacks, lt_verify_mismatches, lt_fallbacks;
static uint64_t lt_count_cached, lt_count_spliced, lt_count_walked, lt_count_refused;

/* Drops the tracer's own frames at the top of a stack. (The signal
 * wrapper's frame never shows in a handler's stack: it tail-calls.) */
static uint32_t lt_strip_self(uintptr_t *frames, uint32_t n, uint32_t max)
{
    uint32_t skip = 0;
    while (skip < n && frames[skip] >= lt_g.self_lo && frames[skip] < lt_g.self_hi)
        skip++;
    n -= skip;
    if (n > max)
        n = max;
    if (skip)
        memmove(frames, frames + skip, n * sizeof(uintptr_t));
    return n;
}

static uint32_t lt_capture_libunwind(uintptr_t *out, uint32_t max)
{
    void *raw[LT_FRAMES_MAX + LT_SELF_FRAMES];
    int n = unw_backtrace(raw, (int)max + LT_SELF_FRAMES);
    memcpy(out, raw, (size_t)(n > 0 ? n : 0) * sizeof(uintptr_t));
    return lt_strip_self(out, n > 0 ? (uint32_t)n : 0, max);
}

static void lt_verify(const uintptr_t *fast, uint32_t n)
{
    uintptr_t slow[LT_FRAMES_MAX];
    uint32_t m = lt_capture_libunwind(slow, lt_g.frames_captured);
    __atomic_fetch_add(&lt_verify_stacks, 1, __ATOMIC_RELAXED);
    if (m != n || memcmp(slow, fast, n * sizeof(uintptr_t)) != 0)
        __atomic_fetch_add(&lt_verify_mismatches, 1, __ATOMIC_RELAXED);
}

/* Unwinds from `st` into out[0..max) without the stack cache (deeper than
 * its ways hold, or no memory for them). Returns the frame count, or
 * UINT32_MAX when the fast path cannot follow this stack. */
static uint32_t lt_walk(lt_frame_state st, uintptr_t *out, uint32_t max, uint32_t epoch)
{
    uint32_t n = 0;
    while (n < max && st.ip != 0) {
        lt_rule rule = lt_rule_near(st.ip, epoch);
        out[n++] = st.ip;
        if (lt_rule_kind(rule) == LT_RULE_OUTERMOST || n == max)
            break;
        if (lt_rule_kind(rule) != LT_RULE_OK || !lt_step(&st, rule))
            return UINT32_MAX;
    }
    return n;
}

/* A hit without walking: the same start and every stack word the cached
 * walk read still holding what it read then. The walk is a function of
 * those alone (its rules are fixed within the epoch, the thread's stack
 * bounds for good), so it would find the same frames, in one load and
 * compare per word. RBP is part of the start only if the walk used it. */
static inline bool lt_cache_check(const lt_cached *c, const lt_frame_state *start)
{
    if (c->reads.n == UINT32_MAX || ((c->rbp_needed & 1) && c->rbp0 != start->rbp))
        return false;
    uintptr_t sp0 = start->sp;
    for (uint32_t i = 0; i < c->reads.n; i++)
        if (*(const uintptr_t *)(sp0 + (intptr_t)c->reads.off[i]) != c->reads.val[i])
            return false;
    return true;
}

/* ---- splicing: the deep part of a stack walked before --------------------- */

/* The same argument as lt_cache_check, from any frame: the walk from frame
 * k on is a function of frame k's state and of the words read from there
 * on. So a walk that reaches a frame state a cached walk passed through
 * (a recursive-descent parser calls malloc from a new head at every depth,
 * over the same callers) may take the cached frames from k on once those
 * words are found unchanged: they are at the same addresses, since the
 * stack pointers agree. Any doubt: no splice, the walk goes on. */
typedef struct lt_splice_budget {
    const lt_cached *bad_way;  /* the last way a check failed on, */
    uint32_t         bad_read; /* and the read that differed: fails again from any frame before it */
    uint32_t         left;     /* failed checks this walk may still spend */
} lt_splice_budget;

/* Copies n words, lowest first (so also down within one array): a few
 * dozen at most, where a call to memcpy (-fno-builtin) costs more. */
static inline void lt_words_copy(uintptr_t *dst, const uintptr_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* Does every word `src` read in reads[r0, r1) still hold its value? */
static inline bool lt_reads_hold(const lt_cached *src, uint32_t r0, uint32_t r1, lt_splice_budget *b)
{
    if (src == b->bad_way && b->bad_read >= r0 && b->bad_read < r1)
        return false;  /* known to differ: spend nothing */
    if (b->left == 0)
        return false;
    for (uint32_t i = r0; i < r1; i++)
        if (*(const uintptr_t *)(src->sp0 + (intptr_t)src->reads.off[i]) != src->reads.val[i]) {
            b->bad_way = src;
            b->bad_read = i;
            b->left--;
            if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))
                __atomic_fetch_add(&lt_count_refused, 1, __ATOMIC_RELAXED);
            return false;
        }
    return true;
}

/* Appends src's reads [r0, r1) to w's, as offsets from w's start sp0. */
static void lt_reads_take(lt_cached *w, const lt_cached *src, uint32_t r0, uint32_t r1, uintptr_t sp0)
{
    lt_reads *r = &w->reads;
    if (r->n == UINT32_MAX)
        return;
    if (r->n + (r1 - r0) > LT_READS_MAX) {
        r->n = UINT32_MAX;
        return;
    }
    int64_t delta = (int64_t)(src->sp0 - sp0);
    uint64_t out_of_range = 0;
    int32_t *off = r->off + r->n;
    for (uint32_t i = r0; i < r1; i++) {
        int64_t o = src->reads.off[i] + delta;
        out_of_range |= (uint64_t)(o - INT32_MIN) >> 32;
        off[i - r0] = (int32_t)o;
    }
    lt_words_copy(r->val + r->n, src->reads.val + r0, r1 - r0);
    r->n = out_of_range ? UINT32_MAX : r->n + (r1 - r0);
}

/* Walking into `w`, at frame n (state `st`, not yet recorded): copies the
 * frames a cached walk found from this same state, when the words it read
 * from there on still hold: all the way to the outermost frame (w->whole)
 * or up to max. Returns how many frames it copied, 0 for none. *tail: the
 * frames' bits of rbp_needed (src's: the walk from them is src's, or the
 * start of it). Only their return addresses are copied: a splice starts
 * at a frame its source took itself (src->walked; an index entry may be
 * older than the way's content), so no splice reads the stack pointer or
 * RBP of a spliced frame. */
static uint32_t lt_splice(lt_thread_cache *tc, lt_cached *w, uint32_t n, const lt_frame_state *st,
                          uintptr_t sp0, uint32_t max, uint32_t epoch, lt_splice_budget *b, uint64_t *tail)
{
    uint64_t h = lt_state_hash(st->ip, st->sp);
    uint32_t e = tc->states[h >> (64 - LT_STATE_BITS)];
    if ((e >> 14) != LT_STATE_TAG(h) || !(e >> 6 & 255))
        return 0;
    const lt_cached *src = &tc->ways[(e >> 6 & 255) - 1];
    uint32_t k = e & 63;
    if (src == w || k >= src->walked || k >= src->n || src->epoch != epoch || src->ips[k] != st->ip ||
        src->sps[k] != st->sp ||
        src->reads.n == UINT32_MAX || ((src->rbp_needed >> k & 1) && src->rbps[k] != st->rbp))
        return 0;
    uint32_t m = src->n - k < max - n ? src->n - k : max - n;
    bool whole = k + m == src->n && src->whole;
    if (!whole && n + m < max)
        return 0;  /* src stopped at its max short of ours: walk on to a deeper match */
    /* The steps between the frames taken; and the last one's too when it
     * is how src's walk ended (it found address 0). */
    uint32_t r0 = src->reads_at[k], r1 = whole ? src->reads_at[src->n] : src->reads_at[k + m - 1];
    if (!lt_reads_hold(src, r0, r1, b))
        return 0;
    uint32_t base = w->reads.n;
    lt_reads_take(w, src, r0, r1, sp0);
    lt_words_copy(w->ips + n, src->ips + k, m);
    uint8_t shift = (uint8_t)(base - r0);
    for (uint32_t j = 0; j < m; j++)
        w->reads_at[n + j] = (uint8_t)(src->reads_at[k + j] + shift);
    w->whole = whole;
    *tail = (m < 64 ? (src->rbp_needed >> k) & ((1ull << m) - 1) : src->rbp_needed >> k) << n;
    return m;
}

/* Which frames' RBP the walk from them used (lt_cached.rbp_needed), for
 * frames [0, from) of `n`: the bits from `from` on are `tail`'s. */
static uint64_t lt_rbp_needed(const lt_cached *w, const lt_rule *rules, uint32_t n, uint32_t from, uint64_t tail)
{
    uint64_t need = tail;
    bool later = from < n && (tail >> from & 1);
    for (uint32_t j = from; j-- > 0;) {
        lt_rule r = rules[j];
        bool stepped = j + 1 < n || (w->whole && lt_rule_kind(r) == LT_RULE_OK);
        later = stepped && (lt_rule_cfa_reg(r) == LT_REG_RBP || (!lt_rule_rbp_saved(r) && later));
        need |= (uint64_t)later << j;
    }
    return need;
}

/* Drops, from the steps of frames [0, from), the reads of saved-RBP slots
 * whose value no later step used: where RBP is a general register (-O2
 * code) they hold the program's data, different at every call, and would
 * fail lt_cache_check and lt_splice for nothing. The steps from `from` on
 * (a splice's) are trimmed already. */
static void lt_reads_trim(lt_cached *w, const lt_rule *rules, uint32_t n, uint32_t from)
{
    lt_reads *r = &w->reads;
    if (r->n == UINT32_MAX)
        return;
    uint32_t out = 0;
    for (uint32_t j = 0; j < from; j++) {
        uint32_t a = w->reads_at[j], end = w->reads_at[j + 1];
        w->reads_at[j] = (uint8_t)out;
        /* lt_step_noting reads the RBP slot first */
        if (a < end && lt_rule_rbp_saved(rules[j]) && !(w->rbp_needed >> (j + 1) & 1))
            a++;
        for (; a < end; a++, out++) {
            r->off[out] = r->off[a];
            r->val[out] = r->val[a];
        }
    }
    uint32_t drop = w->reads_at[from] - out;
    if (!drop)
        return;
    for (uint32_t i = out; i + drop < r->n; i++)
        r->off[i] = r->off[i + drop];
    lt_words_copy(r->val + out, r->val + out + drop, r->n - out - drop);
    for (uint32_t j = from; j <= n; j++)
        w->reads_at[j] = (uint8_t)(w->reads_at[j] - drop);
    r->n -= drop;
}

/* Records frame n of way wi, and indexes its state (frame 0 is the
 * way's start: the slot finds it). */
static inline void lt_frame_put(lt_thread_cache *tc, uint32_t wi, uint32_t n, const lt_frame_state *st)
{
    lt_cached *w = &tc->ways[wi];
    w->ips[n] = st->ip;
    w->sps[n] = st->sp;
    w->rbps[n] = st->rbp;
    w->reads_at[n] = (uint8_t)w->reads.n;
    if (n) {
        uint64_t h = lt_state_hash(st->ip, st->sp);
        tc->states[h >> (64 - LT_STATE_BITS)] = LT_STATE_TAG(h) << 14 | (wi + 1) << 6 | n;
    }
}

/* Walks from `start` into `w`, frame by frame, noting what it reads, and
 * splices where a cached walk takes over. Returns the frame count, 0 when
 * the fast path cannot follow this stack; *spliced: whether it spliced. */
static uint32_t lt_walk_cached(lt_thread_cache *tc, uint32_t wi, const lt_frame_state *start, uint32_t max,
                               uint32_t epoch, bool *spliced)
{
    lt_cached *w = &tc->ways[wi];
    lt_frame_state st = *start;
    lt_splice_budget b = {NULL, 0, LT_SPLICE_TRIES};
    lt_rule rules[LT_CACHE_FRAMES];  /* of the frames walked */
    uint32_t n = 0, walked;
    uint64_t tail = 0;
    w->reads.n = 0;
    w->whole = false;
    for (;;) {
        if (st.ip == 0) {
            w->whole = true;
            break;
        }
        uint32_t got = n ? lt_splice(tc, w, n, &st, start->sp, max, epoch, &b, &tail) : 0;
        if (got) {
            *spliced = true;
            walked = n;
            n += got;
            goto done;
        }
        lt_rule rule = rules[n] = lt_rule_near(st.ip, epoch);
        lt_frame_put(tc, wi, n++, &st);
        if (lt_rule_kind(rule) == LT_RULE_OUTERMOST) {
            w->whole = true;
            break;
        }
        if (n == max)
            break;
        if (lt_rule_kind(rule) != LT_RULE_OK || !lt_step_noting(&st, rule, &w->reads, start->sp))
            return 0;
    }
    walked = n;
done:
    w->reads_at[n] = (uint8_t)w->reads.n;
    w->walked = walked;
    w->rbp_needed = lt_rbp_needed(w, rules, n, walked, tail);
    lt_reads_trim(w, rules, n, walked);
    return n;
}

/* Moves entry i of a set to its front (the rest down one) as (way, tag). */
static inline void lt_set_front(uint8_t *way_of, uint32_t *tags, uint32_t i, uint8_t way, uint32_t tag)
{
    for (; i > 0; i--) {
        way_of[i] = way_of[i - 1];
        tags[i] = tags[i - 1];
    }
    way_of[0] = way;
    tags[0] = tag;
}

/* Without the cache: a plain walk. */
static bool lt_capture_uncached(const lt_frame_state *start, uint32_t max, uint32_t *id)
{
    uintptr_t frames[LT_FRAMES_MAX + LT_SELF_FRAMES];
    uint32_t epoch = __atomic_load_n(&lt_epoch, __ATOMIC_ACQUIRE);
    uint32_t n = lt_walk(*start, frames, max + LT_SELF_FRAMES, epoch);
    if (n == UINT32_MAX)
        return false;
    n = lt_strip_self(frames, n, max);
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY)) {
        lt_verify(frames, n);
        __atomic_fetch_add(&lt_count_walked, 1, __ATOMIC_RELAXED);
    }
    *id = lt_trace_near(frames, n);
    return true;
}

/* The cached path: a hit, or a walk into the spare way, which then takes
 * the place of its set's least recently used (and its walked frames the
 * state index). False: the fast path cannot follow this stack. */
static bool lt_capture_cached(lt_thread_cache *tc, const lt_frame_state *start, uint32_t max, uint32_t *id)
{
    uint64_t h = lt_head_hash(start);
    uint32_t set = (uint32_t)(h >> 59), tag = (uint32_t)(h >> 20);
    uint32_t epoch = __atomic_load_n(&lt_epoch, __ATOMIC_ACQUIRE);
    uint8_t *way_of = tc->way_of[set];
    uint32_t *tags = tc->head_tag[set];
    for (uint32_t i = 0; i < LT_CACHE_ASSOC; i++) {
        const lt_cached *c = &tc->ways[way_of[i]];
        if (tags[i] != tag || !c->n || c->epoch != epoch || c->ip0 != start->ip || c->sp0 != start->sp ||
            !lt_cache_check(c, start))
            continue;
        if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY)) {
            lt_verify(c->ips, c->n);
            __atomic_fetch_add(&lt_count_cached, 1, __ATOMIC_RELAXED);
        }
        *id = c->id;
        if (i)
            lt_set_front(way_of, tags, i, way_of[i], tag);
        return true;
    }
    /* The hook hands over its caller's frame: never the tracer's own code,
     * so the walk keeps every frame it takes. (Should it be, the plain walk
     * strips them; no way ever starts there, so no hit did above.) */
    if (LT_UNLIKELY(start->ip >= lt_g.self_lo && start->ip < lt_g.self_hi))
        return lt_capture_uncached(start, max, id);
    uint32_t wi = tc->spare;
    lt_cached *w = &tc->ways[wi];
    w->n = 0;  /* complete once the trace id is known */
    bool spliced = false;
    uint32_t n = lt_walk_cached(tc, wi, start, max, epoch, &spliced);
    if (n == 0)
        return false;
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY)) {
        lt_verify(w->ips, n);
        __atomic_fetch_add(spliced ? &lt_count_spliced : &lt_count_walked, 1, __ATOMIC_RELAXED);
    }
    *id = w->id = lt_trace_near(w->ips, n);
    w->ip0 = start->ip;
    w->sp0 = start->sp;
    w->rbp0 = start->rbp;
    w->epoch = epoch;
    w->n = n;
    tc->spare = way_of[LT_CACHE_ASSOC - 1];  /* the set's least recently used */
    lt_set_front(way_of, tags, LT_CACHE_ASSOC - 1, (uint8_t)wi, tag);
    return true;
}


static bool lt_capture_fast(const lt_frame_state *start, uint32_t *id)
{
    if (!lt_stack_bounds() || !lt_on_stack(start->sp) || !start->ip)
        return false;
    lt_cache_ensure();
    uint32_t max = lt_g.frames_captured;
    if (LT_LIKELY(lt_cache != NULL) && max <= LT_CACHE_FRAMES)
        return lt_capture_cached(lt_cache, start, max, id);
    return lt_capture_uncached(start, max, id);
}

static __attribute__((noinline)) uint32_t lt_capture_slow(void)
{
    uintptr_t frames[LT_FRAMES_MAX + LT_SELF_FRAMES];
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))  /* a shared line: only when reported */
        __atomic_fetch_add(&lt_fallbacks, 1, __ATOMIC_RELAXED);
    return lt_trace_id(frames, lt_capture_libunwind(frames, lt_g.frames_captured));
}

/* `start` NULL: libunwind only (before our constructor ran). */
uint32_t lt_capture_stack(const lt_frame_state *start)
{
    uint32_t id;
    if (lt_mode != LT_MODE_LIBUNWIND && start && lt_capture_fast(start, &id))
        return id;
    return lt_capture_slow();
}

/* dlclose may unmap code whose addresses a later dlopen reuses: forget
 * every rule and every cached stack. */
void lt_unwind_flush(void)
{
    lt_rules_flush();
    __atomic_fetch_add(&lt_epoch, 1, __ATOMIC_ACQ_REL);
}

/* ---- set-up ------------------------------------------------------------------- */

bool lt_unwind_init(void)
{
    static bool once, rules_ok;
    if (once) {
        /* Another tracing period (attach after detach): the cached stacks
         * hold the old segment's trace ids. */
        lt_unwind_flush();
    } else {
        once = true;
        rules_ok = lt_rules_init();
        lt_cache_key_ok = pthread_key_create(&lt_cache_key, lt_cache_release) == 0;
    }
    long long mode = lt_option(LT_OPT_UNWIND);
    lt_mode = mode == LT_UNWIND_LIBUNWIND ? LT_MODE_LIBUNWIND : mode == LT_UNWIND_VERIFY ? LT_MODE_VERIFY : LT_MODE_FAST;
    if (!rules_ok)
        lt_mode = LT_MODE_LIBUNWIND;
    return true;
}

/* At exit in verify mode: one line on stderr, written without stdio. After
 * the libunwind count, how the fast path took its stacks: from the stack
 * cache, spliced onto a cached walk's deep part, or walked to the end; and
 * how many splices were refused because a word their walk read had changed. */
void lt_unwind_report(void)
{
    if (lt_mode != LT_MODE_VERIFY)
        return;
    static const struct {
        const uint64_t *value;
        const char     *after;
    } parts[] = {
        {&lt_verify_stacks, " stacks, "},
        {&lt_verify_mismatches, " mismatches, "},
        {&lt_fallbacks, " by libunwind; "},
        {&lt_count_cached, " cached, "},
        {&lt_count_spliced, " spliced, "},
        {&lt_count_walked, " walked ("},
        {&lt_count_refused, " splices refused)\n"},
    };
    char line[256] = "leaktop: unwind verify: ";
    char *p = line + strlen(line);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        p = lt_fmt_u(p, (unsigned long)__atomic_load_n(parts[i].value, __ATOMIC_RELAXED));
        size_t len = strlen(parts[i].after);
        memcpy(p, parts[i].after, len);
        p += len;
    }
    ssize_t w = write(2, line, (size_t)(p - line));
    (void)w;
}
