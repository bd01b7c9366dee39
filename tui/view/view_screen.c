/* view_screen.c: which screen is shown (table, stack, help, log, marks),
 * the way back, and rebuilding a page screen's lines from the models. */
#include "view_screen.h"

#include "util.h"
#include "view_help.h"
#include "view_log.h"
#include "view_stack.h"

static void view_stack_rebuild(view *v)
{
    diff_options o = v->stack_opts;
    o.filters = v->dopts.filters;
    o.nfilters = v->dopts.nfilters;
    view_stack_req req = {
        .cur = v->cur, .base = view_marks_baseline(&v->marks), .opts = &o, .key = v->stack_key,
        .loc = &v->stack_loc, .cols = v->term.cols - 1,
        .style = {.g = v->term.g, .cwd = v->cwd, .show_line = o.group != DIFF_GROUP_FILENAME,
                  .show_function = o.group != DIFF_GROUP_FILENAME},
    };
    char err[512];
    int64_t t0 = util_now_ns();
    if (view_stack_page(&v->page, &v->table, &req, err, sizeof(err)) != 0)
        view_message(v, true, "%s", err);
    v->stack_ms = (double)(util_now_ns() - t0) / 1e6;
}

void view_page_rebuild(view *v)
{
    size_t h = view_body_rows(v);
    switch (v->screen) {
    case VIEW_SCREEN_STACK:
        view_stack_rebuild(v);
        break;
    case VIEW_SCREEN_HELP:
        view_help_page(&v->page, v->interval_ms, v->refresh_ms);
        break;
    case VIEW_SCREEN_LOG:
        view_log_page(&v->page, v->log_path);
        if (v->page.follow)
            v->page.cur.top = v->page.n > h ? v->page.n - h : 0;
        break;
    case VIEW_SCREEN_MARKS:
        view_marks_page(&v->marks, &v->page, view_now_elapsed(v));
        break;
    default:
        return;
    }
    view_cursor_clamp(&v->page.cur, v->page.n, h, v->page.select);
    v->dirty = true;
}

void view_open(view *v, view_screen s)
{
    if (s == v->screen)
        return;
    if (s == VIEW_SCREEN_STACK) {
        const diff_stat *row = view_table_selected(&v->table);
        v->stack_key = v->table.keys[v->table.cur.sel];
        v->stack_loc = *diff_loctab_get(diff_stats_locs(v->table.st), row->frames[0]);
        v->stack_opts = v->dopts;
    }
    if (v->nback < VIEW_BACK_DEPTH)
        v->back[v->nback++] = v->screen;
    v->screen = s;
    view_page_clear(&v->page);
    v->page.cur = (view_cursor){0};
    v->page.follow = false;
    view_page_rebuild(v);
}

void view_back(view *v)
{
    v->screen = v->nback ? v->back[--v->nback] : VIEW_SCREEN_TABLE;
    view_page_clear(&v->page);
    v->page.cur = (view_cursor){0};
    view_page_rebuild(v);
    v->dirty = true;
}
