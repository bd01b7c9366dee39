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
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
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

bool lt_unwind_on_thread_stack(uintptr_t addr, size_t bytes)
{
    return lt_stack_known > 0 && addr >= lt_stack_lo && addr <= lt_stack_hi && bytes <= lt_stack_hi - addr;
}

/* Moves `st` to the caller of its frame with `rule`. False when the frame
 * is the outermost one or a read would leave the thread's stack. The words
 * a step reads are implied by where it arrives: the caller's return address
 * at its sp - 8 and, when the rule restores RBP, RBP at sp + the rule's
 * offset (lt_cached replays walks by them). */
static inline bool lt_step(lt_frame_state *st, lt_rule rule)
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
    }
    st->ip = *(const uintptr_t *)(cfa - 8);
    st->sp = cfa;
    st->rbp = rbp;
    return true;
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
    static const char path[] = "/proc/self/maps";
    if (!lt_seccomp_allows(SYS_openat, (uint64_t)AT_FDCWD, (uintptr_t)path, O_RDONLY | O_CLOEXEC, 0, 0, 0))
        return false;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
    /* A filter may tell descriptors apart: asked with this one. */
    if (!lt_seccomp_allows(SYS_read, (uint64_t)fd, (uintptr_t)buf, sizeof(buf), 0, 0, 0) ||
        !lt_seccomp_allows(SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0)) {
        if (lt_seccomp_allows(SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0))
            syscall(SYS_close, fd);
        return false;
    }
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

/* pthread_getattr_np's code (lt_unwind_init): a thread's first
 * allocation may come from inside it, holding the thread's own lock,
 * which calling it again would wait on forever. */
static uintptr_t lt_getattr_lo, lt_getattr_hi;

/* Without /proc/self/maps (a program at its descriptor limit, a chroot
 * without /proc), another thread's stack as glibc keeps it: the block it
 * allocated, or the one the program gave it. Not from inside
 * pthread_getattr_np itself (see above). */
static bool lt_stack_from_glibc(uintptr_t caller, uintptr_t *lo, uintptr_t *hi)
{
    if (!lt_getattr_hi || (caller >= lt_getattr_lo && caller < lt_getattr_hi) ||
        !lt_seccomp_allows(SYS_sched_getaffinity, 0, 0, 0, 0, 0, 0))
        return false;
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0 && addr && size;
    pthread_attr_destroy(&attr);
    if (ok) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
    }
    return ok;
}

/* Without /proc/self/maps, the initial thread's stack: from the page that
 * holds __libc_stack_end (where its outermost frame began; what is above
 * is argv and the environment, mapped) down by RLIMIT_STACK, as far as it
 * can grow, and at most 128 MiB: nothing else is mapped there, as the
 * kernel puts mmap's base at least that far below the stack's top
 * (whatever limit the program sets later). Every read stays between the
 * stack pointer of a capture and the top: mapped, as the stack is one
 * mapping from its lowest page up. */
static bool lt_stack_of_main(uintptr_t *lo, uintptr_t *hi)
{
    extern void *__libc_stack_end;
    uint64_t limit = lt_stack_size_limit(), most = 128ull << 20;
    if (limit == 0 || limit > most)
        limit = most;
    *hi = ((uintptr_t)__libc_stack_end | 4095) + 1;
    *lo = *hi > limit ? *hi - limit : 4096;
    return true;
}

/* The initial thread's stack is the [stack] mapping (it grows down into
 * the gap below); any other thread's is the mapping that holds its thread
 * descriptor, which glibc puts at the top of the thread's stack (its own
 * or one the program supplied). Either way the bounds do not depend on the
 * stack the thread happens to run on now (a coroutine's, a signal's).
 * `caller`: the hook's caller (lt_stack_from_glibc). */
static bool lt_stack_find(uintptr_t caller, uintptr_t *lo, uintptr_t *hi)
{
    extern void *__libc_stack_end;
    if (!lt_seccomp_allows(SYS_gettid, 0, 0, 0, 0, 0, 0) || !lt_seccomp_allows(SYS_getpid, 0, 0, 0, 0, 0, 0))
        return false;
    bool initial = syscall(SYS_gettid) == syscall(SYS_getpid);
    uintptr_t probe = initial ? (uintptr_t)__libc_stack_end : (uintptr_t)pthread_self();
    uintptr_t below;
    bool grows;
    if (lt_maps_find(probe, lo, hi, &below, &grows)) {
        if (grows)
            *lo = below;
        return true;
    }
    return initial ? lt_stack_of_main(lo, hi) : lt_stack_from_glibc(caller, lo, hi);
}

/* Stack bounds once per thread. Every read of the unwinder stays inside
 * them: a damaged frame chain can not make it fault. */
static uintptr_t lt_stack_bounds_find(uintptr_t caller)
{
    int saved = errno;
    uintptr_t lo, hi;
    lt_stack_known = -1;
    if (lt_stack_find(caller, &lo, &hi)) {
        lt_stack_lo = lo;
        lt_stack_hi = hi;
        lt_stack_known = 1;
    }
    errno = saved;
    return lt_stack_known > 0;
}

static uintptr_t lt_off_stack(uintptr_t (*fn)(uintptr_t), uintptr_t arg);

/* The first time, on the thread's unwind stack (lt_off_stack): reading
 * /proc/self/maps takes a 4 KiB buffer, and a thread of 16 KiB
 * (PTHREAD_STACK_MIN) that allocates first deep in its stack has room
 * for what it does natively, not for that. */
static bool lt_stack_bounds(uintptr_t caller)
{
    if (LT_LIKELY(lt_stack_known))
        return lt_stack_known > 0;
    return lt_off_stack(lt_stack_bounds_find, caller) != 0;
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
#define LT_NEAR_RULE_BITS 11
#define LT_NEAR_RULES   (1u << LT_NEAR_RULE_BITS) /* the thread's own rule cache, direct-mapped */
#define LT_NEAR_TRACES  2048 /* and its recent trace ids by stack hash */
#define LT_STATE_BITS   12  /* the frame-state index: 4096 entries */
#define LT_SPLICE_TRIES 4   /* failed suffix checks one walk may spend */
#define LT_UNWIND_STACK (64u << 10)  /* libunwind runs on this, not the program's stack */

/* A stack walked before, frame by frame: frame k's return address, its
 * stack pointer (as an offset from the start's, sp0) and its RBP. Valid
 * while `epoch` matches (dlclose may change what an address means).
 *
 * The words the walk read are implied by its frames (lt_step): the step
 * into frame k read frame k's return address at sp_k - 8 and, when its
 * rule restores RBP, RBP_k at sp_k + rbp_at[k]. Finding them unchanged
 * replays the walk (lt_frames_differ). A walk that ended on a return
 * address 0 read one word more: frame n holds it (ips[n] == 0, zero_end).
 *
 * Bit k of rbp_needed: the walk from frame k on used RBP_k (an RBP-based
 * CFA came before any frame restored RBP); where it is clear any RBP_k
 * gives the same frames. Only those RBP slots are re-read (rbp_checked):
 * where RBP is a general register (-O2 code) a slot holds the program's
 * data, different at every call, and would fail every check for nothing.
 * rbps[k] is kept only where something compares it: for the frames the
 * walk took itself whose rbp_needed bit is set, and for those rbp_checked. */
typedef struct lt_cached {
    uintptr_t sp0;
    uint32_t  n, id, epoch;
    uint32_t  walked;     /* frames [0, walked) the walk took itself; the rest it spliced */
    bool      whole;      /* the walk reached the outermost frame (else it stopped at max) */
    bool      zero_end;   /* ... by reading a return address 0, kept as frame n */
    bool      checkable;  /* every stack pointer fit its offset: else never replayed */
    uint64_t  rbp_needed;
    uint64_t  rbp_checked;
    uintptr_t ips[LT_CACHE_FRAMES + 1];
    int32_t   sp_at[LT_CACHE_FRAMES + 1];   /* sp_k - sp0 */
    int16_t   rbp_at[LT_CACHE_FRAMES + 1];  /* RBP_k's slot - sp_k, where rbp_checked */
    uintptr_t rbps[LT_CACHE_FRAMES + 1];
} lt_cached;

/* A thread's caches, mapped on its first traced call (only the entries it
 * uses become memory; ~225 KB in all, and a 64 KiB stack for libunwind):
 * recent stacks, and the rules of the
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
    /* The stack the deep paths run on (lt_off_stack: libunwind, and the
     * first read of /proc/self/maps): libunwind takes ~8 KB more than the
     * fast path, which an alternate signal stack of SIGSTKSZ (8 KB) does
     * not have. Pages become memory only where it ran. Last: an overflow
     * would reach the recent ids, which are all checked against their
     * records before use. */
    uint8_t   unwind_stack[LT_UNWIND_STACK] __attribute__((aligned(16)));
} lt_thread_cache;

_Static_assert(LT_UNWIND_STACK % 16 == 0 && offsetof(lt_thread_cache, unwind_stack) % 16 == 0,
               "the unwind stack's top is 16-byte aligned (the thread cache is page-aligned)");
_Static_assert(LT_CACHE_FRAMES <= 64 && LT_CACHE_WAYS + 1 < 256, "state index entries: 6 bits of frame, 8 of way");
_Static_assert(LT_CACHE_SETS == 32, "the set is the head hash's top 5 bits");
_Static_assert(LT_CACHE_FRAMES < 64, "rbp_needed and rbp_checked: a bit a frame, and frame n");

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
    uint32_t i = (uint32_t)((ip * 0x9e3779b97f4a7c15ULL) >> (64 - LT_NEAR_RULE_BITS));
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

/* Calls fn(arg) on the stack that ends at `top` (16-byte aligned) and
 * returns its result. Its frame keeps RBP pointing into the caller's
 * stack, and its CFI says the caller's frame is at RBP: an unwinder that
 * runs on the new stack steps from fn's frames back onto the old one. */
uintptr_t lt_call_on_stack(uintptr_t arg, void *top, uintptr_t (*fn)(uintptr_t)) LT_HIDDEN;
__asm__(".text\n"
        ".globl lt_call_on_stack\n"
        ".hidden lt_call_on_stack\n"
        ".type lt_call_on_stack, @function\n"
        ".p2align 4\n"
        "lt_call_on_stack:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        "    movq %rsi, %rsp\n"
        "    call *%rdx\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        "    .cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size lt_call_on_stack, .-lt_call_on_stack\n");

static __thread int lt_off_stack_now __attribute__((tls_model("initial-exec")));

void lt_unwind_abandoned(void)
{
    lt_off_stack_now = 0;
}

/* fn(arg) on the thread's unwind stack (when it has its cache), for the
 * paths that take kilobytes: libunwind (~8 KB beyond the fast path) and
 * the frame buffers around it. A handler on an alternate signal stack of
 * SIGSTKSZ, or a thread near the end of its stack, has room for what it
 * calls natively, not for those. Never nested: one stack a thread. */
static uintptr_t lt_off_stack(uintptr_t (*fn)(uintptr_t), uintptr_t arg)
{
    lt_cache_ensure();
    lt_thread_cache *c = lt_cache;
    if (!c || lt_off_stack_now)
        return fn(arg);
    lt_off_stack_now = 1;
    uintptr_t r = lt_call_on_stack(arg, c->unwind_stack + LT_UNWIND_STACK, fn);
    lt_off_stack_now = 0;
    return r;
}

static uint32_t lt_capture_libunwind(uintptr_t *out, uint32_t max)
{
    void *raw[LT_FRAMES_MAX + LT_SELF_FRAMES];
    int n = unw_backtrace(raw, (int)max + LT_SELF_FRAMES);
    memcpy(out, raw, (size_t)(n > 0 ? n : 0) * sizeof(uintptr_t));
    return lt_strip_self(out, n > 0 ? (uint32_t)n : 0, max);
}

typedef struct lt_verify_arg {
    const uintptr_t *fast;
    uint32_t         n;
} lt_verify_arg;

static uintptr_t lt_verify_off_stack(uintptr_t argp)
{
    const lt_verify_arg *a = (const lt_verify_arg *)argp;
    uintptr_t slow[LT_FRAMES_MAX];
    uint32_t m = lt_capture_libunwind(slow, lt_g.frames_captured);
    __atomic_fetch_add(&lt_verify_stacks, 1, __ATOMIC_RELAXED);
    if (m != a->n || memcmp(slow, a->fast, a->n * sizeof(uintptr_t)) != 0)
        __atomic_fetch_add(&lt_verify_mismatches, 1, __ATOMIC_RELAXED);
    return 0;
}

static void lt_verify(const uintptr_t *fast, uint32_t n)
{
    if (lt_seccomp_active())
        return;  /* libunwind's own calls could kill the program (lt_capture_walled_off_stack) */
    lt_verify_arg a = {fast, n};
    lt_off_stack(lt_verify_off_stack, (uintptr_t)&a);
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

/* Bits (from, to] of a frame mask. */
static inline uint64_t lt_bits_after(uint32_t from, uint32_t to)
{
    return ((2ull << to) - 1) & ~((2ull << from) - 1);
}

/* The last frame whose step's words a check of `c` re-reads: frame n when
 * the walk ended on a return address 0, else its last frame. */
static inline uint32_t lt_last_read(const lt_cached *c)
{
    return c->zero_end ? c->n : c->n - 1;
}

/* The first frame in (from, to] whose step read a word that no longer
 * holds what c's walk read there, or 0 when all hold. */
static inline uint32_t lt_frames_differ(const lt_cached *c, uint32_t from, uint32_t to)
{
    uintptr_t sp0 = c->sp0;
    for (uint32_t k = from + 1; k <= to; k++)
        if (*(const uintptr_t *)(sp0 + (intptr_t)c->sp_at[k] - 8) != c->ips[k])
            return k;
    for (uint64_t bits = c->rbp_checked & lt_bits_after(from, to); bits; bits &= bits - 1) {
        uint32_t k = (uint32_t)__builtin_ctzll(bits);
        if (*(const uintptr_t *)(sp0 + (intptr_t)c->sp_at[k] + c->rbp_at[k]) != c->rbps[k])
            return k;
    }
    return 0;
}

/* A hit without walking: the same start and every stack word the cached
 * walk read still holding what it read then. The walk is a function of
 * those alone (its rules are fixed within the epoch, the thread's stack
 * bounds for good), so it would find the same frames, in one load and
 * compare per word. RBP is part of the start only if the walk used it.
 * (The caller compared the start's ip and sp.) */
static inline bool lt_cache_check(const lt_cached *c, const lt_frame_state *start)
{
    if (!c->checkable || ((c->rbp_needed & 1) && c->rbps[0] != start->rbp))
        return false;
    return lt_frames_differ(c, 0, lt_last_read(c)) == 0;
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
    const lt_cached *bad_way;   /* the last way a check failed on, */
    uint32_t         bad_frame; /* and the frame whose words differed: fails again from any frame before it */
    uint32_t         left;      /* failed checks this walk may still spend */
} lt_splice_budget;

/* Do the words src's walk read in (from, to] still hold? */
static inline bool lt_frames_hold(const lt_cached *src, uint32_t from, uint32_t to, lt_splice_budget *b)
{
    if (src == b->bad_way && b->bad_frame > from && b->bad_frame <= to)
        return false;  /* known to differ: spend nothing */
    if (b->left == 0)
        return false;
    uint32_t bad = lt_frames_differ(src, from, to);
    if (!bad)
        return true;
    b->bad_way = src;
    b->bad_frame = bad;
    b->left--;
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))
        __atomic_fetch_add(&lt_count_refused, 1, __ATOMIC_RELAXED);
    return false;
}

/* Non-zero unless a stack pointer's offset from its way's start fits
 * sp_at (0 <= off < 2^31). */
static inline uint64_t lt_sp_off_unfit(int64_t off)
{
    return (uint64_t)off >> 31;
}

/* Records frame n of w: its return address and stack pointer (its RBP
 * the walk keeps aside: most frames' is never looked at again). When the
 * stack pointer's offset does not fit, w is never replayed. */
static inline void lt_frame_note(lt_cached *w, uint32_t n, const lt_frame_state *st)
{
    int64_t off = (int64_t)(st->sp - w->sp0);
    if (LT_UNLIKELY(lt_sp_off_unfit(off)))
        w->checkable = false;
    w->ips[n] = st->ip;
    w->sp_at[n] = (int32_t)off;
}

/* Walking into `w`, at frame n (state `st`, noted): copies the frames a
 * cached walk found from this same state, when the words it read from
 * there on still hold: all the way to the outermost frame (w->whole) or up
 * to max. Returns how many frames it covers from n on (n's own included),
 * 0 for none. *tail: the frames' bits of rbp_needed (src's: the walk from
 * them is src's, or the start of it). A splice starts at a frame its
 * source took itself (src->walked; an index entry may be older than the
 * way's content), whose stack pointer is known, and its RBP if it matters. */
static uint32_t lt_splice(lt_thread_cache *tc, lt_cached *w, uint32_t n, const lt_frame_state *st,
                          uint32_t max, uint32_t epoch, lt_splice_budget *b, uint64_t *tail)
{
    uint64_t h = lt_state_hash(st->ip, st->sp);
    uint32_t e = tc->states[h >> (64 - LT_STATE_BITS)];
    if ((e >> 14) != LT_STATE_TAG(h) || !(e >> 6 & 255))
        return 0;
    const lt_cached *src = &tc->ways[(e >> 6 & 255) - 1];
    uint32_t k = e & 63;
    if (src == w || k >= src->walked || k >= src->n || src->epoch != epoch || !src->checkable ||
        src->ips[k] != st->ip || src->sp0 + (intptr_t)src->sp_at[k] != st->sp ||
        ((src->rbp_needed >> k & 1) && src->rbps[k] != st->rbp))
        return 0;
    uint32_t m = src->n - k < max - n ? src->n - k : max - n;
    bool whole = k + m == src->n && src->whole;
    if (!whole && n + m < max)
        return 0;  /* src stopped at its max short of ours: walk on to a deeper match */
    /* The steps between the frames taken; and the read of address 0 too
     * when it is how src's walk ended. */
    bool zero_end = whole && src->zero_end;
    uint32_t to = zero_end ? src->n : k + m - 1;
    if (!lt_frames_hold(src, k, to, b))
        return 0;
    int64_t delta = (int64_t)(src->sp0 - w->sp0);
    uint64_t out_of_range = 0;
    for (uint32_t j = k + 1; j <= to; j++) {
        int64_t off = src->sp_at[j] + delta;
        out_of_range |= lt_sp_off_unfit(off);
        w->ips[n + j - k] = src->ips[j];
        w->sp_at[n + j - k] = (int32_t)off;
    }
    if (out_of_range)
        w->checkable = false;
    uint64_t bits = src->rbp_checked & lt_bits_after(k, to);
    w->rbp_checked |= (bits >> k) << n;
    for (; bits; bits &= bits - 1) {
        uint32_t j = (uint32_t)__builtin_ctzll(bits);
        w->rbp_at[n + j - k] = src->rbp_at[j];
        w->rbps[n + j - k] = src->rbps[j];
    }
    w->whole = whole;
    w->zero_end = zero_end;
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

/* Indexes frame n (n >= 1) of way wi by its state, for later walks to
 * splice onto (frame 0 is the way's start: the set finds it). */
static inline void lt_state_put(lt_thread_cache *tc, uint32_t wi, uint32_t n, const lt_frame_state *st)
{
    uint64_t h = lt_state_hash(st->ip, st->sp);
    tc->states[h >> (64 - LT_STATE_BITS)] = LT_STATE_TAG(h) << 14 | (wi + 1) << 6 | n;
}

/* Walks from `start` into `w`, frame by frame, and splices where a cached
 * walk takes over. Returns the frame count, 0 when the fast path cannot
 * follow this stack; *spliced: whether it spliced. */
static uint32_t lt_walk_cached(lt_thread_cache *tc, uint32_t wi, const lt_frame_state *start, uint32_t max,
                               uint32_t epoch, bool *spliced)
{
    lt_cached *w = &tc->ways[wi];
    lt_frame_state st = *start;
    lt_splice_budget b = {NULL, 0, LT_SPLICE_TRIES};
    lt_rule rules[LT_CACHE_FRAMES];      /* of the frames walked */
    uintptr_t rbps[LT_CACHE_FRAMES + 1]; /* theirs, and the splice frame's */
    uint32_t n = 0, walked;
    uint64_t tail = 0, rbp_read = 0;     /* rbp_read bit j: the step into frame j restored RBP */
    w->sp0 = start->sp;
    w->whole = w->zero_end = false;
    w->checkable = true;
    w->rbp_checked = 0;
    lt_frame_note(w, 0, &st);
    rbps[0] = st.rbp;
    for (;;) {
        /* frame n is noted */
        if (st.ip == 0) {
            w->whole = w->zero_end = true;
            break;
        }
        uint32_t got = n ? lt_splice(tc, w, n, &st, max, epoch, &b, &tail) : 0;
        if (got) {
            *spliced = true;
            walked = n;
            n += got;
            goto done;
        }
        lt_rule rule = rules[n] = lt_rule_near(st.ip, epoch);
        if (n)
            lt_state_put(tc, wi, n, &st);
        n++;
        if (lt_rule_kind(rule) == LT_RULE_OUTERMOST) {
            w->whole = true;
            break;
        }
        if (n == max)
            break;
        if (lt_rule_kind(rule) != LT_RULE_OK || !lt_step(&st, rule))
            return 0;
        lt_frame_note(w, n, &st);
        rbps[n] = st.rbp;
        if (lt_rule_rbp_saved(rule)) {
            rbp_read |= 1ull << n;
            w->rbp_at[n] = lt_rule_rbp_off(rule);
        }
    }
    walked = n;
done:
    w->walked = walked;
    w->rbp_needed = lt_rbp_needed(w, rules, n, walked, tail);
    /* This walk's own frames, 0..walked (the frame a splice starts at is
     * reached by our step, not src's): the RBPs a check or a splice from
     * them compares, and the slots the checks re-read. */
    uint64_t own = w->rbp_needed & ((2ull << walked) - 1);
    for (uint64_t bits = own; bits; bits &= bits - 1) {
        uint32_t j = (uint32_t)__builtin_ctzll(bits);
        w->rbps[j] = rbps[j];
    }
    w->rbp_checked |= rbp_read & own;
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
        if (tags[i] != tag || !c->n || c->epoch != epoch || c->ips[0] != start->ip || c->sp0 != start->sp ||
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
    w->epoch = epoch;
    w->n = n;
    tc->spare = way_of[LT_CACHE_ASSOC - 1];  /* the set's least recently used */
    lt_set_front(way_of, tags, LT_CACHE_ASSOC - 1, (uint8_t)wi, tag);
    return true;
}


static bool lt_capture_fast(const lt_frame_state *start, uint32_t *id)
{
    if (!lt_stack_bounds(start->ip) || !lt_on_stack(start->sp) || !start->ip)
        return false;
    lt_cache_ensure();
    uint32_t max = lt_g.frames_captured;
    if (LT_LIKELY(lt_cache != NULL) && max <= LT_CACHE_FRAMES)
        return lt_capture_cached(lt_cache, start, max, id);
    return lt_capture_uncached(start, max, id);
}

static uintptr_t lt_capture_slow_off_stack(uintptr_t unused)
{
    (void)unused;
    uintptr_t frames[LT_FRAMES_MAX + LT_SELF_FRAMES];
    return lt_trace_id(frames, lt_capture_libunwind(frames, lt_g.frames_captured));
}

static __attribute__((noinline)) uint32_t lt_capture_slow(void)
{
    if (LT_UNLIKELY(lt_mode == LT_MODE_VERIFY))  /* a shared line: only when reported */
        __atomic_fetch_add(&lt_fallbacks, 1, __ATOMIC_RELAXED);
    return (uint32_t)lt_off_stack(lt_capture_slow_off_stack, 0);
}

/* The program locked itself in (seccomp) and the fast path cannot take
 * this stack: libunwind would make calls of its own (mmap, mincore, pipe2,
 * sigprocmask) that the filter may punish with death. So the frames the
 * walk took before it stopped, or the caller's alone when the thread's
 * stack bounds are unknown (/proc was refused): the top of the stack,
 * exact as far as it goes, and the block counted all the same. */
static uintptr_t lt_capture_walled_off_stack(uintptr_t startp)
{
    const lt_frame_state *start = (const lt_frame_state *)startp;
    uintptr_t frames[LT_FRAMES_MAX + LT_SELF_FRAMES];
    uint32_t n = 0, max = lt_g.frames_captured + LT_SELF_FRAMES;
    if (start && start->ip) {
        frames[n++] = start->ip;
        if (lt_stack_known > 0 && lt_on_stack(start->sp)) {
            uint32_t epoch = __atomic_load_n(&lt_epoch, __ATOMIC_ACQUIRE);
            lt_frame_state st = *start;
            while (n < max) {
                lt_rule rule = lt_rule_near(st.ip, epoch);
                if (lt_rule_kind(rule) != LT_RULE_OK || !lt_step(&st, rule) || st.ip == 0)
                    break;
                frames[n++] = st.ip;
            }
        }
    }
    return lt_trace_id(frames, lt_strip_self(frames, n, lt_g.frames_captured));
}

/* `start` NULL: libunwind only (before our constructor ran). */
uint32_t lt_capture_stack(const lt_frame_state *start)
{
    uint32_t id;
    if (lt_mode != LT_MODE_LIBUNWIND && start && lt_capture_fast(start, &id))
        return id;
    if (LT_UNLIKELY(lt_seccomp_active()))
        return (uint32_t)lt_off_stack(lt_capture_walled_off_stack, (uintptr_t)start);
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
        Dl_info info;
        const ElfW(Sym) *sym = NULL;
        if (dladdr1((void *)pthread_getattr_np, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size) {
            lt_getattr_lo = (uintptr_t)info.dli_saddr;
            lt_getattr_hi = lt_getattr_lo + sym->st_size;
        }
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
