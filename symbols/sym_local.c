/* sym_local.c: a DWARF reader in this process: the one a reader child runs
 * (sym_pool.c), and the fallback the tests and the fuzzer use to keep
 * libdwarf where sanitizers and coverage see it. Opens on first use. */
#include "sym_source.h"

#include <errno.h>
#include <libelf.h>
#include <stdlib.h>

sym_dwarf *sym_local_open(sym_source *s, const sym_load_ctx *ctx)
{
    s->elf = elf_begin(s->fd, ELF_C_READ_MMAP, NULL);
    if (s->elf == NULL || elf_kind(s->elf) != ELF_K_ELF) {
        ctx->report(ctx->report_ctx, "%s: not an ELF file (%s)", s->path,
                    elf_errmsg(-1));
        return NULL;
    }
    sym_elf_decompress(s->elf, s->path, ctx);
    return sym_dwarf_open(s->elf, s->path, s->strings, ctx);
}

static sym_dwarf *sym_local_reader(sym_source *s, const sym_load_ctx *ctx)
{
    if (!s->opened) {
        s->opened = true;
        s->reader = sym_local_open(s, ctx);
    }
    if (s->reader == NULL)
        s->dead = true;
    return s->reader;
}

int sym_local_index(sym_source *s, bool full, sym_object *o,
                    const sym_load_ctx *ctx)
{
    sym_dwarf *d = sym_local_reader(s, ctx);
    if (d == NULL)
        return -1;
    size_t n = 0;
    bool complete = false;
    sym_cu_range *r = sym_dwarf_index(d, full, &n, &complete);
    if (sym_object_set_index(o, r, n, complete) != 0) {
        ctx->report(ctx->report_ctx, "%s: out of memory indexing DWARF", s->path);
        return -ENOMEM;
    }
    return 0;
}

/* A unit that ran out of memory part way is dropped whole: half a line
 * table would charge addresses to the wrong lines. */
int sym_local_unit(sym_source *s, uint64_t off, sym_tables *t,
                   const sym_load_ctx *ctx)
{
    sym_dwarf *d = sym_local_reader(s, ctx);
    if (d == NULL)
        return -1;
    sym_dwarf_load_unit(d, off, t);
    if (!t->oom)
        return 0;
    sym_tables_clear(t);
    ctx->report(ctx->report_ctx, "%s: out of memory reading DWARF", s->path);
    return -ENOMEM;
}

void sym_local_close(sym_source *s)
{
    sym_dwarf_close(s->reader);
    s->reader = NULL;
    if (s->elf != NULL)
        elf_end(s->elf);
    s->elf = NULL;
}
