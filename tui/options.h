/* options.h: the command-line options shared by the commands, parsed from
 * one table (adding an option is adding a row in options.c). Each command
 * says which of them mean something for it (a template, as tmux's
 * per-command flags): any other is refused with one line. */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"
#include "diff_export.h"
#include "session.h"

#define OPTIONS_MAX_LIST 64

/* One bit per option, for the commands' templates. */
enum {
    OPT_FRAMES     = 1u << 0,
    OPT_INTERVAL   = 1u << 1,
    OPT_GROUP      = 1u << 2,
    OPT_CUMULATIVE = 1u << 3,
    OPT_SORT       = 1u << 4,
    OPT_TOP        = 1u << 5,
    OPT_INCLUDE    = 1u << 6,
    OPT_EXCLUDE    = 1u << 7,
    OPT_ALLOC_FN   = 1u << 8,
    OPT_DEBUG_DIR  = 1u << 9,
    OPT_BATCH      = 1u << 10,
    OPT_JSON       = 1u << 11,
    OPT_OUTPUT     = 1u << 12,
    OPT_SAVE       = 1u << 13,
    OPT_FAIL       = 1u << 14,
    OPT_HELP       = 1u << 15,   /* --help and --version: every command */
    OPT_KEEP_LOG   = 1u << 16,
    OPT_FORMAT     = 1u << 17,
    OPT_BASE       = 1u << 18,
    OPT_SERVE      = 1u << 19,
    OPT_DEBUGINFOD = 1u << 20,   /* --debuginfod and --no-debuginfod */
    OPT_MODULES    = 1u << 21,
    OPT_WINDOW     = 1u << 22,   /* --window SECONDS: the trend window */
    OPT_FAIL_SUSPECT = 1u << 23, /* --fail-on-suspect */
    OPT_SAMPLE     = 1u << 24,   /* --sample BYTES */
    OPT_DURATION   = 1u << 25,   /* --duration S (attach: detach after S seconds) */
};
/* What a comparison is grouped, sorted and filtered by. */
#define OPTS_SHAPE   (OPT_GROUP | OPT_CUMULATIVE | OPT_SORT | OPT_INCLUDE | OPT_EXCLUDE)
/* How a running program's frames are symbolized. */
#define OPTS_SYMBOLS (OPT_ALLOC_FN | OPT_DEBUG_DIR | OPT_DEBUGINFOD)
/* Where and how reports are written. */
#define OPTS_REPORT  (OPT_TOP | OPT_JSON | OPT_OUTPUT | OPT_FAIL)

/* The options one command accepts, and its name for the refusal. */
typedef struct options_template {
    const char *cmd;
    unsigned    allowed;   /* OPT_* bits; OPT_HELP is always allowed */
} options_template;

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
    diff_export_format format;    /* --format FMT (export; --save writes it too) */
    bool         format_set;
    const char  *base;            /* --base OLD (export) */
    const char  *serve;           /* --serve ADDR:PORT */
    bool         keep_log;        /* --keep-log: the live view's program log stays */
    bool         modules;         /* show --modules: where debug info comes from */
    int          debuginfod;      /* --debuginfod 1, --no-debuginfod 0, -1: DEBUGINFOD_URLS decides */
    int64_t      fail_on_growth;  /* --fail-on-growth SIZE, -1 = off */
    double       window_s;        /* --window SECONDS (trend and suspects) */
    bool         fail_on_suspect; /* --fail-on-suspect */
    uint64_t     sample_bytes;    /* --sample BYTES: 0 = exact (LEAKTOP_SAMPLE is inherited) */
    double       duration_s;      /* --duration S: attach detaches after it; 0 = until q/Ctrl-C */
    bool         help, version;
} options;

void options_defaults(options *o);
/* Parses argv[0..argc) up to "--" or the first non-option (its index is
 * returned through *next). 0, or -1 with err filled (one line), also for
 * an option the template does not allow. */
int  options_parse(options *o, const options_template *t, int argc, char **argv, int *next,
                   char *err, size_t errlen);
/* The symbolization settings the options ask for (--alloc-fn, --debug-dir,
 * debuginfod: on when DEBUGINFOD_URLS is set, unless --no-debuginfod;
 * each fetch bounded by DEBUGINFOD_MAXTIME seconds when set, else by
 * 3 x DEBUGINFOD_TIMEOUT, libdebuginfod's 90 s by default). */
session_config options_session_config(const options *o);
/* One line per option, for --help. */
void options_usage(FILE *out);

#endif
