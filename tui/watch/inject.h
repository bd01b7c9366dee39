/* inject.h: loading a library into a running process with ptrace, no gdb
 * (PRODUCT.md §11): the refusals checked first, with the target untouched,
 * then every thread stopped at a safe point, dlopen + dlsym + one call of
 * an exported `int fn(const char *)` made as remote calls in one thread,
 * every register and byte restored, signals that came meanwhile delivered.
 * Private to the watch library (and its tests). */
#ifndef LEAKTOP_INJECT_H
#define LEAKTOP_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Why a process cannot be injected; each has its own exit status
 * (inject_exit_status). */
typedef enum inject_refusal {
    INJECT_OK = 0,
    INJECT_NO_PROCESS,     /* no such process */
    INJECT_ZOMBIE,         /* it has exited; its parent has not reaped it */
    INJECT_DENIED,         /* ptrace not permitted: yama, another user, no CAP_SYS_PTRACE */
    INJECT_TRACED,         /* a debugger (TracerPid) already traces it */
    INJECT_STATIC,         /* no dynamic loader / libc.so.6 with dlopen in it */
    INJECT_SECCOMP,        /* seccomp strict mode, or a filter that forbids a call the tracer needs */
    INJECT_FAILED,         /* it went wrong on the way (dlopen failed, a timeout, ...) */
} inject_refusal;

/* What an injection cost the program. */
typedef struct inject_stats {
    unsigned threads;      /* threads stopped at the final attempt */
    unsigned attempts;     /* stop-all rounds until no thread was in the allocator/loader */
    int64_t  stopped_ns;   /* the final round: first thread stopped to last released */
    int64_t  total_stopped_ns; /* all rounds together */
    bool     released_early; /* the call outlived the watchdog: the others ran on meanwhile */
    int      call_result;  /* what fn returned */
} inject_stats;

/* The refusals that can be told from /proc without touching the process:
 * INJECT_OK, or a refusal with err filled (one line: what and what to do). */
inject_refusal inject_check(pid_t pid, char *err, size_t errlen);

/* Why ptrace is not permitted, as one line for err: `scope` is
 * kernel.yama.ptrace_scope (-1: no yama), `same_user` whether the target's
 * uids are ours, `cap` whether we have CAP_SYS_PTRACE. */
void inject_denied_why(pid_t pid, int scope, bool same_user, bool cap, char *err, size_t errlen);

/* The same line for process pid as things stand (yama's scope, its uids,
 * our capabilities), for a ptrace that said EPERM. */
void inject_denied_now(pid_t pid, char *err, size_t errlen);

/* Loads `lib` (an absolute path) into process pid with dlopen(RTLD_NOW)
 * and calls its `fn(arg)`. INJECT_OK with st filled (st->call_result is
 * what fn returned), or a refusal with err filled. The process runs on
 * either way. */
inject_refusal inject_library(pid_t pid, const char *lib, const char *fn, const char *arg, inject_stats *st,
                              char *err, size_t errlen);

/* leaktop's exit status for a refusal. */
int inject_exit_status(inject_refusal r);

#endif
