/* exit_status.h: leaktop's own exit statuses (PRODUCT.md §3: a distinct
 * one per problem), in one place. Otherwise leaktop ends with the traced
 * program's status: its code, or 128+N after signal N. */
#ifndef LEAKTOP_EXIT_STATUS_H
#define LEAKTOP_EXIT_STATUS_H

enum {
    LEAKTOP_EXIT_FAILURE     = 1,    /* a runtime error, said on stderr (a report
                                        not written whole included) */
    LEAKTOP_EXIT_USAGE       = 2,    /* bad command line, or no terminal */
    LEAKTOP_EXIT_GROWTH      = 3,    /* --fail-on-growth triggered, or --fail-on-suspect
                                        and the last report has a suspect */
    LEAKTOP_EXIT_NOT_TRACED  = 4,    /* the tracer did not start in the program */
    LEAKTOP_EXIT_GROWTH_UNKNOWN = 5, /* --fail-on-growth, and the program's growth is
                                        unknown: it exec'd out of tracing, or its
                                        segment was truncated under us */
    /* attach PID refused (PRODUCT.md §11), the process untouched: */
    LEAKTOP_EXIT_NO_PROCESS  = 6,    /* no such process */
    LEAKTOP_EXIT_ZOMBIE      = 7,    /* it has exited, not reaped yet */
    LEAKTOP_EXIT_PTRACE_DENIED = 8,  /* ptrace not permitted (yama, another user, no CAP_SYS_PTRACE) */
    LEAKTOP_EXIT_ALREADY_TRACED = 9, /* a debugger traces it */
    LEAKTOP_EXIT_SECCOMP     = 10,   /* seccomp strict mode or filter */
    LEAKTOP_EXIT_UNTRACEABLE = 125,  /* static or setuid: LD_PRELOAD cannot work;
                                        attach: a static binary */
    LEAKTOP_EXIT_NOEXEC      = 126,  /* found but not executable */
    LEAKTOP_EXIT_NOTFOUND    = 127,
};

#endif
