/* sym_pool.c: DWARF read in child processes. libdwarf 20210528 has memory
 * bugs on corrupt input (a double free in dwarf_load_rnglists, found by
 * tests/symbols), and a hostile file may make it loop: the frontend must
 * survive both. So a source is a child process per file that keeps the
 * file's DWARF open and answers requests (sym_wire.c) over a socket.
 * A crash or broken answer costs the unit asked for (the child is started
 * again, a few times); a hang costs the rest of the file. At most
 * SYM_POOL_MAX children live at once: the least recently used one is
 * stopped, to be started again if its file is asked about. */
#include "sym_source.h"

#include <errno.h>
#include <fcntl.h>
#include <libdwarf/libdwarf.h>
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

#define SYM_ISOLATE_TIMEOUT_MS (120 * 1000)
#define SYM_ISOLATE_MAX_BYTES  ((size_t)1 << 30)
#define SYM_MSG_MAX            1024
#define SYM_POOL_MAX           8
#define SYM_MAX_FAILURES       3

struct sym_pool {
    sym_source *live[SYM_POOL_MAX];
    size_t      n;
    uint64_t    clock;
};

/* ---- the child ---- */

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

/* Whatever libdwarf or a sanitizer prints must not reach the frontend's
 * terminal, and the frontend's handlers (terminal resize, interrupt) are
 * not ours: the parent decides what happens to the child. */
void sym_child_setup(void)
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

/* Answers requests until the parent closes the socket. A reader that
 * could not open answers once, with status 1, and exits; one that cannot
 * build an answer (out of memory) exits, which the parent sees as a
 * failed request. */
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
    sym_dwarf *d = sym_local_open(s, &child_ctx);
    uint64_t rq[2];
    while (sym_wire_read_request(fd, rq)) {
        if (sym_wire_write_answer(fd, d, rq, msg[0] != '\0' ? msg : NULL) != 0)
            _exit(2);
        msg[0] = '\0';
        if (d == NULL)
            break;
    }
    _exit(0);
}

/* ---- the parent ---- */

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

sym_pool *sym_pool_new(void)
{
    return sym_alloc_array(1, sizeof(sym_pool));
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
static void sym_pool_stop_status(sym_source *s, int *status)
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

void sym_pool_stop(sym_source *s)
{
    int status;
    sym_pool_stop_status(s, &status);
}

static void sym_pool_make_room(sym_pool *p)
{
    if (p == NULL || p->n < SYM_POOL_MAX)
        return;
    size_t lru = 0;
    for (size_t i = 1; i < p->n; i++)
        if (p->live[i]->last_use < p->live[lru]->last_use)
            lru = i;
    sym_pool_stop(p->live[lru]);
}

/* In a new child: the sockets of the readers already running were
 * inherited by fork. Holding them would keep those readers from seeing
 * end-of-file when the frontend closes its end, so stopping them would wait
 * out the grace period and kill them. */
void sym_pool_close_inherited(sym_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        if (p->live[i]->sock >= 0)
            close(p->live[i]->sock);
}

static int sym_pool_spawn(sym_source *s, const sym_load_ctx *ctx)
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

static void sym_pool_failed(sym_source *s, bool timed_out,
                            const sym_load_ctx *ctx)
{
    int status;
    sym_pool_stop_status(s, &status);
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

/* Sends a request and reads the answer's bytes (malloc'ed): 0, -ENOMEM
 * (the child is fine, this process could not hold the answer) or -EIO. */
static int sym_pool_call(sym_source *s, uint64_t op, uint64_t arg,
                         uint8_t **buf, size_t *len, const sym_load_ctx *ctx)
{
    *buf = NULL;
    if (s->pid == 0 && sym_pool_spawn(s, ctx) != 0) {
        s->dead = true;
        ctx->report(ctx->report_ctx, "%s: cannot start the DWARF reader: %s",
                    s->path, strerror(errno));
        return -EIO;
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
    if (ok && (*buf = sym_alloc((size_t)n)) == NULL) {
        /* The answer is still in the socket: this child cannot go on. */
        sym_pool_stop(s);
        ctx->report(ctx->report_ctx, "%s: out of memory reading DWARF", s->path);
        return -ENOMEM;
    }
    if (ok) {
        *len = (size_t)n;
        ok = sym_read_exact(s->sock, *buf, *len, deadline, &timed_out);
    }
    if (!ok) {
        free(*buf);
        *buf = NULL;
        sym_pool_failed(s, timed_out, ctx);
        return -EIO;
    }
    return 0;
}

/* What an answer's check means for the source. */
static int sym_pool_result(sym_source *s, sym_wire_result res,
                           const sym_load_ctx *ctx)
{
    switch (res) {
    case SYM_WIRE_OK:
        return 0;
    case SYM_WIRE_NOT_OPENED: /* the child could not open the file and has exited */
        s->dead = true;
        return -1;
    case SYM_WIRE_NOMEM:
        ctx->report(ctx->report_ctx, "%s: out of memory reading DWARF", s->path);
        return -ENOMEM;
    case SYM_WIRE_BROKEN:
        break;
    }
    sym_pool_failed(s, false, ctx);
    return -1;
}

int sym_pool_index(sym_source *s, bool full, sym_object *o,
                   const sym_load_ctx *ctx)
{
    uint64_t op = full ? SYM_REQ_FULL_INDEX : SYM_REQ_INDEX;
    uint8_t *buf;
    size_t len;
    int rc = sym_pool_call(s, op, 0, &buf, &len, ctx);
    if (rc != 0)
        return rc;
    sym_cu_range *r;
    size_t n;
    bool complete = false;
    sym_wire_result res = sym_wire_parse_index(buf, len, op, s->strings, ctx,
                                               &r, &n, &complete);
    free(buf);
    if (res == SYM_WIRE_OK && sym_object_set_index(o, r, n, complete) != 0) {
        ctx->report(ctx->report_ctx, "%s: out of memory indexing DWARF", s->path);
        return -ENOMEM;
    }
    return sym_pool_result(s, res, ctx);
}

int sym_pool_unit(sym_source *s, uint64_t off, sym_tables *t,
                  const sym_load_ctx *ctx)
{
    uint8_t *buf;
    size_t len;
    int rc = sym_pool_call(s, SYM_REQ_UNIT, off, &buf, &len, ctx);
    if (rc != 0)
        return rc;
    sym_wire_result res = sym_wire_parse_unit(buf, len, s->strings, ctx, t);
    free(buf);
    return sym_pool_result(s, res, ctx);
}
