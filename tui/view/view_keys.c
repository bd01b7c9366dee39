/* view_keys.c: the key table and the actions it binds. Actions change
 * cursors, settings and the footer, and return what the loop must do. */
#include "view_keys.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapdir.h"
#include "view_clip.h"

#define CTRL(c) ((c) & 0x1f)
#define VIEW_KEY_ESC 27

static const view_reaction view_none = {VIEW_REACT_NONE, VIEW_SCREEN_TABLE};

static view_reaction view_react(unsigned what)
{
    return (view_reaction){what, VIEW_SCREEN_TABLE};
}

static view_reaction view_react_open(view_screen s)
{
    return (view_reaction){VIEW_REACT_OPEN, s};
}

#define T   VIEW_SCREEN_BIT(VIEW_SCREEN_TABLE)
#define S   VIEW_SCREEN_BIT(VIEW_SCREEN_STACK)
#define H   VIEW_SCREEN_BIT(VIEW_SCREEN_HELP)
#define L   VIEW_SCREEN_BIT(VIEW_SCREEN_LOG)
#define M   VIEW_SCREEN_BIT(VIEW_SCREEN_MARKS)
#define ALL VIEW_SCREENS_ALL

/* ---- moving ----------------------------------------------------------------- */

static void view_move(view *v, long delta)
{
    size_t h = view_term_body_rows(&v->term);
    if (v->nav.screen == VIEW_SCREEN_TABLE)
        view_table_move(&v->data.table, delta, h);
    else
        view_page_move(&v->nav.page, delta, h);
}

static long view_page_step(view *v)
{
    size_t h = view_term_body_rows(&v->term);
    return h > 1 ? (long)h - 1 : 1;
}

static view_reaction act_up(view *v) { view_move(v, -1); return view_none; }
static view_reaction act_down(view *v) { view_move(v, 1); return view_none; }
static view_reaction act_pgup(view *v) { view_move(v, -view_page_step(v)); return view_none; }
static view_reaction act_pgdn(view *v) { view_move(v, view_page_step(v)); return view_none; }
static view_reaction act_home(view *v) { view_move(v, -(1L << 40)); return view_none; }
static view_reaction act_end(view *v) { view_move(v, 1L << 40); return view_none; }

/* ---- grouping and sorting --------------------------------------------------------- */

/* g: lineno -> traceback -> cumulative (lineno) -> filename -> lineno. */
static view_reaction act_group(view *v)
{
    diff_options *o = &v->dopts;
    if (o->group == DIFF_GROUP_LINENO && !o->cumulative) {
        o->group = DIFF_GROUP_TRACEBACK;
    } else if (o->group == DIFF_GROUP_TRACEBACK) {
        o->group = DIFF_GROUP_LINENO;
        o->cumulative = true;
    } else if (o->group == DIFF_GROUP_LINENO) {
        o->group = DIFF_GROUP_FILENAME;
        o->cumulative = false;
    } else {
        o->group = DIFF_GROUP_LINENO;
        o->cumulative = false;
    }
    return view_react(VIEW_REACT_RECOMPUTE);
}

static view_reaction act_cumulative(view *v)
{
    if (v->dopts.group == DIFF_GROUP_TRACEBACK) {
        view_footer_say(&v->footer, true, "cumulative does not apply to traceback grouping (g changes grouping)");
        return view_none;
    }
    v->dopts.cumulative = !v->dopts.cumulative;
    return view_react(VIEW_REACT_RECOMPUTE);
}

static view_reaction act_sort(view *v)
{
    static const diff_sort next[] = {
        [DIFF_SORT_GROWTH] = DIFF_SORT_ABSOLUTE, [DIFF_SORT_ABSOLUTE] = DIFF_SORT_FREED,
        [DIFF_SORT_FREED] = DIFF_SORT_SIZE, [DIFF_SORT_SIZE] = DIFF_SORT_RETAINED,
        [DIFF_SORT_RETAINED] = DIFF_SORT_RATE, [DIFF_SORT_RATE] = DIFF_SORT_GROWTH,
    };
    v->dopts.sort = next[v->dopts.sort];
    return view_react(VIEW_REACT_RECOMPUTE);
}

/* r: the diff columns show what grew since the baseline, or what is
 * retained since it (blocks born after it and still alive). */
static view_reaction act_retained(view *v)
{
    v->retained = !v->retained;
    view_footer_say(&v->footer, false, v->retained ? "columns: retained since the baseline (blocks born after it, "
                                                     "still alive); r switches back"
                                                   : "columns: growth since the baseline; r shows what is retained");
    return view_none;
}

/* ---- baselines and marks ------------------------------------------------------------ */

static view_reaction act_baseline(view *v) { (void)v; return view_react(VIEW_REACT_BASELINE_NOW); }
static view_reaction act_clear_baseline(view *v) { (void)v; return view_react(VIEW_REACT_BASELINE_CLEAR); }

static view_reaction act_marks(view *v)
{
    if (v->data.marks.n == 0) {
        view_footer_say(&v->footer, false, "no marks yet: the program makes them with leaktop_mark(), you with b");
        return view_none;
    }
    return view_react_open(VIEW_SCREEN_MARKS);
}

/* c on the marks screen: compare the baseline with the selected mark. */
static view_reaction act_freeze(view *v)
{
    if (v->data.marks.n == 0)
        return view_none;
    return view_react(VIEW_REACT_FREEZE);
}

/* Esc on the table: a frozen compare goes back to live. */
static view_reaction act_live(view *v)
{
    if (!view_marks_frozen(&v->data.marks))
        return view_none;
    return view_react(VIEW_REACT_LIVE);
}

/* ---- screens -------------------------------------------------------------------------- */

static view_reaction act_open(view *v)
{
    if (v->nav.screen == VIEW_SCREEN_MARKS)
        return view_react(VIEW_REACT_BASELINE_PICK);
    if (!view_table_selected(&v->data.table)) {
        view_footer_say(&v->footer, false, "no row to open");
        return view_none;
    }
    return view_react_open(VIEW_SCREEN_STACK);
}

static view_reaction act_back(view *v) { (void)v; return view_react(VIEW_REACT_BACK); }
static view_reaction act_help(view *v) { (void)v; return view_react_open(VIEW_SCREEN_HELP); }

static view_reaction act_log(view *v)
{
    if (!v->prog.log_path[0]) {
        view_footer_say(&v->footer, false, "no log: an attached program writes to its own terminal");
        return view_none;
    }
    return view_react_open(VIEW_SCREEN_LOG);
}

static view_reaction act_quit(view *v) { (void)v; return view_react(VIEW_REACT_QUIT); }

static view_reaction act_redraw(view *v)
{
    (void)v;
    view_term_redraw();
    return view_none;
}

static view_reaction act_pause(view *v)
{
    v->paused = !v->paused;
    view_footer_say(&v->footer, false, v->paused ? "paused: the view is frozen, the program keeps running (p resumes)"
                                                 : "resumed");
    return view_none;
}

/* ---- writing and copying ----------------------------------------------------------------- */

static view_reaction act_write(view *v)
{
    const diff_snapshot *snaps[2];   /* what the table compares: now (or the compared mark), its base */
    view_marks_pair(&v->data.marks, v->data.cur, &snaps[0], &snaps[1]);
    char paths[2][PATH_MAX], err[512];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (!snaps[i])
            continue;
        if (snapdir_save(".", snaps[i], (int)watch_pid(v->prog.w), ++v->nsaved, paths[n], sizeof(paths[n]), err, sizeof(err)) != 0) {
            view_footer_say(&v->footer, true, "%s", err);
            return view_none;
        }
        /* Beside each snapshot file, its pprof form for pprof's tools. */
        if (snapdir_export(paths[n], snaps[i], DIFF_EXPORT_PPROF, NULL, 0, err, sizeof(err)) != 0) {
            view_footer_say(&v->footer, true, "%s", err);
            return view_none;
        }
        n++;
    }
    /* Written in the current directory: the names are the paths. */
    const char *p0 = strncmp(paths[0], "./", 2) == 0 ? paths[0] + 2 : paths[0];
    const char *p1 = n == 2 && strncmp(paths[1], "./", 2) == 0 ? paths[1] + 2 : paths[1];
    if (n == 2)
        view_footer_say(&v->footer, false, "wrote %s, baseline %s (and .pb.gz beside them)", p0, p1);
    else if (n == 1)
        view_footer_say(&v->footer, false, "wrote %s and .pb.gz (no baseline to write)", p0);
    return view_none;
}

static view_reaction act_copy(view *v)
{
    char name[64], path[PATH_MAX], err[512];
    snprintf(name, sizeof(name), "screen-%u.txt", ++v->ncopies);
    /* The footer is not part of the copy: it holds hints, not data. */
    if (view_clip_copy(&v->term, v->term.rows - 1, name, path, sizeof(path), err, sizeof(err)) != 0)
        view_footer_say(&v->footer, true, "%s", err);
    else
        view_footer_say(&v->footer, false, "screen copied: %s (and to the clipboard, OSC 52)", path);
    return view_none;
}

/* ---- the filter prompt ------------------------------------------------------------------------ */

static view_reaction act_filter(view *v)
{
    view_footer_prompt_open(&v->footer, v->filter.text);
    return view_none;
}

static view_reaction view_prompt_apply(view *v)
{
    char err[256];
    if (view_filter_set(&v->filter, v->footer.prompt, err, sizeof(err)) != 0) {
        view_footer_say(&v->footer, true, "%s", err);
        return view_none;
    }
    v->dopts.filters = v->filter.items;
    v->dopts.nfilters = v->filter.n;
    if (v->filter.n)
        view_footer_say(&v->footer, false, "filter: %s", v->filter.text);
    else
        view_footer_say(&v->footer, false, "filter cleared");
    return view_react(VIEW_REACT_RECOMPUTE);
}

/* ---- the table -------------------------------------------------------------------------------- */

static const view_key view_key_table[] = {
    {'b', "b", ALL, "baseline: compare against the program's state now", "baseline", act_baseline},
    {'B', "B", ALL, "clear the baseline (compare against nothing)", NULL, act_clear_baseline},
    {'g', "g", T, "grouping: lineno > traceback > cumulative > filename", "group", act_group},
    {'c', "c", T, "cumulative on/off (every frame of a traceback counts)", NULL, act_cumulative},
    {'s', "s", T, "sort: growth > absolute > freed > size > retained > rate (trend over --window)", "sort", act_sort},
    {'r', "r", T, "columns: growth since the baseline <> retained since it", "retained", act_retained},
    {'\n', "Enter Right", T | M, "open the row's stack / make the mark the baseline (live)", "stack", act_open},
    {'\r', "Enter", T | M, NULL, NULL, act_open},
    {KEY_ENTER, "Enter", T | M, NULL, NULL, act_open},
    {KEY_RIGHT, "Right", T | M, NULL, NULL, act_open},
    {'c', "c", M, "compare the baseline with this mark, frozen (the older one is the base)", "compare", act_freeze},
    {VIEW_KEY_ESC, "Esc Left", S | H | L | M, "back to the previous screen", "back", act_back},
    {VIEW_KEY_ESC, "Esc", T, "end a frozen compare of two marks: back to the live view", NULL, act_live},
    {KEY_LEFT, "Left", S | H | L | M, NULL, NULL, act_back},
    {KEY_UP, "Up k", ALL, "move up", NULL, act_up},
    {'k', "k", ALL, NULL, NULL, act_up},
    {KEY_DOWN, "Down j", ALL, "move down", NULL, act_down},
    {'j', "j", ALL, NULL, NULL, act_down},
    {KEY_PPAGE, "PgUp PgDn", ALL, "move a page", NULL, act_pgup},
    {KEY_NPAGE, "PgDn", ALL, NULL, NULL, act_pgdn},
    {KEY_HOME, "Home End", ALL, "first / last row", NULL, act_home},
    {KEY_END, "End", ALL, NULL, NULL, act_end},
    {'/', "/", T, "filter: foo*.c keeps, -bar.c drops, file.c:42 a line; empty clears", "filter", act_filter},
    {'p', "p", ALL, "pause the view (the program keeps running)", NULL, act_pause},
    {'w', "w", ALL, "write the snapshot and the baseline to files here (and as pprof)", NULL, act_write},
    {'y', "y", ALL, "copy the screen as text (clipboard via OSC 52, and a file)", NULL, act_copy},
    {'l', "l", ALL, "the program's output log", NULL, act_log},
    {'m', "m", ALL, "marks (program, leaktop mark, b): pick a baseline or compare two", "marks", act_marks},
    {'?', "?", ALL, "this help", "help", act_help},
    {KEY_F(1), "F1", ALL, NULL, NULL, act_help},
    {CTRL('l'), "Ctrl-L", ALL, "redraw the screen", NULL, act_redraw},
    {'q', "q", ALL, "quit (a launched program is ended, an attached one keeps running)", "quit", act_quit},
};

const view_key *view_keys_table(size_t *n)
{
    *n = sizeof(view_key_table) / sizeof(view_key_table[0]);
    return view_key_table;
}

view_reaction view_keys_dispatch(view *v, int code)
{
    if (v->footer.prompting)
        return view_footer_prompt_key(&v->footer, code) == VIEW_PROMPT_APPLY ? view_prompt_apply(v) : view_none;
    if (code == KEY_RESIZE) {
        view_term_size(&v->term);
        return view_react(VIEW_REACT_REBUILD);
    }
    size_t n;
    const view_key *keys = view_keys_table(&n);
    for (size_t i = 0; i < n; i++)
        if (keys[i].code == code && (keys[i].screens & VIEW_SCREEN_BIT(v->nav.screen)))
            return keys[i].act(v);
    return view_none;
}
