/* view_screen.c: which screen is shown (table, stack, help, log, marks),
 * the way back, and rebuilding a page screen's lines from the models. */
#include "view_screen.h"

#include "util.h"
#include "view_help.h"
#include "view_log.h"
#include "view_stack.h"

static void view_stack_rebuild(view *v)
{
    diff_options o = v->nav.stack_opts;
    o.filters = v->dopts.filters;
    o.nfilters = v->dopts.nfilters;
    const diff_snapshot *cur, *base;
    view_marks_pair(&v->data.marks, v->data.cur, &cur, &base);
    view_stack_req req = {
        .cur = cur, .base = base, .opts = &o, .key = v->nav.stack_key, .frozen = view_marks_frozen(&v->data.marks),
        .loc = &v->nav.stack_loc, .cols = v->term.cols - 1,
        .style = {.g = v->term.g, .cwd = v->cwd, .show_line = o.group != DIFF_GROUP_FILENAME,
                  .show_function = o.group != DIFF_GROUP_FILENAME},
    };
    char err[512];
    int64_t t0 = util_now_ns();
    if (view_stack_page(&v->nav.page, &req, err, sizeof(err)) != 0)
        view_footer_say(&v->footer, true, "%s", err);
    v->nav.stack_ms = (double)(util_now_ns() - t0) / 1e6;
}

void view_page_rebuild(view *v)
{
    size_t h = view_term_body_rows(&v->term);
    switch (v->nav.screen) {
    case VIEW_SCREEN_STACK:
        view_stack_rebuild(v);
        break;
    case VIEW_SCREEN_HELP:
        view_help_page(&v->nav.page, v->interval_ms, v->data.refresh_ms);
        break;
    case VIEW_SCREEN_LOG:
        view_log_page(&v->nav.page, v->prog.log_path);
        if (v->nav.page.follow)
            v->nav.page.cur.top = v->nav.page.n > h ? v->nav.page.n - h : 0;
        break;
    case VIEW_SCREEN_MARKS:
        view_marks_page(&v->data.marks, &v->nav.page);
        break;
    default:
        return;
    }
    view_cursor_clamp(&v->nav.page.cur, v->nav.page.n, h, v->nav.page.select);
    v->dirty = true;
}

void view_open(view *v, view_screen s)
{
    if (s == v->nav.screen)
        return;
    if (s == VIEW_SCREEN_STACK) {
        const diff_stat *row = view_table_selected(&v->data.table);
        v->nav.stack_key = row->key;
        v->nav.stack_loc = *diff_loctab_get(diff_stats_locs(v->data.table.st), row->frames[0]);
        v->nav.stack_opts = v->dopts;
    }
    if (v->nav.nback < VIEW_BACK_DEPTH)
        v->nav.back[v->nav.nback++] = v->nav.screen;
    v->nav.screen = s;
    view_page_clear(&v->nav.page);
    v->nav.page.cur = (view_cursor){0};
    v->nav.page.follow = false;
    view_page_rebuild(v);
    if (s == VIEW_SCREEN_MARKS && v->data.marks.n)   /* on the baseline, else the newest */
        v->nav.page.cur.sel = v->data.marks.baseline >= 0 ? (size_t)v->data.marks.baseline : v->data.marks.n - 1;
}

void view_nav_reset(view_nav *n)
{
    view_page_clear(&n->page);
    n->screen = VIEW_SCREEN_TABLE;
    n->nback = 0;
}

void view_back(view *v)
{
    v->nav.screen = v->nav.nback ? v->nav.back[--v->nav.nback] : VIEW_SCREEN_TABLE;
    view_page_clear(&v->nav.page);
    v->nav.page.cur = (view_cursor){0};
    view_page_rebuild(v);
    v->dirty = true;
}
