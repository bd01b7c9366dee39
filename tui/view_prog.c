/* view_prog.c: the program the view watches: starting it with its output
 * in a log file, noticing its end (waitpid for ours, /proc for an attached
 * one), and ending it on q. */
#include "view_prog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "target.h"
#include "util.h"
#include "view_draw.h"

#define VIEW_TERM_GRACE_NS (2 * 1000000000LL)   /* SIGTERM, then SIGKILL */

bool view_prog_reap(view *v)
{
    if (v->ended)
        return true;
    if (!v->launched)
        return !target_alive(v->pid);
    int st;
    pid_t r;
    while ((r = waitpid(v->pid, &st, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == v->pid) {
        v->status_known = true;
        v->wstatus = st;
        return true;
    }
    return r < 0;   /* ECHILD: not ours any more */
}

bool view_prog_ended(void *ctx)
{
    return view_prog_reap(ctx);
}

/* stdin from /dev/null, stdout and stderr to a private log file: the
 * program's output must never mix into the screen. */
static int view_prog_log(view *v, int *in_fd, int *out_fd)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(v->log_path, sizeof(v->log_path), "%s/leaktop-%d.log", dir, (int)getpid());
    *out_fd = open(v->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*out_fd < 0) {
        util_error("%s: %s", v->log_path, strerror(errno));
        return -1;
    }
    *in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

int view_prog_start(view *v, char **argv)
{
    int in_fd = -1, out_fd = -1, status = 0;
    if (view_prog_log(v, &in_fd, &out_fd) != 0)
        return 1;
    launch_spec spec = {
        .argv = argv, .frames = v->o->frames,
        .stdin_fd = in_fd, .stdout_fd = out_fd, .stderr_fd = out_fd, .new_pgrp = true,
    };
    char err[512];
    v->pid = launch_start(&spec, &status, err, sizeof(err));
    close(out_fd);
    if (in_fd >= 0)
        close(in_fd);
    if (v->pid < 0) {
        util_error("%s", err);
        return status;
    }
    v->launched = true;
    snprintf(v->prog, sizeof(v->prog), "%s", argv[0]);
    session_config cfg = target_session_config(v->o);
    v->s = target_wait_session(v->pid, &cfg, view_prog_ended, v, err, sizeof(err));
    if (!v->s) {
        util_error("%s (its output: %s)", err, v->log_path);
        if (!v->status_known) {
            kill(-v->pid, SIGKILL);
            waitpid(v->pid, &v->wstatus, 0);
        }
        return LAUNCH_EXIT_NOT_TRACED;
    }
    return 0;
}

/* q on a launched program: SIGTERM to its process group, SIGKILL after
 * the grace period. */
void view_prog_end(view *v)
{
    if (!v->launched || v->ended)
        return;
    view_message(v, false, "ending %s (SIGTERM, then SIGKILL after 2 s)...", v->prog);
    view_draw(v);
    kill(-v->pid, SIGTERM);
    int64_t give_up = util_now_ns() + VIEW_TERM_GRACE_NS;
    while (!view_prog_reap(v) && util_now_ns() < give_up)
        util_sleep_ms(10);
    if (!v->status_known) {
        kill(-v->pid, SIGKILL);
        kill(v->pid, SIGKILL);
        while (waitpid(v->pid, &v->wstatus, 0) < 0 && errno == EINTR)
            ;
    }
    session_unlink(v->s);
}
