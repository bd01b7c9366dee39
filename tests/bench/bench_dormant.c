/* bench_dormant: what the tracer loaded into a running program costs per
 * allocation call: before it is attached (GOTs untouched: nothing),
 * attached (tracing), after a detach (the GOT cells restored: nothing),
 * and a dormant hook itself (reached through a pointer the program copied
 * while attached), against the same indirect call to libc's. Prints ns per
 * call (a malloc or a free), single thread, best of ROUNDS.
 *   bench_dormant TRACER [CALLS] [ROUNDS] */
#include <dlfcn.h>
#include <stdbool.h>
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

static void *(*volatile alloc_fn)(size_t) = malloc;
static void (*volatile free_fn)(void *) = free;

/* ns per call (a malloc and a free are two calls); through the GOT, or
 * through the pointers above. */
static double measure_how(long calls, int rounds, bool indirect)
{
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long i = 0; i < calls / 2 && !indirect; i++) {
            void *volatile p = malloc(32 + (i & 63));
            free(p);
        }
        for (long i = 0; i < calls / 2 && indirect; i++) {
            void *volatile p = alloc_fn(32 + (i & 63));
            free_fn(p);
        }
        double ns = (now_ns() - t0) / (double)calls;
        best = ns < best ? ns : best;
    }
    return best;
}

static double measure(long calls, int rounds)
{
    return measure_how(calls, rounds, false);
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
    double detached = measure(calls, rounds);
    alloc_fn = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
    free_fn = (void (*)(void *))dlsym(RTLD_DEFAULT, "free");
    double libc_ptr = measure_how(calls, rounds, true);
    alloc_fn = (void *(*)(size_t))dlsym(h, "malloc");
    free_fn = (void (*)(void *))dlsym(h, "free");
    double dormant = measure_how(calls, rounds, true);
    printf("native %.1f ns/call\nloaded, not attached %.1f ns/call\nattached (tracing) %.1f ns/call\n"
           "detached (GOT cells restored) %.1f ns/call\n"
           "dormant hook %.1f ns/call, +%.1f ns over libc's through the same pointer call\n",
           native, loaded, tracing, detached, dormant, dormant - libc_ptr);
    return 0;
}
