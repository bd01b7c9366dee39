/* test_format.c: _format_size to the digit (the reference table), the
 * mode names, and the exact text and JSON report lines of PRODUCT.md §4. */
#include "check.h"
#include "diff_internal.h"
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>

static void test_format_size_table(void)
{
    struct { int64_t v; bool sign; const char *want; } t[] = {
        { 0, false, "0 B" }, { 0, true, "+0 B" }, { 10239, false, "10239 B" },
        { 10240, false, "10.0 KiB" }, { 102348, false, "99.9 KiB" },
        { 102349, false, "100.0 KiB" }, { 102400, false, "100 KiB" },
        { 1048575, false, "1024 KiB" }, { 10485760, false, "10.0 MiB" },
        { (int64_t)1 << 60, false, "1048576 TiB" }, { -10240, false, "-10.0 KiB" },
        { 20000 * 256, true, "+5000 KiB" }, { 10000000, false, "9766 KiB" },
        { -66, true, "-66 B" }, { 5000, true, "+5000 B" }, { -10239, true, "-10239 B" },
        { INT64_MAX, false, "8388608 TiB" }, { 99 * 1024 * 1024 + 1, true, "+99.0 MiB" },
    };
    char buf[64];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        CHECK_STR(diff_format_size(buf, sizeof buf, t[i].v, t[i].sign), t[i].want);
    CHECK_STR(diff_format_size_double(buf, sizeof buf, 2501.0, false), "2501 B");
    CHECK_STR(diff_format_size_double(buf, sizeof buf, 2.5, false), "2 B");   /* half to even */
    CHECK_STR(diff_format_size_double(buf, sizeof buf, 3.5, false), "4 B");
}

static void test_names(void)
{
    diff_group g;
    diff_sort s;
    CHECK_INT(diff_group_parse("traceback", &g), 0);
    CHECK_INT(g, DIFF_GROUP_TRACEBACK);
    CHECK_INT(diff_group_parse("cumulative", &g), -EINVAL);
    CHECK_INT(diff_sort_parse("freed", &s), 0);
    CHECK_INT(s, DIFF_SORT_FREED);
    CHECK_INT(diff_sort_parse("Growth", &s), -EINVAL);
    CHECK_STR(diff_group_name(DIFF_GROUP_FILENAME), "filename");
    CHECK_STR(diff_sort_name(DIFF_SORT_ABSOLUTE), "absolute");
}

typedef struct fixture {
    diff_loctab   *lt;
    diff_snapshot *old, *new_;
} fixture;

static fixture make_fixture(void)
{
    fixture fx = { diff_loctab_new(), NULL, NULL };
    fx.old = diff_snapshot_new(fx.lt, 32);
    fx.new_ = diff_snapshot_new(fx.lt, 32);
    diff_frame fill = { .function = "fill_buckets", .file = "/abs/compare.c", .line = 11,
                        .module = "/abs/a.out", .address = 0x401136, .offset = 0x1136 };
    diff_frame mainf = { .function = "main", .file = "/abs/compare.c", .line = 30,
                         .module = "/abs/a.out", .address = 0x401200, .offset = 0x1200,
                         .inlined = true };
    diff_frame grow = { .function = "grow\"\n\xff", .module = "/abs/lib.so", .offset = 0x40 };
    uint32_t a[2] = { diff_loctab_intern(fx.lt, &fill), diff_loctab_intern(fx.lt, &mainf) };
    uint32_t b[2] = { diff_loctab_intern(fx.lt, &grow), a[1] };
    diff_snapshot_add(fx.new_, 20000 * 256, 20000, a, 2);
    /* 15000 of the 20000 blocks were born after the baseline (epoch 1),
     * 10000 of them after a later one (epoch 3). */
    diff_birth births[2] = {{.epoch = 1, .size = 5000 * 256, .count = 5000},
                            {.epoch = 3, .size = 10000 * 256, .count = 10000}};
    diff_snapshot_add_births(fx.new_, births, 2);
    diff_snapshot_add(fx.old, 100, 1, b, 2);
    diff_snapshot_add(fx.new_, 150, 1, b, 2);
    diff_snapshot_set_epoch(fx.old, 42, 1, true);
    diff_snapshot_set_epoch(fx.new_, 42, 4, true);
    return fx;
}

static void free_fixture(fixture *fx)
{
    diff_snapshot_free(fx->old);
    diff_snapshot_free(fx->new_);
    diff_loctab_free(fx->lt);
}

static char *report(const fixture *fx, const diff_options *o, const diff_report_info *info, bool json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    diff_stats *st = diff_compare(fx->new_, fx->old, o, NULL, 0);
    if (json)
        diff_report_json(f, st, o, info);
    else
        diff_report_text(f, st, o, info);
    fclose(f);
    diff_stats_free(st);
    return text;
}

static void test_text_report(void)
{
    fixture fx = make_fixture();
    diff_report_info info = { .reason = "mark", .label = "after", .baseline = "base", .pid = 1234,
                              .elapsed_s = 1.52, .frames_limit = 32, .path_base = "/abs/" };
    diff_options o = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH };
    char *t = report(&fx, &o, &info, false);
    CHECK_STR(t,
        "leaktop: mark \"after\" vs baseline \"base\" (pid 1234, 1.52 s): total 5000 KiB (+5000 KiB) in 20001 blocks (+20000), "
        "retained 3750 KiB in 15000 blocks, group lineno, sort growth\n"
        "+5000 KiB  blocks +20000  total 5000 KiB in 20000 blocks  retained 3750 KiB in 15000 blocks  compare.c:11 in fill_buckets\n"
        "+50 B  blocks +0  total 150 B in 1 blocks  retained 0 B in 0 blocks  lib.so+0x40 in grow\"??  [blocks grew]\n");
    free(t);
    o.group = DIFF_GROUP_TRACEBACK;
    info.top = 1;
    info.path_base = NULL;
    info.reason = "exit";
    info.baseline = "";
    t = report(&fx, &o, &info, false);
    CHECK_STR(t,
        "leaktop: exit vs empty baseline (pid 1234, 1.52 s): total 5000 KiB (+5000 KiB) in 20001 blocks (+20000), "
        "retained 3750 KiB in 15000 blocks, group traceback, sort growth\n"
        "+5000 KiB  blocks +20000  total 5000 KiB in 20000 blocks  retained 3750 KiB in 15000 blocks  /abs/compare.c:11 in fill_buckets\n"
        "    at main /abs/compare.c:30 (inlined)\n");
    free(t);
    o = (diff_options){ .group = DIFF_GROUP_FILENAME, .cumulative = true, .sort = DIFF_SORT_FREED };
    info = (diff_report_info){ .reason = "signal", .signal = 9, .baseline = "b", .elapsed_s = 2 };
    t = report(&fx, &o, &info, false);
    CHECK_STR(t,
        "leaktop: killed by signal 9 vs baseline \"b\" (pid 0, 2.00 s): total 5000 KiB (+5000 KiB) in 20001 blocks (+20000), "
        "retained 3750 KiB in 15000 blocks, group filename cumulative, sort freed\n"
        "+50 B  blocks +0  total 150 B in 1 blocks  retained 0 B in 0 blocks  /abs/lib.so  [blocks grew]\n"
        "+5000 KiB  blocks +20000  total 5000 KiB in 20001 blocks  retained 3750 KiB in 15000 blocks  /abs/compare.c\n");
    free(t);
    /* Snapshots of two runs: retained is not known, and said, never 0. */
    diff_snapshot_set_epoch(fx.old, 43, 1, true);
    o = (diff_options){ .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_RETAINED };
    t = report(&fx, &o, &info, false);
    CHECK(strstr(t, "(+20000), retained not known (the snapshots are not of one traced run), group lineno, sort "
                    "retained\n") != NULL);
    CHECK(!strstr(t, "  retained "));
    free(t);
    free_fixture(&fx);
}

static void test_json_report(void)
{
    fixture fx = make_fixture();
    diff_report_info info = { .reason = "signal", .signal = 11, .label = "exit", .baseline = "base",
                              .pid = 77, .elapsed_s = 3.14159, .frames_limit = 32 };
    diff_options o = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH };
    char *t = report(&fx, &o, &info, true);
    CHECK_STR(t,
        "{\"event\":\"report\",\"reason\":\"signal\",\"label\":\"exit\",\"baseline\":\"base\",\"pid\":77,"
        "\"elapsed_s\":3.142,\"signal\":11,\"group\":\"lineno\",\"cumulative\":false,\"sort\":\"growth\","
        "\"frames_limit\":32,\"total\":{\"size\":5120150,\"size_diff\":5120050,\"count\":20001,\"count_diff\":20000,"
        "\"retained\":{\"size\":3840000,\"count\":15000}},"
        "\"stats\":[{\"size\":5120000,\"size_diff\":5120000,\"count\":20000,\"count_diff\":20000,"
        "\"retained\":{\"size\":3840000,\"count\":15000},\"frames\":["
        "{\"function\":\"fill_buckets\",\"file\":\"/abs/compare.c\",\"line\":11,\"module\":\"/abs/a.out\","
        "\"address\":\"0x401136\",\"offset\":\"0x1136\",\"inlined\":false}]},"
        "{\"size\":150,\"size_diff\":50,\"count\":1,\"count_diff\":0,\"retained\":{\"size\":0,\"count\":0},\"frames\":["
        "{\"function\":\"grow\\\"\\u000a\\ufffd\",\"file\":null,\"line\":0,\"module\":\"/abs/lib.so\","
        "\"address\":null,\"offset\":\"0x40\",\"inlined\":false}]}]}\n");
    free(t);
    /* No "signal" key unless the reason is a signal; filename lines are 0. */
    info.reason = "mark";
    o.group = DIFF_GROUP_FILENAME;
    info.top = 1;
    t = report(&fx, &o, &info, true);
    CHECK(!strstr(t, "\"signal\""));
    CHECK(strstr(t, "\"line\":0,"));
    CHECK(!strstr(t, "\"line\":11"));
    CHECK(!strstr(t, "lib.so"));   /* top = 1 */
    free(t);
    /* A baseline taken past the tracer's epoch limit: null, and why. */
    diff_snapshot_set_epoch(fx.old, 42, DIFF_EPOCH_NONE, true);
    t = report(&fx, &o, &info, true);
    CHECK(strstr(t, "\"retained_not_known\":\"the baseline was taken past") != NULL);
    CHECK(strstr(t, "\"count_diff\":20000,\"retained\":null}") != NULL);
    free(t);
    free_fixture(&fx);
}

/* Whether the bytes hold a C1 control (U+0080-U+009F as UTF-8) or DEL. */
static bool has_raw_control(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return true;
    return false;
}

/* Names from debug info may hold C1 controls (U+009B is a CSI on many
 * terminals) and invalid UTF-8: text shows each control as '?' like C0,
 * JSON escapes it as \u00XX, bad bytes become ? or \ufffd; U+00A0 and
 * other printable characters pass. */
static void test_control_characters_escaped(void)
{
    fixture fx = { diff_loctab_new(), NULL, NULL };
    fx.old = diff_snapshot_new(fx.lt, 32);
    fx.new_ = diff_snapshot_new(fx.lt, 32);
    diff_frame f = { .function = "f\xc2\x9b" "31m\xc2\x80\xc2\x9f\x7f\xc2\xa0\xc3\xa9",
                     .file = "/abs/x\xc2\x85y\xed\xa0\x80\xc2.c", .line = 7,
                     .module = "/abs/m\xc2\x9b", .offset = 0x10 };
    uint32_t id = diff_loctab_intern(fx.lt, &f);
    diff_snapshot_add(fx.new_, 64, 1, &id, 1);
    diff_report_info info = { .reason = "mark", .label = "l\xc2\x9b", .baseline = "b\xc2\x90",
                              .frames_limit = 32, .path_base = "/abs/" };
    diff_options o = { .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH };
    char *t = report(&fx, &o, &info, false);
    CHECK(!has_raw_control(t));
    CHECK(strstr(t, "mark \"l?\" vs baseline \"b?\"") != NULL);
    CHECK(strstr(t, "x?y????.c:7 in f?31m???\xc2\xa0\xc3\xa9\n") != NULL);
    free(t);
    t = report(&fx, &o, &info, true);
    CHECK(!has_raw_control(t));
    CHECK(strstr(t, "\"label\":\"l\\u009b\",\"baseline\":\"b\\u0090\"") != NULL);
    CHECK(strstr(t, "\"function\":\"f\\u009b31m\\u0080\\u009f\\u007f\xc2\xa0\xc3\xa9\"") != NULL);
    CHECK(strstr(t, "\"file\":\"/abs/x\\u0085y\\ufffd\\ufffd\\ufffd\\ufffd.c\"") != NULL);
    CHECK(strstr(t, "\"module\":\"/abs/m\\u009b\"") != NULL);
    free(t);
    free_fixture(&fx);
}

int main(void)
{
    test_format_size_table();
    test_names();
    test_text_report();
    test_json_report();
    test_control_characters_escaped();
    return check_report("test_format");
}
