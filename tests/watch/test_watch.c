/* test_watch.c: the watch as its clients see it, on real traced runs of
 * fx_basic (marks "base" then "after", exits 0):
 * - events come in order: MARK base (the baseline, by the first-mark
 *   rule), MARK after, END with the final state and the wait status, then
 *   nothing; after vs base is exact (fx_basic's @exact-total);
 * - once the client chose a baseline, marks stay marks;
 * - a launched shell that execs the program (after a while) is followed:
 *   EXEC, then the new image's marks, its first one the baseline again;
 * - a program that is not there gets the status of a missing command.
 * Usage: test_watch FX_BASIC   (LEAKTOP_TRACER names the tracer) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "exit_status.h"
#include "watch.h"

typedef struct seen {
    int            marks, baselines, execs, ends, skipped, left, truncated;
    char           left_path[256];
    char           labels[8][16];
    bool           baseline_of[8];
    diff_snapshot *base, *after;
} seen;

static watch *start(char **argv)
{
    watch_config cfg = {.frames = watch_default_frames, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    char err[512];
    int status = 0;
    watch *w = watch_launch(&cfg, argv, &status, err, sizeof(err));
    if (!w || watch_wait_traced(w, &status, err, sizeof(err)) != 0) {
        fprintf(stderr, "cannot watch %s: %s (status %d)\n", argv[0], err, status);
        exit(1);
    }
    return w;
}

static void on_event(seen *s, const watch_event *ev)
{
    switch (ev->kind) {
    case WATCH_EVENT_MARK:
        if (s->marks < 8) {
            snprintf(s->labels[s->marks], sizeof(s->labels[0]), "%s", diff_snapshot_label(ev->snap));
            s->baseline_of[s->marks] = ev->baseline;
        }
        s->marks++;
        s->baselines += ev->baseline;
        if (strcmp(diff_snapshot_label(ev->snap), "base") == 0 && !s->base)
            s->base = ev->snap;
        else if (strcmp(diff_snapshot_label(ev->snap), "after") == 0 && !s->after)
            s->after = ev->snap;
        else
            diff_snapshot_free(ev->snap);
        break;
    case WATCH_EVENT_SKIPPED:
        s->skipped++;
        break;
    case WATCH_EVENT_EXEC:
        s->execs++;
        /* The old image's snapshots go with its frame table. */
        if (s->base)
            diff_snapshot_free(s->base);
        if (s->after)
            diff_snapshot_free(s->after);
        s->base = s->after = NULL;
        break;
    case WATCH_EVENT_TRUNCATED:
        s->truncated++;
        break;
    case WATCH_EVENT_LEFT:
        s->left++;
        snprintf(s->left_path, sizeof(s->left_path), "%s", ev->path);
        break;
    case WATCH_EVENT_END:
        s->ends++;
        CHECK_STR(diff_snapshot_label(ev->snap), "exit");
        diff_snapshot_free(ev->snap);
        break;
    }
}

static void drain(watch *w, seen *s)
{
    watch_event ev;
    /* As batch.c does: poll, and symbolize or sleep in between (30 s at most). */
    for (int ms = 0; ms < 30000 && !watch_ended(w); ms++) {
        while (watch_poll(w, &ev))
            on_event(s, &ev);
        if (!watch_ended(w) && watch_prefetch(w, 1) == 0)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK(watch_ended(w));
    CHECK(!watch_poll(w, &ev));   /* nothing after END */
}

static void forget(seen *s)
{
    if (s->base)
        diff_snapshot_free(s->base);
    if (s->after)
        diff_snapshot_free(s->after);
}

static void marks_then_end(const char *fx)
{
    char *argv[] = {(char *)fx, NULL};
    watch *w = start(argv);
    CHECK(watch_launched(w));
    seen s = {0};
    drain(w, &s);
    CHECK_INT(s.marks, 2);
    CHECK_STR(s.labels[0], "base");
    CHECK_STR(s.labels[1], "after");
    CHECK(s.baseline_of[0] && !s.baseline_of[1]);
    CHECK_INT(s.ends, 1);
    CHECK_INT(s.execs, 0);
    int ws = -1;
    CHECK(watch_status(w, &ws) && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK_INT(watch_rss(w), -1);   /* gone */
    if (s.base && s.after) {
        diff_options o = {.group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH};
        char err[256];
        diff_stats *st = diff_compare(s.after, s.base, &o, err, sizeof(err));
        diff_stat total;
        diff_stats_total(st, &total);
        CHECK_INT(total.size_diff, 51200 + 9900 + 4096 + 640 + 1280 - 64000 - 100);
        CHECK_INT(total.count_diff, 200 + 30 + 1 + 1 + 1 + 1 - 64 - 1);
        diff_stats_free(st);
    }
    forget(&s);
    watch_free(w);
}

static void chosen_baseline_wins(const char *fx)
{
    char *argv[] = {(char *)fx, NULL};
    watch *w = start(argv);
    watch_baseline_chosen(w);
    seen s = {0};
    drain(w, &s);
    CHECK_INT(s.marks, 2);
    CHECK_INT(s.baselines, 0);
    forget(&s);
    watch_free(w);
}

static void exec_is_followed(const char *fx)
{
    /* The shell lives a while first, so the watch surely opens its
     * segment before the exec replaces it (an exec before the watch
     * looked would be no exec to the watch, just the program). */
    char script[1024];
    snprintf(script, sizeof(script), "sleep 0.5; exec %s", fx);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    watch *w = start(argv);
    seen s = {0};
    drain(w, &s);
    CHECK_INT(s.execs, 1);
    CHECK(s.base && s.after);   /* the new image's marks, after the EXEC */
    CHECK_INT(s.baselines, 1);
    CHECK_INT(s.ends, 1);
    forget(&s);
    watch_free(w);
}

/* env -i drops LD_PRELOAD: the image it execs is not traced. The watch
 * says so once, with the path, and still ends with the old image's state. */
static void exec_out_of_tracing_is_said(void)
{
    char *argv[] = {"/usr/bin/env", "-i", "/bin/true", NULL};
    watch *w = start(argv);
    seen s = {0};
    drain(w, &s);
    CHECK_INT(s.left, 1);
    CHECK_STR(s.left_path, "/bin/true");
    CHECK(watch_left_tracing(w) && strcmp(watch_left_tracing(w), "/bin/true") == 0);
    CHECK_INT(s.ends, 1);
    forget(&s);
    watch_free(w);
}

static void missing_program(void)
{
    char *argv[] = {"/nonexistent/leaktop-test-program", NULL};
    watch_config cfg = {.frames = watch_default_frames, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    char err[512] = "";
    int status = 0;
    CHECK(watch_launch(&cfg, argv, &status, err, sizeof(err)) == NULL);
    CHECK_INT(status, LEAKTOP_EXIT_NOTFOUND);
    CHECK(strstr(err, "not found") != NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !getenv("LEAKTOP_TRACER")) {
        fprintf(stderr, "usage: LEAKTOP_TRACER=libleaktop.so test_watch FX_BASIC\n");
        return 2;
    }
    marks_then_end(argv[1]);
    chosen_baseline_wins(argv[1]);
    exec_is_followed(argv[1]);
    exec_out_of_tracing_is_said();
    missing_program();
    return check_report("test_watch");
}
