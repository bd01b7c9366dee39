/* sym_internal.h: the types shared by the files of symbols/: the string
 * interner, one loaded object's tables (ELF symbols, line rows, function and
 * inline scopes) and the loaders that fill them. Not part of the interface. */
#ifndef LEAKTOP_SYM_INTERNAL_H
#define LEAKTOP_SYM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- allocation (aborts on out-of-memory, like tmux's xmalloc) ---- */
void *sym_xmalloc(size_t n);
void *sym_xcalloc(size_t n, size_t size);
void *sym_xrealloc(void *p, size_t n, size_t size);
char *sym_xstrdup(const char *s);

/* Grows *arr (of *cap elements of `size`) so that it holds at least `need`. */
void sym_grow(void **arr, size_t *cap, size_t need, size_t size);

/* ---- interned strings: equal strings share one copy, freed at once ---- */
typedef struct sym_strings sym_strings;
sym_strings *sym_strings_new(void);
void        sym_strings_free(sym_strings *in);
const char *sym_intern_n(sym_strings *in, const char *s, size_t n);
const char *sym_intern(sym_strings *in, const char *s);

/* ---- demangling ---- */
/* Demangled copy of `name` interned in `in`, or `name` interned as is when
 * it is not a mangled C++ name. */
const char *sym_demangle(sym_strings *in, const char *name);

/* ---- one object's tables ---- */

/* An ELF symbol: [lo, lo + size) in file vaddrs. */
typedef struct sym_elfsym {
    uint64_t    lo;
    uint64_t    size;
    const char *name; /* demangled, interned */
} sym_elfsym;

/* A line-table row; it covers [addr, next row's addr). `file` indexes
 * sym_object.files; SYM_LINE_END marks an end_sequence row (no line) and
 * SYM_LINE_END - 1 a row whose file entry was unreadable. */
#define SYM_LINE_END UINT32_MAX
typedef struct sym_line {
    uint64_t addr;
    uint32_t file;
    uint32_t line;
} sym_line;

/* A function (depth 0) or an inlined instance (depth > 0). */
typedef struct sym_scope {
    const char *name;       /* interned, demangled; NULL when unknown */
    const char *call_file;  /* inlined: where the call was; else NULL */
    uint32_t    call_line;
    int32_t     parent;     /* enclosing scope, -1 for a function */
    uint32_t    first_inl;  /* function: its entries in sym_object.inl */
    uint32_t    ninl;
    uint16_t    depth;
    bool        has_linkage;/* name needs no ELF-symbol refinement */
    uint64_t    entry;      /* low address of its first range */
} sym_scope;

/* An address range of a scope; `func` is the depth-0 scope around it. */
typedef struct sym_range {
    uint64_t lo, hi;
    uint32_t scope;
    uint32_t func;
} sym_range;

typedef struct sym_object {
    char       *path;        /* as registered */
    uint8_t     build_id[32];
    size_t      build_id_len;

    bool        loaded;      /* load attempted (whatever the outcome) */
    sym_strings *strings;     /* shared with the resolver */

    sym_elfsym *syms;        /* sorted by lo */
    size_t      nsyms;
    bool        syms_from_symtab; /* else from .dynsym */

    const char **files;      /* interned paths, absolute when DWARF allows */
    size_t       nfiles, files_cap;
    sym_line    *lines;      /* sorted by addr (see sym_lines_sort) */
    size_t       nlines, lines_cap;

    sym_scope  *scopes;
    size_t      nscopes, scopes_cap;
    sym_range  *funcs;       /* ranges of depth-0 scopes, sorted by lo */
    size_t      nfuncs, funcs_cap;
    sym_range  *inl;         /* ranges of inlined scopes, grouped per
                                function, each group sorted by lo */
    size_t      ninl, inl_cap;
} sym_object;

/* Reports a loading problem ("PATH: why"); `ctx` is the resolver. */
typedef void (*sym_report_fn)(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct sym_load_ctx {
    sym_report_fn        report;
    void                *report_ctx;
    const char *const   *debug_dirs;
    size_t               ndirs;
    bool                 in_process; /* read DWARF without a child process */
} sym_load_ctx;

/* sym_object.c */
sym_object *sym_object_new(const char *path, const uint8_t *build_id,
                           size_t build_id_len, sym_strings *strings);
void        sym_object_free(sym_object *o);
void        sym_object_load(sym_object *o, const sym_load_ctx *ctx);

/* sym_elf.c: ELF symbol tables, build-id and debuglink of an open Elf. */
struct Elf;
void  sym_elf_read_symbols(sym_object *o, struct Elf *elf);
bool  sym_elf_has_section(struct Elf *elf, const char *prefix);
size_t sym_elf_build_id(struct Elf *elf, uint8_t *out, size_t max);
/* The .gnu_debuglink name (malloc'ed) and its CRC, or NULL. */
char *sym_elf_debuglink(struct Elf *elf, uint32_t *crc);
const sym_elfsym *sym_elf_lookup(const sym_object *o, uint64_t vaddr);

/* sym_debugfile.c: finds a separate debug file; returns an open fd or -1,
 * and the path found in *found (malloc'ed). */
int sym_debugfile_find(const char *objpath, struct Elf *elf,
                       const uint8_t *build_id, size_t build_id_len,
                       const sym_load_ctx *ctx, char **found);
uint32_t sym_crc32_fd(int fd, bool *ok);

/* sym_dwarf.c: fills files, lines and scopes from an Elf's DWARF.
 * Returns 0, or -1 with a reason reported. */
int sym_dwarf_load(sym_object *o, struct Elf *elf, const char *elfpath,
                   const sym_load_ctx *ctx);

/* sym_isolate.c: runs load(o, arg, ctx) in a child process and installs
 * the tables it built into o; returns load's result, or -1 with a reason
 * reported when the child crashed, hung or sent a broken stream. */
typedef int (*sym_dwarf_fn)(sym_object *o, void *arg, const sym_load_ctx *ctx);
int sym_isolated(sym_object *o, sym_dwarf_fn load, void *arg,
                 const char *path, const sym_load_ctx *ctx);

/* sym_resolver.c: for tests and the fuzzer, which want libdwarf in their
 * own process (sanitizer reports, coverage). */
struct sym_resolver;
void sym_resolver_set_in_process(struct sym_resolver *r, bool in_process);

/* sym_lines.c / sym_scopes.c */
uint32_t        sym_files_add(sym_object *o, const char *interned);
void            sym_lines_add(sym_object *o, uint64_t addr, uint32_t file,
                              uint32_t line);
void            sym_lines_sort(sym_object *o);
const sym_line *sym_lines_lookup(const sym_object *o, uint64_t vaddr);

/* Adds a scope; returns its index. */
uint32_t sym_scopes_add(sym_object *o, const sym_scope *s);
void     sym_scopes_add_range(sym_object *o, uint32_t scope, uint64_t lo,
                              uint64_t hi);
void     sym_scopes_finish(sym_object *o);
/* Innermost scope containing vaddr, or -1. */
int32_t sym_scopes_lookup(const sym_object *o, uint64_t vaddr);

#endif
