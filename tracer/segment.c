/* segment.c: the tracer's set-up and everything off the allocation path:
 * options from the environment, the shared-memory segment and its layout,
 * the module table, snapshots into the ring, fork and exec behaviour.
 * Runs at the first allocation call, possibly before any constructor. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lt_internal.h"

lt_globals lt_g;

#define LT_DEFAULT_FRAMES   32u
#define LT_WRAPPER_SLACK    4u        /* extra frames for wrappers the frontend skips */
#define LT_DEFAULT_TRACES   (1u << 20)
#define LT_MODULES_CAP      1024u
#define LT_RING_SLOTS       16u
#define LT_TSLOTS           256u      /* threads with their own counter slot */
#define LT_TSLOT_ENTRIES    1024u     /* distinct traces a thread slot holds */
#define LT_PAGE             4096u

void leaktop_mark_impl(const char *label, uint32_t reason) LT_HIDDEN;

/* ---- small helpers that never allocate ------------------------------- */

void *lt_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void lt_unmap(void *p, size_t bytes)
{
    munmap(p, bytes);
}

void lt_spin_lock(int *lock)
{
    for (unsigned spins = 0; __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE); spins++) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
            if (++spins > 64)
                sched_yield();  /* the holder may be descheduled: let it run */
            else
                __builtin_ia32_pause();
        }
    }
}

void lt_spin_unlock(int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static int64_t lt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t lt_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t lt_env_u64(const char *name, uint64_t dflt, uint64_t lo, uint64_t hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || x < lo || x > hi)
        return dflt;
    return x;
}

static uint64_t lt_round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

char *lt_fmt_u(char *p, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

/* ---- the module table --------------------------------------------------- */

typedef struct lt_scan {
    uint32_t gen;        /* generation new entries get */
    bool     changed;
    bool     unloaded;   /* some object went away: cached unwind rules are stale */
    uint8_t  seen[LT_MODULES_CAP];
} lt_scan;

static void lt_module_extent(const struct dl_phdr_info *info, lt_module *m)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_vaddr < lo)
            lo = ph->p_vaddr;
        if (ph->p_vaddr + ph->p_memsz > hi)
            hi = ph->p_vaddr + ph->p_memsz;
    }
    m->bias = info->dlpi_addr;
    m->lo = lo == UINT64_MAX ? 0 : lo + info->dlpi_addr;
    m->hi = hi + info->dlpi_addr;
}

/* The GNU build-id note, read from the mapped PT_NOTE segments. */
static void lt_module_build_id(const struct dl_phdr_info *info, lt_module *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof(*n);
            const uint8_t *desc = name + lt_round_up(n->n_namesz, 4);
            if (desc + n->n_descsz > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
                n->n_descsz <= LT_BUILD_ID_MAX) {
                memcpy(m->build_id, desc, n->n_descsz);
                m->build_id_len = n->n_descsz;
                return;
            }
            p = desc + lt_round_up(n->n_descsz, 4);
        }
    }
}

static void lt_module_path(const struct dl_phdr_info *info, bool first, lt_module *m)
{
    const char *name = info->dlpi_name;
    if (first && (!name || !*name)) {
        ssize_t n = readlink("/proc/self/exe", m->path, LT_PATH_MAX - 1);
        m->path[n > 0 ? n : 0] = 0;
        m->flags |= LT_MOD_MAIN;
        return;
    }
    size_t len = name ? strnlen(name, LT_PATH_MAX - 1) : 0;
    memcpy(m->path, name, len);
    m->path[len] = 0;
}

static int lt_scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    lt_scan *scan = arg;
    lt_shm_header *h = lt_g.hdr;
    lt_module *mods = (lt_module *)((uint8_t *)h + h->modules_off);
    lt_module probe = {0};
    lt_module_extent(info, &probe);
    for (uint32_t i = 0; i < h->nmodules; i++) {
        lt_module *m = &mods[i];
        if (m->gen_unloaded == UINT32_MAX && m->bias == probe.bias && m->lo == probe.lo && m->hi == probe.hi) {
            scan->seen[i] = 1;
            return 0;
        }
    }
    if (h->nmodules >= h->modules_cap)
        return 0;
    lt_module *m = &mods[h->nmodules];
    *m = probe;
    m->gen_loaded = scan->gen;
    m->gen_unloaded = UINT32_MAX;
    lt_module_path(info, h->nmodules == 0, m);
    lt_module_build_id(info, m);
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            lt_unwind_add_module(m->lo, m->hi, info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    uintptr_t self = (uintptr_t)&lt_init;
    if (self >= m->lo && self < m->hi) {
        m->flags |= LT_MOD_TRACER;
        lt_g.self_lo = m->lo;
        lt_g.self_hi = m->hi;
    }
    scan->seen[h->nmodules] = 1;
    __atomic_store_n(&h->nmodules, h->nmodules + 1, __ATOMIC_RELEASE);
    scan->changed = true;
    return 0;
}

/* Re-reads the loaded objects: appends new ones, closes vanished ones.
 * Seqlock (modules_seq odd while writing) so readers see a coherent set. */
static void lt_modules_scan(uint32_t gen)
{
    static lt_scan scan;  /* 1 KiB: kept off the stack of a malloc call */
    lt_shm_header *h = lt_g.hdr;
    lt_spin_lock(&lt_g.module_lock);
    memset(&scan, 0, sizeof(scan));
    scan.gen = gen;
    __atomic_store_n(&h->modules_seq, h->modules_seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    dl_iterate_phdr(lt_scan_one, &scan);
    lt_module *mods = (lt_module *)((uint8_t *)h + h->modules_off);
    for (uint32_t i = 0; i < h->nmodules; i++) {
        if (!scan.seen[i] && mods[i].gen_unloaded == UINT32_MAX) {
            __atomic_store_n(&mods[i].gen_unloaded, gen, __ATOMIC_RELAXED);
            scan.changed = true;
            scan.unloaded = true;
        }
    }
    if (scan.changed && gen > 0)
        __atomic_store_n(&h->module_gen, gen, __ATOMIC_RELEASE);
    __atomic_store_n(&h->modules_seq, h->modules_seq + 1, __ATOMIC_RELEASE);
    if (scan.unloaded)
        lt_unwind_flush();
    lt_spin_unlock(&lt_g.module_lock);
}

void lt_modules_refresh(void)
{
    lt_modules_scan(__atomic_load_n(&lt_g.hdr->module_gen, __ATOMIC_ACQUIRE) + 1);
}

/* ---- snapshots into the ring ---------------------------------------------- */

static lt_slot *lt_slot_at(uint64_t n)
{
    lt_shm_header *h = lt_g.hdr;
    return (lt_slot *)((uint8_t *)h + h->ring_off + (n % h->ring_slots) * h->ring_slot_size);
}

/* Seqlock writer: seq odd, copy, seq even. The writer never waits for a
 * reader; a reader that sees seq change under it retries or skips. */
void leaktop_mark_impl(const char *label, uint32_t reason)
{
    lt_shm_header *h = lt_g.hdr;
    lt_spin_lock(&lt_g.mark_lock);
    uint64_t head = __atomic_load_n(&h->ring_head, __ATOMIC_RELAXED);
    lt_slot *s = lt_slot_at(head);
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint32_t n = __atomic_load_n(&h->ntraces, __ATOMIC_ACQUIRE);
    if (n > h->traces_cap)
        n = h->traces_cap;
    lt_totals_now(s->counters, n);
    s->ntraces = n;
    s->snap_no = head + 1;
    s->time_ns = lt_now_ns();
    s->reason = reason;
    size_t len = label ? strnlen(label, LT_LABEL_MAX - 1) : 0;
    memcpy(s->label, label, len);
    s->label[len] = 0;
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
    __atomic_store_n(&h->ring_head, head + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&h->heartbeat_ns, (uint64_t)lt_now_ns(), __ATOMIC_RELAXED);
    lt_spin_unlock(&lt_g.mark_lock);
}

void lt_service_requests(void)
{
    lt_shm_header *h = lt_g.hdr;
    __atomic_store_n(&h->heartbeat_ns, (uint64_t)lt_now_ns(), __ATOMIC_RELAXED);
    uint64_t req = __atomic_load_n(&h->mark_req, __ATOMIC_ACQUIRE);
    if (req == __atomic_load_n(&h->mark_done, __ATOMIC_RELAXED))
        return;
    char label[LT_LABEL_MAX];
    memcpy(label, h->mark_label, LT_LABEL_MAX);
    label[LT_LABEL_MAX - 1] = 0;
    __atomic_store_n(&h->mark_done, req, __ATOMIC_RELEASE);
    leaktop_mark_impl(label, LT_SNAP_REQUESTED);
}

/* ---- fork and exec ---------------------------------------------------------- */

/* The child must never write into the parent's segment: stop tracing and
 * replace the shared mapping with private zeroes. Blocks it frees go
 * straight to glibc. */
static void lt_atfork_child(void)
{
    __atomic_store_n(&lt_g.status, LT_OFF, __ATOMIC_RELEASE);
    if (lt_g.hdr)
        mmap(lt_g.hdr, lt_g.seg_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static bool lt_is_self(const char *tok, size_t len)
{
    static const char me[] = "libleaktop.so";
    size_t n = sizeof(me) - 1;
    return len >= n && memcmp(tok + len - n, me, n) == 0 && (len == n || tok[len - n - 1] == '/');
}

/* Standalone use (no launcher): exec'd programs are not followed unless
 * LEAKTOP_FOLLOW_EXEC=1. Blank our entry of LD_PRELOAD in place (same
 * length, no allocation, environ's size unchanged) so the next image
 * loads without us. Under the launcher LEAKTOP_PID does that job instead:
 * an exec in the launched process itself (a #! script, a wrapper such as
 * `env`) is still the program the user asked for and is traced again,
 * while children that exec stay dormant (lt_is_target). */
static void lt_unpreload_children(void)
{
    const char *follow = getenv("LEAKTOP_FOLLOW_EXEC");
    const char *launched = getenv("LEAKTOP_PID");
    if ((follow && strcmp(follow, "1") == 0) || (launched && *launched))
        return;
    char *v = getenv("LD_PRELOAD");
    if (!v)
        return;
    for (char *p = v; *p;) {
        size_t len = strcspn(p, ": ");
        if (lt_is_self(p, len))
            memset(p, ' ', len);
        p += len;
        if (*p)
            p++;
    }
}

/* ---- the segment -------------------------------------------------------------- */

typedef struct lt_layout {
    uint32_t frames_limit, frames_captured, traces_cap;
    uint64_t modules_off, index_off, counters_off, store_off, store_size;
    uint64_t ring_off, slot_size, tslots_off, tslot_size, total;
} lt_layout;

static void lt_layout_plan(lt_layout *L)
{
    L->frames_limit = (uint32_t)lt_env_u64("LEAKTOP_FRAMES", LT_DEFAULT_FRAMES, 1, LT_FRAMES_MAX - LT_WRAPPER_SLACK);
    L->frames_captured = L->frames_limit + LT_WRAPPER_SLACK;
    L->traces_cap = (uint32_t)lt_env_u64("LEAKTOP_MAX_TRACES", LT_DEFAULT_TRACES, 1024, 1u << 24);
    uint64_t off = lt_round_up(sizeof(lt_shm_header), LT_PAGE);
    L->modules_off = off;
    off = lt_round_up(off + (uint64_t)LT_MODULES_CAP * sizeof(lt_module), LT_PAGE);
    L->index_off = off;
    off = lt_round_up(off + (uint64_t)L->traces_cap * 8, LT_PAGE);
    L->counters_off = off;
    off = lt_round_up(off + (uint64_t)L->traces_cap * sizeof(lt_counter), LT_PAGE);
    L->store_off = off;
    /* Room for every trace at up to 24 frames on average: deep stacks
     * share the budget with shallow ones. */
    uint32_t avg = L->frames_captured < 24 ? L->frames_captured : 24;
    L->store_size = (uint64_t)L->traces_cap * (sizeof(lt_trace_rec) + avg * 8);
    off = lt_round_up(off + L->store_size, LT_PAGE);
    L->ring_off = off;
    L->slot_size = lt_round_up(sizeof(lt_slot) + (uint64_t)L->traces_cap * sizeof(lt_counter), LT_PAGE);
    off += L->slot_size * LT_RING_SLOTS;
    L->tslots_off = off;
    L->tslot_size = lt_round_up(sizeof(lt_tslot) + (uint64_t)LT_TSLOT_ENTRIES * sizeof(lt_tslot_entry), LT_PAGE);
    L->total = off + L->tslot_size * LT_TSLOTS;
}

static int lt_shm_create(const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Our pid's name: a stale segment of a dead process that had this
         * pid, or of this process before an exec. Nobody else owns it. */
        shm_unlink(name);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    return fd;
}

static void lt_header_fill(lt_shm_header *h, const lt_layout *L)
{
    h->version = LT_SHM_VERSION;
    h->header_size = sizeof(lt_shm_header);
    h->segment_size = L->total;
    h->writer_pid = getpid();
    h->frames_limit = L->frames_limit;
    h->frames_captured = L->frames_captured;
    h->traces_cap = L->traces_cap;
    h->start_realtime_ns = lt_realtime_ns();
    h->start_mono_ns = lt_now_ns();
    h->modules_off = L->modules_off;
    h->modules_cap = LT_MODULES_CAP;
    h->ring_slots = LT_RING_SLOTS;
    h->index_off = L->index_off;
    h->counters_off = L->counters_off;
    h->store_off = L->store_off;
    h->store_size = L->store_size;
    h->ring_off = L->ring_off;
    h->ring_slot_size = L->slot_size;
    h->tslots_off = L->tslots_off;
    h->tslots = LT_TSLOTS;
    h->tslot_entries = LT_TSLOT_ENTRIES;
    h->tslot_size = L->tslot_size;
    h->state = LT_STATE_RUNNING;
    h->heartbeat_ns = (uint64_t)h->start_mono_ns;
    /* Trace 0 (unknown stack) is a record with no frames at store offset 0. */
    h->store_used = sizeof(lt_trace_rec);
    h->ntraces = 1;
}

static bool lt_segment_open(void)
{
    lt_layout L;
    lt_layout_plan(&L);
    char name[32] = "/leaktop-";
    lt_fmt_u(name + strlen(name), (unsigned long)getpid());
    int fd = lt_shm_create(name);
    if (fd < 0)
        return false;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)L.total) == 0)
        p = mmap(NULL, L.total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        shm_unlink(name);
        return false;
    }
    lt_shm_header *h = p;
    lt_header_fill(h, &L);
    lt_g.hdr = h;
    lt_g.seg_size = L.total;
    lt_g.index = (uint64_t *)((uint8_t *)h + L.index_off);
    lt_g.counters = (lt_counter *)((uint8_t *)h + L.counters_off);
    lt_g.store = (uint8_t *)h + L.store_off;
    lt_g.index[LT_TRACE_UNKNOWN] = 1;  /* published: offset 0 + 1 */
    lt_g.frames_captured = L.frames_captured;
    return true;
}

static bool lt_dedupe_open(void)
{
    uint64_t cap = 1;
    while (cap < (uint64_t)lt_g.hdr->traces_cap * 2)
        cap <<= 1;
    lt_g.hash = lt_map(cap * sizeof(uint64_t));
    lt_g.hash_mask = cap - 1;
    return lt_g.hash != NULL;
}

/* The launcher sets LEAKTOP_PID to the pid it started: another process
 * that inherited LD_PRELOAD stays dormant. */
static bool lt_is_target(void)
{
    const char *v = getenv("LEAKTOP_PID");
    return !v || !*v || strtol(v, NULL, 10) == (long)getpid();
}

bool lt_init(void)
{
    int expect = LT_UNINIT;
    if (!__atomic_compare_exchange_n(&lt_g.status, &expect, LT_BUSY_INIT, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expect == LT_READY;  /* another thread is setting up: skip this call */
    bool ok = lt_is_target() && lt_segment_open() && lt_dedupe_open() && lt_blocks_init() &&
              lt_counters_init() && lt_unwind_init();
    if (ok) {
        lt_modules_scan(0);
        lt_unpreload_children();
        pthread_atfork(NULL, NULL, lt_atfork_child);
        __atomic_store_n(&lt_g.hdr->magic, LT_SHM_MAGIC, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&lt_g.status, ok ? LT_READY : LT_OFF, __ATOMIC_RELEASE);
    return ok;
}

/* A program that never allocates still gets a segment, so `attach` works.
 * From here on libc is fully initialised: the fast unwinder may ask it for
 * thread stack bounds. */
__attribute__((constructor)) static void lt_constructor(void)
{
    lt_start();
    __atomic_store_n(&lt_g.constructed, 1, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void lt_destructor(void)
{
    if (!lt_tracing())  /* a raw clone's copy must not mark its parent's segment */
        return;
    __atomic_store_n(&lt_g.hdr->state, LT_STATE_EXITING, __ATOMIC_RELEASE);
    lt_unwind_report();
    __atomic_store_n(&lt_g.hdr->heartbeat_ns, (uint64_t)lt_now_ns(), __ATOMIC_RELAXED);
}
