/* view.c: the live view's entry points, its model operations (snapshots,
 * baselines, marks, the program's end or exec) and the main loop. Every
 * interval the loop takes a snapshot and hands the compare to the worker
 * thread; between refreshes it waits for keys at most VIEW_KEY_POLL_MS, so
 * a key is answered at once whatever the compare costs. */
#include "view.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
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

/* ---- the data of one image -------------------------------------------------------------- */

static void view_data_init(view_data *d)
{
    memset(d, 0, sizeof(*d));
    view_marks_init(&d->marks);
}

/* Drops everything one image of the program produced, as one. */
static void view_data_free(view_data *d)
{
    if (d->cur)
        diff_snapshot_free(d->cur);
    view_marks_free(&d->marks);
    view_table_free(&d->table);
    view_data_init(d);
}

/* ---- the model ------------------------------------------------------------------------- */

/* Starts the compare of the current snapshot on the worker; a request
 * while it is busy runs when the running one is collected. */
static void view_compare(view *v, bool sample)
{
    if (!v->data.cur)
        return;
    if (view_worker_busy(&v->worker)) {
        v->recompute = true;
        return;
    }
    uint64_t mode = view_table_mode(&v->dopts, v->filter.text);
    view_worker_start(&v->worker, v->data.cur, view_marks_baseline(&v->data.marks), &v->dopts, &v->filter, mode, sample);
}

/* Takes a finished compare into the table. */
static void view_collect(view *v, bool wait)
{
    view_job *j = view_worker_collect(&v->worker, wait);
    if (!j)
        return;
    if (!j->res.st) {
        view_footer_say(&v->footer, true, "%s", j->res.err);
    } else {
        view_table_adopt(&v->data.table, &j->res, j->cur, j->mode, j->sample);
        view_cursor_clamp(&v->data.table.cur, v->data.table.nrows, view_term_body_rows(&v->term), true);
        if (j->sample)
            v->data.refresh_ms = v->data.snap_ms + j->ms;
        /* The stack is a compare of its own, on this thread: it follows the
         * table only while that does not delay keys. */
        if (v->nav.screen == VIEW_SCREEN_STACK && v->nav.stack_ms < VIEW_STACK_LIVE_MS)
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

/* Re-groups or re-sorts the same snapshots (no new trend point); the rows
 * change when the worker is done. */
static void view_recompute(view *v)
{
    view_compare(v, false);
    v->dirty = true;
}

/* A fresh snapshot of the program now; after death, its final state. */
static void view_sample(view *v)
{
    view_quiesce(v);
    int64_t t0 = util_now_ns();
    diff_snapshot *snap = watch_snapshot(v->prog.w, v->prog.ended ? "exit" : "live");
    if (v->data.cur)
        diff_snapshot_free(v->data.cur);
    v->data.cur = snap;
    v->data.snap_ms = (double)(util_now_ns() - t0) / 1e6;
    view_compare(v, true);
}

static void view_baseline_now(view *v)
{
    view_quiesce(v);
    char label[32];
    unsigned n = 1;
    for (size_t i = 0; i < v->data.marks.n; i++)
        n += !v->data.marks.items[i].by_program;
    snprintf(label, sizeof(label), "b%u", n);
    size_t idx = view_marks_add(&v->data.marks, watch_snapshot(v->prog.w, label), false);
    view_marks_set_baseline(&v->data.marks, (long)idx);
    watch_baseline_chosen(v->prog.w);
    /* The table compares against a state taken just now as well, so it
     * starts from zero instead of showing the last interval backwards. */
    view_sample(v);
    view_footer_say(&v->footer, false, "baseline %s taken: rows now show growth since this moment", label);
}

static void view_baseline_clear(view *v)
{
    view_marks_set_baseline(&v->data.marks, -1);
    watch_baseline_chosen(v->prog.w);
    view_recompute(v);
    view_footer_say(&v->footer, false, "baseline cleared: comparing against the empty snapshot");
}

static void view_baseline_pick(view *v, long index)
{
    view_marks_set_baseline(&v->data.marks, index);
    watch_baseline_chosen(v->prog.w);
    view_back(v);
    view_recompute(v);
    const diff_snapshot *b = view_marks_baseline(&v->data.marks);
    view_footer_say(&v->footer, false, "baseline: %s", b ? diff_snapshot_label(b) : "none");
}

/* A mark the program made; the watch says whether it is the baseline
 * (the first one, unless the user already chose). Returns true when the
 * table must be compared again. */
static bool view_on_mark(view *v, diff_snapshot *snap, bool baseline)
{
    size_t idx = view_marks_add(&v->data.marks, snap, true);
    const char *label = diff_snapshot_label(snap);
    if (!baseline) {
        view_footer_say(&v->footer, false, "the program marked \"%s\" (m lists marks, Enter picks one)", label);
        return false;
    }
    view_marks_set_baseline(&v->data.marks, (long)idx);
    view_footer_say(&v->footer, false, "the program marked \"%s\": it is the baseline (m lists marks)", label);
    return true;
}

/* The program ended: its final state (read from the segment, which
 * outlives it, exactly like the batch report) stays explorable until q. */
static void view_on_end(view *v, diff_snapshot *final)
{
    v->prog.ended = true;
    if (v->data.cur)
        diff_snapshot_free(v->data.cur);
    v->data.cur = final;
    view_compare(v, true);
    if (v->nav.screen == VIEW_SCREEN_LOG || v->nav.screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);   /* the program's last words, its last marks */
    char state[64];
    int ws = 0;
    bool known = watch_status(v->prog.w, &ws);
    snprintf(state, sizeof(state), "%s", watch_exited(v->prog.w) ? "exited" : "ended");
    if (known && WIFSIGNALED(ws))
        snprintf(state, sizeof(state), "was killed by signal %d", WTERMSIG(ws));
    else if (known)
        snprintf(state, sizeof(state), "exited %d", WEXITSTATUS(ws));
    view_footer_say(&v->footer, false, "the program %s: its final state stays here until q", state);
}

/* The program exec'd (a #! script, env, a wrapper). Everything read so far
 * refers to the old image's frame table and heap, which are gone: start
 * over. The watch frees the old table at its next poll. */
static void view_on_exec(view *v)
{
    view_worker_stop(&v->worker);
    view_data_free(&v->data);
    view_nav_reset(&v->nav);
    view_footer_say(&v->footer, false, "the program exec'd %s: following the new image from an empty start", watch_name(v->prog.w));
}

/* What the watch saw since the last tick. Each poll may read the segment
 * and intern frames, so the worker is idle before every one. */
static void view_watch_events(view *v)
{
    bool rebase = false, marks = false;
    watch_event ev;
    for (;;) {
        view_quiesce(v);
        if (!watch_poll(v->prog.w, &ev))
            break;
        switch (ev.kind) {
        case WATCH_EVENT_MARK:
            rebase |= view_on_mark(v, ev.snap, ev.baseline);
            marks = true;
            break;
        case WATCH_EVENT_SKIPPED:
            view_footer_say(&v->footer, true, "%llu mark(s) were overwritten before they could be read",
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
    if (marks && v->nav.screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);
}

/* Runs with the worker idle (the loop waits for it): everything here may
 * intern frames or free snapshots. */
static void view_tick(view *v)
{
    if (v->prog.ended)
        return;
    view_watch_events(v);
    if (v->prog.ended)
        return;
    v->prog.rss = watch_rss(v->prog.w);
    if (!v->paused) {
        view_sample(v);
        if (v->nav.screen == VIEW_SCREEN_LOG || v->nav.screen == VIEW_SCREEN_MARKS)
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

/* Does what a key action asked for. */
static void view_react(view *v, view_reaction r)
{
    v->dirty = true;
    if (r.what & VIEW_REACT_QUIT)
        v->quit = true;
    if (r.what & VIEW_REACT_BASELINE_NOW)
        view_baseline_now(v);
    if (r.what & VIEW_REACT_BASELINE_CLEAR)
        view_baseline_clear(v);
    if (r.what & VIEW_REACT_BASELINE_PICK)
        view_baseline_pick(v, (long)v->nav.page.cur.sel);
    if (r.what & VIEW_REACT_RECOMPUTE)
        view_recompute(v);
    if (r.what & VIEW_REACT_OPEN)
        view_open(v, r.screen);
    if (r.what & VIEW_REACT_BACK)
        view_back(v);
    if (r.what & VIEW_REACT_REBUILD)
        view_page_rebuild(v);
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
        bool msg_live = view_footer_live(&v->footer, util_now_ns());
        if (v->dirty || msg_live != msg_shown) {
            view_draw(v);
            v->dirty = false;
            msg_shown = msg_live;
        }
        int key = view_term_key(view_wait_ms(v));
        /* Answer every key that is already waiting before drawing again. */
        for (int n = 0; key >= 0 && n < VIEW_KEYS_PER_DRAW && !v->quit; n++) {
            view_react(v, view_keys_dispatch(v, key));
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
    view_data_init(&v->data);
    view_filter_from(&v->filter, o->diff.filters, o->diff.nfilters);
    v->dopts.filters = v->filter.items;
    v->dopts.nfilters = v->filter.n;
    if (v->dopts.group == DIFF_GROUP_TRACEBACK)
        v->dopts.cumulative = false;
    v->interval_ms = o->interval_ms ? o->interval_ms : VIEW_DEFAULT_INTERVAL_MS;
    v->prog.rss = -1;
    if (!getcwd(v->cwd, sizeof(v->cwd)))
        v->cwd[0] = 0;
}

static void view_release(view *v)
{
    view_worker_free(&v->worker);
    view_data_free(&v->data);
    view_filter_free(&v->filter);
    view_page_free(&v->nav.page);
    watch_free(v->prog.w);
    v->prog.w = NULL;
}

/* Runs the screen until q, a signal, or a failure to start curses. */
static int view_run(view *v)
{
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
        rc = LEAKTOP_EXIT_FAILURE;
    /* The exit status is the program's when it ended by itself; 0 when
     * q (or a signal to leaktop) ended it. */
    int ws = 0;
    if (rc == 0 && v.prog.ended && watch_status(v.prog.w, &ws))
        rc = launch_exit_code(ws);
    if (v.prog.log_path[0] && v.prog.w)
        fprintf(stderr, "leaktop: the program's output is in %s\n", v.prog.log_path);
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
    v.prog.w = watch_attach(pid, &cfg, err, sizeof(err));
    if (!v.prog.w) {
        util_error("%s", err);
        view_release(&v);
        return LEAKTOP_EXIT_FAILURE;
    }
    int rc = view_run(&v) != 0 ? LEAKTOP_EXIT_FAILURE : 0;
    view_release(&v);
    return rc;
}
