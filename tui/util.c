/* util.c: allocation wrappers, number parsing, time, error printing. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void util_oom(size_t n)
{
    fprintf(stderr, "leaktop: out of memory (%zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        util_oom(n);
    return p;
}

void *xcalloc(size_t n, size_t each)
{
    void *p = calloc(n ? n : 1, each ? each : 1);
    if (!p)
        util_oom(n * each);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        util_oom(n);
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

int util_output_end(FILE *f, const char *path)
{
    errno = 0;
    bool bad = fflush(f) != 0 || ferror(f);
    int saved = errno;
    if (bad && !saved) {
        /* stdio keeps no errno of a buffered write that failed earlier:
         * one more byte meets the cause again (the output is cut short
         * anyway). */
        clearerr(f);
        errno = 0;
        if (fputc('\n', f) == EOF || fflush(f) != 0)
            saved = errno;
    }
    if (path && fclose(f) != 0 && !bad) {
        bad = true;
        saved = errno;
    }
    if (!bad || saved == EPIPE)
        return 0;
    util_error("%s: write error: %s", path ? path : "standard output", strerror(saved ? saved : EIO));
    return -1;
}

void util_error(const char *fmt, ...)
{
    va_list ap;
    fputs("leaktop: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int util_parse_long(const char *text, long lo, long hi, long *out)
{
    if (!text || !*text)
        return -EINVAL;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

int util_parse_size(const char *text, int64_t *out)
{
    static const struct { const char *suffix; int64_t mult; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1024}, {"kb", 1024}, {"kib", 1024},
        {"m", 1 << 20}, {"mb", 1 << 20}, {"mib", 1 << 20},
        {"g", 1 << 30}, {"gb", 1 << 30}, {"gib", 1 << 30},
        {"t", 1LL << 40}, {"tb", 1LL << 40}, {"tib", 1LL << 40},
    };
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno)
        return -EINVAL;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].suffix) == 0) {
            if (v > INT64_MAX / units[i].mult)
                return -EINVAL;
            *out = v * units[i].mult;
            return 0;
        }
    }
    return -EINVAL;
}

int64_t util_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void util_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
