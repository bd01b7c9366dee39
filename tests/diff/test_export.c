/* test_export.c: the export formats on hand-built snapshots: folded lines
 * to the byte (naming, separators, merging, the two-column form), and the
 * pprof encoding read back by a small protobuf walker of the test's own
 * (gunzipped with zlib): sample values, negated base samples, one Location
 * per inlined chain with its Lines innermost first, deduplicated Functions
 * and strings. go tool pprof reads the same files in test_exports.py. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "diff.h"
#include "diff_export.h"

static char *folded(const diff_snapshot *s, const diff_snapshot *base)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char err[256];
    CHECK_INT(diff_export_folded(f, s, base, err, sizeof(err)), 0);
    fclose(f);
    return buf;
}

static uint32_t frame(diff_loctab *lt, const char *fn, const char *file, uint32_t line, const char *module,
                      uint64_t addr, bool inlined)
{
    diff_frame f = {.function = fn, .file = file, .line = line, .module = module, .address = addr,
                    .offset = addr - 0x1000, .inlined = inlined};
    return diff_loctab_intern(lt, &f);
}

/* ---- a protobuf walker, just enough for the checks ------------------------------ */

typedef struct pbr {
    const uint8_t *p, *end;
} pbr;

static uint64_t pbr_varint(pbr *r)
{
    uint64_t v = 0;
    for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* The next field: its number, and either its varint or its bytes. */
static bool pbr_next(pbr *r, unsigned *field, uint64_t *v, pbr *sub)
{
    if (r->p >= r->end)
        return false;
    uint64_t key = pbr_varint(r);
    *field = (unsigned)(key >> 3);
    if ((key & 7) == 0) {
        *v = pbr_varint(r);
    } else {
        uint64_t n = pbr_varint(r);
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
    }
    return true;
}

typedef struct profile {
    int     nsamples, nlocations, nfunctions, nstrings, nmappings;
    int64_t objects, bytes;           /* sums over samples */
    int64_t neg_bytes;                /* sums over negative samples */
    int     max_lines;                /* most Lines in one Location */
    char    strings[64][96];
} profile;

static void read_profile(const uint8_t *gz, size_t gzlen, profile *pr)
{
    memset(pr, 0, sizeof(*pr));
    uLongf cap = 1 << 20;
    uint8_t *raw = malloc(cap);
    z_stream z = {.next_in = (Bytef *)gz, .avail_in = (uInt)gzlen, .next_out = raw, .avail_out = (uInt)cap};
    CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
    CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
    pbr r = {raw, raw + z.total_out}, sub, sub2;
    inflateEnd(&z);
    unsigned field;
    uint64_t v;
    while (pbr_next(&r, &field, &v, &sub)) {
        if (field == 2) {           /* Sample */
            pr->nsamples++;
            unsigned f2;
            while (pbr_next(&sub, &f2, &v, &sub2)) {
                if (f2 != 2)
                    continue;
                int64_t objects = (int64_t)pbr_varint(&sub2), bytes = (int64_t)pbr_varint(&sub2);
                pr->objects += objects;
                pr->bytes += bytes;
                if (bytes < 0)
                    pr->neg_bytes += bytes;
            }
        } else if (field == 3) {
            pr->nmappings++;
        } else if (field == 4) {    /* Location */
            pr->nlocations++;
            unsigned f2;
            int lines = 0;
            while (pbr_next(&sub, &f2, &v, &sub2))
                lines += f2 == 4;
            if (lines > pr->max_lines)
                pr->max_lines = lines;
        } else if (field == 5) {
            pr->nfunctions++;
        } else if (field == 6 && pr->nstrings < 64) {
            size_t n = (size_t)(sub.end - sub.p);
            snprintf(pr->strings[pr->nstrings++], sizeof(pr->strings[0]), "%.*s", (int)n, (const char *)sub.p);
        }
    }
    free(raw);
}

static bool has_string(const profile *pr, const char *s)
{
    for (int i = 0; i < pr->nstrings; i++)
        if (strcmp(pr->strings[i], s) == 0)
            return true;
    return false;
}

int main(void)
{
    diff_loctab *lt = diff_loctab_new();
    /* main -> outer, with inner and middle inlined into outer at one address */
    uint32_t inner = frame(lt, "inner", "a.c", 12, "/bin/app", 0x1100, true);
    uint32_t middle = frame(lt, "middle", "a.c", 19, "/bin/app", 0x1100, true);
    uint32_t outer = frame(lt, "outer", "a.c", 26, "/bin/app", 0x1100, false);
    uint32_t mainf = frame(lt, "main", "a.c", 40, "/bin/app", 0x1200, false);
    uint32_t odd = frame(lt, "op;er\nator", "b.c", 3, "/bin/app", 0x1300, false);
    uint32_t nofn = frame(lt, NULL, NULL, 0, "/usr/lib/libz.so.1", 0x2345, false);
    diff_frame bare = {.address = 0x7777};
    uint32_t nomod = diff_loctab_intern(lt, &bare);

    diff_snapshot *now = diff_snapshot_new(lt, 32), *base = diff_snapshot_new(lt, 32);
    uint32_t t1[] = {inner, middle, outer, mainf};
    uint32_t t2[] = {odd, mainf};
    uint32_t t3[] = {nofn, nomod};
    CHECK_INT(diff_snapshot_add(now, 1000, 10, t1, 4), 0);
    CHECK_INT(diff_snapshot_add(now, 24, 1, t1, 4), 0);   /* the same stack again: merged */
    CHECK_INT(diff_snapshot_add(now, 300, 3, t2, 2), 0);
    CHECK_INT(diff_snapshot_add(now, 5, 1, t3, 2), 0);
    CHECK_INT(diff_snapshot_add(base, 400, 4, t1, 4), 0);
    CHECK_INT(diff_snapshot_add(base, 77, 7, t3, 2), 0);

    /* folded: root first, inlined calls as frames, ';' and control
     * characters replaced, unnamed frames by module+offset or address */
    char *text = folded(now, NULL);
    CHECK_STR(text, "0x7777;libz.so.1+0x1345 5\n"
                    "main;op:er?ator 300\n"
                    "main;outer;middle;inner 1024\n");
    free(text);
    text = folded(now, base);
    CHECK_STR(text, "0x7777;libz.so.1+0x1345 77 5\n"
                    "main;op:er?ator 0 300\n"
                    "main;outer;middle;inner 400 1024\n");
    free(text);

    /* pprof: values, locations per inlined chain, base negated */
    uint8_t *gz = NULL;
    size_t len = 0;
    char err[256];
    profile pr;
    CHECK_INT(diff_export_pprof(now, NULL, &gz, &len, err, sizeof(err)), 0);
    CHECK(len > 20 && gz[0] == 0x1f && gz[1] == 0x8b);
    read_profile(gz, len, &pr);
    free(gz);
    CHECK_INT(pr.nsamples, 4);
    CHECK_INT(pr.bytes, 1329);
    CHECK_INT(pr.objects, 15);
    CHECK_INT(pr.nlocations, 5);      /* outer's chain, main, op..., libz, bare */
    CHECK_INT(pr.max_lines, 3);       /* inner, middle, outer in one Location */
    CHECK_INT(pr.nfunctions, 5);      /* inner, middle, outer, main, op...ator */
    CHECK_INT(pr.nmappings, 2);       /* /bin/app, libz */
    CHECK(has_string(&pr, "inuse_space") && has_string(&pr, "inuse_objects") && has_string(&pr, "space"));
    CHECK(has_string(&pr, "op;er\nator"));  /* pprof names are kept as they are */
    CHECK(strcmp(pr.strings[0], "") == 0);

    CHECK_INT(diff_export_pprof(now, base, &gz, &len, err, sizeof(err)), 0);
    read_profile(gz, len, &pr);
    free(gz);
    CHECK_INT(pr.nsamples, 6);
    CHECK_INT(pr.bytes, 1329 - 477);
    CHECK_INT(pr.neg_bytes, -477);
    CHECK(has_string(&pr, "pprof::base"));

    /* a base from another frame table is refused */
    diff_loctab *other = diff_loctab_new();
    diff_snapshot *alien = diff_snapshot_new(other, 32);
    CHECK(diff_export_pprof(now, alien, &gz, &len, err, sizeof(err)) < 0);
    diff_export_format fmt;
    CHECK_INT(diff_export_format_parse("folded", &fmt), 0);
    CHECK_INT(fmt, DIFF_EXPORT_FOLDED);
    CHECK(diff_export_format_parse("svg", &fmt) < 0);
    CHECK_STR(diff_export_suffix(DIFF_EXPORT_PPROF), ".pb.gz");

    diff_snapshot_free(alien);
    diff_loctab_free(other);
    diff_snapshot_free(now);
    diff_snapshot_free(base);
    diff_loctab_free(lt);
    return check_report("test_export");
}
