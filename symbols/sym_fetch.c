/* sym_fetch.c: debug files fetched by build-id from debuginfod servers
 * through libdebuginfod, as gdb and perf do. The library reads
 * DEBUGINFOD_URLS, DEBUGINFOD_CACHE_PATH and DEBUGINFOD_TIMEOUT itself.
 * Each fetch runs in a child process: a fetch can start while the program
 * runs and be collected when a frame needs it, and whatever libcurl does
 * (a name lookup that ignores the timeout, a server that trickles bytes),
 * the child is killed at the stated bound. */
#include "sym_source.h"

#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYM_FETCH_ANSWER_MAX 4096

struct sym_fetch {
    pid_t   pid;         /* 0 once reaped */
    int     fd;          /* read end of the child's answer pipe */
    int64_t deadline;    /* CLOCK_MONOTONIC ms: the child is killed then */
    unsigned bound_ms;
    char    answer[SYM_FETCH_ANSWER_MAX];
    size_t  len;
};

static int64_t sym_fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: one question, one line of answer ("/path" or "-errno"). */
static _Noreturn void sym_fetch_child(int fd, const uint8_t *id, size_t len,
                                      unsigned bound_ms)
{
    sym_child_setup();
    /* The parent kills at the bound too; this covers a parent that died
     * (and a SIGALRM handler of the frontend's must not save us). */
    signal(SIGALRM, SIG_DFL);
    alarm(bound_ms / 1000 + 2);
    debuginfod_client *c = debuginfod_begin();
    char *path = NULL;
    int res = c != NULL ? debuginfod_find_debuginfo(c, id, (int)len, &path)
                        : -ENOMEM;
    char line[SYM_FETCH_ANSWER_MAX];
    int n = res >= 0 && path != NULL
                ? snprintf(line, sizeof line, "%s\n", path)
                : snprintf(line, sizeof line, "%d\n", res >= 0 ? -EIO : res);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0)
        _exit(1);
    _exit(0);
}

sym_fetch *sym_fetch_start(const uint8_t *id, size_t len, unsigned bound_ms,
                           sym_pool *pool)
{
    if (len == 0)
        return NULL;
    sym_fetch *f = sym_alloc_array(1, sizeof *f);
    int p[2];
    if (f == NULL || pipe(p) != 0) {
        free(f);
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        free(f);
        return NULL;
    }
    if (pid == 0) {
        close(p[0]);
        sym_pool_close_inherited(pool);
        sym_fetch_child(p[1], id, len, bound_ms);
    }
    close(p[1]);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    f->pid = pid;
    f->fd = p[0];
    f->bound_ms = bound_ms;
    f->deadline = sym_fetch_now_ms() + bound_ms;
    return f;
}

/* Reads what the child wrote; true at end of file (the answer is whole). */
static bool sym_fetch_read(sym_fetch *f, int wait_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
        int k = poll(&pfd, 1, wait_ms);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        ssize_t m = read(f->fd, f->answer + f->len,
                         sizeof f->answer - 1 - f->len);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            return true;
        f->len += (size_t)m;
        if (f->len == sizeof f->answer - 1)
            return true;
    }
}

/* The child is gone (it answered, or is killed now): no zombie stays
 * while the answer waits to be collected. */
static void sym_fetch_reap(sym_fetch *f, bool kill_it)
{
    if (f->pid == 0)
        return;
    if (kill_it)
        kill(f->pid, SIGKILL);
    while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(f->fd);
    f->pid = 0;
}

bool sym_fetch_ready(sym_fetch *f)
{
    if (f->pid == 0)
        return true;
    if (sym_fetch_read(f, 0)) {
        sym_fetch_reap(f, false);
        return true;
    }
    return sym_fetch_now_ms() >= f->deadline;
}

int sym_fetch_finish(sym_fetch *f, char **found, char *why, size_t whylen)
{
    *found = NULL;
    int64_t left = f->deadline - sym_fetch_now_ms();
    bool whole = f->pid == 0 || sym_fetch_read(f, left > 0 ? (int)left : 0);
    sym_fetch_reap(f, !whole);
    int fd = -1;
    f->answer[f->len] = '\0';
    char *nl = strchr(f->answer, '\n');
    if (!whole) {
        snprintf(why, whylen, "debuginfod: no answer within %u s",
                 (f->bound_ms + 999) / 1000);
    } else if (nl == NULL || f->answer[0] != '/') {
        int err = nl != NULL ? -atoi(f->answer) : EIO;
        snprintf(why, whylen, "debuginfod: %s",
                 err == ENOENT  ? "not found on the servers"
                 : err == ETIME ? "timed out (DEBUGINFOD_TIMEOUT)"
                                : strerror(err));
    } else {
        *nl = '\0';
        fd = sym_open_regular(f->answer);
        if (fd >= 0 && (*found = sym_strdup(f->answer)) == NULL) {
            close(fd);
            fd = -1;
        }
        if (fd < 0)
            snprintf(why, whylen, "debuginfod: %s: cannot open", f->answer);
    }
    free(f);
    return fd;
}

void sym_fetch_cancel(sym_fetch *f)
{
    if (f == NULL)
        return;
    sym_fetch_reap(f, true);
    free(f);
}
