/* inject_seccomp.h: whether a process's seccomp filters let the tracer in.
 * Used by inject.c only, while the process's threads are held. */
#ifndef INJECT_SECCOMP_H
#define INJECT_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads the filters of process pid's held threads tids[0..n) (PTRACE_SECCOMP_GET_FILTER:
 * needs CAP_SYS_ADMIN) and runs on them every system call that loading and
 * running the tracer can make (`memfd`: also the memory-file route's).
 * 0 when each filter lets them through, or when no filter can be read
 * (the common case of a permissive container profile then stays allowed);
 * -1 with err naming the first call a filter would punish. */
int inject_seccomp_check(pid_t pid, const pid_t *tids, size_t n, bool memfd, char *err, size_t errlen);

#endif
