/* inject.c: loading a library into a running process with ptrace (x86-64,
 * glibc >= 2.34, whose libc.so.6 holds dlopen). Every thread is seized and
 * interrupted (the task list re-read until no new thread appeared); when
 * one of them is inside the allocator or the dynamic loader, all are let go
 * for a moment and stopped again. Then one safe thread makes three remote
 * calls — dlopen(lib, RTLD_NOW), dlsym(handle, fn), fn(arg) — on its own
 * stack below the red zone, returning to address 0 (a SIGSEGV we catch
 * and cancel), and gets back every register (xstate included) and every
 * stack byte it lent. Signals caught at delivery meanwhile are handed back
 * at the release, with their siginfo.
 *
 * Why a thread inside the allocator matters: dlopen allocates, and a
 * stopped thread that holds an arena lock (or the loader's lock) would
 * make the call wait forever. Each stopped thread's stack is unwound with
 * its call frame information (libunwind's ptrace accessors); it is
 * "inside" when a frame falls in libc's allocation and loader entry points
 * (from .dynsym: internals such as _int_malloc are only reached through
 * them) or in ld.so, or when its pc is in libc code no exported function
 * covers (an internal one reached by a tail call, as free's _int_free)
 * unless it sits in a system call the allocator never makes. When the
 * unwind fails, the 4 KiB above the stack pointer are scanned for such
 * return addresses instead (a stale word costs a retry). Should a thread
 * still hold a lock the check missed, a call that has not returned after
 * a watchdog period lets the other threads run on (they release what
 * they hold) instead of waiting forever. The calling thread itself must
 * pass the check: a lock it holds could never be released. */
#include "inject.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libunwind-ptrace.h>

#include "inject_files.h"
#include "inject_seccomp.h"
#include "util.h"

#define INJECT_MAX_THREADS   4096
#define INJECT_ATTEMPTS      10       /* stop-all rounds looking for a safe moment */
#define INJECT_SETTLE_ROUNDS 40       /* busy threads let run on, per stop-all round */
#define INJECT_STOP_WAIT_NS  (2 * 1000000000LL)  /* a thread in uninterruptible sleep */
#define INJECT_CALL_WAIT_NS  (30 * 1000000000LL) /* dlopen of the tracer and its set-up */
#define INJECT_WATCHDOG_NS   (200 * 1000000LL)
#define INJECT_SCAN_BYTES    4096
#define INJECT_STACK_GAP     1024     /* below the red zone (128) and then some */
#define INJECT_STACK_ROOM    (128 * 1024)  /* what dlopen and the tracer's set-up may use */
#define INJECT_XSTATE_MAX    16384
#define INJECT_EXTRA_SIGNALS 64

/* libc entry points that take the allocator's or the loader's locks. */
static const char *const inject_unsafe_names[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "malloc_trim", "malloc_stats", "malloc_info", "mallinfo", "mallinfo2", "mallopt",
    "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc", "__libc_memalign", "__libc_valloc",
    "__libc_pvalloc", "fork", "_Fork", "__libc_fork", "dl_iterate_phdr", "dlopen", "dlclose", "dlsym", "dlvsym",
    "dladdr", "dladdr1", "dlinfo", "dlmopen", "dlerror", "pthread_create", "exit", "__libc_freeres",
};
#define INJECT_NUNSAFE (sizeof(inject_unsafe_names) / sizeof(inject_unsafe_names[0]))

typedef struct inject_range {
    uint64_t lo, hi;
} inject_range;

typedef struct inject_thread {
    pid_t     tid;
    bool      stopped;
    bool      gone;
    bool      busy;             /* inside the allocator or the loader at the last look */
    bool      at_delivery;      /* its stop is a signal-delivery stop: a detach can hand `sig` back */
    int       sig;              /* caught at delivery, handed back at the release; 0: none */
    siginfo_t info;
} inject_thread;

typedef struct inject_pending {   /* more signals than a thread can hand back at its release */
    pid_t     tid;
    siginfo_t info;
} inject_pending;

typedef struct inject_target {
    pid_t          pid;
    int            mem;         /* /proc/PID/mem */
    unw_addr_space_t as;        /* remote unwinding, its caches kept across threads */
    inject_range   libc_text;   /* libc's executable mapping */
    uint64_t       libc_base;   /* its first mapping (file offset 0) */
    char           libc_file[PATH_MAX];  /* where its symbols were read */
    inject_range  *funcs;       /* every function libc exports, by address */
    size_t         nfuncs;
    inject_range   unsafe[INJECT_NUNSAFE + 1];   /* + ld.so */
    size_t         nunsafe;
    uint64_t       fn_dlopen, fn_dlsym, fn_dlerror;
    uint64_t       fn_memfd_create, fn_close;   /* for a process that cannot see our files */
    inject_thread *th;
    size_t         n;
    inject_pending extra[INJECT_EXTRA_SIGNALS];
    size_t         nextra;
    int64_t        stop_start;
    bool           released;    /* the watchdog let the others go */
} inject_target;

/* ---- libc's symbols -------------------------------------------------------------- */

/* Every .dynsym function of the file at `path` loaded with bias `bias`:
 * dlopen/dlsym/dlerror and the unsafe entry points. */
static int inject_read_dynsym(inject_target *t, const char *path, uint64_t bias, char *err, size_t errlen)
{
    void *data;
    char *strs;
    size_t size, strsize;
    int rc = inject_elf_section(path, SHT_DYNSYM, &data, &size, &strs, &strsize);
    if (rc != 0) {
        snprintf(err, errlen, rc < 0 ? "cannot read the program's libc (%s)"
                                     : "the program's libc (%s) has no dynamic symbol table", path);
        return -1;
    }
    const Elf64_Sym *syms = data;
    for (size_t k = 0; k < size / sizeof(Elf64_Sym); k++) {
        const Elf64_Sym *s = &syms[k];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || !s->st_value || s->st_name >= strsize)
            continue;
        const char *name = strs + s->st_name;
        uint64_t addr = s->st_value + bias;
        if (s->st_size) {
            if (t->nfuncs % 1024 == 0)
                t->funcs = xrealloc(t->funcs, (t->nfuncs + 1024) * sizeof(*t->funcs));
            t->funcs[t->nfuncs++] = (inject_range){addr, addr + s->st_size};
        }
        if (strcmp(name, "dlopen") == 0)
            t->fn_dlopen = addr;
        else if (strcmp(name, "dlsym") == 0)
            t->fn_dlsym = addr;
        else if (strcmp(name, "dlerror") == 0)
            t->fn_dlerror = addr;
        else if (strcmp(name, "memfd_create") == 0)
            t->fn_memfd_create = addr;
        else if (strcmp(name, "close") == 0)
            t->fn_close = addr;
        for (size_t u = 0; u < INJECT_NUNSAFE && t->nunsafe < INJECT_NUNSAFE; u++)
            if (strcmp(name, inject_unsafe_names[u]) == 0)
                t->unsafe[t->nunsafe++] = (inject_range){addr, addr + (s->st_size ? s->st_size : 1)};
    }
    free(data);
    free(strs);
    return 0;
}

static int inject_range_cmp(const void *a, const void *b)
{
    const inject_range *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* A path here to the file a mapping of the target shows (`file`, inode
 * `ino`): through its root (a container's), else the mapping itself (root
 * only), else ours (a process that chroot()ed after it loaded the file).
 * Which one is right is checked before any call (inject_libc_is_mapped). */
static bool inject_mapped_file(pid_t pid, const char *file, uint64_t ino, uint64_t lo, uint64_t hi, char *out,
                               size_t len)
{
    struct stat st;
    snprintf(out, len, "/proc/%d/root%s", (int)pid, file);
    if (stat(out, &st) == 0 && st.st_ino == ino)
        return true;
    snprintf(out, len, "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)lo, (unsigned long long)hi);
    if (stat(out, &st) == 0 && st.st_ino == ino)
        return true;
    snprintf(out, len, "%s", file);
    return stat(out, &st) == 0 && st.st_ino == ino;
}

/* libc.so.6's file and load bias, and ld.so's range, from /proc/PID/maps. */
static int inject_find_libs(inject_target *t, char *err, size_t errlen)
{
    char path[64], line[4096], libc[PATH_MAX] = "";
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "process %d: cannot read its memory map: %s", (int)t->pid, strerror(errno));
        return -1;
    }
    uint64_t libc_base = 0, ld_lo = UINT64_MAX, ld_hi = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi, off, ino;
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %llu %n", &lo, &hi, &off, &ino, &pathpos) < 4 || !pathpos)
            continue;
        char *file = line + pathpos;
        file[strcspn(file, "\n")] = 0;
        /* A file replaced on disk since it was mapped (a libc upgrade under
         * a long-running server): its path, and the mapping found by inode. */
        size_t flen = strlen(file);
        bool deleted = flen > 10 && strcmp(file + flen - 10, " (deleted)") == 0;
        if (deleted)
            file[flen - 10] = 0;
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        bool exec = strstr(line, " r-xp ") != NULL;
        if (strcmp(base, "libc.so.6") == 0 && off == 0 && !*libc) {
            libc_base = lo;
            if (!inject_mapped_file(t->pid, file, ino, lo, hi, libc, sizeof(libc)) && deleted) {
                snprintf(err, errlen, "process %d runs a libc replaced on disk since it started (%s, upgraded?): "
                         "only root can read the one it runs (/proc/PID/map_files)", (int)t->pid, file);
                fclose(f);
                return -1;
            }
        } else if (strcmp(base, "libc.so.6") == 0 && exec) {
            t->libc_text = (inject_range){lo, hi};
        } else if (strncmp(base, "ld-linux", 8) == 0) {
            ld_lo = lo < ld_lo ? lo : ld_lo;
            ld_hi = hi > ld_hi ? hi : ld_hi;
        }
    }
    fclose(f);
    if (!*libc || ld_hi == 0) {
        snprintf(err, errlen, "process %d is statically linked: the tracer can only be loaded through glibc's "
                 "dynamic loader", (int)t->pid);
        return -1;
    }
    /* libc.so.6's first PT_LOAD has vaddr 0: the offset-0 mapping is its bias. */
    if (inject_read_dynsym(t, libc, libc_base, err, errlen) != 0)
        return -1;
    t->libc_base = libc_base;
    snprintf(t->libc_file, sizeof(t->libc_file), "%s", libc);
    t->unsafe[t->nunsafe++] = (inject_range){ld_lo, ld_hi};
    qsort(t->funcs, t->nfuncs, sizeof(*t->funcs), inject_range_cmp);
    if (!t->fn_dlopen || !t->fn_dlsym || !t->fn_dlerror) {
        snprintf(err, errlen, "process %d: its libc has no dlopen (glibc older than 2.34?)", (int)t->pid);
        return -1;
    }
    return 0;
}

/* ---- stopping and releasing threads ------------------------------------------------ */

static inject_thread *inject_thread_find(inject_target *t, pid_t tid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->th[i].tid == tid)
            return &t->th[i];
    return NULL;
}

/* Remembers a signal caught at delivery: the thread hands it back at its
 * release (its siginfo intact), or, when it holds one already, it is
 * queued again to that thread after the release. */
static void inject_keep_signal(inject_target *t, inject_thread *th, int sig)
{
    siginfo_t info;
    if (ptrace(PTRACE_GETSIGINFO, th->tid, 0, &info) != 0) {
        memset(&info, 0, sizeof(info));
        info.si_signo = sig;
        info.si_code = SI_USER;
    }
    if (!th->sig) {
        th->sig = sig;
        th->info = info;
    } else if (t->nextra < INJECT_EXTRA_SIGNALS) {
        t->extra[t->nextra++] = (inject_pending){th->tid, info};
    }
}

/* One ptrace stop of a thread: a stop (interrupt, group-stop, or a signal
 * caught at delivery) or its end. Returns 1 when stopped, 0 when not yet,
 * -1 when gone. */
static int inject_wait_one(inject_target *t, inject_thread *th, int flags)
{
    int st;
    pid_t r;
    while ((r = waitpid(th->tid, &st, __WALL | flags)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return 0;
    if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
        th->gone = true;
        return -1;
    }
    th->at_delivery = WIFSTOPPED(st) && (st >> 16) == 0;
    if (th->at_delivery)
        inject_keep_signal(t, th, WSTOPSIG(st));
    th->stopped = true;
    return 1;
}

/* Seizes and interrupts every thread in /proc/PID/task not held yet.
 * Returns how many were new, or -1 (err filled; EPERM: not permitted). */
static int inject_seize_new(inject_target *t, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
    DIR *dir = opendir(path);
    if (!dir) {
        snprintf(err, errlen, "process %d does not exist", (int)t->pid);
        errno = ESRCH;
        return -1;
    }
    int fresh = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        long tid;
        if (util_parse_long(d->d_name, 1, 1L << 30, &tid) != 0 || inject_thread_find(t, (pid_t)tid) ||
            t->n == INJECT_MAX_THREADS)
            continue;
        if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, 0) != 0) {
            if (errno == ESRCH)
                continue;   /* it just ended */
            int e = errno;
            closedir(dir);
            snprintf(err, errlen, "process %d: ptrace(PTRACE_SEIZE) of thread %ld: %s", (int)t->pid, tid, strerror(e));
            errno = e;
            return -1;
        }
        t->th[t->n++] = (inject_thread){.tid = (pid_t)tid};
        ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0);
        fresh++;
    }
    closedir(dir);
    return fresh;
}

/* Waits for every held thread to stop (bounded: a thread in an
 * uninterruptible sleep does not). 0, or -1 with err filled. */
static int inject_wait_all(inject_target *t, char *err, size_t errlen)
{
    int64_t give_up = util_now_ns() + INJECT_STOP_WAIT_NS;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < t->n; i++)
            if (!t->th[i].stopped && !t->th[i].gone && inject_wait_one(t, &t->th[i], WNOHANG) == 0)
                all = false;
        if (all)
            return 0;
        if (util_now_ns() > give_up) {
            snprintf(err, errlen, "process %d: a thread did not stop within %d s (uninterruptible sleep?)",
                     (int)t->pid, (int)(INJECT_STOP_WAIT_NS / 1000000000LL));
            return -1;
        }
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
}

/* Lets one held thread go with the signal it was caught at delivery
 * with: handed back by the detach (siginfo restored) when it still stands
 * at a delivery stop, else queued again after the release. */
static void inject_release_thread(inject_target *t, inject_thread *th)
{
    if (th->sig && th->at_delivery)
        ptrace(PTRACE_SETSIGINFO, th->tid, 0, &th->info);
    else if (th->sig && t->nextra < INJECT_EXTRA_SIGNALS)
        t->extra[t->nextra++] = (inject_pending){th->tid, th->info};
    ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)(th->at_delivery ? th->sig : 0));
    th->gone = true;
}

/* Lets every held thread go, then queues the signals they could not take
 * back at their detach. */
static void inject_release(inject_target *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->th[i].gone)
            inject_release_thread(t, &t->th[i]);
    for (size_t i = 0; i < t->nextra; i++) {
        inject_pending *p = &t->extra[i];
        /* The kernel takes a siginfo from another process only with a
         * negative si_code (sigqueue's); others are sent plainly. */
        if (p->info.si_code >= 0 || syscall(SYS_rt_tgsigqueueinfo, t->pid, p->tid, p->info.si_signo, &p->info) != 0)
            syscall(SYS_tgkill, t->pid, p->tid, p->info.si_signo);
    }
    t->n = 0;
    t->nextra = 0;
}

/* Stops every thread, re-reading the task list until no new one appears. */
static int inject_stop_all(inject_target *t, char *err, size_t errlen)
{
    t->stop_start = util_now_ns();
    for (int round = 0; round < 64; round++) {
        int fresh = inject_seize_new(t, err, errlen);
        if (fresh < 0)
            return -1;
        if (inject_wait_all(t, err, errlen) != 0)
            return -1;
        if (fresh == 0)
            return 0;
    }
    snprintf(err, errlen, "process %d keeps creating threads: could not stop them all", (int)t->pid);
    return -1;
}

/* ---- where a thread is ----------------------------------------------------------------- */

static bool inject_in_unsafe(const inject_target *t, uint64_t a)
{
    for (size_t i = 0; i < t->nunsafe; i++)
        if (a >= t->unsafe[i].lo && a < t->unsafe[i].hi)
            return true;
    return false;
}

/* The bytes before `ra` end a call instruction: e8 rel32, or ff /2 in its
 * register, [reg], [reg+disp8], [rip+disp32] and [reg+disp32] forms. */
static bool inject_after_call(const inject_target *t, uint64_t ra)
{
    uint8_t b[8];
    if (ra < 8 || inject_pread(t->mem, b, sizeof(b), ra - 8) != 0)
        return false;
    if (b[3] == 0xe8)
        return true;
    for (int len = 2; len <= 7; len++) {
        uint8_t op = b[8 - len], modrm = b[8 - len + 1];
        if (op == 0xff && ((modrm >> 3) & 7) == 2)
            return true;
    }
    return false;
}

/* The pc is in an exported libc function (binary search of the sorted
 * ranges; a symbol's neighbours may overlap it, so look back a few). */
static bool inject_in_export(const inject_target *t, uint64_t pc)
{
    size_t lo = 0, hi = t->nfuncs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->funcs[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
        if (pc < t->funcs[i - 1].hi)
            return true;
    return false;
}

/* The thread is in a system call the allocator never makes (a blocking
 * read, poll, futex, sleep...). */
static bool inject_in_quiet_syscall(const struct user_regs_struct *r)
{
    static const long alloc_calls[] = {SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk, SYS_madvise, SYS_mprotect};
    if ((int64_t)r->orig_rax < 0)
        return false;
    for (size_t i = 0; i < sizeof(alloc_calls) / sizeof(alloc_calls[0]); i++)
        if ((long)r->orig_rax == alloc_calls[i])
            return false;
    return true;
}

/* The frames of a stopped thread, unwound with their CFI. 1: one of them is
 * unsafe; 0: none; -1: the unwind failed (no CFI, a corrupt stack). */
static int inject_unwind_busy(const inject_target *t, pid_t tid)
{
    void *ui = _UPT_create(tid);
    if (!ui)
        return -1;
    unw_cursor_t c;
    int rc = -1;
    if (unw_init_remote(&c, t->as, ui) == 0) {
        for (int depth = 0; depth < 256; depth++) {
            unw_word_t ip;
            if (unw_get_reg(&c, UNW_REG_IP, &ip) != 0)
                break;
            /* A return address belongs to the call before it. */
            if (inject_in_unsafe(t, depth ? ip - 1 : ip)) {
                rc = 1;
                break;
            }
            int step = unw_step(&c);
            if (step <= 0) {
                rc = step == 0 || depth > 0 ? 0 : -1;
                break;
            }
        }
    }
    _UPT_destroy(ui);
    return rc;
}

/* Whether thread th is (or may be) inside the allocator or the loader. */
static bool inject_thread_busy(const inject_target *t, const inject_thread *th)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, th->tid, 0, &r) != 0)
        return true;
    if (inject_in_unsafe(t, r.rip))
        return true;
    if (r.rip >= t->libc_text.lo && r.rip < t->libc_text.hi && !inject_in_export(t, r.rip) &&
        !inject_in_quiet_syscall(&r))
        return true;
    int unwound = inject_unwind_busy(t, th->tid);
    if (unwound >= 0)
        return unwound == 1;
    uint64_t words[INJECT_SCAN_BYTES / 8];
    ssize_t got = pread(t->mem, words, sizeof(words), (off_t)r.rsp);
    for (ssize_t i = 0; i < got / 8; i++)
        if (inject_in_unsafe(t, words[i]) && inject_after_call(t, words[i]))
            return true;
    return false;
}

/* Looks at every thread (busy flags). True when none is busy. */
static bool inject_look(inject_target *t)
{
    bool all_safe = true;
    for (size_t i = 0; i < t->n; i++) {
        inject_thread *th = &t->th[i];
        th->busy = !th->gone && inject_thread_busy(t, th);
        all_safe &= !th->busy;
    }
    return all_safe;
}

/* Lets the busy threads run on, the others held, and stops them again:
 * threads in and out of malloc as fast as they can are each outside it
 * about half the time, so the busy ones get fewer round by round, and
 * waiting for all of them at one instant is not needed. A busy thread
 * waits for nothing a held one has: held threads hold no allocator or
 * loader lock. True once none is busy; false at the round limit. */
static bool inject_settle(inject_target *t, char *err, size_t errlen)
{
    for (int round = 0; round < INJECT_SETTLE_ROUNDS; round++) {
        if (inject_look(t))
            return true;
        for (size_t i = 0; i < t->n; i++) {
            inject_thread *th = &t->th[i];
            if (!th->busy)
                continue;
            th->stopped = false;
            if (ptrace(PTRACE_CONT, th->tid, 0, 0) != 0)
                th->gone = errno == ESRCH;
        }
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
        for (size_t i = 0; i < t->n; i++)
            if (t->th[i].busy && !t->th[i].gone)
                ptrace(PTRACE_INTERRUPT, t->th[i].tid, 0, 0);
        if (inject_wait_all(t, err, errlen) != 0)
            return false;
    }
    return false;
}

/* Room for dlopen's frames below the thread's stack pointer: the mapping
 * holding it has INJECT_STACK_ROOM below it, or is the main stack (which
 * grows). A thread inside a signal handler on a small sigaltstack does
 * not qualify. */
static bool inject_stack_room(const inject_target *t, pid_t tid)
{
    struct user_regs_struct r;
    char path[64], line[512];
    if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
    FILE *f = fopen(path, "re");
    bool ok = false;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx", &lo, &hi) != 2 || r.rsp < lo || r.rsp >= hi)
            continue;
        ok = r.rsp - lo >= INJECT_STACK_ROOM || strstr(line, "[stack]") != NULL;
        break;
    }
    if (f)
        fclose(f);
    return ok;
}

/* The thread to make the calls in: a safe one with stack room, the main
 * thread first (busy flags from inject_look). NULL when none is. */
static inject_thread *inject_pick(inject_target *t)
{
    inject_thread *pick = NULL;
    for (size_t i = 0; i < t->n; i++) {
        inject_thread *th = &t->th[i];
        if (th->gone || th->busy || (pick && th->tid != t->pid) || !inject_stack_room(t, th->tid))
            continue;
        pick = th;
        if (th->tid == t->pid)
            break;
    }
    return pick;
}

/* ---- remote calls ------------------------------------------------------------------------- */

typedef struct inject_saved {
    struct user_regs_struct regs;
    uint8_t  xstate[INJECT_XSTATE_MAX];
    size_t   xlen;
    uint64_t lent_at;           /* stack bytes lent for the strings */
    uint8_t  lent[1024];
    size_t   nlent;
} inject_saved;

static int inject_save(inject_target *t, inject_thread *th, inject_saved *sv)
{
    struct iovec iov = {sv->xstate, sizeof(sv->xstate)};
    if (ptrace(PTRACE_GETREGS, th->tid, 0, &sv->regs) != 0 ||
        ptrace(PTRACE_GETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) != 0)
        return -1;
    sv->xlen = iov.iov_len;
    (void)t;
    return 0;
}

static void inject_restore(inject_target *t, inject_thread *th, inject_saved *sv)
{
    struct iovec iov = {sv->xstate, sv->xlen};
    if (sv->nlent)
        (void)!pwrite(t->mem, sv->lent, sv->nlent, (off_t)sv->lent_at);
    ptrace(PTRACE_SETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov);
    ptrace(PTRACE_SETREGS, th->tid, 0, &sv->regs);
}

/* Waits for the remote call's return to address 0. Signals caught at
 * delivery meanwhile are kept and the call resumed; after the watchdog
 * period the other threads are released. 0 with *ret, or -1. */
static int inject_wait_return(inject_target *t, inject_thread *th, uint64_t *ret, char *err, size_t errlen)
{
    int64_t start = util_now_ns();
    for (;;) {
        int st;
        pid_t r = waitpid(th->tid, &st, __WALL | WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            int64_t now = util_now_ns();
            if (!t->released && now - start > INJECT_WATCHDOG_NS) {
                /* Someone we stopped may hold a lock the call waits for. */
                for (size_t i = 0; i < t->n; i++)
                    if (&t->th[i] != th && !t->th[i].gone)
                        inject_release_thread(t, &t->th[i]);
                t->released = true;
            }
            if (now - start > INJECT_CALL_WAIT_NS) {
                snprintf(err, errlen, "process %d: the injected call did not return within %d s", (int)t->pid,
                         (int)(INJECT_CALL_WAIT_NS / 1000000000LL));
                return -1;
            }
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
            th->gone = true;
            snprintf(err, errlen, "process %d ended during the attach", (int)t->pid);
            return -1;
        }
        int sig = (st >> 16) == 0 ? WSTOPSIG(st) : 0;
        struct user_regs_struct regs;
        if (sig == SIGSEGV && ptrace(PTRACE_GETREGS, th->tid, 0, &regs) == 0 && regs.rip == 0) {
            *ret = regs.rax;
            th->at_delivery = true;   /* our SIGSEGV: the detach replaces it */
            return 0;
        }
        if (sig)
            inject_keep_signal(t, th, sig);
        ptrace(PTRACE_CONT, th->tid, 0, 0);
    }
}

/* Calls fn(a0, a1) in thread th, strings copied below its stack pointer.
 * `str` (may be NULL) is written there and its address passed as the
 * argument where args[] holds INJECT_STR. */
#define INJECT_STR UINT64_MAX

static int inject_call(inject_target *t, inject_thread *th, const inject_saved *sv, uint64_t fn, uint64_t a0,
                       uint64_t a1, const char *str, uint64_t *ret, char *err, size_t errlen)
{
    struct user_regs_struct r = sv->regs;
    uint64_t sp = (sv->regs.rsp - INJECT_STACK_GAP) & ~15ULL;
    uint64_t straddr = 0;
    if (str) {
        size_t len = strlen(str) + 1;
        straddr = (sp - len) & ~15ULL;
        if (pwrite(t->mem, str, len, (off_t)straddr) != (ssize_t)len) {
            snprintf(err, errlen, "process %d: cannot write to its stack: %s", (int)t->pid, strerror(errno));
            return -1;
        }
        sp = straddr;
    }
    sp -= 8;   /* the return address: at entry, rsp + 8 is 16-aligned */
    uint64_t zero = 0;
    if (pwrite(t->mem, &zero, 8, (off_t)sp) != 8) {
        snprintf(err, errlen, "process %d: cannot write to its stack: %s", (int)t->pid, strerror(errno));
        return -1;
    }
    r.rip = fn;
    r.rsp = sp;
    r.rdi = a0 == INJECT_STR ? straddr : a0;
    r.rsi = a1 == INJECT_STR ? straddr : a1;
    r.rax = 0;
    r.orig_rax = (uint64_t)-1;   /* no syscall restart for our call */
    if (ptrace(PTRACE_SETREGS, th->tid, 0, &r) != 0 || ptrace(PTRACE_CONT, th->tid, 0, 0) != 0) {
        snprintf(err, errlen, "process %d: ptrace: %s", (int)t->pid, strerror(errno));
        return -1;
    }
    return inject_wait_return(t, th, ret, err, errlen);
}

/* A NUL-terminated string at addr in the target, for dlerror's message. */
static void inject_read_string(const inject_target *t, uint64_t addr, char *buf, size_t len)
{
    ssize_t n = addr ? pread(t->mem, buf, len - 1, (off_t)addr) : -1;
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
}

/* dlopen(path) in the target: the handle, or 0 with err saying why. */
static int inject_dlopen(inject_target *t, inject_thread *th, const inject_saved *sv, const char *path, int flags,
                         const char *what, uint64_t *handle, char *err, size_t errlen)
{
    if (inject_call(t, th, sv, t->fn_dlopen, INJECT_STR, (uint64_t)flags, path, handle, err, errlen) != 0)
        return -1;
    if (*handle || (flags & RTLD_NOLOAD))
        return 0;
    uint64_t msg = 0;
    char why[512] = "";
    if (inject_call(t, th, sv, t->fn_dlerror, 0, 0, NULL, &msg, err, errlen) == 0)
        inject_read_string(t, msg, why, sizeof(why));
    snprintf(err, errlen, "process %d could not load %s: %s", (int)t->pid, what, *why ? why : "dlopen failed");
    return -1;
}

/* A name for descriptor fd that no object the target loaded goes by:
 * dlopen answers a name it loaded before with that object, without
 * opening anything, and /proc/self/fd/3 may be a library an earlier
 * attach loaded from its own descriptor 3. "/proc/self/fd/./3" is the same
 * file by another name. */
static int inject_fd_path(inject_target *t, inject_thread *th, const inject_saved *sv, int fd, char *path,
                          size_t len, char *err, size_t errlen)
{
    for (int dots = 0; dots < 32; dots++) {
        size_t at = (size_t)snprintf(path, len, "/proc/self/fd/");
        for (int i = 0; i < dots && at + 2 < len; i++, at += 2)
            memcpy(path + at, "./", 3);
        snprintf(path + at, len - at, "%d", fd);
        uint64_t taken = 0;
        if (inject_dlopen(t, th, sv, path, RTLD_NOW | RTLD_NOLOAD, path, &taken, err, errlen) != 0)
            return -1;
        if (!taken)
            return 0;
    }
    snprintf(err, errlen, "process %d: every name for its descriptor %d is taken", (int)t->pid, fd);
    return -1;
}

/* One library into a memory file of the target, then dlopen'ed from there
 * (/proc/self/fd/N: its /proc is needed), the descriptor closed after. */
static int inject_load_file(inject_target *t, inject_thread *th, const inject_saved *sv, const inject_file *f,
                            uint64_t *handle, char *err, size_t errlen)
{
    uint64_t ret = 0, ignored;
    if (inject_call(t, th, sv, t->fn_memfd_create, INJECT_STR, MFD_CLOEXEC, f->name, &ret, err, errlen) != 0)
        return -1;
    int fd = (int)(uint32_t)ret;
    if (fd < 0) {
        snprintf(err, errlen, "process %d could not make a memory file for %s", (int)t->pid, f->path);
        return -1;
    }
    char path[128];
    int rc = inject_fd_path(t, th, sv, fd, path, sizeof(path), err, errlen);
    if (rc == 0)
        rc = inject_file_copy(t->pid, fd, f->path, err, errlen);
    if (rc == 0)
        rc = inject_dlopen(t, th, sv, path, RTLD_NOW, f->path, handle, err, errlen);
    char unsaid[256];  /* a failed close must not hide why the load failed */
    inject_call(t, th, sv, t->fn_close, (uint64_t)fd, 0, NULL, &ignored, unsaid, sizeof(unsaid));
    return rc;
}

/* The tracer in a process whose root is not ours (a container, a chroot):
 * the one an earlier attach loaded (its soname finds it), else it and the
 * libraries it needs beyond glibc, from memory files (inject_files.c). */
static int inject_load_unseen(inject_target *t, inject_thread *th, const inject_saved *sv, const char *lib,
                              uint64_t *handle, char *err, size_t errlen)
{
    if (inject_dlopen(t, th, sv, "libleaktop.so", RTLD_NOW | RTLD_NOLOAD, lib, handle, err, errlen) != 0)
        return -1;
    if (*handle)
        return 0;
    if (!t->fn_memfd_create || !t->fn_close) {
        snprintf(err, errlen, "process %d cannot see %s, and its libc has no memfd_create to load it from memory",
                 (int)t->pid, lib);
        return -1;
    }
    inject_file files[INJECT_FILES_MAX];
    int n = inject_file_plan(lib, files, INJECT_FILES_MAX, err, errlen);
    for (int i = 0; i < n; i++) {
        /* A library an earlier attempt loaded answers to its soname (a
         * dependency is named by it): not loaded twice. */
        if (i + 1 < n && inject_dlopen(t, th, sv, files[i].name, RTLD_NOW | RTLD_NOLOAD, files[i].path, handle, err,
                                       errlen) != 0)
            return -1;
        if ((i + 1 == n || !*handle) && inject_load_file(t, th, sv, &files[i], handle, err, errlen) != 0)
            return -1;
    }
    return n > 0 ? 0 : -1;
}

/* The three calls. The stack area they use is saved first (below the red
 * zone it is dead by the ABI, but every byte touched goes back). */
static int inject_calls(inject_target *t, inject_thread *th, const char *lib, const char *fn, const char *arg,
                        int *result, char *err, size_t errlen)
{
    inject_saved *sv = xcalloc(1, sizeof(*sv));
    int rc = -1;
    size_t need = strlen(lib) > strlen(arg) ? strlen(lib) : strlen(arg);
    if (need + 1 > sizeof(sv->lent) - 64) {
        snprintf(err, errlen, "path or settings too long for the injection");
        goto out;
    }
    if (inject_save(t, th, sv) != 0) {
        snprintf(err, errlen, "process %d: cannot read thread %d's registers: %s", (int)t->pid, (int)th->tid,
                 strerror(errno));
        goto out;
    }
    sv->nlent = sizeof(sv->lent);
    sv->lent_at = ((sv->regs.rsp - INJECT_STACK_GAP) & ~15ULL) - sv->nlent;
    if (inject_pread(t->mem, sv->lent, sv->nlent, sv->lent_at) != 0) {
        sv->nlent = 0;
        snprintf(err, errlen, "process %d: cannot read its stack: %s", (int)t->pid, strerror(errno));
        goto out;
    }
    uint64_t handle = 0, sym = 0, ret = 0;
    /* (A path we do not have either goes to dlopen, to say so.) */
    bool by_path = access(lib, R_OK) != 0 || inject_sees_file(t->pid, lib);
    int loaded = by_path ? inject_dlopen(t, th, sv, lib, RTLD_NOW, lib, &handle, err, errlen)
                         : inject_load_unseen(t, th, sv, lib, &handle, err, errlen);
    if (loaded != 0)
        goto back;
    if (inject_call(t, th, sv, t->fn_dlsym, handle, INJECT_STR, fn, &sym, err, errlen) != 0)
        goto back;
    if (!sym) {
        snprintf(err, errlen, "%s has no %s (an older tracer?)", lib, fn);
        goto back;
    }
    if (inject_call(t, th, sv, sym, INJECT_STR, 0, arg, &ret, err, errlen) != 0)
        goto back;
    *result = (int)ret;
    rc = 0;
back:
    if (!th->gone)
        inject_restore(t, th, sv);
out:
    free(sv);
    return rc;
}

/* ---- the whole ---------------------------------------------------------------------------- */

/* The file libc's symbols were read from is the libc the process runs:
 * their addresses are what the calls jump to. Its first page (the ELF
 * headers and the build-id note, mapped as the file has them) is compared
 * with the process's. A libc upgraded on disk since the process started,
 * or another root's file by the same name, fails it: refused, never a
 * call into the wrong address. */
static int inject_libc_is_mapped(const inject_target *t, char *err, size_t errlen)
{
    static uint8_t theirs[4096], ours[4096];
    int fd = open(t->libc_file, O_RDONLY | O_CLOEXEC);
    bool same = fd >= 0 && inject_pread(fd, ours, sizeof(ours), 0) == 0 &&
                inject_pread(t->mem, theirs, sizeof(theirs), t->libc_base) == 0 &&
                memcmp(ours, theirs, sizeof(ours)) == 0;
    if (fd >= 0)
        close(fd);
    if (!same)
        snprintf(err, errlen, "process %d's libc is not %s, where leaktop read its symbols (upgraded since the "
                 "process started?): not loading the tracer", (int)t->pid, t->libc_file);
    return same ? 0 : -1;
}

/* The held threads' seccomp filters let loading and running the tracer
 * through (inject_seccomp.c): 0, or -1 with err. */
static int inject_filters_allow(const inject_target *t, const char *lib, char *err, size_t errlen)
{
    pid_t *tids = xcalloc(t->n ? t->n : 1, sizeof(*tids));
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->th[i].stopped && !t->th[i].gone)
            tids[n++] = t->th[i].tid;
    bool memfd = access(lib, R_OK) == 0 && !inject_sees_file(t->pid, lib);
    int rc = inject_seccomp_check(t->pid, tids, n, memfd, err, errlen);
    free(tids);
    return rc;
}

/* PTRACE_SEIZE said EPERM: what /proc tells now (the process may have
 * changed), else why ptrace refused it (yama scope 1: not our child; or
 * not dumpable). */
static inject_refusal inject_denied(inject_target *t, char *err, size_t errlen)
{
    char why[512];
    inject_refusal r = inject_check(t->pid, why, sizeof(why));
    if (r != INJECT_OK) {
        snprintf(err, errlen, "%s", why);
        return r;
    }
    inject_denied_now(t->pid, err, errlen);
    return INJECT_DENIED;
}

inject_refusal inject_library(pid_t pid, const char *lib, const char *fn, const char *arg, inject_stats *st,
                              char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    inject_refusal r = inject_check(pid, err, errlen);
    if (r != INJECT_OK)
        return r;
    inject_target *t = xcalloc(1, sizeof(*t));
    t->pid = pid;
    t->th = xcalloc(INJECT_MAX_THREADS, sizeof(*t->th));
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    r = INJECT_FAILED;
    if (inject_find_libs(t, err, errlen) != 0)
        goto out;
    t->as = unw_create_addr_space(&_UPT_accessors, 0);
    if (!t->as) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    unw_set_caching_policy(t->as, UNW_CACHE_GLOBAL);
    for (st->attempts = 1;; st->attempts++) {
        if (inject_stop_all(t, err, errlen) != 0) {
            bool eperm = errno == EPERM && t->n == 0;
            inject_release(t);
            if (eperm)
                r = inject_denied(t, err, errlen);
            goto out;
        }
        if (t->mem <= 0 && (t->mem = open(path, O_RDWR | O_CLOEXEC)) < 0) {
            snprintf(err, errlen, "process %d: cannot open its memory: %s", (int)pid, strerror(errno));
            inject_release(t);
            goto out;
        }
        bool all_safe = inject_settle(t, err, errlen);
        /* Threads the busy ones started meanwhile are held and looked at too. */
        int fresh = inject_seize_new(t, err, errlen);
        if (fresh > 0 && inject_wait_all(t, err, errlen) == 0)
            all_safe = inject_look(t);
        inject_thread *th = inject_pick(t);
        /* After many rounds, stale words on a stack may be what keeps a
         * thread "busy": the watchdog covers the others then. */
        if (th && (all_safe || st->attempts >= INJECT_ATTEMPTS)) {
            st->threads = (unsigned)t->n;
            if (inject_filters_allow(t, lib, err, errlen) != 0) {
                inject_release(t);
                r = INJECT_SECCOMP;
                goto out;
            }
            if (inject_libc_is_mapped(t, err, errlen) != 0) {
                inject_release(t);
                goto out;
            }
            int rc = inject_calls(t, th, lib, fn, arg, &st->call_result, err, errlen);
            st->released_early = t->released;
            inject_release(t);
            st->stopped_ns = util_now_ns() - t->stop_start;
            st->total_stopped_ns += st->stopped_ns;
            r = rc == 0 ? INJECT_OK : INJECT_FAILED;
            goto out;
        }
        inject_release(t);
        st->total_stopped_ns += util_now_ns() - t->stop_start;
        if (st->attempts >= INJECT_ATTEMPTS * 2) {
            snprintf(err, errlen, "process %d: its threads stayed inside the allocator or the dynamic loader; "
                     "try again", (int)pid);
            goto out;
        }
        util_sleep_ms(1);
    }
out:
    if (t->mem > 0)
        close(t->mem);
    if (t->as)
        unw_destroy_addr_space(t->as);
    free(t->funcs);
    free(t->th);
    free(t);
    return r;
}
