#define _GNU_SOURCE
/* fx_h_jail: what privilege-separated daemons do before they serve: chroot
 * into an empty directory (no /proc, no /dev/shm from then on), close every
 * descriptor above stderr, then start threads that allocate. A tracer that
 * needs /proc/self/maps for a new thread's stack bounds, or keeps a
 * descriptor of its own, must degrade, never crash or miscount.
 * Needs root for chroot; without it, it runs unjailed (same figures). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fx_threads.h"

#define THREADS 4
#define BLOCKS 250

static void *kept[THREADS][BLOCKS];

static void *serve(void *arg)
{
    void **mine = arg;
    for (int i = 0; i < BLOCKS; i++)
        mine[i] = malloc(48); // @expect exit size_diff=24000 count_diff=500
    for (int i = 0; i < BLOCKS; i += 2) {
        free(mine[i]);
        mine[i] = malloc(16); // @expect exit size_diff=8000 count_diff=500
    }
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/fx_h_jail.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int jailed = getuid() == 0 && chroot(dir) == 0 && chdir("/") == 0;
    syscall(SYS_close_range, 3u, ~0u, 0);
    if (fx_run_threads(THREADS, serve, &kept[0][0], BLOCKS) != 0)
        return 2;
    printf("served %s\n", jailed ? "jailed" : "unjailed");
    fflush(stdout);
    if (!jailed)
        rmdir(dir);
    return 0;
}
