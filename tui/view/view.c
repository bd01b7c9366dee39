/* view.c: the live view's entry points, its model operations (snapshots,
 * baselines, marks, the program's end or exec) and the main loop. Every
 * interval the loop takes a snapshot and hands the compare to the worker
 * thread; between refreshes it waits for keys at most VIEW_KEY_POLL_MS, so
 * a key is answered at once whatever the compare costs. */
#include "view.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "util.h"
#include "view_draw.h"
#include "view_keys.h"
#include "view_prog.h"
#include "view_screen.h"
#include "view_state.h"

#define VIEW_DEFAULT_INTERVAL_MS 500
#define VIEW_KEY_POLL_MS         50
#define VIEW_WORKER_POLL_MS      5
#define VIEW_STACK_LIVE_MS       20.0
#define VIEW_MESSAGE_NS          (5 * 1000000000LL)
#define VIEW_KEYS_PER_DRAW       64

/* Set by SIGINT/SIGTERM/SIGHUP: leave like `q`. */
static volatile sig_atomic_t view_stop = 0;

static void view_on_signal(int sig)
{
    (void)sig;
    view_stop = 1;
}

/* Installed before curses starts, so curses keeps ours. */
static void view_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = view_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* ---- small services for the other view files ---------------------------------------- */

void view_message(view *v, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
    va_end(ap);
    v->msg_error = error;
    v->msg_until_ns = util_now_ns() + VIEW_MESSAGE_NS * (error ? 2 : 1);
    v->dirty = true;
}

size_t view_body_rows(const view *v)
{
    int h = v->term.rows - VIEW_HEADER_ROWS - 2;   /* column header, footer */
    return h > 1 ? (size_t)h : 1;
}

double view_now_elapsed(const view *v)
{
    return watch_elapsed(v->w);
}

/* ---- the model ------------------------------------------------------------------------- */

/* Starts the compare of the current snapshot on the worker; a request
 * while it is busy runs when the running one is collected. */
static void view_compare(view *v, bool sample)
{
    if (!v->cur)
        return;
    if (view_worker_busy(&v->worker)) {
        v->recompute = true;
        return;
    }
    uint64_t mode = view_table_mode(&v->dopts, v->filter.text);
    view_worker_start(&v->worker, v->cur, view_marks_baseline(&v->marks), &v->dopts, &v->filter, mode, sample);
}

/* Takes a finished compare into the table. */
static void view_collect(view *v, bool wait)
{
    view_job *j = view_worker_collect(&v->worker, wait);
    if (!j)
        return;
    if (!j->res.st) {
        view_message(v, true, "%s", j->res.err);
    } else {
        view_table_adopt(&v->table, &j->res, j->cur, j->mode, j->sample);
        view_cursor_clamp(&v->table.cur, v->table.nrows, view_body_rows(v), true);
        if (j->sample)
            v->refresh_ms = v->snap_ms + j->ms;
        /* The stack is a compare of its own, on this thread: it follows the
         * table only while that does not delay keys. */
        if (v->screen == VIEW_SCREEN_STACK && v->stack_ms < VIEW_STACK_LIVE_MS)
            view_page_rebuild(v);
    }
    v->dirty = true;
    if (v->recompute) {
        v->recompute = false;
        view_compare(v, false);
    }
}

/* Waits until no compare runs: before anything that interns frames into
 * the loctab (snapshots) or frees a snapshot a job may use. */
static void view_quiesce(view *v)
{
    while (view_worker_busy(&v->worker))
        view_collect(v, true);
}

void view_recompute(view *v)
{
    view_compare(v, false);
    v->dirty = true;
}

/* A fresh snapshot of the program now; after death, its final state. */
static void view_sample(view *v)
{
    view_quiesce(v);
    int64_t t0 = util_now_ns();
    diff_snapshot *snap = watch_snapshot(v->w, v->ended ? "exit" : "live");
    if (v->cur)
        diff_snapshot_free(v->cur);
    v->cur = snap;
    v->snap_ms = (double)(util_now_ns() - t0) / 1e6;
    view_compare(v, true);
}

void view_baseline_now(view *v)
{
    view_quiesce(v);
    char label[32];
    unsigned n = 1;
    for (size_t i = 0; i < v->marks.n; i++)
        n += !v->marks.items[i].by_program;
    snprintf(label, sizeof(label), "b%u", n);
    size_t idx = view_marks_add(&v->marks, watch_snapshot(v->w, label), false);
    view_marks_set_baseline(&v->marks, (long)idx);
    watch_baseline_chosen(v->w);
    /* The table compares against a state taken just now as well, so it
     * starts from zero instead of showing the last interval backwards. */
    view_sample(v);
    view_message(v, false, "baseline %s taken: rows now show growth since this moment", label);
}

void view_baseline_clear(view *v)
{
    view_marks_set_baseline(&v->marks, -1);
    watch_baseline_chosen(v->w);
    view_recompute(v);
    view_message(v, false, "baseline cleared: comparing against the empty snapshot");
}

void view_baseline_pick(view *v, long index)
{
    view_marks_set_baseline(&v->marks, index);
    watch_baseline_chosen(v->w);
    view_back(v);
    view_recompute(v);
    const diff_snapshot *b = view_marks_baseline(&v->marks);
    view_message(v, false, "baseline: %s", b ? diff_snapshot_label(b) : "none");
}

/* A mark the program made; the watch says whether it is the baseline
 * (the first one, unless the user already chose). Returns true when the
 * table must be compared again. */
static bool view_on_mark(view *v, diff_snapshot *snap, bool baseline)
{
    size_t idx = view_marks_add(&v->marks, snap, true);
    const char *label = diff_snapshot_label(snap);
    if (!baseline) {
        view_message(v, false, "the program marked \"%s\" (m lists marks, Enter picks one)", label);
        return false;
    }
    view_marks_set_baseline(&v->marks, (long)idx);
    view_message(v, false, "the program marked \"%s\": it is the baseline (m lists marks)", label);
    return true;
}

/* The program ended: its final state (read from the segment, which
 * outlives it, exactly like the batch report) stays explorable until q. */
static void view_on_end(view *v, diff_snapshot *final)
{
    v->ended = true;
    if (v->cur)
        diff_snapshot_free(v->cur);
    v->cur = final;
    view_compare(v, true);
    if (v->screen == VIEW_SCREEN_LOG || v->screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);   /* the program's last words, its last marks */
    char state[64];
    int ws = 0;
    bool known = watch_status(v->w, &ws);
    snprintf(state, sizeof(state), "%s", watch_exited(v->w) ? "exited" : "ended");
    if (known && WIFSIGNALED(ws))
        snprintf(state, sizeof(state), "was killed by signal %d", WTERMSIG(ws));
    else if (known)
        snprintf(state, sizeof(state), "exited %d", WEXITSTATUS(ws));
    view_message(v, false, "the program %s: its final state stays here until q", state);
}

/* The program exec'd (a #! script, env, a wrapper). Everything read so far
 * refers to the old image's frame table and heap, which are gone: start
 * over. The watch frees the old table at its next poll. */
static void view_on_exec(view *v)
{
    view_worker_stop(&v->worker);
    view_keycache_free(&v->worker.kc);   /* ids of the old loctab */
    view_worker_prepare(watch_locs(v->w), watch_frames_limit(v->w));
    if (v->cur)
        diff_snapshot_free(v->cur);
    v->cur = NULL;
    view_marks_free(&v->marks);
    view_table_free(&v->table);
    view_page_clear(&v->page);
    v->screen = VIEW_SCREEN_TABLE;
    v->nback = 0;
    view_message(v, false, "the program exec'd %s: following the new image from an empty start", watch_name(v->w));
}

/* What the watch saw since the last tick. Each poll may read the segment
 * and intern frames, so the worker is idle before every one. */
static void view_watch_events(view *v)
{
    bool rebase = false, marks = false;
    watch_event ev;
    for (;;) {
        view_quiesce(v);
        if (!watch_poll(v->w, &ev))
            break;
        switch (ev.kind) {
        case WATCH_EVENT_MARK:
            rebase |= view_on_mark(v, ev.snap, ev.baseline);
            marks = true;
            break;
        case WATCH_EVENT_SKIPPED:
            view_message(v, true, "%llu mark(s) were overwritten before they could be read",
                         (unsigned long long)ev.skipped);
            break;
        case WATCH_EVENT_EXEC:
            view_on_exec(v);
            rebase = false;
            break;
        case WATCH_EVENT_END:
            view_on_end(v, ev.snap);
            rebase = false;
            break;
        }
    }
    if (rebase)
        view_recompute(v);
    if (marks && v->screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);
}

/* Runs with the worker idle (the loop waits for it): everything here may
 * intern frames or free snapshots. */
static void view_tick(view *v)
{
    if (v->ended)
        return;
    view_watch_events(v);
    if (v->ended)
        return;
    v->rss = watch_rss(v->w);
    if (!v->paused) {
        view_sample(v);
        if (v->screen == VIEW_SCREEN_LOG || v->screen == VIEW_SCREEN_MARKS)
            view_page_rebuild(v);
    }
    v->dirty = true;
}

/* ---- the loop ------------------------------------------------------------------------------------- */

/* How long to wait for a key: until the next refresh, at most
 * VIEW_KEY_POLL_MS, and briefly while the worker may finish. */
static int view_wait_ms(const view *v)
{
    if (view_worker_busy(&v->worker))
        return VIEW_WORKER_POLL_MS;
    int64_t left = (v->next_refresh_ns - util_now_ns()) / 1000000;
    if (left < 0)
        return 0;
    return left < VIEW_KEY_POLL_MS ? (int)left : VIEW_KEY_POLL_MS;
}

static void view_loop(view *v)
{
    int64_t period = (int64_t)v->interval_ms * 1000000;
    bool msg_shown = false;
    while (!v->quit && !view_stop) {
        view_collect(v, false);
        /* A refresh waits for the worker: ticks take snapshots. */
        if (util_now_ns() >= v->next_refresh_ns && !view_worker_busy(&v->worker)) {
            view_tick(v);
            v->next_refresh_ns = util_now_ns() + period;
        }
        bool msg_live = v->msg[0] && util_now_ns() < v->msg_until_ns;
        if (v->dirty || msg_live != msg_shown) {
            view_draw(v);
            v->dirty = false;
            msg_shown = msg_live;
        }
        int key = view_term_key(view_wait_ms(v));
        /* Answer every key that is already waiting before drawing again. */
        for (int n = 0; key >= 0 && n < VIEW_KEYS_PER_DRAW && !v->quit; n++) {
            view_keys_dispatch(v, key);
            key = view_term_key(0);
        }
    }
}

/* ---- set-up and tear-down ---------------------------------------------------------------------------- */

static void view_init(view *v, const options *o)
{
    memset(v, 0, sizeof(*v));
    v->o = o;
    v->dopts = o->diff;
    view_marks_init(&v->marks);
    view_filter_from(&v->filter, o->diff.filters, o->diff.nfilters);
    v->dopts.filters = v->filter.items;
    v->dopts.nfilters = v->filter.n;
    if (v->dopts.group == DIFF_GROUP_TRACEBACK)
        v->dopts.cumulative = false;
    v->interval_ms = o->interval_ms ? o->interval_ms : VIEW_DEFAULT_INTERVAL_MS;
    v->rss = -1;
    if (!getcwd(v->cwd, sizeof(v->cwd)))
        v->cwd[0] = 0;
}

static void view_release(view *v)
{
    view_worker_free(&v->worker);
    if (v->cur)
        diff_snapshot_free(v->cur);
    view_table_free(&v->table);
    view_marks_free(&v->marks);
    view_filter_free(&v->filter);
    view_page_free(&v->page);
    watch_free(v->w);
    v->w = NULL;
}

/* Runs the screen until q, a signal, or a failure to start curses. */
static int view_run(view *v)
{
    view_worker_prepare(watch_locs(v->w), watch_frames_limit(v->w));
    char err[256];
    if (view_term_start(&v->term, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return -1;
    }
    view_loop(v);
    view_prog_end(v);
    view_term_stop(&v->term);
    return 0;
}

int view_run_program(const options *o, char **argv)
{
    view v;
    view_init(&v, o);
    view_signals();
    int rc = view_prog_start(&v, argv);
    if (rc == 0 && view_run(&v) != 0)
        rc = 1;
    /* The exit status is the program's when it ended by itself; 0 when
     * q (or a signal to leaktop) ended it. */
    int ws = 0;
    if (rc == 0 && v.ended && watch_status(v.w, &ws))
        rc = launch_exit_code(ws);
    if (v.log_path[0] && v.w)
        fprintf(stderr, "leaktop: the program's output is in %s\n", v.log_path);
    view_release(&v);
    return rc;
}

int view_attach(const options *o, pid_t pid)
{
    view v;
    view_init(&v, o);
    view_signals();
    watch_config cfg = view_prog_config(o);
    char err[512];
    v.w = watch_attach(pid, &cfg, err, sizeof(err));
    if (!v.w) {
        util_error("%s", err);
        view_release(&v);
        return 1;
    }
    int rc = view_run(&v) != 0 ? 1 : 0;
    view_release(&v);
    return rc;
}
