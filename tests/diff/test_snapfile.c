/* test_snapfile.c: snapshot files: binary round trip (same traces, same
 * statistics, into a fresh or the same loctab), the JSON form, and one-line
 * errors for every kind of bad input. */
#include "check.h"
#include "diff_internal.h"
#include "snapgen.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/leaktop-snapfile-XXXXXX";

static const char *path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static bool frames_equal(const diff_frame *a, const diff_frame *b)
{
    bool s = true;
    const char *pa[4] = { a->function, a->file, a->module, a->system_name },
               *pb[4] = { b->function, b->file, b->module, b->system_name };
    for (int i = 0; i < 4; i++)
        s = s && (pa[i] && pb[i] ? strcmp(pa[i], pb[i]) == 0 : pa[i] == pb[i]);
    return s && a->line == b->line && a->address == b->address && a->offset == b->offset
        && a->inlined == b->inlined;
}

static void check_same_snapshot(const diff_snapshot *a, const diff_snapshot *b)
{
    CHECK_INT(diff_snapshot_ntraces(b), diff_snapshot_ntraces(a));
    CHECK_STR(diff_snapshot_label(b), diff_snapshot_label(a));
    CHECK_INT(diff_snapshot_pid(b), diff_snapshot_pid(a));
    CHECK(diff_snapshot_elapsed(b) == diff_snapshot_elapsed(a));
    CHECK_INT(diff_snapshot_frames_limit(b), diff_snapshot_frames_limit(a));
    CHECK_INT(diff_snapshot_nmodules(b), diff_snapshot_nmodules(a));
    for (size_t i = 0; i < diff_snapshot_nmodules(a) && i < diff_snapshot_nmodules(b); i++) {
        const char *pa, *pb, *ba, *bb;
        uint64_t xa, xb;
        diff_snapshot_module(a, i, &pa, &ba, &xa);
        diff_snapshot_module(b, i, &pb, &bb, &xb);
        CHECK_STR(pb, pa);
        CHECK(ba && bb ? strcmp(ba, bb) == 0 : ba == bb);
        CHECK_INT(xb, xa);
    }
    for (size_t i = 0; i < diff_snapshot_ntraces(a) && i < diff_snapshot_ntraces(b); i++) {
        int64_t sa, sb, ca, cb;
        const uint32_t *fa, *fb;
        uint32_t na, nb;
        diff_snapshot_trace(a, i, &sa, &ca, &fa, &na);
        diff_snapshot_trace(b, i, &sb, &cb, &fb, &nb);
        CHECK(sa == sb && ca == cb && na == nb);
        for (uint32_t k = 0; k < na && k < nb; k++)
            CHECK(frames_equal(diff_loctab_get(diff_snapshot_locs(a), fa[k]),
                               diff_loctab_get(diff_snapshot_locs(b), fb[k])));
    }
}

static char *json_report(const diff_snapshot *n, const diff_snapshot *o, diff_group g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    diff_options opt = { .group = g, .sort = DIFF_SORT_GROWTH };
    diff_report_info info = { .reason = "mark" };
    diff_stats *st = diff_compare(n, o, &opt, NULL, 0);
    diff_report_json(f, st, &opt, &info);
    fclose(f);
    diff_stats_free(st);
    return text;
}

static void test_binary_round_trip(void)
{
    diff_loctab *lt = diff_loctab_new(), *fresh = diff_loctab_new();
    diff_snapshot *a = snapgen_rich(lt, 0), *b = snapgen_rich(lt, 1);
    char err[512] = "";
    CHECK_INT(diff_snapfile_write(path("a.ltsnap"), a, err, sizeof err), 0);
    CHECK_INT(diff_snapfile_write(path("b.ltsnap"), b, err, sizeof err), 0);
    diff_snapshot *ra = diff_snapfile_read(path("a.ltsnap"), fresh, err, sizeof err);
    diff_snapshot *rb = diff_snapfile_read(path("b.ltsnap"), fresh, err, sizeof err);
    CHECK(ra && rb);
    if (!ra || !rb) {
        fprintf(stderr, "read: %s\n", err);
        return;
    }
    check_same_snapshot(a, ra);
    check_same_snapshot(b, rb);
    for (int g = DIFF_GROUP_LINENO; g <= DIFF_GROUP_TRACEBACK; g++) {
        char *want = json_report(b, a, (diff_group)g), *got = json_report(rb, ra, (diff_group)g);
        CHECK_STR(got, want);
        free(want);
        free(got);
    }
    /* Read into the table that wrote it: the same ids come back. */
    diff_snapshot *same = diff_snapfile_read(path("a.ltsnap"), lt, err, sizeof err);
    const uint32_t *fa, *fs;
    uint32_t na, ns;
    diff_snapshot_trace(a, 0, NULL, NULL, &fa, &na);
    diff_snapshot_trace(same, 0, NULL, NULL, &fs, &ns);
    CHECK(na == ns && memcmp(fa, fs, na * sizeof *fa) == 0);
    diff_snapshot_free(same);
    diff_snapshot_free(a);
    diff_snapshot_free(b);
    diff_snapshot_free(ra);
    diff_snapshot_free(rb);
    diff_loctab_free(lt);
    diff_loctab_free(fresh);
}

static void write_bytes(const char *name, const void *p, size_t n)
{
    FILE *f = fopen(path(name), "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

static void test_json_form(void)
{
    diff_loctab *lt = diff_loctab_new();
    char err[512] = "";
    write_bytes("s.json", snapgen_json, sizeof snapgen_json - 1);
    diff_snapshot *s = diff_snapfile_read(path("s.json"), lt, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "json: %s\n", err);
        diff_loctab_free(lt);
        return;
    }
    CHECK_INT(diff_snapshot_ntraces(s), 4);
    CHECK_INT(diff_snapshot_frames_limit(s), 8);
    CHECK_STR(diff_snapshot_label(s), "py");
    CHECK_INT(diff_snapshot_pid(s), 12);
    int64_t size, count;
    const uint32_t *fr;
    uint32_t n;
    diff_snapshot_trace(s, 1, &size, &count, &fr, &n);
    CHECK(size == 66 && count == 1 && n == 1);            /* count defaults to 1 */
    diff_snapshot_trace(s, 0, &size, &count, &fr, &n);
    CHECK(size == 5000 && count == 2 && n == 2);
    CHECK_STR(diff_loctab_get(lt, fr[0])->file, "a.py");   /* most recent first */
    CHECK_STR(diff_loctab_get(lt, fr[0])->function, "f");
    CHECK(diff_loctab_get(lt, fr[1])->function == NULL);
    diff_snapshot_trace(s, 2, NULL, NULL, &fr, &n);
    CHECK_STR(diff_loctab_get(lt, fr[0])->file, "\xc3\xa9\xf0\x9f\x98\x80\t.py");
    CHECK(diff_loctab_get(lt, fr[0])->inlined);
    diff_snapshot_trace(s, 3, NULL, NULL, NULL, &n);
    CHECK_INT(n, 0);
    /* Without frames_limit, the deepest traceback stands for it. */
    static const char nolimit[] = " {\"traces\":[{\"size\":1,\"frames\":[{\"file\":\"a\",\"line\":1},{\"file\":\"b\",\"line\":2}]}]}";
    diff_snapshot *t = diff_snapfile_parse((const uint8_t *)nolimit, sizeof nolimit - 1, "n", lt, err, sizeof err);
    CHECK(t && diff_snapshot_frames_limit(t) == 2);
    diff_snapshot_free(t);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static uint8_t *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path(name), "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *p = malloc(*len);
    if (fread(p, 1, *len, f) != *len)
        *len = 0;
    fclose(f);
    return p;
}

/* Parses a buffer that must fail with a one-line error containing `want`. */
static void expect_error(const char *what, const void *data, size_t len, const char *want)
{
    diff_loctab *lt = diff_loctab_new();
    char err[512] = "";
    diff_snapshot *s = diff_snapfile_parse(data, len, "x.ltsnap", lt, err, sizeof err);
    if (s || !strstr(err, want) || strchr(err, '\n') || strncmp(err, "x.ltsnap: ", 10) != 0) {
        fprintf(stderr, "%s: got %s \"%s\", want error containing \"%s\"\n", what,
                s ? "a snapshot" : "error", err, want);
        check_failures++;
    }
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* After editing a table, fix the trailer so the structural check is what fails. */
static void fix_crc(uint8_t *p, size_t len)
{
    put32(p + len - 4, diff_crc32(0, p, len - 4));
}

static void test_bad_binary_files(void)
{
    size_t len;
    uint8_t *good = slurp("a.ltsnap", &len);
    uint8_t *b = malloc(len + 16);
    expect_error("empty", good, 0, "empty file");
    expect_error("garbage", "hello world", 11, "not a leaktop snapshot");
    expect_error("header only", good, 20, "truncated at byte 20 (header)");
    expect_error("truncated table", good, 80, "more than the 8 bytes left (truncated or corrupt)");
    expect_error("truncated traces", good, len - 30, "truncated at byte");
    expect_error("no trailer", good, len - 8, "truncated");
    expect_error("truncated trailer", good, len - 3, "truncated");
    memcpy(b, good, len);
    b[6] = 9;
    expect_error("version", b, len, "unsupported version 9");
    memcpy(b, good, len);
    b[16] ^= 0x40;                       /* elapsed_s */
    expect_error("bit flip", b, len, "checksum mismatch");
    memcpy(b, good, len);
    memcpy(b + len, "junk", 4);
    expect_error("trailing bytes", b, len + 4, "4 unexpected bytes");
    memcpy(b, good, len);
    put32(b + 28, 0xfffffff0);          /* nstrings */
    expect_error("huge string count", b, len, "claims 4294967280 entries");
    memcpy(b, good, len);
    put32(b + 24, 1000);                /* label index */
    fix_crc(b, len);
    expect_error("label index", b, len, "label string index 1000 out of range");
    memcpy(b, good, len);
    b[40] = 0xff, b[41] = 0xff;          /* ntraces */
    expect_error("huge trace count", b, len, "trace table claims");
    memcpy(b, good, len);
    put32(b + 36, 1);                   /* nframes: traces then index past it */
    expect_error("frame count lowered", b, len, "");
    free(b);
    free(good);
}

/* System names (the mangled symbols pprof exports keep) survive a file
 * (format version 3); a version 2 file, without them, still reads. */
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Rewrites a version 4 file as version 2 wrote it: a 56-byte header,
 * 36-byte frames, traces without births. */
static size_t downgrade_to_v2(const uint8_t *in, size_t len, uint8_t *out)
{
    uint32_t nstrings = get32(in + 28), nmodules = get32(in + 32), nframes = get32(in + 36);
    uint32_t ntraces = get32(in + 40);
    memcpy(out, in, 56);
    size_t pos = 72, o = 56, start = pos;
    for (uint32_t i = 0; i < nstrings; i++)
        pos += 4 + get32(in + pos);
    pos += (size_t)nmodules * 16;
    memcpy(out + o, in + start, pos - start);
    o += pos - start;
    for (uint32_t i = 0; i < nframes; i++, pos += 40, o += 36)
        memcpy(out + o, in + pos, 36);
    for (uint32_t i = 0; i < ntraces; i++) {
        size_t t = 20 + 4 * (size_t)get32(in + pos + 16);
        memcpy(out + o, in + pos, t);
        o += t;
        pos += t;
        pos += 4 + 20 * (size_t)get32(in + pos);
    }
    memcpy(out + o, in + pos, len - pos);
    o += len - pos;
    out[6] = 2, out[7] = 0;
    fix_crc(out, o);
    return o;
}

static void test_system_names_kept_and_version_2_read(void)
{
    diff_loctab *lt = diff_loctab_new(), *fresh = diff_loctab_new();
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    diff_frame f = { .function = "store::Shelf<int>::stock()", .file = "/src/store.cc", .line = 12,
                     .system_name = "_ZN5store5ShelfIiE5stockEv" };
    uint32_t id = diff_loctab_intern(lt, &f);
    CHECK(id != UINT32_MAX && diff_snapshot_add(s, 4096, 2, &id, 1) == 0);
    /* Births (version 4): the run, the epoch, and each trace's parts. */
    diff_birth births[2] = {{.epoch = 2, .size = 1024, .count = 1}, {.epoch = 5, .size = 2048, .count = 1}};
    CHECK_INT(diff_snapshot_add_births(s, births, 2), 0);
    diff_snapshot_set_epoch(s, 0x1234567890abcdefULL, 6, true);
    char err[512] = "";
    CHECK_INT(diff_snapfile_write(path("sys.ltsnap"), s, err, sizeof err), 0);
    diff_snapshot *r = diff_snapfile_read(path("sys.ltsnap"), fresh, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        check_same_snapshot(s, r);   /* system_name included */
        const diff_birth *b;
        CHECK_INT(diff_snapshot_births(r, 0, &b), 2);
        CHECK(b[0].epoch == 2 && b[0].size == 1024 && b[1].epoch == 5 && b[1].size == 2048 && b[1].count == 1);
        CHECK(diff_snapshot_run(r) == 0x1234567890abcdefULL && diff_snapshot_epoch(r) == 6);
        CHECK(diff_snapshot_births_known(r));
    }
    /* Births that claim more than their trace are refused. */
    size_t blen;
    uint8_t *bad = slurp("sys.ltsnap", &blen);
    for (size_t at = 0; at + 8 <= blen; at++) {
        if (get32(bad + at) == 5 && get32(bad + at + 4) == 2048) {   /* epoch 5, size 2048 */
            put32(bad + at + 4, 4096);
            break;
        }
    }
    fix_crc(bad, blen);
    expect_error("births beyond their trace", bad, blen, "births are not parts of it");
    free(bad);
    size_t len;
    uint8_t *v3 = slurp("sys.ltsnap", &len), *v2 = malloc(len);
    write_bytes("sys-v2.ltsnap", v2, downgrade_to_v2(v3, len, v2));
    diff_snapshot *old = diff_snapfile_read(path("sys-v2.ltsnap"), fresh, err, sizeof err);
    CHECK(old != NULL);
    if (!old)
        fprintf(stderr, "version 2: %s\n", err);
    if (old) {
        int64_t size, count;
        const uint32_t *fr;
        uint32_t n;
        diff_snapshot_trace(old, 0, &size, &count, &fr, &n);
        const diff_frame *g = n == 1 ? diff_loctab_get(diff_snapshot_locs(old), fr[0]) : NULL;
        CHECK(size == 4096 && count == 2 && g && strcmp(g->function, f.function) == 0 && g->line == 12);
        CHECK(g && g->system_name == NULL);
        const diff_birth *b;
        CHECK_INT(diff_snapshot_births(old, 0, &b), 0);   /* no births before version 4: not known */
        CHECK(!diff_snapshot_births_known(old) && diff_snapshot_epoch(old) == DIFF_EPOCH_NONE);
    }
    free(v3);
    free(v2);
    diff_snapshot_free(old);
    diff_snapshot_free(r);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
    diff_loctab_free(fresh);
}

static void test_bad_json(void)
{
    struct { const char *text, *want; } t[] = {
        { "{", "JSON error at byte 1" },
        { "{\"traces\":[{\"size\":-1}]}", "integer out of range" },
        { "{\"traces\":[{\"size\":1.5}]}", "expected an integer" },
        { "{\"traces\":[{\"count\":1}]}", "trace without \"size\"" },
        { "{\"frames_limit\":1}", "no \"traces\" array" },
        { "{\"traces\":[]} x", "unexpected data after" },
        { "{\"traces\":[],\"traces\":[]}", "duplicate key" },
        { "{\"traces\":[{\"size\":1,\"frames\":[{\"file\":\"a\\u0000\"}]}]}", "NUL character" },
        { "{\"traces\":[{\"size\":1,\"frames\":[{\"file\":\"\xff\"}]}]}", "invalid UTF-8" },
        { "{\"traces\":[{\"size\":1,\"frames\":[{\"file\":\"a\nb\"}]}]}", "control character" },
        { "{\"traces\":[{\"size\":9223372036854775807},{\"size\":1}]}", "overflows" },
        { "{\"traces\":[{\"size\":99999999999999999999}]}", "integer out of range" },
        { "{\"traces\":[{\"size\":01}]}", "expected ','" },
        { "{\"traces\":[,]}", "expected '{'" },
        { "{\"x\":[,],\"traces\":[]}", "expected a number" },
        { "{\"traces\":[{\"size\":1,\"frames\":[{\"line\":4294967296}]}]}", "integer out of range" },
        { "{'traces':[]}", "expected '\"'" },
        { "{\"traces\":[]", "expected ',' or '}'" },
        { "{\"x\":tru,\"traces\":[]}", "invalid literal" },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        expect_error(t[i].text, t[i].text, strlen(t[i].text), t[i].want);
    /* Nesting is bounded, never a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 32);
    size_t n = (size_t)sprintf(deep, "{\"x\":");
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    n += (size_t)sprintf(deep + n, ",\"traces\":[]}");
    expect_error("deep nesting", deep, n, "nested too deeply");
    free(deep);
}

static void test_bad_paths(void)
{
    diff_loctab *lt = diff_loctab_new();
    char err[512];
    CHECK(!diff_snapfile_read(path("missing.ltsnap"), lt, err, sizeof err));
    CHECK(strstr(err, "missing.ltsnap: No such file or directory") != NULL);
    CHECK(!diff_snapfile_read(dir, lt, err, sizeof err));
    CHECK(strstr(err, "is a directory") != NULL);
    write_bytes("empty", "", 0);
    CHECK(!diff_snapfile_read(path("empty"), lt, err, sizeof err));
    CHECK(strstr(err, "empty: empty file") != NULL);
    diff_snapshot *s = snapgen_rich(lt, 0);
    CHECK(diff_snapfile_write(path("no/such/dir/x.ltsnap"), s, err, sizeof err) < 0);
    CHECK(strstr(err, "No such file or directory") != NULL);
    diff_snapshot_free(s);
    diff_loctab_free(lt);
}

/* Reads `file` in a child that would die of SIGALRM on a hang and, outside
 * the sanitizers, of a 2 GiB address-space limit on an endless read: the
 * read must fail at once, with `want` in its message. */
static void expect_refused_quickly(const char *file, const char *want)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
#if !defined(__SANITIZE_ADDRESS__)
        struct rlimit rl = { (rlim_t)2 << 30, (rlim_t)2 << 30 };
        setrlimit(RLIMIT_AS, &rl);
#endif
        diff_loctab *lt = diff_loctab_new();
        char err[512] = "";
        diff_snapshot *s = diff_snapfile_read(file, lt, err, sizeof err);
        bool ok = !s && strstr(err, want) != NULL && !strchr(err, '\n');
        if (!ok)
            fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", file, s ? "a snapshot" : err, want);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: reader killed by signal %d\n", file, WTERMSIG(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* /dev/zero used to be read until memory ran out, a FIFO to hang. */
static void test_special_files(void)
{
    expect_refused_quickly("/dev/zero", "/dev/zero: is a character device, not a snapshot file");
    CHECK(mkfifo(path("fifo"), 0600) == 0);
    expect_refused_quickly(path("fifo"), "fifo: is a FIFO, not a snapshot file");
    /* A sparse file one byte over the limit: refused before any read. */
    int fd = open(path("big.ltsnap"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)DIFF_SNAPFILE_MAX_BYTES + 1) == 0);
    if (fd >= 0)
        close(fd);
    expect_refused_quickly(path("big.ltsnap"), "4294967297 bytes, larger than the 4294967296 bytes");
    unlink(path("big.ltsnap"));
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_binary_round_trip();
    test_system_names_kept_and_version_2_read();
    test_json_form();
    test_bad_binary_files();
    test_bad_json();
    test_bad_paths();
    test_special_files();
    int rc = check_report("test_snapfile");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
