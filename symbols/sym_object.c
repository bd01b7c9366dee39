/* sym_object.c: one object file (executable or shared library) and its
 * lazy loading: open it with libelf, read its symbol table, find its DWARF
 * (in the object, else in a separate debug file) and start a reader on it;
 * then the index of its compilation units, and each unit's tables on the
 * first address that falls in it. Every failure leaves a usable, possibly
 * empty, object. */
#include "sym_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sym_object *sym_object_new(const char *path, const uint8_t *build_id,
                           size_t build_id_len, sym_strings *strings)
{
    sym_object *o = sym_alloc_array(1, sizeof *o);
    char *copy = sym_strdup(path);
    if (o == NULL || copy == NULL) {
        free(o);
        free(copy);
        return NULL;
    }
    o->path = copy;
    o->strings = strings;
    if (build_id != NULL && build_id_len <= sizeof o->build_id) {
        memcpy(o->build_id, build_id, build_id_len);
        o->build_id_len = build_id_len;
    }
    return o;
}

void sym_object_free(sym_object *o)
{
    if (o == NULL)
        return;
    free(o->path);
    free(o->file);
    free(o->debug_path);
    free(o->problem);
    sym_fetch_cancel(o->fetch);
    free(o->syms);
    sym_source_free(o->src);
    for (size_t i = 0; i < o->ncus; i++)
        sym_tables_clear(&o->cus[i].t);
    free(o->cus);
    free(o->cu_ranges);
    free(o->cu_maxhi);
    free(o);
}

void sym_tables_clear(sym_tables *t)
{
    free(t->files);
    free(t->lines);
    free(t->scopes);
    free(t->funcs);
    free(t->inl);
    memset(t, 0, sizeof *t);
}

/* An open ELF file: the fd must outlive the Elf (mmap'ed reads). */
typedef struct sym_elf_file {
    int  fd;
    Elf *elf;
} sym_elf_file;

static void sym_elf_close(sym_elf_file *f)
{
    if (f->elf != NULL)
        elf_end(f->elf);
    if (f->fd >= 0)
        close(f->fd);
    f->elf = NULL;
    f->fd = -1;
}

static int sym_elf_open_fd(sym_elf_file *f, int fd, const char *path,
                           const sym_load_ctx *ctx)
{
    f->fd = fd;
    f->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (f->elf == NULL || elf_kind(f->elf) != ELF_K_ELF) {
        ctx->report(ctx->report_ctx, "%s: not an ELF file (%s)", path,
                    elf_errmsg(-1));
        sym_elf_close(f);
        return -1;
    }
    return 0;
}

static int sym_elf_open(sym_elf_file *f, const char *path,
                        const sym_load_ctx *ctx)
{
    f->elf = NULL;
    /* O_NONBLOCK: a FIFO named by a hostile segment must not hang us. */
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0) {
        ctx->report(ctx->report_ctx, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ctx->report(ctx->report_ctx, "%s: not a regular file", path);
        sym_elf_close(f);
        return -1;
    }
    return sym_elf_open_fd(f, f->fd, path, ctx);
}

static void sym_object_read_symbols(sym_object *o, Elf *elf, const char *path,
                                    const sym_load_ctx *ctx)
{
    if (sym_elf_read_symbols(o, elf) != 0)
        ctx->report(ctx->report_ctx, "%s: out of memory reading the symbol table",
                    path);
}

static bool sym_elf_has_dwarf(Elf *elf)
{
    return sym_elf_has_section(elf, ".debug_info") ||
           sym_elf_has_section(elf, ".zdebug_info");
}

/* Starts a reader on the DWARF of fd (taken over): false, and nothing
 * kept, when it gives no unit with code (then a debug file may). */
static bool sym_object_start_dwarf(sym_object *o, int fd, const char *path,
                                   const sym_load_ctx *ctx)
{
    if (fd < 0)
        return false;
    sym_source *s = sym_source_new(fd, path, o->strings, ctx);
    if (s == NULL)
        return false;
    if (sym_source_index(s, false, o, ctx) == 0 && o->ncu_ranges == 0 &&
        !o->index_complete)
        sym_source_index(s, true, o, ctx);
    if (o->ncu_ranges == 0) {
        sym_source_free(s);
        sym_object_set_index(o, NULL, 0, false);
        return false;
    }
    o->src = s;
    return true;
}

static void sym_object_set_origin(sym_object *o, sym_origin how, Elf *elf,
                                  const char *debug_path);

/* The debug file from debuginfod: the fetch started by the prefetch, or
 * one started now; each object asks once. */
static int sym_object_fetch(sym_object *o, const sym_load_ctx *ctx,
                            char **found, char *why, size_t whylen)
{
    if (o->fetch == NULL && !o->fetch_asked && ctx->fetch_ms > 0 &&
        o->build_id_len > 0) {
        o->fetch_asked = true;
        o->fetch = sym_fetch_start(o->build_id, o->build_id_len,
                                   ctx->fetch_ms, ctx->pool);
        if (o->fetch == NULL)
            snprintf(why, whylen, "debuginfod: cannot start a fetch");
    }
    if (o->fetch == NULL)
        return -1;
    if (!ctx->fetch_wait && !sym_fetch_ready(o->fetch)) {
        o->awaiting = true; /* sym_object_collect installs it later */
        return -1;
    }
    sym_fetch *f = o->fetch;
    o->fetch = NULL;
    o->awaiting = false;
    return sym_fetch_finish(f, found, why, whylen);
}

/* Reads a separate debug file (fd and path taken over): its symbols, and
 * its DWARF. */
static void sym_object_use_debugfile(sym_object *o, int fd, char *found,
                                     sym_origin how, const sym_load_ctx *ctx)
{
    sym_elf_file d;
    if (sym_elf_open_fd(&d, fd, found, ctx) == 0) {
        sym_object_read_symbols(o, d.elf, found, ctx);
        if (!sym_elf_has_dwarf(d.elf))
            ctx->report(ctx->report_ctx, "%s: debug file has no DWARF",
                        found);
        else if (sym_object_start_dwarf(o, dup(d.fd), found, ctx))
            sym_object_set_origin(o, how, d.elf, found);
        sym_elf_close(&d);
    }
    free(found);
}

static void sym_object_no_debug(sym_object *o, const char *why,
                                const sym_load_ctx *ctx)
{
    ctx->report(ctx->report_ctx,
                "%s: no debug info (no DWARF, no separate debug file%s%s)",
                o->path, why[0] != '\0' ? "; " : "", why);
}

bool sym_object_collect(sym_object *o, const sym_load_ctx *ctx)
{
    if (!o->awaiting || o->fetch == NULL ||
        (!ctx->fetch_wait && !sym_fetch_ready(o->fetch)))
        return false;
    char *found = NULL;
    char why[512] = "";
    int fd = sym_object_fetch(o, ctx, &found, why, sizeof why);
    if (fd < 0) {
        sym_object_no_debug(o, why, ctx);
        return true;
    }
    sym_object_use_debugfile(o, fd, found, SYM_ORIGIN_DEBUGINFOD, ctx);
    return true;
}

/* Where the object's bytes are read (sym_resolver_set_root): under the
 * process's root when the file is there, else its path; NULL for a path
 * only the process can resolve (/proc/self/fd/N: a memory file it loaded;
 * here it would be one of ours). */
static const char *sym_object_file(sym_object *o, const sym_load_ctx *ctx)
{
    if (o->file_known)
        return o->file;
    o->file_known = true;
    if (strncmp(o->path, "/proc/self/", 11) == 0 || strncmp(o->path, "/proc/thread-self/", 18) == 0)
        return NULL;
    struct stat st;
    size_t len = ctx->root != NULL ? strlen(ctx->root) + strlen(o->path) + 1 : 0;
    char *under = len ? malloc(len) : NULL;
    if (under != NULL) {
        snprintf(under, len, "%s%s", ctx->root, o->path);
        if (stat(under, &st) == 0 && S_ISREG(st.st_mode)) {
            o->file = under;
            return o->file;
        }
        free(under);
    }
    o->file = sym_strdup(o->path);
    return o->file;
}

/* Looks for a separate debug file (here, else from debuginfod) and loads
 * DWARF (and, when the object has none, symbols) from it. */
static void sym_object_load_debugfile(sym_object *o, Elf *elf,
                                      const sym_load_ctx *ctx)
{
    char *found = NULL;
    sym_origin how;
    char why[512] = "";
    const char *file = sym_object_file(o, ctx);
    int fd = sym_debugfile_find(file != NULL ? file : o->path, elf, o->build_id, o->build_id_len,
                                ctx, &found, &how);
    if (fd < 0) {
        how = SYM_ORIGIN_DEBUGINFOD;
        fd = sym_object_fetch(o, ctx, &found, why, sizeof why);
    }
    if (fd < 0 && !o->awaiting)
        sym_object_no_debug(o, why, ctx);
    if (fd < 0)
        return;
    sym_object_use_debugfile(o, fd, found, how, ctx);
}

static void sym_object_set_origin(sym_object *o, sym_origin how, Elf *elf,
                                  const char *debug_path)
{
    o->origin = how;
    uint8_t id[64];
    size_t idlen;
    char *alt = sym_elf_altlink(elf, id, sizeof id, &idlen);
    o->dwz = alt != NULL;
    free(alt);
    free(o->debug_path);
    o->debug_path = debug_path != NULL ? sym_strdup(debug_path) : NULL;
}

/* A long-running program keeps the object it loaded while a package
 * upgrade replaces the file: with the tracer's build-id, a different file
 * is detected and not used. Without one, the file's build-id is adopted. */
static bool sym_object_same_build(sym_object *o, Elf *elf,
                                  const sym_load_ctx *ctx)
{
    uint8_t id[sizeof o->build_id];
    size_t n = sym_elf_build_id(elf, id, sizeof id);
    if (o->build_id_len == 0) {
        memcpy(o->build_id, id, n);
        o->build_id_len = n;
        return true;
    }
    if (n == 0 || (n == o->build_id_len && memcmp(id, o->build_id, n) == 0))
        return true;
    ctx->report(ctx->report_ctx,
                "%s: file changed since it was loaded (build-id differs); "
                "looking for debug info by build-id only", o->path);
    return false;
}

static void sym_object_load_files(sym_object *o, const sym_load_ctx *ctx);

void sym_object_load(sym_object *o, const sym_load_ctx *ctx)
{
    if (o->loaded)
        return;
    o->loaded = true;
    sym_object_load_files(o, ctx);
    if (o->awaiting)
        return; /* the origin is set when the fetch is collected */
    sym_fetch_cancel(o->fetch); /* a prefetch the object did not need */
    o->fetch = NULL;
}

sym_origin sym_object_origin(const sym_object *o)
{
    if (o->awaiting)
        return SYM_ORIGIN_FETCHING;
    if (o->origin != SYM_ORIGIN_UNLOADED || !o->loaded)
        return o->origin;
    if (o->minidebug)
        return SYM_ORIGIN_MINIDEBUG;
    return o->nsyms > 0 ? SYM_ORIGIN_SYMTAB : SYM_ORIGIN_NOTHING;
}

const char *sym_origin_label(sym_origin origin)
{
    static const char *const names[] = {
        [SYM_ORIGIN_UNLOADED] = "not loaded",
        [SYM_ORIGIN_NOTHING] = "no symbols",
        [SYM_ORIGIN_SYMTAB] = "symtab only",
        [SYM_ORIGIN_OBJECT] = "in the object",
        [SYM_ORIGIN_BUILD_ID] = "build-id dir",
        [SYM_ORIGIN_DEBUGLINK] = "debuglink",
        [SYM_ORIGIN_DEBUGINFOD] = "debuginfod",
        [SYM_ORIGIN_FETCHING] = "fetching from debuginfod",
        [SYM_ORIGIN_MINIDEBUG] = "MiniDebugInfo",
    };
    return (unsigned)origin < sizeof names / sizeof *names ? names[origin]
                                                           : "?";
}

/* With the object's own DWARF, its ELF data is what it needs. */
static bool sym_object_own_dwarf(sym_object *o, sym_elf_file *f,
                                 const sym_load_ctx *ctx)
{
    if (!sym_elf_has_dwarf(f->elf) ||
        !sym_object_start_dwarf(o, dup(f->fd), o->path, ctx))
        return false;
    sym_object_set_origin(o, SYM_ORIGIN_OBJECT, f->elf, NULL);
    return true;
}

void sym_object_prefetch(sym_object *o, const sym_load_ctx *ctx)
{
    if (o->loaded || o->fetch_asked || ctx->fetch_ms == 0 ||
        o->build_id_len == 0)
        return;
    const char *file = sym_object_file(o, ctx);
    int fd = file != NULL ? sym_open_regular(file) : -1;
    Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
    bool here = elf != NULL && elf_kind(elf) == ELF_K_ELF &&
                sym_elf_has_dwarf(elf);
    if (!here) {
        char *found = NULL;
        sym_origin how;
        int dfd = sym_debugfile_find(file != NULL ? file : o->path, elf, o->build_id,
                                     o->build_id_len, ctx, &found, &how);
        here = dfd >= 0;
        if (dfd >= 0)
            close(dfd);
        free(found);
    }
    if (elf != NULL)
        elf_end(elf);
    if (fd >= 0)
        close(fd);
    if (here)
        return;
    o->fetch_asked = true;
    o->fetch = sym_fetch_start(o->build_id, o->build_id_len, ctx->fetch_ms,
                               ctx->pool);
}

static void sym_object_load_files(sym_object *o, const sym_load_ctx *ctx)
{
    sym_elf_file f;
    const char *file = sym_object_file(o, ctx);
    if (file == NULL || sym_elf_open(&f, file, ctx) != 0) {
        /* The object may be gone (deleted, other mount namespace); its
         * build-id can still find debug info. */
        if (o->build_id_len > 0)
            sym_object_load_debugfile(o, NULL, ctx);
        return;
    }
    if (!sym_object_same_build(o, f.elf, ctx)) {
        sym_elf_close(&f);
        sym_object_load_debugfile(o, NULL, ctx);
        return;
    }
    sym_object_read_symbols(o, f.elf, o->path, ctx);
    if (sym_elf_read_minidebug(o, f.elf) != 0)
        ctx->report(ctx->report_ctx, "%s: .gnu_debugdata unreadable", o->path);
    if (!sym_object_own_dwarf(o, &f, ctx))
        sym_object_load_debugfile(o, f.elf, ctx);
    sym_elf_close(&f);
}

/* ---- the unit index ---- */

static int sym_cu_range_cmp(const void *a, const void *b)
{
    const sym_cu_range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return x->cu < y->cu ? -1 : x->cu > y->cu;
}

static int sym_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static sym_cu *sym_object_unit(const sym_object *o, uint64_t off)
{
    size_t lo = 0, hi = o->ncus;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->cus[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->ncus && o->cus[lo].off == off ? &o->cus[lo] : NULL;
}

/* The units named by the ranges, keeping the tables already read (a
 * full index replaces the aranges one). -ENOMEM with nothing changed. */
static int sym_object_set_units(sym_object *o, const sym_cu_range *ranges,
                                size_t nranges)
{
    uint64_t *offs = sym_alloc_array(nranges, sizeof *offs);
    sym_cu *cus = sym_alloc_array(nranges, sizeof *cus);
    if (offs == NULL || cus == NULL) {
        free(offs);
        free(cus);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nranges; i++)
        offs[i] = ranges[i].cu;
    qsort(offs, nranges, sizeof *offs, sym_u64_cmp);
    size_t n = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (n > 0 && cus[n - 1].off == offs[i])
            continue;
        sym_cu *old = sym_object_unit(o, offs[i]);
        cus[n] = old != NULL ? *old : (sym_cu){.off = offs[i]};
        if (old != NULL)
            *old = (sym_cu){0};
        n++;
    }
    for (size_t i = 0; i < o->ncus; i++)
        sym_tables_clear(&o->cus[i].t);
    free(o->cus);
    free(offs);
    o->cus = cus;
    o->ncus = n;
    return 0;
}

int sym_object_set_index(sym_object *o, sym_cu_range *ranges, size_t n,
                         bool complete)
{
    if (n > 1)
        qsort(ranges, n, sizeof *ranges, sym_cu_range_cmp);
    uint64_t *maxhi = sym_alloc_array(n, sizeof *maxhi);
    if (maxhi == NULL || sym_object_set_units(o, ranges, n) != 0) {
        free(maxhi);
        free(ranges);
        return -ENOMEM; /* the index the object had stays */
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t prev = i > 0 ? maxhi[i - 1] : 0;
        maxhi[i] = ranges[i].hi > prev ? ranges[i].hi : prev;
    }
    free(o->cu_ranges);
    free(o->cu_maxhi);
    o->cu_ranges = ranges;
    o->ncu_ranges = n;
    o->index_complete = complete;
    o->cu_maxhi = maxhi;
    return 0;
}

/* Units in .debug_info order: where units overlap, the earlier one wins
 * ties, as in one table built in that order. */
static void sym_units_add(sym_cu **out, size_t *n, size_t max, sym_cu *cu)
{
    size_t i = *n;
    for (size_t k = 0; k < *n; k++)
        if (out[k] == cu)
            return;
    if (*n == max)
        return;
    while (i > 0 && out[i - 1]->off > cu->off) {
        out[i] = out[i - 1];
        i--;
    }
    out[i] = cu;
    (*n)++;
}

static size_t sym_object_covering(const sym_object *o, uint64_t vaddr,
                                  sym_cu **out, size_t max)
{
    size_t lo = 0, hi = o->ncu_ranges; /* first range with lo > vaddr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->cu_ranges[mid].lo <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    for (size_t i = lo; i > 0 && o->cu_maxhi[i - 1] > vaddr; i--) {
        const sym_cu_range *r = &o->cu_ranges[i - 1];
        if (vaddr < r->hi)
            sym_units_add(out, &n, max, sym_object_unit(o, r->cu));
    }
    return n;
}

/* A source that gave up is dropped: what was read stays. */
static void sym_object_check_source(sym_object *o)
{
    if (o->src != NULL && sym_source_dead(o->src)) {
        sym_source_free(o->src);
        o->src = NULL;
    }
}

#define SYM_MAX_UNITS_AT 8

size_t sym_object_units_at(sym_object *o, uint64_t vaddr,
                           const sym_load_ctx *ctx, const sym_tables **out,
                           size_t max)
{
    sym_cu *cus[SYM_MAX_UNITS_AT];
    max = max < SYM_MAX_UNITS_AT ? max : SYM_MAX_UNITS_AT;
    size_t n = sym_object_covering(o, vaddr, cus, max);
    if (n == 0 && !o->index_complete && o->src != NULL) {
        /* aranges may leave units out: ask every unit DIE, once */
        if (sym_source_index(o->src, true, o, ctx) != 0)
            o->index_complete = true;
        sym_object_check_source(o);
        n = sym_object_covering(o, vaddr, cus, max);
    }
    for (size_t i = 0; i < n; i++) {
        if (!cus[i]->asked && o->src != NULL) {
            cus[i]->asked = true;
            sym_source_unit(o->src, cus[i]->off, &cus[i]->t, ctx);
            sym_object_check_source(o);
        }
        out[i] = &cus[i]->t;
    }
    return n;
}
