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

#define LT_CACHE_WAYS   64  /* an interpreter calls malloc from many (ip, sp) heads */
#define LT_CACHE_FRAMES 48
#define LT_SELF_FRAMES  8   /* at most this many of the tracer's frames on a stack (7 at -O0 in verify
                             * mode: libunwind, lt_verify, lt_capture_stack, lt_track,
                             * lt_after_alloc, lt_alloc_traced, the hook) */
#define LT_NEAR_RULES   512 /* the thread's own rule cache, direct-mapped */
#define LT_NEAR_TRACES  2048 /* and its recent trace ids by stack hash */

/* A stack walked before: its return addresses and the rule of each frame.
 * Valid while `epoch` matches (dlclose may change what an address means). */
typedef struct lt_cached {
    uintptr_t ip0, sp0, rbp0;
    uint32_t  n, id, epoch;
    lt_reads  reads;  /* what the walk read: unchanged means the same stack */
    uintptr_t ips[LT_CACHE_FRAMES];
    lt_rule   rules[LT_CACHE_FRAMES];
} lt_cached;

/* A thread's caches, mapped on its first traced call (only the entries it
 * uses become memory): recent stacks, and the rules of the return
 * addresses its walks met, packed densely so they stay in this core's
 * cache where cfi.c's shared table (one slot a line, by hash) does not. */
typedef struct lt_thread_cache {
    lt_cached ways[LT_CACHE_WAYS];
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
    lt_cache = c;
    pthread_setspecific(lt_cache_key, c);
}

static inline lt_cached *lt_cache_way(const lt_frame_state *st)
{
    uint64_t h = (st->ip ^ (st->sp >> 4)) * 0x9e3779b97f4a7c15ULL;
    return &lt_cache->ways[h >> 58];
}

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
static uint64_t lt_verify_stacks, lt_verify_mismatches, lt_fallbacks;

/* Drops the tracer's own frames: the hook's at the top, and the signal
 * wrapper's in a handler's stack when the compiler made no tail call. */
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

/* Unwinds from `st` appending to out[n..max) and rules[]. Returns the new
 * count, or UINT32_MAX when the fast path cannot follow this stack. */
static uint32_t lt_walk(lt_frame_state st, uintptr_t *out, lt_rule *rules, uint32_t n, uint32_t max,
                        uint32_t epoch)
{
    while (n < max && st.ip != 0) {
        lt_rule rule = lt_rule_near(st.ip, epoch);
        out[n] = st.ip;
        rules[n] = rule;
        n++;
        if (lt_rule_kind(rule) == LT_RULE_OUTERMOST || n == max)
            break;
        if (lt_rule_kind(rule) != LT_RULE_OK || !lt_step(&st, rule))
            return UINT32_MAX;
    }
    return n;
}

/* Replays a cached stack against the live one. Frame k's rule is known as
 * soon as its address equals the cached one, so this is the unwind itself,
 * minus the rule lookups. Returns how many leading frames agree; `st` is
 * left at the first frame that differs (to continue walking from). */
static uint32_t lt_replay(const lt_cached *c, lt_frame_state *st, uintptr_t *out)
{
    out[0] = st->ip;
    for (uint32_t k = 1; k < c->n; k++) {
        lt_frame_state next = *st;
        if (lt_rule_kind(c->rules[k - 1]) != LT_RULE_OK || !lt_step(&next, c->rules[k - 1]))
            return 0;  /* the walk that filled the entry got past here: start over */
        *st = next;
        if (next.ip != c->ips[k])
            return k;
        out[k] = next.ip;
    }
    return c->n;
}

/* A hit without replaying: the same start and every stack word the cached
 * walk read still holding what it read then. The walk is a function of
 * those alone (its rules are fixed within the epoch, the thread's stack
 * bounds for good), so it would find the same frames: as exact as a
 * replay, in one load and compare per word. */
static inline bool lt_cache_check(const lt_cached *c, const lt_frame_state *start)
{
    if (c->reads.n == UINT32_MAX || c->rbp0 != start->rbp)
        return false;
    uintptr_t sp0 = start->sp;
    for (uint32_t i = 0; i < c->reads.n; i++)
        if (*(const uintptr_t *)(sp0 + (intptr_t)c->reads.off[i]) != c->reads.val[i])
            return false;
    return true;
}

/* Walks the stack again with the rules found, noting the words read. */
static void lt_cache_note_reads(lt_cached *c, const lt_frame_state *start, const lt_rule *rules, uint32_t n,
                                uint32_t max)
{
    lt_frame_state st = *start;
    c->reads.n = 0;
    for (uint32_t k = 0; k + 1 < n; k++) {
        if (lt_rule_kind(rules[k]) != LT_RULE_OK || !lt_step_noting(&st, rules[k], &c->reads, start->sp) ||
            st.ip != c->ips[k + 1]) {
            c->reads.n = UINT32_MAX;  /* the stack moved under us: replay this one */
            return;
        }
    }
    /* lt_walk also stepped past the last frame when that found address 0. */
    lt_rule last = rules[n - 1];
    if (n < max && lt_rule_kind(last) == LT_RULE_OK &&
        (!lt_step_noting(&st, last, &c->reads, start->sp) || st.ip != 0))
        c->reads.n = UINT32_MAX;
}

/* Frames (tracer's own included) into out[], trace id through *id when the
 * cache already knows it. UINT32_MAX: use libunwind for this capture. */
static uint32_t lt_capture_fast(const lt_frame_state *start, uintptr_t *out, lt_rule *rules,
                                uint32_t max, uint32_t *id, lt_cached **way)
{
    *way = NULL;
    if (!lt_stack_bounds() || !lt_on_stack(start->sp) || !start->ip)
        return UINT32_MAX;
    lt_cache_ensure();
    lt_cached *c = lt_cache && max <= LT_CACHE_FRAMES ? lt_cache_way(start) : NULL;
    uint32_t epoch = __atomic_load_n(&lt_epoch, __ATOMIC_ACQUIRE);
    lt_frame_state st = *start;
    uint32_t n = 0;
    if (c && c->n && c->epoch == epoch && c->ip0 == start->ip && c->sp0 == start->sp) {
        if (lt_cache_check(c, start)) {
            if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))
                memcpy(out, c->ips, c->n * sizeof(uintptr_t));
            *id = c->id;
            return c->n;
        }
        n = lt_replay(c, &st, out);
        if (n == c->n) {
            *id = c->id;
            return n;
        }
        if (n == 0)
            st = *start;
        memcpy(rules, c->rules, n * sizeof(lt_rule));
    }
    uint32_t total = lt_walk(st, out, rules, n, max, epoch);
    if (total != UINT32_MAX && c) {
        c->n = 0;  /* complete once the trace id is known */
        c->ip0 = start->ip;
        c->sp0 = start->sp;
        c->rbp0 = start->rbp;
        c->epoch = epoch;
        memcpy(c->ips, out, total * sizeof(uintptr_t));
        memcpy(c->rules, rules, total * sizeof(lt_rule));
        lt_cache_note_reads(c, start, rules, total, max);
        *way = c;
    }
    return total;
}

static void lt_verify(const uintptr_t *fast, uint32_t n)
{
    uintptr_t slow[LT_FRAMES_MAX];
    uint32_t m = lt_capture_libunwind(slow, lt_g.frames_captured);
    __atomic_fetch_add(&lt_verify_stacks, 1, __ATOMIC_RELAXED);
    if (m != n || memcmp(slow, fast, n * sizeof(uintptr_t)) != 0)
        __atomic_fetch_add(&lt_verify_mismatches, 1, __ATOMIC_RELAXED);
}

/* `start` NULL: libunwind only (before our constructor ran). */
uint32_t lt_capture_stack(const lt_frame_state *start)
{
    uintptr_t frames[LT_FRAMES_MAX + LT_SELF_FRAMES];
    lt_rule rules[LT_FRAMES_MAX + LT_SELF_FRAMES];
    uint32_t max = lt_g.frames_captured;
    uint32_t id = UINT32_MAX, n = UINT32_MAX;
    lt_cached *way = NULL;
    if (lt_mode != LT_MODE_LIBUNWIND && start)
        n = lt_capture_fast(start, frames, rules, max + LT_SELF_FRAMES, &id, &way);
    if (n == UINT32_MAX) {
        if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))  /* a shared line: only when reported */
            __atomic_fetch_add(&lt_fallbacks, 1, __ATOMIC_RELAXED);
        return lt_trace_id(frames, lt_capture_libunwind(frames, max));
    }
    if (id != UINT32_MAX && lt_mode != LT_MODE_VERIFY)
        return id;
    uint32_t kept = lt_strip_self(frames, n, max);
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))
        lt_verify(frames, kept);
    if (id != UINT32_MAX)
        return id;
    id = lt_trace_near(frames, kept);
    if (way) {
        way->id = id;
        way->n = n;
    }
    return id;
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

/* At exit in verify mode: one line on stderr, written without stdio. */
void lt_unwind_report(void)
{
    if (lt_mode != LT_MODE_VERIFY)
        return;
    char line[160] = "leaktop: unwind verify: ";
    char *p = line + strlen(line);
    p = lt_fmt_u(p, (unsigned long)lt_verify_stacks);
    memcpy(p, " stacks, ", 9);
    p = lt_fmt_u(p + 9, (unsigned long)lt_verify_mismatches);
    memcpy(p, " mismatches, ", 13);
    p = lt_fmt_u(p + 13, (unsigned long)lt_fallbacks);
    memcpy(p, " by libunwind\n", 14);
    ssize_t w = write(2, line, (size_t)(p + 14 - line));
    (void)w;
}
