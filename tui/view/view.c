/* view.c: the live view's entry points and its loop. Every interval the
 * loop refreshes the data (view_model.c: the watch's events, a snapshot,
 * a compare handed to the worker thread); between refreshes it waits for
 * keys at most VIEW_KEY_POLL_MS and does what their reactions ask, so a
 * key is answered at once whatever the compare costs. */
#include "view.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
#include "snapdir.h"
#include "util.h"
#include "view_draw.h"
#include "view_keys.h"
#include "view_model.h"
#include "view_prog.h"
#include "view_screen.h"
#include "view_state.h"

#define VIEW_DEFAULT_INTERVAL_MS 500
#define VIEW_KEY_POLL_MS         50
#define VIEW_WORKER_POLL_MS      5
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
        view_model_baseline_now(v);
    if (r.what & VIEW_REACT_BASELINE_CLEAR)
        view_model_baseline_clear(v);
    if (r.what & VIEW_REACT_BASELINE_PICK)
        view_model_baseline_pick(v, (long)v->nav.page.cur.sel);
    if (r.what & VIEW_REACT_FREEZE)
        view_model_freeze(v, (long)v->nav.page.cur.sel);
    if (r.what & VIEW_REACT_LIVE)
        view_model_live(v);
    if (r.what & VIEW_REACT_RECOMPUTE)
        view_model_recompute(v);
    if (r.what & VIEW_REACT_OPEN)
        view_open(v, r.screen);
    if (r.what & VIEW_REACT_BACK)
        view_back(v);
    if (r.what & VIEW_REACT_REBUILD)
        view_page_rebuild(v);
}

/* --serve: a request waits for the heap as it is now. The snapshot is
 * taken here, on the loop, while the worker is idle: the session interns
 * frames into the table the worker's compares read. */
static void view_serve(view *v)
{
    if (v->srv && !view_worker_busy(&v->worker))
        serve_answer(v->srv, v->prog.w, view_marks_baseline(&v->data.marks));
}

static void view_loop(view *v)
{
    int64_t period = (int64_t)v->interval_ms * 1000000;
    int64_t detach_at = v->o->duration_s > 0 ? util_now_ns() + (int64_t)(v->o->duration_s * 1e9) : 0;
    bool msg_shown = false;
    while (!v->quit && !view_stop) {
        view_model_collect(v, false);
        /* A refresh waits for the worker: ticks take snapshots. */
        if (util_now_ns() >= v->next_refresh_ns && !view_worker_busy(&v->worker)) {
            view_model_tick(v);
            v->next_refresh_ns = util_now_ns() + period;
        }
        view_serve(v);
        if (detach_at && !v->prog.ended && util_now_ns() >= detach_at)
            watch_detach(v->prog.w);   /* --duration: END follows */
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
    serve_free(v->srv);
    v->srv = NULL;
    view_data_free(&v->data);
    view_filter_free(&v->filter);
    view_page_free(&v->nav.page);
    watch_free(v->prog.w);
    v->prog.w = NULL;
}

/* Runs the screen until q, a signal, or a failure to start curses. */
/* --serve: bound before the program starts, so a bad address is one line
 * on a plain terminal. */
static int view_serve_start(view *v)
{
    char err[512];
    if (!v->o->serve)
        return 0;
    v->srv = serve_start(v->o->serve, err, sizeof(err));
    if (!v->srv) {
        util_error("%s", err);
        return -1;
    }
    util_error("serving %s/debug/pprof/heap and %s/metrics", serve_url(v->srv), serve_url(v->srv));
    return 0;
}

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

/* What both entry points do first: the state, the endpoint (--serve: its
 * port is bound before any program runs), and our signals. 0, or -1 after
 * saying why. */
static int view_begin(view *v, const options *o)
{
    view_init(v, o);
    if (view_serve_start(v) != 0) {
        view_release(v);
        return -1;
    }
    view_signals();
    return 0;
}

int view_run_program(const options *o, char **argv)
{
    char err[512];
    if (o->save_dir && snapdir_prepare(o->save_dir, err, sizeof(err)) != 0) {
        util_error("%s", err);
        return LEAKTOP_EXIT_USAGE;
    }
    view v;
    if (view_begin(&v, o) != 0)
        return LEAKTOP_EXIT_USAGE;
    int rc = view_prog_start(&v, argv);
    if (rc == 0 && view_run(&v) != 0)
        rc = LEAKTOP_EXIT_FAILURE;
    /* The exit status is the program's when it ended by itself; 0 when
     * q (or a signal to leaktop) ended it. */
    int ws = 0;
    if (rc == 0 && v.prog.ended && watch_status(v.prog.w, &ws))
        rc = watch_exit_code(v.prog.w);
    view_prog_release_log(&v);
    view_release(&v);
    return rc;
}

int view_attach(const options *o, pid_t pid)
{
    char dir_err[512];
    if (o->save_dir && snapdir_prepare(o->save_dir, dir_err, sizeof(dir_err)) != 0) {
        util_error("%s", dir_err);
        return LEAKTOP_EXIT_USAGE;
    }
    view v;
    if (view_begin(&v, o) != 0)
        return LEAKTOP_EXIT_USAGE;
    watch_config cfg = view_prog_config(o);
    cfg.inject = true;
    char err[512];
    int status = LEAKTOP_EXIT_FAILURE;
    v.prog.w = watch_attach(pid, &cfg, &status, err, sizeof(err));
    if (!v.prog.w) {
        util_error("%s", err);
        view_release(&v);
        return status;
    }
    int rc = view_run(&v) != 0 ? LEAKTOP_EXIT_FAILURE : 0;
    view_release(&v);
    return rc;
}
