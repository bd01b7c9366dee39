/* view_prog.c: the live view's way of running a program under the watch:
 * its output goes to a log file (never into the screen), and q ends it. */
#include "view_prog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_status.h"
#include "privdir.h"
#include "util.h"
#include "view_draw.h"

#define VIEW_TERM_GRACE_MS 2000   /* SIGTERM, then SIGKILL */

watch_config view_prog_config(const options *o)
{
    watch_config cfg = {
        .session = options_session_config(o), .frames = o->frames, .sample_bytes = o->sample_bytes,
        .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
    };
    return cfg;
}

/* stdin from /dev/null, stdout and stderr to a private log file: the
 * program's output must never mix into the screen. */
static int view_prog_log(view *v, int *in_fd, int *out_fd)
{
    char err[PATH_MAX + 128];
    *out_fd = privdir_create("program.log", v->prog.log_path, sizeof(v->prog.log_path), err, sizeof(err));
    if (*out_fd < 0) {
        v->prog.log_path[0] = 0;
        util_error("%s", err);
        return -1;
    }
    *in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

/* Removes the log, and leaktop's private directory when nothing else is in it. */
static void view_prog_drop_log(view *v)
{
    unlink(v->prog.log_path);
    v->prog.log_path[0] = 0;
    privdir_release();
}

int view_prog_start(view *v, char **argv)
{
    int in_fd = -1, out_fd = -1, status = 0;
    if (view_prog_log(v, &in_fd, &out_fd) != 0)
        return LEAKTOP_EXIT_FAILURE;
    watch_config cfg = view_prog_config(v->o);
    cfg.stdin_fd = in_fd;
    cfg.stdout_fd = cfg.stderr_fd = out_fd;
    cfg.new_pgrp = true;
    cfg.kill_untraced = true;
    char err[512];
    v->prog.w = watch_launch(&cfg, argv, &status, err, sizeof(err));
    close(out_fd);
    if (in_fd >= 0)
        close(in_fd);
    if (!v->prog.w) {
        util_error("%s", err);
        view_prog_drop_log(v);   /* it never ran: there is no output to keep */
        return status;
    }
    if (watch_wait_traced(v->prog.w, &status, err, sizeof(err)) != 0) {
        util_error("%s (its output: %s)", err, v->prog.log_path);
        watch_free(v->prog.w);
        v->prog.w = NULL;
        return status;
    }
    return 0;
}

/* The log goes with leaktop unless asked for (--keep-log) or unless the
 * program failed by itself: then its output says why, and stays. */
void view_prog_release_log(view *v)
{
    if (!v->prog.log_path[0])
        return;
    int ws = 0;
    bool failed = !v->prog.w ||   /* it never became traced: the error names the log */
                  (v->prog.ended && watch_status(v->prog.w, &ws) &&
                   (WIFSIGNALED(ws) || (WIFEXITED(ws) && WEXITSTATUS(ws) != 0)));
    if (v->o->keep_log || failed) {
        fprintf(stderr, "leaktop: the program's output is in %s\n", v->prog.log_path);
        return;
    }
    view_prog_drop_log(v);
}

/* q on a launched program: ended by the watch, while the screen says so.
 * An injected tracer is detached: the program runs on. */
void view_prog_end(view *v)
{
    if (!v->prog.ended && watch_since_attach(v->prog.w) && watch_detach(v->prog.w)) {
        view_footer_say(&v->footer, false, "detaching from %s: it runs on", watch_name(v->prog.w));
        view_draw(v);
        return;
    }
    if (!watch_launched(v->prog.w) || v->prog.ended)
        return;
    view_footer_say(&v->footer, false, "ending %s (SIGTERM, then SIGKILL after 2 s)...", watch_name(v->prog.w));
    view_draw(v);
    watch_terminate(v->prog.w, VIEW_TERM_GRACE_MS);
}
