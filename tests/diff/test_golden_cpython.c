/* test_golden_cpython.c: the golden cases of CPython's own tracemalloc
 * tests (shared/reference/tracemalloc.md), every number, every order and
 * the text lines, reproduced through diff_compare / diff_statistics. */
#include "check.h"
#include "diff_internal.h"
#include "testlib.h"

typedef struct want {
    const char *key;
    int64_t     size, size_diff, count, count_diff;
} want;

#define NWANT(a) (sizeof(a) / sizeof *(a))

static diff_loctab *lt;

static diff_snapshot *make_s1(void)
{
    diff_snapshot *s = diff_snapshot_new(lt, 2);
    for (int i = 0; i < 3; i++)
        tl_add(s, 10, 1, "a.py:2 b.py:4");
    tl_add(s, 2, 1, "a.py:5 b.py:4");
    tl_add(s, 66, 1, "b.py:1");
    tl_add(s, 7, 1, "<unknown>:0");
    return s;
}

static diff_snapshot *make_s2(void)
{
    diff_snapshot *s = diff_snapshot_new(lt, 2);
    for (int i = 0; i < 3; i++)
        tl_add(s, 10, 1, "a.py:2 b.py:4");
    tl_add(s, 2, 1, "a.py:5 b.py:4");
    tl_add(s, 5000, 1, "a.py:5 b.py:4");
    tl_add(s, 400, 1, "c.py:578");
    return s;
}

static void check_stats(const char *what, diff_stats *st, diff_group g, const want *w, size_t n)
{
    if (!st) {
        fprintf(stderr, "%s: no stats\n", what);
        check_failures++;
        return;
    }
    if (diff_stats_count(st) != n) {
        fprintf(stderr, "%s: %zu stats, want %zu\n", what, diff_stats_count(st), n);
        check_failures++;
    }
    for (size_t i = 0; i < n && i < diff_stats_count(st); i++) {
        const diff_stat *s = diff_stats_get(st, i);
        char key[1024];
        tl_stat_key(st, s, g, key, sizeof key);
        if (strcmp(key, w[i].key) || s->size != w[i].size || s->size_diff != w[i].size_diff
            || s->count != w[i].count || s->count_diff != w[i].count_diff) {
            fprintf(stderr, "%s[%zu]: got %s (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                            "), want %s (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ")\n",
                    what, i, key, s->size, s->size_diff, s->count, s->count_diff, w[i].key,
                    w[i].size, w[i].size_diff, w[i].count, w[i].count_diff);
            check_failures++;
        }
    }
}

static diff_stats *cmp(diff_snapshot *a, diff_snapshot *b, diff_group g, bool cumulative)
{
    diff_options o = { .group = g, .cumulative = cumulative, .sort = DIFF_SORT_ABSOLUTE };
    char err[256];
    diff_stats *st = diff_compare(a, b, &o, err, sizeof err);
    if (!st)
        fprintf(stderr, "compare: %s\n", err);
    return st;
}

static diff_stats *stats(diff_snapshot *a, diff_group g, bool cumulative,
                         const diff_filter *f, size_t nf)
{
    diff_options o = { .group = g, .cumulative = cumulative, .filters = f, .nfilters = nf };
    char err[256];
    diff_stats *st = diff_statistics(a, &o, err, sizeof err);
    if (!st)
        fprintf(stderr, "statistics: %s\n", err);
    return st;
}

static void test_compare_lineno_filename_traceback(diff_snapshot *s1, diff_snapshot *s2)
{
    static const want lineno[] = {
        { "a.py:5", 5002, 5000, 2, 1 }, { "c.py:578", 400, 400, 1, 1 },
        { "b.py:1", 0, -66, 0, -1 }, { "<unknown>:0", 0, -7, 0, -1 },
        { "a.py:2", 30, 0, 3, 0 },
    };
    static const want filename[] = {
        { "a.py:0", 5032, 5000, 5, 1 }, { "c.py:0", 400, 400, 1, 1 },
        { "b.py:0", 0, -66, 0, -1 }, { "<unknown>:0", 0, -7, 0, -1 },
    };
    static const want traceback[] = {
        { "a.py:5 b.py:4", 5002, 5000, 2, 1 }, { "c.py:578", 400, 400, 1, 1 },
        { "b.py:1", 0, -66, 0, -1 }, { "<unknown>:0", 0, -7, 0, -1 },
        { "a.py:2 b.py:4", 30, 0, 3, 0 },
    };
    diff_stats *st;
    check_stats("compare lineno", st = cmp(s2, s1, DIFF_GROUP_LINENO, false), DIFF_GROUP_LINENO, lineno, NWANT(lineno));
    diff_stats_free(st);
    check_stats("compare filename", st = cmp(s2, s1, DIFF_GROUP_FILENAME, false), DIFF_GROUP_FILENAME, filename, NWANT(filename));
    diff_stats_free(st);
    check_stats("compare traceback", st = cmp(s2, s1, DIFF_GROUP_TRACEBACK, false), DIFF_GROUP_TRACEBACK, traceback, NWANT(traceback));
    diff_stats_free(st);
}

static void test_statistics(diff_snapshot *s1, diff_snapshot *s2)
{
    static const want s1_lineno[] = {
        { "b.py:1", 66, 0, 1, 0 }, { "a.py:2", 30, 0, 3, 0 },
        { "<unknown>:0", 7, 0, 1, 0 }, { "a.py:5", 2, 0, 1, 0 },
    };
    static const want s2_lineno[] = {
        { "a.py:5", 5002, 0, 2, 0 }, { "c.py:578", 400, 0, 1, 0 }, { "a.py:2", 30, 0, 3, 0 },
    };
    static const want s1_cum_filename[] = {
        { "b.py:0", 98, 0, 5, 0 }, { "a.py:0", 32, 0, 4, 0 }, { "<unknown>:0", 7, 0, 1, 0 },
    };
    static const want s1_cum_lineno[] = {
        { "b.py:1", 66, 0, 1, 0 }, { "b.py:4", 32, 0, 4, 0 }, { "a.py:2", 30, 0, 3, 0 },
        { "<unknown>:0", 7, 0, 1, 0 }, { "a.py:5", 2, 0, 1, 0 },
    };
    diff_stats *st;
    check_stats("s1 statistics lineno", st = stats(s1, DIFF_GROUP_LINENO, false, NULL, 0), DIFF_GROUP_LINENO, s1_lineno, NWANT(s1_lineno));
    diff_stats_free(st);
    check_stats("s2 statistics lineno", st = stats(s2, DIFF_GROUP_LINENO, false, NULL, 0), DIFF_GROUP_LINENO, s2_lineno, NWANT(s2_lineno));
    diff_stats_free(st);
    check_stats("s1 cumulative filename", st = stats(s1, DIFF_GROUP_FILENAME, true, NULL, 0), DIFF_GROUP_FILENAME, s1_cum_filename, NWANT(s1_cum_filename));
    diff_stats_free(st);
    check_stats("s1 cumulative lineno", st = stats(s1, DIFF_GROUP_LINENO, true, NULL, 0), DIFF_GROUP_LINENO, s1_cum_lineno, NWANT(s1_cum_lineno));
    diff_stats_free(st);
}

static void test_compare_cumulative(diff_snapshot *s1, diff_snapshot *s2)
{
    static const want lineno[] = {
        { "b.py:4", 5032, 5000, 5, 1 }, { "a.py:5", 5002, 5000, 2, 1 },
        { "c.py:578", 400, 400, 1, 1 }, { "b.py:1", 0, -66, 0, -1 },
        { "<unknown>:0", 0, -7, 0, -1 }, { "a.py:2", 30, 0, 3, 0 },
    };
    static const want filename[] = {
        { "a.py:0", 5032, 5000, 5, 1 }, { "b.py:0", 5032, 4934, 5, 0 },
        { "c.py:0", 400, 400, 1, 1 }, { "<unknown>:0", 0, -7, 0, -1 },
    };
    diff_stats *st;
    check_stats("compare cumulative lineno", st = cmp(s2, s1, DIFF_GROUP_LINENO, true), DIFF_GROUP_LINENO, lineno, NWANT(lineno));
    diff_stats_free(st);
    check_stats("compare cumulative filename", st = cmp(s2, s1, DIFF_GROUP_FILENAME, true), DIFF_GROUP_FILENAME, filename, NWANT(filename));
    diff_stats_free(st);
}

/* tracemalloc's Statistic / StatisticDiff __str__, for lineno keys. */
static void tm_str(const diff_stats *st, const diff_stat *s, bool is_diff, char *buf, size_t len)
{
    char key[600], size[32], sdiff[32], avg[32];
    tl_frame_key(diff_loctab_get(diff_stats_locs(st), s->frames[0]), false, key, sizeof key);
    diff_format_size(size, sizeof size, s->size, false);
    size_t used;
    if (is_diff)
        used = (size_t)snprintf(buf, len, "%s: size=%s (%s), count=%" PRId64 " (%+" PRId64 ")", key,
                                size, diff_format_size(sdiff, sizeof sdiff, s->size_diff, true),
                                s->count, s->count_diff);
    else
        used = (size_t)snprintf(buf, len, "%s: size=%s, count=%" PRId64, key, size, s->count);
    if (s->count)
        snprintf(buf + used, len - used, ", average=%s",
                 diff_format_size_double(avg, sizeof avg, (double)s->size / (double)s->count, false));
}

static void test_text_lines(diff_snapshot *s1, diff_snapshot *s2)
{
    char line[256];
    diff_stats *st = stats(s1, DIFF_GROUP_LINENO, false, NULL, 0);
    tm_str(st, diff_stats_get(st, 0), false, line, sizeof line);
    CHECK_STR(line, "b.py:1: size=66 B, count=1, average=66 B");
    diff_stats_free(st);
    st = cmp(s2, s1, DIFF_GROUP_LINENO, false);
    tm_str(st, diff_stats_get(st, 0), true, line, sizeof line);
    CHECK_STR(line, "a.py:5: size=5002 B (+5000 B), count=2 (+1), average=2501 B");
    tm_str(st, diff_stats_get(st, 2), true, line, sizeof line);
    CHECK_STR(line, "b.py:1: size=0 B (-66 B), count=0 (-1)");
    diff_stats_free(st);
}

static void test_filters(diff_snapshot *s1)
{
    static const want excluded[] = {
        { "a.py:2", 30, 0, 3, 0 }, { "<unknown>:0", 7, 0, 1, 0 }, { "a.py:5", 2, 0, 1, 0 },
    };
    static const want included[] = { { "a.py:2", 30, 0, 3, 0 }, { "a.py:5", 2, 0, 1, 0 } };
    static const want all_frames[] = { { "<unknown>:0", 7, 0, 1, 0 } };
    diff_filter f[3] = {
        { .inclusive = false, .pattern = "b.py", .lineno = -1 },
        { .inclusive = true, .pattern = "a.py", .lineno = 2 },
        { .inclusive = true, .pattern = "a.py", .lineno = 5 },
    };
    diff_stats *st;
    diff_stat total;
    check_stats("filter exclude b.py", st = stats(s1, DIFF_GROUP_LINENO, false, f, 1), DIFF_GROUP_LINENO, excluded, NWANT(excluded));
    diff_stats_total(st, &total);
    CHECK_INT(total.size, 39);
    CHECK_INT(total.count, 5);
    diff_stats_free(st);
    check_stats("filter exclude + includes", st = stats(s1, DIFF_GROUP_LINENO, false, f, 3), DIFF_GROUP_LINENO, included, NWANT(included));
    diff_stats_total(st, &total);
    CHECK_INT(total.size, 32);
    CHECK_INT(total.count, 4);
    diff_stats_free(st);
    f[0].all_frames = true;
    check_stats("filter exclude b.py all_frames", st = stats(s1, DIFF_GROUP_LINENO, false, f, 1), DIFF_GROUP_LINENO, all_frames, NWANT(all_frames));
    diff_stats_free(st);
}

int main(void)
{
    lt = diff_loctab_new();
    diff_snapshot *s1 = make_s1(), *s2 = make_s2();
    test_compare_lineno_filename_traceback(s1, s2);
    test_statistics(s1, s2);
    test_compare_cumulative(s1, s2);
    test_text_lines(s1, s2);
    test_filters(s1);
    diff_snapshot_free(s1);
    diff_snapshot_free(s2);
    diff_loctab_free(lt);
    return check_report("test_golden_cpython");
}
