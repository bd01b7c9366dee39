/* test_watch_debuginfod.c: the live view's way with debuginfod (the watch
 * with debuginfod_wait off), on fx_inline_stripped whose debug file a slow
 * server (the driver, check_watch_debuginfod.py) sends after seconds:
 * - the program ends and END's snapshot is built while the fetch is still
 *   under way: its 7777-byte trace has no names yet, and the health says
 *   fetches run; nothing waited for them (END within the server's delay);
 * - once the answer is in (health: no fetch), a new snapshot of the same
 *   counters names the trace's frames inner <- middle <- outer.
 * Usage: test_watch_debuginfod FX_INLINE_STRIPPED SERVER_DELAY_MS
 * (LEAKTOP_TRACER names the tracer; DEBUGINFOD_URLS the server) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "watch.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The frames of the snapshot's trace of `size` bytes: how many, and the
 * function of each (NULL when unknown). */
static int frames_of(const diff_snapshot *s, const diff_loctab *locs, int64_t want,
                     const char **names, int max)
{
    for (size_t i = 0; i < diff_snapshot_ntraces(s); i++) {
        int64_t size, count;
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &size, &count, &frames, &n);
        if (size != want)
            continue;
        int k = 0;
        for (; k < (int)n && k < max; k++)
            names[k] = diff_loctab_get(locs, frames[k])->function;
        return k;
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_watch_debuginfod FX_INLINE_STRIPPED SERVER_DELAY_MS\n");
        return 2;
    }
    double delay_s = atof(argv[2]) / 1000;
    watch_config cfg = {.frames = watch_default_frames, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                        .session = {.debuginfod_ms = 30000, .debuginfod_wait = false}};
    char err[512];
    int status = 0;
    char *args[] = {argv[1], NULL};
    double t0 = now_s();
    watch *w = watch_launch(&cfg, args, &status, err, sizeof(err));
    if (!w || watch_wait_traced(w, &status, err, sizeof(err)) != 0) {
        fprintf(stderr, "cannot watch %s: %s (status %d)\n", argv[1], err, status);
        return 1;
    }
    diff_snapshot *end = NULL;
    watch_event ev;
    for (int ms = 0; ms < 30000 && !end; ms++) {
        while (!end && watch_poll(w, &ev)) {
            if (ev.kind == WATCH_EVENT_END)
                end = ev.snap;
            else if (ev.kind == WATCH_EVENT_MARK)
                diff_snapshot_free(ev.snap);
        }
        if (!end && watch_prefetch(w, 1) == 0)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    double t_end = now_s() - t0;
    CHECK(end != NULL);
    CHECK_MSG(t_end < delay_s, "END after %.2f s: the watch waited for the fetch", t_end);
    session_health h;
    watch_health(w, &h);
    /* fx_inline's, and those of the other modules without debug info here
     * (the vdso...), which the stand-in answers 404 after its delay. */
    CHECK_MSG(h.fetching >= 1, "%u fetches under way", h.fetching);
    const char *names[8] = {0};
    int n = end ? frames_of(end, watch_locs(w), 7777, names, 8) : -1;
    /* Stripped, without the debug file: outer's call site, then main. */
    CHECK_MSG(n >= 2 && !names[0] && !names[1], "END: %d frames, first %s", n, n > 0 && names[0] ? names[0] : "-");

    for (int i = 0; i < 300 && h.fetching > 0; i++) {
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        watch_health(w, &h);
    }
    CHECK_INT(h.fetching, 0);
    diff_snapshot *later = watch_snapshot(w, "later");
    n = frames_of(later, watch_locs(w), 7777, names, 8);
    CHECK_MSG(n >= 3, "later: %d frames", n);
    if (n >= 3) {
        CHECK_STR(names[0], "inner");
        CHECK_STR(names[1], "middle");
        CHECK_STR(names[2], "outer");
    }
    printf("END after %.2f s with the fetch under way; names once it came in\n", t_end);
    diff_snapshot_free(later);
    if (end)
        diff_snapshot_free(end);
    watch_free(w);
    return check_report("test_watch_debuginfod");
}
