/* snapfile.c: snapshot files: the versioned binary format of
 * docs/SNAPSHOT_FORMAT.md (writer and validating reader) and the entry
 * points that tell the binary and the JSON form apart by their first bytes.
 * The reader validates the whole file before it touches the loctab, and
 * never allocates more than a small multiple of the file's size. */
#include "diff_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    SNAP_VERSION = 4,       /* 2 added sample_bytes, 3 the frames' system names, 4 births
                               (retained since a baseline); older files still read */
    SNAP_HEADER = 72,       /* 56 before version 4 */
    SNAP_STRING_MIN = 4,    /* u32 length */
    SNAP_MODULE = 16,
    SNAP_FRAME = 40,        /* 36 before version 3 (no system name) */
    SNAP_FRAME_V2 = 36,
    SNAP_TRACE_MIN = 20,    /* i64 size, i64 count, u32 nframes (then, version 4, u32 nbirths) */
    SNAP_BIRTH = 20,        /* u32 epoch, i64 size, i64 count */
    SNAP_BIRTHS_KNOWN = 1,  /* header flags bit 0 */
    SNAP_TRAILER = 8,       /* "LTSE", u32 crc32 */
};
#define SNAP_MAGIC "LTSNAP"
#define SNAP_END "LTSE"
#define SNAP_NONE UINT32_MAX   /* string index of a NULL string */

/* ---- little-endian encoding ------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- writer -------------------------------------------------------------------- */

typedef struct writer {
    diff_vec    out;        /* uint8_t */
    diff_vec    strs;       /* const char * by index */
    diff_idset  strset;
    uint32_t   *loc_index;  /* per loc id: frame index, or UINT32_MAX */
    diff_vec    locs;       /* uint32_t loc ids by frame index */
    bool        oom;
} writer;

static bool wr_bytes(writer *w, const void *p, size_t n)
{
    uint8_t *dst = diff_vec_push(&w->out, n);
    if (!dst)
        return !(w->oom = true);
    if (n)
        memcpy(dst, p, n);
    return true;
}

static void wr_le(writer *w, uint64_t v, int n)
{
    uint8_t b[8];
    put_le(b, v, n);
    wr_bytes(w, b, (size_t)n);
}

static bool wstr_eq(const void *ctx, uint32_t id, const void *key)
{
    return strcmp(((const char *const *)((const diff_vec *)ctx)->data)[id], key) == 0;
}

/* The string's index in the table being built (SNAP_NONE for NULL). */
static uint32_t wr_string_index(writer *w, const char *s)
{
    if (!s)
        return SNAP_NONE;
    uint64_t h = diff_hash_bytes(s, strlen(s));
    uint32_t id = diff_idset_find(&w->strset, h, wstr_eq, &w->strs, s);
    if (id != UINT32_MAX)
        return id;
    const char **slot = diff_vec_push(&w->strs, 1);
    if (!slot || w->strs.len >= SNAP_NONE
        || diff_idset_add(&w->strset, h, (uint32_t)(w->strs.len - 1)) < 0) {
        w->oom = true;
        return SNAP_NONE;
    }
    *slot = s;
    return (uint32_t)(w->strs.len - 1);
}

/* Numbers the frames the snapshot uses, in first-use order. */
static void wr_collect_locs(writer *w, const diff_snapshot *s)
{
    for (size_t i = 0; i < diff_snapshot_ntraces(s); i++) {
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, NULL, NULL, &frames, &n);
        for (uint32_t k = 0; k < n; k++) {
            if (w->loc_index[frames[k]] != UINT32_MAX)
                continue;
            uint32_t *slot = diff_vec_push(&w->locs, 1);
            if (!slot) {
                w->oom = true;
                return;
            }
            *slot = frames[k];
            w->loc_index[frames[k]] = (uint32_t)(w->locs.len - 1);
        }
    }
}

static void wr_header(writer *w, const diff_snapshot *s, uint32_t label)
{
    union { double d; uint64_t u; } elapsed = { .d = diff_snapshot_elapsed(s) };
    wr_bytes(w, SNAP_MAGIC, 6);
    wr_le(w, SNAP_VERSION, 2);
    wr_le(w, diff_snapshot_frames_limit(s), 4);
    wr_le(w, (uint32_t)diff_snapshot_pid(s), 4);
    wr_le(w, elapsed.u, 8);
    wr_le(w, label, 4);
    wr_le(w, w->strs.len, 4);
    wr_le(w, diff_snapshot_nmodules(s), 4);
    wr_le(w, w->locs.len, 4);
    wr_le(w, diff_snapshot_ntraces(s), 8);
    wr_le(w, diff_snapshot_sample_bytes(s), 8);
    wr_le(w, diff_snapshot_run(s), 8);
    wr_le(w, diff_snapshot_epoch(s), 4);
    wr_le(w, diff_snapshot_births_known(s) ? SNAP_BIRTHS_KNOWN : 0, 4);
}

/* Interns every string first so the header can give the table's size. */
static void wr_index_strings(writer *w, const diff_snapshot *s, const diff_loctab *lt)
{
    for (size_t i = 0; i < diff_snapshot_nmodules(s); i++) {
        const char *path, *bid;
        diff_snapshot_module(s, i, &path, &bid, NULL);
        wr_string_index(w, path);
        wr_string_index(w, bid);
    }
    for (size_t i = 0; i < w->locs.len; i++) {
        const diff_frame *f = diff_loctab_get(lt, ((uint32_t *)w->locs.data)[i]);
        wr_string_index(w, f->function);
        wr_string_index(w, f->file);
        wr_string_index(w, f->module);
        wr_string_index(w, f->system_name);
    }
}

static void wr_tables(writer *w, const diff_snapshot *s, const diff_loctab *lt)
{
    for (size_t i = 0; i < w->strs.len; i++) {
        const char *str = ((const char **)w->strs.data)[i];
        size_t n = strlen(str);
        wr_le(w, n, 4);
        wr_bytes(w, str, n);
    }
    for (size_t i = 0; i < diff_snapshot_nmodules(s); i++) {
        const char *path, *bid;
        uint64_t bias;
        diff_snapshot_module(s, i, &path, &bid, &bias);
        wr_le(w, wr_string_index(w, path), 4);
        wr_le(w, wr_string_index(w, bid), 4);
        wr_le(w, bias, 8);
    }
    for (size_t i = 0; i < w->locs.len; i++) {
        const diff_frame *f = diff_loctab_get(lt, ((uint32_t *)w->locs.data)[i]);
        wr_le(w, wr_string_index(w, f->function), 4);
        wr_le(w, wr_string_index(w, f->file), 4);
        wr_le(w, f->line, 4);
        wr_le(w, wr_string_index(w, f->module), 4);
        wr_le(w, f->address, 8);
        wr_le(w, f->offset, 8);
        wr_le(w, f->inlined ? 1 : 0, 4);
        wr_le(w, wr_string_index(w, f->system_name), 4);
    }
}

static void wr_traces(writer *w, const diff_snapshot *s)
{
    for (size_t i = 0; i < diff_snapshot_ntraces(s); i++) {
        int64_t size, count;
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &size, &count, &frames, &n);
        wr_le(w, (uint64_t)size, 8);
        wr_le(w, (uint64_t)count, 8);
        wr_le(w, n, 4);
        for (uint32_t k = 0; k < n; k++)
            wr_le(w, w->loc_index[frames[k]], 4);
        const diff_birth *b;
        uint32_t nb = diff_snapshot_births(s, i, &b);
        wr_le(w, nb, 4);
        for (uint32_t k = 0; k < nb; k++) {
            wr_le(w, b[k].epoch, 4);
            wr_le(w, (uint64_t)b[k].size, 8);
            wr_le(w, (uint64_t)b[k].count, 8);
        }
    }
}

static int wr_fill(FILE *f, void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const diff_vec *out = ctx;
    return fwrite(out->data, 1, out->len, f) == out->len ? 0 : -(errno ? errno : EIO);
}

static int wr_file(const char *path, const diff_vec *out, char *err, size_t errlen)
{
    if (out->len > DIFF_SNAPFILE_MAX_BYTES) {
        diff_errf(err, errlen, "%s: %zu bytes, larger than the %" PRIu64
                  " bytes a snapshot file may hold", path, out->len,
                  (uint64_t)DIFF_SNAPFILE_MAX_BYTES);
        return -EFBIG;
    }
    return diff_write_file(path, wr_fill, (void *)out, err, errlen);
}

static void writer_release(writer *w)
{
    diff_vec_release(&w->out);
    diff_vec_release(&w->strs);
    diff_idset_release(&w->strset);
    diff_vec_release(&w->locs);
    free(w->loc_index);
}

int diff_snapfile_write(const char *path, const diff_snapshot *s, char *err, size_t errlen)
{
    writer w = { 0 };
    diff_vec_init(&w.out, 1);
    diff_vec_init(&w.strs, sizeof(const char *));
    diff_vec_init(&w.locs, sizeof(uint32_t));
    diff_idset_init(&w.strset);
    const diff_loctab *lt = diff_snapshot_locs(s);
    size_t nlocs = diff_loctab_count(lt);
    w.loc_index = malloc((nlocs ? nlocs : 1) * sizeof *w.loc_index);
    w.oom = !w.loc_index;
    if (!w.oom) {
        memset(w.loc_index, 0xff, (nlocs ? nlocs : 1) * sizeof *w.loc_index);
        wr_collect_locs(&w, s);
        uint32_t label = wr_string_index(&w, diff_snapshot_label(s));
        wr_index_strings(&w, s, lt);
        wr_header(&w, s, label);
        wr_tables(&w, s, lt);
        wr_traces(&w, s);
        wr_bytes(&w, SNAP_END, 4);
        wr_le(&w, diff_crc32(0, w.out.data, w.out.len), 4);
    }
    int rc;
    if (w.oom) {
        diff_errf(err, errlen, "%s: out of memory", path);
        rc = -ENOMEM;
    } else {
        rc = wr_file(path, &w.out, err, errlen);
    }
    writer_release(&w);
    return rc;
}

/* ---- reader: pass 1 validates, pass 2 builds ------------------------------------ */

typedef struct reader {
    const uint8_t *p;
    size_t         len, pos;
    const char    *name;
    const char    *section;
    char          *err;
    size_t         errlen;
    bool           failed;
} reader;

typedef struct snap_header {
    uint32_t version, frames_limit, label, nstrings, nmodules, nframes;
    int32_t  pid;
    double   elapsed;
    uint64_t ntraces;
    uint64_t sample_bytes;  /* version 2; 0 = exact */
    uint32_t frame_size;    /* SNAP_FRAME, or SNAP_FRAME_V2 before version 3 */
    uint64_t run;           /* version 4: births (else none, and not known) */
    uint32_t epoch, flags;
} snap_header;

typedef struct span {
    size_t   off;
    uint32_t len;
} span;

static bool rd_fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool rd_fail(reader *r, const char *fmt, ...)
{
    if (r->failed)
        return false;
    r->failed = true;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    diff_errf(r->err, r->errlen, "%s: %s", r->name, what);
    return false;
}

static bool rd_need(reader *r, size_t n)
{
    if (r->failed)
        return false;
    if (n > r->len - r->pos)
        return rd_fail(r, "truncated at byte %zu (%s)", r->len, r->section);
    return true;
}

static uint64_t rd_le(reader *r, int n)
{
    if (!rd_need(r, (size_t)n))
        return 0;
    uint64_t v = get_le(r->p + r->pos, n);
    r->pos += (size_t)n;
    return v;
}

/* A table of `count` records of at least `min` bytes each must fit in what
 * is left: a length field never makes us allocate past the file's size. */
static bool rd_count_fits(reader *r, uint64_t count, size_t min)
{
    if (r->failed)
        return false;
    if (count > (r->len - r->pos) / min)
        return rd_fail(r, "%s claims %" PRIu64 " entries, more than the %zu bytes left "
                       "(truncated or corrupt)", r->section, count, r->len - r->pos);
    return true;
}

static bool rd_header(reader *r, snap_header *h)
{
    r->section = "header";
    if (r->len < 6 || memcmp(r->p, SNAP_MAGIC, 6) != 0)
        return rd_fail(r, "not a leaktop snapshot");
    r->pos = 6;
    h->version = (uint32_t)rd_le(r, 2);
    if (!r->failed && (h->version < 1 || h->version > SNAP_VERSION))
        return rd_fail(r, "unsupported version %" PRIu32 " (this leaktop reads version %d)",
                       h->version, SNAP_VERSION);
    h->frames_limit = (uint32_t)rd_le(r, 4);
    h->pid = (int32_t)(uint32_t)rd_le(r, 4);
    union { double d; uint64_t u; } e = { .u = rd_le(r, 8) };
    h->elapsed = e.d;
    h->label = (uint32_t)rd_le(r, 4);
    h->nstrings = (uint32_t)rd_le(r, 4);
    h->nmodules = (uint32_t)rd_le(r, 4);
    h->nframes = (uint32_t)rd_le(r, 4);
    h->ntraces = rd_le(r, 8);
    if (h->version >= 2)
        h->sample_bytes = rd_le(r, 8);
    h->frame_size = h->version >= 3 ? SNAP_FRAME : SNAP_FRAME_V2;
    h->epoch = DIFF_EPOCH_NONE;
    if (h->version >= 4) {
        h->run = rd_le(r, 8);
        h->epoch = (uint32_t)rd_le(r, 4);
        h->flags = (uint32_t)rd_le(r, 4);
        if (!r->failed && (h->flags & ~(uint32_t)SNAP_BIRTHS_KNOWN))
            return rd_fail(r, "unknown header flags 0x%" PRIx32, h->flags);
    }
    return !r->failed;
}

static bool rd_string_ref(reader *r, uint32_t idx, uint32_t nstrings, const char *what)
{
    if (r->failed)
        return false;
    if (idx != SNAP_NONE && idx >= nstrings)
        return rd_fail(r, "%s string index %" PRIu32 " out of range (%" PRIu32 " strings)",
                       what, idx, nstrings);
    return true;
}

static bool rd_strings(reader *r, const snap_header *h, span *spans)
{
    r->section = "string table";
    for (uint32_t i = 0; i < h->nstrings; i++) {
        uint32_t n = (uint32_t)rd_le(r, 4);
        if (!rd_need(r, n))
            return false;
        if (memchr(r->p + r->pos, '\0', n))
            return rd_fail(r, "string %" PRIu32 " contains a NUL byte", i);
        spans[i] = (span){ r->pos, n };
        r->pos += n;
    }
    return rd_string_ref(r, h->label, h->nstrings, "label");
}

static bool rd_modules(reader *r, const snap_header *h)
{
    r->section = "module table";
    if (!rd_count_fits(r, h->nmodules, SNAP_MODULE))
        return false;
    for (uint32_t i = 0; i < h->nmodules; i++) {
        rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "module path");
        rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "module build-id");
        rd_le(r, 8);
    }
    return !r->failed;
}

static bool rd_frames(reader *r, const snap_header *h)
{
    r->section = "frame table";
    if (!rd_count_fits(r, h->nframes, h->frame_size))
        return false;
    for (uint32_t i = 0; i < h->nframes && !r->failed; i++) {
        rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "function");
        rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "file");
        rd_le(r, 4);
        rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "module");
        rd_le(r, 16);
        uint32_t flags = (uint32_t)rd_le(r, 4);
        if (!r->failed && flags > 1)
            return rd_fail(r, "frame %" PRIu32 " has unknown flags 0x%" PRIx32, i, flags);
        if (h->frame_size == SNAP_FRAME)
            rd_string_ref(r, (uint32_t)rd_le(r, 4), h->nstrings, "system name");
    }
    return !r->failed;
}

/* A trace's births: epochs from 1, figures >= 0 that add up to no more
 * than the trace itself (they are parts of it). */
static bool rd_births(reader *r, uint64_t i, int64_t size, int64_t count)
{
    uint32_t nb = (uint32_t)rd_le(r, 4);
    if (!rd_count_fits(r, nb, SNAP_BIRTH))
        return false;
    int64_t bsize = 0, bcount = 0;
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t epoch = (uint32_t)rd_le(r, 4);
        int64_t s = (int64_t)rd_le(r, 8), c = (int64_t)rd_le(r, 8);
        if (r->failed)
            return false;
        if (epoch == 0 || s < 0 || c < 0 || s > size - bsize || c > count - bcount)
            return rd_fail(r, "trace %" PRIu64 " births are not parts of it (epoch %" PRIu32 ")", i, epoch);
        bsize += s;
        bcount += c;
    }
    return true;
}

static bool rd_traces(reader *r, const snap_header *h)
{
    r->section = "trace table";
    if (!rd_count_fits(r, h->ntraces, SNAP_TRACE_MIN))
        return false;
    int64_t tsize = 0, tcount = 0;
    for (uint64_t i = 0; i < h->ntraces && !r->failed; i++) {
        int64_t size = (int64_t)rd_le(r, 8), count = (int64_t)rd_le(r, 8);
        uint32_t n = (uint32_t)rd_le(r, 4);
        if (r->failed)
            return false;
        if (size < 0 || count < 0)
            return rd_fail(r, "trace %" PRIu64 " has a negative size or count", i);
        if (__builtin_add_overflow(tsize, size, &tsize) || __builtin_add_overflow(tcount, count, &tcount))
            return rd_fail(r, "total size or count overflows at trace %" PRIu64, i);
        if (!rd_count_fits(r, n, 4))
            return false;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t fi = (uint32_t)rd_le(r, 4);
            if (fi >= h->nframes)
                return rd_fail(r, "trace %" PRIu64 " frame index %" PRIu32 " out of range (%" PRIu32 " frames)",
                               i, fi, h->nframes);
        }
        if (h->version >= 4 && !rd_births(r, i, size, count))
            return false;
    }
    return !r->failed;
}

static bool rd_trailer(reader *r)
{
    r->section = "trailer";
    size_t body = r->pos;
    if (!rd_need(r, SNAP_TRAILER))
        return false;
    if (memcmp(r->p + r->pos, SNAP_END, 4) != 0)
        return rd_fail(r, "no end marker at byte %zu (corrupt table counts?)", r->pos);
    r->pos += 4;
    uint32_t want = (uint32_t)rd_le(r, 4);
    if (r->pos != r->len)
        return rd_fail(r, "%zu unexpected bytes after the end marker", r->len - r->pos);
    if (diff_crc32(0, r->p, body + 4) != want)
        return rd_fail(r, "checksum mismatch: the file is corrupt");
    return true;
}

/* Pass 2 helpers: the structure is known good here. */
typedef struct builder {
    const uint8_t *p;
    const span    *spans;
    const char   **strs;   /* interned, by index */
    uint32_t      *locids; /* by frame index */
} builder;

static const char *bd_str(const builder *b, uint32_t idx)
{
    return idx == SNAP_NONE ? NULL : b->strs[idx];
}

static int bd_strings(builder *b, diff_loctab *lt, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        b->strs[i] = diff_loctab_intern_str(lt, (const char *)b->p + b->spans[i].off, b->spans[i].len);
        if (!b->strs[i])
            return -ENOMEM;
    }
    return 0;
}

static size_t bd_modules(builder *b, diff_snapshot *s, size_t pos, uint32_t n, int *rc)
{
    for (uint32_t i = 0; i < n && !*rc; i++, pos += SNAP_MODULE)
        *rc = diff_snapshot_add_module(s, bd_str(b, (uint32_t)get_le(b->p + pos, 4)),
                                       bd_str(b, (uint32_t)get_le(b->p + pos + 4, 4)),
                                       get_le(b->p + pos + 8, 8));
    return pos;
}

static size_t bd_frames(builder *b, diff_loctab *lt, size_t pos, uint32_t n, uint32_t size, int *rc)
{
    for (uint32_t i = 0; i < n && !*rc; i++, pos += size) {
        const uint8_t *q = b->p + pos;
        diff_frame f = {
            .function = bd_str(b, (uint32_t)get_le(q, 4)),
            .file = bd_str(b, (uint32_t)get_le(q + 4, 4)),
            .line = (uint32_t)get_le(q + 8, 4),
            .module = bd_str(b, (uint32_t)get_le(q + 12, 4)),
            .address = get_le(q + 16, 8),
            .offset = get_le(q + 24, 8),
            .inlined = get_le(q + 32, 4) & 1,
            .system_name = size == SNAP_FRAME ? bd_str(b, (uint32_t)get_le(q + 36, 4)) : NULL,
        };
        b->locids[i] = diff_loctab_intern(lt, &f);
        if (b->locids[i] == UINT32_MAX)
            *rc = -ENOMEM;
    }
    return pos;
}

/* A trace's births (version 4), known good. */
static size_t bd_births(builder *b, diff_snapshot *s, size_t pos, diff_vec *tmp, int *rc)
{
    uint32_t nb = (uint32_t)get_le(b->p + pos, 4);
    pos += 4;
    tmp->len = 0;
    diff_birth *d = nb ? diff_vec_push(tmp, nb) : NULL;
    if (nb && !d) {
        *rc = -ENOMEM;
        return pos;
    }
    for (uint32_t k = 0; k < nb; k++, pos += SNAP_BIRTH)
        d[k] = (diff_birth){.epoch = (uint32_t)get_le(b->p + pos, 4), .size = (int64_t)get_le(b->p + pos + 4, 8),
                            .count = (int64_t)get_le(b->p + pos + 12, 8)};
    *rc = diff_snapshot_add_births(s, d, nb);
    return pos;
}

static int bd_traces(builder *b, diff_snapshot *s, size_t pos, uint64_t n, uint32_t version)
{
    diff_vec ids, births;
    diff_vec_init(&ids, sizeof(uint32_t));
    diff_vec_init(&births, sizeof(diff_birth));
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        int64_t size = (int64_t)get_le(b->p + pos, 8), count = (int64_t)get_le(b->p + pos + 8, 8);
        uint32_t nf = (uint32_t)get_le(b->p + pos + 16, 4);
        pos += SNAP_TRACE_MIN;
        ids.len = 0;
        uint32_t *dst = diff_vec_push(&ids, nf);
        if (!dst && nf) {
            rc = -ENOMEM;
            break;
        }
        for (uint32_t k = 0; k < nf; k++, pos += 4)
            dst[k] = b->locids[get_le(b->p + pos, 4)];
        rc = diff_snapshot_add(s, size, count, dst, nf);
        if (!rc && version >= 4)
            pos = bd_births(b, s, pos, &births, &rc);
    }
    diff_vec_release(&ids);
    diff_vec_release(&births);
    return rc;
}

static diff_snapshot *build(const uint8_t *p, const snap_header *h, const span *spans,
                            diff_loctab *lt, size_t tables)
{
    builder b = { .p = p, .spans = spans };
    b.strs = malloc((h->nstrings ? h->nstrings : 1) * sizeof *b.strs);
    b.locids = malloc((h->nframes ? h->nframes : 1) * sizeof *b.locids);
    diff_snapshot *s = diff_snapshot_new(lt, h->frames_limit);
    int rc = b.strs && b.locids && s ? 0 : -ENOMEM;
    if (!rc)
        rc = bd_strings(&b, lt, h->nstrings);
    size_t pos = rc ? 0 : bd_modules(&b, s, tables, h->nmodules, &rc);
    if (!rc)
        pos = bd_frames(&b, lt, pos, h->nframes, h->frame_size, &rc);
    if (!rc)
        rc = bd_traces(&b, s, pos, h->ntraces, h->version);
    if (!rc) {
        diff_snapshot_set_epoch(s, h->run, h->epoch, (h->flags & SNAP_BIRTHS_KNOWN) != 0);
        diff_snapshot_set_meta(s, h->pid, h->elapsed);
        diff_snapshot_set_sample_bytes(s, h->sample_bytes);
        diff_snapshot_set_label(s, bd_str(&b, h->label));
    }
    free(b.strs);
    free(b.locids);
    if (rc) {
        diff_snapshot_free(s);
        return NULL;
    }
    return s;
}

diff_snapshot *diff_snapbin_parse(const uint8_t *data, size_t len, const char *name,
                                  diff_loctab *locs, char *err, size_t errlen)
{
    reader r = { .p = data, .len = len, .name = name, .err = err, .errlen = errlen };
    snap_header h = { 0 };
    if (!rd_header(&r, &h))
        return NULL;
    r.section = "string table";
    if (!rd_count_fits(&r, h.nstrings, SNAP_STRING_MIN))
        return NULL;
    span *spans = malloc((h.nstrings ? h.nstrings : 1) * sizeof *spans);
    if (!spans) {
        rd_fail(&r, "out of memory");
        return NULL;
    }
    diff_snapshot *s = NULL;
    size_t tables = 0;
    if (rd_strings(&r, &h, spans)) {
        tables = r.pos;
        if (rd_modules(&r, &h) && rd_frames(&r, &h) && rd_traces(&r, &h) && rd_trailer(&r)) {
            s = build(data, &h, spans, locs, tables);
            if (!s)
                rd_fail(&r, "out of memory");
        }
    }
    free(spans);
    return s;
}

/* ---- entry points ----------------------------------------------------------------- */

diff_snapshot *diff_snapfile_parse(const uint8_t *data, size_t len, const char *name,
                                   diff_loctab *locs, char *err, size_t errlen)
{
    name = name ? name : "snapshot";
    if (!locs) {
        diff_errf(err, errlen, "%s: no location table", name);
        return NULL;
    }
    if (len == 0) {
        diff_errf(err, errlen, "%s: empty file", name);
        return NULL;
    }
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    if (i < len && data[i] == '{')
        return diff_snapjson_parse(data, len, name, locs, err, errlen);
    return diff_snapbin_parse(data, len, name, locs, err, errlen);
}

/* Reads a regular file of at most DIFF_SNAPFILE_MAX_BYTES: the size is
 * known up front, but the loop still stops at the cap should the file grow
 * while it is read. */
static uint8_t *slurp(int fd, size_t size_hint, size_t *len, int *rc)
{
    diff_vec buf;
    diff_vec_init(&buf, 1);
    size_t step = size_hint < 65536 ? 65536 : size_hint + 1;
    for (;;) {
        if (buf.len > DIFF_SNAPFILE_MAX_BYTES) {
            *rc = -EFBIG;
            break;
        }
        if (diff_vec_reserve(&buf, step) < 0) {
            *rc = -ENOMEM;
            break;
        }
        step = 65536;
        ssize_t got = read(fd, (uint8_t *)buf.data + buf.len, buf.cap - buf.len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *rc = got < 0 ? -errno : 0;
            break;
        }
        buf.len += (size_t)got;
    }
    if (*rc) {
        diff_vec_release(&buf);
        return NULL;
    }
    *len = buf.len;
    return buf.data ? buf.data : calloc(1, 1);
}

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "is a directory"
         : S_ISFIFO(mode) ? "is a FIFO"
         : S_ISCHR(mode) ? "is a character device"
         : S_ISBLK(mode) ? "is a block device"
         : S_ISSOCK(mode) ? "is a socket"
         : "is not a regular file";
}

/* Opens a snapshot file for reading, refusing anything but a regular file
 * of at most the size limit. O_NONBLOCK: opening a FIFO must not wait for a
 * writer (it is refused right after, from fstat). */
static int open_regular(const char *path, size_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        diff_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        diff_errf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        diff_errf(err, errlen, "%s: %s, not a snapshot file", path, file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > DIFF_SNAPFILE_MAX_BYTES) {
        diff_errf(err, errlen, "%s: %" PRIu64 " bytes, larger than the %" PRIu64
                  " bytes a snapshot file may hold", path, (uint64_t)st.st_size,
                  (uint64_t)DIFF_SNAPFILE_MAX_BYTES);
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return fd;
}

diff_snapshot *diff_snapfile_read(const char *path, diff_loctab *locs, char *err, size_t errlen)
{
    size_t size = 0;
    int fd = open_regular(path, &size, err, errlen);
    if (fd < 0)
        return NULL;
    size_t len = 0;
    int rc = 0;
    uint8_t *data = slurp(fd, size, &len, &rc);
    close(fd);
    if (rc == -EFBIG) {
        diff_errf(err, errlen, "%s: grew past the %" PRIu64 " bytes a snapshot file may hold",
                  path, (uint64_t)DIFF_SNAPFILE_MAX_BYTES);
        return NULL;
    }
    if (!data) {
        diff_errf(err, errlen, "%s: %s", path, strerror(-rc));
        return NULL;
    }
    diff_snapshot *s = diff_snapfile_parse(data, len, path, locs, err, errlen);
    free(data);
    return s;
}
