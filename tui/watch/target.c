/* target.c: the few /proc facts the watch needs about its process. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

char target_state(pid_t pid)
{
    char buf[512];
    if (target_read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
        return 0;
    /* "pid (comm) S ...": the state follows the last ')' (comm may hold one). */
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Field n (n >= 3) of /proc/PID/stat, a number. */
static bool target_stat_field(pid_t pid, int n, unsigned long long *value)
{
    char buf[1024];
    if (target_read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
        return false;
    /* After the last ')': a space, then the 3rd field (the state). */
    const char *p = strrchr(buf, ')');
    for (int field = 3; p && field <= n; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return false;
    *value = strtoull(p + 1, NULL, 10);
    return true;
}

bool target_start(pid_t pid, unsigned long long *ticks)
{
    return target_stat_field(pid, 22, ticks);
}

bool target_parent(pid_t pid, pid_t *parent)
{
    unsigned long long v;
    if (!target_stat_field(pid, 4, &v))
        return false;
    *parent = (pid_t)v;
    return true;
}

bool target_alive(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return false;
    char st = target_state(pid);
    return st != 0 && st != 'Z' && st != 'X';
}

const char *target_gone_why(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return "does not exist";
    char st = target_state(pid);
    if (st == 0)
        return "does not exist";
    if (st == 'Z' || st == 'X')
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
