/* inject_seccomp.c: whether a process's seccomp filters let the tracer in.
 *
 * A process under a filter dies (SIGSYS) at the first call the filter
 * punishes, and the process's own code never makes the calls dlopen of the
 * tracer and the tracer itself make (openat of its files, a shared-memory
 * segment, memory files, /proc/self/maps for a new thread's stack). Strict
 * mode is refused from /proc alone (inject_check.c); a filter is read here
 * from the held threads and run on each such call, with the arguments the
 * tracer gives it, by the same machine the tracer uses (tracer/lt_bpf.h).
 * A filter the program installs later is the tracer's own business
 * (tracer/seccomp.c). */
#include "inject_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "lt_bpf.h"
#include "util.h"

/* A call, with arguments as the tracer (or dlopen, or libunwind) passes
 * them where a filter may look: flags, protections, advice. Pointers and
 * descriptors are stand-ins. */
typedef struct inject_sec_call {
    const char *name;
    int         nr;
    uint64_t    args[6];
    bool        memfd_only;
} inject_sec_call;

#define PTR 0x10000ull
#define FD  3ull

static const inject_sec_call inject_sec_calls[] = {
    /* dlopen of the tracer and of what it needs */
    {"openat", SYS_openat, {(uint64_t)AT_FDCWD, PTR, O_RDONLY | O_CLOEXEC}, false},
    {"read", SYS_read, {FD, PTR, 832}, false},
    {"pread64", SYS_pread64, {FD, PTR, 784, 64}, false},
    {"newfstatat", SYS_newfstatat, {FD, PTR, PTR, AT_EMPTY_PATH}, false},
    {"mmap", SYS_mmap, {0, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, FD, 0}, false},
    {"mmap", SYS_mmap, {PTR, 1 << 16, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, FD, 4096},
     false},
    {"mprotect", SYS_mprotect, {PTR, 4096, PROT_READ}, false},
    {"mprotect", SYS_mprotect, {PTR, 4096, PROT_READ | PROT_WRITE}, false},  /* a RELRO GOT cell patched */
    {"close", SYS_close, {FD}, false},
    {"memfd_create", SYS_memfd_create, {PTR, MFD_CLOEXEC}, true},
    /* the tracer's set-up: its segment, its tables */
    {"openat", SYS_openat, {(uint64_t)AT_FDCWD, PTR, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600},
     false},
    {"openat", SYS_openat, {(uint64_t)AT_FDCWD, PTR, O_RDONLY | O_DIRECTORY | O_CLOEXEC}, false},
    {"ftruncate", SYS_ftruncate, {FD, 1 << 20}, false},
    {"fcntl", SYS_fcntl, {FD, F_DUPFD_CLOEXEC, 64}, false},
    {"fstatfs", SYS_fstatfs, {FD, PTR}, false},
    {"mmap", SYS_mmap, {0, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, FD, 0}, false},
    {"mmap", SYS_mmap, {0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        (uint64_t)-1, 0}, false},
    {"munmap", SYS_munmap, {PTR, 1 << 20}, false},
    {"madvise", SYS_madvise, {PTR, 4096, MADV_POPULATE_WRITE}, false},
    {"madvise", SYS_madvise, {PTR, 4096, MADV_DONTNEED}, false},
    {"madvise", SYS_madvise, {PTR, 4096, MADV_WIPEONFORK}, false},
    {"madvise", SYS_madvise, {PTR, 4096, MADV_REMOVE}, false},
    {"madvise", SYS_madvise, {PTR, 1 << 21, MADV_HUGEPAGE}, false},
    {"madvise", SYS_madvise, {PTR, 1 << 21, MADV_NOHUGEPAGE}, false},
    {"fallocate", SYS_fallocate, {FD, 0, 0, 4096}, false},
    {"getdents64", SYS_getdents64, {FD, PTR, 4096}, false},
    {"prlimit64", SYS_prlimit64, {0, 9 /* RLIMIT_AS */, 0, PTR}, false},
    {"getrandom", SYS_getrandom, {PTR, 8, 1 /* GRND_NONBLOCK */}, false},
    {"getpid", SYS_getpid, {0}, false},
    {"gettid", SYS_gettid, {0}, false},
    {"unlink", SYS_unlink, {PTR}, false},
    {"rt_sigaction", SYS_rt_sigaction, {10, PTR, PTR, 8}, false},  /* the program's handlers wrapped */
    {"futex", SYS_futex, {PTR, 0 /* FUTEX_WAIT */, 2, 0}, false},
    /* later: a thread's first capture, signals held back, spin waits,
     * libunwind where the fast path cannot go */
    {"sched_yield", SYS_sched_yield, {0}, false},
    {"rt_sigprocmask", SYS_rt_sigprocmask, {0 /* SIG_BLOCK */, PTR, 0, 8}, false},
    {"rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, {1, 1, 10, PTR}, false},
    {"mincore", SYS_mincore, {PTR, 4096, PTR}, false},
    {"pipe2", SYS_pipe2, {PTR, O_CLOEXEC | O_NONBLOCK}, false},
};

/* The filters already run (threads share theirs, mostly): their bytes. */
typedef struct inject_sec_seen {
    struct sock_filter *f[8];
    long                len[8];
    int                 n;
} inject_sec_seen;

static bool inject_sec_known(inject_sec_seen *seen, struct sock_filter *f, long len)
{
    for (int i = 0; i < seen->n; i++)
        if (seen->len[i] == len && memcmp(seen->f[i], f, (size_t)len * sizeof(*f)) == 0)
            return true;
    return false;
}

/* The first call filter f refuses, or NULL. */
static const char *inject_sec_first_refused(const struct sock_filter *f, long len, bool memfd)
{
    for (size_t c = 0; c < sizeof(inject_sec_calls) / sizeof(inject_sec_calls[0]); c++) {
        const inject_sec_call *call = &inject_sec_calls[c];
        if (call->memfd_only && !memfd)
            continue;
        struct seccomp_data d = {.nr = call->nr, .arch = AUDIT_ARCH_X86_64};
        for (int a = 0; a < 6; a++)
            d.args[a] = call->args[a];
        if (!lt_bpf_passes(lt_bpf_run(f, (uint32_t)len, &d)))
            return call->name;
    }
    return NULL;
}

/* Thread tid's filters, most recent first, each run on every call; NULL
 * when they let all through, else the first call one refuses. *unread:
 * no filter could be read. */
static const char *inject_sec_refused(pid_t tid, bool memfd, inject_sec_seen *seen, bool *unread)
{
    for (long index = 0;; index++) {
        long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, NULL);
        if (len < 0) {
            *unread = errno != ENOENT;  /* ENOENT: no more filters */
            return NULL;
        }
        if (len == 0 || len > BPF_MAXINSNS)
            continue;
        struct sock_filter *f = xcalloc((size_t)len, sizeof(*f));
        if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, f) != len) {
            *unread = true;
            free(f);
            return NULL;
        }
        if (inject_sec_known(seen, f, len)) {
            free(f);
            continue;
        }
        const char *bad = inject_sec_first_refused(f, len, memfd);
        if (bad || seen->n == 8) {
            free(f);
            if (bad)
                return bad;
            continue;
        }
        seen->f[seen->n] = f;
        seen->len[seen->n++] = len;
    }
}

int inject_seccomp_check(pid_t pid, const pid_t *tids, size_t n, bool memfd, char *err, size_t errlen)
{
    inject_sec_seen seen = {.n = 0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool unread = false;
        const char *bad = inject_sec_refused(tids[i], memfd, &seen, &unread);
        if (bad) {
            snprintf(err, errlen, "process %d runs under a seccomp filter that forbids %s, which loading the tracer "
                     "needs: it would be killed; start it under `leaktop run` instead", (int)pid, bad);
            rc = -1;
        }
        if (unread)
            break;  /* (no CAP_SYS_ADMIN: the others cannot be read either) */
    }
    for (int i = 0; i < seen.n; i++)
        free(seen.f[i]);
    return rc;
}
