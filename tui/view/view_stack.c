/* view_stack.c: which tracebacks reach a row. For a lineno or filename row
 * that is those whose top frame has the row's key; with cumulative, those
 * with the key in any frame; for a traceback row, that traceback itself. */
#include "view_stack.h"

#include <stdio.h>
#include <string.h>

#include "view_text.h"

/* The key the table would give a one-frame row at this frame. */
static uint64_t view_stack_frame_row_key(view_table *t, const diff_loctab *lt, uint32_t id,
                                         const diff_options *o)
{
    diff_stat one = {.frames = &id, .nframes = 1};
    return view_keycache_stat(&t->kc, lt, &one, o);
}

/* Index of the frame of s that makes it reach the row, or -1. */
static long view_stack_match(view_table *t, const diff_loctab *lt, const diff_stat *s,
                             const view_stack_req *req)
{
    const diff_options *o = req->opts;
    if (o->group == DIFF_GROUP_TRACEBACK)
        return view_keycache_stat(&t->kc, lt, s, o) == req->key ? 0 : -1;
    uint32_t n = o->cumulative ? s->nframes : (s->nframes ? 1 : 0);
    for (uint32_t i = 0; i < n; i++)
        if (view_stack_frame_row_key(t, lt, s->frames[i], o) == req->key)
            return (long)i;
    return -1;
}

static const char *view_stack_base(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

static void view_stack_frame(view_page *p, const diff_frame *f, uint32_t depth, bool hit,
                             const view_stack_req *req)
{
    char suffix[512], loc[2048];
    const int prefix = 6;   /* "> #12 " */
    snprintf(suffix, sizeof(suffix), "%s  %s", f->inlined ? "  [inlined]" : "", view_stack_base(f->module));
    int room = req->cols - prefix - view_text_width(suffix);
    if (room < 30) {   /* the location matters more than the module */
        snprintf(suffix, sizeof(suffix), "%s", f->inlined ? "  [inlined]" : "");
        room = req->cols - prefix - view_text_width(suffix);
    }
    view_loc_style st = req->style;
    st.show_line = true;
    st.show_function = true;
    diff_frame shown = *f;
    if (!shown.function)
        shown.function = "??";
    view_loc_format(loc, sizeof(loc), &shown, room > 10 ? room : 10, &st);
    view_page_add(p, hit ? VIEW_ROLE_TITLE : VIEW_ROLE_NORMAL, "%c #%-2u %s%s", hit ? '>' : ' ', depth,
                  loc, suffix);
}

static view_role view_stack_role(int64_t diff)
{
    return diff > 0 ? VIEW_ROLE_GROW : diff < 0 ? VIEW_ROLE_SHRINK : VIEW_ROLE_NORMAL;
}

static void view_stack_traceback(view_page *p, const diff_loctab *lt, const diff_stat *s, long hit,
                                 size_t nth, size_t total, const view_stack_req *req)
{
    char d[32], sz[32];
    diff_format_size(d, sizeof(d), s->size_diff, true);
    diff_format_size(sz, sizeof(sz), s->size, false);
    view_page_add(p, view_stack_role(s->size_diff), "%s  blocks %+lld  now %s in %lld blocks  (traceback %zu of %zu)",
                  d, (long long)s->count_diff, sz, (long long)s->count, nth, total);
    for (uint32_t i = 0; i < s->nframes; i++)
        view_stack_frame(p, diff_loctab_get(lt, s->frames[i]), i, (long)i == hit, req);
    if (s->nframes == 0)
        view_page_add(p, VIEW_ROLE_DIM, "   (no frames)");
    view_page_add(p, VIEW_ROLE_NORMAL, "%s", "");
}

int view_stack_page(view_page *p, view_table *t, const view_stack_req *req, char *err, size_t errlen)
{
    diff_options tb = *req->opts;
    tb.group = DIFF_GROUP_TRACEBACK;
    tb.cumulative = false;
    diff_stats *st = diff_compare(req->cur, req->base, &tb, err, errlen);
    if (!st)
        return -1;
    const diff_loctab *lt = diff_stats_locs(st);
    size_t n = diff_stats_count(st), matched = 0;
    /* Two passes: count first, so each traceback says "k of N". */
    for (size_t i = 0; i < n; i++)
        matched += view_stack_match(t, lt, diff_stats_get(st, i), req) >= 0;
    view_page_clear(p);
    p->select = false;
    char where[400];
    view_loc_where(where, sizeof(where), req->loc, &req->style);
    snprintf(p->title, sizeof(p->title), "%zu traceback%s reach%s %s%s%s", matched, matched == 1 ? "" : "s",
             matched == 1 ? "es" : "", where, req->loc->function && req->style.show_line ? " in " : "",
             req->loc->function && req->style.show_line ? req->loc->function : "");
    size_t nth = 0;
    for (size_t i = 0; i < n && nth < VIEW_STACK_MAX; i++) {
        const diff_stat *s = diff_stats_get(st, i);
        long hit = view_stack_match(t, lt, s, req);
        if (hit >= 0)
            view_stack_traceback(p, lt, s, req->opts->group == DIFF_GROUP_TRACEBACK ? -1 : hit, ++nth, matched, req);
    }
    if (matched > nth)
        view_page_add(p, VIEW_ROLE_DIM, "... %zu more tracebacks not shown", matched - nth);
    if (matched == 0)
        view_page_add(p, VIEW_ROLE_DIM, "No traceback reaches this row any more.");
    diff_stats_free(st);
    return 0;
}
