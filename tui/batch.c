/* batch.c: the batch client of the watch: a report at every mark, every
 * --interval and at the end, whose final state the watch reads after
 * death (SIGKILL included). Between polls it lets the watch symbolize. */
#include "batch.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
#include "report.h"
#include "serve.h"
#include "snapdir.h"
#include "util.h"
#include "watch.h"

/* How often the loop looks at the program: every 5 ms while something
 * happens (events, new stacks to symbolize, requests), backing off to
 * 40 ms when nothing does. A quiet program (a server between requests, a
 * `--serve` exporter left running) then costs ~0.3% of a core instead
 * of 1.3%. The program's end cuts a pause short (a pidfd, where the
 * kernel has them); a request is seen 40 ms later at most. */
#define BATCH_POLL_MS      5
#define BATCH_IDLE_POLL_MS 40

typedef struct batch {
    const options *o;
    FILE          *out;
    watch         *w;
    diff_snapshot *baseline;      /* first mark, or NULL = empty snapshot */
    int64_t        worst_growth;
    unsigned       nsaved;
    uint64_t       warned_traces; /* dropped traces already said on stderr */
    uint64_t       warned_marks;
    serve         *srv;           /* --serve, or NULL */
    diff_trend_hist *trend;       /* the reports' sizes over --window */
    size_t         suspects;      /* in the last report */
    int64_t        detach_at;     /* attach: --duration's end (monotonic ns), 0 = none */
} batch;

/* Reports of lineno or filename statistics need each trace's top frame
 * only; the rest of a stack is symbolized just for traceback or cumulative
 * grouping and for snapshot files, which keep whole tracebacks. */
static watch_config batch_watch_config(const options *o)
{
    watch_config cfg = {
        .session = options_session_config(o), .frames = o->frames, .sample_bytes = o->sample_bytes,
        .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
    };
    bool all_frames = false;
    for (size_t i = 0; i < o->diff.nfilters; i++)
        all_frames |= o->diff.filters[i].all_frames;
    cfg.session.debuginfod_wait = true;  /* reports are exact, at most the bound late */
    cfg.session.top_frames_only = o->diff.group != DIFF_GROUP_TRACEBACK && !o->diff.cumulative &&
                                  !o->save_dir && !all_frames;
    return cfg;
}

static void batch_save(batch *b, const diff_snapshot *snap)
{
    if (!b->o->save_dir)
        return;
    char err[512], path[PATH_MAX];
    if (snapdir_save(b->o->save_dir, snap, (int)watch_pid(b->w), ++b->nsaved, path, sizeof(path), err, sizeof(err)) != 0)
        util_error("%s", err);
    else if (b->o->format_set && snapdir_export(path, snap, b->o->format, NULL, 0, err, sizeof(err)) != 0)
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

static void batch_report(batch *b, const diff_snapshot *cur, const char *reason, int sig)
{
    session_health health;
    watch_health(b->w, &health);
    report_event ev = {
        .reason = reason, .label = diff_snapshot_label(cur), .signal = sig,
        .pid = (int)watch_pid(b->w), .elapsed_s = diff_snapshot_elapsed(cur),
        .traced = true, .traces_dropped = health.traces_dropped,
        .left_tracing = watch_left_tracing(b->w), .trend = b->trend, .attached = watch_since_attach(b->w),
    };
    batch_warn_health(b, &health);
    report_outcome res = {0};
    char err[256];
    if (report_write(b->out, b->o, cur, b->baseline, &ev, &res, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return;
    }
    if (res.growth > b->worst_growth)
        b->worst_growth = res.growth;
    b->suspects = res.suspects;
}

/* The baseline mark's own report compares it with itself, so every report
 * in a run shares one baseline. */
static void batch_on_mark(batch *b, diff_snapshot *snap, bool baseline)
{
    batch_save(b, snap);
    if (baseline)
        b->baseline = snap;
    batch_report(b, snap, "mark", 0);
    if (snap != b->baseline)
        diff_snapshot_free(snap);
}

/* A launched program that daemonized ended, and what it forked runs on
 * untraced: the report above is not the server's, so say where it is. */
static void batch_say_survivors(batch *b)
{
    pid_t pids[8];
    size_t n = watch_survivors(b->w, pids, 8);
    if (!n)
        return;
    char list[128] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && i < 8 && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", i ? " " : "", (int)pids[i]);
    util_error("the program ended, but %zu process(es) it forked run on untraced (%s%s): a daemon? keep it in "
               "the foreground, or leaktop attach PID", n, list, n > 8 ? " ..." : "");
}

static void batch_on_end(batch *b, diff_snapshot *snap)
{
    int wstatus = 0;
    bool sig = watch_status(b->w, &wstatus) && WIFSIGNALED(wstatus);
    batch_save(b, snap);
    batch_report(b, snap, watch_detached(b->w) ? "detach" : sig ? "signal" : "exit", sig ? WTERMSIG(wstatus) : 0);
    diff_snapshot_free(snap);
    batch_say_survivors(b);
}

static void batch_on_event(batch *b, const watch_event *ev)
{
    switch (ev->kind) {
    case WATCH_EVENT_MARK:
        batch_on_mark(b, ev->snap, ev->baseline);
        break;
    case WATCH_EVENT_SKIPPED:
        util_error("%llu mark(s) were overwritten before they could be read", (unsigned long long)ev->skipped);
        break;
    case WATCH_EVENT_EXEC:
        /* The old heap is gone with the old image, and so is the baseline. */
        if (b->baseline)
            diff_snapshot_free(b->baseline);
        b->baseline = NULL;
        break;
    case WATCH_EVENT_LEFT:
        util_error("the program left tracing at exec (%s): the figures are the old image's, at the exec", ev->path);
        break;
    case WATCH_EVENT_TRUNCATED:
        util_error("the program's segment was truncated while leaktop read it: the figures from here on are "
                   "incomplete");
        break;
    case WATCH_EVENT_END:
        batch_on_end(b, ev->snap);
        break;
    }
}

static void batch_interval(batch *b, unsigned n)
{
    char label[32];
    snprintf(label, sizeof(label), "interval-%u", n);
    diff_snapshot *snap = watch_snapshot(b->w, label);
    batch_report(b, snap, "interval", 0);
    diff_snapshot_free(snap);
}

static volatile sig_atomic_t batch_stop_sig;

/* The pause before the next look: `quiet` doubles while nothing happens,
 * up to BATCH_IDLE_POLL_MS, and never runs past the next interval report
 * or the detach deadline. */
static unsigned batch_pause_ms(const batch *b, unsigned quiet, int64_t period, int64_t next)
{
    int64_t now = util_now_ns(), until = INT64_MAX;
    if (period)
        until = next;
    if (b->detach_at && b->detach_at < until)
        until = b->detach_at;
    if (until == INT64_MAX)
        return quiet;
    int64_t left_ms = (until - now) / 1000000 + 1;
    return left_ms < (int64_t)quiet ? (unsigned)(left_ms > 0 ? left_ms : 1) : quiet;
}

/* Sleeps ms, or less when the program ends first. Once it has, *pidfd is
 * closed: the loop sees the end at its next look, and from then on
 * pauses plainly (a readable pidfd would make every pause none). */
static void batch_pause(int *pidfd, unsigned ms)
{
    if (*pidfd < 0) {
        util_sleep_ms(ms);
        return;
    }
    struct pollfd p = {.fd = *pidfd, .events = POLLIN};
    int n = poll(&p, 1, (int)ms);
    if (n > 0 || (n < 0 && errno != EINTR)) {
        close(*pidfd);
        *pidfd = -1;
    }
}

static void batch_loop(batch *b)
{
    int64_t period = (int64_t)b->o->interval_ms * 1000000;
    int64_t next = util_now_ns() + period;
    unsigned ticks = 0, quiet = BATCH_POLL_MS;
    int pidfd = (int)syscall(SYS_pidfd_open, watch_pid(b->w), 0);
    for (;;) {
        watch_event ev;
        bool busy = false;
        while (watch_poll(b->w, &ev)) {
            batch_on_event(b, &ev);
            busy = true;
        }
        if (watch_ended(b->w))
            break;
        if (batch_stop_sig || (b->detach_at && util_now_ns() >= b->detach_at))
            watch_detach(b->w);   /* END follows */
        busy |= serve_answer(b->srv, b->w, b->baseline);   /* --serve: a request waits */
        if (period && util_now_ns() >= next) {
            batch_interval(b, ++ticks);
            next += period;
        }
        /* Idle time: symbolize what the program recorded so far, so the
         * reports (the final one above all) find it done. */
        if (watch_prefetch(b->w, BATCH_POLL_MS) != 0) {
            quiet = BATCH_POLL_MS;
            continue;
        }
        if (busy)
            quiet = BATCH_POLL_MS;
        batch_pause(&pidfd, batch_pause_ms(b, quiet, period, next));
        if (!busy && quiet < BATCH_IDLE_POLL_MS)
            quiet = quiet * 2 < BATCH_IDLE_POLL_MS ? quiet * 2 : BATCH_IDLE_POLL_MS;
    }
    if (pidfd >= 0)
        close(pidfd);
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

/* What both entry points do first: --save's directory, --serve's port,
 * the output. 0, or leaktop's exit status after saying why. */
static int batch_begin(batch *b, const options *o)
{
    char err[512];
    *b = (batch){.o = o, .worst_growth = 0};
    if (o->save_dir && snapdir_prepare(o->save_dir, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return LEAKTOP_EXIT_USAGE;
    }
    if (o->serve && !(b->srv = serve_start(o->serve, err, sizeof(err)))) {
        util_error("%s", err);
        return LEAKTOP_EXIT_USAGE;
    }
    if (b->srv)
        util_error("serving %s/debug/pprof/heap and %s/metrics", serve_url(b->srv), serve_url(b->srv));
    b->out = batch_output(o);
    if (!b->out) {
        serve_free(b->srv);
        return LEAKTOP_EXIT_FAILURE;
    }
    /* A reader of the reports that goes away (`| head -1`) must not kill
     * leaktop before it reaped the program and removed the segment; the
     * program itself gets SIGPIPE as it would without leaktop
     * (launch_remember_signals). */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* The watch did not start: status after saying why. */
static int batch_abort(batch *b, const char *err, int status)
{
    util_error("%s", err);
    if (b->out != stdout)
        fclose(b->out);
    serve_free(b->srv);
    return status;
}

/* After the loop: frees everything; the exit status (rc unless a --fail-on
 * condition triggered). */
static int batch_end(batch *b, int rc)
{
    const options *o = b->o;
    serve_free(b->srv);
    bool unknown = watch_growth_unknown(b->w);
    watch_free(b->w);
    if (b->baseline)
        diff_snapshot_free(b->baseline);
    bool lost = util_output_end(b->out, b->out == stdout ? NULL : o->output) != 0;
    diff_trend_hist_free(b->trend);
    if (lost)
        return LEAKTOP_EXIT_FAILURE;  /* the reports are incomplete: said above */
    if (o->fail_on_growth >= 0 && unknown) {
        util_error("--fail-on-growth: the program's growth is unknown (said above)");
        return LEAKTOP_EXIT_GROWTH_UNKNOWN;
    }
    if (o->fail_on_growth >= 0 && b->worst_growth > o->fail_on_growth) {
        util_error("growth since baseline %lld B exceeds --fail-on-growth %lld B",
                   (long long)b->worst_growth, (long long)o->fail_on_growth);
        return LEAKTOP_EXIT_GROWTH;
    }
    if (o->fail_on_suspect && b->suspects) {
        util_error("--fail-on-suspect: %zu suspect(s) in the last report", b->suspects);
        return LEAKTOP_EXIT_GROWTH;
    }
    return rc;
}

int batch_run(const options *o, char **argv)
{
    batch b;
    char err[512];
    int status = batch_begin(&b, o);
    if (status)
        return status;
    watch_config cfg = batch_watch_config(o);
    watch_forward_signals();
    b.w = watch_launch(&cfg, argv, &status, err, sizeof(err));
    if (b.w && watch_wait_traced(b.w, &status, err, sizeof(err)) != 0) {
        watch_free(b.w);
        b.w = NULL;
    }
    if (!b.w)
        return batch_abort(&b, err, status);
    /* Without it reports just carry no trend. */
    b.trend = diff_trend_hist_new(o->window_s);
    batch_loop(&b);
    return batch_end(&b, watch_exit_code(b.w));
}

/* ---- attach --batch ------------------------------------------------------------ */

static void batch_on_stop(int sig)
{
    batch_stop_sig = sig;
}

/* Ctrl-C, TERM and HUP end an attached batch run with a detach (the
 * program is not ours to signal). */
static void batch_catch_stop(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = batch_on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int batch_attach(const options *o, pid_t pid)
{
    batch b;
    char err[512];
    int status = batch_begin(&b, o);
    if (status)
        return status;
    batch_catch_stop();
    watch_config cfg = batch_watch_config(o);
    cfg.inject = true;
    b.w = watch_attach(pid, &cfg, &status, err, sizeof(err));
    if (!b.w)
        return batch_abort(&b, err, status);
    util_error("attached to %d", (int)pid);
    b.trend = diff_trend_hist_new(o->window_s);
    b.detach_at = o->duration_s > 0 ? util_now_ns() + (int64_t)(o->duration_s * 1e9) : 0;
    batch_loop(&b);
    /* Detached, or the program ended: leaktop's own run went well. */
    return batch_end(&b, 0);
}
