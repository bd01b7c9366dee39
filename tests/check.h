/* check.h: the one set of assertion macros the C tests share (tests/diff,
 * tests/watch, tests/tui, tests/symbols). A failed check prints where and
 * what, counts, and lets the test go on; check_report() at the end makes
 * the exit status. */
#ifndef LEAKTOP_TEST_CHECK_H
#define LEAKTOP_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_INT(got, want)                                                     \
    do {                                                                         \
        int64_t g_ = (int64_t)(got), w_ = (int64_t)(want);                       \
        if (g_ != w_) {                                                          \
            fprintf(stderr, "%s:%d: %s = %" PRId64 ", want %" PRId64 "\n",        \
                    __FILE__, __LINE__, #got, g_, w_);                           \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_STR(got, want)                                                     \
    do {                                                                         \
        const char *g_ = (got), *w_ = (want);                                    \
        if (!g_ || strcmp(g_, w_) != 0) {                                        \
            fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__,       \
                    __LINE__, #got, g_ ? g_ : "(null)", w_);                     \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

/* CHECK with a printf-style explanation of what was found. */
#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures != 0;
}

#endif
