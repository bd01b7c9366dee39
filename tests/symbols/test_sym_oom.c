/* test_sym_oom.c: symbols/ under allocation failure. The test links the
 * library with malloc, calloc and realloc wrapped (-Wl,--wrap): its calls
 * (not libdwarf's or libelf's, which are shared libraries) fail at the Nth
 * allocation, for every N of a full resolution of real binaries, once each
 * and from N on. Every run must end normally, with at least one frame per
 * address, nothing leaked (LeakSanitizer in the sanitizer build), and the
 * resolver able to say "out of memory": never an abort.
 *
 * usage: test_sym_oom BINARY... */
#include "check.h"
#include "sym.h"
#include "sym_internal.h"

#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static long oom_count;      /* allocations since arming */
static long oom_fail_at;    /* 0: never fail */
static bool oom_sticky;     /* fail every allocation from fail_at on */

static bool oom_now(void)
{
    if (oom_fail_at == 0)
        return false;
    long k = ++oom_count;
    return oom_sticky ? k >= oom_fail_at : k == oom_fail_at;
}

void *__wrap_malloc(size_t n)
{
    return oom_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return oom_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return oom_now() ? NULL : __real_realloc(p, n);
}

#define NADDR 24

/* Resolves addresses across each binary's text, with allocation `fail_at`
 * failing (and every later one when sticky). Returns how many allocations were made,
 * and whether the resolver said it ran out of memory. */
static long run(char **paths, int npaths, long fail_at, bool sticky,
                bool in_process, bool *said_oom)
{
    oom_count = 0; /* fail_at counts from here */
    oom_fail_at = fail_at;
    oom_sticky = sticky;
    sym_resolver *r = sym_resolver_new(NULL, 0);
    sym_resolver_set_in_process(r, in_process);
    for (int i = 0; i < npaths; i++) {
        sym_module m = {.path = paths[i], .bias = 0x100000 * (uint64_t)(i + 1),
                        .lo = 0x100000 * (uint64_t)(i + 1),
                        .hi = 0x100000 * (uint64_t)(i + 1) + 0x80000,
                        .gen_unloaded = UINT32_MAX};
        sym_resolver_set_module(r, (uint32_t)i, &m); /* may fail: -ENOMEM */
    }
    sym_frame f[16];
    for (int i = 0; i < npaths; i++)
        for (uint64_t a = 0; a < NADDR; a++) {
            uint64_t ra = 0x100000 * (uint64_t)(i + 1) + 0x1000 + a * 0x53;
            int n = sym_resolve(r, ra, 0, f, 16);
            CHECK(n >= 1 && n <= 16);
        }
    const char *err = sym_resolver_last_error(r);
    *said_oom = err != NULL && strstr(err, "out of memory") != NULL;
    long made = oom_count;
    oom_fail_at = 0;
    sym_resolver_free(r);
    return made;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_sym_oom BINARY...\n");
        return 2;
    }
    bool said;
    /* Count with a failure point that is never reached. */
    long total = run(argv + 1, argc - 1, 1L << 40, false, true, &said);
    CHECK(total > 50 && !said);
    int runs = 0, oom_said = 0;
    long step = total > 400 ? total / 400 : 1;
    for (long n = 1; n <= total; n += step) {
        for (int sticky = 0; sticky <= 1; sticky++) {
            run(argv + 1, argc - 1, n, sticky, true, &said);
            runs++;
            oom_said += said;
        }
    }
    /* The reader in a child process: its answer cannot be held. */
    for (long n = total / 2; n <= total; n += total / 4 + 1) {
        run(argv + 1, argc - 1, n, true, false, &said);
        runs++;
    }
    printf("test_sym_oom: %ld allocations in a full run; %d runs with failures, "
           "%d said \"out of memory\"\n", total, runs, oom_said);
    CHECK(oom_said > 0);
    return check_report("test_sym_oom");
}
