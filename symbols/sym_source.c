/* sym_source.c: a file's DWARF as the object sees it: read by a child
 * process (sym_pool.c) or, for tests and the fuzzer, in this process
 * (sym_local.c). See sym_internal.h for the contract. */
#include "sym_source.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

sym_source *sym_source_new(int fd, const char *path, sym_strings *strings,
                           const sym_load_ctx *ctx)
{
    sym_source *s = sym_alloc_array(1, sizeof *s);
    char *copy = sym_strdup(path);
    if (s == NULL || copy == NULL) {
        free(s);
        free(copy);
        close(fd);
        ctx->report(ctx->report_ctx, "%s: out of memory", path);
        return NULL;
    }
    s->path = copy;
    s->fd = fd;
    s->strings = strings;
    s->pool = ctx->pool;
    s->in_process = ctx->in_process;
    s->sock = -1;
    return s;
}

void sym_source_free(sym_source *s)
{
    if (s == NULL)
        return;
    sym_pool_stop(s);
    sym_local_close(s);
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s);
}

bool sym_source_dead(const sym_source *s)
{
    return s->dead;
}

int sym_source_index(sym_source *s, bool full, sym_object *o,
                     const sym_load_ctx *ctx)
{
    if (s->dead)
        return -1;
    return s->in_process ? sym_local_index(s, full, o, ctx)
                         : sym_pool_index(s, full, o, ctx);
}

int sym_source_unit(sym_source *s, uint64_t off, sym_tables *t,
                    const sym_load_ctx *ctx)
{
    if (s->dead)
        return -1;
    return s->in_process ? sym_local_unit(s, off, t, ctx)
                         : sym_pool_unit(s, off, t, ctx);
}
