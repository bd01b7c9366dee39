/* target.h: what /proc says about the watched process (name, RSS, alive).
 * Private to the watch library. */
#ifndef LEAKTOP_TARGET_H
#define LEAKTOP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Resident set size in bytes (/proc/PID/statm), or -1. */
int64_t target_rss(pid_t pid);
/* The state letter of /proc/PID/stat (R, S, D, T stopped, t stopped by a
 * tracer, Z, X, ...), or 0 when it cannot be read. */
char    target_state(pid_t pid);
/* False once the process is gone or a zombie (for processes that are not
 * our children, whose exit status we cannot wait for). */
bool    target_alive(pid_t pid);
/* NULL while process `pid` runs; else why not, as the end of a sentence
 * ("does not exist", "has exited (a zombie ...)"). */
const char *target_gone_why(pid_t pid);
/* When the process started, in clock ticks after boot (/proc/PID/stat's
 * 22nd field): false when it cannot be read. */
bool    target_start(pid_t pid, unsigned long long *ticks);
/* Its parent's pid (0 when the parent is outside our pid namespace). */
bool    target_parent(pid_t pid, pid_t *parent);
/* The program's name (argv[0] from /proc/PID/cmdline, else comm). */
void    target_name(pid_t pid, char *buf, size_t len);

#endif
