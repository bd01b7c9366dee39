/* view_keys.c: the key table and the actions it binds. Actions change the
 * model through view_state.h; the next draw shows the result. */
#include "view_keys.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapdir.h"
#include "view_clip.h"
#include "view_screen.h"

#define CTRL(c) ((c) & 0x1f)
#define VIEW_KEY_ESC 27
#define VIEW_KEY_DEL 127

#define T   VIEW_SCREEN_BIT(VIEW_SCREEN_TABLE)
#define S   VIEW_SCREEN_BIT(VIEW_SCREEN_STACK)
#define H   VIEW_SCREEN_BIT(VIEW_SCREEN_HELP)
#define L   VIEW_SCREEN_BIT(VIEW_SCREEN_LOG)
#define M   VIEW_SCREEN_BIT(VIEW_SCREEN_MARKS)
#define ALL VIEW_SCREENS_ALL

/* ---- moving ----------------------------------------------------------------- */

static void view_move(view *v, long delta)
{
    size_t h = view_body_rows(v);
    if (v->screen == VIEW_SCREEN_TABLE)
        view_table_move(&v->table, delta, h);
    else
        view_page_move(&v->page, delta, h);
}

static long view_page_step(view *v)
{
    size_t h = view_body_rows(v);
    return h > 1 ? (long)h - 1 : 1;
}

static void act_up(view *v) { view_move(v, -1); }
static void act_down(view *v) { view_move(v, 1); }
static void act_pgup(view *v) { view_move(v, -view_page_step(v)); }
static void act_pgdn(view *v) { view_move(v, view_page_step(v)); }
static void act_home(view *v) { view_move(v, -(1L << 40)); }
static void act_end(view *v) { view_move(v, 1L << 40); }

/* ---- grouping and sorting --------------------------------------------------------- */

/* g: lineno -> traceback -> cumulative (lineno) -> filename -> lineno. */
static void act_group(view *v)
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
    view_recompute(v);
}

static void act_cumulative(view *v)
{
    if (v->dopts.group == DIFF_GROUP_TRACEBACK) {
        view_message(v, true, "cumulative does not apply to traceback grouping (g changes grouping)");
        return;
    }
    v->dopts.cumulative = !v->dopts.cumulative;
    view_recompute(v);
}

static void act_sort(view *v)
{
    static const diff_sort next[] = {
        [DIFF_SORT_GROWTH] = DIFF_SORT_ABSOLUTE, [DIFF_SORT_ABSOLUTE] = DIFF_SORT_FREED,
        [DIFF_SORT_FREED] = DIFF_SORT_SIZE, [DIFF_SORT_SIZE] = DIFF_SORT_GROWTH,
    };
    v->dopts.sort = next[v->dopts.sort];
    view_recompute(v);
}

/* ---- baselines and marks ------------------------------------------------------------ */

static void act_baseline(view *v) { view_baseline_now(v); }
static void act_clear_baseline(view *v) { view_baseline_clear(v); }

static void act_marks(view *v)
{
    if (v->marks.n == 0) {
        view_message(v, false, "no marks yet: the program makes them with leaktop_mark(), you with b");
        return;
    }
    view_open(v, VIEW_SCREEN_MARKS);
    v->page.cur.sel = v->marks.baseline >= 0 ? (size_t)v->marks.baseline : v->marks.n - 1;
}

/* ---- screens -------------------------------------------------------------------------- */

static void act_open(view *v)
{
    if (v->screen == VIEW_SCREEN_MARKS) {
        view_baseline_pick(v, (long)v->page.cur.sel);
        return;
    }
    if (!view_table_selected(&v->table)) {
        view_message(v, false, "no row to open");
        return;
    }
    view_open(v, VIEW_SCREEN_STACK);
}

static void act_back(view *v) { view_back(v); }
static void act_help(view *v) { view_open(v, VIEW_SCREEN_HELP); }

static void act_log(view *v)
{
    if (!v->log_path[0]) {
        view_message(v, false, "no log: an attached program writes to its own terminal");
        return;
    }
    view_open(v, VIEW_SCREEN_LOG);
}

static void act_quit(view *v) { v->quit = true; }

static void act_redraw(view *v)
{
    (void)v;
    view_term_redraw();
}

static void act_pause(view *v)
{
    v->paused = !v->paused;
    view_message(v, false, v->paused ? "paused: the view is frozen, the program keeps running (p resumes)"
                                     : "resumed");
}

/* ---- writing and copying ----------------------------------------------------------------- */

static void act_write(view *v)
{
    const diff_snapshot *snaps[2] = {v->cur, view_marks_baseline(&v->marks)};
    char paths[2][PATH_MAX], err[512];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (!snaps[i])
            continue;
        if (snapdir_save(".", snaps[i], (int)watch_pid(v->w), ++v->nsaved, paths[n], sizeof(paths[n]), err, sizeof(err)) != 0) {
            view_message(v, true, "%s", err);
            return;
        }
        n++;
    }
    /* Written in the current directory: the names are the paths. */
    const char *p0 = strncmp(paths[0], "./", 2) == 0 ? paths[0] + 2 : paths[0];
    const char *p1 = n == 2 && strncmp(paths[1], "./", 2) == 0 ? paths[1] + 2 : paths[1];
    if (n == 2)
        view_message(v, false, "wrote %s, baseline %s", p0, p1);
    else if (n == 1)
        view_message(v, false, "wrote %s (no baseline to write)", p0);
}

static void act_copy(view *v)
{
    char name[64], path[PATH_MAX], err[512];
    snprintf(name, sizeof(name), "leaktop-%d-screen-%u.txt", (int)watch_pid(v->w), ++v->ncopies);
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    /* The footer is not part of the copy: it holds hints, not data. */
    if (view_clip_copy(&v->term, v->term.rows - 1, dir, name, path, sizeof(path), err, sizeof(err)) != 0)
        view_message(v, true, "%s", err);
    else
        view_message(v, false, "%s: screen copied (and to the clipboard, OSC 52)", path);
}

/* ---- the filter prompt ------------------------------------------------------------------------ */

static void act_filter(view *v)
{
    v->prompting = true;
    snprintf(v->prompt, sizeof(v->prompt), "%s", v->filter.text);
}

static void view_prompt_apply(view *v)
{
    char err[256];
    v->prompting = false;
    if (view_filter_set(&v->filter, v->prompt, err, sizeof(err)) != 0) {
        view_message(v, true, "%s", err);
        return;
    }
    v->dopts.filters = v->filter.items;
    v->dopts.nfilters = v->filter.n;
    view_recompute(v);
    if (v->filter.n)
        view_message(v, false, "filter: %s", v->filter.text);
    else
        view_message(v, false, "filter cleared");
}

/* Deletes the last character (a whole UTF-8 sequence) or, with word, the
 * last word. */
static void view_prompt_erase(char *p, bool word)
{
    size_t n = strlen(p);
    if (word) {
        while (n && p[n - 1] == ' ')
            n--;
        while (n && p[n - 1] != ' ')
            n--;
    } else {
        while (n && ((unsigned char)p[n - 1] & 0xc0) == 0x80)
            n--;
        if (n)
            n--;
    }
    p[n] = 0;
}

static void view_prompt_key(view *v, int code)
{
    size_t n = strlen(v->prompt);
    if (code == '\n' || code == '\r' || code == KEY_ENTER)
        view_prompt_apply(v);
    else if (code == VIEW_KEY_ESC)
        v->prompting = false;
    else if (code == KEY_BACKSPACE || code == VIEW_KEY_DEL || code == CTRL('h'))
        view_prompt_erase(v->prompt, false);
    else if (code == CTRL('w'))
        view_prompt_erase(v->prompt, true);
    else if (code == CTRL('u'))
        v->prompt[0] = 0;
    else if (code >= ' ' && code <= 0xff && code != VIEW_KEY_DEL && n + 1 < sizeof(v->prompt)) {
        v->prompt[n] = (char)code;
        v->prompt[n + 1] = 0;
    }
}

/* ---- the table -------------------------------------------------------------------------------- */

static const view_key view_key_table[] = {
    {'b', "b", ALL, "baseline: compare against the program's state now", "baseline", act_baseline},
    {'B', "B", ALL, "clear the baseline (compare against nothing)", NULL, act_clear_baseline},
    {'g', "g", T, "grouping: lineno > traceback > cumulative > filename", "group", act_group},
    {'c', "c", T, "cumulative on/off (every frame of a traceback counts)", NULL, act_cumulative},
    {'s', "s", T, "sort: growth > absolute > freed > size", "sort", act_sort},
    {'\n', "Enter Right", T | M, "open the row's stack / pick the mark as baseline", "stack", act_open},
    {'\r', "Enter", T | M, NULL, NULL, act_open},
    {KEY_ENTER, "Enter", T | M, NULL, NULL, act_open},
    {KEY_RIGHT, "Right", T | M, NULL, NULL, act_open},
    {VIEW_KEY_ESC, "Esc Left", S | H | L | M, "back to the previous screen", "back", act_back},
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
    {'w', "w", ALL, "write the snapshot and the baseline to files here", NULL, act_write},
    {'y', "y", ALL, "copy the screen as text (clipboard via OSC 52, and a file)", NULL, act_copy},
    {'l', "l", ALL, "the program's output log", NULL, act_log},
    {'m', "m", ALL, "marks the program made; Enter picks one as baseline", "marks", act_marks},
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

void view_keys_dispatch(view *v, int code)
{
    v->dirty = true;
    if (v->prompting) {
        view_prompt_key(v, code);
        return;
    }
    if (code == KEY_RESIZE) {
        view_term_size(&v->term);
        view_page_rebuild(v);
        return;
    }
    size_t n;
    const view_key *keys = view_keys_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].code == code && (keys[i].screens & VIEW_SCREEN_BIT(v->screen))) {
            keys[i].act(v);
            return;
        }
    }
}
