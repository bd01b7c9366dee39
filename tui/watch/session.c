/* session.c: reading a traced process's segment. Every offset, length and
 * count read from shared memory is checked against the mapping before use:
 * the segment may be corrupt or hostile, and the frontend must not crash.
 * Traces are symbolized once, lazily, and cached by trace id. */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lt_shm.h"
#include "shmguard.h"
#include "sym.h"
#include "target.h"
#include "util.h"

#define SESSION_MAX_INLINE 64  /* frames one address may expand into */

/* A trace's symbolized frames: a range of the frame pool. */
typedef struct session_trace {
    uint32_t off, len;
    bool     resolved;
} session_trace;

/* Address -> expanded frame ids, shared by every trace through that address. */
typedef struct session_addr {
    uint64_t addr;       /* 0 = empty slot */
    uint32_t gen;
    uint32_t off, len;   /* range of the frame pool */
} session_addr;

struct session {
    pid_t           pid;
    char            dir[64];    /* where its segment is (session_find) */
    pid_t           own_pid;    /* its pid as it sees it: in the names and writer_pid */
    char            name[96];   /* "/leaktop-<uid>-<pid>-<random>" */
    ino_t           ino;        /* of the segment we mapped: an exec replaces it */
    int64_t         exec_gone_ns; /* when the exec'd image was first seen untraced */
    uint8_t        *base;
    size_t          size;
    lt_shm_header  *hdr;
    lt_shm_header   fixed;      /* static header fields, copied once after validation */
    sym_resolver   *sym;
    diff_loctab    *locs;
    const char *const *alloc_fns;
    size_t          nalloc_fns;
    bool            top_only;   /* session_config.top_frames_only */

    lt_module      *modules;    /* local copy of the module table */
    uint32_t        nmodules;
    uint64_t        modules_seq;

    session_trace  *traces;     /* by trace id, traces_cap entries */
    uint32_t       *pool;       /* frame ids */
    size_t          pool_len, pool_cap;
    uint32_t       *scratch;    /* one trace's frames while they are collected */
    size_t          scratch_len, scratch_cap;
    session_addr   *addrs;      /* open addressing */
    size_t          addrs_cap, addrs_used;
    /* An address whose module's debug file is still being fetched: its
     * frames are not kept (in addrs, nor the traces through it), so that
     * they are resolved again once the answer is in. */
    session_addr    pending_addr;
    bool            saw_pending;

    uint64_t        ring_next;  /* snap_no of the next ring snapshot to read */
    uint32_t        prefetched; /* trace ids below this were offered to session_prefetch */
};

/* ---- validation --------------------------------------------------------- */

static bool session_region_ok(const lt_shm_header *h, uint64_t off, uint64_t bytes)
{
    return off <= h->segment_size && bytes <= h->segment_size - off;
}

static const char *session_header_problem(const lt_shm_header *h, size_t mapped)
{
    if (h->version != LT_SHM_VERSION)
        return "unsupported segment layout version";
    if (h->header_size != sizeof(lt_shm_header) || h->segment_size != mapped)
        return "segment size does not match its header";
    if (h->traces_cap == 0 || h->traces_cap > (1u << 24) || h->modules_cap == 0 || h->modules_cap > 65536)
        return "segment capacities out of range";
    if (h->frames_limit == 0 || h->frames_captured > LT_FRAMES_MAX || h->ring_slots == 0 || h->ring_slots > 4096)
        return "segment limits out of range";
    if (h->sample_bytes > (1ULL << 40))
        return "sampling interval out of range";
    if (h->store_size < sizeof(lt_trace_rec))
        return "trace store too small";
    if (h->ring_slot_size < sizeof(lt_slot) + (uint64_t)h->traces_cap * sizeof(lt_counter))
        return "ring slots too small";
    if (h->ring_births_off < sizeof(lt_slot) + (uint64_t)h->traces_cap * sizeof(lt_counter) ||
        h->ring_births_off % 8 || h->ring_births_off > h->ring_slot_size ||
        (uint64_t)h->ring_births_cap * sizeof(lt_tslot_entry) > h->ring_slot_size - h->ring_births_off)
        return "ring slots' birth areas out of bounds";
    if (h->pairs_cap == 0 || h->pairs_cap > (1u << 24) || (h->pairs_cap & (h->pairs_cap - 1)) ||
        h->pairs_off % 8 ||
        !session_region_ok(h, h->pairs_off, (uint64_t)h->pairs_cap * (sizeof(lt_pair) + sizeof(uint32_t))))
        return "pair table out of bounds";
    if (!session_region_ok(h, h->modules_off, (uint64_t)h->modules_cap * sizeof(lt_module)) ||
        !session_region_ok(h, h->index_off, (uint64_t)h->traces_cap * 8) ||
        !session_region_ok(h, h->counters_off, (uint64_t)h->traces_cap * sizeof(lt_counter)) ||
        !session_region_ok(h, h->store_off, h->store_size) ||
        !session_region_ok(h, h->ring_off, h->ring_slot_size * h->ring_slots))
        return "segment regions out of bounds";
    if (h->tslots > 65536 || h->tslot_entries == 0 || h->tslot_entries > (1u << 20) ||
        (h->tslot_entries & (h->tslot_entries - 1)) ||
        h->tslot_size < sizeof(lt_tslot) + (uint64_t)h->tslot_entries * sizeof(lt_tslot_entry) ||
        !session_region_ok(h, h->tslots_off, h->tslot_size * h->tslots))
        return "thread slots out of range";
    if ((h->modules_off | h->index_off | h->counters_off | h->store_off | h->ring_off | h->ring_slot_size |
         h->tslots_off | h->tslot_size) % 8)
        return "segment regions misaligned";
    return NULL;
}

/* ---- finding the segment ------------------------------------------------ */

/* Whose segments of process pid we read: our own; as root, the process's
 * (its tracer creates them as its effective user: `sudo leaktop attach`
 * of a service's process). Only that user could have made such a file. */
static uid_t session_owner(pid_t pid)
{
    if (geteuid() != 0)
        return geteuid();
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    unsigned long real, eff;
    uid_t owner = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid: %lu %lu", &real, &eff) == 2) {
            owner = (uid_t)eff;
            break;
        }
    if (f)
        fclose(f);
    return owner;
}

/* Whether a segment of `uid` may be process pid's: its user's (`owner`),
 * or, read as root, root's: a service started as root that drops to
 * another user (setuid) after tracing started keeps the segment it made
 * as root, and only root can make a file root's. */
static bool session_uid_ok(uid_t uid, uid_t owner)
{
    return uid == owner || (uid == 0 && geteuid() == 0);
}

/* True when `st` may be read: a regular file of an accepted user that
 * nobody else can open (another user may create names in /dev/shm, never
 * make them that user's). */
static bool session_file_ok(const struct stat *st, uid_t owner)
{
    return S_ISREG(st->st_mode) && session_uid_ok(st->st_uid, owner) && !(st->st_mode & 077);
}

/* Parses "leaktop-<uid>-<pid>-<16 hex>"; false for any other name. */
static bool session_name_parse(const char *name, long *uid, long *pid)
{
    size_t plen = strlen(LT_SHM_PREFIX);
    if (strncmp(name, LT_SHM_PREFIX, plen) != 0)
        return false;
    char *end;
    errno = 0;
    *uid = strtol(name + plen, &end, 10);
    if (end == name + plen || *end != '-')
        return false;
    const char *p = end + 1;
    *pid = strtol(p, &end, 10);
    if (end == p || *end != '-' || errno)
        return false;
    p = end + 1;
    size_t n = strspn(p, "0123456789abcdef");
    return n == LT_SHM_RANDOM_HEX && p[n] == 0;
}

/* Where process pid's tracer may have put its segments, and the pid it
 * names them by. A process in another mount namespace (a container, a
 * systemd service with PrivateDevices= or PrivateTmp=) has its own
 * /dev/shm: /proc/PID/root/dev/shm from here (`theirs`, empty when that is
 * ours). A preloaded process that chroot()s after start keeps the segment
 * it made in ours, so both are searched. In another pid namespace it knows
 * itself by the last pid of its NSpid line. */
typedef struct session_place {
    char  theirs[64];
    pid_t own_pid;
} session_place;

static session_place session_place_of(pid_t pid)
{
    session_place pl = {"", pid};
    char path[64], line[256];
    struct stat theirs, ours;
    snprintf(path, sizeof(path), "/proc/%d/root" LT_SHM_DIR, (int)pid);
    if (stat(path, &theirs) == 0 && stat(LT_SHM_DIR, &ours) == 0 &&
        (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino))
        snprintf(pl.theirs, sizeof(pl.theirs), "%s", path);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "NSpid:", 6) != 0)
            continue;
        char *last = strrchr(line, '\t');
        long v = last ? strtol(last + 1, NULL, 10) : 0;
        if (v > 0)
            pl.own_pid = (pid_t)v;
        break;
    }
    if (f)
        fclose(f);
    return pl;
}

/* The newest segment found so far: its directory, name and ctime. */
typedef struct session_pick {
    int             found;  /* 1 found, 0 none, -1 only refused ones */
    struct timespec best;
    char           *name, *dir;
    size_t          len, dirlen;
} session_pick;

/* Looks through `dir` for pid's segments (see session_find). */
static void session_find_in(const char *dir, pid_t pid, pid_t own_pid, ino_t skip_ino, session_pick *pk)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    uid_t owner = session_owner(pid);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long uid, p;
        struct stat st;
        if (!session_name_parse(e->d_name, &uid, &p) || p != (long)own_pid || uid < 0 ||
            !session_uid_ok((uid_t)uid, owner) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino == skip_ino)
            continue;
        if (!session_file_ok(&st, owner) || st.st_uid != (uid_t)uid) {
            pk->found = pk->found ? pk->found : -1;
            continue;
        }
        if (pk->found == 1 && (st.st_ctim.tv_sec < pk->best.tv_sec ||
                               (st.st_ctim.tv_sec == pk->best.tv_sec && st.st_ctim.tv_nsec <= pk->best.tv_nsec)))
            continue;
        size_t n = strlen(e->d_name);
        if (n + 2 > pk->len || strlen(dir) + 1 > pk->dirlen)
            continue;
        pk->best = st.st_ctim;
        pk->found = 1;
        pk->name[0] = '/';
        memcpy(pk->name + 1, e->d_name, n + 1);
        snprintf(pk->dir, pk->dirlen, "%s", dir);
    }
    closedir(d);
}

/* The newest segment of process `pid` that is ours and private (an exec
 * makes a new one; the new image's tracer removes the old), in its
 * /dev/shm or ours, under the pid it knows itself by; `dir` gets where.
 * `skip_ino` ignores the one already mapped. Returns 1 found, 0 none, -1
 * only refused ones (another user's, or readable by others). */
static int session_find(pid_t pid, const session_place *pl, ino_t skip_ino, char *name, size_t len, char *dir,
                        size_t dirlen)
{
    session_pick pk = {0, {0, 0}, name, dir, len, dirlen};
    if (*pl->theirs)
        session_find_in(pl->theirs, pid, pl->own_pid, skip_ino, &pk);
    session_find_in(LT_SHM_DIR, pid, pl->own_pid, skip_ino, &pk);
    if (pk.found != 1)
        snprintf(dir, dirlen, "%s", *pl->theirs ? pl->theirs : LT_SHM_DIR);  /* for the message */
    return pk.found;
}

static int session_map(session *s, bool *missing, char *err, size_t errlen)
{
    session_place pl = session_place_of(s->pid);
    s->own_pid = pl.own_pid;
    int found = session_find(s->pid, &pl, 0, s->name, sizeof(s->name), s->dir, sizeof(s->dir));
    if (found <= 0) {
        /* Only refused ones: the real one may still come (a launcher waits),
         * and the message says what was refused if it never does. */
        *missing = true;
        snprintf(err, errlen, found == 0 ? "process %d is not traced by leaktop (no %s/%s%u-%d-*)"
                                         : "process %d: its segment %s/%s%u-%d-* is another user's or not "
                                           "private: refused",
                 (int)s->pid, s->dir, LT_SHM_PREFIX, (unsigned)session_owner(s->pid), (int)s->own_pid);
        return -1;
    }
    char path[sizeof(s->dir) + sizeof(s->name)];
    snprintf(path, sizeof(path), "%s%s", s->dir, s->name);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        *missing = errno == ENOENT;  /* removed meanwhile: an exec, or the end */
        snprintf(err, errlen, "%s%s: %s", s->dir, s->name, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !session_file_ok(&st, session_owner(s->pid))) {
        close(fd);
        snprintf(err, errlen, "%s%s: owned by another user or not private: refused", s->dir, s->name);
        return -1;
    }
    if ((size_t)st.st_size < sizeof(lt_shm_header)) {
        close(fd);
        *missing = true;  /* being created: ftruncate has not run yet */
        snprintf(err, errlen, "%s%s: segment not initialised", s->dir, s->name);
        return -1;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s%s: %s", s->dir, s->name, strerror(errno));
        return -1;
    }
    s->base = p;
    shmguard_add(p, (size_t)st.st_size);
    s->ino = st.st_ino;
    s->size = (size_t)st.st_size;
    s->hdr = p;
    return 0;
}

static int session_validate(session *s, bool *missing, char *err, size_t errlen)
{
    if (__atomic_load_n(&s->hdr->magic, __ATOMIC_ACQUIRE) != LT_SHM_MAGIC) {
        *missing = true;  /* the tracer stores the magic last */
        snprintf(err, errlen, "%s%s: not a leaktop segment (yet)", s->dir, s->name);
        return -1;
    }
    s->fixed = *s->hdr;
    const char *why = session_header_problem(&s->fixed, s->size);
    if (!why && s->fixed.writer_pid != s->own_pid)
        why = "written by another process than its name says";
    if (why) {
        snprintf(err, errlen, "%s%s: %s", s->dir, s->name, why);
        return -1;
    }
    return 0;
}

/* A process in another root (a container's, a chroot) names its modules
 * by paths there: the symbolizer reads them through /proc/PID/root. */
static void session_follow_root(session *s)
{
    char root[64];
    struct stat ours, theirs;
    snprintf(root, sizeof(root), "/proc/%d/root", (int)s->pid);
    if (stat("/", &ours) == 0 && stat(root, &theirs) == 0 &&
        (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino))
        sym_resolver_set_root(s->sym, root);
}

session *session_open(pid_t pid, const session_config *cfg, bool *missing, char *err, size_t errlen)
{
    *missing = false;
    session *s = xcalloc(1, sizeof(*s));
    s->pid = pid;
    if (session_map(s, missing, err, errlen) != 0 || session_validate(s, missing, err, errlen) != 0) {
        session_free(s);
        return NULL;
    }
    s->sym = sym_resolver_new(cfg ? cfg->debug_dirs : NULL, cfg ? cfg->ndebug_dirs : 0);
    sym_resolver_set_debuginfod(s->sym, cfg ? cfg->debuginfod_ms : 0, cfg && cfg->debuginfod_wait);
    session_follow_root(s);
    s->locs = diff_loctab_new();
    s->alloc_fns = cfg ? cfg->alloc_fns : NULL;
    s->top_only = cfg && cfg->top_frames_only;
    s->nalloc_fns = cfg ? cfg->nalloc_fns : 0;
    s->modules = xcalloc(s->fixed.modules_cap, sizeof(lt_module));
    s->traces = xcalloc(s->fixed.traces_cap, sizeof(session_trace));
    s->addrs_cap = 4096;
    s->addrs = xcalloc(s->addrs_cap, sizeof(session_addr));
    uint64_t head = __atomic_load_n(&s->hdr->ring_head, __ATOMIC_ACQUIRE);
    s->ring_next = head > s->fixed.ring_slots ? head - s->fixed.ring_slots + 1 : 1;
    return s;
}

void session_free(session *s)
{
    if (!s)
        return;
    if (s->base) {
        shmguard_remove(s->base);
        munmap(s->base, s->size);
    }
    if (s->sym)
        sym_resolver_free(s->sym);
    if (s->locs)
        diff_loctab_free(s->locs);
    free(s->modules);
    free(s->traces);
    free(s->pool);
    free(s->scratch);
    free(s->addrs);
    free(s);
}

/* The tracer announces an exec in the old segment before it happens; the
 * new image, when traced, makes its own. Only then is /dev/shm scanned. */
static bool session_exec_announced(const session *s)
{
    return __atomic_load_n(&s->hdr->exec_pending, __ATOMIC_ACQUIRE) != 0;
}

bool session_replaced(const session *s)
{
    char name[sizeof(s->name)];
    char dir[sizeof(s->dir)];
    session_place pl = session_place_of(s->pid);
    return session_exec_announced(s) && session_find(s->pid, &pl, s->ino, name, sizeof(name), dir, sizeof(dir)) == 1;
}

/* Only our own segment (the name still names the file we mapped). */
void session_unlink(session *s)
{
    struct stat st;
    char path[sizeof(s->dir) + sizeof(s->name)];
    snprintf(path, sizeof(path), "%s%s", s->dir, s->name);
    if (lstat(path, &st) == 0 && st.st_ino == s->ino)
        unlink(path);
}

/* Whether `pid` still maps a file whose path holds `name`: an exec drops
 * every mapping of the old image. */
static bool session_pid_maps(pid_t pid, const char *name)
{
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, name) != NULL;
    fclose(f);
    return found;
}

#define SESSION_EXEC_SETTLE_NS 1000000000LL

/* The exec completed into an image that made no segment: after a second
 * without one (a traced image makes it as it loads), or at once when the
 * process is gone (its last image ran untraced to the end). */
bool session_left_tracing(session *s, char *path, size_t len)
{
    if (!session_exec_announced(s) || session_replaced(s))
        return false;
    const char *name = s->name + 1;
    bool running = target_alive(s->pid);
    if (running && session_pid_maps(s->pid, name)) {
        s->exec_gone_ns = 0;   /* still the old image, inside execve */
        return false;
    }
    int64_t now = util_now_ns();
    if (running && !s->exec_gone_ns)
        s->exec_gone_ns = now;
    if (running && now - s->exec_gone_ns < SESSION_EXEC_SETTLE_NS)
        return false;
    char raw[LT_EXEC_PATH_MAX];
    memcpy(raw, (const char *)s->hdr->exec_path, sizeof(raw));
    raw[sizeof(raw) - 1] = 0;
    snprintf(path, len, "%s", raw);
    return true;
}

/* Why the trace table holds what it holds, after its size. */
static const char *session_cap_why(const lt_shm_header *h)
{
    if (h->traces_cap >= h->traces_asked)
        return ", LEAKTOP_MAX_TRACES";
    switch (h->traces_bound) {
    case LT_BOUND_AS:    return ": the program's share of its ulimit -v";
    case LT_BOUND_FSIZE: return ": all the program's ulimit -f allows";
    default:             return ": all " LT_SHM_DIR " had room for";
    }
}

void session_health_get(const session *s, session_health *out)
{
    const lt_shm_header *h = s->hdr;
    uint32_t full = __atomic_load_n(&h->full_flags, __ATOMIC_ACQUIRE);
    *out = (session_health){
        .traces_dropped = __atomic_load_n(&h->dropped_traces, __ATOMIC_ACQUIRE),
        .marks_dropped = __atomic_load_n(&h->marks_dropped, __ATOMIC_ACQUIRE),
        .traces_cap = s->fixed.traces_cap,
        .traces_asked = s->fixed.traces_asked,
        .fetching = sym_resolver_fetching(s->sym),
    };
    if (full & LT_FULL_SECCOMP)
        snprintf(out->full_why, sizeof(out->full_why), "the program's seccomp filter refuses the calls that "
                 "give the segment memory (fallocate, madvise)");
    else if (full & LT_FULL_NOFD)
        snprintf(out->full_why, sizeof(out->full_why), "the program closed the segment's descriptor "
                 "(LEAKTOP_COMMIT=fallocate) and this kernel cannot commit pages without it");
    else if (full & LT_FULL_SPACE)
        snprintf(out->full_why, sizeof(out->full_why), "%s is full (no room to grow the segment)", LT_SHM_DIR);
    else if (full & LT_FULL_TRACES)
        snprintf(out->full_why, sizeof(out->full_why), "the trace table is full (%u traces%s)",
                 s->fixed.traces_cap, session_cap_why(&s->fixed));
    else if (full & LT_FULL_STORE)
        snprintf(out->full_why, sizeof(out->full_why), "the trace store is full");
}

bool session_truncated(const session *s)
{
    return shmguard_hit(s->base);
}

uint32_t session_frames_limit(const session *s) { return s->fixed.frames_limit; }
uint64_t session_sample_bytes(const session *s) { return s->fixed.sample_bytes; }
diff_loctab *session_locs(session *s) { return s->locs; }

bool session_exiting(const session *s)
{
    return __atomic_load_n(&s->hdr->state, __ATOMIC_ACQUIRE) == LT_STATE_EXITING;
}

static double session_seconds_since_start(const session *s, int64_t mono_ns)
{
    return (double)(mono_ns - s->fixed.start_mono_ns) / 1e9;
}

double session_elapsed(const session *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return session_seconds_since_start(s, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/* ---- the module table -------------------------------------------------------- */

/* Seqlock read: copy, then check the sequence did not move under us. */
static bool session_modules_copy(session *s, lt_module *out, uint32_t *n)
{
    const lt_shm_header *h = s->hdr;
    const lt_module *src = (const lt_module *)(s->base + s->fixed.modules_off);
    for (int tries = 0; tries < 100; tries++) {
        uint64_t seq = __atomic_load_n(&h->modules_seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue;
        uint32_t count = __atomic_load_n(&h->nmodules, __ATOMIC_ACQUIRE);
        if (count > s->fixed.modules_cap)
            count = s->fixed.modules_cap;
        memcpy(out, src, count * sizeof(lt_module));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->modules_seq, __ATOMIC_RELAXED) == seq) {
            *n = count;
            return true;
        }
    }
    return false;
}

static void session_modules_sync(session *s)
{
    uint64_t seq = __atomic_load_n(&s->hdr->modules_seq, __ATOMIC_ACQUIRE);
    if (seq == s->modules_seq && s->nmodules)
        return;
    lt_module *fresh = xcalloc(s->fixed.modules_cap, sizeof(lt_module));
    uint32_t n = 0;
    if (!session_modules_copy(s, fresh, &n)) {
        free(fresh);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        lt_module *m = &fresh[i];
        m->path[LT_PATH_MAX - 1] = 0;
        if (m->build_id_len > LT_BUILD_ID_MAX)
            m->build_id_len = 0;
        if (i < s->nmodules && memcmp(m, &s->modules[i], sizeof(*m)) == 0)
            continue;
        sym_module sm = {
            .path = m->path, .bias = m->bias, .lo = m->lo, .hi = m->hi,
            .gen_loaded = m->gen_loaded, .gen_unloaded = m->gen_unloaded,
            .build_id = m->build_id, .build_id_len = m->build_id_len,
        };
        sym_resolver_set_module(s->sym, i, &sm);
    }
    free(s->modules);
    s->modules = fresh;
    s->nmodules = n;
    s->modules_seq = seq;
}

/* ---- symbolizing traces -------------------------------------------------------- */

static uint32_t session_pool_push(session *s, uint32_t id)
{
    if (s->pool_len == s->pool_cap) {
        s->pool_cap = s->pool_cap ? s->pool_cap * 2 : 4096;
        s->pool = xrealloc(s->pool, s->pool_cap * sizeof(uint32_t));
    }
    s->pool[s->pool_len] = id;
    return (uint32_t)s->pool_len++;
}

static size_t session_addr_slot(const session *s, uint64_t addr, uint32_t gen)
{
    uint64_t h = (addr ^ ((uint64_t)gen << 48)) * 0x9e3779b97f4a7c15ULL;
    size_t i = (size_t)(h >> 20) & (s->addrs_cap - 1);
    while (s->addrs[i].addr && !(s->addrs[i].addr == addr && s->addrs[i].gen == gen))
        i = (i + 1) & (s->addrs_cap - 1);
    return i;
}

static void session_addrs_grow(session *s)
{
    session_addr *old = s->addrs;
    size_t old_cap = s->addrs_cap;
    s->addrs_cap *= 2;
    s->addrs = xcalloc(s->addrs_cap, sizeof(session_addr));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].addr)
            s->addrs[session_addr_slot(s, old[i].addr, old[i].gen)] = old[i];
    free(old);
}

/* The frame ids one return address expands into (inlined chain first). */
static const session_addr *session_resolve_addr(session *s, uint64_t addr, uint32_t gen)
{
    size_t i = session_addr_slot(s, addr, gen);
    if (s->addrs[i].addr)
        return &s->addrs[i];
    sym_frame sf[SESSION_MAX_INLINE];
    int n = sym_resolve(s->sym, addr, gen, sf, SESSION_MAX_INLINE);
    session_addr a = {.addr = addr, .gen = gen, .off = (uint32_t)s->pool_len, .len = 0};
    for (int k = 0; k < n; k++) {
        diff_frame f = {
            .function = sf[k].function, .file = sf[k].file, .line = sf[k].line,
            .module = sf[k].module, .address = addr, .offset = sf[k].offset, .inlined = sf[k].inlined,
            .system_name = sf[k].system_name,
        };
        session_pool_push(s, diff_loctab_intern(s->locs, &f));
        a.len++;
    }
    if (n > 0 && sf[0].pending) {
        s->saw_pending = true;
        s->pending_addr = a;
        return &s->pending_addr;
    }
    if ((s->addrs_used + 1) * 2 > s->addrs_cap) {
        session_addrs_grow(s);
        i = session_addr_slot(s, addr, gen);
    }
    s->addrs[i] = a;
    s->addrs_used++;
    return &s->addrs[i];
}

/* The validated record of a published trace, or NULL. */
static const lt_trace_rec *session_record(const session *s, uint32_t id)
{
    const uint64_t *index = (const uint64_t *)(s->base + s->fixed.index_off);
    uint64_t off = __atomic_load_n(&index[id], __ATOMIC_ACQUIRE);
    if (off == 0 || off - 1 > s->fixed.store_size - sizeof(lt_trace_rec))
        return NULL;
    off -= 1;
    const lt_trace_rec *r = (const lt_trace_rec *)(s->base + s->fixed.store_off + off);
    if (off % 8 || r->nframes > LT_FRAMES_MAX ||
        (uint64_t)r->nframes * 8 > s->fixed.store_size - off - sizeof(lt_trace_rec))
        return NULL;
    return r;
}

/* Symbolizes trace `id` once: expand inlines, drop allocator wrappers,
 * keep at most frames_limit frames (tracemalloc's traceback limit). In
 * top-only mode, stops at the first frame that is not a wrapper. */
static void session_scratch_push(session *s, uint32_t id)
{
    if (s->scratch_len == s->scratch_cap) {
        s->scratch_cap = s->scratch_cap ? s->scratch_cap * 2 : 256;
        s->scratch = xrealloc(s->scratch, s->scratch_cap * sizeof(uint32_t));
    }
    s->scratch[s->scratch_len++] = id;
}

static session_trace *session_trace_get(session *s, uint32_t id)
{
    session_trace *t = &s->traces[id];
    if (t->resolved)
        return t;
    const lt_trace_rec *r = session_record(s, id);
    if (!r)
        return NULL;
    uint32_t nframes = r->nframes, gen = r->module_gen;
    /* Collected apart from the pool: resolving a new address appends its
     * own frames to the pool, which must not land inside this range. */
    s->scratch_len = 0;
    s->saw_pending = false;
    for (uint32_t k = 0; k < nframes; k++) {
        const session_addr *a = session_resolve_addr(s, r->frames[k], gen);
        for (uint32_t j = 0; j < a->len; j++)
            session_scratch_push(s, s->pool[a->off + j]);
        /* Top-only: stop at the first frame that is not a wrapper. Its
         * caller may be in a library whose debug information costs tens of
         * ms to read (libc6-dbg's compressed DWARF): only its top frames
         * need reading. */
        if (s->top_only && diff_frames_top_known(s->locs, s->scratch, (uint32_t)s->scratch_len, s->alloc_fns,
                                                 s->nalloc_fns))
            break;
    }
    uint32_t total = (uint32_t)s->scratch_len;
    uint32_t skip = diff_frames_skip_wrappers(s->locs, s->scratch, total, s->alloc_fns, s->nalloc_fns);
    t->off = (uint32_t)s->pool_len;
    t->len = total - skip;
    if (t->len > s->fixed.frames_limit)
        t->len = s->fixed.frames_limit;
    for (uint32_t j = 0; j < t->len; j++)
        session_pool_push(s, s->scratch[skip + j]);
    t->resolved = !s->saw_pending;
    return t;
}

/* ---- snapshots -------------------------------------------------------------------- */

/* Trace ids a reader may look at: allocated, and with committed pages
 * (reading past those could touch a page /dev/shm has no room for). */
static uint32_t session_ntraces(const session *s)
{
    uint32_t n = __atomic_load_n(&s->hdr->ntraces, __ATOMIC_ACQUIRE);
    uint32_t c = __atomic_load_n(&s->hdr->traces_committed, __ATOMIC_ACQUIRE);
    n = n < c ? n : c;
    return n > s->fixed.traces_cap ? s->fixed.traces_cap : n;
}

/* True when every address of the trace lies in a module we already know.
 * A library's constructors allocate before the tracer lists the library:
 * resolving such a trace early would cache "no module" for good. */
static bool session_modules_cover(const session *s, const lt_trace_rec *r)
{
    for (uint32_t k = 0; k < r->nframes; k++) {
        bool in = false;
        for (uint32_t i = 0; i < s->nmodules && !in; i++)
            in = r->frames[k] >= s->modules[i].lo && r->frames[k] < s->modules[i].hi;
        if (!in)
            return false;
    }
    return true;
}

unsigned session_prefetch(session *s, unsigned budget_ms)
{
    uint32_t n = session_ntraces(s);
    if (s->prefetched >= n)
        return 0;
    session_modules_sync(s);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t start = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, deadline = start + (int64_t)budget_ms * 1000000;
    unsigned done = 0;
    while (s->prefetched < n) {
        const lt_trace_rec *r = session_record(s, s->prefetched);
        if (!r)
            break;  /* not published yet: next time */
        /* A trace in code no module covers (yet) is left to report time. */
        if (session_modules_cover(s, r))
            done += session_trace_get(s, s->prefetched) != NULL;
        s->prefetched++;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec > deadline)
            break;
    }
    return done;
}

static void session_add_modules(const session *s, diff_snapshot *snap)
{
    char hex[2 * LT_BUILD_ID_MAX + 1];
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const lt_module *m = &s->modules[i];
        if (m->flags & LT_MOD_TRACER)
            continue;
        for (uint32_t k = 0; k < m->build_id_len; k++)
            snprintf(hex + 2 * k, 3, "%02x", m->build_id[k]);
        hex[2 * m->build_id_len] = 0;
        diff_snapshot_add_module(snap, m->path, hex, m->bias);
    }
}

/* ---- births (retained since a baseline) ---------------------------------------- */

/* The (trace, epoch >= 1) parts of a snapshot, as lt_tslot_entry values
 * from the ring or the live counters; sorted by (trace, epoch) to be
 * merged (a key may come in several parts: one per thread slot). */
typedef struct session_births {
    lt_tslot_entry *v;
    size_t          n, cap;
    bool            known;    /* every part is there */
    uint32_t        epoch;    /* the snapshot as a baseline (LT_EPOCH_NONE: not one) */
    size_t          at;       /* session_build's cursor */
} session_births;

static void session_births_push(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count)
{
    session_births *b = ctx;
    if (epoch == 0)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->n++] = (lt_tslot_entry){.id_plus1 = id + 1, .epoch = epoch, .size = size, .count = count};
}

static int session_birth_cmp(const void *pa, const void *pb)
{
    const lt_tslot_entry *a = pa, *b = pb;
    if (a->id_plus1 != b->id_plus1)
        return a->id_plus1 < b->id_plus1 ? -1 : 1;
    return a->epoch < b->epoch ? -1 : a->epoch > b->epoch;
}

/* Identifies the traced run (one segment: an exec starts another), so
 * that retained figures are only computed between snapshots of one run. */
static uint64_t session_run_id(const session *s)
{
    uint64_t h = (uint64_t)s->fixed.start_realtime_ns * 0x9e3779b97f4a7c15ULL ^ (uint64_t)s->fixed.writer_pid;
    h ^= (uint64_t)s->ino << 17;
    return h ? h : 1;
}

/* a + b, pinned at the int64 range: parts come from an untrusted segment. */
static int64_t session_add_sat(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b < 0 ? INT64_MIN : INT64_MAX) : r;
}

/* Trace id's births into the snapshot's last trace (size, count): the
 * parts of each (id, epoch) added up, blocks from 1/LT_SAMPLE_ONE units
 * when sampled, and never more than the trace: a live read takes the
 * totals and the parts one after the other, while threads run. */
static void session_add_births(session *s, diff_snapshot *snap, session_births *b, uint32_t id, int64_t size,
                               int64_t count)
{
    while (b->at < b->n && b->v[b->at].id_plus1 < id + 1)
        b->at++;
    diff_birth one[64];
    uint32_t k = 0;
    while (b->at < b->n && b->v[b->at].id_plus1 == id + 1) {
        diff_birth d = {.epoch = b->v[b->at].epoch};
        for (; b->at < b->n && b->v[b->at].id_plus1 == id + 1 && b->v[b->at].epoch == d.epoch; b->at++) {
            d.size = session_add_sat(d.size, b->v[b->at].size);
            d.count = session_add_sat(d.count, b->v[b->at].count);
        }
        if (s->fixed.sample_bytes)
            d.count = d.count / LT_SAMPLE_ONE + (d.count % LT_SAMPLE_ONE >= LT_SAMPLE_ONE / 2);
        if (d.size <= 0 && d.count <= 0)
            continue;   /* all freed (or a live read between two parts) */
        d.size = d.size < 0 ? 0 : d.size < size ? d.size : size;
        d.count = d.count < 0 ? 0 : d.count < count ? d.count : count;
        size -= d.size;
        count -= d.count;
        one[k++] = d;
        if (k == 64) {
            diff_snapshot_add_births(snap, one, k);
            k = 0;
        }
    }
    if (k)
        diff_snapshot_add_births(snap, one, k);
}

/* Builds a snapshot from n counters indexed by trace id and the births
 * of its blocks. */
static diff_snapshot *session_build(session *s, const lt_counter *ctr, uint32_t n, session_births *b,
                                    const char *label, double elapsed)
{
    session_modules_sync(s);
    diff_snapshot *snap = diff_snapshot_new(s->locs, s->fixed.frames_limit);
    diff_snapshot_set_label(snap, label);
    diff_snapshot_set_meta(snap, (int)s->pid, elapsed);
    diff_snapshot_set_sample_bytes(snap, s->fixed.sample_bytes);
    bool lost = __atomic_load_n(&s->hdr->pairs_lost, __ATOMIC_ACQUIRE) != 0;
    diff_snapshot_set_epoch(snap, session_run_id(s), b->epoch == LT_EPOCH_NONE ? DIFF_EPOCH_NONE : b->epoch,
                            b->known && !lost);
    if (b->n)   /* qsort's array must not be NULL, even empty (UBSan) */
        qsort(b->v, b->n, sizeof(*b->v), session_birth_cmp);
    b->at = 0;
    for (uint32_t id = 0; id < n; id++) {
        /* A live read can catch one field of a counter updated and not yet
         * the other (a free between its two subtractions): never below 0. */
        int64_t size = ctr[id].size < 0 ? 0 : ctr[id].size;
        int64_t count = ctr[id].count < 0 ? 0 : ctr[id].count;
        if (s->fixed.sample_bytes)  /* estimates: blocks in 1/LT_SAMPLE_ONE (lt_shm.h) */
            count = (count + LT_SAMPLE_ONE / 2) / LT_SAMPLE_ONE;
        if (size == 0 && count == 0)
            continue;
        session_trace *t = session_trace_get(s, id);
        if (!t)
            t = session_trace_get(s, LT_TRACE_UNKNOWN);
        if (diff_snapshot_add(snap, size, count, t ? s->pool + t->off : NULL, t ? t->len : 0) == 0)
            session_add_births(s, snap, b, id, size, count);
    }
    session_add_modules(s, snap);
    return snap;
}


/* The live counters' places, from the validated static fields (never
 * re-read from the segment) and the dynamic words that say how much of
 * them is there. */
static void session_live_view(const session *s, lt_live_view *v)
{
    uint32_t hwm = __atomic_load_n(&s->hdr->tslots_hwm, __ATOMIC_ACQUIRE);
    bool pairs = __atomic_load_n(&s->hdr->pairs_ready, __ATOMIC_ACQUIRE) != 0;
    *v = (lt_live_view){
        .shared = (const lt_counter *)(s->base + s->fixed.counters_off),
        .pairs = pairs ? (const lt_pair *)(s->base + s->fixed.pairs_off) : NULL,
        .pairs_index = (const uint32_t *)(s->base + s->fixed.pairs_off + (uint64_t)s->fixed.pairs_cap * sizeof(lt_pair)),
        .pairs_cap = s->fixed.pairs_cap,
        .pairs_used = __atomic_load_n(&s->hdr->pairs_used, __ATOMIC_ACQUIRE),
        .tslots = s->base + s->fixed.tslots_off,
        .nslots = hwm < s->fixed.tslots ? hwm : s->fixed.tslots,
        .slot_size = s->fixed.tslot_size,
        .entries = s->fixed.tslot_entries,
    };
}

/* The live counters and births; `bump` then starts a new birth epoch,
 * which makes this snapshot a baseline retained figures can be told from. */
static diff_snapshot *session_live(session *s, const char *label, bool bump)
{
    uint32_t n = session_ntraces(s);
    lt_counter *copy = xcalloc(n ? n : 1, sizeof(lt_counter));
    lt_live_view v;
    session_live_view(s, &v);
    lt_totals_read(&v, copy, n);
    session_births b = {.known = true, .epoch = LT_EPOCH_NONE};
    lt_parts_each(&v, session_births_push, &b);
    if (bump)
        b.epoch = lt_epoch_bump(&s->hdr->epoch);
    diff_snapshot *snap = session_build(s, copy, n, &b, label, session_elapsed(s));
    free(b.v);
    free(copy);
    return snap;
}

diff_snapshot *session_snapshot_live(session *s, const char *label)
{
    return session_live(s, label, false);
}

diff_snapshot *session_snapshot_baseline(session *s, const char *label)
{
    return session_live(s, label, true);
}

static const lt_slot *session_slot(const session *s, uint64_t snap_no)
{
    uint64_t i = (snap_no - 1) % s->fixed.ring_slots;
    return (const lt_slot *)(s->base + s->fixed.ring_off + i * s->fixed.ring_slot_size);
}

/* Copies ring snapshot `snap_no` if it is intact; false when torn, being
 * written, or already overwritten by a newer one. Births come with it
 * (known unless the tracer had no room for them). */
static bool session_slot_copy(const session *s, uint64_t snap_no, lt_slot *hdr_out, lt_counter **ctr_out,
                              session_births *b)
{
    const lt_slot *slot = session_slot(s, snap_no);
    uint64_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    if (seq & 1)
        return false;
    memcpy(hdr_out, slot, sizeof(lt_slot));
    uint32_t n = hdr_out->ntraces > s->fixed.traces_cap ? s->fixed.traces_cap : hdr_out->ntraces;
    lt_counter *ctr = xcalloc(n ? n : 1, sizeof(lt_counter));
    memcpy(ctr, slot->counters, n * sizeof(lt_counter));
    uint32_t nb = hdr_out->nbirths;
    bool known = nb <= s->fixed.ring_births_cap;
    lt_tslot_entry *births = known && nb ? xcalloc(nb, sizeof(lt_tslot_entry)) : NULL;
    if (births)
        memcpy(births, (const uint8_t *)slot + s->fixed.ring_births_off, nb * sizeof(lt_tslot_entry));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != seq || hdr_out->snap_no != snap_no) {
        free(ctr);
        free(births);
        return false;
    }
    hdr_out->ntraces = n;
    hdr_out->label[LT_LABEL_MAX - 1] = 0;
    *ctr_out = ctr;
    *b = (session_births){.known = known, .epoch = hdr_out->epoch};
    for (uint32_t i = 0; known && i < nb; i++)   /* validated: ids are checked by session_build's walk */
        session_births_push(b, births[i].id_plus1 - 1, births[i].epoch, births[i].size, births[i].count);
    free(births);
    return true;
}

diff_snapshot *session_next_mark(session *s, uint64_t *skipped, bool *requested)
{
    *skipped = 0;
    *requested = false;
    for (;;) {
        uint64_t head = __atomic_load_n(&s->hdr->ring_head, __ATOMIC_ACQUIRE);
        if (s->ring_next > head)
            return NULL;
        if (head - s->ring_next >= s->fixed.ring_slots) {
            uint64_t oldest = head - s->fixed.ring_slots + 1;
            *skipped += oldest - s->ring_next;
            s->ring_next = oldest;
        }
        lt_slot meta;
        lt_counter *ctr = NULL;
        session_births b;
        if (session_slot_copy(s, s->ring_next, &meta, &ctr, &b)) {
            s->ring_next++;
            *requested = meta.reason == LT_SNAP_REQUESTED;
            diff_snapshot *snap = session_build(s, ctr, meta.ntraces, &b, meta.label,
                                                session_seconds_since_start(s, meta.time_ns));
            free(b.v);
            free(ctr);
            return snap;
        }
        /* Torn: the writer lapped us. Re-read the head and skip ahead. */
        if (__atomic_load_n(&s->hdr->ring_head, __ATOMIC_ACQUIRE) == head)
            return NULL;  /* being written right now: next poll */
    }
}

static bool session_pid_gone(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int session_clean_stale(unsigned min_age_s)
{
    DIR *d = opendir(LT_SHM_DIR);
    if (!d)
        return 0;
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long uid, pid;
        struct stat st;
        if (!session_name_parse(e->d_name, &uid, &pid) || uid != (long)geteuid() ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (st.st_uid != geteuid() || !S_ISREG(st.st_mode) || now - st.st_ctime < (time_t)min_age_s ||
            !session_pid_gone(pid))
            continue;
        char name[sizeof(e->d_name) + 1];
        snprintf(name, sizeof(name), "/%s", e->d_name);
        removed += shm_unlink(name) == 0;
    }
    closedir(d);
    return removed;
}

/* Claims request n (only while fewer than LT_MARK_QUEUE wait), writes its
 * label, publishes it (seq = n + 1), then bumps mark_req, which the tracer
 * compares with mark_done on every hook call. */
int session_request_mark(session *s, const char *label, uint64_t *req)
{
    lt_shm_header *h = s->hdr;
    uint64_t n = __atomic_load_n(&h->mark_claim, __ATOMIC_ACQUIRE);
    do {
        if (n - __atomic_load_n(&h->mark_done, __ATOMIC_ACQUIRE) >= LT_MARK_QUEUE)
            return -EBUSY;
    } while (!__atomic_compare_exchange_n(&h->mark_claim, &n, n + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    lt_mark_req *q = &h->mark_queue[n % LT_MARK_QUEUE];
    size_t len = strnlen(label, LT_LABEL_MAX - 1);
    memcpy(q->label, label, len);
    q->label[len] = 0;
    __atomic_store_n(&q->snap_no, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&q->seq, n + 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&h->mark_req, 1, __ATOMIC_RELEASE);
    *req = n;
    return 0;
}

bool session_mark_taken(const session *s, uint64_t req, uint64_t *snap_no)
{
    const lt_shm_header *h = s->hdr;
    if (__atomic_load_n(&h->mark_done, __ATOMIC_ACQUIRE) <= req)
        return false;
    *snap_no = __atomic_load_n(&h->mark_queue[req % LT_MARK_QUEUE].snap_no, __ATOMIC_RELAXED);
    return true;
}

bool session_attached(const session *s)
{
    return __atomic_load_n(&s->hdr->attached, __ATOMIC_ACQUIRE) == 1;
}

bool session_detached(const session *s)
{
    return __atomic_load_n(&s->hdr->state, __ATOMIC_ACQUIRE) == LT_STATE_DETACHED;
}

int session_request_detach(session *s, const char *label, uint64_t *req)
{
    __atomic_store_n(&s->hdr->detach_req, 1, __ATOMIC_RELEASE);
    return session_request_mark(s, label, req);
}

bool session_exists(pid_t pid)
{
    char name[NAME_MAX + 2], dir[64];
    session_place pl = session_place_of(pid);
    return session_find(pid, &pl, 0, name, sizeof(name), dir, sizeof(dir)) == 1;
}
