/* test_snapfile_corrupt.c: the snapshot reader against damaged files, under
 * ASan/UBSan: every truncation of valid binary and JSON snapshots must be
 * an error, and thousands of random byte flips (with the binary checksum
 * left wrong, and recomputed so the structure checks are reached) must
 * never crash; whatever parses is grouped and reported without harm. */
#include "check.h"
#include "diff_internal.h"
#include "snapgen.h"
#include "testrand.h"

#include <stdlib.h>
#include <unistd.h>


static FILE *devnull;
static size_t parsed_ok, rejected;

/* Exercises everything downstream of a parsed snapshot. */
static void use(diff_snapshot *s)
{
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++)
        for (int cum = 0; cum <= (g != DIFF_GROUP_TRACEBACK); cum++) {
            diff_options o = { .group = (diff_group)g, .cumulative = cum, .sort = DIFF_SORT_GROWTH };
            diff_report_info info = { .reason = "mark", .label = "x", .top = 5 };
            diff_stats *st = diff_compare(s, NULL, &o, NULL, 0);
            if (st) {
                diff_report_text(devnull, st, &o, &info);
                diff_report_json(devnull, st, &o, &info);
            }
            diff_stats_free(st);
        }
}

static bool parse(const uint8_t *p, size_t len)
{
    diff_loctab *lt = diff_loctab_new();
    char err[512] = "";
    diff_snapshot *s = diff_snapfile_parse(p, len, "c", lt, err, sizeof err);
    if (s) {
        parsed_ok++;
        use(s);
    } else {
        rejected++;
        if (!err[0] || strchr(err, '\n')) {
            fprintf(stderr, "bad error text: \"%s\"\n", err);
            check_failures++;
        }
    }
    diff_snapshot_free(s);
    diff_loctab_free(lt);
    return s != NULL;
}

static void truncations(const char *what, const uint8_t *p, size_t len, size_t keep_ok)
{
    /* keep_ok: prefixes at least this long may parse (trailing whitespace). */
    for (size_t n = 0; n < len; n++)
        if (parse(p, n) && n < keep_ok) {
            fprintf(stderr, "%s: truncation to %zu bytes parsed\n", what, n);
            check_failures++;
        }
}

static void flips(const char *what, const uint8_t *p, size_t len, bool binary, int rounds)
{
    uint8_t *b = malloc(len);
    for (int r = 0; r < rounds; r++) {
        memcpy(b, p, len);
        int nflip = 1 + (int)(test_rand() % 4);
        for (int k = 0; k < nflip; k++)
            b[test_rand() % len] ^= (uint8_t)(1u << (test_rand() % 8));
        bool changed = memcmp(b, p, len) != 0;
        if (parse(b, len) && binary && changed) {
            fprintf(stderr, "%s: a damaged binary file parsed\n", what);
            check_failures++;
        }
        if (binary) {
            uint32_t crc = diff_crc32(0, b, len - 4);
            for (int i = 0; i < 4; i++)
                b[len - 4 + i] = (uint8_t)(crc >> (8 * i));
            parse(b, len);
        }
    }
    free(b);
}

static uint8_t *binary_sample(int variant, size_t *len)
{
    char path[] = "/tmp/leaktop-corrupt-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    diff_loctab *lt = diff_loctab_new();
    diff_snapshot *s = snapgen_rich(lt, variant);
    diff_snapfile_write(path, s, NULL, 0);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
    FILE *f = fopen(path, "rb");
    uint8_t *p = malloc(1 << 16);
    *len = fread(p, 1, 1 << 16, f);
    fclose(f);
    unlink(path);
    return p;
}

int main(void)
{
    devnull = fopen("/dev/null", "w");
    for (int v = 0; v < 2; v++) {
        size_t len;
        uint8_t *bin = binary_sample(v, &len);
        CHECK(parse(bin, len));
        truncations("binary", bin, len, len);
        flips("binary", bin, len, true, 20000);
        free(bin);
    }
    const uint8_t *json = (const uint8_t *)snapgen_json;
    size_t jlen = sizeof snapgen_json - 1;
    CHECK(parse(json, jlen));
    truncations("json", json, jlen, jlen - 1);   /* the final newline is optional */
    flips("json", json, jlen, false, 20000);
    fclose(devnull);
    printf("corruption: %zu inputs parsed, %zu rejected with a one-line error\n", parsed_ok, rejected);
    return check_report("test_snapfile_corrupt");
}
