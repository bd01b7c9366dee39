/* util.h: the frontend's small helpers: allocation that never returns NULL
 * (out of memory is fatal for the frontend, never for the target), sizes,
 * time, and the one way user-facing errors are printed. */
#ifndef LEAKTOP_UTIL_H
#define LEAKTOP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t each);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* "leaktop: <message>" on stderr, one line. */
void  util_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends writing a report to `f` (`path`, or standard output when NULL):
 * flushes it, closes a file, and says a write error (a full disk, a file
 * past `ulimit -f`) as "PATH: write error: ...". 0, or -1 after saying it.
 * A closed pipe on standard output is no error: the reader had enough. */
int   util_output_end(FILE *f, const char *path);

/* Parses "1048576", "512K", "10M", "1G", "2MiB", "3kb": bytes. 0 or -EINVAL. */
int   util_parse_size(const char *text, int64_t *out);
/* Parses a decimal in [lo, hi]. 0 or -EINVAL. */
int   util_parse_long(const char *text, long lo, long hi, long *out);

int64_t util_now_ns(void);          /* CLOCK_MONOTONIC */
void    util_sleep_ms(unsigned ms);

#endif
