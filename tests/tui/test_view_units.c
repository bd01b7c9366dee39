/* test_view_units.c: the live view's pure pieces, without a terminal:
 * column-aware fitting, sparklines, location shortening, the filter
 * prompt's parsing, the OSC 52 encoding, the cursor arithmetic, and the
 * table model (view_table): trends per group across refreshes, gaps,
 * groupings, the selection following its group, the totals series. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "view_clip.h"
#include "view_filter.h"
#include "view_loc.h"
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
    return check_report("test_view_units");
}
