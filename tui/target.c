/* target.c: waiting for a traced program's segment, its final state, and
 * the few /proc facts the live view shows about it. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* The tracer's constructor creates the segment as the program loads. */
#define TARGET_ATTACH_TIMEOUT_NS (10 * 1000000000LL)

session_config target_session_config(const options *o)
{
    session_config cfg = {
        .alloc_fns = o->alloc_fns, .nalloc_fns = o->nalloc_fns,
        .debug_dirs = o->debug_dirs, .ndebug_dirs = o->ndebug_dirs,
    };
    return cfg;
}

/* The segment appears at the program's first allocation (or its tracer's
 * constructor). A program that ends before that was never traced. */
session *target_wait_session(pid_t pid, const session_config *cfg, target_ended_fn ended,
                             void *ctx, char *err, size_t errlen)
{
    char why[256];
    int64_t give_up = util_now_ns() + TARGET_ATTACH_TIMEOUT_NS;
    for (;;) {
        bool missing = false;
        bool gone = ended(ctx);
        session *s = session_open(pid, cfg, &missing, why, sizeof(why));
        if (s)
            return s;
        if (!missing || gone || util_now_ns() > give_up) {
            snprintf(err, errlen, "%s%s", missing ? "the tracer did not start in the program: " : "", why);
            return NULL;
        }
        util_sleep_ms(1);
    }
}

diff_snapshot *target_final_snapshot(session *s)
{
    return session_snapshot_live(s, "exit");
}

/* Reads a small /proc file whole; the length, or -1. */
static ssize_t target_read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return n;
}

int64_t target_rss(pid_t pid)
{
    char buf[128];
    long long size, resident;
    if (target_read_proc(pid, "statm", buf, sizeof(buf)) <= 0 ||
        sscanf(buf, "%lld %lld", &size, &resident) != 2)
        return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

bool target_alive(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return false;
    char buf[512];
    if (target_read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
        return false;
    /* "pid (comm) S ...": the state follows the last ')' (comm may hold one). */
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

const char *target_gone_why(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return "does not exist";
    char buf[512];
    if (target_read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
        return "does not exist";
    const char *paren = strrchr(buf, ')');
    if (paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'))
        return "has exited (a zombie its parent has not reaped yet)";
    return NULL;
}

void target_name(pid_t pid, char *buf, size_t len)
{
    char raw[256];
    ssize_t n = target_read_proc(pid, "cmdline", raw, sizeof(raw));
    if (n <= 0)
        n = target_read_proc(pid, "comm", raw, sizeof(raw));
    if (n <= 0) {
        snprintf(buf, len, "?");
        return;
    }
    raw[strcspn(raw, "\n")] = 0;
    snprintf(buf, len, "%s", raw);
}
