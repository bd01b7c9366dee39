/* lt_base.h: the tracer's base helpers, used by every other tracer file and
 * using none of them: raw memory, spinlocks, the clock, numbers without
 * stdio, one-line messages on stderr, random bits. None allocates with
 * malloc: they run inside the target's allocation calls. */
#ifndef LT_BASE_H
#define LT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LT_LIKELY(x)   __builtin_expect(!!(x), 1)
#define LT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LT_HIDDEN      __attribute__((visibility("hidden")))

/* Raw memory for the tracer's own tables: mmap, never malloc. */
void    *lt_map(size_t bytes) LT_HIDDEN;
void     lt_unmap(void *p, size_t bytes) LT_HIDDEN;
/* madvise, or -1 (EPERM) when the program's seccomp filter would refuse it. */
int      lt_advise(void *p, size_t bytes, int advice) LT_HIDDEN;

/* The process's address-space limit (RLIMIT_AS, `ulimit -v`) in bytes,
 * or 0 when it has none. Mapped bytes count against it even where nothing
 * is touched, so the tracer's sparse reservations (the segment, the
 * live-block shadow) are sized to it: the program keeps the room it has
 * without the tracer, all but what the tracer really uses. */
uint64_t lt_address_limit(void) LT_HIDDEN;
/* The same for private writable mappings (the tracer's own tables), which
 * RLIMIT_DATA (`ulimit -d`) also bounds: the smaller of the two, or 0. */
uint64_t lt_private_limit(void) LT_HIDDEN;
/* RLIMIT_STACK (`ulimit -s`) in bytes, or 0: how far the initial
 * thread's stack may grow. */
uint64_t lt_stack_size_limit(void) LT_HIDDEN;
/* RLIMIT_FSIZE (`ulimit -f`) in bytes, or 0: a file grown past it raises
 * SIGXFSZ, which kills a program that does not handle it. */
uint64_t lt_file_size_limit(void) LT_HIDDEN;

/* Test-and-test-and-set; yields to the holder after a short spin. */
void     lt_spin_lock(int *lock) LT_HIDDEN;
bool     lt_spin_trylock(int *lock) LT_HIDDEN;
void     lt_spin_unlock(int *lock) LT_HIDDEN;

int64_t  lt_now_ns(void) LT_HIDDEN;          /* CLOCK_MONOTONIC */
int64_t  lt_realtime_ns(void) LT_HIDDEN;     /* CLOCK_REALTIME */

static inline uint64_t lt_round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

/* Decimal / fixed-width lower-case hex into p, NUL-terminated; returns the
 * end (the NUL). */
char    *lt_fmt_u(char *p, unsigned long v) LT_HIDDEN;
char    *lt_fmt_hex(char *p, uint64_t v, int digits) LT_HIDDEN;

/* Writes "leaktop: " and the NULL-terminated pieces as one line on stderr
 * (one write, so lines of several threads do not interleave). */
void     lt_say(const char *first, ...) __attribute__((sentinel)) LT_HIDDEN;
/* From now on lt_say says nothing: loaded into a running program (leaktop
 * attach), whose descriptor 2 may be a log, a socket or a data file the
 * program reopened there. */
void     lt_say_mute(void) LT_HIDDEN;

/* seccomp.c: whether the program's seccomp filters (those it installed
 * through prctl or syscall since the tracer runs) let system call `nr`
 * with these arguments through. The tracer asks before each call of its
 * own that could come after start-up, and when refused fails the way the
 * call itself could: a program that locked itself in is never killed by
 * a call it did not make. One load while the program has no filter. */
bool     lt_seccomp_allows(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                           uint64_t a5) LT_HIDDEN;
/* The program locked itself in (a filter or strict mode): calls nobody
 * can check beforehand (libunwind's) are not to be made at all. */
bool     lt_seccomp_active(void) LT_HIDDEN;

/* 64 unpredictable bits (getrandom), or the best the clock and the
 * address space give when the kernel has none to offer. */
uint64_t lt_random_u64(void) LT_HIDDEN;

#endif
