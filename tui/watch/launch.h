/* launch.h: starting a program under the tracer, and the checks that give
 * a clear error instead of a silent untraced run. */
#ifndef LEAKTOP_LAUNCH_H
#define LEAKTOP_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct launch_spec {
    char *const *argv;        /* program and its arguments */
    unsigned     frames;      /* LEAKTOP_FRAMES */
    uint64_t     sample_bytes;/* LEAKTOP_SAMPLE, when not 0 */
    int          stdin_fd;    /* -1: inherit */
    int          stdout_fd;   /* -1: inherit */
    int          stderr_fd;   /* -1: inherit */
    bool         new_pgrp;    /* own process group (live view: keys are ours) */
} launch_spec;

/* Remembers the signal dispositions and mask leaktop was started with.
 * Call first thing in main, before leaktop installs handlers or ignores
 * signals of its own: the launched program gets exactly these back, so a
 * SIGPIPE or SIGINT leaktop ignores is not ignored by the program too
 * (SIG_IGN survives exec). */
void  launch_remember_signals(void);

/* The tracer library's absolute path: $LEAKTOP_TRACER, else
 * ../lib/leaktop/libleaktop.so beside this executable. NULL with err
 * filled when it is missing. Valid until the next call. */
const char *launch_tracer_path(char *err, size_t errlen);

/* The file a launched process runs, as /proc/PID/exe will name it: an
 * ELF program's own (a #! script's process runs its interpreter, so
 * none). For when the process is gone before /proc could be asked: a
 * zombie has no exe. */
typedef struct launch_image {
    bool  known;
    dev_t dev;
    ino_t ino;
} launch_image;

/* Starts the program, and fills *image. Returns its pid, or -1 with err
 * filled and *status set to the exit status leaktop should end with
 * (exit_status.h). */
pid_t launch_start(const launch_spec *spec, launch_image *image, int *status, char *err, size_t errlen);

/* The process's wait status as a shell would report it: code, or 128+N. */
int launch_exit_code(int wstatus);

#endif
