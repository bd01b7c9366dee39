/* view_stack.c: the tracebacks that reach a row, as diff answers it
 * (diff_traceback_reaches: the top frame for lineno or filename, any frame
 * with cumulative, the traceback itself for a traceback row), laid out. */
#include "view_stack.h"

#include <stdio.h>
#include <string.h>

#include "view_text.h"

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

static void view_stack_traceback(view_page *p, const diff_stats *st, const diff_stat *s, long hit,
                                 size_t nth, size_t total, const view_stack_req *req)
{
    const diff_loctab *lt = diff_stats_locs(st);
    char d[32], sz[32], ret[64] = "retained ?";
    diff_format_size(d, sizeof(d), s->size_diff, true);
    diff_format_size(sz, sizeof(sz), s->size, false);
    if (diff_stats_retained_known(st, NULL)) {
        char r[32];
        snprintf(ret, sizeof(ret), "retained %s in %lld", diff_format_size(r, sizeof(r), s->retained_size, false),
                 (long long)s->retained_count);
    }
    /* Fits 80 columns for most rows: the figures first, then which one. */
    view_page_add(p, view_stack_role(s->size_diff), "%s  blocks %+lld  %s %s in %lld  %s  (%zu of %zu)", d,
                  (long long)s->count_diff, req->frozen ? "then" : "now", sz, (long long)s->count, ret, nth, total);
    for (uint32_t i = 0; i < s->nframes; i++)
        view_stack_frame(p, diff_loctab_get(lt, s->frames[i]), i, (long)i == hit, req);
    if (s->nframes == 0)
        view_page_add(p, VIEW_ROLE_DIM, "   (no frames)");
    view_page_add(p, VIEW_ROLE_NORMAL, "%s", "");
}

int view_stack_page(view_page *p, const view_stack_req *req, char *err, size_t errlen)
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
        matched += diff_traceback_reaches(lt, diff_stats_get(st, i), req->opts, req->key) >= 0;
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
        long hit = diff_traceback_reaches(lt, s, req->opts, req->key);
        if (hit >= 0)
            view_stack_traceback(p, st, s, req->opts->group == DIFF_GROUP_TRACEBACK ? -1 : hit, ++nth, matched, req);
    }
    if (matched > nth)
        view_page_add(p, VIEW_ROLE_DIM, "... %zu more tracebacks not shown", matched - nth);
    if (matched == 0)
        view_page_add(p, VIEW_ROLE_DIM, "No traceback reaches this row any more.");
    diff_stats_free(st);
    return 0;
}
