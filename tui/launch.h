/* launch.h: starting a program under the tracer, and the checks that give
 * a clear error instead of a silent untraced run. */
#ifndef LEAKTOP_LAUNCH_H
#define LEAKTOP_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit statuses of leaktop itself (PRODUCT.md §3: distinct per problem). */
enum {
    LAUNCH_EXIT_USAGE       = 2,
    LAUNCH_EXIT_GROWTH      = 3,    /* --fail-on-growth triggered */
    LAUNCH_EXIT_NOT_TRACED  = 4,    /* the tracer did not start in the program */
    LAUNCH_EXIT_LEFT_TRACING = 5,   /* --fail-on-growth, and the program exec'd out of
                                       tracing: its growth is unknown */
    LAUNCH_EXIT_UNTRACEABLE = 125,  /* static or setuid: LD_PRELOAD cannot work */
    LAUNCH_EXIT_NOEXEC      = 126,  /* found but not executable */
    LAUNCH_EXIT_NOTFOUND    = 127,
};

typedef struct launch_spec {
    char *const *argv;        /* program and its arguments */
    unsigned     frames;      /* LEAKTOP_FRAMES */
    int          stdin_fd;    /* -1: inherit */
    int          stdout_fd;   /* -1: inherit */
    int          stderr_fd;   /* -1: inherit */
    bool         new_pgrp;    /* own process group (live view: keys are ours) */
} launch_spec;

/* Starts the program. Returns its pid, or -1 with err filled and *status
 * set to the exit status leaktop should end with. */
pid_t launch_start(const launch_spec *spec, int *status, char *err, size_t errlen);

/* The process's wait status as a shell would report it: code, or 128+N. */
int launch_exit_code(int wstatus);

#endif
