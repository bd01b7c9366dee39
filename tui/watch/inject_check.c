/* inject_check.c: what /proc says before leaktop touches a process it is
 * asked to inject: gone, a zombie, another user's, yama's ptrace_scope,
 * already traced, seccomp, static. Each refusal is one line saying what
 * to do; the process is never touched. */
#include "inject.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit_status.h"

#define INJECT_CAP_SYS_PTRACE 19

/* A small file read whole, NUL-terminated; its length or -1. */
static ssize_t inject_read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = 0;
    return (ssize_t)got;
}

/* The value after "Name:" in a /proc status text, or NULL. */
static const char *inject_status_field(const char *status, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = status; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, len) == 0 && p[len] == ':')
            return p + len + 1;
    return NULL;
}

static bool inject_have_cap_ptrace(void)
{
    char status[4096];
    if (inject_read_file("/proc/self/status", status, sizeof(status)) < 0)
        return false;
    const char *eff = inject_status_field(status, "CapEff");
    return eff && (strtoull(eff, NULL, 16) >> INJECT_CAP_SYS_PTRACE) & 1;
}

static int inject_yama_scope(void)
{
    char buf[16];
    if (inject_read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) <= 0)
        return -1;
    return atoi(buf);
}

/* Every uid of the target (real, effective, saved, fs) is our real uid:
 * what the kernel asks of an unprivileged tracer. */
static bool inject_same_user(const char *status)
{
    const char *uids = inject_status_field(status, "Uid");
    unsigned long u[4];
    if (!uids || sscanf(uids, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
        return false;
    for (int i = 0; i < 4; i++)
        if (u[i] != (unsigned long)getuid())
            return false;
    return true;
}

void inject_denied_why(pid_t pid, int scope, bool same_user, bool cap, char *err, size_t errlen)
{
    int p = (int)pid;
    if (scope == 3)
        snprintf(err, errlen, "ptrace is not permitted on process %d: kernel.yama.ptrace_scope is 3 (no attaching "
                 "at all, until reboot); start the program under `leaktop run` instead", p);
    else if (!same_user && !cap)
        snprintf(err, errlen, "ptrace is not permitted on process %d: it belongs to another user; run leaktop "
                 "as that user (or as root)", p);
    else if (scope == 2 && !cap)
        snprintf(err, errlen, "ptrace is not permitted on process %d: kernel.yama.ptrace_scope is 2 (only with "
                 "CAP_SYS_PTRACE); run leaktop as root", p);
    else if (scope == 1 && !cap)
        snprintf(err, errlen, "ptrace is not permitted on process %d: kernel.yama.ptrace_scope is 1 (only a "
                 "parent may trace); run `sudo sysctl kernel.yama.ptrace_scope=0`, or leaktop as root", p);
    else if (!cap)
        snprintf(err, errlen, "ptrace is not permitted on process %d: it is not dumpable (setuid, or "
                 "prctl(PR_SET_DUMPABLE, 0)); run leaktop as root (CAP_SYS_PTRACE)", p);
    else
        snprintf(err, errlen, "ptrace is not permitted on process %d even with CAP_SYS_PTRACE (a security "
                 "module or a container's seccomp profile forbids it)", p);
}

void inject_denied_now(pid_t pid, char *err, size_t errlen)
{
    char path[64], status[8192];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    bool same = inject_read_file(path, status, sizeof(status)) > 0 && inject_same_user(status);
    inject_denied_why(pid, inject_yama_scope(), same, inject_have_cap_ptrace(), err, errlen);
}

static inject_refusal inject_check_status(pid_t pid, const char *status, char *err, size_t errlen)
{
    int p = (int)pid;
    const char *state = inject_status_field(status, "State");
    if (state && (strchr(state, 'Z') || strchr(state, 'X'))) {
        snprintf(err, errlen, "process %d has exited (a zombie its parent has not reaped yet): nothing to attach to", p);
        return INJECT_ZOMBIE;
    }
    bool cap = inject_have_cap_ptrace();
    bool same = inject_same_user(status);
    int scope = inject_yama_scope();
    if ((!same && !cap) || (scope == 2 && !cap) || scope == 3) {
        inject_denied_why(pid, scope, same, cap, err, errlen);
        return INJECT_DENIED;
    }
    const char *tracer = inject_status_field(status, "TracerPid");
    int tpid = tracer ? atoi(tracer) : 0;
    if (tpid > 0) {
        char comm[64] = "?", path[64];
        snprintf(path, sizeof(path), "/proc/%d/comm", tpid);
        if (inject_read_file(path, comm, sizeof(comm)) > 0)
            comm[strcspn(comm, "\n")] = 0;
        snprintf(err, errlen, "process %d is already traced by process %d (%s), a debugger: detach it first", p,
                 tpid, comm);
        return INJECT_TRACED;
    }
    /* Strict mode allows only read, write, _exit and sigreturn: the mmap of
     * dlopen would kill the process. A filter (mode 2) is what Docker and
     * systemd give most services, and it allows what any program's own
     * dlopen needs: it is read and run on the calls the tracer makes once
     * the threads are held (inject_seccomp.c). */
    const char *sec = inject_status_field(status, "Seccomp");
    if (sec && atoi(sec) == 1) {
        snprintf(err, errlen, "process %d runs under seccomp strict mode (only read, write and exit): loading "
                 "the tracer would kill it; start it under `leaktop run` instead", p);
        return INJECT_SECCOMP;
    }
    return INJECT_OK;
}

/* A dynamically linked program maps the dynamic loader and libc.so.6. */
static inject_refusal inject_check_maps(pid_t pid, char *err, size_t errlen)
{
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "process %d: cannot read its memory map: %s", (int)pid, strerror(errno));
        return errno == ENOENT ? INJECT_NO_PROCESS : INJECT_DENIED;
    }
    bool libc = false, ld = false;
    while (fgets(line, sizeof(line), f)) {
        /* (deleted): upgraded on disk since the process started */
        libc |= strstr(line, "/libc.so.6\n") != NULL || strstr(line, "/libc.so.6 (deleted)\n") != NULL;
        ld |= strstr(line, "/ld-linux") != NULL;
    }
    fclose(f);
    if (libc && ld)
        return INJECT_OK;
    snprintf(err, errlen, "process %d is statically linked (%s): the tracer can only be loaded through glibc's "
             "dynamic loader", (int)pid, !ld ? "no dynamic loader mapped" : "no libc.so.6 mapped");
    return INJECT_STATIC;
}

inject_refusal inject_check(pid_t pid, char *err, size_t errlen)
{
    char path[64], status[8192];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (kill(pid, 0) != 0 && errno == ESRCH) {
        snprintf(err, errlen, "process %d does not exist", (int)pid);
        return INJECT_NO_PROCESS;
    }
    if (inject_read_file(path, status, sizeof(status)) <= 0) {
        snprintf(err, errlen, "process %d does not exist", (int)pid);
        return INJECT_NO_PROCESS;
    }
    inject_refusal r = inject_check_status(pid, status, err, errlen);
    return r != INJECT_OK ? r : inject_check_maps(pid, err, errlen);
}

int inject_exit_status(inject_refusal r)
{
    static const int status[] = {
        [INJECT_OK] = 0,
        [INJECT_NO_PROCESS] = LEAKTOP_EXIT_NO_PROCESS,
        [INJECT_ZOMBIE] = LEAKTOP_EXIT_ZOMBIE,
        [INJECT_DENIED] = LEAKTOP_EXIT_PTRACE_DENIED,
        [INJECT_TRACED] = LEAKTOP_EXIT_ALREADY_TRACED,
        [INJECT_STATIC] = LEAKTOP_EXIT_UNTRACEABLE,
        [INJECT_SECCOMP] = LEAKTOP_EXIT_SECCOMP,
        [INJECT_FAILED] = LEAKTOP_EXIT_NOT_TRACED,
    };
    return status[r];
}
