/* segment.c: the tracer's set-up and the shared-memory segment: its name,
 * its layout, committing its pages as it grows, the module table, and
 * snapshots into the ring (marks, and the requests of frontends).
 * Runs at the first allocation call, possibly before any constructor. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lt_internal.h"

lt_globals lt_g = {.seg_fd = -1};

#define LT_MODULES_CAP      1024u
#define LT_TSLOTS           256u      /* threads with their own counter slot */
#define LT_TSLOT_ENTRIES    1024u     /* distinct (trace, epoch) keys a thread slot holds */
#define LT_PAIRS_CAP        65536u    /* shared (trace, epoch) counters: 1.5 MiB, committed
                                         at first use */
#define LT_BIRTHS_STEP      1024u     /* birth parts committed at once in a ring slot */
#define LT_PAGE             4096u
/* Growth steps: each costs one system call, and /dev/shm space. */
#define LT_TRACE_STEP       4096u     /* trace ids (index and counter pages) */
#define LT_STORE_STEP       (256u << 10)
#define LT_MODULE_STEP      32u

void leaktop_mark_impl(const char *label, uint32_t reason) LT_HIDDEN;

/* ---- committing pages ------------------------------------------------------ */

/* fallocate through the descriptor kept for it, if it is still ours: the
 * program may have closed it (daemons close every descriptor) and reused
 * the number for its own file. 1 committed, 0 no room, -1 not ours. */
static int lt_commit_fallocate(int fd, uint64_t off, uint64_t len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != lt_g.seg_dev || (uint64_t)st.st_ino != lt_g.seg_ino)
        return -1;
    return fallocate(fd, 0, (off_t)off, (off_t)len) == 0;
}

/* Gives memory to segment bytes [off, off + len) without touching them: on
 * a full /dev/shm a touch is a SIGBUS in the program, this is an error.
 * MADV_POPULATE_WRITE (Linux 5.14) needs no descriptor; what it populated
 * before failing is given back, so a full /dev/shm is not left fuller.
 * With LEAKTOP_COMMIT=fallocate, a descriptor the program closed is never
 * used again: populate takes over, and if it cannot (an old kernel), the
 * reason traces are dropped says so (LT_FULL_NOFD). */
static bool lt_seg_commit(uint64_t off, uint64_t len)
{
    uint64_t lo = off / LT_PAGE * LT_PAGE, hi = lt_round_up(off + len, LT_PAGE);
    if (len == 0)
        return true;
    if (hi > lt_g.seg_size)
        return false;
    int saved = errno;
    int fd = __atomic_load_n(&lt_g.seg_fd, __ATOMIC_RELAXED);
    uint8_t *p = (uint8_t *)lt_g.hdr + lo;
    bool can_fd = fd >= 0 && lt_seccomp_allows(SYS_newfstatat, (uint64_t)fd, 0, 0, AT_EMPTY_PATH, 0, 0) &&
                  lt_seccomp_allows(SYS_fallocate, (uint64_t)fd, 0, lo, hi - lo, 0, 0);
    if (!can_fd && !lt_seccomp_allows(SYS_madvise, (uintptr_t)p, hi - lo, MADV_POPULATE_WRITE, 0, 0, 0)) {
        __atomic_or_fetch(&lt_g.hdr->full_flags, LT_FULL_SECCOMP, __ATOMIC_RELEASE);
        errno = saved;
        return false;
    }
    int r = can_fd ? lt_commit_fallocate(fd, lo, hi - lo) : -1;
    if (r < 0 && can_fd) {
        __atomic_store_n(&lt_g.seg_fd, -1, __ATOMIC_RELAXED);   /* not closed: the number is the program's now */
        __atomic_store_n(&lt_g.seg_fd_lost, 1, __ATOMIC_RELAXED);
    }
    if (r < 0) {
        r = lt_advise(p, hi - lo, MADV_POPULATE_WRITE) == 0;
        if (!r)
            lt_advise(p, hi - lo, MADV_REMOVE);
        if (!r && __atomic_load_n(&lt_g.seg_fd_lost, __ATOMIC_RELAXED))
            __atomic_or_fetch(&lt_g.hdr->full_flags, LT_FULL_NOFD, __ATOMIC_RELEASE);
    }
    errno = saved;
    return r > 0;
}

bool lt_seg_commit_range(uint64_t off, uint64_t len)
{
    return lt_seg_commit(off, len);
}

static bool lt_seg_full(uint32_t why)
{
    __atomic_fetch_or(&lt_g.hdr->full_flags, why, __ATOMIC_RELAXED);
    return false;
}

/* Index and counter pages for ids up to `id`, in steps. */
static bool lt_seg_grow_traces(uint32_t id)
{
    lt_shm_header *h = lt_g.hdr;
    if (LT_LIKELY(id < __atomic_load_n(&h->traces_committed, __ATOMIC_ACQUIRE)))
        return true;
    lt_spin_lock(&lt_g.traces_lock);
    uint32_t have = h->traces_committed;
    bool ok = true;
    if (id >= have) {
        uint64_t want = lt_round_up((uint64_t)id + 1, LT_TRACE_STEP);
        if (want > h->traces_cap)
            want = h->traces_cap;
        ok = lt_seg_commit(h->index_off + (uint64_t)have * 8, (want - have) * 8) &&
             lt_seg_commit(h->counters_off + (uint64_t)have * sizeof(lt_counter), (want - have) * sizeof(lt_counter));
        if (ok)
            __atomic_store_n(&h->traces_committed, (uint32_t)want, __ATOMIC_RELEASE);
    }
    lt_spin_unlock(&lt_g.traces_lock);
    return ok;
}

static bool lt_seg_grow_store(uint64_t end)
{
    lt_shm_header *h = lt_g.hdr;
    if (LT_LIKELY(end <= __atomic_load_n(&lt_g.store_committed, __ATOMIC_ACQUIRE)))
        return true;
    lt_spin_lock(&lt_g.store_lock);
    uint64_t have = lt_g.store_committed;
    bool ok = true;
    if (end > have) {
        uint64_t want = lt_round_up(end, LT_STORE_STEP);
        if (want > h->store_size)
            want = h->store_size;
        ok = lt_seg_commit(h->store_off + have, want - have);
        if (ok)
            __atomic_store_n(&lt_g.store_committed, want, __ATOMIC_RELEASE);
    }
    lt_spin_unlock(&lt_g.store_lock);
    return ok;
}

bool lt_seg_claim_trace(uint64_t bytes, uint64_t *off_out, uint32_t *id_out)
{
    lt_shm_header *h = lt_g.hdr;
    /* Sticky: once full, every new stack goes to <unknown> without using
     * up ids or store (ntraces could otherwise wrap in a long run). */
    if (LT_UNLIKELY(__atomic_load_n(&h->full_flags, __ATOMIC_RELAXED)))
        return false;
    uint64_t off = __atomic_fetch_add(&h->store_used, bytes, __ATOMIC_RELAXED);
    if (off + bytes > h->store_size)
        return lt_seg_full(LT_FULL_STORE);
    uint32_t id = __atomic_fetch_add(&h->ntraces, 1, __ATOMIC_RELAXED);
    if (id >= h->traces_cap)
        return lt_seg_full(LT_FULL_TRACES);
    if (!lt_seg_grow_store(off + bytes) || !lt_seg_grow_traces(id))
        return lt_seg_full(LT_FULL_SPACE);
    *off_out = off;
    *id_out = id;
    return true;
}

bool lt_seg_reserve_tslot(uint32_t i)
{
    lt_shm_header *h = lt_g.hdr;
    if (LT_LIKELY(i < __atomic_load_n(&lt_g.tslots_committed, __ATOMIC_ACQUIRE)))
        return true;
    lt_spin_lock(&lt_g.tslots_lock);
    uint32_t have = lt_g.tslots_committed;
    bool ok = i < have || lt_seg_commit(h->tslots_off + have * h->tslot_size, (i + 1 - have) * h->tslot_size);
    if (ok && i >= have)
        __atomic_store_n(&lt_g.tslots_committed, i + 1, __ATOMIC_RELEASE);
    lt_spin_unlock(&lt_g.tslots_lock);
    if (!ok)
        lt_seg_full(LT_FULL_SPACE);
    return ok;
}

/* Module entry i (under module_lock). */
static bool lt_seg_grow_modules(uint32_t i)
{
    lt_shm_header *h = lt_g.hdr;
    if (i < lt_g.modules_committed)
        return true;
    uint32_t want = (uint32_t)lt_round_up(i + 1, LT_MODULE_STEP);
    if (want > h->modules_cap)
        want = h->modules_cap;
    uint32_t have = lt_g.modules_committed;
    bool ok = lt_seg_commit(h->modules_off + (uint64_t)have * sizeof(lt_module),
                            (uint64_t)(want - have) * sizeof(lt_module));
    if (ok)
        lt_g.modules_committed = want;
    return ok;
}

/* Ring slot k with room for n counters (under mark_lock). */
static bool lt_seg_grow_slot(uint32_t k, uint32_t n)
{
    lt_shm_header *h = lt_g.hdr;
    if (n <= lt_g.ring_committed[k] && lt_g.ring_committed[k])
        return true;
    uint64_t slot = h->ring_off + (uint64_t)k * h->ring_slot_size;
    bool ok = lt_seg_commit(slot, sizeof(lt_slot) + (uint64_t)n * sizeof(lt_counter));
    if (ok)
        lt_g.ring_committed[k] = n ? n : 1;
    return ok;
}

/* Ring slot k's birth area with room for n parts (under mark_lock). */
static bool lt_seg_grow_births(uint32_t k, uint32_t n)
{
    lt_shm_header *h = lt_g.hdr;
    if (n <= lt_g.births_committed[k])
        return true;
    if (n > h->ring_births_cap)
        return false;
    uint32_t want = (uint32_t)lt_round_up(n, LT_BIRTHS_STEP);
    if (want > h->ring_births_cap)
        want = h->ring_births_cap;
    uint64_t area = h->ring_off + (uint64_t)k * h->ring_slot_size + h->ring_births_off;
    if (!lt_seg_commit(area, (uint64_t)want * sizeof(lt_tslot_entry)))
        return false;
    lt_g.births_committed[k] = want;
    return true;
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
    if (h->nmodules >= h->modules_cap || !lt_seg_grow_modules(h->nmodules))
        return 0;  /* no room: its frames show as unknown addresses */
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

/* Trace ids whose counters a snapshot may read: allocated and committed. */
static uint32_t lt_traces_readable(void)
{
    lt_shm_header *h = lt_g.hdr;
    uint32_t n = __atomic_load_n(&h->ntraces, __ATOMIC_ACQUIRE);
    uint32_t c = __atomic_load_n(&h->traces_committed, __ATOMIC_ACQUIRE);
    if (n > c)
        n = c;
    return n > h->traces_cap ? h->traces_cap : n;
}

/* One pass over the live parts for a mark: every part adds to its trace's
 * total in the slot, and those of epochs >= 1 are also copied as births,
 * their area committed a step at a time as it fills. */
typedef struct lt_mark_parts {
    lt_counter     *counters;
    uint32_t        n;          /* traces in the slot */
    lt_tslot_entry *births;
    uint32_t        k, nbirths;
    bool            over;       /* births that did not fit: not known */
} lt_mark_parts;

static void lt_mark_part(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count)
{
    lt_mark_parts *m = ctx;
    lt_totals_add(&(lt_totals_ctx){m->counters, m->n}, id, epoch, size, count);
    if (epoch == 0 || m->over)
        return;
    if (m->nbirths >= lt_g.births_committed[m->k] && !lt_seg_grow_births(m->k, m->nbirths + 1)) {
        m->over = true;   /* past ring_births_cap, or no room in /dev/shm */
        return;
    }
    m->births[m->nbirths++] = (lt_tslot_entry){.id_plus1 = id + 1, .epoch = epoch, .size = size, .count = count};
}

/* Seqlock writer: seq odd, copy, seq even. The writer never waits for a
 * reader; a reader that sees seq change under it retries or skips.
 * The mark then starts a new birth epoch: it is a baseline that blocks
 * born after it can be told from (lt_shm.h). Returns the snapshot number,
 * or 0 when /dev/shm had no room for the slot (counted in marks_dropped;
 * no epoch either). */
static uint64_t lt_mark_write(const char *label, uint32_t reason)
{
    lt_shm_header *h = lt_g.hdr;
    lt_spin_lock(&lt_g.mark_lock);
    uint64_t head = __atomic_load_n(&h->ring_head, __ATOMIC_RELAXED);
    uint32_t n = lt_traces_readable();
    uint32_t k = (uint32_t)(head % h->ring_slots);
    if (!lt_seg_grow_slot(k, n)) {
        __atomic_fetch_add(&h->marks_dropped, 1, __ATOMIC_RELAXED);
        lt_seg_full(LT_FULL_SPACE);
        lt_spin_unlock(&lt_g.mark_lock);
        return 0;
    }
    lt_slot *s = lt_slot_at(head);
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    lt_live_view v;
    lt_live_now(&v);
    lt_shared_read(&v, s->counters, n);
    lt_mark_parts m = {.counters = s->counters, .n = n, .k = k,
                       .births = (lt_tslot_entry *)((uint8_t *)s + h->ring_births_off)};
    lt_parts_each(&v, lt_mark_part, &m);
    s->nbirths = m.over ? LT_BIRTHS_UNKNOWN : m.nbirths;
    s->epoch = lt_epoch_bump(&h->epoch);
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
    return head + 1;
}

void leaktop_mark_impl(const char *label, uint32_t reason)
{
    lt_mark_write(label, reason);
}

/* A frontend claimed a request and did not publish it: killed in between.
 * After a second, the request is skipped so later ones are not held up
 * (and hook calls stop looking at it). */
static bool lt_request_abandoned(void)
{
    int64_t now = lt_now_ns();
    if (!lt_g.stalled_since_ns)
        lt_g.stalled_since_ns = now;
    return now - lt_g.stalled_since_ns > 1000000000;
}

/* Takes every published request, in order, each its own snapshot with its
 * own label. Called from the hook path when mark_req moved (hooks.c); one
 * thread at a time, the others go on (the servicing one sees any request
 * published meanwhile, or the next hook call does). */
void lt_service_requests(void)
{
    lt_shm_header *h = lt_g.hdr;
    if (!lt_spin_trylock(&lt_g.service_lock))
        return;
    /* A detach takes what was published and waits for nothing more. */
    bool detach = lt_g.attach_mode && __atomic_load_n(&h->detach_req, __ATOMIC_ACQUIRE);
    uint64_t done = __atomic_load_n(&h->mark_done, __ATOMIC_RELAXED);
    while (done != __atomic_load_n(&h->mark_req, __ATOMIC_ACQUIRE)) {
        lt_mark_req *q = &h->mark_queue[done % LT_MARK_QUEUE];
        uint64_t snap_no = 0;
        if (__atomic_load_n(&q->seq, __ATOMIC_ACQUIRE) == done + 1) {
            char label[LT_LABEL_MAX];
            memcpy(label, q->label, LT_LABEL_MAX);
            label[LT_LABEL_MAX - 1] = 0;
            snap_no = lt_mark_write(label, LT_SNAP_REQUESTED);
        } else if (detach) {
            break;
        } else if (!lt_request_abandoned()) {
            break;  /* claimed, label not yet written: a later call takes it */
        }
        lt_g.stalled_since_ns = 0;
        __atomic_store_n(&q->snap_no, snap_no, __ATOMIC_RELAXED);
        __atomic_store_n(&h->mark_done, ++done, __ATOMIC_RELEASE);
    }
    lt_spin_unlock(&lt_g.service_lock);
    /* Read again: this call may have begun before the request (another
     * mark, or a look at the previous period's header) and then taken the
     * detach's mark request in the loop; detach_req is stored before that
     * request is published, so it shows now. */
    if (detach || (lt_g.attach_mode && __atomic_load_n(&h->detach_req, __ATOMIC_ACQUIRE)))
        lt_detach();
}

/* ---- the segment -------------------------------------------------------------- */

typedef struct lt_layout {
    uint32_t frames_limit, frames_captured, traces_cap, traces_asked;
    uint64_t modules_off, index_off, counters_off, store_off, store_size;
    uint64_t ring_off, slot_size, tslots_off, tslot_size, pairs_off, total;
    uint64_t births_off;
    uint32_t births_cap;
    uint32_t traces_bound;  /* LT_BOUND_*: what lowered traces_cap, if anything did */
} lt_layout;

/* Room for every trace at up to 24 frames on average: deep stacks share
 * the budget with shallow ones. */
static uint64_t lt_store_per_trace(uint32_t frames_captured)
{
    return sizeof(lt_trace_rec) + (frames_captured < 24 ? frames_captured : 24) * 8;
}

/* Birth parts a ring slot holds: one per two traces (a trace's live
 * blocks are born in few epochs; past that, a mark's retained figures are
 * "not known", never approximate). */
static uint32_t lt_births_cap(uint32_t traces_cap)
{
    return traces_cap / 2;
}

/* The trace capacity asked for, or less when the file system has not that
 * much room: bytes per trace in every region (index, counter, record, one
 * counter per ring slot) against what is free beside the fixed regions.
 * The ring slots' birth areas and the pair table are left out: only marks
 * and full thread slots use them, each committed when needed, and where
 * that finds no room the retained figures say "not known".
 * Pages are still committed as they are needed: other programs may fill
 * /dev/shm meanwhile, and then new stacks go to <unknown>. */
static uint32_t lt_traces_fitting(uint64_t asked, uint64_t free_bytes, uint64_t fixed, uint32_t frames_captured)
{
    uint64_t per = 8 + sizeof(lt_counter) + lt_store_per_trace(frames_captured) +
                   (uint64_t)LT_RING_SLOTS * sizeof(lt_counter);
    uint64_t fit = free_bytes > fixed ? (free_bytes - fixed) / per : 0;
    if (fit < 1024)
        fit = 1024;  /* pages are committed as needed: this still fails cleanly */
    return (uint32_t)(asked < fit ? asked : fit);
}

/* Every region's place for L->traces_cap traces, and the total size. */
/* Where the regions sized by the trace capacity begin: after the header
 * and the module table, which do not depend on it. */
static uint64_t lt_layout_head(void)
{
    return lt_round_up(sizeof(lt_shm_header), LT_PAGE) +
           lt_round_up((uint64_t)LT_MODULES_CAP * sizeof(lt_module), LT_PAGE);
}

static void lt_layout_place(lt_layout *L)
{
    L->modules_off = lt_round_up(sizeof(lt_shm_header), LT_PAGE);
    uint64_t off = lt_layout_head();
    L->index_off = off;
    off = lt_round_up(off + (uint64_t)L->traces_cap * 8, LT_PAGE);
    L->counters_off = off;
    off = lt_round_up(off + (uint64_t)L->traces_cap * sizeof(lt_counter), LT_PAGE);
    L->store_off = off;
    L->store_size = (uint64_t)L->traces_cap * lt_store_per_trace(L->frames_captured);
    off = lt_round_up(off + L->store_size, LT_PAGE);
    L->ring_off = off;
    L->births_cap = lt_births_cap(L->traces_cap);
    L->births_off = sizeof(lt_slot) + (uint64_t)L->traces_cap * sizeof(lt_counter);
    L->slot_size = lt_round_up(L->births_off + (uint64_t)L->births_cap * sizeof(lt_tslot_entry), LT_PAGE);
    off += L->slot_size * LT_RING_SLOTS;
    L->tslots_off = off;
    off += L->tslot_size * LT_TSLOTS;
    L->pairs_off = off;
    L->total = off + (uint64_t)LT_PAIRS_CAP * (sizeof(lt_pair) + sizeof(uint32_t));
}

/* The user's limit that bounds the segment, when one does: under
 * `ulimit -v` the whole mapping takes at most a sixteenth of the address
 * space (the live-block shadow as much again, blocks.c), so the program
 * keeps nearly all the room it has without the tracer; and the file may
 * not grow past `ulimit -f` (an ftruncate past it is SIGXFSZ, whose
 * default action kills the program). */
typedef struct lt_bound {
    uint64_t room;   /* bytes the segment may map; UINT64_MAX: no bound */
    uint64_t limit;  /* the limit itself, to say */
    uint32_t kind;   /* LT_BOUND_AS (room a share of it) or LT_BOUND_FSIZE (room a wall) */
} lt_bound;

static lt_bound lt_segment_bound(void)
{
    lt_bound b = {UINT64_MAX, 0, LT_BOUND_SHM};
    uint64_t as = lt_address_limit(), fsize = lt_file_size_limit();
    if (as)
        b = (lt_bound){as / 16, as, LT_BOUND_AS};
    if (fsize && fsize < b.room)
        b = (lt_bound){fsize, fsize, LT_BOUND_FSIZE};
    return b;
}

/* The layout for the traces asked, or fewer: as many as /dev/shm's free
 * bytes hold (lt_traces_fitting), and as many as a segment of at most
 * `map_room` bytes holds (lt_segment_bound: a share of `ulimit -v`, where
 * all of it counts, committed or not, or `ulimit -f`), but never fewer
 * than 1024. */
static void lt_layout_plan(lt_layout *L, uint64_t free_bytes, const lt_bound *b)
{
    uint64_t map_room = b->room;
    L->frames_limit = (uint32_t)lt_option(LT_OPT_FRAMES);
    L->frames_captured = L->frames_limit + LT_WRAPPER_SLACK;
    L->traces_asked = (uint32_t)lt_option(LT_OPT_MAX_TRACES);
    L->tslot_size = lt_round_up(sizeof(lt_tslot) + (uint64_t)LT_TSLOT_ENTRIES * sizeof(lt_tslot_entry) +
                                LT_TSLOT_FILTER_BYTES, LT_PAGE);
    uint64_t fixed = lt_layout_head() + L->tslot_size * LT_TSLOTS;
    L->traces_cap = lt_traces_fitting(L->traces_asked, free_bytes, fixed, L->frames_captured);
    L->traces_bound = LT_BOUND_SHM;
    lt_layout_place(L);
    if (L->total <= map_room)
        return;
    L->traces_bound = b->kind;
    uint32_t lo = 1024, hi = L->traces_cap;  /* the most that fits: in [lo, hi) */
    while (hi - lo > 1) {
        L->traces_cap = lo + (hi - lo) / 2;
        lt_layout_place(L);
        if (L->total <= map_room)
            lo = L->traces_cap;
        else
            hi = L->traces_cap;
    }
    L->traces_cap = lo;
    lt_layout_place(L);
}

/* "leaktop-<uid>-<pid>-" into p; returns the end. */
static char *lt_seg_prefix(char *p)
{
    memcpy(p, LT_SHM_PREFIX, sizeof(LT_SHM_PREFIX) - 1);
    p = lt_fmt_u(p + sizeof(LT_SHM_PREFIX) - 1, (unsigned long)geteuid());
    *p++ = '-';
    p = lt_fmt_u(p, (unsigned long)getpid());
    *p++ = '-';
    *p = 0;
    return p;
}

/* A new name nobody can guess: another user cannot create it first (the
 * old "/leaktop-<pid>" could be planted to turn tracing off). */
static int lt_shm_create(void)
{
    for (int tries = 0; tries < 8; tries++) {
        lt_g.seg_name[0] = '/';
        lt_fmt_hex(lt_seg_prefix(lt_g.seg_name + 1), lt_random_u64(), LT_SHM_RANDOM_HEX);
        int fd = shm_open(lt_g.seg_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Segments of this pid's earlier images (it exec'd) or of a dead process
 * that had this pid: nobody can follow them any more. Read with getdents64
 * into a stack buffer: no allocation. */
struct lt_dirent64 {
    uint64_t       d_ino;
    int64_t        d_off;
    unsigned short d_reclen;
    unsigned char  d_type;
    char           d_name[];
};

static void lt_seg_clean_previous(void)
{
    char prefix[64];
    size_t plen = (size_t)(lt_seg_prefix(prefix) - prefix);
    int dfd = open(LT_SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    _Alignas(8) char buf[4096];
    long n;
    while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
        for (long at = 0; at < n;) {
            const struct lt_dirent64 *d = (const struct lt_dirent64 *)(buf + at);
            at += d->d_reclen;
            struct stat st;
            if (strncmp(d->d_name, prefix, plen) != 0 || strcmp(d->d_name, lt_g.seg_name + 1) == 0 ||
                fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
                st.st_uid != geteuid())
                continue;
            unlinkat(dfd, d->d_name, 0);
        }
    }
    close(dfd);
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
    h->traces_asked = L->traces_asked;
    h->traces_bound = L->traces_bound;
    h->start_realtime_ns = lt_realtime_ns();
    h->start_mono_ns = lt_now_ns();
    h->sample_bytes = (uint64_t)lt_option(LT_OPT_SAMPLE);
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
    h->pairs_off = L->pairs_off;
    h->pairs_cap = LT_PAIRS_CAP;
    h->ring_births_cap = L->births_cap;
    h->ring_births_off = L->births_off;
    h->state = LT_STATE_RUNNING;
    h->heartbeat_ns = (uint64_t)h->start_mono_ns;
    /* Trace 0 (unknown stack) is a record with no frames at store offset 0. */
    h->store_used = sizeof(lt_trace_rec);
    h->ntraces = 1;
}

/* How pages get memory: MADV_POPULATE_WRITE unless told otherwise or the
 * kernel predates it (EINVAL); fallocate keeps the descriptor open. */
static bool lt_commit_mode(int fd)
{
    bool populate = lt_option(LT_OPT_COMMIT) == LT_COMMIT_POPULATE;
    if (populate && lt_advise(lt_g.hdr, LT_PAGE, MADV_POPULATE_WRITE) == 0)
        return true;
    if (populate && errno != EINVAL)
        return false;  /* no room for the header page itself */
    struct stat st;
    lt_g.seg_fd = fcntl(fd, F_DUPFD_CLOEXEC, 64);  /* away from the numbers programs expect */
    if (lt_g.seg_fd < 0 || fstat(lt_g.seg_fd, &st) != 0)
        return false;
    lt_g.seg_dev = (uint64_t)st.st_dev;
    lt_g.seg_ino = (uint64_t)st.st_ino;
    return lt_seg_commit(0, LT_PAGE);
}

/* The header and the first step of every growing region (trace 0, the
 * "unknown stack", lives there). */
static bool lt_segment_commit_first(const lt_layout *L)
{
    if (!lt_seg_commit(0, lt_round_up(sizeof(lt_shm_header), LT_PAGE)))
        return false;
    lt_header_fill(lt_g.hdr, L);
    return lt_seg_grow_traces(0) && lt_seg_grow_store(sizeof(lt_trace_rec)) && lt_seg_grow_modules(0);
}

static const char *lt_errno_text(int e)
{
    switch (e) {
    case EACCES: return "permission denied";
    case ENOSPC: return "no space left";
    case ENOENT: return "no such directory";
    case EMFILE: case ENFILE: return "too many open files";
    case ENOMEM: return "out of memory";
    case EROFS: return "read-only file system";
    default: return "cannot create it";
    }
}

static bool lt_segment_fail(int fd, const char *why)
{
    int saved = errno;  /* leaktop_attach returns it */
    if (lt_g.hdr)
        munmap(lt_g.hdr, lt_g.seg_size);
    lt_g.hdr = NULL;
    if (lt_g.seg_fd >= 0)
        close(lt_g.seg_fd);
    lt_g.seg_fd = -1;
    if (fd >= 0) {
        close(fd);
        shm_unlink(lt_g.seg_name);
    }
    lt_say("no shared-memory segment in " LT_SHM_DIR " (", why, "): tracing is off", NULL);
    errno = saved;
    return false;
}

static void lt_say_capacity(const lt_layout *L, uint64_t free_bytes)
{
    if (L->traces_cap >= L->traces_asked || !lt_option_given(LT_OPT_MAX_TRACES))
        return;
    char asked[24], mib[24], cap[24];
    lt_fmt_u(asked, L->traces_asked);
    lt_fmt_u(mib, (unsigned long)(free_bytes >> 20));
    lt_fmt_u(cap, L->traces_cap);
    lt_say("LEAKTOP_MAX_TRACES=", asked, ": " LT_SHM_DIR " has ", mib, " MiB free: keeping at most ", cap,
           " traces", NULL);
}

/* Said once at start: the limit is the user's, and the figures it costs
 * (stacks charged to <unknown> once the table is full) are said at exit. */
static void lt_say_bound(const lt_layout *L, const lt_bound *b)
{
    if (L->traces_bound == LT_BOUND_SHM)
        return;
    char mib[24], cap[24];
    lt_fmt_u(mib, (unsigned long)(b->limit >> 20));
    lt_fmt_u(cap, L->traces_cap);
    bool fsize = b->kind == LT_BOUND_FSIZE;
    lt_say(fsize ? "file size" : "address space", " limited to ", mib, " MiB (", fsize ? "ulimit -f" : "ulimit -v",
           "): keeping at most ", cap, " traces", NULL);
}

static bool lt_segment_open(void)
{
    /* A new tracing period (attach after detach) starts a new segment. */
    lt_g.store_committed = 0;
    lt_g.tslots_committed = 0;
    lt_g.modules_committed = 0;
    memset(lt_g.ring_committed, 0, sizeof(lt_g.ring_committed));
    lt_g.stalled_since_ns = 0;
    lt_g.seg_fd_lost = 0;
    int fd = lt_shm_create();
    if (fd < 0)
        return lt_segment_fail(-1, lt_errno_text(errno));
    struct statvfs vfs;
    uint64_t free_bytes = fstatvfs(fd, &vfs) == 0 ? (uint64_t)vfs.f_bavail * vfs.f_frsize : UINT64_MAX;
    lt_bound bound = lt_segment_bound();
    lt_layout L;
    lt_layout_plan(&L, free_bytes, &bound);
    if (bound.kind == LT_BOUND_FSIZE && L.total > bound.room)  /* a wall, not a share */
        return lt_segment_fail(fd, "ulimit -f is smaller than its smallest size");
    /* The size is fixed now; tmpfs keeps the file sparse until pages are
     * committed (lt_seg_commit), so this takes no room yet. */
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)L.total) == 0)
        p = mmap(NULL, L.total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED)
        return lt_segment_fail(fd, errno == ENOMEM && lt_address_limit() ? "no address space left under ulimit -v"
                                                                         : lt_errno_text(errno));
    lt_g.hdr = p;
    lt_g.seg_size = L.total;
    if (!lt_commit_mode(fd) || !lt_segment_commit_first(&L))
        return lt_segment_fail(fd, "no room for its first pages");
    close(fd);
    lt_say_capacity(&L, free_bytes);
    lt_say_bound(&L, &bound);
    lt_shm_header *h = p;
    lt_g.index = (uint64_t *)((uint8_t *)h + L.index_off);
    lt_g.counters = (lt_counter *)((uint8_t *)h + L.counters_off);
    lt_g.store = (uint8_t *)h + L.store_off;
    lt_g.index[LT_TRACE_UNKNOWN] = 1;  /* published: offset 0 + 1 */
    lt_g.frames_captured = L.frames_captured;
    lt_seg_clean_previous();
    return true;
}

/* The launcher sets LEAKTOP_PID to the pid it started: another process
 * that inherited LD_PRELOAD stays dormant (and quiet). */
static bool lt_is_target(void)
{
    long long pid = lt_option(LT_OPT_PID);
    lt_g.launcher = 0;
    if (pid == (long long)getpid() || lt_g.attach_mode)
        lt_g.launcher = (pid_t)lt_option(LT_OPT_LAUNCHER);
    return pid == 0 || pid == (long long)getpid();
}

bool lt_init(const char *config)
{
    int expect = config ? LT_DORMANT : LT_UNINIT;
    if (!__atomic_compare_exchange_n(&lt_g.status, &expect, LT_BUSY_INIT, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expect == LT_READY;  /* another thread is setting up: skip this call */
    lt_options_load(config);
    lt_sample_init();
    bool ok = lt_is_target();
    if (ok)
        lt_options_report();
    ok = ok && lt_segment_open() && lt_dedupe_open(lt_g.hdr->traces_cap) && lt_blocks_init() && lt_counters_init() &&
         lt_unwind_init();
    if (ok) {
        lt_modules_scan(0);
        lt_exec_init();
        lt_sample_start();
        if (config) {
            lt_g.hdr->attached = 1;
            lt_g.hdr->attach_mono_ns = lt_g.hdr->start_mono_ns;
        }
        __atomic_store_n(&lt_g.hdr->magic, LT_SHM_MAGIC, __ATOMIC_RELEASE);
    }
    /* A failed attach leaves the tracer ready for another try. */
    __atomic_store_n(&lt_g.status, ok ? LT_READY : config ? LT_DORMANT : LT_OFF, __ATOMIC_RELEASE);
    return ok;
}

/* A program that never allocates still gets a segment, so `attach` works.
 * From here on libc is fully initialised: the fast unwinder may ask it for
 * thread stack bounds. */
__attribute__((constructor)) static void lt_constructor(void)
{
    /* dlopen'ed into a running program (leaktop attach): change nothing
     * until leaktop_attach is called. */
    int expect = LT_UNINIT;
    if (__atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) == LT_UNINIT && lt_loaded_late() &&
        __atomic_compare_exchange_n(&lt_g.status, &expect, LT_DORMANT, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lt_g.attach_mode = 1;
        lt_say_mute();  /* its stderr is not the user's: the frontend says what matters */
    } else
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
    /* The frontend that launched us died (we were re-parented): nobody will
     * read the final state, so the name goes now rather than wait for the
     * next leaktop's stale-segment sweep. */
    if (lt_g.launcher && getppid() != lt_g.launcher)
        shm_unlink(lt_g.seg_name);
}
