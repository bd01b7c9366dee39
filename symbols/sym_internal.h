/* sym_internal.h: the types shared by the files of symbols/: the string
 * interner, one loaded object's tables (ELF symbols, line rows, function and
 * inline scopes) and the loaders that fill them. Not part of the interface. */
#ifndef LEAKTOP_SYM_INTERNAL_H
#define LEAKTOP_SYM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- allocation ----
 * One policy across the frontend's libraries (as in diff/): running out of
 * memory is an error the caller handles, never an abort. Allocators return
 * NULL, sym_grow -ENOMEM; what could not be built is left out and said
 * through the resolver's last error: an object without its symbol table,
 * a unit without its tables (its frames then show module and offset). */
void *sym_alloc(size_t n);                    /* malloc; n may be 0 */
void *sym_alloc_array(size_t n, size_t size); /* zeroed; NULL on overflow */
char *sym_strdup(const char *s);

/* Grows *arr (of *cap elements of `size`) so that it holds at least
 * `need`: 0, or -ENOMEM with *arr and *cap unchanged. */
int sym_grow(void **arr, size_t *cap, size_t need, size_t size);

/* ---- interned strings: equal strings share one copy, freed at once ----
 * sym_intern* return NULL (as for a NULL string) when out of memory. */
typedef struct sym_strings sym_strings;
sym_strings *sym_strings_new(void); /* NULL when out of memory */
void        sym_strings_free(sym_strings *in);
const char *sym_intern_n(sym_strings *in, const char *s, size_t n);
const char *sym_intern(sym_strings *in, const char *s);

/* ---- demangling ---- */
/* Demangled copy of `name` interned in `in` (Rust, then C++), or `name`
 * interned as is when it is neither. */
const char *sym_demangle(sym_strings *in, const char *name);

/* sym_rust.c: demangles a Rust symbol, v0 (`_R...`) or legacy
 * (`_ZN...17h<16 hex>E`), into out (NUL-terminated, at most outlen bytes).
 * Plain: the form rustc prints with {:#} (no legacy hash, no crate
 * disambiguators, no const types); verbose: binutils' (c++filt's) form.
 * Returns the length, or -1 when the name is not a Rust symbol, is
 * malformed, or does not fit. */
#define SYM_RUST_MAX_NAME 16384
int sym_rust_demangle(const char *name, char *out, size_t outlen, bool verbose);

/* ---- one object's tables ---- */

/* An ELF symbol: [lo, lo + size) in file vaddrs. */
typedef struct sym_elfsym {
    uint64_t    lo;
    uint64_t    size;
    const char *name; /* demangled, interned */
    const char *raw;  /* as the symbol table has it (mangled), interned */
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

/* One compilation unit's tables, built by the DWARF reader. */
typedef struct sym_tables {
    const char **files;      /* interned paths, absolute when DWARF allows */
    size_t       nfiles, files_cap;
    sym_line    *lines;      /* sorted by addr (see sym_lines_sort) */
    size_t       nlines, lines_cap;
    sym_scope   *scopes;
    size_t       nscopes, scopes_cap;
    sym_range   *funcs;      /* ranges of depth-0 scopes, sorted by lo */
    size_t       nfuncs, funcs_cap;
    sym_range   *inl;        /* ranges of inlined scopes, grouped per
                                function, each group sorted by lo */
    size_t       ninl, inl_cap;
    bool         oom;        /* an addition failed: the tables are partial
                                and must be dropped (sym_tables_clear) */
} sym_tables;

void sym_tables_clear(sym_tables *t);

/* An address range of a compilation unit; `cu` is the .debug_info offset
 * of its DIE, the key of the unit between reader and resolver. */
typedef struct sym_cu_range {
    uint64_t lo, hi;
    uint64_t cu;
} sym_cu_range;

/* A unit known from the index; its tables are read on first use. */
typedef struct sym_cu {
    uint64_t   off;
    bool       asked;        /* load attempted (whatever the outcome) */
    sym_tables t;
} sym_cu;

typedef struct sym_source sym_source;
typedef struct sym_fetch sym_fetch;

/* Where an object's debug info came from (sym_origin_label). */
typedef enum sym_origin {
    SYM_ORIGIN_UNLOADED,   /* not looked at yet */
    SYM_ORIGIN_NOTHING,    /* no symbols at all */
    SYM_ORIGIN_SYMTAB,     /* ELF symbol table only */
    SYM_ORIGIN_OBJECT,     /* DWARF in the object itself */
    SYM_ORIGIN_BUILD_ID,   /* DIR/.build-id/xx/rest.debug */
    SYM_ORIGIN_DEBUGLINK,  /* .gnu_debuglink */
    SYM_ORIGIN_DEBUGINFOD, /* fetched by build-id */
    SYM_ORIGIN_FETCHING,   /* being fetched: symtab only meanwhile */
    SYM_ORIGIN_MINIDEBUG,  /* symbols from .gnu_debugdata, no DWARF */
} sym_origin;

typedef struct sym_object {
    char       *path;        /* as registered */
    char       *file;        /* where it is read (sym_object_file), once known */
    bool        file_known;
    uint8_t     build_id[32];
    size_t      build_id_len;

    bool        loaded;      /* load attempted (whatever the outcome) */
    sym_strings *strings;     /* shared with the resolver */

    sym_elfsym *syms;        /* sorted by lo */
    size_t      nsyms;
    bool        syms_from_symtab; /* else from .dynsym */

    sym_source *src;         /* the DWARF reader; NULL once none is left */
    sym_cu     *cus;         /* sorted by off */
    size_t      ncus;
    sym_cu_range *cu_ranges; /* sorted by lo */
    uint64_t   *cu_maxhi;    /* running max of cu_ranges[..i].hi */
    size_t      ncu_ranges;
    bool        index_complete; /* from every CU DIE, not only aranges */

    sym_origin  origin;
    bool        dwz;         /* its DWARF links a dwz multifile */
    char       *debug_path;  /* the separate debug file used, or NULL */
    char       *problem;     /* the first problem of its load, or NULL */
    sym_fetch  *fetch;       /* a debuginfod fetch under way */
    bool        fetch_asked; /* debuginfod was asked (once per object) */
    bool        awaiting;    /* loaded without the debug file being fetched */
    bool        minidebug;   /* its symbols came with .gnu_debugdata */
} sym_object;

/* Reports a loading problem ("PATH: why"); `ctx` is the resolver. */
typedef void (*sym_report_fn)(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct sym_pool sym_pool;

typedef struct sym_load_ctx {
    sym_report_fn        report;
    void                *report_ctx;
    const char *const   *debug_dirs;
    size_t               ndirs;
    bool                 in_process; /* read DWARF without a child process */
    sym_pool            *pool;       /* the live reader processes */
    unsigned             fetch_ms;   /* debuginfod's bound per fetch; 0: off */
    bool                 fetch_wait; /* a load waits for its fetch (else it
                                        goes on without, to collect later) */
    const char          *root;       /* the process's root when not ours, or NULL */
} sym_load_ctx;

/* sym_object.c */
/* NULL when out of memory. */
sym_object *sym_object_new(const char *path, const uint8_t *build_id,
                           size_t build_id_len, sym_strings *strings);
void        sym_object_free(sym_object *o);
void        sym_object_load(sym_object *o, const sym_load_ctx *ctx);
/* With debuginfod on: starts fetching the debug file of an object that
 * has none here, so that the answer is there by its first frame. */
void        sym_object_prefetch(sym_object *o, const sym_load_ctx *ctx);
const char *sym_origin_label(sym_origin origin);
/* Where the object's debug info came from (the origin of a loaded object
 * without debug info is symtab only or nothing). */
sym_origin  sym_object_origin(const sym_object *o);
/* An object loaded while its debug file was being fetched: installs the
 * answer once it is in (waiting for it with ctx->fetch_wait). True when
 * something changed: frames of the object may differ from then on. */
bool        sym_object_collect(sym_object *o, const sym_load_ctx *ctx);
/* The tables of the units covering vaddr (at most max), read on first
 * use; in .debug_info order. */
size_t sym_object_units_at(sym_object *o, uint64_t vaddr,
                           const sym_load_ctx *ctx, const sym_tables **out,
                           size_t max);
/* Installs a unit index (takes ownership of ranges): 0, or -ENOMEM with
 * the index the object had kept. */
int sym_object_set_index(sym_object *o, sym_cu_range *ranges, size_t n,
                         bool complete);

/* sym_elf.c: ELF symbol tables, build-id and debuglink of an open Elf. */
struct Elf;
/* 0, or -ENOMEM with the object's symbols as they were. */
int   sym_elf_read_symbols(sym_object *o, struct Elf *elf);
/* Without a .symtab: the symbols of the xz-compressed ELF in .gnu_debugdata
 * (MiniDebugInfo, as Fedora ships) with .dynsym's. 0 (also when there is
 * none), -EINVAL when it is unreadable, -ENOMEM. */
int   sym_elf_read_minidebug(sym_object *o, struct Elf *elf);
bool  sym_elf_has_section(struct Elf *elf, const char *prefix);
size_t sym_elf_build_id(struct Elf *elf, uint8_t *out, size_t max);
/* The .gnu_debuglink name (malloc'ed) and its CRC, or NULL (also when
 * out of memory). */
char *sym_elf_debuglink(struct Elf *elf, uint32_t *crc);
/* The .gnu_debugaltlink path (malloc'ed) and up to `max` bytes of the
 * multifile's build-id, or NULL (no link, or out of memory). */
char *sym_elf_altlink(struct Elf *elf, uint8_t *id, size_t max, size_t *idlen);
const sym_elfsym *sym_elf_lookup(const sym_object *o, uint64_t vaddr);
/* Decompresses the SHF_COMPRESSED DWARF sections the reader uses. */
void  sym_elf_decompress(struct Elf *elf, const char *path,
                         const sym_load_ctx *ctx);

/* sym_debugfile.c: finds a separate debug file; returns an open fd or -1,
 * and the path found in *found (malloc'ed). */
int sym_debugfile_find(const char *objpath, struct Elf *elf,
                       const uint8_t *build_id, size_t build_id_len,
                       const sym_load_ctx *ctx, char **found,
                       sym_origin *how);
/* An fd on a regular file (never blocking on a FIFO), or -1. */
int sym_open_regular(const char *path);
uint32_t sym_crc32_fd(int fd, bool *ok);
/* Finds the dwz multifile named by .gnu_debugaltlink of `elf` (the file at
 * `path`): the path as written, relative to that file, under each debug
 * directory (as written, and in .dwz/), then by build-id. Only a file with
 * the link's build-id is taken: an open fd and its path in *found, else -1
 * with one reason reported. */
int sym_altfile_find(const char *path, struct Elf *elf,
                     const sym_load_ctx *ctx, char **found);

/* sym_fetch.c: one debuginfod fetch in a child process, killed after
 * bound_ms. NULL when it cannot start (no memory, no process). */
sym_fetch *sym_fetch_start(const uint8_t *id, size_t len, unsigned bound_ms,
                           sym_pool *pool);
/* Whether the answer is in (or the bound passed): finish will not wait. */
bool sym_fetch_ready(sym_fetch *f);
/* Waits for the answer until the bound; frees f. An open fd on the
 * fetched file and its path (*found, malloc'ed), or -1 and why. */
int  sym_fetch_finish(sym_fetch *f, char **found, char *why, size_t whylen);
void sym_fetch_cancel(sym_fetch *f);

/* sym_dwarf.c: the DWARF reader, one unit at a time. */
typedef struct sym_dwarf sym_dwarf;
/* NULL, with a reason reported, when the Elf has no readable DWARF. The
 * Elf must outlive the reader; ctx is copied. */
sym_dwarf *sym_dwarf_open(struct Elf *elf, const char *path,
                          sym_strings *strings, const sym_load_ctx *ctx);
void       sym_dwarf_close(sym_dwarf *d);
/* The units' ranges: from .debug_aranges, or with `full` (or without
 * aranges) from every unit DIE, then *complete is true. malloc'ed. */
sym_cu_range *sym_dwarf_index(sym_dwarf *d, bool full, size_t *n,
                              bool *complete);
/* Reads the unit whose DIE is at `off` into t. */
void       sym_dwarf_load_unit(sym_dwarf *d, uint64_t off, sym_tables *t);

/* sym_source.c (with sym_pool.c, sym_wire.c, sym_local.c; sym_source.h):
 * a reader of one file's DWARF, in a child process that answers per-unit
 * requests (libdwarf 20210528 has memory bugs on corrupt input), or in this
 * process. Takes ownership of fd (NULL when out of memory; fd closed). A
 * crash, hang or broken stream stops the source: the object keeps what it
 * had. */
sym_source *sym_source_new(int fd, const char *path, sym_strings *strings,
                           const sym_load_ctx *ctx);
void        sym_source_free(sym_source *s);
/* 0, or -1 / -ENOMEM with a reason reported; after a failure,
 * sym_source_dead says whether to give up on the source (else only that
 * request failed). */
int  sym_source_index(sym_source *s, bool full, sym_object *o,
                      const sym_load_ctx *ctx);
int  sym_source_unit(sym_source *s, uint64_t off, sym_tables *t,
                     const sym_load_ctx *ctx);
bool sym_source_dead(const sym_source *s);
sym_pool *sym_pool_new(void); /* NULL when out of memory: no pool limit */
void      sym_pool_free(sym_pool *p);

/* sym_resolver.c: for tests and the fuzzer, which want libdwarf in their
 * own process (sanitizer reports, coverage). */
struct sym_resolver;
void sym_resolver_set_in_process(struct sym_resolver *r, bool in_process);

/* sym_lines.c / sym_scopes.c: one unit's tables */
uint32_t        sym_files_add(sym_tables *t, const char *interned);
void            sym_lines_add(sym_tables *t, uint64_t addr, uint32_t file,
                              uint32_t line);
void            sym_lines_sort(sym_tables *t);
/* The last row at or below vaddr, end_sequence rows included, or NULL. */
const sym_line *sym_lines_last(const sym_tables *t, uint64_t vaddr);

/* Adds a scope; returns its index. */
uint32_t sym_scopes_add(sym_tables *t, const sym_scope *s);
void     sym_scopes_add_range(sym_tables *t, uint32_t scope, uint64_t lo,
                              uint64_t hi);
void     sym_scopes_finish(sym_tables *t);
/* The best-fitting function range containing vaddr, or NULL. */
const sym_range *sym_func_lookup(const sym_tables *t, uint64_t vaddr);
/* Whether `cand` fits vaddr better than `best` (binutils' choice). */
bool sym_range_better(const sym_tables *tc, const sym_range *cand,
                      const sym_tables *tb, const sym_range *best);
/* Innermost scope within function range f containing vaddr. */
uint32_t sym_scopes_inner(const sym_tables *t, const sym_range *f,
                          uint64_t vaddr);

#endif
