/* exec.c: the tracer across fork and exec. A fork child stops tracing and
 * drops the parent's segment; exec'd programs are not traced in standalone
 * use; and every exec of the traced process is announced in its segment
 * first, so a frontend can tell "the program left tracing at exec" (a
 * static binary, `env -i`, a setuid program) from "the program ended". */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lt_internal.h"

/* The child must never write into the parent's segment: stop tracing and
 * replace the shared mapping with private zeroes. Blocks it frees go
 * straight to glibc. */
static void lt_atfork_child(void)
{
    __atomic_store_n(&lt_g.status, LT_OFF, __ATOMIC_RELEASE);
    if (lt_g.hdr)
        mmap(lt_g.hdr, lt_g.seg_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (lt_g.seg_fd >= 0)
        close(lt_g.seg_fd);
    lt_g.seg_fd = -1;
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
 * while children that exec stay dormant. */
static void lt_unpreload_children(void)
{
    if (lt_option(LT_OPT_FOLLOW_EXEC) || lt_option(LT_OPT_PID) > 0)
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

void lt_exec_init(void)
{
    static bool once;  /* an attach after a detach keeps the handler */
    lt_unpreload_children();
    if (!once)
        pthread_atfork(NULL, NULL, lt_atfork_child);
    once = true;
}

/* ---- the exec family ------------------------------------------------------- */

/* Only the traced process itself: a vfork child shares our memory (and
 * segment) but has its own pid; a fork child is LT_OFF. */
static bool lt_exec_mine(void)
{
    return __atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) == LT_READY && lt_g.hdr->writer_pid == getpid();
}

/* Before the real exec: a successful one never returns, and the frontend
 * must learn that the image it reads is gone. No allocation. */
static bool lt_exec_begin(const char *path)
{
    if (!lt_exec_mine())
        return false;
    lt_shm_header *h = lt_g.hdr;
    size_t len = path ? strnlen(path, LT_EXEC_PATH_MAX - 1) : 0;
    memcpy(h->exec_path, path, len);
    h->exec_path[len] = 0;
    __atomic_store_n(&h->exec_pending, 1, __ATOMIC_RELEASE);
    return true;
}

/* The exec returned: it failed, and this image is still the program. */
static int lt_exec_failed(bool begun, int rc)
{
    if (begun) {
        __atomic_fetch_add(&lt_g.hdr->execs_failed, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&lt_g.hdr->exec_pending, 0, __ATOMIC_RELEASE);
    }
    return rc;
}

/* glibc's own entry point `name`, next in the lookup order, resolved once
 * (dlsym: outside any allocation hook, so it may allocate). */
static void *lt_real(void **slot, const char *name)
{
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    }
    if (!fn)
        errno = ENOSYS;
    return fn;
}

typedef int (*lt_execve_fn)(const char *, char *const[], char *const[]);
typedef int (*lt_execv_fn)(const char *, char *const[]);
typedef int (*lt_execveat_fn)(int, const char *, char *const[], char *const[], int);
typedef int (*lt_fexecve_fn)(int, char *const[], char *const[]);

int execve(const char *path, char *const argv[], char *const envp[])
{
    static void *slot;
    lt_execve_fn real = (lt_execve_fn)lt_real(&slot, "execve");
    bool begun = real && lt_exec_begin(path);
    return lt_exec_failed(begun, real ? real(path, argv, envp) : -1);
}

int execv(const char *path, char *const argv[])
{
    static void *slot;
    lt_execv_fn real = (lt_execv_fn)lt_real(&slot, "execv");
    bool begun = real && lt_exec_begin(path);
    return lt_exec_failed(begun, real ? real(path, argv) : -1);
}

int execvp(const char *file, char *const argv[])
{
    static void *slot;
    lt_execv_fn real = (lt_execv_fn)lt_real(&slot, "execvp");
    bool begun = real && lt_exec_begin(file);
    return lt_exec_failed(begun, real ? real(file, argv) : -1);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    static void *slot;
    lt_execve_fn real = (lt_execve_fn)lt_real(&slot, "execvpe");
    bool begun = real && lt_exec_begin(file);
    return lt_exec_failed(begun, real ? real(file, argv, envp) : -1);
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    static void *slot;
    lt_execveat_fn real = (lt_execveat_fn)lt_real(&slot, "execveat");
    bool begun = real && lt_exec_begin(path);
    return lt_exec_failed(begun, real ? real(dirfd, path, argv, envp, flags) : -1);
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
    static void *slot;
    lt_fexecve_fn real = (lt_fexecve_fn)lt_real(&slot, "fexecve");
    char path[32] = "/proc/self/fd/";
    lt_fmt_u(path + strlen(path), (unsigned long)(fd < 0 ? 0 : fd));
    bool begun = real && lt_exec_begin(path);
    return lt_exec_failed(begun, real ? real(fd, argv, envp) : -1);
}

/* The execl family gathers its arguments on the stack, as glibc does, and
 * goes through the vector forms above. */
static size_t lt_count_args(va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    size_t n = 1;
    while (va_arg(copy, const char *))
        n++;
    va_end(copy);
    return n;
}

/* argv[1..n-1] and the NULL at argv[n]; leaves ap past the NULL. */
static void lt_fill_args(const char **argv, size_t n, va_list *ap)
{
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(*ap, const char *);
}

enum { LT_EXECL, LT_EXECLP, LT_EXECLE };

static int lt_execl_any(int kind, const char *path, const char *arg, va_list *ap)
{
    size_t n = lt_count_args(*ap);
    const char *argv[n + 1];
    argv[0] = arg;
    lt_fill_args(argv, n, ap);
    char *const *args = (char *const *)argv;
    if (kind == LT_EXECLE)
        return execve(path, args, va_arg(*ap, char *const *));
    return kind == LT_EXECLP ? execvp(path, args) : execv(path, args);
}

int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = lt_execl_any(LT_EXECL, path, arg, &ap);
    va_end(ap);
    return rc;
}

int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = lt_execl_any(LT_EXECLP, file, arg, &ap);
    va_end(ap);
    return rc;
}

int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = lt_execl_any(LT_EXECLE, path, arg, &ap);
    va_end(ap);
    return rc;
}

/* Our definitions by names no GOT redirects (attach.c's table). */
LT_SELF_DEFINE(execve);
LT_SELF_DEFINE(execv);
LT_SELF_DEFINE(execvp);
LT_SELF_DEFINE(execvpe);
LT_SELF_DEFINE(execveat);
LT_SELF_DEFINE(fexecve);
