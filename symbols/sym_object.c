/* sym_object.c: one object file (executable or shared library) and its
 * lazy loading: open it with libelf, read its symbol table, find its DWARF
 * (in the object, else in a separate debug file) and build the tables.
 * Every failure leaves a usable, possibly empty, object. */
#include "sym_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sym_object *sym_object_new(const char *path, const uint8_t *build_id,
                           size_t build_id_len, sym_strings *strings)
{
    sym_object *o = sym_xcalloc(1, sizeof *o);
    o->path = sym_xstrdup(path);
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
    free(o->syms);
    free(o->files);
    free(o->lines);
    free(o->scopes);
    free(o->funcs);
    free(o->inl);
    free(o);
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

/* libdwarf 20210528 reads SHF_COMPRESSED sections itself (it links zlib),
 * but going through libelf first keeps one well-tested decompressor and
 * lets a failure be named. */
static void sym_elf_decompress(Elf *elf, const char *path,
                               const sym_load_ctx *ctx)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL ||
            (shdr.sh_flags & SHF_COMPRESSED) == 0)
            continue;
        const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (name == NULL || strncmp(name, ".debug_", 7) != 0)
            continue;
        if (elf_compress(scn, 0, 0) < 0)
            ctx->report(ctx->report_ctx,
                        "%s: %s: cannot decompress (%s)", path, name,
                        elf_errmsg(-1));
    }
}

static bool sym_elf_has_dwarf(Elf *elf)
{
    return sym_elf_has_section(elf, ".debug_info") ||
           sym_elf_has_section(elf, ".zdebug_info");
}

typedef struct sym_dwarf_arg {
    Elf        *elf;
    const char *path;
} sym_dwarf_arg;

static int sym_object_dwarf_here(sym_object *o, void *arg,
                                 const sym_load_ctx *ctx)
{
    sym_dwarf_arg *a = arg;
    sym_elf_decompress(a->elf, a->path, ctx);
    return sym_dwarf_load(o, a->elf, a->path, ctx);
}

/* Decompression and libdwarf run in a child process (sym_isolate.c). */
static int sym_object_dwarf(sym_object *o, sym_elf_file *f, const char *path,
                            const sym_load_ctx *ctx)
{
    sym_dwarf_arg arg = {f->elf, path};
    return sym_isolated(o, sym_object_dwarf_here, &arg, path, ctx);
}

/* Looks for a separate debug file and loads DWARF (and, when the object
 * has none, symbols) from it. */
static void sym_object_load_debugfile(sym_object *o, Elf *elf,
                                      const sym_load_ctx *ctx)
{
    char *found = NULL;
    int fd = sym_debugfile_find(o->path, elf, o->build_id, o->build_id_len,
                                ctx, &found);
    if (fd < 0) {
        ctx->report(ctx->report_ctx,
                    "%s: no debug info (no DWARF, no separate debug file)",
                    o->path);
        return;
    }
    sym_elf_file d;
    if (sym_elf_open_fd(&d, fd, found, ctx) == 0) {
        sym_elf_read_symbols(o, d.elf);
        if (sym_elf_has_dwarf(d.elf))
            sym_object_dwarf(o, &d, found, ctx);
        else
            ctx->report(ctx->report_ctx, "%s: debug file has no DWARF",
                        found);
        sym_elf_close(&d);
    }
    free(found);
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

void sym_object_load(sym_object *o, const sym_load_ctx *ctx)
{
    if (o->loaded)
        return;
    o->loaded = true;
    sym_elf_file f;
    if (sym_elf_open(&f, o->path, ctx) != 0) {
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
    sym_elf_read_symbols(o, f.elf);
    if (!sym_elf_has_dwarf(f.elf) || sym_object_dwarf(o, &f, o->path, ctx) != 0)
        sym_object_load_debugfile(o, f.elf, ctx);
    sym_elf_close(&f);
}
