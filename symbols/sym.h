/* sym.h: return address -> source frames (function, file, line, inlined
 * chain, module), with libdwarf and libelf. Knows modules only through the
 * table its caller gives it (the tracer's module table); loads each object's
 * debug information lazily, on the first address that falls in it. */
#ifndef LEAKTOP_SYM_H
#define LEAKTOP_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sym_resolver sym_resolver;

/* One frame. Strings are owned by the resolver and live until
 * sym_resolver_free. */
typedef struct sym_frame {
    const char *function;  /* demangled; NULL when nothing is known */
    const char *file;      /* source path (absolute when DWARF allows); NULL without line info */
    uint32_t    line;      /* 0 without line info */
    const char *module;    /* object path; NULL when the address is in no module */
    uint64_t    offset;    /* return address - module bias (the ELF vaddr); the address itself when no module */
    bool        inlined;   /* inlined into the frame that follows */
    /* The containing function's symbol as the object's symbol table has it
     * (mangled), when it differs from `function`; NULL otherwise and for
     * inlined frames (pprof's Function.system_name). */
    const char *system_name;
    bool        pending;   /* the module's debug file is being fetched:
                              resolve again later for more */
} sym_frame;

/* One loaded object, as the tracer published it (lt_module). */
typedef struct sym_module {
    const char    *path;
    uint64_t       bias;          /* runtime = ELF vaddr + bias */
    uint64_t       lo, hi;        /* runtime range */
    uint32_t       gen_loaded;
    uint32_t       gen_unloaded;  /* UINT32_MAX while loaded */
    const uint8_t *build_id;
    size_t         build_id_len;
} sym_module;

/* `debug_dirs`: extra directories searched for separate debug files, before
 * /usr/lib/debug (may be NULL). NULL when out of memory; the other calls
 * accept a NULL resolver (sym_resolve then gives addresses only).
 * Running out of memory later is never fatal: what could not be read is
 * left out (frames fall back to ELF symbols, module and offset) and
 * sym_resolver_last_error says so. */
sym_resolver *sym_resolver_new(const char *const *debug_dirs, size_t ndirs);
void          sym_resolver_free(sym_resolver *r);

/* Adds or updates (same index) the module at position `index` of the
 * tracer's table. Returns 0, or a negative errno (-EINVAL, -ENOMEM). */
int sym_resolver_set_module(sym_resolver *r, uint32_t index, const sym_module *m);

/* Resolves a return address seen in a trace recorded at module generation
 * `gen` (or, when no module held it then, in the module that covers it and
 * was loaded soonest after: a library's constructors allocate before the
 * tracer lists the library). Looks up address-1 (the call instruction). Writes up to `max`
 * frames, innermost inlined function first, the containing function last;
 * returns how many (always >= 1 when max >= 1). Never fails: an address in
 * no module, or without debug info, gives one frame with what is known
 * (ELF symbol name, module and offset). */
int sym_resolve(sym_resolver *r, uint64_t return_address, uint32_t gen,
                sym_frame *out, int max);

/* Debug files missing here are fetched by build-id from the debuginfod
 * servers of DEBUGINFOD_URLS (libdebuginfod reads it, with
 * DEBUGINFOD_CACHE_PATH and DEBUGINFOD_TIMEOUT), each module once, each
 * fetch in a child process killed after bound_ms. 0 (the default) turns it
 * off. A module registered afterwards starts its fetch at once, so that
 * the answer is often in by its first frame. Else, with `wait`, that frame
 * waits for what is left of the bound; without, it comes from what is here
 * (ELF symbols) marked `pending`, and frames asked for after the answer
 * came get the debug file's. */
void sym_resolver_set_debuginfod(sym_resolver *r, unsigned bound_ms,
                                 bool wait);
/* The traced process's root, when it is not ours (a container's, a
 * chroot: "/proc/PID/root"): each module's file is read there when it is
 * there, else at its path here (a process that chroot()ed after loading
 * it). Paths only the process can resolve (/proc/self/...) are never
 * read: they would name the reader's own files. NULL: ours. 0, or a
 * negative errno. */
int sym_resolver_set_root(sym_resolver *r, const char *root);

/* How many debuginfod fetches are still waiting for their answer. */
unsigned sym_resolver_fetching(const sym_resolver *r);

/* Where a module's debug info came from. Strings owned by the resolver. */
typedef struct sym_module_info {
    const char *path;
    const char *origin;     /* "in the object", "build-id dir", "debuglink",
                               "debuginfod", "fetching from debuginfod",
                               "MiniDebugInfo" (symbols from .gnu_debugdata),
                               "symtab only", "no symbols", "not loaded" */
    const char *debug_path; /* the separate debug file, or NULL */
    bool        dwz;        /* its DWARF links a dwz multifile */
    const char *problem;    /* the first problem of its load, or NULL */
} sym_module_info;

/* Fills *out for the module at `index` (loading its debug info first with
 * `load`, waiting for its fetch if one runs): 0, or -EINVAL when there is
 * no such module. */
int sym_resolver_module_info(sym_resolver *r, uint32_t index, bool load,
                             sym_module_info *out);

/* The last problem met while loading a module's debug info ("PATH: why"),
 * or NULL. For diagnostics (--verbose), never fatal. */
const char *sym_resolver_last_error(const sym_resolver *r);

#endif
