/* sym_dwarf.c: reading one object's DWARF with libdwarf, one compilation
 * unit at a time: the index of the units' address ranges (.debug_aranges,
 * else the unit DIEs), then per unit its line program (DWARF 2-5 file and
 * directory rules) and every function and inlined instance with its ranges
 * (low/high pc, .debug_ranges, .debug_rnglists) and its name. A dwz
 * multifile (.gnu_debugaltlink) is opened beside and tied: its strings
 * (DW_FORM_GNU_strp_alt) through libdwarf, its DIEs (DW_FORM_GNU_ref_alt,
 * imported partial units) by switching the walk's current Dwarf_Debug.
 * libdwarf errors are collected, never fatal: whatever was read stays. */
#include "sym_internal.h"

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Beyond these, input is corrupt or hostile; stop rather than recurse or
 * allocate without bound. */
#define SYM_MAX_DIE_DEPTH   200
#define SYM_MAX_NAME_HOPS   8
#define SYM_MAX_CU_FILES    (1u << 20)
#define SYM_MAX_ERRORS      1
#define SYM_MAX_IMPORTS     256  /* imported units followed per unit */

/* Name-cache keys of DIEs in the multifile: its offsets are another space. */
#define SYM_ALT_KEY         (1ull << 63)

typedef struct sym_name {
    const char *name;
    bool        linkage;
} sym_name;

/* DIE offset -> resolved name, for abstract origins shared by many
 * inlined instances. Open addressing; offset 0 is never a DIE. */
typedef struct sym_name_cache {
    Dwarf_Off *keys;
    sym_name  *vals;
    size_t     cap, count;
} sym_name_cache;

typedef struct sym_walk {
    sym_tables         *t;      /* the unit being read */
    sym_strings        *strings;
    Dwarf_Debug         dbg;    /* the one the DIEs at hand belong to */
    Dwarf_Debug         main;   /* the file's */
    Dwarf_Debug         alt;    /* its dwz multifile's, or NULL */
    int                 imports;/* imported units followed in this unit */
    const sym_load_ctx *ctx;
    const char         *path;
    int                 nerrors;
    bool                oom;    /* scratch or cache could not grow */

    /* the current compilation unit */
    Dwarf_Half  cu_version;
    Dwarf_Addr  cu_base;
    bool        cu_plain_names; /* DW_AT_name is the symbol name (C) */
    uint32_t   *cu_files;       /* line-table file number -> o->files */
    size_t      ncu_files, ncu_files_cap;

    /* scratch */
    Dwarf_Addr *ranges;         /* lo, hi pairs */
    size_t      nranges, ranges_cap;
    char       *buf;
    size_t      buf_cap;
    sym_name_cache names;
} sym_walk;

static void sym_walk_error(sym_walk *w, Dwarf_Error err, const char *what)
{
    if (w->nerrors++ < SYM_MAX_ERRORS)
        w->ctx->report(w->ctx->report_ctx, "%s: DWARF %s: %s", w->path, what,
                       err != NULL ? dwarf_errmsg(err) : "error");
    if (err != NULL)
        dwarf_dealloc_error(w->dbg, err);
}

/* A non-aborting handler: only reached if some call lacks a Dwarf_Error*,
 * where libdwarf 20210528 would otherwise abort(). */
static void sym_dwarf_errhand(Dwarf_Error err, Dwarf_Ptr arg)
{
    (void)err;
    (void)arg;
}

/* ---- attributes ---- */

/* libdwarf 20210528 answers a string it cannot reach (a multifile string
 * without the multifile) with a placeholder such as
 * "<DW_FORM_GNU_strp_alt-no-tied-file>": never a name. */
static bool sym_is_placeholder(const char *s)
{
    return s[0] == '<' && (strncmp(s, "<DW_FORM_", 9) == 0 ||
                           strstr(s, "tied") != NULL);
}

static bool sym_die_text(sym_walk *w, Dwarf_Die die, Dwarf_Half attr,
                         char **out)
{
    Dwarf_Error err = NULL;
    int res = dwarf_die_text(die, attr, out, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "string");
    return res == DW_DLV_OK && *out != NULL && !sym_is_placeholder(*out);
}

/* An unsigned constant. libdwarf 20210528's dwarf_formudata rejects
 * DW_FORM_implicit_const (gcc's choice for DW_AT_call_file/line at -O0);
 * dwarf_formsdata reads it. */
static bool sym_die_udata(sym_walk *w, Dwarf_Die die, Dwarf_Half attrnum,
                          Dwarf_Unsigned *out)
{
    Dwarf_Attribute attr = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_attr(die, attrnum, &attr, &err);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "constant");
        return false;
    }
    Dwarf_Half form = 0;
    res = dwarf_whatform(attr, &form, &err);
    if (res == DW_DLV_OK && form == DW_FORM_implicit_const) {
        Dwarf_Signed v = 0;
        res = dwarf_formsdata(attr, &v, &err);
        *out = v < 0 ? 0 : (Dwarf_Unsigned)v;
    } else if (res == DW_DLV_OK) {
        res = dwarf_formudata(attr, out, &err);
    }
    dwarf_dealloc_attribute(attr);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "constant");
    return res == DW_DLV_OK;
}

/* A reference: the .debug_info offset, and the Dwarf_Debug it is in (the
 * multifile's for DW_FORM_GNU_ref_alt; NULL when that is not open). */
static bool sym_die_ref(sym_walk *w, Dwarf_Die die, Dwarf_Half attrnum,
                        Dwarf_Off *out, Dwarf_Debug *in)
{
    Dwarf_Attribute attr = NULL;
    Dwarf_Error err = NULL;
    Dwarf_Half form = 0;
    int res = dwarf_attr(die, attrnum, &attr, &err);
    if (res == DW_DLV_OK) {
        res = dwarf_whatform(attr, &form, &err);
        if (res == DW_DLV_OK)
            res = dwarf_global_formref(attr, out, &err);
        dwarf_dealloc_attribute(attr);
    }
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "reference");
    bool alt = form == DW_FORM_GNU_ref_alt || form == DW_FORM_ref_sup4 ||
               form == DW_FORM_ref_sup8;
    /* The multifile refers to itself only, never to an alt of its own. */
    *in = !alt ? w->dbg : w->dbg == w->main ? w->alt : NULL;
    return res == DW_DLV_OK && *in != NULL;
}

/* ---- names ---- */

static sym_name *sym_names_slot(sym_name_cache *c, Dwarf_Off off, bool *found)
{
    if ((c->count + 1) * 2 > c->cap) {
        sym_name_cache n = {0};
        n.cap = c->cap ? c->cap * 2 : 1024;
        n.keys = sym_alloc_array(n.cap, sizeof *n.keys);
        n.vals = sym_alloc_array(n.cap, sizeof *n.vals);
        if (n.keys == NULL || n.vals == NULL) {
            free(n.keys);
            free(n.vals);
            return NULL; /* the caller goes without the cache */
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (c->keys[i] == 0)
                continue;
            bool f;
            *sym_names_slot(&n, c->keys[i], &f) = c->vals[i];
        }
        n.count = c->count;
        free(c->keys);
        free(c->vals);
        *c = n;
    }
    size_t i = (size_t)(off * 0x9e3779b97f4a7c15ull >> 17) & (c->cap - 1);
    while (c->keys[i] != 0 && c->keys[i] != off)
        i = (i + 1) & (c->cap - 1);
    *found = c->keys[i] == off;
    if (!*found) {
        c->keys[i] = off;
        c->count++;
    }
    return &c->vals[i];
}

static sym_name sym_die_name(sym_walk *w, Dwarf_Die die, int hops);

static sym_name sym_origin_name(sym_walk *w, Dwarf_Off off, Dwarf_Debug in,
                                int hops)
{
    sym_name none = {NULL, false};
    if (off == 0 || off >= SYM_ALT_KEY)
        return none;
    Dwarf_Off key = in == w->main ? off : off | SYM_ALT_KEY;
    bool found;
    sym_name *slot = sym_names_slot(&w->names, key, &found);
    if (slot == NULL) {
        w->oom = true;
        return none;
    }
    if (found)
        return *slot;
    *slot = none; /* breaks reference cycles in corrupt input */
    Dwarf_Debug saved = w->dbg;
    w->dbg = in;
    Dwarf_Die die = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_offdie_b(w->dbg, off, true, &die, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "origin");
    sym_name n = none;
    if (res == DW_DLV_OK) {
        n = sym_die_name(w, die, hops);
        dwarf_dealloc_die(die);
    }
    w->dbg = saved;
    /* The table may have grown during the recursion: look up again. */
    slot = sym_names_slot(&w->names, key, &found);
    if (slot != NULL)
        *slot = n;
    return n;
}

/* A linkage name wins (demangled: it carries namespaces, classes, template
 * arguments and parameters), found on the DIE or through its abstract
 * origin or specification; else the plain DW_AT_name. */
static sym_name sym_die_name(sym_walk *w, Dwarf_Die die, int hops)
{
    char *s = NULL;
    if (sym_die_text(w, die, DW_AT_linkage_name, &s) ||
        sym_die_text(w, die, DW_AT_MIPS_linkage_name, &s))
        return (sym_name){sym_demangle(w->strings, s), true};
    sym_name from = {NULL, false};
    Dwarf_Off off;
    Dwarf_Debug in;
    if (hops < SYM_MAX_NAME_HOPS &&
        (sym_die_ref(w, die, DW_AT_abstract_origin, &off, &in) ||
         sym_die_ref(w, die, DW_AT_specification, &off, &in)))
        from = sym_origin_name(w, off, in, hops + 1);
    if (from.linkage)
        return from;
    if (sym_die_text(w, die, DW_AT_name, &s))
        return (sym_name){sym_intern(w->strings, s), w->cu_plain_names};
    return from;
}

/* binutils treats DW_AT_name as the symbol name for these languages and
 * refines other unmangled names with the ELF symbol (see sym_resolver.c). */
static bool sym_lang_plain_names(Dwarf_Unsigned lang)
{
    return lang == DW_LANG_C89 || lang == DW_LANG_C || lang == DW_LANG_C99 ||
           lang == DW_LANG_C11;
}

/* ---- ranges ---- */

static void sym_ranges_push(sym_walk *w, Dwarf_Addr lo, Dwarf_Addr hi)
{
    if (lo >= hi)
        return;
    if (sym_grow((void **)&w->ranges, &w->ranges_cap, w->nranges + 2,
                 sizeof *w->ranges) != 0) {
        w->oom = true;
        return;
    }
    w->ranges[w->nranges++] = lo;
    w->ranges[w->nranges++] = hi;
}

/* DWARF 2-4: .debug_ranges, offsets relative to a base address. */
static void sym_ranges_v4(sym_walk *w, Dwarf_Die die, Dwarf_Attribute attr)
{
    Dwarf_Error err = NULL;
    Dwarf_Off off = 0;
    int res = dwarf_global_formref(attr, &off, &err);
    if (res == DW_DLV_ERROR) {
        dwarf_dealloc_error(w->dbg, err);
        err = NULL;
        Dwarf_Unsigned u = 0;
        res = dwarf_formudata(attr, &u, &err);
        off = u;
    }
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "ranges");
        return;
    }
    Dwarf_Ranges *r = NULL;
    Dwarf_Signed n = 0;
    Dwarf_Unsigned bytes = 0;
    Dwarf_Off real = 0;
    res = dwarf_get_ranges_b(w->dbg, off, die, &real, &r, &n, &bytes, &err);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "ranges");
        return;
    }
    Dwarf_Addr base = w->cu_base;
    for (Dwarf_Signed i = 0; i < n; i++) {
        if (r[i].dwr_type == DW_RANGES_END)
            break;
        if (r[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
            base = r[i].dwr_addr2;
        else
            sym_ranges_push(w, base + r[i].dwr_addr1, base + r[i].dwr_addr2);
    }
    dwarf_ranges_dealloc(w->dbg, r, n);
}

/* DWARF 5: .debug_rnglists; libdwarf applies bases and .debug_addr
 * ("cooked" values). */
static void sym_ranges_v5(sym_walk *w, Dwarf_Attribute attr)
{
    Dwarf_Error err = NULL;
    Dwarf_Half form = 0;
    Dwarf_Unsigned val = 0;
    int res = dwarf_whatform(attr, &form, &err);
    if (res == DW_DLV_OK && form == DW_FORM_rnglistx) {
        res = dwarf_formudata(attr, &val, &err);
    } else if (res == DW_DLV_OK) {
        Dwarf_Off off = 0;
        res = dwarf_global_formref(attr, &off, &err);
        val = off;
    }
    Dwarf_Rnglists_Head head = NULL;
    Dwarf_Unsigned count = 0, global_off = 0;
    if (res == DW_DLV_OK)
        res = dwarf_rnglists_get_rle_head(attr, form, val, &head, &count,
                                          &global_off, &err);
    if (res != DW_DLV_OK) {
        if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "rnglists");
        return;
    }
    for (Dwarf_Unsigned i = 0; i < count; i++) {
        unsigned len = 0, code = 0;
        Dwarf_Unsigned raw1, raw2, lo, hi;
        Dwarf_Bool unavailable = false;
        res = dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &raw1,
                                                &raw2, &unavailable, &lo, &hi,
                                                &err);
        if (res == DW_DLV_ERROR) {
            sym_walk_error(w, err, "rnglists entry");
            break;
        }
        if (res != DW_DLV_OK || code == DW_RLE_end_of_list)
            break;
        if (!unavailable && code != DW_RLE_base_address &&
            code != DW_RLE_base_addressx)
            sym_ranges_push(w, lo, hi);
    }
    dwarf_dealloc_rnglists_head(head);
}

/* Fills w->ranges with the DIE's code ranges (none for declarations,
 * abstract instances and optimised-out inlines). */
static void sym_die_ranges(sym_walk *w, Dwarf_Die die)
{
    w->nranges = 0;
    Dwarf_Error err = NULL;
    Dwarf_Addr lo = 0, hi = 0;
    int res = dwarf_lowpc(die, &lo, &err);
    if (res == DW_DLV_OK) {
        Dwarf_Half form = 0;
        enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
        res = dwarf_highpc_b(die, &hi, &form, &cls, &err);
        if (res == DW_DLV_OK && cls == DW_FORM_CLASS_CONSTANT)
            hi = hi > UINT64_MAX - lo ? UINT64_MAX : lo + hi;
        if (res == DW_DLV_OK)
            sym_ranges_push(w, lo, hi);
        else if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "high_pc");
        /* A unit DIE has low_pc 0 (the base) beside DW_AT_ranges. */
        if (res != DW_DLV_NO_ENTRY)
            return;
    } else if (res == DW_DLV_ERROR) {
        sym_walk_error(w, err, "low_pc");
        return;
    }
    Dwarf_Attribute attr = NULL;
    res = dwarf_attr(die, DW_AT_ranges, &attr, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "ranges");
    if (res != DW_DLV_OK)
        return;
    if (w->cu_version >= 5)
        sym_ranges_v5(w, attr);
    else
        sym_ranges_v4(w, die, attr);
    dwarf_dealloc_attribute(attr);
}

/* ---- line tables ---- */

static const char *sym_join3(sym_walk *w, const char *a, const char *b,
                             const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t need = 1;
    for (int i = 0; i < 3; i++)
        need += parts[i] != NULL ? strlen(parts[i]) + 1 : 0;
    if (sym_grow((void **)&w->buf, &w->buf_cap, need, 1) != 0) {
        w->oom = true;
        return NULL;
    }
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (parts[i] == NULL || parts[i][0] == '\0')
            continue;
        if (n > 0 && w->buf[n - 1] != '/')
            w->buf[n++] = '/';
        size_t len = strlen(parts[i]);
        memcpy(w->buf + n, parts[i], len);
        n += len;
    }
    w->buf[n] = '\0';
    return sym_intern_n(w->strings, w->buf, n);
}

/* Absolute when the producer allows: name, else dir/name, else
 * comp_dir/dir/name. */
static const char *sym_file_path(sym_walk *w, const char *comp_dir,
                                 const char *dir, const char *name)
{
    if (name[0] == '/')
        return sym_intern(w->strings, name);
    if (dir != NULL && dir[0] == '/')
        return sym_join3(w, NULL, dir, name);
    return sym_join3(w, comp_dir, dir, name);
}

/* The directory of a file entry. DWARF 5 numbers directories from 0, the
 * compilation directory being entry 0; DWARF 2-4 from 1, with 0 meaning
 * the compilation directory. libdwarf follows the same numbering. */
static const char *sym_line_dir(sym_walk *w, Dwarf_Line_Context lc,
                                Dwarf_Unsigned version, Dwarf_Unsigned idx)
{
    if (version < 5 && idx == 0)
        return NULL;
    const char *dir = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_srclines_include_dir_data(lc, (Dwarf_Signed)idx, &dir,
                                              &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "line table directory");
    return res == DW_DLV_OK ? dir : NULL;
}

static void sym_cu_files(sym_walk *w, Dwarf_Line_Context lc,
                         Dwarf_Unsigned version)
{
    Dwarf_Error err = NULL;
    Dwarf_Signed base = 0, count = 0, end = 0;
    w->ncu_files = 0;
    if (dwarf_srclines_files_indexes(lc, &base, &count, &end, &err) !=
        DW_DLV_OK) {
        sym_walk_error(w, err, "line table files");
        return;
    }
    if (base < 0 || end < base || (Dwarf_Unsigned)end > SYM_MAX_CU_FILES)
        return;
    const char *comp_dir = NULL;
    if (dwarf_srclines_comp_dir(lc, &comp_dir, &err) == DW_DLV_ERROR)
        sym_walk_error(w, err, "comp_dir");
    size_t cap = w->ncu_files_cap;
    if (sym_grow((void **)&w->cu_files, &cap, (size_t)end,
                 sizeof *w->cu_files) != 0) {
        w->oom = true;
        return;
    }
    w->ncu_files_cap = cap;
    w->ncu_files = (size_t)end;
    for (Dwarf_Signed i = 0; i < end; i++) {
        w->cu_files[i] = SYM_LINE_END;
        const char *name = NULL;
        Dwarf_Unsigned dir = 0, mtime = 0, len = 0;
        Dwarf_Form_Data16 *md5 = NULL;
        if (i < base)
            continue;
        int res = dwarf_srclines_files_data_b(lc, i, &name, &dir, &mtime,
                                              &len, &md5, &err);
        if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "line table file");
        if (res != DW_DLV_OK || name == NULL)
            continue;
        const char *path = sym_file_path(w, comp_dir,
                                         sym_line_dir(w, lc, version, dir),
                                         name);
        if (path == NULL) { /* name is not NULL: out of memory */
            w->oom = true;
            continue;
        }
        w->cu_files[i] = sym_files_add(w->t, path);
    }
}

static uint32_t sym_cu_file(const sym_walk *w, Dwarf_Unsigned fileno)
{
    return fileno < w->ncu_files ? w->cu_files[fileno] : SYM_LINE_END;
}

/* Appends the rows of one line program. Sequences starting at address 0
 * describe code the linker dropped; they would shadow real code. */
static void sym_cu_rows(sym_walk *w, Dwarf_Line *lines, Dwarf_Signed n)
{
    Dwarf_Error err = NULL;
    bool in_seq = false, skip = false;
    Dwarf_Addr last = 0;
    for (Dwarf_Signed i = 0; i < n; i++) {
        Dwarf_Addr addr = 0;
        Dwarf_Unsigned lineno = 0, fileno = 0;
        Dwarf_Bool end = false;
        if (dwarf_lineaddr(lines[i], &addr, &err) != DW_DLV_OK ||
            dwarf_lineno(lines[i], &lineno, &err) != DW_DLV_OK ||
            dwarf_line_srcfileno(lines[i], &fileno, &err) != DW_DLV_OK ||
            dwarf_lineendsequence(lines[i], &end, &err) != DW_DLV_OK) {
            sym_walk_error(w, err, "line row");
            err = NULL;
            break;
        }
        if (!in_seq) {
            in_seq = true;
            skip = addr == 0;
        }
        if (!skip) {
            uint32_t file = end ? SYM_LINE_END : sym_cu_file(w, fileno);
            /* A row whose file is unknown still ends the previous row. */
            if (file == SYM_LINE_END && !end)
                file = SYM_LINE_END - 1;
            sym_lines_add(w->t, addr, file,
                          lineno > UINT32_MAX - 1 ? 0 : (uint32_t)lineno);
            last = addr;
        }
        if (end)
            in_seq = false;
    }
    /* A truncated program leaves a sequence open: close it. */
    if (in_seq && !skip)
        sym_lines_add(w->t, last + 1, SYM_LINE_END, 0);
}

static void sym_cu_lines(sym_walk *w, Dwarf_Die cu)
{
    Dwarf_Error err = NULL;
    Dwarf_Unsigned version = 0;
    Dwarf_Small tables = 0;
    Dwarf_Line_Context lc = NULL;
    int res = dwarf_srclines_b(cu, &version, &tables, &lc, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "line table");
    if (res != DW_DLV_OK)
        return;
    sym_cu_files(w, lc, version);
    Dwarf_Line *lines = NULL;
    Dwarf_Signed n = 0;
    if (tables == 1) {
        res = dwarf_srclines_from_linecontext(lc, &lines, &n, &err);
        if (res == DW_DLV_OK)
            sym_cu_rows(w, lines, n);
        else if (res == DW_DLV_ERROR)
            sym_walk_error(w, err, "line rows");
    }
    dwarf_srclines_dealloc_b(lc);
}

/* ---- DIE tree ---- */

static void sym_walk_children(sym_walk *w, Dwarf_Die parent, int32_t scope,
                              int depth);

static void sym_walk_scope(sym_walk *w, Dwarf_Die die, int32_t parent,
                           int depth)
{
    if (w->oom || w->t->oom)
        return; /* the unit will be dropped: stop reading it */
    sym_die_ranges(w, die);
    if (w->nranges == 0)
        return; /* no code: a declaration or an abstract instance */
    sym_name n = sym_die_name(w, die, 0);
    sym_scope s = {.name = n.name, .has_linkage = n.linkage, .parent = -1};
    if (parent >= 0) {
        Dwarf_Unsigned file = 0, line = 0;
        if (sym_die_udata(w, die, DW_AT_call_file, &file)) {
            uint32_t f = sym_cu_file(w, file);
            s.call_file = f < w->t->nfiles ? w->t->files[f] : NULL;
        }
        if (sym_die_udata(w, die, DW_AT_call_line, &line))
            s.call_line = line > UINT32_MAX ? 0 : (uint32_t)line;
        s.parent = parent;
        s.depth = (uint16_t)(w->t->scopes[parent].depth + 1);
    }
    uint32_t idx = sym_scopes_add(w->t, &s);
    for (size_t i = 0; i + 1 < w->nranges; i += 2)
        sym_scopes_add_range(w->t, idx, w->ranges[i], w->ranges[i + 1]);
    sym_walk_children(w, die, (int32_t)idx, depth + 1);
}

/* dwz moves DIEs shared by several units into partial units (in this file
 * or the multifile) that each unit imports: their functions are the
 * unit's. Code never moves, but a producer may put it there. */
static void sym_walk_import(sym_walk *w, Dwarf_Die die, int depth)
{
    Dwarf_Off off;
    Dwarf_Debug in;
    if (w->imports++ >= SYM_MAX_IMPORTS ||
        !sym_die_ref(w, die, DW_AT_import, &off, &in))
        return;
    Dwarf_Debug saved = w->dbg;
    w->dbg = in;
    Dwarf_Die unit = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_offdie_b(w->dbg, off, true, &unit, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "imported unit");
    if (res == DW_DLV_OK) {
        Dwarf_Half tag = 0;
        if (dwarf_tag(unit, &tag, &err) == DW_DLV_OK &&
            tag == DW_TAG_partial_unit)
            sym_walk_children(w, unit, -1, depth + 1);
        else if (err != NULL)
            sym_walk_error(w, err, "tag");
        dwarf_dealloc_die(unit);
    }
    w->dbg = saved;
}

static void sym_walk_die(sym_walk *w, Dwarf_Die die, int32_t scope, int depth)
{
    Dwarf_Half tag = 0;
    Dwarf_Error err = NULL;
    if (dwarf_tag(die, &tag, &err) != DW_DLV_OK) {
        sym_walk_error(w, err, "tag");
        return;
    }
    switch (tag) {
    case DW_TAG_subprogram: /* nested functions are functions too */
        sym_walk_scope(w, die, -1, depth);
        break;
    case DW_TAG_inlined_subroutine:
        if (scope >= 0)
            sym_walk_scope(w, die, scope, depth);
        break;
    case DW_TAG_lexical_block:
        if (scope >= 0)
            sym_walk_children(w, die, scope, depth + 1);
        break;
    case DW_TAG_namespace:
    case DW_TAG_module:
        if (scope < 0)
            sym_walk_children(w, die, scope, depth + 1);
        break;
    case DW_TAG_imported_unit:
        if (scope < 0)
            sym_walk_import(w, die, depth);
        break;
    default: /* types, variables: no code */
        break;
    }
}

static void sym_walk_children(sym_walk *w, Dwarf_Die parent, int32_t scope,
                              int depth)
{
    if (depth > SYM_MAX_DIE_DEPTH)
        return;
    Dwarf_Die child = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_child(parent, &child, &err);
    while (res == DW_DLV_OK) {
        sym_walk_die(w, child, scope, depth);
        Dwarf_Die next = NULL;
        res = dwarf_siblingof_b(w->dbg, child, true, &next, &err);
        dwarf_dealloc_die(child);
        child = next;
    }
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "DIE tree");
}

/* The unit-wide state that ranges and names depend on. */
static void sym_walk_cu_begin(sym_walk *w, Dwarf_Die cu, Dwarf_Half version)
{
    Dwarf_Error err = NULL;
    w->cu_version = version;
    w->cu_base = 0;
    if (dwarf_lowpc(cu, &w->cu_base, &err) == DW_DLV_ERROR) {
        dwarf_dealloc_error(w->dbg, err);
        err = NULL;
    }
    Dwarf_Unsigned lang = 0;
    if (dwarf_srclang(cu, &lang, &err) == DW_DLV_ERROR) {
        dwarf_dealloc_error(w->dbg, err);
        err = NULL;
    }
    w->cu_plain_names = sym_lang_plain_names(lang);
    w->ncu_files = 0;
    w->imports = 0;
}

static void sym_walk_cu(sym_walk *w, Dwarf_Die cu, Dwarf_Half version)
{
    sym_walk_cu_begin(w, cu, version);
    sym_cu_lines(w, cu);
    sym_walk_children(w, cu, -1, 1);
}

/* ---- the reader ---- */

struct sym_dwarf {
    sym_walk     w;
    sym_load_ctx ctx;
    char        *path;
    /* the dwz multifile, when the file links one */
    int          alt_fd;
    Elf         *alt_elf;
};

/* Opens and ties the multifile named by .gnu_debugaltlink, if any: a
 * missing or wrong one is reported once (sym_altfile_find), and the
 * names kept there are left out, never shown as libdwarf placeholders. */
static void sym_dwarf_open_alt(sym_dwarf *d, Elf *elf)
{
    char *found = NULL;
    int fd = sym_altfile_find(d->path, elf, &d->ctx, &found);
    if (fd < 0)
        return;
    Elf *ae = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    Dwarf_Debug alt = NULL;
    Dwarf_Error err = NULL;
    int res = ae != NULL && elf_kind(ae) == ELF_K_ELF ? DW_DLV_OK : DW_DLV_NO_ENTRY;
    if (res == DW_DLV_OK) {
        sym_elf_decompress(ae, found, &d->ctx);
        res = dwarf_elf_init_b(ae, DW_DLC_READ, DW_GROUPNUMBER_ANY,
                               sym_dwarf_errhand, NULL, &alt, &err);
    }
    if (res == DW_DLV_OK &&
        (res = dwarf_set_tied_dbg(d->w.main, alt, &err)) != DW_DLV_OK) {
        Dwarf_Error ferr = NULL;
        dwarf_finish(alt, &ferr);
    }
    if (res != DW_DLV_OK) {
        d->ctx.report(d->ctx.report_ctx, "%s: dwz multifile unreadable: %s",
                      found, err != NULL ? dwarf_errmsg(err) : "no DWARF");
        if (err != NULL)
            dwarf_dealloc_error(NULL, err);
        if (ae != NULL)
            elf_end(ae);
        close(fd);
        free(found);
        return;
    }
    free(found);
    d->alt_fd = fd;
    d->alt_elf = ae;
    d->w.alt = alt;
}

sym_dwarf *sym_dwarf_open(Elf *elf, const char *path, sym_strings *strings,
                          const sym_load_ctx *ctx)
{
    Dwarf_Debug dbg = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_elf_init_b(elf, DW_DLC_READ, DW_GROUPNUMBER_ANY,
                               sym_dwarf_errhand, NULL, &dbg, &err);
    if (res == DW_DLV_NO_ENTRY) {
        ctx->report(ctx->report_ctx, "%s: no DWARF", path);
        return NULL;
    }
    if (res != DW_DLV_OK) {
        ctx->report(ctx->report_ctx, "%s: DWARF unreadable: %s", path,
                    err != NULL ? dwarf_errmsg(err) : "error");
        if (err != NULL)
            dwarf_dealloc_error(NULL, err);
        return NULL;
    }
    sym_dwarf *d = sym_alloc_array(1, sizeof *d);
    char *copy = sym_strdup(path);
    if (d == NULL || copy == NULL) {
        free(d);
        free(copy);
        ctx->report(ctx->report_ctx, "%s: out of memory", path);
        dwarf_finish(dbg, &err);
        return NULL;
    }
    d->ctx = *ctx;
    d->path = copy;
    d->w = (sym_walk){.strings = strings, .dbg = dbg, .main = dbg,
                      .ctx = &d->ctx, .path = d->path};
    d->alt_fd = -1;
    sym_dwarf_open_alt(d, elf);
    return d;
}

void sym_dwarf_close(sym_dwarf *d)
{
    if (d == NULL)
        return;
    sym_walk *w = &d->w;
    free(w->cu_files);
    free(w->ranges);
    free(w->buf);
    free(w->names.keys);
    free(w->names.vals);
    Dwarf_Error err = NULL;
    dwarf_finish(w->main, &err);
    if (w->alt != NULL)
        dwarf_finish(w->alt, &err);
    if (d->alt_elf != NULL)
        elf_end(d->alt_elf);
    if (d->alt_fd >= 0)
        close(d->alt_fd);
    free(d->path);
    free(d);
}

typedef struct sym_index_buf {
    sym_cu_range *r;
    size_t        n, cap;
    bool          oom;   /* ranges were left out: the index is partial */
} sym_index_buf;

/* Address 0 and the all-ones tombstones mark code the linker dropped. */
static void sym_index_push(sym_index_buf *b, uint64_t lo, uint64_t hi,
                           uint64_t cu)
{
    if (lo == 0 || lo >= hi || hi >= UINT64_MAX - 1)
        return;
    if (sym_grow((void **)&b->r, &b->cap, b->n + 1, sizeof *b->r) != 0) {
        b->oom = true;
        return;
    }
    b->r[b->n++] = (sym_cu_range){lo, hi, cu};
}

/* .debug_aranges: cheap (no unit is parsed), but producers may leave
 * units out (clang emits none): the caller asks for the full index when
 * an address is not covered. */
static bool sym_index_aranges(sym_dwarf *d, sym_index_buf *b)
{
    Dwarf_Debug dbg = d->w.dbg;
    Dwarf_Arange *ar = NULL;
    Dwarf_Signed count = 0;
    Dwarf_Error err = NULL;
    int res = dwarf_get_aranges(dbg, &ar, &count, &err);
    if (res == DW_DLV_ERROR)
        dwarf_dealloc_error(dbg, err); /* the unit DIEs will do */
    if (res != DW_DLV_OK)
        return false;
    for (Dwarf_Signed i = 0; i < count; i++) {
        Dwarf_Unsigned seg = 0, segsize = 0, len = 0;
        Dwarf_Addr start = 0;
        Dwarf_Off cu = 0;
        err = NULL;
        res = dwarf_get_arange_info_b(ar[i], &seg, &segsize, &start, &len,
                                      &cu, &err);
        if (res == DW_DLV_OK && len <= UINT64_MAX - start)
            sym_index_push(b, start, start + len, cu);
        else if (res == DW_DLV_ERROR)
            dwarf_dealloc_error(dbg, err);
        dwarf_dealloc(dbg, ar[i], DW_DLA_ARANGE);
    }
    dwarf_dealloc(dbg, ar, DW_DLA_LIST);
    return b->n > 0;
}

static void sym_index_unit(sym_dwarf *d, Dwarf_Die cu, Dwarf_Half version,
                           sym_index_buf *b)
{
    sym_walk *w = &d->w;
    Dwarf_Off off = 0;
    Dwarf_Error err = NULL;
    if (dwarf_dieoffset(cu, &off, &err) != DW_DLV_OK) {
        sym_walk_error(w, err, "unit offset");
        return;
    }
    sym_walk_cu_begin(w, cu, version);
    sym_die_ranges(w, cu);
    for (size_t i = 0; i + 1 < w->nranges; i += 2)
        sym_index_push(b, w->ranges[i], w->ranges[i + 1], off);
}

/* Every unit DIE's low/high pc or ranges: reads each unit's header and
 * first DIE, not its tree. */
static void sym_index_units(sym_dwarf *d, sym_index_buf *b)
{
    for (;;) {
        Dwarf_Unsigned hlen = 0, typeoff = 0, next = 0;
        Dwarf_Half version = 0, asize = 0, lsize = 0, esize = 0, type = 0;
        Dwarf_Off abbrev = 0;
        Dwarf_Sig8 sig;
        Dwarf_Error err = NULL;
        int res = dwarf_next_cu_header_d(d->w.dbg, true, &hlen, &version,
                                         &abbrev, &asize, &lsize, &esize,
                                         &sig, &typeoff, &next, &type, &err);
        if (res == DW_DLV_ERROR)
            sym_walk_error(&d->w, err, "unit header");
        if (res != DW_DLV_OK)
            return;
        Dwarf_Die cu = NULL;
        res = dwarf_siblingof_b(d->w.dbg, NULL, true, &cu, &err);
        if (res == DW_DLV_ERROR)
            sym_walk_error(&d->w, err, "unit DIE");
        if (res != DW_DLV_OK)
            continue;
        sym_index_unit(d, cu, version, b);
        dwarf_dealloc_die(cu);
    }
}

sym_cu_range *sym_dwarf_index(sym_dwarf *d, bool full, size_t *n,
                              bool *complete)
{
    sym_index_buf b = {0};
    *complete = full || !sym_index_aranges(d, &b);
    if (*complete) {
        b.n = 0;
        sym_index_units(d, &b);
    }
    /* A partial index is still right where it has ranges; not being
     * complete, it lets the object fall back to ELF symbols elsewhere. */
    if (b.oom || d->w.oom)
        *complete = false;
    d->w.oom = false;
    *n = b.n;
    return b.r;
}

static bool sym_is_unit_die(sym_walk *w, Dwarf_Die die)
{
    Dwarf_Half tag = 0;
    Dwarf_Error err = NULL;
    if (dwarf_tag(die, &tag, &err) != DW_DLV_OK) {
        sym_walk_error(w, err, "tag");
        return false;
    }
    return tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit;
}

void sym_dwarf_load_unit(sym_dwarf *d, uint64_t off, sym_tables *t)
{
    sym_walk *w = &d->w;
    Dwarf_Die cu = NULL;
    Dwarf_Error err = NULL;
    int res = dwarf_offdie_b(w->dbg, off, true, &cu, &err);
    if (res == DW_DLV_ERROR)
        sym_walk_error(w, err, "unit DIE");
    if (res != DW_DLV_OK)
        return;
    Dwarf_Half version = 0, offset_size = 0;
    if (sym_is_unit_die(w, cu) &&
        dwarf_get_version_of_die(cu, &version, &offset_size) == DW_DLV_OK) {
        w->t = t;
        w->oom = false;
        sym_walk_cu(w, cu, version);
        if (w->oom)
            t->oom = true;
        if (!t->oom)
            sym_lines_sort(t);
        if (!t->oom)
            sym_scopes_finish(t);
        w->t = NULL;
    }
    dwarf_dealloc_die(cu);
}
