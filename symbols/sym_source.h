/* sym_source.h: what the three parts of a DWARF source share: the source
 * object, the wire protocol between the frontend and a reader child
 * (sym_wire.c), the pool of reader children (sym_pool.c) and the reader in
 * this process (sym_local.c). sym_source.c picks one per source. Not part
 * of the interface; sym_internal.h declares what the rest of symbols/ uses. */
#ifndef LEAKTOP_SYM_SOURCE_H
#define LEAKTOP_SYM_SOURCE_H

#include "sym_internal.h"

#include <sys/types.h>

struct Elf;

struct sym_source {
    char        *path;
    int          fd;        /* the file with DWARF: a restart reopens it */
    sym_strings *strings;
    sym_pool    *pool;
    bool         in_process;
    bool         dead;
    int          failures;
    /* in process (sym_local.c) */
    bool         opened;
    struct Elf  *elf;
    sym_dwarf   *reader;
    /* child (sym_pool.c) */
    pid_t        pid;       /* 0 while no child runs */
    int          sock;
    uint64_t     last_use;
};

/* ---- sym_wire.c: requests and answers ----
 * A request is two u64 (op, argument). An answer is its length, then
 * magic, op, status (0, or 1: the reader could not open the file), body,
 * message (the reader's first problem, or none), magic. Pointers never
 * cross: files go by index, strings by value. */
enum { SYM_REQ_INDEX = 1, SYM_REQ_FULL_INDEX = 2, SYM_REQ_UNIT = 3 };

/* What checking an answer found. */
typedef enum sym_wire_result {
    SYM_WIRE_OK,
    SYM_WIRE_NOT_OPENED, /* a valid answer: the child's reader could not open */
    SYM_WIRE_BROKEN,     /* truncated, inconsistent or out-of-range */
    SYM_WIRE_NOMEM,      /* valid so far, but no memory to hold it */
} sym_wire_result;

/* Child side: reads one request (false at end of stream); writes the
 * answer to it, from reader d (NULL: could not open). -ENOMEM, -EIO or 0. */
bool sym_wire_read_request(int fd, uint64_t rq[2]);
int  sym_wire_write_answer(int fd, sym_dwarf *d, const uint64_t rq[2],
                           const char *msg);

/* Parent side: checks an answer's bytes and takes what it holds; the
 * message, if any, goes to ctx->report. Index: *ranges malloc'ed. */
sym_wire_result sym_wire_parse_index(const uint8_t *buf, size_t len,
                                     uint64_t op, sym_strings *strings,
                                     const sym_load_ctx *ctx,
                                     sym_cu_range **ranges, size_t *n,
                                     bool *complete);
sym_wire_result sym_wire_parse_unit(const uint8_t *buf, size_t len,
                                    sym_strings *strings,
                                    const sym_load_ctx *ctx, sym_tables *t);

/* ---- sym_local.c: the reader in whichever process runs it ---- */
/* Opens s->fd's ELF and its DWARF (NULL, with a reason reported). */
sym_dwarf *sym_local_open(sym_source *s, const sym_load_ctx *ctx);
int sym_local_index(sym_source *s, bool full, sym_object *o,
                    const sym_load_ctx *ctx);
int sym_local_unit(sym_source *s, uint64_t off, sym_tables *t,
                   const sym_load_ctx *ctx);
void sym_local_close(sym_source *s);

/* ---- sym_pool.c: the source's reader child ---- */
int  sym_pool_index(sym_source *s, bool full, sym_object *o,
                    const sym_load_ctx *ctx);
int  sym_pool_unit(sym_source *s, uint64_t off, sym_tables *t,
                   const sym_load_ctx *ctx);
/* Stops the source's child, if one runs. */
void sym_pool_stop(sym_source *s);
/* In a new child process (reader or fetcher): stderr to /dev/null, the
 * frontend's signal handlers dropped, and the readers' sockets closed (a
 * child holding one would keep that reader from seeing end-of-file). */
void sym_child_setup(void);
void sym_pool_close_inherited(sym_pool *p);

#endif
