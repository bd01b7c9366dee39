/* test_group.c: grouping, compare and sort rules beyond CPython's golden
 * cases: leaktop's once-per-trace cumulative rule, refusals, unknown call
 * sites, representative frames, frameless traces, the sort modes, filters
 * and totals, wrapper skipping, and interning. */
#include "check.h"
#include "diff_internal.h"
#include "testlib.h"

#include <errno.h>

static diff_stats *run(diff_snapshot *a, diff_snapshot *b, diff_group g, bool cum,
                       diff_sort sort, char *err, size_t errlen)
{
    diff_options o = { .group = g, .cumulative = cum, .sort = sort };
    return b || sort != DIFF_SORT_SIZE ? diff_compare(a, b, &o, err, errlen)
                                       : diff_statistics(a, &o, err, errlen);
}

/* Keys of all stats in order, "|"-separated. */
static const char *keys(diff_stats *st, diff_group g, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; st && i < diff_stats_count(st) && used < len; i++) {
        char k[512];
        tl_stat_key(st, diff_stats_get(st, i), g, k, sizeof k);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "", k);
    }
    return buf;
}

static void test_cumulative_counts_a_location_once_per_trace(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    tl_add(s, 100, 1, "r.py:10 r.py:10 r.py:10 main.py:1");
    tl_add(s, 7, 1, "r.py:10 main.py:2");
    diff_stats *st = run(s, NULL, DIFF_GROUP_LINENO, true, DIFF_SORT_GROWTH, NULL, 0);
    const diff_stat *top = diff_stats_get(st, 0);
    char k[64];
    CHECK_STR(tl_stat_key(st, top, DIFF_GROUP_LINENO, k, sizeof k), "r.py:10");
    CHECK_INT(top->size, 107);       /* tracemalloc: 307 */
    CHECK_INT(top->count, 2);        /* tracemalloc: 4 */
    diff_stats_free(st);
    /* Filename: a file once per trace, however many of its lines. */
    st = run(s, NULL, DIFF_GROUP_FILENAME, true, DIFF_SORT_GROWTH, NULL, 0);
    CHECK_STR(tl_stat_key(st, diff_stats_get(st, 0), DIFF_GROUP_FILENAME, k, sizeof k), "r.py:0");  /* tie: reverse key order */
    CHECK_INT(diff_stats_get(st, 0)->size, 107);
    CHECK_INT(diff_stats_get(st, 1)->size, 107);
    CHECK_INT(diff_stats_get(st, 1)->count, 2);
    diff_stat total;
    diff_stats_total(st, &total);
    CHECK_INT(total.size, 107);
    CHECK_INT(total.count, 2);
    diff_stats_free(st);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static void test_refusals_are_one_line_messages(void)
{
    diff_loctab *lt = diff_loctab_new(), *other = diff_loctab_new();
    diff_snapshot *a = diff_snapshot_new(lt, 32), *b = diff_snapshot_new(lt, 16);
    diff_snapshot *c = diff_snapshot_new(other, 32);
    tl_add(a, 10, 1, "x.c:1 y.c:2");
    tl_add(b, 5, 1, "x.c:1");
    char err[256] = "";
    CHECK(!run(a, b, DIFF_GROUP_TRACEBACK, true, DIFF_SORT_GROWTH, err, sizeof err));
    CHECK_STR(err, "cumulative mode cannot be used with traceback grouping");
    err[0] = '\0';
    CHECK(!run(a, NULL, DIFF_GROUP_TRACEBACK, true, DIFF_SORT_SIZE, err, sizeof err));
    CHECK_STR(err, "cumulative mode cannot be used with traceback grouping");
    CHECK(!run(a, b, DIFF_GROUP_TRACEBACK, false, DIFF_SORT_GROWTH, err, sizeof err));
    CHECK_STR(err, "cannot compare tracebacks of snapshots with different frame limits (32 and 16); use lineno or filename grouping");
    CHECK(!strchr(err, '\n'));
    diff_stats *st = run(a, b, DIFF_GROUP_LINENO, false, DIFF_SORT_GROWTH, err, sizeof err);
    CHECK(st && diff_stats_get(st, 0)->size_diff == 5);
    diff_stats_free(st);
    st = run(a, b, DIFF_GROUP_FILENAME, true, DIFF_SORT_GROWTH, err, sizeof err);
    CHECK(st != NULL);
    diff_stats_free(st);
    CHECK(!run(a, c, DIFF_GROUP_LINENO, false, DIFF_SORT_GROWTH, err, sizeof err));
    CHECK_STR(err, "snapshots to compare must share one location table");
    diff_snapshot_free(a);
    diff_snapshot_free(b);
    diff_snapshot_free(c);
    diff_loctab_free(lt);
    diff_loctab_free(other);
}

static void test_unknown_call_sites_never_merge(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    uint32_t f1 = tl_frame(lt, "@/lib/libz.so+0x10", "inflate");
    uint32_t f2 = tl_frame(lt, "@/lib/libz.so+0x20", "inflate");
    diff_frame same = *diff_loctab_get(lt, f1);
    same.function = "other_name";
    same.address = 0x999;
    uint32_t f3 = diff_loctab_intern(lt, &same);
    diff_frame nomod = { .offset = 0x10 };
    uint32_t f4 = diff_loctab_intern(lt, &nomod);
    CHECK(f1 != f3);
    diff_snapshot_add(s, 10, 1, &f1, 1);
    diff_snapshot_add(s, 20, 1, &f2, 1);
    diff_snapshot_add(s, 30, 1, &f3, 1);   /* same module+offset as f1: one group */
    diff_snapshot_add(s, 40, 1, &f4, 1);
    diff_stats *st = run(s, NULL, DIFF_GROUP_LINENO, false, DIFF_SORT_SIZE, NULL, 0);
    char buf[512];
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "/lib/libz.so+0x10|+0x10|/lib/libz.so+0x20");
    CHECK_INT(diff_stats_get(st, 0)->size, 40);
    CHECK_INT(diff_stats_get(st, 0)->frames[0], f1);   /* the first trace's frame */
    diff_stats_free(st);
    /* Filename grouping: the module stands for the file. */
    st = run(s, NULL, DIFF_GROUP_FILENAME, false, DIFF_SORT_SIZE, NULL, 0);
    CHECK_INT(diff_stats_count(st), 2);
    CHECK_INT(diff_stats_get(st, 0)->size, 60);
    diff_stats_free(st);
    /* Equal sizes: the order is by "MODULE+0xOFFSET" (reverse). */
    diff_snapshot *t = diff_snapshot_new(lt, 8);
    diff_snapshot_add(t, 5, 1, &f1, 1);
    diff_snapshot_add(t, 5, 1, &f2, 1);
    st = run(t, NULL, DIFF_GROUP_LINENO, false, DIFF_SORT_SIZE, NULL, 0);
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "/lib/libz.so+0x20|/lib/libz.so+0x10");
    diff_stats_free(st);
    diff_snapshot_free(t);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static void test_same_line_other_function_is_one_group(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *old = diff_snapshot_new(lt, 8), *new_ = diff_snapshot_new(lt, 8);
    uint32_t inl = tl_frame(lt, "h.h:3", "inline_helper");
    uint32_t fn = tl_frame(lt, "h.h:3", "caller");
    diff_snapshot_add(old, 1, 1, &inl, 1);
    diff_snapshot_add(new_, 2, 1, &fn, 1);
    diff_snapshot_add(new_, 4, 1, &inl, 1);
    diff_stats *st = run(new_, old, DIFF_GROUP_LINENO, false, DIFF_SORT_GROWTH, NULL, 0);
    CHECK_INT(diff_stats_count(st), 1);
    CHECK_INT(diff_stats_get(st, 0)->size, 6);
    CHECK_INT(diff_stats_get(st, 0)->size_diff, 5);
    CHECK_INT(diff_stats_get(st, 0)->frames[0], fn);   /* new snapshot's first trace */
    diff_stats_free(st);
    diff_snapshot_free(old);
    diff_snapshot_free(new_);
    diff_loctab_free(lt);
}

static void test_frameless_trace_is_unknown_line_zero(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    diff_snapshot_add(s, 7, 1, NULL, 0);
    tl_add(s, 3, 1, "<unknown>:0");
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++) {
        diff_stats *st = run(s, NULL, (diff_group)g, false, DIFF_SORT_SIZE, NULL, 0);
        CHECK_INT(diff_stats_count(st), 1);
        CHECK_INT(diff_stats_get(st, 0)->size, 10);
        char k[64];
        CHECK_STR(tl_stat_key(st, diff_stats_get(st, 0), (diff_group)g, k, sizeof k), "<unknown>:0");
        diff_stats_free(st);
    }
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static void test_sort_modes(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *old = diff_snapshot_new(lt, 8), *new_ = diff_snapshot_new(lt, 8);
    tl_add(old, 1000, 10, "freed.c:1");     /* -1000 */
    tl_add(old, 100, 1, "leak.c:1");
    tl_add(new_, 600, 2, "leak.c:1");       /* +500 */
    tl_add(new_, 300, 3, "new.c:1");        /* +300 */
    tl_add(old, 50, 1, "flat.c:1");
    tl_add(new_, 50, 1, "flat.c:1");        /* 0 */
    tl_add(old, 200, 2, "shrink.c:1");
    tl_add(new_, 100, 1, "shrink.c:1");     /* -100 */
    char buf[512];
    struct { diff_sort sort; const char *want; } cases[] = {
        { DIFF_SORT_ABSOLUTE, "freed.c:1|leak.c:1|new.c:1|shrink.c:1|flat.c:1" },
        { DIFF_SORT_GROWTH, "leak.c:1|new.c:1|flat.c:1|shrink.c:1|freed.c:1" },
        { DIFF_SORT_FREED, "freed.c:1|shrink.c:1|flat.c:1|new.c:1|leak.c:1" },
        { DIFF_SORT_SIZE, "leak.c:1|new.c:1|shrink.c:1|flat.c:1|freed.c:1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        diff_options o = { .group = DIFF_GROUP_LINENO, .sort = cases[i].sort };
        diff_stats *st = diff_compare(new_, old, &o, NULL, 0);
        CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), cases[i].want);
        diff_stats_free(st);
    }
    /* statistics() ignores the sort: always (size, count, traceback). */
    diff_options o = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_FREED };
    diff_stats *st = diff_statistics(new_, &o, NULL, 0);
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "leak.c:1|new.c:1|shrink.c:1|flat.c:1");
    CHECK_INT(diff_stats_get(st, 0)->size_diff, 0);
    diff_stats_free(st);
    diff_snapshot_free(old);
    diff_snapshot_free(new_);
    diff_loctab_free(lt);
}

/* Retained: per trace the births at epochs >= the baseline's, summed per
 * group (cumulative groups too), in the total, and sorted by with §5's
 * tie-breaks; against an earlier baseline more is retained; not known
 * across runs. A cache that replaced all its entries (diff 0) is retained
 * whole; a line that only freed retains nothing. */
static void test_retained_since_any_baseline(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *m1 = diff_snapshot_new(lt, 8), *m2 = diff_snapshot_new(lt, 8), *now = diff_snapshot_new(lt, 8);
    tl_add(m1, 400, 4, "cache.c:1 main.c:9");
    tl_add(m2, 400, 4, "cache.c:1 main.c:9");
    tl_add(m1, 1000, 10, "freed.c:1 main.c:9");
    tl_add(m2, 1000, 10, "freed.c:1 main.c:9");
    tl_add(now, 400, 4, "cache.c:1 main.c:9");
    diff_birth cache[2] = {{.epoch = 1, .size = 100, .count = 1}, {.epoch = 2, .size = 300, .count = 3}};
    diff_snapshot_add_births(now, cache, 2);
    tl_add(now, 500, 5, "freed.c:1 main.c:9");   /* born before m1: nothing retained */
    tl_add(now, 300, 3, "leak.c:1 main.c:9");
    diff_birth leak[2] = {{.epoch = 1, .size = 200, .count = 2}, {.epoch = 2, .size = 100, .count = 1}};
    diff_snapshot_add_births(now, leak, 2);
    diff_snapshot_set_epoch(m1, 7, 1, true);
    diff_snapshot_set_epoch(m2, 7, 2, true);
    diff_snapshot_set_epoch(now, 7, DIFF_EPOCH_NONE, true);
    char buf[512];
    diff_options o = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_RETAINED };
    diff_stats *st = diff_compare(now, m1, &o, NULL, 0);
    CHECK(diff_stats_retained_known(st, NULL));
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "cache.c:1|leak.c:1|freed.c:1");
    CHECK_INT(diff_stats_get(st, 0)->size_diff, 0);
    CHECK_INT(diff_stats_get(st, 0)->retained_size, 400);
    CHECK_INT(diff_stats_get(st, 0)->retained_count, 4);
    CHECK_INT(diff_stats_get(st, 1)->retained_size, 300);
    CHECK_INT(diff_stats_get(st, 2)->size_diff, -500);
    CHECK_INT(diff_stats_get(st, 2)->retained_size, 0);
    diff_stat t;
    diff_stats_total(st, &t);
    CHECK_INT(t.retained_size, 700);
    CHECK_INT(t.retained_count, 7);
    diff_stats_free(st);
    /* Since m2: only what was born at epoch 2. */
    st = diff_compare(now, m2, &o, NULL, 0);
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "cache.c:1|leak.c:1|freed.c:1");
    CHECK_INT(diff_stats_get(st, 0)->retained_size, 300);
    CHECK_INT(diff_stats_get(st, 1)->retained_size, 100);
    diff_stats_free(st);
    /* Cumulative: main.c:9 holds every trace's retained blocks. */
    o = (diff_options){ .group = DIFF_GROUP_LINENO, .cumulative = true, .sort = DIFF_SORT_RETAINED };
    st = diff_compare(now, m1, &o, NULL, 0);
    CHECK_STR(tl_stat_key(st, diff_stats_get(st, 0), DIFF_GROUP_LINENO, buf, sizeof buf), "main.c:9");
    CHECK_INT(diff_stats_get(st, 0)->retained_size, 700);
    diff_stats_free(st);
    /* Against the empty start everything live is retained. */
    st = diff_compare(now, NULL, &o, NULL, 0);
    diff_stats_total(st, &t);
    CHECK(diff_stats_retained_known(st, NULL));
    CHECK_INT(t.retained_size, 1200);
    diff_stats_free(st);
    /* Another run's baseline: not known, and the sort falls back to growth. */
    diff_snapshot_set_epoch(m1, 8, 1, true);
    o = (diff_options){ .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_RETAINED };
    st = diff_compare(now, m1, &o, NULL, 0);
    const char *why = NULL;
    CHECK(!diff_stats_retained_known(st, &why) && why && strstr(why, "one traced run"));
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "leak.c:1|cache.c:1|freed.c:1");
    diff_stats_free(st);
    diff_snapshot_free(m1);
    diff_snapshot_free(m2);
    diff_snapshot_free(now);
    diff_loctab_free(lt);
}

/* The reference's example: reversed order of (file, line) keys. */
static void test_traceback_order_matches_tracemalloc(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    const char *specs[] = { "a.py:2", "B.py:1", "a.py:10", "b.py:1", "a.py:1" };
    for (size_t i = 0; i < 5; i++)
        tl_add(s, 8, 1, specs[i]);
    char buf[512];
    diff_stats *st = run(s, NULL, DIFF_GROUP_LINENO, false, DIFF_SORT_SIZE, NULL, 0);
    CHECK_STR(keys(st, DIFF_GROUP_LINENO, buf, sizeof buf), "b.py:1|a.py:10|a.py:2|a.py:1|B.py:1");
    diff_stats_free(st);
    /* Tracebacks compare from the oldest frame; a prefix sorts lower. */
    diff_snapshot *t = diff_snapshot_new(lt, 8);
    tl_add(t, 8, 1, "z.py:1 m.py:1");
    tl_add(t, 8, 1, "a.py:1 m.py:2");
    tl_add(t, 8, 1, "m.py:1");
    tl_add(t, 8, 1, "y.py:9 a.py:1 m.py:1");
    st = run(t, NULL, DIFF_GROUP_TRACEBACK, false, DIFF_SORT_SIZE, NULL, 0);
    CHECK_STR(keys(st, DIFF_GROUP_TRACEBACK, buf, sizeof buf),
              "a.py:1 m.py:2|z.py:1 m.py:1|y.py:9 a.py:1 m.py:1|m.py:1");
    diff_stats_free(st);
    diff_snapshot_free(t);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static void test_filters_and_totals(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *old = diff_snapshot_new(lt, 8), *new_ = diff_snapshot_new(lt, 8);
    tl_add(old, 10, 1, "/src/app/x.c:1 /usr/include/y.h:2");
    tl_add(new_, 30, 2, "/src/app/x.c:1 /usr/include/y.h:2");
    tl_add(new_, 100, 1, "/usr/lib/z.c:5");
    tl_add(new_, 1, 1, "@/lib/libq.so+0x40");
    diff_filter inc = { .inclusive = true, .pattern = "/src/*", .lineno = -1 };
    diff_options o = { .group = DIFF_GROUP_LINENO, .cumulative = true, .filters = &inc, .nfilters = 1 };
    diff_stats *st = diff_compare(new_, old, &o, NULL, 0);
    diff_stat t;
    diff_stats_total(st, &t);
    CHECK_INT(diff_stats_count(st), 2);     /* x.c:1 and y.h:2 */
    CHECK_INT(t.size, 30);                  /* not 60: totals are over traces */
    CHECK_INT(t.size_diff, 20);
    CHECK_INT(t.count, 2);
    CHECK_INT(t.count_diff, 1);
    diff_stats_free(st);
    /* `*` crosses '/'; an unknown frame matches by its module path. */
    diff_filter mod = { .inclusive = true, .pattern = "*libq*", .lineno = -1 };
    o = (diff_options){ .group = DIFF_GROUP_LINENO, .filters = &mod, .nfilters = 1 };
    st = diff_compare(new_, old, &o, NULL, 0);
    CHECK_INT(diff_stats_count(st), 1);
    CHECK_INT(diff_stats_get(st, 0)->size, 1);
    diff_stats_free(st);
    /* Exclude with all_frames drops a trace when any frame matches; a
     * backslash is literal, as in Python's fnmatch. */
    diff_filter ex[2] = {
        { .inclusive = false, .pattern = "/usr/include/*", .lineno = 2, .all_frames = true },
        { .inclusive = false, .pattern = "\\*", .lineno = -1 },
    };
    o = (diff_options){ .group = DIFF_GROUP_FILENAME, .filters = ex, .nfilters = 2 };
    st = diff_compare(new_, old, &o, NULL, 0);
    diff_stats_total(st, &t);
    CHECK_INT(t.size, 101);
    CHECK_INT(t.size_diff, 101);
    diff_stats_free(st);
    diff_snapshot_free(old);
    diff_snapshot_free(new_);
    diff_loctab_free(lt);
}

static void test_skip_wrappers(void)
{
    diff_loctab *lt = diff_loctab_new();
    uint32_t ids[6] = {
        tl_frame(lt, "new_op.cc:50", "operator new(unsigned long)"),
        tl_frame(lt, "new_opv.cc:32", "operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)"),
        tl_frame(lt, "@/lib/libc.so.6+0x100", "__strdup"),
        tl_frame(lt, "pool.c:9", "pool_alloc"),
        tl_frame(lt, "user.c:3", "make_node"),
        tl_frame(lt, "main.c:1", "main"),
    };
    CHECK_INT(diff_frames_skip_wrappers(lt, ids, 6, NULL, 0), 3);
    const char *globs[] = { "pool_*" };
    CHECK_INT(diff_frames_skip_wrappers(lt, ids, 6, globs, 1), 4);
    CHECK_INT(diff_frames_skip_wrappers(lt, ids, 3, NULL, 0), 2);   /* never all */
    CHECK_INT(diff_frames_skip_wrappers(lt, ids, 0, NULL, 0), 0);
    CHECK_INT(diff_frames_skip_wrappers(lt, ids + 4, 2, NULL, 0), 0);
    /* The top is known as soon as a frame that is not a wrapper is in:
     * the session stops resolving there (top-only grouping). */
    CHECK(!diff_frames_top_known(lt, ids, 0, NULL, 0));
    CHECK(!diff_frames_top_known(lt, ids, 3, NULL, 0));   /* wrappers only: the next may be the top */
    CHECK(diff_frames_top_known(lt, ids, 4, NULL, 0));    /* pool_alloc */
    CHECK(!diff_frames_top_known(lt, ids, 4, globs, 1));  /* pool_alloc is a wrapper by --alloc-fn */
    CHECK(diff_frames_top_known(lt, ids, 5, globs, 1));
    CHECK(diff_frames_top_known(lt, ids + 5, 1, NULL, 0)); /* one frame, not a wrapper */
    const char *names[] = { "strdup", "strndup", "wcsdup", "__strndup", "__wcsdup",
                            "__GI___strdup", "malloc", "calloc", "realloc",
                            "operator new(unsigned long, std::nothrow_t const&)", "_Znwm" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        diff_frame f = { .function = names[i], .file = "w.c", .line = 1 };
        uint32_t two[2] = { diff_loctab_intern(lt, &f), ids[5] };
        CHECK_INT(diff_frames_skip_wrappers(lt, two, 2, NULL, 0), 1);
    }
    diff_frame nf = { .function = "new_node", .file = "w.c", .line = 2 };
    uint32_t id = diff_loctab_intern(lt, &nf);
    CHECK_INT(diff_frames_skip_wrappers(lt, &id, 1, NULL, 0), 0);
    diff_loctab_free(lt);
}

static void test_interning_and_snapshot_add(void)
{
    diff_loctab *lt = diff_loctab_new();
    char file[32];
    snprintf(file, sizeof file, "%s", "k.c");
    diff_frame a = { .function = "f", .file = file, .line = 1, .module = "m", .address = 1, .offset = 2 };
    uint32_t id = diff_loctab_intern(lt, &a);
    const diff_frame *got = diff_loctab_get(lt, id);
    file[0] = 'X';                            /* strings were copied */
    CHECK_STR(got->file, "k.c");
    a.file = "k.c";
    CHECK_INT(diff_loctab_intern(lt, &a), id);
    diff_frame b = a;
    b.inlined = true;
    CHECK(diff_loctab_intern(lt, &b) != id);  /* every field counts */
    b = a;
    b.address = 7;
    CHECK(diff_loctab_intern(lt, &b) != id);
    for (uint32_t i = 0; i < 5000; i++) {     /* pointers survive growth */
        diff_frame f = { .file = "grow.c", .line = i };
        diff_loctab_intern(lt, &f);
    }
    CHECK(diff_loctab_get(lt, id) == got);
    CHECK_INT(diff_loctab_count(lt), 5003);
    CHECK(diff_loctab_get(lt, 5003) == NULL);
    diff_snapshot *s = diff_snapshot_new(lt, 4);
    CHECK_INT(diff_snapshot_add(s, -1, 1, &id, 1), -EINVAL);
    uint32_t bad = 99999;
    CHECK_INT(diff_snapshot_add(s, 1, 1, &bad, 1), -EINVAL);
    CHECK_INT(diff_snapshot_add(s, INT64_MAX, 1, &id, 1), 0);
    CHECK_INT(diff_snapshot_add(s, 1, 1, &id, 1), -EOVERFLOW);
    int64_t size, count;
    diff_snapshot_totals(s, &size, &count);
    CHECK_INT(size, INT64_MAX);
    CHECK_INT(count, 1);
    CHECK_STR(diff_snapshot_label(s), "");
    diff_snapshot_set_label(s, "base");
    CHECK_STR(diff_snapshot_label(s), "base");
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

int main(void)
{
    test_cumulative_counts_a_location_once_per_trace();
    test_refusals_are_one_line_messages();
    test_unknown_call_sites_never_merge();
    test_same_line_other_function_is_one_group();
    test_frameless_trace_is_unknown_line_zero();
    test_sort_modes();
    test_retained_since_any_baseline();
    test_traceback_order_matches_tracemalloc();
    test_filters_and_totals();
    test_skip_wrappers();
    test_interning_and_snapshot_add();
    return check_report("test_group");
}
