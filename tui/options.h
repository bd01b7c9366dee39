/* options.h: the command-line options shared by the commands, parsed from
 * one table (adding an option is adding a row in options.c). */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"
#include "session.h"

#define OPTIONS_MAX_LIST 64

typedef struct options {
    unsigned     frames;          /* --frames N (traceback depth) */
    unsigned     interval_ms;     /* --interval MS (0 = none in batch) */
    diff_options diff;            /* --group, --cumulative, --sort, filters */
    diff_filter  filters[OPTIONS_MAX_LIST];
    size_t       top;             /* --top N, 0 = all */
    const char  *alloc_fns[OPTIONS_MAX_LIST];
    size_t       nalloc_fns;
    const char  *debug_dirs[OPTIONS_MAX_LIST];
    size_t       ndebug_dirs;
    bool         batch;
    bool         json;
    const char  *output;          /* --output FILE */
    const char  *save_dir;        /* --save DIR */
    bool         keep_log;        /* --keep-log: the live view's program log stays */
    int64_t      fail_on_growth;  /* --fail-on-growth SIZE, -1 = off */
    bool         help, version;
} options;

void options_defaults(options *o);
/* Parses argv[0..argc) up to "--" or the first non-option (its index is
 * returned through *next). 0, or -1 with err filled (one line). */
int  options_parse(options *o, int argc, char **argv, int *next, char *err, size_t errlen);
/* The symbolization settings the options ask for (--alloc-fn, --debug-dir). */
session_config options_session_config(const options *o);
/* One line per option, for --help. */
void options_usage(FILE *out);

#endif
