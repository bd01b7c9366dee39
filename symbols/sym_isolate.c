/* sym_isolate.c: where DWARF is read. libdwarf 20210528 has memory bugs on
 * corrupt input (a double free in dwarf_load_rnglists, found by
 * tests/symbols), and a hostile file may make it loop: the frontend must
 * survive both. So a source is a child process per file that keeps the
 * file's DWARF open and answers requests (the unit index, one unit's
 * tables) over a socket; the parent checks every answer before using it.
 * A crash or broken answer costs the unit asked for (the child is started
 * again, a few times); a hang costs the rest of the file. At most
 * SYM_POOL_MAX children live at once: the least recently used one is
 * stopped, to be started again if its file is asked about. */
#include "sym_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libdwarf/libdwarf.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYM_ISOLATE_MAGIC      0x4c454b544f505359ull /* "YSPOTKEL" */
#define SYM_ISOLATE_TIMEOUT_MS (120 * 1000)
#define SYM_ISOLATE_MAX_BYTES  ((size_t)1 << 30)
#define SYM_MSG_MAX            1024
#define SYM_POOL_MAX           8
#define SYM_MAX_FAILURES       3

enum { SYM_REQ_INDEX = 1, SYM_REQ_FULL_INDEX = 2, SYM_REQ_UNIT = 3 };

struct sym_source {
    char        *path;
    int          fd;        /* the file with DWARF: a restart reopens it */
    sym_strings *strings;
    sym_pool    *pool;
    bool         in_process;
    bool         dead;
    int          failures;
    /* in process */
    bool         opened;
    Elf         *elf;
    sym_dwarf   *reader;
    /* child */
    pid_t        pid;       /* 0 while no child runs */
    int          sock;
    uint64_t     last_use;
};

struct sym_pool {
    sym_source *live[SYM_POOL_MAX];
    size_t      n;
    uint64_t    clock;
};

/* ---- the reader, in whichever process runs it ---- */

static sym_dwarf *sym_source_open_here(sym_source *s, const sym_load_ctx *ctx)
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

/* ---- child: serialise ---- */

typedef struct sym_out {
    uint8_t *buf;
    size_t   len, cap;
} sym_out;

static void sym_out_put(sym_out *w, const void *p, size_t n)
{
    sym_grow((void **)&w->buf, &w->cap, w->len + n, 1);
    if (n > 0)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void sym_out_u64(sym_out *w, uint64_t v)
{
    sym_out_put(w, &v, sizeof v);
}

static void sym_out_str(sym_out *w, const char *s)
{
    uint64_t n = s != NULL ? strlen(s) : UINT64_MAX;
    sym_out_u64(w, n);
    if (s != NULL)
        sym_out_put(w, s, (size_t)n);
}

static uint64_t sym_file_index(const sym_tables *t, const char *file)
{
    for (size_t f = 0; file != NULL && f < t->nfiles; f++)
        if (t->files[f] == file)
            return f;
    return UINT64_MAX;
}

/* Files by index; scope strings by value (call_file as a file index);
 * ranges as they are. Pointers never cross the socket. */
static void sym_put_tables(sym_out *w, const sym_tables *t)
{
    sym_out_u64(w, t->nfiles);
    for (size_t i = 0; i < t->nfiles; i++)
        sym_out_str(w, t->files[i]);
    sym_out_u64(w, t->nlines);
    sym_out_put(w, t->lines, t->nlines * sizeof *t->lines);
    sym_out_u64(w, t->nscopes);
    for (size_t i = 0; i < t->nscopes; i++) {
        sym_scope s = t->scopes[i];
        sym_out_str(w, s.name);
        sym_out_u64(w, sym_file_index(t, s.call_file));
        s.name = NULL;
        s.call_file = NULL;
        sym_out_put(w, &s, sizeof s);
    }
    sym_out_u64(w, t->nfuncs);
    sym_out_put(w, t->funcs, t->nfuncs * sizeof *t->funcs);
    sym_out_u64(w, t->ninl);
    sym_out_put(w, t->inl, t->ninl * sizeof *t->inl);
}

static void sym_put_answer(sym_out *w, sym_dwarf *d, uint64_t op,
                           uint64_t arg)
{
    if (op == SYM_REQ_UNIT) {
        sym_tables t = {0};
        sym_dwarf_load_unit(d, arg, &t);
        sym_put_tables(w, &t);
        sym_tables_clear(&t);
        return;
    }
    size_t n = 0;
    bool complete = false;
    sym_cu_range *r = sym_dwarf_index(d, op == SYM_REQ_FULL_INDEX, &n,
                                      &complete);
    sym_out_u64(w, complete);
    sym_out_u64(w, n);
    sym_out_put(w, r, n * sizeof *r);
    free(r);
}

static void sym_child_report(void *ctx, const char *fmt, ...)
{
    char *msg = ctx;
    if (msg[0] != '\0')
        return; /* the first problem is the cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, SYM_MSG_MAX, fmt, ap);
    va_end(ap);
}

static bool sym_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

/* A request is two u64 (op, argument); EOF means the parent is done. */
static bool sym_child_request(int fd, uint64_t rq[2])
{
    size_t got = 0;
    while (got < 2 * sizeof(uint64_t)) {
        ssize_t k = read(fd, (uint8_t *)rq + got, 2 * sizeof(uint64_t) - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        got += (size_t)k;
    }
    return true;
}

/* Whatever libdwarf or a sanitizer prints must not reach the frontend's
 * terminal, and the frontend's handlers (terminal resize, interrupt) are
 * not ours: the parent decides what happens to the child. */
static void sym_child_setup(void)
{
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0)
        dup2(devnull, STDERR_FILENO);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGWINCH, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
}

/* Answer: length, then magic, op, status, body, message, magic. A reader
 * that could not open answers once with status 1 and exits. */
static _Noreturn void sym_child(int fd, sym_source *s, const sym_load_ctx *ctx)
{
    sym_child_setup();
    /* libdwarf's record of every allocation (so that dwarf_finish can free
     * leftovers) costs a fifth of the reading time; this process exits
     * without dwarf_finish anyway. The in-process reader keeps it, for the
     * leak checker. */
    dwarf_set_de_alloc_flag(0);
    char msg[SYM_MSG_MAX] = "";
    sym_load_ctx child_ctx = *ctx;
    child_ctx.report = sym_child_report;
    child_ctx.report_ctx = msg;
    sym_dwarf *d = sym_source_open_here(s, &child_ctx);
    uint64_t rq[2];
    while (sym_child_request(fd, rq)) {
        sym_out w = {0};
        sym_out_u64(&w, 0); /* length, filled below */
        sym_out_u64(&w, SYM_ISOLATE_MAGIC);
        sym_out_u64(&w, rq[0]);
        sym_out_u64(&w, d != NULL ? 0 : 1);
        if (d != NULL)
            sym_put_answer(&w, d, rq[0], rq[1]);
        sym_out_str(&w, msg[0] != '\0' ? msg : NULL);
        sym_out_u64(&w, SYM_ISOLATE_MAGIC);
        uint64_t len = w.len - sizeof len;
        memcpy(w.buf, &len, sizeof len);
        msg[0] = '\0';
        if (!sym_write_all(fd, w.buf, w.len))
            _exit(2);
        free(w.buf);
        if (d == NULL)
            break;
    }
    _exit(0);
}

/* ---- parent: read and check ---- */

typedef struct sym_in {
    const uint8_t *p, *end;
    bool           bad;
} sym_in;

static const void *sym_in_take(sym_in *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const void *q = r->p;
    r->p += n;
    return q;
}

static uint64_t sym_in_u64(sym_in *r)
{
    uint64_t v = 0;
    const void *q = sym_in_take(r, sizeof v);
    if (q != NULL)
        memcpy(&v, q, sizeof v);
    return v;
}

static const char *sym_in_str(sym_in *r, sym_strings *strings)
{
    uint64_t n = sym_in_u64(r);
    if (n == UINT64_MAX || r->bad)
        return NULL;
    const char *s = sym_in_take(r, n);
    return s != NULL ? sym_intern_n(strings, s, (size_t)n) : NULL;
}

/* A count of elements of `size` bytes that the stream can hold. */
static size_t sym_in_count(sym_in *r, size_t size)
{
    uint64_t n = sym_in_u64(r);
    if (r->bad || n > (uint64_t)(r->end - r->p) / (size ? size : 1)) {
        r->bad = true;
        return 0;
    }
    return (size_t)n;
}

static void *sym_in_array(sym_in *r, size_t n, size_t size)
{
    const void *q = sym_in_take(r, n * size);
    if (q == NULL || n == 0)
        return NULL;
    void *a = sym_xmalloc(n * size);
    memcpy(a, q, n * size);
    return a;
}

/* Indexes are checked so that lookups can trust them. */
static bool sym_tables_valid(const sym_tables *t)
{
    for (size_t i = 0; i < t->nlines; i++) {
        uint32_t f = t->lines[i].file;
        if (f >= t->nfiles && f != SYM_LINE_END && f != SYM_LINE_END - 1)
            return false;
        if (i > 0 && t->lines[i].addr < t->lines[i - 1].addr)
            return false; /* lookups bisect */
    }
    for (size_t i = 0; i < t->nscopes; i++) {
        const sym_scope *s = &t->scopes[i];
        if (s->parent >= (int64_t)i || s->parent < -1 ||
            (size_t)s->first_inl + s->ninl > t->ninl)
            return false;
    }
    for (size_t i = 0; i < t->nfuncs; i++)
        if (t->funcs[i].scope >= t->nscopes || t->funcs[i].func >= t->nscopes)
            return false;
    for (size_t i = 0; i < t->ninl; i++)
        if (t->inl[i].scope >= t->nscopes || t->inl[i].func >= t->nscopes)
            return false;
    return true;
}

static bool sym_read_scopes(sym_in *r, sym_tables *t, sym_strings *strings)
{
    size_t min = 2 * sizeof(uint64_t) + sizeof(sym_scope);
    t->nscopes = sym_in_count(r, min);
    t->scopes = sym_xcalloc(t->nscopes, sizeof *t->scopes);
    for (size_t i = 0; i < t->nscopes && !r->bad; i++) {
        const char *name = sym_in_str(r, strings);
        uint64_t call_file = sym_in_u64(r);
        const void *q = sym_in_take(r, sizeof(sym_scope));
        if (q == NULL)
            break;
        memcpy(&t->scopes[i], q, sizeof(sym_scope));
        t->scopes[i].name = name;
        t->scopes[i].call_file = call_file < t->nfiles ? t->files[call_file]
                                                       : NULL;
    }
    return !r->bad;
}

static bool sym_read_tables(sym_in *r, sym_tables *t, sym_strings *strings)
{
    t->nfiles = sym_in_count(r, sizeof(uint64_t));
    t->files = sym_xcalloc(t->nfiles, sizeof *t->files);
    for (size_t i = 0; i < t->nfiles && !r->bad; i++)
        t->files[i] = sym_in_str(r, strings);
    t->nlines = sym_in_count(r, sizeof(sym_line));
    t->lines = sym_in_array(r, t->nlines, sizeof(sym_line));
    if (!sym_read_scopes(r, t, strings))
        return false;
    t->nfuncs = sym_in_count(r, sizeof(sym_range));
    t->funcs = sym_in_array(r, t->nfuncs, sizeof(sym_range));
    t->ninl = sym_in_count(r, sizeof(sym_range));
    t->inl = sym_in_array(r, t->ninl, sizeof(sym_range));
    t->files_cap = t->nfiles;
    t->lines_cap = t->nlines;
    t->scopes_cap = t->nscopes;
    t->funcs_cap = t->nfuncs;
    t->inl_cap = t->ninl;
    return !r->bad && sym_tables_valid(t);
}

static sym_cu_range *sym_read_index(sym_in *r, size_t *n, bool *complete)
{
    *complete = sym_in_u64(r) != 0;
    *n = sym_in_count(r, sizeof(sym_cu_range));
    sym_cu_range *ranges = sym_in_array(r, *n, sizeof(sym_cu_range));
    for (size_t i = 0; i < *n; i++)
        if (ranges[i].lo >= ranges[i].hi)
            r->bad = true;
    return ranges;
}

static int64_t sym_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes; false on EOF, error or the deadline. */
static bool sym_read_exact(int fd, void *buf, size_t n, int64_t deadline,
                           bool *timed_out)
{
    size_t got = 0;
    while (got < n) {
        int64_t left = deadline - sym_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int k = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            *timed_out = true;
            return false;
        }
        ssize_t m = read(fd, (uint8_t *)buf + got, n - got);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            return false;
        got += (size_t)m;
    }
    return true;
}

/* ---- the pool of live children ---- */

sym_pool *sym_pool_new(void)
{
    return sym_xcalloc(1, sizeof(sym_pool));
}

void sym_pool_free(sym_pool *p)
{
    free(p); /* its sources are freed with their objects */
}

static void sym_pool_remove(sym_pool *p, sym_source *s)
{
    for (size_t i = 0; p != NULL && i < p->n; i++)
        if (p->live[i] == s) {
            p->live[i] = p->live[--p->n];
            return;
        }
}

/* Stops the child: closing the socket ends a healthy one; SIGKILL also
 * ends a looping one. A reaped status may be lost to a SIGCHLD handler
 * elsewhere in the frontend; *status is then -1. */
static void sym_source_stop(sym_source *s, int *status)
{
    *status = -1;
    if (s->pid == 0)
        return;
    close(s->sock);
    /* A child that crashed is gone or going: give it a moment so that its
     * signal, not ours, is what waitpid reports. */
    int64_t until = sym_now_ms() + 200;
    pid_t got = 0;
    while ((got = waitpid(s->pid, status, WNOHANG)) == 0 &&
           sym_now_ms() < until)
        poll(NULL, 0, 2);
    if (got == 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, status, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = 0;
    s->sock = -1;
    sym_pool_remove(s->pool, s);
}

static void sym_pool_make_room(sym_pool *p)
{
    if (p == NULL || p->n < SYM_POOL_MAX)
        return;
    size_t lru = 0;
    for (size_t i = 1; i < p->n; i++)
        if (p->live[i]->last_use < p->live[lru]->last_use)
            lru = i;
    int status;
    sym_source_stop(p->live[lru], &status);
}

/* In a new child: the sockets of the readers already running were
 * inherited by fork. Holding them would keep those readers from seeing
 * end-of-file when the frontend closes its end, so stopping them would wait
 * out the grace period and kill them. */
static void sym_pool_close_inherited(sym_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        if (p->live[i]->sock >= 0)
            close(p->live[i]->sock);
}

static int sym_source_spawn(sym_source *s, const sym_load_ctx *ctx)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    sym_pool_make_room(s->pool);
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        sym_pool_close_inherited(s->pool);
        sym_child(sv[1], s, ctx);
    }
    close(sv[1]);
    s->pid = pid;
    s->sock = sv[0];
    if (s->pool != NULL && s->pool->n < SYM_POOL_MAX)
        s->pool->live[s->pool->n++] = s;
    return 0;
}

/* ---- a source ---- */

sym_source *sym_source_new(int fd, const char *path, sym_strings *strings,
                           const sym_load_ctx *ctx)
{
    sym_source *s = sym_xcalloc(1, sizeof *s);
    s->path = sym_xstrdup(path);
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
    int status;
    sym_source_stop(s, &status);
    sym_dwarf_close(s->reader);
    if (s->elf != NULL)
        elf_end(s->elf);
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s);
}

bool sym_source_dead(const sym_source *s)
{
    return s->dead;
}

static void sym_source_failed(sym_source *s, bool timed_out,
                              const sym_load_ctx *ctx)
{
    int status;
    sym_source_stop(s, &status);
    if (timed_out) {
        s->dead = true; /* another try would hang as long */
        ctx->report(ctx->report_ctx, "%s: DWARF reader timed out", s->path);
        return;
    }
    s->dead = ++s->failures >= SYM_MAX_FAILURES;
    if (status != -1 && WIFSIGNALED(status))
        ctx->report(ctx->report_ctx,
                    "%s: DWARF reader crashed (signal %d) on corrupt debug "
                    "info; using ELF symbols there", s->path,
                    WTERMSIG(status));
    else
        ctx->report(ctx->report_ctx, "%s: DWARF reader failed", s->path);
}

/* Sends a request and reads the answer's bytes (malloc'ed). */
static bool sym_source_call(sym_source *s, uint64_t op, uint64_t arg,
                            uint8_t **buf, size_t *len,
                            const sym_load_ctx *ctx)
{
    *buf = NULL;
    if (s->pid == 0 && sym_source_spawn(s, ctx) != 0) {
        s->dead = true;
        ctx->report(ctx->report_ctx, "%s: cannot start the DWARF reader: %s",
                    s->path, strerror(errno));
        return false;
    }
    if (s->pool != NULL)
        s->last_use = ++s->pool->clock;
    uint64_t rq[2] = {op, arg};
    bool timed_out = false;
    int64_t deadline = sym_now_ms() + SYM_ISOLATE_TIMEOUT_MS;
    uint64_t n = 0;
    bool ok = send(s->sock, rq, sizeof rq, MSG_NOSIGNAL) == sizeof rq &&
              sym_read_exact(s->sock, &n, sizeof n, deadline, &timed_out) &&
              n <= SYM_ISOLATE_MAX_BYTES;
    if (ok) {
        *buf = sym_xmalloc((size_t)n);
        *len = (size_t)n;
        ok = sym_read_exact(s->sock, *buf, *len, deadline, &timed_out);
    }
    if (!ok) {
        free(*buf);
        *buf = NULL;
        sym_source_failed(s, timed_out, ctx);
    }
    return ok;
}

/* The envelope around a body: false when broken; *status 1 when the
 * child's reader could not open (it has exited then). */
static bool sym_in_head(sym_in *r, uint64_t op, uint64_t *status)
{
    if (sym_in_u64(r) != SYM_ISOLATE_MAGIC || sym_in_u64(r) != op)
        return false;
    *status = sym_in_u64(r);
    return !r->bad && *status <= 1;
}

static bool sym_in_tail(sym_in *r, sym_strings *strings,
                        const sym_load_ctx *ctx)
{
    const char *msg = sym_in_str(r, strings);
    bool ok = sym_in_u64(r) == SYM_ISOLATE_MAGIC && !r->bad &&
              r->p == r->end;
    if (ok && msg != NULL)
        ctx->report(ctx->report_ctx, "%s", msg);
    return ok;
}

/* The in-process reader opens on first use, as the child's does. */
static sym_dwarf *sym_source_here(sym_source *s, const sym_load_ctx *ctx)
{
    if (!s->opened) {
        s->opened = true;
        s->reader = sym_source_open_here(s, ctx);
    }
    if (s->reader == NULL)
        s->dead = true;
    return s->reader;
}

static int sym_index_here(sym_source *s, bool full, sym_object *o,
                          const sym_load_ctx *ctx)
{
    sym_dwarf *d = sym_source_here(s, ctx);
    if (d == NULL)
        return -1;
    size_t n = 0;
    bool complete = false;
    sym_cu_range *r = sym_dwarf_index(d, full, &n, &complete);
    sym_object_set_index(o, r, n, complete);
    return 0;
}

int sym_source_index(sym_source *s, bool full, sym_object *o,
                     const sym_load_ctx *ctx)
{
    if (s->dead)
        return -1;
    if (s->in_process)
        return sym_index_here(s, full, o, ctx);
    uint64_t op = full ? SYM_REQ_FULL_INDEX : SYM_REQ_INDEX;
    uint8_t *buf;
    size_t len;
    if (!sym_source_call(s, op, 0, &buf, &len, ctx))
        return -1;
    sym_in in = {buf, buf + len, false};
    uint64_t status = 1;
    size_t n = 0;
    bool complete = false;
    sym_cu_range *r = NULL;
    bool ok = sym_in_head(&in, op, &status);
    if (ok && status == 0)
        r = sym_read_index(&in, &n, &complete);
    ok = ok && sym_in_tail(&in, s->strings, ctx);
    free(buf);
    if (ok && status == 0) {
        sym_object_set_index(o, r, n, complete);
        return 0;
    }
    free(r);
    if (ok) /* the child could not open the file and has exited */
        s->dead = true;
    else
        sym_source_failed(s, false, ctx);
    return -1;
}

int sym_source_unit(sym_source *s, uint64_t off, sym_tables *t,
                    const sym_load_ctx *ctx)
{
    if (s->dead)
        return -1;
    if (s->in_process) {
        sym_dwarf *d = sym_source_here(s, ctx);
        if (d == NULL)
            return -1;
        sym_dwarf_load_unit(d, off, t);
        return 0;
    }
    uint8_t *buf;
    size_t len;
    if (!sym_source_call(s, SYM_REQ_UNIT, off, &buf, &len, ctx))
        return -1;
    sym_in in = {buf, buf + len, false};
    uint64_t status = 1;
    bool ok = sym_in_head(&in, SYM_REQ_UNIT, &status);
    if (ok && status == 0)
        ok = sym_read_tables(&in, t, s->strings);
    ok = ok && sym_in_tail(&in, s->strings, ctx);
    free(buf);
    if (ok && status == 0)
        return 0;
    sym_tables_clear(t);
    if (ok)
        s->dead = true;
    else
        sym_source_failed(s, false, ctx);
    return -1;
}
