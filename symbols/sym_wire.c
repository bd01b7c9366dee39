/* sym_wire.c: the protocol between the frontend and a DWARF reader child:
 * the child serialises the unit index or one unit's tables, the parent
 * checks every byte of the answer before using any (a child may be killed
 * mid-answer or, reading a hostile file, write nonsense). Layout in
 * sym_source.h. */
#include "sym_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYM_WIRE_MAGIC 0x4c454b544f505359ull /* "YSPOTKEL" */

/* ---- child: serialise ---- */

typedef struct sym_out {
    uint8_t *buf;
    size_t   len, cap;
    bool     oom;   /* sticky: the answer is not sent */
} sym_out;

static void sym_out_put(sym_out *w, const void *p, size_t n)
{
    if (w->oom || sym_grow((void **)&w->buf, &w->cap, w->len + n, 1) != 0) {
        w->oom = true;
        return;
    }
    if (n > 0)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void sym_out_u64(sym_out *w, uint64_t v)
{
    sym_out_put(w, &v, sizeof v);
}

static void sym_out_str(sym_out *w, const char *s)
{
    uint64_t n = s != NULL ? strlen(s) : UINT64_MAX;
    sym_out_u64(w, n);
    if (s != NULL)
        sym_out_put(w, s, (size_t)n);
}

static uint64_t sym_file_index(const sym_tables *t, const char *file)
{
    for (size_t f = 0; file != NULL && f < t->nfiles; f++)
        if (t->files[f] == file)
            return f;
    return UINT64_MAX;
}

/* Files by index; scope strings by value (call_file as a file index);
 * ranges as they are. */
static void sym_put_tables(sym_out *w, const sym_tables *t)
{
    sym_out_u64(w, t->nfiles);
    for (size_t i = 0; i < t->nfiles; i++)
        sym_out_str(w, t->files[i]);
    sym_out_u64(w, t->nlines);
    sym_out_put(w, t->lines, t->nlines * sizeof *t->lines);
    sym_out_u64(w, t->nscopes);
    for (size_t i = 0; i < t->nscopes; i++) {
        sym_scope s = t->scopes[i];
        sym_out_str(w, s.name);
        sym_out_u64(w, sym_file_index(t, s.call_file));
        s.name = NULL;
        s.call_file = NULL;
        sym_out_put(w, &s, sizeof s);
    }
    sym_out_u64(w, t->nfuncs);
    sym_out_put(w, t->funcs, t->nfuncs * sizeof *t->funcs);
    sym_out_u64(w, t->ninl);
    sym_out_put(w, t->inl, t->ninl * sizeof *t->inl);
}

/* A reader that ran out of memory answers a broken unit rather than a
 * part of one: the parent then keeps no half-read tables. */
static void sym_put_body(sym_out *w, sym_dwarf *d, uint64_t op, uint64_t arg)
{
    if (op == SYM_REQ_UNIT) {
        sym_tables t = {0};
        sym_dwarf_load_unit(d, arg, &t);
        if (t.oom)
            w->oom = true;
        else
            sym_put_tables(w, &t);
        sym_tables_clear(&t);
        return;
    }
    size_t n = 0;
    bool complete = false;
    sym_cu_range *r = sym_dwarf_index(d, op == SYM_REQ_FULL_INDEX, &n,
                                      &complete);
    sym_out_u64(w, complete);
    sym_out_u64(w, n);
    sym_out_put(w, r, n * sizeof *r);
    free(r);
}

static bool sym_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

bool sym_wire_read_request(int fd, uint64_t rq[2])
{
    size_t got = 0;
    while (got < 2 * sizeof(uint64_t)) {
        ssize_t k = read(fd, (uint8_t *)rq + got, 2 * sizeof(uint64_t) - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        got += (size_t)k;
    }
    return true;
}

int sym_wire_write_answer(int fd, sym_dwarf *d, const uint64_t rq[2],
                          const char *msg)
{
    sym_out w = {0};
    sym_out_u64(&w, 0); /* length, filled below */
    sym_out_u64(&w, SYM_WIRE_MAGIC);
    sym_out_u64(&w, rq[0]);
    sym_out_u64(&w, d != NULL ? 0 : 1);
    if (d != NULL)
        sym_put_body(&w, d, rq[0], rq[1]);
    sym_out_str(&w, msg);
    sym_out_u64(&w, SYM_WIRE_MAGIC);
    int rc = w.oom ? -ENOMEM : 0;
    if (rc == 0) {
        uint64_t len = w.len - sizeof len;
        memcpy(w.buf, &len, sizeof len);
        if (!sym_write_all(fd, w.buf, w.len))
            rc = -EIO;
    }
    free(w.buf);
    return rc;
}

/* ---- parent: read and check ---- */

typedef struct sym_in {
    const uint8_t *p, *end;
    bool           bad;
    bool           oom;
} sym_in;

static const void *sym_in_take(sym_in *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const void *q = r->p;
    r->p += n;
    return q;
}

static uint64_t sym_in_u64(sym_in *r)
{
    uint64_t v = 0;
    const void *q = sym_in_take(r, sizeof v);
    if (q != NULL)
        memcpy(&v, q, sizeof v);
    return v;
}

static const char *sym_in_str(sym_in *r, sym_strings *strings)
{
    uint64_t n = sym_in_u64(r);
    if (n == UINT64_MAX || r->bad)
        return NULL;
    const char *s = sym_in_take(r, n);
    if (s == NULL)
        return NULL;
    const char *in = sym_intern_n(strings, s, (size_t)n);
    if (in == NULL)
        r->oom = r->bad = true;
    return in;
}

/* A count of elements of `size` bytes that the stream can hold. */
static size_t sym_in_count(sym_in *r, size_t size)
{
    uint64_t n = sym_in_u64(r);
    if (r->bad || n > (uint64_t)(r->end - r->p) / (size ? size : 1)) {
        r->bad = true;
        return 0;
    }
    return (size_t)n;
}

static void *sym_in_array(sym_in *r, size_t n, size_t size)
{
    const void *q = sym_in_take(r, n * size);
    if (q == NULL || n == 0)
        return NULL;
    void *a = sym_alloc(n * size);
    if (a == NULL) {
        r->oom = r->bad = true;
        return NULL;
    }
    memcpy(a, q, n * size);
    return a;
}

static void *sym_in_zeroed(sym_in *r, size_t n, size_t size)
{
    if (r->bad)
        return NULL;
    void *a = sym_alloc_array(n, size);
    if (a == NULL)
        r->oom = r->bad = true;
    return a;
}

/* Indexes are checked so that lookups can trust them. */
static bool sym_tables_valid(const sym_tables *t)
{
    for (size_t i = 0; i < t->nlines; i++) {
        uint32_t f = t->lines[i].file;
        if (f >= t->nfiles && f != SYM_LINE_END && f != SYM_LINE_END - 1)
            return false;
        if (i > 0 && t->lines[i].addr < t->lines[i - 1].addr)
            return false; /* lookups bisect */
    }
    for (size_t i = 0; i < t->nscopes; i++) {
        const sym_scope *s = &t->scopes[i];
        if (s->parent >= (int64_t)i || s->parent < -1 ||
            (size_t)s->first_inl + s->ninl > t->ninl)
            return false;
    }
    for (size_t i = 0; i < t->nfuncs; i++)
        if (t->funcs[i].scope >= t->nscopes || t->funcs[i].func >= t->nscopes)
            return false;
    for (size_t i = 0; i < t->ninl; i++)
        if (t->inl[i].scope >= t->nscopes || t->inl[i].func >= t->nscopes)
            return false;
    return true;
}

static bool sym_read_scopes(sym_in *r, sym_tables *t, sym_strings *strings)
{
    size_t min = 2 * sizeof(uint64_t) + sizeof(sym_scope);
    t->nscopes = sym_in_count(r, min);
    t->scopes = sym_in_zeroed(r, t->nscopes, sizeof *t->scopes);
    for (size_t i = 0; i < t->nscopes && !r->bad; i++) {
        const char *name = sym_in_str(r, strings);
        uint64_t call_file = sym_in_u64(r);
        const void *q = sym_in_take(r, sizeof(sym_scope));
        if (q == NULL)
            break;
        memcpy(&t->scopes[i], q, sizeof(sym_scope));
        t->scopes[i].name = name;
        t->scopes[i].call_file = call_file < t->nfiles ? t->files[call_file]
                                                       : NULL;
    }
    return !r->bad;
}

static bool sym_read_tables(sym_in *r, sym_tables *t, sym_strings *strings)
{
    t->nfiles = sym_in_count(r, sizeof(uint64_t));
    t->files = sym_in_zeroed(r, t->nfiles, sizeof *t->files);
    for (size_t i = 0; i < t->nfiles && !r->bad; i++)
        t->files[i] = sym_in_str(r, strings);
    t->nlines = sym_in_count(r, sizeof(sym_line));
    t->lines = sym_in_array(r, t->nlines, sizeof(sym_line));
    if (!sym_read_scopes(r, t, strings))
        return false;
    t->nfuncs = sym_in_count(r, sizeof(sym_range));
    t->funcs = sym_in_array(r, t->nfuncs, sizeof(sym_range));
    t->ninl = sym_in_count(r, sizeof(sym_range));
    t->inl = sym_in_array(r, t->ninl, sizeof(sym_range));
    t->files_cap = t->nfiles;
    t->lines_cap = t->nlines;
    t->scopes_cap = t->nscopes;
    t->funcs_cap = t->nfuncs;
    t->inl_cap = t->ninl;
    return !r->bad && sym_tables_valid(t);
}

static sym_cu_range *sym_read_index(sym_in *r, size_t *n, bool *complete)
{
    *complete = sym_in_u64(r) != 0;
    *n = sym_in_count(r, sizeof(sym_cu_range));
    sym_cu_range *ranges = sym_in_array(r, *n, sizeof(sym_cu_range));
    for (size_t i = 0; ranges != NULL && i < *n; i++)
        if (ranges[i].lo >= ranges[i].hi)
            r->bad = true;
    return ranges;
}

/* The envelope around a body: false when broken; *status 1 when the
 * child's reader could not open (it has exited then). */
static bool sym_in_head(sym_in *r, uint64_t op, uint64_t *status)
{
    if (sym_in_u64(r) != SYM_WIRE_MAGIC || sym_in_u64(r) != op)
        return false;
    *status = sym_in_u64(r);
    return !r->bad && *status <= 1;
}

static bool sym_in_tail(sym_in *r, sym_strings *strings,
                        const sym_load_ctx *ctx)
{
    const char *msg = sym_in_str(r, strings);
    bool ok = sym_in_u64(r) == SYM_WIRE_MAGIC && !r->bad &&
              r->p == r->end;
    if (ok && msg != NULL)
        ctx->report(ctx->report_ctx, "%s", msg);
    return ok;
}

static sym_wire_result sym_in_result(const sym_in *r, bool ok,
                                     uint64_t status)
{
    if (r->oom)
        return SYM_WIRE_NOMEM;
    if (!ok)
        return SYM_WIRE_BROKEN;
    return status == 0 ? SYM_WIRE_OK : SYM_WIRE_NOT_OPENED;
}

sym_wire_result sym_wire_parse_index(const uint8_t *buf, size_t len,
                                     uint64_t op, sym_strings *strings,
                                     const sym_load_ctx *ctx,
                                     sym_cu_range **ranges, size_t *n,
                                     bool *complete)
{
    sym_in in = {buf, buf + len, false, false};
    uint64_t status = 1;
    *ranges = NULL;
    *n = 0;
    bool ok = sym_in_head(&in, op, &status);
    if (ok && status == 0)
        *ranges = sym_read_index(&in, n, complete);
    ok = ok && sym_in_tail(&in, strings, ctx);
    sym_wire_result res = sym_in_result(&in, ok, status);
    if (res != SYM_WIRE_OK) {
        free(*ranges);
        *ranges = NULL;
        *n = 0;
    }
    return res;
}

sym_wire_result sym_wire_parse_unit(const uint8_t *buf, size_t len,
                                    sym_strings *strings,
                                    const sym_load_ctx *ctx, sym_tables *t)
{
    sym_in in = {buf, buf + len, false, false};
    uint64_t status = 1;
    bool ok = sym_in_head(&in, SYM_REQ_UNIT, &status);
    if (ok && status == 0)
        ok = sym_read_tables(&in, t, strings);
    ok = ok && sym_in_tail(&in, strings, ctx);
    sym_wire_result res = sym_in_result(&in, ok, status);
    if (res != SYM_WIRE_OK)
        sym_tables_clear(t);
    return res;
}
