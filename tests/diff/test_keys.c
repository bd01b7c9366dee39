/* test_keys.c: the one rule for group keys. diff_stat.key names a group
 * across compares of snapshots sharing one loctab (the live view follows
 * rows and trends by it), differs between groups, and
 * diff_traceback_reaches answers which tracebacks reach a row, under
 * every grouping. Also: a compare only reads the loctab (diff.h). */
#include "check.h"
#include "testlib.h"

/* The key of the row whose first frame is `spec`, or 0. */
static uint64_t row_key(const diff_stats *st, const char *spec, diff_group g)
{
    char buf[2048];
    for (size_t i = 0; i < diff_stats_count(st); i++) {
        const diff_stat *s = diff_stats_get(st, i);
        if (strcmp(tl_stat_key(st, s, g, buf, sizeof buf), spec) == 0)
            return s->key;
    }
    return 0;
}

static diff_stats *compare(const diff_snapshot *a, const diff_snapshot *b, diff_group g, bool cumulative)
{
    diff_options o = {.group = g, .cumulative = cumulative, .sort = DIFF_SORT_GROWTH};
    char err[256];
    diff_stats *st = diff_compare(a, b, &o, err, sizeof err);
    CHECK(st != NULL);
    return st;
}

static void keys_follow_groups_across_compares(diff_loctab *lt)
{
    diff_snapshot *s1 = diff_snapshot_new(lt, 8), *s2 = diff_snapshot_new(lt, 8);
    tl_add(s1, 100, 1, "a.c:1 main.c:9");
    tl_add(s1, 50, 1, "a.c:2 main.c:9");
    tl_add(s1, 7, 1, "@libx.so+0x10 main.c:9");
    tl_add(s2, 300, 3, "a.c:1 other.c:4");   /* same line, new traceback */
    tl_add(s2, 9, 1, "@libx.so+0x20 main.c:9");
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++) {
        diff_stats *x = compare(s1, NULL, (diff_group)g, false), *y = compare(s2, s1, (diff_group)g, false);
        for (size_t i = 0; i < diff_stats_count(x); i++)
            CHECK(diff_stats_get(x, i)->key != 0);
        for (size_t i = 0; i < diff_stats_count(x); i++)
            for (size_t k = i + 1; k < diff_stats_count(x); k++)
                CHECK(diff_stats_get(x, i)->key != diff_stats_get(x, k)->key);
        diff_stats_free(x);
        diff_stats_free(y);
    }
    diff_stats *x = compare(s1, NULL, DIFF_GROUP_LINENO, false), *y = compare(s2, s1, DIFF_GROUP_LINENO, true);
    CHECK(row_key(x, "a.c:1", DIFF_GROUP_LINENO) != 0);
    CHECK(row_key(x, "a.c:1", DIFF_GROUP_LINENO) == row_key(y, "a.c:1", DIFF_GROUP_LINENO));
    CHECK(row_key(x, "a.c:1", DIFF_GROUP_LINENO) != row_key(x, "a.c:2", DIFF_GROUP_LINENO));
    /* Unknown call sites keep their module and offset apart. */
    CHECK(row_key(x, "libx.so+0x10", DIFF_GROUP_LINENO) != 0);
    CHECK(row_key(y, "libx.so+0x20", DIFF_GROUP_LINENO) != row_key(x, "libx.so+0x10", DIFF_GROUP_LINENO));
    diff_stats_free(x);
    diff_stats_free(y);
    /* Filename: one row per file, the same key whatever the line. */
    x = compare(s1, NULL, DIFF_GROUP_FILENAME, false);
    y = compare(s2, NULL, DIFF_GROUP_FILENAME, false);
    CHECK(row_key(x, "a.c:0", DIFF_GROUP_FILENAME) == row_key(y, "a.c:0", DIFF_GROUP_FILENAME));
    diff_stats_free(x);
    diff_stats_free(y);
    /* Traceback: the same traceback in another compare keeps its key. */
    x = compare(s1, NULL, DIFF_GROUP_TRACEBACK, false);
    y = compare(s1, s2, DIFF_GROUP_TRACEBACK, false);
    CHECK(row_key(x, "a.c:1 main.c:9", DIFF_GROUP_TRACEBACK) != 0);
    CHECK(row_key(x, "a.c:1 main.c:9", DIFF_GROUP_TRACEBACK) == row_key(y, "a.c:1 main.c:9", DIFF_GROUP_TRACEBACK));
    CHECK(row_key(y, "a.c:1 other.c:4", DIFF_GROUP_TRACEBACK) != row_key(y, "a.c:1 main.c:9", DIFF_GROUP_TRACEBACK));
    diff_stats_free(x);
    diff_stats_free(y);
    diff_snapshot_free(s1);
    diff_snapshot_free(s2);
}

/* The traceback row of `spec` in a traceback compare. */
static const diff_stat *traceback(const diff_stats *tb, const char *spec)
{
    char buf[2048];
    for (size_t i = 0; i < diff_stats_count(tb); i++)
        if (strcmp(tl_stat_key(tb, diff_stats_get(tb, i), DIFF_GROUP_TRACEBACK, buf, sizeof buf), spec) == 0)
            return diff_stats_get(tb, i);
    CHECK(!"traceback not found");
    return NULL;
}

static void tracebacks_reach_rows(diff_loctab *lt)
{
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    tl_add(s, 10, 1, "a.c:2 main.c:9");
    tl_add(s, 20, 1, "b.c:5 a.c:2 main.c:9");
    tl_add(s, 30, 1, "a.c:7 main.c:9");
    diff_stats *tb = compare(s, NULL, DIFF_GROUP_TRACEBACK, false);
    const diff_stat *t1 = traceback(tb, "a.c:2 main.c:9"), *t2 = traceback(tb, "b.c:5 a.c:2 main.c:9"),
                    *t3 = traceback(tb, "a.c:7 main.c:9");
    if (!t1 || !t2 || !t3)
        return;

    diff_options line = {.group = DIFF_GROUP_LINENO}, cum = {.group = DIFF_GROUP_LINENO, .cumulative = true};
    diff_stats *rows = compare(s, NULL, DIFF_GROUP_LINENO, false);
    uint64_t a2 = row_key(rows, "a.c:2", DIFF_GROUP_LINENO);
    CHECK_INT(diff_traceback_reaches(lt, t1, &line, a2), 0);
    CHECK_INT(diff_traceback_reaches(lt, t2, &line, a2), -1);   /* a.c:2 is not its top frame */
    CHECK_INT(diff_traceback_reaches(lt, t3, &line, a2), -1);
    diff_stats_free(rows);

    rows = compare(s, NULL, DIFF_GROUP_LINENO, true);
    a2 = row_key(rows, "a.c:2", DIFF_GROUP_LINENO);
    uint64_t m9 = row_key(rows, "main.c:9", DIFF_GROUP_LINENO);
    CHECK_INT(diff_traceback_reaches(lt, t2, &cum, a2), 1);      /* its second frame */
    CHECK_INT(diff_traceback_reaches(lt, t3, &cum, a2), -1);
    CHECK_INT(diff_traceback_reaches(lt, t3, &cum, m9), 1);
    diff_stats_free(rows);

    diff_options file = {.group = DIFF_GROUP_FILENAME};
    rows = compare(s, NULL, DIFF_GROUP_FILENAME, false);
    uint64_t ac = row_key(rows, "a.c:0", DIFF_GROUP_FILENAME);
    CHECK_INT(diff_traceback_reaches(lt, t1, &file, ac), 0);
    CHECK_INT(diff_traceback_reaches(lt, t3, &file, ac), 0);     /* another line, same file */
    CHECK_INT(diff_traceback_reaches(lt, t2, &file, ac), -1);
    diff_stats_free(rows);

    diff_options tbo = {.group = DIFF_GROUP_TRACEBACK};
    CHECK_INT(diff_traceback_reaches(lt, t2, &tbo, t2->key), 0);
    CHECK_INT(diff_traceback_reaches(lt, t1, &tbo, t2->key), -1);
    diff_stats_free(tb);
    diff_snapshot_free(s);
}

/* The pseudo frame of a frameless trace is interned when the trace is
 * added, so a compare (maybe on another thread) never writes the loctab. */
static void compare_never_interns(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    tl_add(s, 10, 1, "a.c:1");
    CHECK_INT(diff_snapshot_add(s, 5, 1, NULL, 0), 0);
    size_t before = diff_loctab_count(lt);
    CHECK_INT(before, 2);   /* a.c:1 and the pseudo frame */
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++) {
        diff_stats *st = compare(s, NULL, (diff_group)g, false);
        CHECK_INT(diff_stats_count(st), 2);
        diff_stats_free(st);
    }
    CHECK_INT(diff_loctab_count(lt), before);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

int main(void)
{
    diff_loctab *lt = diff_loctab_new();
    keys_follow_groups_across_compares(lt);
    tracebacks_reach_rows(lt);
    diff_loctab_free(lt);
    compare_never_interns();
    return check_report("test_keys");
}
