/* bench_dormant: what the tracer loaded into a running program costs per
 * allocation call: before it is attached (GOTs untouched: nothing),
 * attached (tracing), and after a detach (dormant: the GOTs still point at
 * the hooks, which go straight to the allocator). Prints ns per call for a
 * malloc+free pair, single thread, best of ROUNDS.
 *   bench_dormant TRACER [CALLS] [ROUNDS] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lateload_detach.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per call (a malloc and a free are two calls). */
static double measure(long calls, int rounds)
{
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long i = 0; i < calls / 2; i++) {
            void *volatile p = malloc(32 + (i & 63));
            free(p);
        }
        double ns = (now_ns() - t0) / (double)calls;
        best = ns < best ? ns : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long calls = argc > 2 ? atol(argv[2]) : 20000000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    double native = measure(calls, rounds);
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    int (*attach)(const char *) = h ? (int (*)(const char *))dlsym(h, LT_ATTACH_SYMBOL) : NULL;
    if (!attach) {
        fprintf(stderr, "bench_dormant: %s\n", dlerror());
        return 2;
    }
    double loaded = measure(calls, rounds);
    if (attach("") != 0)
        return 3;
    double tracing = measure(calls, rounds);
    detach();
    double dormant = measure(calls, rounds);
    printf("native %.1f ns/call\nloaded, not attached %.1f ns/call\nattached (tracing) %.1f ns/call\n"
           "detached (dormant hooks) %.1f ns/call, +%.1f ns over native\n",
           native, loaded, tracing, dormant, dormant - native);
    return 0;
}
