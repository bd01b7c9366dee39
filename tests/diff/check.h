/* check.h: the few assertion macros the diff/ tests share. A failed check
 * prints where and what, and the test exits non-zero at the end. */
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

static inline int check_report(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures != 0;
}

#endif
