/* sym_resolver.c: the public face of symbols/ (sym.h): the module table
 * mirrored from the tracer, the objects behind it (shared when one file is
 * loaded twice), and sym_resolve turning a return address into frames. */
#include "sym.h"
#include "sym_internal.h"

#include <errno.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tracer's table is bounded (lt_shm.h modules_cap); this only guards
 * against absurd indexes. */
#define SYM_MAX_MODULES (1u << 20)

typedef struct sym_mod {
    bool        set;
    uint64_t    bias, lo, hi;
    uint32_t    gen_loaded, gen_unloaded;
    const char *path;   /* interned */
    sym_object *obj;
} sym_mod;

struct sym_resolver {
    sym_strings *strings;
    char      **debug_dirs;
    size_t      ndirs;
    sym_mod    *mods;
    size_t      nmods, mods_cap;
    sym_object **objs;
    size_t      nobjs, objs_cap;
    size_t      last_hit;   /* module of the previous lookup */
    char        last_error[1024]; /* "" when none: reporting never allocates */
    bool        load_reported; /* the current load already said why */
    bool        in_process;    /* no child process for libdwarf */
    sym_pool   *pool;          /* DWARF reader processes */
    unsigned    fetch_ms;      /* debuginfod's bound per fetch; 0: off */
    bool        fetch_wait;    /* a first frame waits for its module's fetch */
    char       *root;          /* sym_resolver_set_root, or NULL */
};

/* Keeps the first problem of each module load: it is the cause, later ones
 * ("no debug info") are consequences. */
static void sym_report(void *ctx, const char *fmt, ...)
{
    sym_resolver *r = ctx;
    if (r->load_reported)
        return;
    r->load_reported = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->last_error, sizeof r->last_error, fmt, ap);
    va_end(ap);
}

sym_resolver *sym_resolver_new(const char *const *debug_dirs, size_t ndirs)
{
    /* Idempotent; libelf needs it before any elf_begin. */
    elf_version(EV_CURRENT);
    sym_resolver *r = sym_alloc_array(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->strings = sym_strings_new();
    r->pool = sym_pool_new(); /* without one, readers are not limited */
    bool ok = r->strings != NULL;
    if (ok && debug_dirs != NULL && ndirs > 0) {
        r->debug_dirs = sym_alloc_array(ndirs, sizeof *r->debug_dirs);
        ok = r->debug_dirs != NULL;
        for (size_t i = 0; ok && i < ndirs; i++)
            if (debug_dirs[i] != NULL)
                ok = (r->debug_dirs[r->ndirs++] = sym_strdup(debug_dirs[i])) != NULL;
    }
    if (!ok) {
        sym_resolver_free(r);
        return NULL;
    }
    return r;
}

void sym_resolver_free(sym_resolver *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nobjs; i++)
        sym_object_free(r->objs[i]);
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->debug_dirs[i]);
    free(r->debug_dirs);
    free(r->root);
    free(r->objs);
    free(r->mods);
    sym_pool_free(r->pool);
    sym_strings_free(r->strings);
    free(r);
}

void sym_resolver_set_in_process(sym_resolver *r, bool in_process)
{
    if (r != NULL)
        r->in_process = in_process;
}

void sym_resolver_set_debuginfod(sym_resolver *r, unsigned bound_ms,
                                 bool wait)
{
    if (r == NULL)
        return;
    r->fetch_ms = bound_ms;
    r->fetch_wait = wait;
}

static sym_load_ctx sym_resolver_ctx(sym_resolver *r)
{
    return (sym_load_ctx){sym_report, r, (const char *const *)r->debug_dirs,
                          r->ndirs, r->in_process, r->pool, r->fetch_ms,
                          r->fetch_wait, r->root};
}

int sym_resolver_set_root(sym_resolver *r, const char *root)
{
    if (r == NULL)
        return -EINVAL;
    char *copy = root != NULL ? sym_strdup(root) : NULL;
    if (root != NULL && copy == NULL)
        return -ENOMEM;
    free(r->root);
    r->root = copy;
    return 0;
}

unsigned sym_resolver_fetching(const sym_resolver *r)
{
    unsigned n = 0;
    for (size_t i = 0; r != NULL && i < r->nobjs; i++)
        n += r->objs[i]->fetch != NULL && !sym_fetch_ready(r->objs[i]->fetch);
    return n;
}

const char *sym_resolver_last_error(const sym_resolver *r)
{
    return r != NULL && r->last_error[0] != '\0' ? r->last_error : NULL;
}

/* One object per (path, build-id): a library dlclose'd and dlopen'ed again
 * is read once. */
static sym_object *sym_resolver_object(sym_resolver *r, const sym_module *m)
{
    size_t idlen = m->build_id != NULL ? m->build_id_len : 0;
    for (size_t i = 0; i < r->nobjs; i++) {
        sym_object *o = r->objs[i];
        if (strcmp(o->path, m->path) == 0 && o->build_id_len == idlen &&
            (idlen == 0 || memcmp(o->build_id, m->build_id, idlen) == 0))
            return o;
    }
    if (sym_grow((void **)&r->objs, &r->objs_cap, r->nobjs + 1,
                 sizeof *r->objs) != 0)
        return NULL;
    sym_object *o = sym_object_new(m->path, m->build_id, idlen, r->strings);
    if (o != NULL)
        r->objs[r->nobjs++] = o;
    return o;
}

int sym_resolver_set_module(sym_resolver *r, uint32_t index,
                            const sym_module *m)
{
    if (r == NULL || m == NULL || m->path == NULL || index >= SYM_MAX_MODULES)
        return -EINVAL;
    if (m->build_id_len > 32 && m->build_id != NULL)
        return -EINVAL;
    const char *path = sym_intern(r->strings, m->path);
    sym_object *obj = path != NULL ? sym_resolver_object(r, m) : NULL;
    if (obj == NULL || sym_grow((void **)&r->mods, &r->mods_cap,
                                (size_t)index + 1, sizeof *r->mods) != 0)
        return -ENOMEM; /* the module stays as it was */
    if (index >= r->nmods) {
        memset(r->mods + r->nmods, 0, (index + 1 - r->nmods) * sizeof *r->mods);
        r->nmods = (size_t)index + 1;
    }
    sym_mod *mod = &r->mods[index];
    *mod = (sym_mod){
        .set = true,
        .bias = m->bias,
        .lo = m->lo,
        .hi = m->hi,
        .gen_loaded = m->gen_loaded,
        .gen_unloaded = m->gen_unloaded,
        .path = path,
        .obj = obj,
    };
    if (r->fetch_ms > 0) {
        sym_load_ctx ctx = sym_resolver_ctx(r);
        sym_object_prefetch(obj, &ctx);
    }
    return 0;
}

/* Loads the object's debug info, or installs the debug file fetched for
 * it since, keeping the first problem met. */
static void sym_resolver_load(sym_resolver *r, sym_object *o, bool wait)
{
    if (o->loaded && !o->awaiting)
        return;
    sym_load_ctx ctx = sym_resolver_ctx(r);
    ctx.fetch_wait |= wait;
    r->load_reported = false;
    if (!o->loaded)
        sym_object_load(o, &ctx);
    else
        sym_object_collect(o, &ctx);
    if (r->load_reported && o->problem == NULL)
        o->problem = sym_strdup(r->last_error);
}

int sym_resolver_module_info(sym_resolver *r, uint32_t index, bool load,
                             sym_module_info *out)
{
    if (r == NULL || index >= r->nmods || !r->mods[index].set)
        return -EINVAL;
    sym_object *o = r->mods[index].obj;
    if (load)
        sym_resolver_load(r, o, true);
    *out = (sym_module_info){
        .path = r->mods[index].path,
        .origin = sym_origin_label(sym_object_origin(o)),
        .debug_path = o->debug_path,
        .dwz = o->dwz,
        .problem = o->problem,
    };
    return 0;
}

static bool sym_mod_matches(const sym_mod *m, uint64_t pc, uint32_t gen)
{
    return m->set && pc >= m->lo && pc < m->hi && gen >= m->gen_loaded &&
           gen < m->gen_unloaded;
}

/* The module holding pc at generation gen. A library's constructors run
 * inside dlopen, before the tracer lists the library: their traces carry
 * the generation before it, so when nothing matches, the module covering
 * pc that was loaded soonest after gen is the one. */
static sym_mod *sym_resolver_find(sym_resolver *r, uint64_t pc, uint32_t gen)
{
    if (r->last_hit < r->nmods && sym_mod_matches(&r->mods[r->last_hit], pc, gen))
        return &r->mods[r->last_hit];
    sym_mod *later = NULL;
    for (size_t i = 0; i < r->nmods; i++) {
        sym_mod *m = &r->mods[i];
        if (sym_mod_matches(m, pc, gen)) {
            r->last_hit = i;
            return m;
        }
        if (m->set && pc >= m->lo && pc < m->hi && m->gen_loaded > gen &&
            (!later || m->gen_loaded < later->gen_loaded))
            later = m;
    }
    return later;
}

/* ---- frames ---- */

static const char *sym_file_name(const sym_tables *t, uint32_t file)
{
    return file < t->nfiles ? t->files[file] : NULL;
}

/* binutils refines a function name that is not a linkage name with the ELF
 * symbol starting at the function's entry (so a C++ "main" or a clone
 * "foo.constprop.0" gets its symbol name); addr2line is the reference,
 * so do the same for the outermost-level function found at the address. */
static const char *sym_refined_name(const sym_object *o, const sym_scope *s,
                                    uint64_t vaddr)
{
    if (s->has_linkage || s->depth != 0)
        return s->name;
    const sym_elfsym *e = sym_elf_lookup(o, vaddr);
    if (e != NULL && e->lo == s->entry)
        return e->name;
    return s->name;
}

/* A function whose DWARF name could not be read (it lives in a dwz
 * multifile that is missing) is named by the ELF symbol around it. */
static const char *sym_outer_name(const sym_object *o, const sym_scope *s,
                                  uint64_t vaddr)
{
    if (s->name != NULL || s->depth != 0)
        return s->name;
    const sym_elfsym *e = sym_elf_lookup(o, vaddr);
    return e != NULL ? e->name : NULL;
}

/* A row found in one unit's table, and that table. */
typedef struct sym_hit_line {
    const sym_tables *t;
    const sym_line   *row;
} sym_hit_line;

/* Line 0 means "no source line" (compiler-generated code): such a frame
 * has no line info, so it keys by module and offset like any other. */
static void sym_frame_set_line(sym_frame *f, sym_hit_line line)
{
    if (line.row == NULL || line.row->file == SYM_LINE_END ||
        line.row->line == 0)
        return;
    f->file = sym_file_name(line.t, line.row->file);
    f->line = f->file != NULL ? line.row->line : 0;
}

/* As if the units' rows were one table sorted by address: the last row at
 * or below vaddr; at one address a sequence's start beats another's end,
 * and a later unit's row beats an earlier one's. */
static sym_hit_line sym_line_across(const sym_tables *const *t, size_t n,
                                    uint64_t vaddr)
{
    sym_hit_line best = {NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        const sym_line *r = sym_lines_last(t[i], vaddr);
        if (r == NULL)
            continue;
        if (best.row == NULL || r->addr > best.row->addr ||
            (r->addr == best.row->addr &&
             !(r->file == SYM_LINE_END && best.row->file != SYM_LINE_END)))
            best = (sym_hit_line){t[i], r};
    }
    return best;
}

typedef struct sym_hit_scope {
    const sym_tables *t;
    uint32_t          scope;
} sym_hit_scope;

/* The best-fitting function over the units (an earlier unit wins ties),
 * then the innermost inlined scope in it. */
static bool sym_scope_across(const sym_tables *const *t, size_t n,
                             uint64_t vaddr, sym_hit_scope *hit)
{
    const sym_range *best = NULL;
    const sym_tables *bt = NULL;
    for (size_t i = 0; i < n; i++) {
        const sym_range *f = sym_func_lookup(t[i], vaddr);
        if (f != NULL && sym_range_better(t[i], f, bt, best)) {
            best = f;
            bt = t[i];
        }
    }
    if (best == NULL)
        return false;
    *hit = (sym_hit_scope){bt, sym_scopes_inner(bt, best, vaddr)};
    return true;
}

static int sym_frames_from_scopes(const sym_object *o, sym_hit_scope hit,
                                  sym_hit_line line, uint64_t vaddr,
                                  sym_frame *out, int max)
{
    int n = 0;
    const sym_tables *t = hit.t;
    const sym_scope *s = &t->scopes[hit.scope];
    out[n] = (sym_frame){.function = sym_refined_name(o, s, vaddr)};
    if (out[n].function == NULL)
        out[n].function = sym_outer_name(o, s, vaddr);
    sym_frame_set_line(&out[n++], line);
    while (s->parent >= 0 && n < max) {
        const sym_scope *p = &t->scopes[s->parent];
        out[n - 1].inlined = true;
        out[n++] = (sym_frame){
            .function = sym_outer_name(o, p, vaddr),
            .file = s->call_line != 0 ? s->call_file : NULL,
            .line = s->call_file != NULL ? s->call_line : 0,
        };
        s = p;
    }
    return n;
}

#define SYM_MAX_UNITS 8

/* The containing function's mangled symbol, when the symbol at vaddr is
 * that function (its demangled name is the frame's) and is mangled. */
static void sym_frame_set_system_name(const sym_object *o, uint64_t vaddr, sym_frame *f)
{
    const sym_elfsym *e = sym_elf_lookup(o, vaddr);
    if (e != NULL && f->function != NULL && e->raw != NULL && e->name != NULL &&
        strcmp(e->raw, e->name) != 0 && strcmp(e->name, f->function) == 0)
        f->system_name = e->raw;
}

static int sym_frames_object(sym_object *o, uint64_t vaddr,
                             const sym_load_ctx *ctx, sym_frame *out,
                             int max)
{
    const sym_tables *units[SYM_MAX_UNITS];
    size_t n = sym_object_units_at(o, vaddr, ctx, units, SYM_MAX_UNITS);
    sym_hit_line line = sym_line_across(units, n, vaddr);
    sym_hit_scope hit;
    if (sym_scope_across(units, n, vaddr, &hit)) {
        int k = sym_frames_from_scopes(o, hit, line, vaddr, out, max);
        sym_frame_set_system_name(o, vaddr, &out[k - 1]);
        return k;
    }
    const sym_elfsym *e = sym_elf_lookup(o, vaddr);
    out[0] = (sym_frame){.function = e != NULL ? e->name : NULL};
    sym_frame_set_line(&out[0], line);
    sym_frame_set_system_name(o, vaddr, &out[0]);
    return 1;
}

int sym_resolve(sym_resolver *r, uint64_t return_address, uint32_t gen,
                sym_frame *out, int max)
{
    if (max < 1)
        return 0;
    /* The call instruction ends just before the return address. */
    uint64_t pc = return_address > 0 ? return_address - 1 : 0;
    /* r is NULL when sym_resolver_new ran out of memory: addresses then
     * stay addresses. */
    sym_mod *m = r != NULL ? sym_resolver_find(r, pc, gen) : NULL;
    if (m == NULL) {
        out[0] = (sym_frame){.offset = return_address};
        return 1;
    }
    sym_resolver_load(r, m->obj, false);
    sym_load_ctx ctx = sym_resolver_ctx(r);
    int n = sym_frames_object(m->obj, pc - m->bias, &ctx, out, max);
    for (int i = 0; i < n; i++) {
        out[i].module = m->path;
        out[i].offset = return_address - m->bias;
        out[i].pending = m->obj->awaiting;
    }
    return n;
}
