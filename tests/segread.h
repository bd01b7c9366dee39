/* segread.h: what the segment-reading tests share: start a fixture
 * with the tracer preloaded (and tracing itself: LEAKTOP_PID), wait for
 * it to stop itself, map its segment read-only from /dev/shm, and read
 * its live counters as any reader does (lt_shm.h). */
#ifndef LEAKTOP_TESTS_SEGREAD_H
#define LEAKTOP_TESTS_SEGREAD_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_shm.h"

/* The fixture's stdout goes to out_fd when it is not -1. */
static inline pid_t seg_start(const char *tracer, const char *fixture, int out_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int)getpid());
        setenv("LEAKTOP_PID", buf, 1);
        setenv("LD_PRELOAD", tracer, 1);
        if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
            _exit(126);
        execl(fixture, fixture, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static inline bool seg_stopped(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st);
}

/* pid's segment mapped read-only (its length in *len, its path in name),
 * or NULL. */
static inline uint8_t *seg_map(pid_t pid, size_t *len, char *name, size_t namelen)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "leaktop-%u-%d-", (unsigned)getuid(), (int)pid);
    DIR *d = opendir("/dev/shm");
    struct dirent *e;
    uint8_t *seg = NULL;
    while (d && (e = readdir(d)) != NULL && !seg) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(name, namelen, "/dev/shm/%s", e->d_name);
        int fd = open(name, O_RDONLY);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0) {
            *len = (size_t)st.st_size;
            seg = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
            seg = seg == MAP_FAILED ? NULL : seg;
        }
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    return seg;
}

/* A fixture stopped by itself, and its segment. */
typedef struct seg_run {
    pid_t    pid;
    uint8_t *seg;
    size_t   len;
    char     name[512];
} seg_run;

/* Starts the fixture (its stdout to out_fd unless -1), waits for it to
 * stop itself and maps its segment; false (the fixture killed) when
 * either fails. */
static inline bool seg_run_start(seg_run *r, const char *tracer, const char *fixture, int out_fd)
{
    memset(r, 0, sizeof(*r));
    r->pid = seg_start(tracer, fixture, out_fd);
    if (r->pid > 0 && seg_stopped(r->pid))
        r->seg = seg_map(r->pid, &r->len, r->name, sizeof(r->name));
    if (!r->seg && r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    return r->seg != NULL;
}

/* Kills the fixture (when still there) and removes its segment. */
static inline void seg_run_end(seg_run *r)
{
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    munmap(r->seg, r->len);
    unlink(r->name);
}

/* The segment's live counters, as a reader sees them. */
static inline lt_live_view seg_live_view(const uint8_t *seg)
{
    const lt_shm_header *h = (const lt_shm_header *)seg;
    return (lt_live_view){
        .shared = (const lt_counter *)(seg + h->counters_off),
        .pairs = h->pairs_ready ? (const lt_pair *)(seg + h->pairs_off) : NULL,
        .pairs_index = (const uint32_t *)(seg + h->pairs_off + (uint64_t)h->pairs_cap * sizeof(lt_pair)),
        .pairs_cap = h->pairs_cap,
        .pairs_used = h->pairs_used,
        .tslots = seg + h->tslots_off,
        .nslots = h->tslots_hwm < h->tslots ? h->tslots_hwm : h->tslots,  /* a damaged header too */
        .slot_size = h->tslot_size,
        .entries = h->tslot_entries,
    };
}

/* Every live (trace, epoch) part of the pair table and the thread slots
 * (not the shared counters: epoch 0's, or lost pairs'), to fn. */
static inline void seg_live_each(const uint8_t *seg,
                                 void (*fn)(void *, uint32_t, uint32_t, int64_t, int64_t), void *ctx)
{
    lt_live_view v = seg_live_view(seg);
    lt_parts_each(&v, fn, ctx);
}

#endif
