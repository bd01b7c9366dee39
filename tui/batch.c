/* batch.c: the batch loop. Waits for the program's segment, then polls
 * the ring for marks and the clock for intervals until the program ends;
 * the final report reads the counters after death, so no flush by the
 * program is needed (SIGKILL included). */
#include "batch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "report.h"
#include "session.h"
#include "snapdir.h"
#include "target.h"
#include "util.h"

#define BATCH_POLL_MS 5

typedef struct batch {
    const options *o;
    FILE          *out;
    pid_t          pid;
    session       *s;
    diff_snapshot *baseline;      /* first mark, or NULL = empty snapshot */
    int64_t        worst_growth;
    unsigned       nsaved;
    int            status;        /* waitpid status once the program ended */
    bool           ended;
    uint64_t       warned_traces; /* dropped traces already said on stderr */
    uint64_t       warned_marks;
    bool           left;          /* the program exec'd out of tracing */
    char           left_path[256];
} batch;

static volatile sig_atomic_t batch_child = 0;

/* TERM and HUP go to the program, which then ends and gets its report.
 * INT and QUIT from a terminal reach the program directly (same group). */
static void batch_forward(int sig)
{
    if (batch_child > 0)
        kill((pid_t)batch_child, sig);
}

static void batch_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = batch_forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
}

static bool batch_reap(batch *b, bool block)
{
    if (b->ended)
        return true;
    int st;
    pid_t r;
    while ((r = waitpid(b->pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == b->pid) {
        b->ended = true;
        b->status = st;
    }
    return b->ended;
}

/* Reports of lineno or filename statistics need each trace's top frame
 * only; the rest of a stack is symbolized just for traceback or cumulative
 * grouping and for snapshot files, which keep whole tracebacks. */
static session_config batch_session_config(const options *o)
{
    session_config cfg = target_session_config(o);
    bool all_frames = false;
    for (size_t i = 0; i < o->diff.nfilters; i++)
        all_frames |= o->diff.filters[i].all_frames;
    cfg.top_frames_only = o->diff.group != DIFF_GROUP_TRACEBACK && !o->diff.cumulative &&
                          !o->save_dir && !all_frames;
    return cfg;
}

static bool batch_ended(void *ctx)
{
    return batch_reap(ctx, false);
}

static int batch_attach(batch *b)
{
    session_config cfg = batch_session_config(b->o);
    char err[512];
    b->s = target_wait_session(b->pid, &cfg, batch_ended, b, err, sizeof(err));
    if (!b->s) {
        util_error("%s", err);
        return -1;
    }
    return 0;
}

static void batch_save(batch *b, const diff_snapshot *snap)
{
    if (!b->o->save_dir)
        return;
    char err[256];
    if (snapdir_save(b->o->save_dir, snap, (int)b->pid, ++b->nsaved, NULL, 0, err, sizeof(err)) != 0)
        util_error("%s", err);
}

/* What the tracer could not record, said once on stderr as it grows. */
static void batch_warn_health(batch *b, const session_health *h)
{
    if (h->traces_dropped > b->warned_traces)
        util_error("%llu allocation(s) charged to <unknown>: %s", (unsigned long long)h->traces_dropped,
                   *h->full_why ? h->full_why : "their stacks could not be stored");
    if (h->marks_dropped > b->warned_marks)
        util_error("%llu mark(s) not stored: %s", (unsigned long long)h->marks_dropped, h->full_why);
    b->warned_traces = h->traces_dropped;
    b->warned_marks = h->marks_dropped;
}

/* The program exec'd into an image the tracer is not in: what we hold is
 * the old image's heap at the exec, not the program's end. Said once. */
static void batch_check_left(batch *b)
{
    if (b->left || !session_left_tracing(b->s, b->left_path, sizeof(b->left_path)))
        return;
    b->left = true;
    util_error("the program left tracing at exec (%s): the figures are the old image's, at the exec",
               b->left_path);
}

static void batch_report(batch *b, const diff_snapshot *cur, const char *reason, int sig)
{
    session_health health;
    session_health_get(b->s, &health);
    report_event ev = {
        .reason = reason, .label = diff_snapshot_label(cur), .signal = sig,
        .pid = (int)b->pid, .elapsed_s = diff_snapshot_elapsed(cur),
        .traced = true, .traces_dropped = health.traces_dropped,
        .left_tracing = b->left ? b->left_path : NULL,
    };
    batch_warn_health(b, &health);
    int64_t growth = 0;
    char err[256];
    if (report_write(b->out, b->o, cur, b->baseline, &ev, &growth, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return;
    }
    if (growth > b->worst_growth)
        b->worst_growth = growth;
}

/* The first mark becomes the baseline; its own report compares it with
 * itself, so every report in a run shares one baseline. */
static void batch_on_mark(batch *b, diff_snapshot *snap)
{
    batch_save(b, snap);
    if (!b->baseline)
        b->baseline = snap;
    batch_report(b, snap, "mark", 0);
    if (snap != b->baseline)
        diff_snapshot_free(snap);
}

static void batch_drain_marks(batch *b)
{
    diff_snapshot *snap;
    uint64_t skipped = 0;
    while ((snap = session_next_mark(b->s, &skipped)) != NULL) {
        if (skipped)
            util_error("%llu mark(s) were overwritten before they could be read", (unsigned long long)skipped);
        batch_on_mark(b, snap);
    }
}

static void batch_interval(batch *b, unsigned n)
{
    char label[32];
    snprintf(label, sizeof(label), "interval-%u", n);
    diff_snapshot *snap = session_snapshot_live(b->s, label);
    batch_report(b, snap, "interval", 0);
    diff_snapshot_free(snap);
}

static void batch_final(batch *b)
{
    batch_check_left(b);
    bool sig = WIFSIGNALED(b->status);
    diff_snapshot *snap = target_final_snapshot(b->s);
    batch_save(b, snap);
    batch_report(b, snap, sig ? "signal" : "exit", sig ? WTERMSIG(b->status) : 0);
    diff_snapshot_free(snap);
}

/* The program exec'd (a #! script, `env`, a wrapper): its new image made a
 * new segment. The old heap is gone with the old image, and so is the
 * baseline: follow the new one from its empty start. */
static void batch_follow_exec(batch *b)
{
    if (!session_replaced(b->s))
        return;
    batch_drain_marks(b);
    session_config cfg = batch_session_config(b->o);
    char err[512];
    session *next = target_wait_session(b->pid, &cfg, batch_ended, b, err, sizeof(err));
    if (!next)
        return;  /* keep reporting what we had */
    session_unlink(b->s);
    session_free(b->s);
    b->s = next;
    if (b->baseline)
        diff_snapshot_free(b->baseline);
    b->baseline = NULL;
}

static void batch_loop(batch *b)
{
    int64_t period = (int64_t)b->o->interval_ms * 1000000;
    int64_t next = util_now_ns() + period;
    unsigned ticks = 0;
    while (!batch_reap(b, false)) {
        batch_follow_exec(b);
        batch_check_left(b);
        batch_drain_marks(b);
        if (period && util_now_ns() >= next) {
            batch_interval(b, ++ticks);
            next += period;
        }
        /* Idle time: symbolize what the program recorded so far, so the
         * reports (the final one above all) find it done. */
        if (session_prefetch(b->s, BATCH_POLL_MS) == 0)
            util_sleep_ms(BATCH_POLL_MS);
    }
    batch_follow_exec(b);
    batch_drain_marks(b);
    batch_final(b);
}

static FILE *batch_output(const options *o)
{
    if (!o->output)
        return stdout;
    FILE *f = fopen(o->output, "w");
    if (!f)
        util_error("%s: %s", o->output, strerror(errno));
    return f;
}

int batch_run(const options *o, char **argv)
{
    batch b = {.o = o, .worst_growth = 0};
    b.out = batch_output(o);
    if (!b.out)
        return 1;
    if (o->save_dir && mkdir(o->save_dir, 0777) != 0 && errno != EEXIST) {
        util_error("%s: %s", o->save_dir, strerror(errno));
        return 1;
    }
    launch_spec spec = {.argv = argv, .frames = o->frames, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    int status = 0;
    char err[512];
    batch_signals();
    b.pid = launch_start(&spec, &status, err, sizeof(err));
    if (b.pid < 0) {
        util_error("%s", err);
        return status;
    }
    batch_child = b.pid;
    bool traced = batch_attach(&b) == 0;
    if (traced) {
        batch_loop(&b);
        session_unlink(b.s);
        session_free(b.s);
    }
    batch_reap(&b, true);
    if (b.baseline)
        diff_snapshot_free(b.baseline);
    if (b.out != stdout)
        fclose(b.out);
    if (!traced)
        return LAUNCH_EXIT_NOT_TRACED;  /* never an empty report that looks like success */
    if (o->fail_on_growth >= 0 && b.left) {
        util_error("--fail-on-growth: the program left tracing at exec (%s): its growth is unknown",
                   b.left_path);
        return LAUNCH_EXIT_LEFT_TRACING;
    }
    if (o->fail_on_growth >= 0 && b.worst_growth > o->fail_on_growth) {
        util_error("growth since baseline %lld B exceeds --fail-on-growth %lld B",
                   (long long)b.worst_growth, (long long)o->fail_on_growth);
        return LAUNCH_EXIT_GROWTH;
    }
    return launch_exit_code(b.status);
}
