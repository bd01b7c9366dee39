/* target.h: the traced process as a frontend sees it, shared by the batch
 * loop and the live view: waiting for its segment to appear, reading its
 * final state after death, and what /proc says about it (name, RSS, alive). */
#ifndef LEAKTOP_TARGET_H
#define LEAKTOP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "session.h"

/* The session settings the command-line options ask for. */
session_config target_session_config(const options *o);

/* Called while waiting: true once the program has ended (it was never
 * traced then). */
typedef bool (*target_ended_fn)(void *ctx);

/* Opens the program's segment, waiting up to 10 s for the tracer to create
 * it (at the program's first allocation). NULL with err filled (one line)
 * when the program ended first, the wait timed out, or the segment is bad. */
session *target_wait_session(pid_t pid, const session_config *cfg, target_ended_fn ended,
                             void *ctx, char *err, size_t errlen);

/* The state at death: the counters live in the mapping, which outlives the
 * program, so this needs no flush by the program (SIGKILL included). Call it
 * after the program was reaped. */
diff_snapshot *target_final_snapshot(session *s);

/* Resident set size in bytes (/proc/PID/statm), or -1. */
int64_t target_rss(pid_t pid);
/* False once the process is gone or a zombie (for processes that are not
 * our children, whose exit status we cannot wait for). */
bool    target_alive(pid_t pid);
/* NULL while process `pid` runs; else why not, as the end of a sentence
 * ("does not exist", "has exited (a zombie ...)"). */
const char *target_gone_why(pid_t pid);
/* The program's name (argv[0] from /proc/PID/cmdline, else comm). */
void    target_name(pid_t pid, char *buf, size_t len);

#endif
