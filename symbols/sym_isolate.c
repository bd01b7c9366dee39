/* sym_isolate.c: reads DWARF in a child process. libdwarf 20210528 has
 * memory bugs on corrupt input (a double free in dwarf_load_rnglists, found
 * by tests/symbols), and a hostile file may make it loop: the frontend must
 * survive both. The child builds the tables, streams them through a pipe
 * and exits; a crash, a hang or a short stream leaves the object with its
 * ELF symbols and a reason in the resolver's last error. */
#include "sym_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYM_ISOLATE_MAGIC   0x4c454b544f505359ull /* "YSPOTKEL" */
#define SYM_ISOLATE_TIMEOUT_MS (120 * 1000)
#define SYM_ISOLATE_MAX_BYTES ((size_t)4 << 30)
#define SYM_MSG_MAX 1024

/* ---- child: serialise ---- */

typedef struct sym_out {
    int     fd;
    bool    failed;
    uint8_t buf[64 * 1024];
    size_t  used;
} sym_out;

static void sym_out_flush(sym_out *w)
{
    size_t off = 0;
    while (off < w->used && !w->failed) {
        ssize_t n = write(w->fd, w->buf + off, w->used - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            w->failed = true;
        else
            off += (size_t)n;
    }
    w->used = 0;
}

static void sym_out_put(sym_out *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        if (w->used == sizeof w->buf)
            sym_out_flush(w);
        size_t k = sizeof w->buf - w->used < n ? sizeof w->buf - w->used : n;
        memcpy(w->buf + w->used, b, k);
        w->used += k;
        b += k;
        n -= k;
    }
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

/* Files by index; scope strings by value (call_file as a file index);
 * ranges as they are. Pointers never cross the pipe. */
static void sym_serialise(sym_out *w, const sym_object *o, int rc,
                           const char *msg)
{
    sym_out_u64(w, SYM_ISOLATE_MAGIC);
    sym_out_u64(w, rc == 0 ? 0 : 1);
    sym_out_str(w, msg[0] != '\0' ? msg : NULL);
    sym_out_u64(w, o->nfiles);
    for (size_t i = 0; i < o->nfiles; i++)
        sym_out_str(w, o->files[i]);
    sym_out_u64(w, o->nlines);
    sym_out_put(w, o->lines, o->nlines * sizeof *o->lines);
    sym_out_u64(w, o->nscopes);
    for (size_t i = 0; i < o->nscopes; i++) {
        sym_scope s = o->scopes[i];
        uint64_t call_file = UINT64_MAX;
        for (size_t f = 0; s.call_file != NULL && f < o->nfiles; f++)
            if (o->files[f] == s.call_file) {
                call_file = f;
                break;
            }
        sym_out_str(w, s.name);
        s.name = NULL;
        s.call_file = NULL;
        sym_out_u64(w, call_file);
        sym_out_put(w, &s, sizeof s);
    }
    sym_out_u64(w, o->nfuncs);
    sym_out_put(w, o->funcs, o->nfuncs * sizeof *o->funcs);
    sym_out_u64(w, o->ninl);
    sym_out_put(w, o->inl, o->ninl * sizeof *o->inl);
    sym_out_u64(w, SYM_ISOLATE_MAGIC); /* complete */
    sym_out_flush(w);
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

static _Noreturn void sym_child(int fd, sym_object *o, sym_dwarf_fn load,
                                void *arg, const sym_load_ctx *ctx)
{
    /* Whatever libdwarf or a sanitizer prints must not reach the
     * frontend's terminal. */
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0)
        dup2(devnull, STDERR_FILENO);
    /* The frontend's handlers (terminal resize, interrupt) are not ours:
     * the parent decides what happens to the load. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGWINCH, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    char msg[SYM_MSG_MAX] = "";
    sym_load_ctx child_ctx = *ctx;
    child_ctx.report = sym_child_report;
    child_ctx.report_ctx = msg;
    int rc = load(o, arg, &child_ctx);
    sym_out *w = malloc(sizeof *w);
    if (w == NULL)
        _exit(3);
    w->fd = fd;
    w->failed = false;
    w->used = 0;
    sym_serialise(w, o, rc, msg);
    _exit(w->failed ? 2 : 0);
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

/* The tables as the child left them; indexes are checked so that lookups
 * can trust them. */
typedef struct sym_tables {
    const char **files;
    size_t       nfiles;
    sym_line    *lines;
    size_t       nlines;
    sym_scope   *scopes;
    size_t       nscopes;
    sym_range   *funcs, *inl;
    size_t       nfuncs, ninl;
} sym_tables;

static void sym_tables_free(sym_tables *t)
{
    free(t->files);
    free(t->lines);
    free(t->scopes);
    free(t->funcs);
    free(t->inl);
}

static bool sym_tables_valid(const sym_tables *t)
{
    for (size_t i = 0; i < t->nlines; i++) {
        uint32_t f = t->lines[i].file;
        if (f >= t->nfiles && f != SYM_LINE_END && f != SYM_LINE_END - 1)
            return false;
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

static bool sym_deserialise(sym_in *r, sym_tables *t, sym_strings *strings,
                            int *rc, char *msg)
{
    if (sym_in_u64(r) != SYM_ISOLATE_MAGIC)
        return false;
    *rc = sym_in_u64(r) == 0 ? 0 : -1;
    const char *m = sym_in_str(r, strings);
    if (m != NULL)
        snprintf(msg, SYM_MSG_MAX, "%s", m);
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
    return sym_in_u64(r) == SYM_ISOLATE_MAGIC && !r->bad &&
           sym_tables_valid(t);
}

static void sym_tables_install(sym_object *o, sym_tables *t)
{
    free(o->files);
    free(o->lines);
    free(o->scopes);
    free(o->funcs);
    free(o->inl);
    o->files = t->files;
    o->nfiles = o->files_cap = t->nfiles;
    o->lines = t->lines;
    o->nlines = o->lines_cap = t->nlines;
    o->scopes = t->scopes;
    o->nscopes = o->scopes_cap = t->nscopes;
    o->funcs = t->funcs;
    o->nfuncs = o->funcs_cap = t->nfuncs;
    o->inl = t->inl;
    o->ninl = o->inl_cap = t->ninl;
    memset(t, 0, sizeof *t);
}

static int64_t sym_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the child's stream until EOF; false on timeout or overflow. */
static bool sym_read_all(int fd, uint8_t **buf, size_t *len)
{
    size_t cap = 0;
    int64_t deadline = sym_now_ms() + SYM_ISOLATE_TIMEOUT_MS;
    *buf = NULL;
    *len = 0;
    for (;;) {
        int64_t left = deadline - sym_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0)
            return false;
        int k = poll(&p, 1, (int)left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        if (*len + 65536 > SYM_ISOLATE_MAX_BYTES)
            return false;
        sym_grow((void **)buf, &cap, *len + 65536, 1);
        ssize_t n = read(fd, *buf + *len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        *len += (size_t)n;
    }
}

static void sym_reap(pid_t pid, bool kill_it, int *status)
{
    if (kill_it)
        kill(pid, SIGKILL);
    *status = -1;
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
}

static int sym_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

int sym_isolated(sym_object *o, sym_dwarf_fn load, void *arg,
                 const char *path, const sym_load_ctx *ctx)
{
    int fds[2];
    if (ctx->in_process || sym_pipe(fds) != 0)
        return load(o, arg, ctx);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return load(o, arg, ctx);
    }
    if (pid == 0) {
        close(fds[0]);
        sym_child(fds[1], o, load, arg, ctx);
    }
    close(fds[1]);
    uint8_t *buf = NULL;
    size_t len = 0;
    bool complete = sym_read_all(fds[0], &buf, &len);
    close(fds[0]);
    int status;
    sym_reap(pid, !complete, &status);

    char msg[SYM_MSG_MAX] = "";
    sym_tables t = {0};
    sym_in in = {buf, buf + len, false};
    int rc = -1;
    bool ok = complete && sym_deserialise(&in, &t, o->strings, &rc, msg);
    if (ok)
        sym_tables_install(o, &t);
    sym_tables_free(&t);
    free(buf);
    if (msg[0] != '\0')
        ctx->report(ctx->report_ctx, "%s", msg);
    if (!ok) {
        /* A reaped status may be lost to a SIGCHLD handler elsewhere in
         * the frontend: the stream's completeness is what counts. */
        if (!complete)
            ctx->report(ctx->report_ctx, "%s: DWARF reader timed out", path);
        else if (status != -1 && WIFSIGNALED(status))
            ctx->report(ctx->report_ctx,
                        "%s: DWARF reader crashed (signal %d) on corrupt "
                        "debug info; using ELF symbols only",
                        path, WTERMSIG(status));
        else
            ctx->report(ctx->report_ctx, "%s: DWARF reader failed", path);
        return -1;
    }
    return rc;
}
