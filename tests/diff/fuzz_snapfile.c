/* fuzz_snapfile.c: libFuzzer target for the snapshot reader. Each input is
 * parsed as given and, when it looks like a binary snapshot, again with its
 * checksum recomputed so the fuzzer reaches the structure checks behind it;
 * whatever parses is grouped and reported. */
#include "diff_internal.h"

#include <stdlib.h>
#include <string.h>

static void use(diff_snapshot *s)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++) {
        diff_options o = { .group = (diff_group)g, .cumulative = g == DIFF_GROUP_FILENAME,
                           .sort = (diff_sort)g };
        diff_report_info info = { .reason = "mark", .label = "f", .top = 3 };
        diff_stats *st = diff_compare(s, s, &o, NULL, 0);
        if (st && devnull) {
            diff_report_text(devnull, st, &o, &info);
            diff_report_json(devnull, st, &o, &info);
        }
        diff_stats_free(st);
    }
}

static void parse_one(const uint8_t *data, size_t len)
{
    diff_loctab *lt = diff_loctab_new();
    char err[256];
    diff_snapshot *s = diff_snapfile_parse(data, len, "fuzz", lt, err, sizeof err);
    if (s)
        use(s);
    else if (!err[0] || strchr(err, '\n'))
        abort();   /* every failure must explain itself on one line */
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    parse_one(data, len);
    if (len >= 14 && memcmp(data, "LTSNAP", 6) == 0) {
        uint8_t *copy = malloc(len);
        memcpy(copy, data, len);
        uint32_t crc = diff_crc32(0, copy, len - 4);
        for (int i = 0; i < 4; i++)
            copy[len - 4 + i] = (uint8_t)(crc >> (8 * i));
        parse_one(copy, len);
        free(copy);
    }
    return 0;
}
