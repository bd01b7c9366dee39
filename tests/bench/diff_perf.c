/* diff_perf.c: prints how long grouping and compare take on 100,000 traces
 * of 20 frames per snapshot (two snapshots), per grouping mode. Printed,
 * not asserted: sanitizer builds are several times slower. */
#include "diff.h"
#include "testrand.h"

#include <stdio.h>
#include <time.h>

enum { NTRACES = 100000, DEPTH = 20, NFILES = 200, NLINES = 50 };


static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `seed` picks the tracebacks: two snapshots made with one seed share them
 * (sizes and counts still differ), as a program's snapshots mostly do. */
static diff_snapshot *make(diff_loctab *lt, const uint32_t *locs, size_t nlocs, uint64_t seed)
{
    diff_snapshot *s = diff_snapshot_new(lt, DEPTH);
    uint32_t frames[DEPTH];
    uint64_t sizes = test_rand_state;
    for (int i = 0; i < NTRACES; i++) {
        test_rand_state = seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
        test_rand();
        /* Shared outer frames (main, loops) and varied inner ones, like real stacks. */
        for (int k = 0; k < DEPTH; k++)
            frames[k] = locs[k < DEPTH / 2 ? test_rand() % nlocs : (size_t)k * 7 % nlocs];
        test_rand_state = sizes;
        diff_snapshot_add(s, (int64_t)(test_rand() % 4096), 1 + (int64_t)(test_rand() % 3), frames, DEPTH);
        sizes = test_rand_state;
    }
    return s;
}

int main(void)
{
    test_rand_seed(88172645463325252ull);
    diff_loctab *lt = diff_loctab_new();
    static uint32_t locs[NFILES * NLINES];
    char file[64];
    for (int f = 0; f < NFILES; f++)
        for (int l = 0; l < NLINES; l++) {
            snprintf(file, sizeof file, "/src/module%03d.c", f);
            diff_frame fr = { .function = "fn", .file = file, .line = (uint32_t)l + 1 };
            locs[f * NLINES + l] = diff_loctab_intern(lt, &fr);
        }
    diff_snapshot *old = make(lt, locs, NFILES * NLINES, 1), *new_ = make(lt, locs, NFILES * NLINES, 1);
    diff_snapshot *other = make(lt, locs, NFILES * NLINES, 2);
    struct { diff_group g; bool cum; const char *name; } modes[] = {
        { DIFF_GROUP_LINENO, false, "lineno" }, { DIFF_GROUP_FILENAME, false, "filename" },
        { DIFF_GROUP_TRACEBACK, false, "traceback" }, { DIFF_GROUP_LINENO, true, "cumulative lineno" },
    };
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        diff_options o = { .group = modes[i].g, .cumulative = modes[i].cum, .sort = DIFF_SORT_GROWTH };
        const char *what[3] = { "statistics", "compare, shared stacks", "compare, disjoint stacks" };
        for (int k = 0; k < 3; k++) {
            double t0 = now();
            diff_stats *st = k == 0 ? diff_statistics(new_, &o, NULL, 0)
                                    : diff_compare(new_, k == 1 ? old : other, &o, NULL, 0);
            double dt = now() - t0;
            printf("perf: %-24s %dk traces x %d frames, %-17s: %7.1f ms, %zu groups\n", what[k],
                   k ? 2 * NTRACES / 1000 : NTRACES / 1000, DEPTH, modes[i].name, dt * 1e3,
                   st ? diff_stats_count(st) : 0);
            diff_stats_free(st);
        }
    }
    diff_snapshot_free(old);
    diff_snapshot_free(new_);
    diff_snapshot_free(other);
    diff_loctab_free(lt);
    return 0;
}
