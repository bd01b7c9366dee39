/* test_view_units.c: the live view's pure pieces, without a terminal:
 * column-aware fitting, sparklines, location shortening, the filter
 * prompt's parsing, the OSC 52 encoding, the cursor arithmetic, and the
 * table model (view_table): trends per group across refreshes, gaps,
 * groupings, the selection following its group, the totals series, the
 * rate sort fed by the table's history and the frozen compare without
 * trends; and the marks (view_marks): numbers, sources, the baseline and
 * the compared mark, which compare they make, which one is dropped. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "view_clip.h"
#include "view_filter.h"
#include "view_loc.h"
#include "view_marks.h"
#include "view_page.h"
#include "view_table.h"
#include "view_text.h"

static void test_fit_cuts_at_columns_not_bytes(void)
{
    const view_glyphs *u = view_glyphs_get(true), *a = view_glyphs_get(false);
    char out[128];
    CHECK(view_text_fit(out, sizeof(out), "hello", 10, u) == 5);
    CHECK_STR(out, "hello");
    CHECK(view_text_fit(out, sizeof(out), "hello world", 8, u) == 8);
    CHECK_STR(out, "hello w…");
    CHECK(view_text_fit(out, sizeof(out), "hello world", 8, a) == 8);
    CHECK_STR(out, "hello ..");
    CHECK(view_text_width("▁▂█") == 3);   /* 9 bytes, 3 columns */
    CHECK(view_text_fit_left(out, sizeof(out), "/a/b/c/file.c:12", 10, u) == 10);
    CHECK_STR(out, "…file.c:12");
}

/* Names from debug info reach the screen: no control character (C0, DEL,
 * C1 such as U+009B CSI) and no broken UTF-8 may reach curses. */
static void test_clean_replaces_controls_and_broken_utf8(void)
{
    char out[64];
    view_text_clean(out, sizeof(out), "a\x1b[2Jb\x7f", true);
    CHECK_STR(out, "a?[2Jb?");
    view_text_clean(out, sizeof(out), "x\xc2\x9b" "31my", true);   /* C1 CSI: one character */
    CHECK_STR(out, "x?31my");
    view_text_clean(out, sizeof(out), "gr\xc3\xb6\xc3\x9f" "e \xe2\x80\xa6", true);  /* größe … kept */
    CHECK_STR(out, "gr\xc3\xb6\xc3\x9f" "e \xe2\x80\xa6");
    view_text_clean(out, sizeof(out), "a\xff\xc3" "b\xed\xa0\x80", true);  /* bad lead, cut, surrogate */
    CHECK_STR(out, "a??b???");
    view_text_clean(out, sizeof(out), "\xc0\xaf", true);                  /* overlong '/' */
    CHECK_STR(out, "??");
    view_text_clean(out, sizeof(out), "gr\xc3\xb6\xc3\x9f" "e", false);      /* ASCII terminal */
    CHECK_STR(out, "gr????e");
    view_text_clean(out, 4, "abcdef", true);
    CHECK_STR(out, "abc");
}

static void test_spark_scales_min_to_max(void)
{
    char out[128];
    int64_t rising[] = {0, 50, 100};
    view_spark(out, sizeof(out), rising, 3, view_glyphs_get(true));
    CHECK_STR(out, "▁▅█");
    view_spark(out, sizeof(out), rising, 3, view_glyphs_get(false));
    CHECK_STR(out, "_-#");
    int64_t flat[] = {7, 7};
    view_spark(out, sizeof(out), flat, 2, view_glyphs_get(false));
    CHECK_STR(out, "__");
}

static void test_location_shortens_path_at_a_slash(void)
{
    diff_frame f = {.function = "handle_request", .file = "/srv/app/src/net/server.c", .line = 88};
    view_loc_style st = {.g = view_glyphs_get(true), .cwd = "/srv/app", .show_line = true, .show_function = true};
    char out[256];
    view_loc_format(out, sizeof(out), &f, 80, &st);
    CHECK_STR(out, "handle_request  src/net/server.c:88");
    int used = view_loc_format(out, sizeof(out), &f, 30, &st);
    CHECK(used <= 30);
    CHECK(strstr(out, "server.c:88") != NULL);
    CHECK(strstr(out, "…/") != NULL);   /* cut at a directory, not inside a name */
    diff_frame nofile = {.function = NULL, .module = "/usr/lib/libfoo.so", .offset = 0x1a2b};
    view_loc_format(out, sizeof(out), &nofile, 80, &st);
    CHECK_STR(out, "libfoo.so+0x1a2b");
    st.show_line = false;
    view_loc_format(out, sizeof(out), &f, 80, &st);
    CHECK_STR(out, "handle_request  src/net/server.c");
}

static void test_filter_words_become_tracemalloc_filters(void)
{
    view_filter f = {0};
    char err[256];
    CHECK(view_filter_set(&f, "  foo*.c -bar.c src/x.c:42 ", err, sizeof(err)) == 0);
    /* foo*.c and bar.c also get their any-directory twin; src/x.c has a '/' */
    CHECK(f.n == 5);
    CHECK(f.items[0].inclusive && strcmp(f.items[0].pattern, "foo*.c") == 0 && f.items[0].lineno == -1);
    CHECK(f.items[1].inclusive && strcmp(f.items[1].pattern, "*/foo*.c") == 0);
    CHECK(!f.items[2].inclusive && strcmp(f.items[2].pattern, "bar.c") == 0);
    CHECK(!f.items[3].inclusive && strcmp(f.items[3].pattern, "*/bar.c") == 0);
    CHECK(strcmp(f.items[4].pattern, "src/x.c") == 0 && f.items[4].lineno == 42);
    CHECK_STR(f.text, "  foo*.c -bar.c src/x.c:42 ");
    CHECK(view_filter_set(&f, "-", err, sizeof(err)) != 0);   /* refused, f unchanged */
    CHECK(f.n == 5);
    CHECK(view_filter_set(&f, "   ", err, sizeof(err)) == 0);
    CHECK(f.n == 0 && f.text[0] == 0);
    diff_filter cli = {.inclusive = true, .pattern = "main.c", .lineno = -1};
    view_filter_from(&f, &cli, 1);   /* command-line filters keep their exact meaning */
    CHECK(f.n == 1 && strcmp(f.items[0].pattern, "main.c") == 0);
    CHECK_STR(f.text, "main.c");
    view_filter_free(&f);
}

static void test_osc52_encodes_and_wraps_for_tmux(void)
{
    char *plain = view_clip_osc52("hi\n", 3, 0);
    CHECK_STR(plain, "\033]52;c;aGkK\a");
    free(plain);
    char *tmux = view_clip_osc52("abcd", 4, 1);
    CHECK_STR(tmux, "\033]52;c;YWJjZA==\a\033Ptmux;\033\033]52;c;YWJjZA==\a\033\\");
    free(tmux);
}

static void test_cursor_selects_and_scrolls(void)
{
    view_cursor c = {0};
    view_cursor_move(&c, 100, 30, 10, true);
    CHECK(c.sel == 30 && c.top == 21);
    view_cursor_move(&c, 100, 1000, 10, true);
    CHECK(c.sel == 99 && c.top == 90);
    view_cursor_clamp(&c, 5, 10, true);   /* rows went away */
    CHECK(c.sel == 4 && c.top == 0);
    view_cursor scroll = {0};
    view_cursor_move(&scroll, 25, 100, 10, false);
    CHECK(scroll.top == 15);
}

/* ---- view_table -------------------------------------------------------------- */

/* One compare of a snapshot holding `n` traces (file, line, size) adopted
 * by the table as a refresh (sample) under grouping o. */
typedef struct tt_trace { const char *file; uint32_t line; int64_t size; } tt_trace;

static void tt_refresh(view_table *t, diff_loctab *lt, const tt_trace *tr, size_t n, const diff_options *o,
                       bool sample)
{
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    for (size_t i = 0; i < n; i++) {
        diff_frame f = {.function = "f", .file = tr[i].file, .line = tr[i].line};
        uint32_t id = diff_loctab_intern(lt, &f);
        diff_snapshot_add(s, tr[i].size, 1, &id, 1);
    }
    view_compare_result r;
    view_table_compute(s, NULL, o, &r);
    CHECK(r.st != NULL);
    view_table_adopt(t, &r, s, view_table_mode(o, ""), sample);
    view_compare_result_free(&r);
    diff_snapshot_free(s);
}

/* The row whose location is file:line, or -1. */
static long tt_row(const view_table *t, const char *file, uint32_t line)
{
    for (size_t i = 0; i < t->nrows; i++) {
        const diff_stat *s = view_table_row(t, i);
        const diff_frame *f = diff_loctab_get(diff_stats_locs(t->st), s->frames[0]);
        if (strcmp(f->file, file) == 0 && f->line == line)
            return (long)i;
    }
    return -1;
}

static int tt_trend(const view_table *t, const char *file, uint32_t line, int64_t *vals)
{
    long row = tt_row(t, file, line);
    return row < 0 ? -1 : view_table_trend(t, (size_t)row, vals, VIEW_TREND_LEN);
}

static void test_table_trends_follow_groups(void)
{
    diff_loctab *lt = diff_loctab_new();
    view_table t = {0};
    diff_options line = {.group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH};
    int64_t v[VIEW_TREND_LEN];
    /* a.c:1 grows 100 a refresh; b.c:2 is there, gone, back. */
    tt_trace r1[] = {{"a.c", 1, 100}, {"b.c", 2, 50}}, r2[] = {{"a.c", 1, 200}}, r3[] = {{"a.c", 1, 300}, {"b.c", 2, 70}};
    tt_refresh(&t, lt, r1, 2, &line, true);
    tt_refresh(&t, lt, r2, 1, &line, true);
    tt_refresh(&t, lt, r3, 2, &line, true);
    CHECK(tt_trend(&t, "a.c", 1, v) == 3 && v[0] == 100 && v[1] == 200 && v[2] == 300);
    /* The refresh that did not see b.c:2 counts as 0, not as nothing. */
    CHECK(tt_trend(&t, "b.c", 2, v) == 3 && v[0] == 50 && v[1] == 0 && v[2] == 70);
    /* A re-sort of the same snapshot adds no point. */
    tt_refresh(&t, lt, r3, 2, &line, false);
    CHECK(tt_trend(&t, "a.c", 1, v) == 3);
    /* Another grouping has its own history; coming back resumes the old one. */
    diff_options file = {.group = DIFF_GROUP_FILENAME, .sort = DIFF_SORT_GROWTH};
    tt_refresh(&t, lt, r3, 2, &file, true);
    CHECK(tt_trend(&t, "a.c", 1, v) == 1 && v[0] == 300);   /* the file row (its representative frame) */
    tt_refresh(&t, lt, r3, 2, &line, true);
    CHECK(tt_trend(&t, "a.c", 1, v) == 4 && v[3] == 300);
    /* At most VIEW_TREND_LEN points, the newest last. */
    for (int i = 0; i < VIEW_TREND_LEN + 3; i++) {
        tt_trace r[] = {{"a.c", 1, 1000 + i}};
        tt_refresh(&t, lt, r, 1, &line, true);
    }
    CHECK(tt_trend(&t, "a.c", 1, v) == VIEW_TREND_LEN && v[VIEW_TREND_LEN - 1] == 1000 + VIEW_TREND_LEN + 2 &&
          v[0] == 1003);
    /* The header's series: one total per sampled refresh, oldest first. */
    int64_t tot[4];
    CHECK(view_table_totals(&t, tot, 4) == 4 && tot[3] == 1000 + VIEW_TREND_LEN + 2 && tot[2] == tot[3] - 1);
    view_table_free(&t);
    diff_loctab_free(lt);
}

static void test_table_selection_stays_on_its_group(void)
{
    diff_loctab *lt = diff_loctab_new();
    view_table t = {0};
    diff_options o = {.group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH};
    tt_trace r1[] = {{"a.c", 1, 300}, {"b.c", 2, 200}, {"c.c", 3, 100}};
    tt_refresh(&t, lt, r1, 3, &o, true);
    CHECK(tt_row(&t, "b.c", 2) == 1);
    view_table_move(&t, 1, 10);   /* select b.c:2 */
    /* b.c:2 now sorts first: the selection goes with it. */
    tt_trace r2[] = {{"a.c", 1, 300}, {"b.c", 2, 900}, {"c.c", 3, 100}};
    tt_refresh(&t, lt, r2, 3, &o, true);
    CHECK(t.cur.sel == (size_t)tt_row(&t, "b.c", 2) && t.cur.sel == 0);
    /* The top row is what the user watches: a selection there stays there. */
    tt_trace r3[] = {{"a.c", 1, 950}, {"b.c", 2, 900}, {"c.c", 3, 100}};
    tt_refresh(&t, lt, r3, 3, &o, true);
    CHECK(t.cur.sel == 0 && tt_row(&t, "a.c", 1) == 0);
    /* Another grouping starts at the top. */
    view_table_move(&t, 2, 10);
    diff_options file = {.group = DIFF_GROUP_FILENAME, .sort = DIFF_SORT_GROWTH};
    tt_refresh(&t, lt, r3, 3, &file, false);
    CHECK(t.cur.sel == 0);
    view_table_free(&t);
    diff_loctab_free(lt);
}

/* A snapshot at elapsed time t_s of n traces (file, line, size). */
static diff_snapshot *tt_snap(diff_loctab *lt, const tt_trace *tr, size_t n, double t_s)
{
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    for (size_t i = 0; i < n; i++) {
        diff_frame f = {.function = "f", .file = tr[i].file, .line = tr[i].line};
        uint32_t id = diff_loctab_intern(lt, &f);
        diff_snapshot_add(s, tr[i].size, 1, &id, 1);
    }
    diff_snapshot_set_meta(s, 1, t_s);
    return s;
}

/* A refresh as the view's loop makes it: the worker's compare gets the
 * table's history when it sorts by rate (view_compare in view_model.c). */
static void tt_refresh_rate(view_table *t, diff_snapshot *s, const diff_options *o, bool with_history)
{
    diff_options w = *o;
    uint64_t mode = view_table_mode(o, "");
    w.trend = with_history ? view_table_history(t, mode) : NULL;
    view_compare_result r;
    view_table_compute(s, NULL, &w, &r);
    CHECK(r.st != NULL);
    view_table_adopt(t, &r, s, mode, !t->frozen);
    view_compare_result_free(&r);
}

static void test_rate_sort_uses_the_tables_history(void)
{
    diff_loctab *lt = diff_loctab_new();
    view_table t = {.window_s = 20};
    diff_options o = {.group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_RATE};
    diff_snapshot *keep[12] = {0};
    /* leak.c:1 grows 100 B/s; cache.c:2 is bigger and flat. */
    for (int i = 0; i < 12; i++) {
        tt_trace tr[] = {{"leak.c", 1, 100 * (i + 1)}, {"cache.c", 2, 5000}};
        keep[i] = tt_snap(lt, tr, 2, (double)i);
        tt_refresh_rate(&t, keep[i], &o, true);
    }
    CHECK(tt_row(&t, "leak.c", 1) == 0 && tt_row(&t, "cache.c", 2) == 1);
    diff_trend tr = view_table_row_trend(&t, 0);
    CHECK(tr.known && tr.suspect && tr.rate_bps > 99.9 && tr.rate_bps < 100.1);
    CHECK(view_table_row_trend(&t, 1).known && !view_table_row_trend(&t, 1).suspect);
    CHECK(t.suspects == 1);
    /* Without the history every rate reads 0: the bigger line would top. */
    view_table rival = {.window_s = 20};
    tt_refresh_rate(&rival, keep[11], &o, false);
    CHECK(tt_row(&rival, "cache.c", 2) == 0);
    view_table_free(&rival);
    /* A frozen compare (two marks) shows no trend and counts no suspect,
     * and leaves the live history as it was. */
    t.frozen = true;
    tt_refresh_rate(&t, keep[5], &o, false);
    CHECK(t.suspects == 0 && !view_table_row_trend(&t, 0).known);
    t.frozen = false;
    tt_trace last[] = {{"leak.c", 1, 1300}, {"cache.c", 2, 5000}};
    diff_snapshot *s = tt_snap(lt, last, 2, 12.0);
    tt_refresh_rate(&t, s, &o, true);
    CHECK(tt_row(&t, "leak.c", 1) == 0 && view_table_row_trend(&t, 0).suspect && t.suspects == 1);
    diff_snapshot_free(s);
    for (int i = 0; i < 12; i++)
        diff_snapshot_free(keep[i]);
    view_table_free(&t);
    diff_loctab_free(lt);
}

/* ---- view_marks ------------------------------------------------------------------ */

static diff_snapshot *tm_mark(diff_loctab *lt, const char *label, int64_t size, double t_s)
{
    tt_trace tr[] = {{"a.c", 1, size}};
    diff_snapshot *s = tt_snap(lt, tr, 1, t_s);
    diff_snapshot_set_label(s, label);
    return s;
}

static void test_marks_pick_baseline_and_freeze_a_pair(void)
{
    diff_loctab *lt = diff_loctab_new();
    view_marks m;
    view_marks_init(&m);
    diff_snapshot *now = tm_mark(lt, "live", 999, 10);
    const diff_snapshot *cur, *base;
    view_marks_pair(&m, now, &cur, &base);
    CHECK(cur == now && base == NULL && !view_marks_frozen(&m));
    CHECK(view_marks_add(&m, tm_mark(lt, "b1", 100, 1), VIEW_MARK_KEY) == 0);
    CHECK(view_marks_add(&m, tm_mark(lt, "warm", 200, 2), VIEW_MARK_PROGRAM) == 1);
    CHECK(view_marks_add(&m, tm_mark(lt, "ext", 300, 3), VIEW_MARK_REQUESTED) == 2);
    CHECK(m.items[2].number == 3 && m.items[2].source == VIEW_MARK_REQUESTED);
    /* Any earlier mark as the baseline, live: now against it. */
    view_marks_set_baseline(&m, 2);
    view_marks_set_baseline(&m, 0);
    view_marks_pair(&m, now, &cur, &base);
    CHECK(cur == now && base == m.items[0].snap);
    /* Frozen: the baseline against a later mark. */
    CHECK(view_marks_freeze(&m, 0, 2) == 0 && view_marks_frozen(&m));
    view_marks_pair(&m, now, &cur, &base);
    CHECK(base == m.items[0].snap && cur == m.items[2].snap);
    char a[64], b[64];
    CHECK_STR(view_marks_name(&m, m.baseline, a, sizeof(a)), "mark 1 (b1)");
    CHECK_STR(view_marks_name(&m, m.versus, b, sizeof(b)), "mark 3 (ext)");
    CHECK_STR(view_marks_name(&m, -1, a, sizeof(a)), "start");
    /* A mark older than the baseline: the older one becomes the base. */
    CHECK(view_marks_freeze(&m, 2, 1) == 0 && m.baseline == 1 && m.versus == 2);
    /* The empty start against a mark. */
    CHECK(view_marks_freeze(&m, -1, 1) == 0 && m.baseline == -1 && m.versus == 1);
    view_marks_pair(&m, now, &cur, &base);
    CHECK(base == NULL && cur == m.items[1].snap);
    /* Refused: a mark with itself, or no mark; nothing changes. */
    CHECK(view_marks_freeze(&m, 1, 1) != 0 && view_marks_freeze(&m, 0, 7) != 0 && view_marks_freeze(&m, 0, -1) != 0);
    CHECK(m.baseline == -1 && m.versus == 1);
    /* Back to live keeps the baseline; picking a baseline ends a freeze too. */
    view_marks_thaw(&m);
    CHECK(!view_marks_frozen(&m) && m.baseline == -1);
    view_marks_freeze(&m, 0, 1);
    view_marks_set_baseline(&m, 2);
    CHECK(!view_marks_frozen(&m) && m.baseline == 2);
    /* The page: one line per mark, number, time, label, source. */
    view_page p = {0};
    view_marks_page(&m, &p);
    CHECK(p.n == 3 && p.select);
    CHECK(strstr(p.lines[0].text, "#1") && strstr(p.lines[0].text, "1.0 s") && strstr(p.lines[0].text, "b1") &&
          strstr(p.lines[0].text, "key b"));
    CHECK(strstr(p.lines[1].text, "warm") && strstr(p.lines[1].text, "program"));
    CHECK(p.lines[2].text[0] == '*' && strstr(p.lines[2].text, "ext") && strstr(p.lines[2].text, "leaktop mark"));
    view_page_free(&p);
    view_marks_free(&m);
    diff_snapshot_free(now);
    diff_loctab_free(lt);
}

/* Full: the oldest mark goes, never the baseline nor the compared mark,
 * and their indexes follow. */
static void test_marks_drop_oldest_but_not_the_pair(void)
{
    diff_loctab *lt = diff_loctab_new();
    view_marks m;
    view_marks_init(&m);
    for (int i = 0; i < VIEW_MARKS_MAX; i++)
        view_marks_add(&m, tm_mark(lt, "m", i, i), VIEW_MARK_PROGRAM);
    CHECK(view_marks_freeze(&m, 0, 1) == 0);
    view_marks_add(&m, tm_mark(lt, "new", 0, 99), VIEW_MARK_KEY);
    CHECK(m.n == VIEW_MARKS_MAX && m.dropped == 1);
    CHECK(m.items[0].number == 1 && m.items[1].number == 2 && m.items[2].number == 4);
    CHECK(m.baseline == 0 && m.versus == 1);
    view_marks_freeze(&m, 3, 5);   /* numbers 5 and 7 */
    view_marks_add(&m, tm_mark(lt, "new2", 0, 100), VIEW_MARK_KEY);
    CHECK(m.items[0].number == 2 && m.baseline == 2 && m.versus == 4);
    CHECK(m.items[m.baseline].number == 5 && m.items[m.versus].number == 7);
    CHECK(m.items[m.n - 1].number == VIEW_MARKS_MAX + 2);
    view_marks_free(&m);
    diff_loctab_free(lt);
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        fprintf(stderr, "no C.UTF-8 locale: skipped\n");
        return 77;
    }
    test_fit_cuts_at_columns_not_bytes();
    test_clean_replaces_controls_and_broken_utf8();
    test_spark_scales_min_to_max();
    test_location_shortens_path_at_a_slash();
    test_filter_words_become_tracemalloc_filters();
    test_osc52_encodes_and_wraps_for_tmux();
    test_cursor_selects_and_scrolls();
    test_table_trends_follow_groups();
    test_table_selection_stays_on_its_group();
    test_rate_sort_uses_the_tables_history();
    test_marks_pick_baseline_and_freeze_a_pair();
    test_marks_drop_oldest_but_not_the_pair();
    return check_report("test_view_units");
}
