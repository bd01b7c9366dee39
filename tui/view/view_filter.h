/* view_filter.h: the `/` filter: text the user types ("foo*.c -bar.c
 * src/x.c:42") turned into tracemalloc filters. Owns the pattern strings
 * the diff_filter array points at. */
#ifndef LEAKTOP_VIEW_FILTER_H
#define LEAKTOP_VIEW_FILTER_H

#include <stddef.h>

#include "diff.h"

#define VIEW_FILTER_MAX 64   /* words; each may become two filters */

typedef struct view_filter {
    char        text[512];      /* as typed, "" = no filter */
    diff_filter items[2 * VIEW_FILTER_MAX];
    char       *patterns[2 * VIEW_FILTER_MAX];
    size_t      n;
} view_filter;

/* Words separated by blanks; "-GLOB" excludes, "GLOB" or "+GLOB" includes;
 * a trailing ":LINE" restricts to that line. A GLOB without '/' also
 * matches a file's base name anywhere ("demo.c" matches src/demo.c), which
 * is what a user typing a file name means; tracemalloc's rule alone would
 * match whole paths only. 0, or -1 with err filled and f unchanged. */
int  view_filter_set(view_filter *f, const char *text, char *err, size_t errlen);
/* Starts from command-line filters (--include/--exclude), copied as they are. */
void view_filter_from(view_filter *f, const diff_filter *items, size_t n);
void view_filter_free(view_filter *f);

#endif
