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
#include "target.h"
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
    return v->ended ? v->end_elapsed : session_elapsed(v->s);
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
    diff_snapshot *snap = session_snapshot_live(v->s, v->ended ? "exit" : "live");
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
    size_t idx = view_marks_add(&v->marks, session_snapshot_live(v->s, label), false);
    view_marks_set_baseline(&v->marks, (long)idx);
    v->baseline_chosen = true;
    /* The table compares against a state taken just now as well, so it
     * starts from zero instead of showing the last interval backwards. */
    view_sample(v);
    view_message(v, false, "baseline %s taken: rows now show growth since this moment", label);
}

void view_baseline_clear(view *v)
{
    view_marks_set_baseline(&v->marks, -1);
    v->baseline_chosen = true;
    view_recompute(v);
    view_message(v, false, "baseline cleared: comparing against the empty snapshot");
}

void view_baseline_pick(view *v, long index)
{
    view_marks_set_baseline(&v->marks, index);
    v->baseline_chosen = true;
    view_back(v);
    view_recompute(v);
    const diff_snapshot *b = view_marks_baseline(&v->marks);
    view_message(v, false, "baseline: %s", b ? diff_snapshot_label(b) : "none");
}

/* Marks the program made. The first one becomes the baseline, as in batch
 * mode, unless the user already chose. */
static void view_drain_marks(view *v)
{
    diff_snapshot *snap;
    uint64_t skipped = 0;
    bool rebase = false;
    while ((snap = session_next_mark(v->s, &skipped)) != NULL) {
        size_t idx = view_marks_add(&v->marks, snap, true);
        const char *label = diff_snapshot_label(snap);
        if (!v->baseline_chosen && v->marks.baseline < 0) {
            view_marks_set_baseline(&v->marks, (long)idx);
            rebase = true;
            view_message(v, false, "the program marked \"%s\": it is the baseline (m lists marks)", label);
        } else {
            view_message(v, false, "the program marked \"%s\" (m lists marks, Enter picks one)", label);
        }
    }
    if (skipped)
        view_message(v, true, "%llu mark(s) were overwritten before they could be read", (unsigned long long)skipped);
    if (rebase)
        view_recompute(v);
    if (v->screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);
}

/* ---- the program -------------------------------------------------------------------------------- */

/* What the tracer could not record, and a program that exec'd out of
 * tracing: kept in the header, and said once in the footer as it happens. */
static void view_check_lost(view *v)
{
    char path[256];
    if (!v->left_tracing && session_left_tracing(v->s, path, sizeof(path))) {
        v->left_tracing = true;
        snprintf(v->lost, sizeof(v->lost), "left tracing at exec (%s)", path);
        view_message(v, true, "the program left tracing at exec (%s): the figures are the old image's, at the exec",
                     path);
        return;
    }
    session_health h;
    session_health_get(v->s, &h);
    if (v->left_tracing || h.traces_dropped == v->lost_traces)
        return;
    v->lost_traces = h.traces_dropped;
    snprintf(v->lost, sizeof(v->lost), "%llu allocs to <unknown>", (unsigned long long)h.traces_dropped);
    view_message(v, true, "%llu allocation(s) charged to <unknown>: %s", (unsigned long long)h.traces_dropped,
                 *h.full_why ? h.full_why : "their stacks could not be stored");
}

/* The program ended: read its final state from the segment (which outlives
 * it) exactly like the batch report, and keep it explorable until q. */
static void view_on_end(view *v)
{
    v->end_elapsed = session_elapsed(v->s);
    v->ended = true;
    v->exited = session_exiting(v->s);
    view_check_lost(v);
    view_quiesce(v);
    view_drain_marks(v);
    if (v->cur)
        diff_snapshot_free(v->cur);
    v->cur = target_final_snapshot(v->s);
    view_compare(v, true);
    session_unlink(v->s);
    if (v->screen == VIEW_SCREEN_LOG || v->screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);   /* the program's last words, its last marks */
    char state[64];
    snprintf(state, sizeof(state), "%s", v->exited ? "exited" : "ended");
    if (v->status_known && WIFSIGNALED(v->wstatus))
        snprintf(state, sizeof(state), "was killed by signal %d", WTERMSIG(v->wstatus));
    else if (v->status_known)
        snprintf(state, sizeof(state), "exited %d", WEXITSTATUS(v->wstatus));
    view_message(v, false, "the program %s: its final state stays here until q", state);
}

/* The program exec'd (a #! script, env, a wrapper) and its new image's
 * tracer made a new segment. Everything read from the old one refers to
 * the old frame table and the old heap, which are gone: start over. */
static void view_follow_exec(view *v)
{
    if (!session_replaced(v->s))
        return;
    session_config cfg = target_session_config(v->o);
    char err[512];
    session *next = target_wait_session(v->pid, &cfg, view_prog_ended, v, err, sizeof(err));
    if (!next)
        return;   /* keep showing what we had */
    view_worker_stop(&v->worker);
    view_keycache_free(&v->worker.kc);   /* ids of the old loctab */
    view_worker_prepare(session_locs(next), session_frames_limit(next));
    if (v->cur)
        diff_snapshot_free(v->cur);
    v->cur = NULL;
    view_marks_free(&v->marks);
    v->baseline_chosen = false;
    view_table_free(&v->table);
    view_page_clear(&v->page);
    v->screen = VIEW_SCREEN_TABLE;
    v->nback = 0;
    session_unlink(v->s);
    session_free(v->s);
    v->s = next;
    v->lost[0] = 0;
    v->lost_traces = 0;
    target_name(v->pid, v->prog, sizeof(v->prog));
    view_message(v, false, "the program exec'd %s: following the new image from an empty start", v->prog);
}

/* Runs with the worker idle (the loop waits for it): everything here may
 * intern frames or free snapshots. */
static void view_tick(view *v)
{
    if (!v->ended && view_prog_reap(v)) {
        view_on_end(v);
        return;
    }
    if (v->ended)
        return;
    view_follow_exec(v);
    view_check_lost(v);
    v->rss = target_rss(v->pid);
    view_drain_marks(v);
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
    session_free(v->s);
    v->s = NULL;
}

/* Runs the screen until q, a signal, or a failure to start curses. */
static int view_run(view *v)
{
    view_worker_prepare(session_locs(v->s), session_frames_limit(v->s));
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
    if (rc == 0 && v.ended && v.status_known)
        rc = launch_exit_code(v.wstatus);
    if (v.log_path[0] && v.s)
        fprintf(stderr, "leaktop: the program's output is in %s\n", v.log_path);
    view_release(&v);
    return rc;
}

int view_attach(const options *o, pid_t pid)
{
    view v;
    view_init(&v, o);
    view_signals();
    v.pid = pid;
    target_name(pid, v.prog, sizeof(v.prog));
    session_config cfg = target_session_config(o);
    char err[512];
    bool missing;
    v.s = session_open(pid, &cfg, &missing, err, sizeof(err));
    if (!v.s) {
        util_error("%s", err);
        view_release(&v);
        return 1;
    }
    int rc = view_run(&v) != 0 ? 1 : 0;
    view_release(&v);
    return rc;
}
