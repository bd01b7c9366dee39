/* fx_h_nofile: a program at its descriptor limit (a server that leaks
 * descriptors, one that lowered RLIMIT_NOFILE to what it keeps open):
 * no /proc/self/maps for a thread's stack bounds, no pipe for libunwind.
 * Its allocations, the main thread's and new threads', must still be
 * counted at their lines, not all under <unknown>. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "fx_threads.h"

#define THREADS 4
#define BLOCKS 100

static void *kept[THREADS][BLOCKS];
static void *volatile mine[10];

static void *serve(void *arg)
{
    void **m = arg;
    for (int i = 0; i < BLOCKS; i++)
        m[i] = malloc(24); // @expect exit size_diff=9600 count_diff=400
    return NULL;
}

int main(void)
{
    struct rlimit rl = {3, 3};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1;
    for (int i = 0; i < 10; i++)
        mine[i] = malloc(56); // @expect exit size_diff=560 count_diff=10
    if (fx_run_threads(THREADS, serve, &kept[0][0], BLOCKS) != 0)
        return 2;
    printf("served at 3 descriptors\n");
    return 0;
}
