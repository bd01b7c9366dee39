/* view_model.c: keeping the view's data in step with the program and the
 * user's settings: taking snapshots, handing compares to the worker and
 * adopting their rows, baselines, and what the watch reports (marks, an
 * exec, the end). Runs on the loop's thread; every function that may
 * intern frames first waits for the worker (the rule in view_worker.h). */
#include "view_model.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "snapdir.h"
#include "util.h"
#include "view_screen.h"

#define VIEW_STACK_LIVE_MS 20.0   /* a stack cheaper than this follows refreshes */

/* ---- the data of one image -------------------------------------------------------------- */

void view_data_init(view_data *d)
{
    memset(d, 0, sizeof(*d));
    view_marks_init(&d->marks);
}

/* Drops everything one image of the program produced, as one. */
void view_data_free(view_data *d)
{
    if (d->cur)
        diff_snapshot_free(d->cur);
    view_marks_free(&d->marks);
    view_table_free(&d->table);
    view_data_init(d);
}

/* ---- the model ------------------------------------------------------------------------- */

/* Starts the compare on the worker: now against the baseline, or, in a
 * frozen compare, the baseline against the compared mark, through the same
 * call (so whatever diff_compare adds shows in both). A request while the
 * worker is busy runs when the running one is collected. */
static void view_compare(view *v, bool sample)
{
    const diff_snapshot *cur, *base;
    view_marks_pair(&v->data.marks, v->data.cur, &cur, &base);
    if (!cur)
        return;
    if (view_worker_busy(&v->worker)) {
        v->recompute = true;
        return;
    }
    bool frozen = view_marks_frozen(&v->data.marks);
    uint64_t mode = view_table_mode(&v->dopts, v->filter.text);
    diff_options o = v->dopts;
    /* The rate sort needs each group's history. The worker only reads it:
     * the loop records into it when it adopts a compare, never while one
     * runs. A frozen compare of two marks has no history. */
    if (o.sort == DIFF_SORT_RATE && !frozen)
        o.trend = view_table_history(&v->data.table, mode);
    v->worker.job.frozen = frozen;
    view_worker_start(&v->worker, cur, base, &o, &v->filter, mode, sample && !frozen);
}

/* Takes a finished compare into the table. */
void view_model_collect(view *v, bool wait)
{
    view_job *j = view_worker_collect(&v->worker, wait);
    if (!j)
        return;
    if (!j->res.st) {
        view_footer_say(&v->footer, true, "%s", j->res.err);
    } else {
        v->data.table.window_s = v->o->window_s;
        v->data.table.frozen = j->frozen;
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
        view_model_collect(v, true);
}

/* Re-groups or re-sorts the same snapshots (no new trend point); the rows
 * change when the worker is done. */
void view_model_recompute(view *v)
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

void view_model_baseline_now(view *v)
{
    view_quiesce(v);
    char label[32];
    unsigned n = 1;
    for (size_t i = 0; i < v->data.marks.n; i++)
        n += v->data.marks.items[i].source == VIEW_MARK_KEY;
    snprintf(label, sizeof(label), "b%u", n);
    size_t idx = view_marks_add(&v->data.marks, watch_baseline(v->prog.w, label), VIEW_MARK_KEY);
    view_marks_set_baseline(&v->data.marks, (long)idx);
    watch_baseline_chosen(v->prog.w);
    /* The table compares against a state taken just now as well, so it
     * starts from zero instead of showing the last interval backwards. */
    view_sample(v);
    view_footer_say(&v->footer, false, "baseline %s taken: rows now show growth since this moment", label);
}

/* After a frozen compare the current snapshot is as old as the freeze:
 * a fresh one, unless the program ended (its final state is current) or
 * the view is paused. */
static void view_refresh_after(view *v, bool was_frozen)
{
    if (was_frozen && !v->prog.ended && !v->paused)
        view_sample(v);
    else
        view_model_recompute(v);
}

void view_model_baseline_clear(view *v)
{
    bool was_frozen = view_marks_frozen(&v->data.marks);
    view_marks_set_baseline(&v->data.marks, -1);
    watch_baseline_chosen(v->prog.w);
    view_refresh_after(v, was_frozen);
    view_footer_say(&v->footer, false, "baseline cleared: comparing against the empty snapshot");
}

void view_model_baseline_pick(view *v, long index)
{
    bool was_frozen = view_marks_frozen(&v->data.marks);
    view_marks_set_baseline(&v->data.marks, index);
    watch_baseline_chosen(v->prog.w);
    view_back(v);
    view_refresh_after(v, was_frozen);
    char name[96];
    view_footer_say(&v->footer, false, "baseline %s: rows show growth from it until now",
                    view_marks_name(&v->data.marks, v->data.marks.baseline, name, sizeof(name)));
}

void view_model_freeze(view *v, long index)
{
    view_marks *m = &v->data.marks;
    if (view_marks_freeze(m, m->baseline, index) != 0) {
        view_footer_say(&v->footer, true, "that is the baseline: pick another mark to compare it with");
        return;
    }
    watch_baseline_chosen(v->prog.w);
    view_back(v);
    view_model_recompute(v);
    char a[96], b[96];
    view_footer_say(&v->footer, false, "%s vs %s, frozen: Esc returns to the live view",
                    view_marks_name(m, m->baseline, a, sizeof(a)), view_marks_name(m, m->versus, b, sizeof(b)));
}

void view_model_live(view *v)
{
    if (!view_marks_frozen(&v->data.marks))
        return;
    view_marks_thaw(&v->data.marks);
    view_refresh_after(v, true);
    char name[96];
    view_footer_say(&v->footer, false, "live again: now against %s",
                    view_marks_name(&v->data.marks, v->data.marks.baseline, name, sizeof(name)));
}

/* A mark the program made; the watch says whether it is the baseline
 * (the first one, unless the user already chose). Returns true when the
 * table must be compared again. */
/* --save DIR: every mark and the final state go to files, as in batch. */
static void view_save(view *v, const diff_snapshot *snap)
{
    if (!v->o->save_dir)
        return;
    char err[512], path[PATH_MAX];
    if (snapdir_save(v->o->save_dir, snap, (int)watch_pid(v->prog.w), ++v->nsaved, path, sizeof(path), err, sizeof(err)) != 0)
        view_footer_say(&v->footer, true, "%s", err);
    else if (v->o->format_set && snapdir_export(path, snap, v->o->format, NULL, 0, err, sizeof(err)) != 0)
        view_footer_say(&v->footer, true, "%s", err);
}

static bool view_on_mark(view *v, diff_snapshot *snap, bool baseline, bool requested)
{
    view_save(v, snap);
    size_t idx = view_marks_add(&v->data.marks, snap, requested ? VIEW_MARK_REQUESTED : VIEW_MARK_PROGRAM);
    const char *label = diff_snapshot_label(snap);
    const char *who = requested ? "leaktop mark took" : "the program marked";
    if (!baseline) {
        view_footer_say(&v->footer, false, "%s \"%s\" (m lists marks, Enter picks one)", who, label);
        return false;
    }
    view_marks_set_baseline(&v->data.marks, (long)idx);
    view_footer_say(&v->footer, false, "%s \"%s\": it is the baseline (m lists marks)", who, label);
    return true;
}

/* The program ended: its final state (read from the segment, which
 * outlives it, exactly like the batch report) stays explorable until q. */
static void view_on_end(view *v, diff_snapshot *final)
{
    view_save(v, final);
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
    if (watch_detached(v->prog.w)) {
        view_footer_say(&v->footer, false, "detached: the program runs on; its state at the detach stays here until q");
        return;
    }
    if (known && WIFSIGNALED(ws))
        snprintf(state, sizeof(state), "was killed by signal %d", WTERMSIG(ws));
    else if (known)
        snprintf(state, sizeof(state), "exited %d", WEXITSTATUS(ws));
    pid_t forked;
    if (watch_survivors(v->prog.w, &forked, 1))
        view_footer_say(&v->footer, true, "the program %s, but %d, which it forked, runs on untraced (a daemon? "
                        "keep it in the foreground, or leaktop attach %d)", state, (int)forked, (int)forked);
    else
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
    v->prog.lost[0] = 0;
    v->prog.lost_traces = 0;
    view_footer_say(&v->footer, false, "the program exec'd %s: following the new image from an empty start", watch_name(v->prog.w));
}

/* The program exec'd into an image the tracer is not in: kept in the
 * header, said once in the footer. */
static void view_on_left(view *v, const char *path)
{
    snprintf(v->prog.lost, sizeof(v->prog.lost), "left tracing at exec (%s)", path);
    view_footer_say(&v->footer, true, "the program left tracing at exec (%s): the figures are the old image's, at the exec",
                    path);
}

/* What the tracer could not record (allocations charged to <unknown>):
 * kept in the header, said in the footer each time it grows. */
/* debuginfod fetches run beside the view (frames in their modules resolve
 * once the answers are in): said in the footer as their count changes. */
static void view_check_fetching(view *v, uint32_t fetching)
{
    if (fetching == v->prog.fetching)
        return;
    if (fetching > 0)
        view_footer_say(&v->footer, false, "fetching debug info from debuginfod: %u module(s) to go", fetching);
    else
        view_footer_say(&v->footer, false, "debuginfod: every answer is in");
    v->prog.fetching = fetching;
}

static void view_check_health(view *v)
{
    session_health h;
    watch_health(v->prog.w, &h);
    view_check_fetching(v, h.fetching);
    if (watch_growth_unknown(v->prog.w) || h.traces_dropped == v->prog.lost_traces)
        return;
    v->prog.lost_traces = h.traces_dropped;
    snprintf(v->prog.lost, sizeof(v->prog.lost), "%llu allocs to <unknown>", (unsigned long long)h.traces_dropped);
    view_footer_say(&v->footer, true, "%llu allocation(s) charged to <unknown>: %s", (unsigned long long)h.traces_dropped,
                    *h.full_why ? h.full_why : "their stacks could not be stored");
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
            rebase |= view_on_mark(v, ev.snap, ev.baseline, ev.requested);
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
        case WATCH_EVENT_LEFT:
            view_on_left(v, ev.path);
            break;
        case WATCH_EVENT_TRUNCATED:
            snprintf(v->prog.lost, sizeof(v->prog.lost), "segment truncated");
            view_footer_say(&v->footer, true, "the program's segment was truncated under leaktop: the figures "
                            "from here on are incomplete");
            break;
        case WATCH_EVENT_END:
            view_on_end(v, ev.snap);
            rebase = false;
            break;
        }
    }
    view_check_health(v);
    if (rebase)
        view_model_recompute(v);
    if (marks && v->nav.screen == VIEW_SCREEN_MARKS)
        view_page_rebuild(v);
}

/* Runs with the worker idle (the loop waits for it): everything here may
 * intern frames or free snapshots. */
void view_model_tick(view *v)
{
    if (v->prog.ended)
        return;
    view_watch_events(v);
    if (v->prog.ended)
        return;
    v->prog.rss = watch_rss(v->prog.w);
    v->prog.stopped = watch_stopped(v->prog.w);
    /* A frozen compare does not refresh; marks and the end still arrive. */
    if (!v->paused && !view_marks_frozen(&v->data.marks)) {
        view_sample(v);
        if (v->nav.screen == VIEW_SCREEN_LOG || v->nav.screen == VIEW_SCREEN_MARKS)
            view_page_rebuild(v);
    }
    v->dirty = true;
}
