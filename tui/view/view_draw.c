/* view_draw.c: the screen, top to bottom. Every piece of text goes through
 * view_term_put with its width, so nothing wraps or runs past the right
 * edge at any size; columns that do not fit are dropped, narrowest first. */
#include "view_draw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "util.h"
#include "view_keys.h"
#include "view_loc.h"
#include "view_text.h"

#define VIEW_TREND_COLS  VIEW_TREND_LEN
#define VIEW_LOC_MIN     24    /* below this the trend column goes, then count */

/* ---- header ------------------------------------------------------------------ */

static void view_draw_state(const view *v, char *out, size_t len)
{
    int ws = 0;
    bool known = watch_status(v->prog.w, &ws);
    if (!v->prog.ended)
        snprintf(out, len, v->prog.stopped ? "stopped" : "running");
    else if (watch_detached(v->prog.w))
        snprintf(out, len, "detached");
    else if (known && WIFSIGNALED(ws))
        snprintf(out, len, "killed by signal %d", WTERMSIG(ws));
    else if (known)
        snprintf(out, len, "exited %d", WEXITSTATUS(ws));
    else
        snprintf(out, len, watch_exited(v->prog.w) ? "exited" : "ended (killed?)");
}

/* Puts label then value; returns the next x. */
static int view_draw_pair(const view *v, int y, int x, const char *label, view_role role, const char *value)
{
    x += view_term_put(&v->term, y, x, v->term.cols - x, VIEW_ROLE_DIM, label, false);
    x += view_term_put(&v->term, y, x, v->term.cols - x, role, value, false);
    return x + view_term_put(&v->term, y, x, v->term.cols - x, VIEW_ROLE_NORMAL, "  ", false);
}

static void view_draw_line0(const view *v)
{
    char pid[32], state[64], up[32], rss[32];
    int x = view_term_put(&v->term, 0, 0, v->term.cols, VIEW_ROLE_TITLE, "leaktop ", false);
    char prog[256], sampled[64];
    /* Every figure of a sampled run is an estimate: that note outranks the
     * program's full name, the uptime and the RSS on an 80-column line. */
    uint64_t every = watch_sample_bytes(v->prog.w);
    int name_w = v->term.cols / (every ? 5 : 3);
    view_text_fit_left(prog, sizeof(prog), watch_name(v->prog.w), name_w, v->term.g);
    x += view_term_put(&v->term, 0, x, name_w, VIEW_ROLE_TITLE, prog, false);
    snprintf(pid, sizeof(pid), " [%d]  ", (int)watch_pid(v->prog.w));
    x += view_term_put(&v->term, 0, x, v->term.cols - x, VIEW_ROLE_NORMAL, pid, false);
    view_draw_state(v, state, sizeof(state));
    x = view_draw_pair(v, 0, x, "", v->prog.ended ? VIEW_ROLE_FLAG : VIEW_ROLE_NORMAL, state);
    if (every)
        x = view_draw_pair(v, 0, x, "", VIEW_ROLE_FLAG, diff_format_sampling(sampled, sizeof(sampled), every));
    view_text_duration(up, sizeof(up), watch_elapsed(v->prog.w));
    x = view_draw_pair(v, 0, x, watch_since_attach(v->prog.w) ? "attached " : "up ", VIEW_ROLE_NORMAL, up);
    if (v->prog.rss >= 0 && !v->prog.ended) {
        diff_format_size(rss, sizeof(rss), v->prog.rss, false);
        x = view_draw_pair(v, 0, x, "RSS ", VIEW_ROLE_NORMAL, rss);
    }
    if (v->prog.lost[0])
        x = view_draw_pair(v, 0, x, "", VIEW_ROLE_ERROR, v->prog.lost);
    if (v->paused && x + 6 <= v->term.cols)
        view_term_put(&v->term, 0, v->term.cols - 6, 6, VIEW_ROLE_ERROR, "PAUSED", false);
}

/* r: the header says the columns hold what is retained since the
 * baseline, and how much in all, or why that is not known. */
static void view_draw_retained_total(const view *v, int x, bool base)
{
    const char *label = base ? "retained since baseline " : "retained since start ";
    const char *why = "no compare yet";
    char sz[32], text[192];
    if (v->data.table.st && diff_stats_retained_known(v->data.table.st, &why)) {
        diff_stat t;
        diff_stats_total(v->data.table.st, &t);
        diff_format_size(sz, sizeof(sz), t.retained_size, false);
        snprintf(text, sizeof(text), "%s in %lld blocks", sz, (long long)t.retained_count);
        view_draw_pair(v, 1, x, label, t.retained_size > 0 ? VIEW_ROLE_GROW : VIEW_ROLE_NORMAL, text);
        return;
    }
    snprintf(text, sizeof(text), "not known: %s", why);
    view_draw_pair(v, 1, x, label, VIEW_ROLE_ERROR, text);
}

/* Traced totals of what the table compares (now, or the compared mark of
 * a frozen compare) and their change since its base. */
static void view_draw_line1(const view *v)
{
    const diff_snapshot *cur, *base;
    view_marks_pair(&v->data.marks, v->data.cur, &cur, &base);
    if (!cur)
        return;
    bool frozen = view_marks_frozen(&v->data.marks);
    int64_t size, count, bsize = 0, bcount = 0;
    diff_snapshot_totals(cur, &size, &count);
    if (base)
        diff_snapshot_totals(base, &bsize, &bcount);
    char sz[32], d[32], text[128];
    diff_format_size(sz, sizeof(sz), size, false);
    diff_format_size(d, sizeof(d), size - bsize, true);
    snprintf(text, sizeof(text), "%s in %lld blocks", sz, (long long)count);
    int x = view_draw_pair(v, 1, 0, frozen ? "traced then " : "traced ", VIEW_ROLE_NORMAL, text);
    if (v->retained) {
        view_draw_retained_total(v, x, base != NULL);
        return;
    }
    snprintf(text, sizeof(text), "%s, %+lld blocks", d, (long long)(count - bcount));
    view_role role = size - bsize > 0 ? VIEW_ROLE_GROW : size < bsize ? VIEW_ROLE_SHRINK : VIEW_ROLE_NORMAL;
    view_draw_pair(v, 1, x, base ? "since baseline " : watch_since_attach(v->prog.w) ? "since attach " : "since start ",
                   role, text);
}

/* What the rows compare: now against the baseline, or two marks, frozen. */
static int view_draw_compare(const view *v)
{
    const view_marks *m = &v->data.marks;
    const diff_snapshot *base = view_marks_baseline(m);
    char text[256], ago[32], a[96], b[96];
    if (view_marks_frozen(m)) {
        snprintf(text, sizeof(text), "%s vs %s", view_marks_name(m, m->baseline, a, sizeof(a)),
                 view_marks_name(m, m->versus, b, sizeof(b)));
        return view_draw_pair(v, 2, 0, "", VIEW_ROLE_FLAG, text);
    }
    if (base) {
        view_text_duration(ago, sizeof(ago), watch_elapsed(v->prog.w) - diff_snapshot_elapsed(base));
        snprintf(text, sizeof(text), "%s, %s ago", diff_snapshot_label(base), ago);
    } else {
        snprintf(text, sizeof(text), "none (b sets one)");
    }
    return view_draw_pair(v, 2, 0, "baseline ", VIEW_ROLE_NORMAL, text);
}

static void view_draw_line2(const view *v)
{
    char text[256];
    int x = view_draw_compare(v);
    snprintf(text, sizeof(text), "%s%s", diff_group_name(v->dopts.group), v->dopts.cumulative ? "+cumulative" : "");
    x = view_draw_pair(v, 2, x, "group ", VIEW_ROLE_NORMAL, text);
    x = view_draw_pair(v, 2, x, "sort ", VIEW_ROLE_NORMAL, diff_sort_name(v->dopts.sort));
    view_draw_pair(v, 2, x, "filter ", VIEW_ROLE_NORMAL, v->filter.n ? v->filter.text : "none");
}

/* The suspect count (diff_trend_rule over --window) leads the row, so it
 * is never cut off; the traced-memory sparkline takes half of the rest,
 * the log path the other half. */
static void view_draw_line3(const view *v)
{
    int64_t vals[VIEW_TOTALS_LEN];
    char spark[VIEW_TOTALS_LEN * 4 + 1], path[PATH_MAX], text[64];
    size_t ns = v->data.table.suspects;
    int x;
    if (view_marks_frozen(&v->data.marks)) {   /* trends are the live table's */
        x = view_draw_pair(v, 3, 0, "", VIEW_ROLE_ERROR, "FROZEN (Esc: live)");
    } else {
        snprintf(text, sizeof(text), "%zu (window %gs)", ns, v->o->window_s);
        x = view_draw_pair(v, 3, 0, "suspects ", ns ? VIEW_ROLE_SUSPECT : VIEW_ROLE_NORMAL, text);
    }
    int rest = v->term.cols - x;
    int width = v->prog.log_path[0] ? rest / 2 - 7 : rest - 7;
    int n = view_table_totals(&v->data.table, vals, width > 0 ? width : 0);
    view_spark(spark, sizeof(spark), vals, n, v->term.g);
    x += view_term_put(&v->term, 3, x, 7, VIEW_ROLE_DIM, "memory ", false);
    x += view_term_put(&v->term, 3, x, width > 0 ? width : 0, VIEW_ROLE_NORMAL, spark, true);
    if (!v->prog.log_path[0])
        return;
    x += view_term_put(&v->term, 3, x, v->term.cols - x, VIEW_ROLE_DIM, "  log ", false);
    view_text_fit_left(path, sizeof(path), v->prog.log_path, v->term.cols - x, v->term.g);
    view_term_put(&v->term, 3, x, v->term.cols - x, VIEW_ROLE_NORMAL, path, false);
}

/* ---- the table ----------------------------------------------------------------- */

/* Rate (the trend's bytes per second) is shown under the rate sort only. */
enum { COL_SDIFF, COL_CDIFF, COL_SIZE, COL_COUNT, COL_RATE, COL_N };

typedef struct view_cells {
    char num[COL_N][32];
} view_cells;

typedef struct view_layout {
    int  width[COL_N];
    bool show[COL_N];
    bool trend;
    int  loc_x, loc_cols;
} view_layout;

static const char *const view_col_names[COL_N] = {"+Size", "+Count", "Size", "Count", "Rate"};
static const char *const view_col_names_retained[COL_N] = {"Retained", "RCount", "Size", "Count", "Rate"};

/* What the diff columns show (r): growth since the baseline, or retained
 * since it ("?" when that is not known: the header says why). */
static bool view_retained_known(const view *v)
{
    return v->data.table.st && diff_stats_retained_known(v->data.table.st, NULL);
}

static const char *view_col_name(const view *v, int c)
{
    return (v->retained ? view_col_names_retained : view_col_names)[c];
}

static void view_cells_format(const view *v, size_t i, view_cells *c)
{
    const view_table *t = &v->data.table;
    const diff_stat *s = view_table_row(t, i);
    if (v->retained && !view_retained_known(v)) {
        snprintf(c->num[COL_SDIFF], sizeof(c->num[0]), "?");
        snprintf(c->num[COL_CDIFF], sizeof(c->num[0]), "?");
    } else if (v->retained) {
        diff_format_size(c->num[COL_SDIFF], sizeof(c->num[0]), s->retained_size, false);
        snprintf(c->num[COL_CDIFF], sizeof(c->num[0]), "%lld", (long long)s->retained_count);
    } else {
        diff_format_size(c->num[COL_SDIFF], sizeof(c->num[0]), s->size_diff, true);
        snprintf(c->num[COL_CDIFF], sizeof(c->num[0]), "%+lld", (long long)s->count_diff);
    }
    diff_format_size(c->num[COL_SIZE], sizeof(c->num[0]), s->size, false);
    snprintf(c->num[COL_COUNT], sizeof(c->num[0]), "%lld", (long long)s->count);
    diff_trend tr = view_table_row_trend(t, i);
    char r[24];
    if (tr.known)
        snprintf(c->num[COL_RATE], sizeof(c->num[0]), "%s/s",
                 diff_format_size(r, sizeof(r), (int64_t)llround(tr.rate_bps), true));
    else
        snprintf(c->num[COL_RATE], sizeof(c->num[0]), "-");
}

/* Column widths fit the rows on screen; the location gets what is left. */
static view_layout view_layout_table(const view *v, size_t first, size_t nshown)
{
    /* A frozen compare has no trends: the sparklines are the live table's. */
    view_layout lay = {.trend = !view_marks_frozen(&v->data.marks)};
    for (int c = 0; c < COL_N; c++) {
        lay.width[c] = (int)strlen(view_col_name(v, c));
        lay.show[c] = c != COL_RATE || v->dopts.sort == DIFF_SORT_RATE;
    }
    for (size_t i = 0; i < nshown; i++) {
        view_cells cells;
        view_cells_format(v, first + i, &cells);
        for (int c = 0; c < COL_N; c++) {
            int w = (int)strlen(cells.num[c]);
            lay.width[c] = w > lay.width[c] ? w : lay.width[c];
        }
    }
    for (int pass = 0; pass < 3; pass++) {
        int x = 1;
        for (int c = 0; c < COL_N; c++)
            x += lay.show[c] ? lay.width[c] + 1 : 0;
        x += 2 + (lay.trend ? VIEW_TREND_COLS + 1 : 0);   /* flag, trend */
        lay.loc_x = x;
        lay.loc_cols = v->term.cols - x;
        if (lay.loc_cols >= VIEW_LOC_MIN)
            break;
        if (lay.trend)
            lay.trend = false;
        else
            lay.show[COL_COUNT] = false;
    }
    return lay;
}

static void view_draw_colhdr(const view *v, const view_layout *lay)
{
    char line[1024] = " ";
    size_t used = 1;
    for (int c = 0; c < COL_N; c++)
        if (lay->show[c])
            used += (size_t)snprintf(line + used, sizeof(line) - used, "%*s ", lay->width[c], view_col_name(v, c));
    snprintf(line + used, sizeof(line) - used, "  %-*s%s", lay->trend ? VIEW_TREND_COLS + 1 : 0,
             lay->trend ? "Trend" : "", "Location");
    view_term_put(&v->term, VIEW_HEADER_ROWS, 0, v->term.cols, VIEW_ROLE_COLHDR, line, true);
}

static view_role view_diff_role(int64_t d)
{
    return d > 0 ? VIEW_ROLE_GROW : d < 0 ? VIEW_ROLE_SHRINK : VIEW_ROLE_NORMAL;
}

/* Traceback rows share their top line often: the callers tell them apart. */
static void view_draw_callers(const diff_loctab *lt, const diff_stat *s, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (uint32_t i = 1; i < s->nframes && used + 1 < len; i++) {
        const diff_frame *f = diff_loctab_get(lt, s->frames[i]);
        int n = snprintf(out + used, len - used, " < %s", f->function ? f->function : "??");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void view_draw_row(const view *v, int y, size_t i, const view_layout *lay, const view_loc_style *st)
{
    const diff_stat *s = view_table_row(&v->data.table, i);
    bool sel = i == v->data.table.cur.sel;
    view_cells cells;
    view_cells_format(v, i, &cells);
    diff_trend tr = view_table_row_trend(&v->data.table, i);
    int64_t rate = tr.known ? (int64_t)llround(tr.rate_bps) : 0;
    if (sel)
        view_term_fill(&v->term, y, VIEW_ROLE_SELECTED);
    int x = 1;
    for (int c = 0; c < COL_N; c++) {
        if (!lay->show[c])
            continue;
        char cell[48];
        snprintf(cell, sizeof(cell), "%*s", lay->width[c], cells.num[c]);
        int64_t sign[COL_N] = {[COL_SDIFF] = v->retained ? s->retained_size : s->size_diff,
                               [COL_CDIFF] = v->retained ? s->retained_count : s->count_diff, [COL_RATE] = rate};
        view_role role = view_diff_role(sign[c]);
        x += view_term_put(&v->term, y, x, lay->width[c], sel ? VIEW_ROLE_SELECTED : role, cell, false) + 1;
    }
    bool big = view_table_bigger(s), suspect = tr.suspect;
    const char *flag = suspect ? v->term.g->suspect : big ? v->term.g->bigger : " ";
    view_role flag_role = sel ? VIEW_ROLE_SELECTED : suspect ? VIEW_ROLE_SUSPECT : VIEW_ROLE_FLAG;
    view_term_put(&v->term, y, x, 1, flag_role, flag, false);
    x += 2;
    if (lay->trend) {
        int64_t vals[VIEW_TREND_COLS];
        char spark[VIEW_TREND_COLS * 4 + 1];
        view_spark(spark, sizeof(spark), vals, view_table_trend(&v->data.table, i, vals, VIEW_TREND_COLS), v->term.g);
        view_term_put(&v->term, y, x, VIEW_TREND_COLS, sel ? VIEW_ROLE_SELECTED : VIEW_ROLE_NORMAL, spark, false);
    }
    char loc[2048];
    const diff_loctab *lt = diff_stats_locs(v->data.table.st);
    int used = view_loc_format(loc, sizeof(loc), diff_loctab_get(lt, s->frames[0]), lay->loc_cols, st);
    view_term_put(&v->term, y, lay->loc_x, lay->loc_cols, sel ? VIEW_ROLE_SELECTED : VIEW_ROLE_NORMAL, loc, false);
    if (v->dopts.group == DIFF_GROUP_TRACEBACK && s->nframes > 1 && used + 4 < lay->loc_cols) {
        view_draw_callers(lt, s, loc, sizeof(loc));
        view_term_put(&v->term, y, lay->loc_x + used, lay->loc_cols - used, sel ? VIEW_ROLE_SELECTED : VIEW_ROLE_DIM,
                      loc, false);
    }
}

static void view_draw_table(const view *v)
{
    size_t h = view_term_body_rows(&v->term), first = v->data.table.cur.top;
    size_t shown = v->data.table.nrows > first ? v->data.table.nrows - first : 0;
    shown = shown < h ? shown : h;
    view_layout lay = view_layout_table(v, first, shown);
    view_draw_colhdr(v, &lay);
    view_loc_style st = {
        .g = v->term.g, .cwd = v->cwd,
        .show_line = v->dopts.group != DIFF_GROUP_FILENAME,
        .show_function = v->dopts.group != DIFF_GROUP_FILENAME,
    };
    for (size_t k = 0; k < shown; k++)
        view_draw_row(v, VIEW_HEADER_ROWS + 1 + (int)k, first + k, &lay, &st);
    if (v->data.table.nrows == 0)
        view_term_put(&v->term, VIEW_HEADER_ROWS + 2, 2, v->term.cols - 2, VIEW_ROLE_DIM,
                      v->data.cur ? "No allocations (after the filter) to show." : "Waiting for the first snapshot...", false);
}

/* ---- pages ------------------------------------------------------------------------ */

static void view_draw_page(const view *v)
{
    const view_page *p = &v->nav.page;
    size_t h = view_term_body_rows(&v->term), first = p->cur.top;
    char pos[64] = "";
    if (p->n > h)
        snprintf(pos, sizeof(pos), "  [%zu-%zu of %zu]", first + 1, first + h < p->n ? first + h : p->n, p->n);
    int w = view_text_width(pos);
    view_term_fill(&v->term, VIEW_HEADER_ROWS, VIEW_ROLE_COLHDR);
    view_term_put(&v->term, VIEW_HEADER_ROWS, 1, v->term.cols - 1 - w, VIEW_ROLE_COLHDR, p->title, false);
    view_term_put(&v->term, VIEW_HEADER_ROWS, v->term.cols - w, w, VIEW_ROLE_COLHDR, pos, false);
    for (size_t k = 0; k < h && first + k < p->n; k++) {
        const view_line *l = &p->lines[first + k];
        bool sel = p->select && first + k == p->cur.sel;
        int y = VIEW_HEADER_ROWS + 1 + (int)k;
        if (sel)
            view_term_fill(&v->term, y, VIEW_ROLE_SELECTED);
        view_term_put(&v->term, y, 1, v->term.cols - 1, sel ? VIEW_ROLE_SELECTED : l->role, l->text, false);
    }
}

/* ---- footer --------------------------------------------------------------------------- */

static void view_draw_hints(const view *v, int y)
{
    size_t n;
    const view_key *keys = view_keys_table(&n);
    char line[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(line); i++) {
        if (!keys[i].hint || !(keys[i].screens & VIEW_SCREEN_BIT(v->nav.screen)))
            continue;
        char name[32];
        snprintf(name, sizeof(name), "%s", keys[i].name);
        name[strcspn(name, " ")] = 0;   /* "Enter Right" -> "Enter" */
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %s", used ? "  " : "", name, keys[i].hint);
    }
    view_term_put(&v->term, y, 0, v->term.cols, VIEW_ROLE_FOOTER, line, true);
}

static void view_draw_footer(const view *v)
{
    int y = v->term.rows - 1;
    if (v->footer.prompting) {
        char line[1024];
        snprintf(line, sizeof(line), "filter (foo*.c keeps, -bar.c drops; Enter applies, Esc cancels): %s_", v->footer.prompt);
        char fitted[1024];
        view_text_fit_left(fitted, sizeof(fitted), line, v->term.cols, v->term.g);
        view_term_put(&v->term, y, 0, v->term.cols, VIEW_ROLE_MESSAGE, fitted, true);
        return;
    }
    if (view_footer_live(&v->footer, util_now_ns())) {
        view_term_put(&v->term, y, 0, v->term.cols, v->footer.error ? VIEW_ROLE_ERROR : VIEW_ROLE_MESSAGE, v->footer.msg, true);
        return;
    }
    view_draw_hints(v, y);
}

static void view_draw_too_small(const view *v)
{
    char line[128];
    snprintf(line, sizeof(line), "Terminal too small: %dx%d.", v->term.cols, v->term.rows);
    view_term_put(&v->term, 0, 0, v->term.cols, VIEW_ROLE_ERROR, line, false);
    snprintf(line, sizeof(line), "leaktop needs at least %dx%d.", VIEW_MIN_COLS, VIEW_MIN_ROWS);
    view_term_put(&v->term, 1, 0, v->term.cols, VIEW_ROLE_NORMAL, line, false);
    view_term_put(&v->term, 2, 0, v->term.cols, VIEW_ROLE_NORMAL, "Enlarge it, or q to quit.", false);
}

void view_draw(const view *v)
{
    view_term_clear();
    if (v->term.cols < VIEW_MIN_COLS || v->term.rows < VIEW_MIN_ROWS) {
        view_draw_too_small(v);
        view_term_flush();
        return;
    }
    view_draw_line0(v);
    view_draw_line1(v);
    view_draw_line2(v);
    view_draw_line3(v);
    if (v->nav.screen == VIEW_SCREEN_TABLE)
        view_draw_table(v);
    else
        view_draw_page(v);
    view_draw_footer(v);
    view_term_flush();
}
