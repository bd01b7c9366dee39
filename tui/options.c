/* options.c: the option table and its parser. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "watch.h"

typedef int (*options_setter)(options *o, const char *arg);

typedef struct option_row {
    const char    *name;
    unsigned       bit;    /* OPT_* */
    const char    *arg;    /* NULL for a flag */
    const char    *help;
    options_setter set;
} option_row;

static int set_frames(options *o, const char *a)
{
    long v;
    if (util_parse_long(a, 1, (long)watch_max_frames, &v))
        return -1;
    o->frames = (unsigned)v;
    return 0;
}

static int set_interval(options *o, const char *a)
{
    long v;
    if (util_parse_long(a, 10, 86400000, &v))
        return -1;
    o->interval_ms = (unsigned)v;
    return 0;
}

static int set_group(options *o, const char *a) { return diff_group_parse(a, &o->diff.group) ? -1 : 0; }
static int set_sort(options *o, const char *a) { return diff_sort_parse(a, &o->diff.sort) ? -1 : 0; }
static int set_cumulative(options *o, const char *a) { (void)a; o->diff.cumulative = true; return 0; }
static int set_batch(options *o, const char *a) { (void)a; o->batch = true; return 0; }
static int set_json(options *o, const char *a) { (void)a; o->json = true; return 0; }
static int set_help(options *o, const char *a) { (void)a; o->help = true; return 0; }
static int set_version(options *o, const char *a) { (void)a; o->version = true; return 0; }
static int set_output(options *o, const char *a) { o->output = a; return 0; }
static int set_save(options *o, const char *a) { o->save_dir = a; return 0; }
static int set_base(options *o, const char *a) { o->base = a; return 0; }
static int set_format(options *o, const char *a)
{
    o->format_set = diff_export_format_parse(a, &o->format) == 0;
    return o->format_set ? 0 : -1;
}
static int set_serve(options *o, const char *a) { o->serve = a; return 0; }
static int set_keep_log(options *o, const char *a) { (void)a; o->keep_log = true; return 0; }

static int set_top(options *o, const char *a)
{
    long v;
    if (util_parse_long(a, 0, 1000000000, &v))
        return -1;
    o->top = (size_t)v;
    return 0;
}

static int set_window(options *o, const char *a)
{
    long v;
    if (util_parse_long(a, 1, 86400, &v))
        return -1;
    o->window_s = (double)v;
    return 0;
}

static int set_duration(options *o, const char *a)
{
    char *end;
    errno = 0;
    double v = strtod(a, &end);
    if (errno || end == a || *end || !(v > 0) || v > 1e7)
        return -1;
    o->duration_s = v;
    return 0;
}

static int set_fail_suspect(options *o, const char *a) { (void)a; o->fail_on_suspect = true; return 0; }

/* The tracer's own bound (LEAKTOP_SAMPLE, tracer/options.c): 1 TiB. */
static int set_sample(options *o, const char *a)
{
    int64_t v;
    if (util_parse_size(a, &v) || v > (1LL << 40))
        return -1;
    o->sample_bytes = (uint64_t)v;
    return 0;
}

static int set_fail(options *o, const char *a)
{
    return util_parse_size(a, &o->fail_on_growth) ? -1 : 0;
}

/* "GLOB" or "GLOB:LINE" (a trailing :digits is a line number). */
static int add_filter(options *o, const char *a, bool inclusive)
{
    if (o->diff.nfilters == OPTIONS_MAX_LIST || !*a)
        return -1;
    diff_filter *f = &o->filters[o->diff.nfilters++];
    f->inclusive = inclusive;
    f->lineno = -1;
    f->all_frames = false;
    f->pattern = a;
    const char *colon = strrchr(a, ':');
    long line;
    if (colon && colon != a && util_parse_long(colon + 1, 0, 1L << 31, &line) == 0) {
        char *pat = xstrdup(a);  /* lives as long as the process: options are parsed once */
        pat[colon - a] = 0;
        f->pattern = pat;
        f->lineno = line;
    }
    o->diff.filters = o->filters;
    return 0;
}

static int set_include(options *o, const char *a) { return add_filter(o, a, true); }
static int set_exclude(options *o, const char *a) { return add_filter(o, a, false); }

static int set_alloc_fn(options *o, const char *a)
{
    if (o->nalloc_fns == OPTIONS_MAX_LIST)
        return -1;
    o->alloc_fns[o->nalloc_fns++] = a;
    return 0;
}

static int set_debug_dir(options *o, const char *a)
{
    if (o->ndebug_dirs == OPTIONS_MAX_LIST)
        return -1;
    o->debug_dirs[o->ndebug_dirs++] = a;
    return 0;
}

/* gdb and perf ask debuginfod only when DEBUGINFOD_URLS names servers. */
static bool options_debuginfod_urls(void)
{
    const char *v = getenv("DEBUGINFOD_URLS");
    return v && v[strspn(v, " ")] != '\0';
}

static int set_debuginfod(options *o, const char *a)
{
    (void)a;
    o->debuginfod = 1;
    return 0;
}

static int set_modules(options *o, const char *a)
{
    (void)a;
    o->modules = true;
    return 0;
}

static int set_no_debuginfod(options *o, const char *a)
{
    (void)a;
    o->debuginfod = 0;
    return 0;
}

static const option_row option_table[] = {
    {"--frames", OPT_FRAMES, "N", "traceback depth (default %u, like tracemalloc.start(N); at most %u)", set_frames},
    {"--interval", OPT_INTERVAL, "MS", "snapshot period: live refresh, or batch reports every MS", set_interval},
    {"--group", OPT_GROUP, "KEY", "lineno | filename | traceback (default lineno)", set_group},
    {"--cumulative", OPT_CUMULATIVE, NULL, "count every frame of each traceback, not only the top one", set_cumulative},
    {"--sort", OPT_SORT, "ORDER", "growth | absolute | freed | size | rate | retained (default growth)", set_sort},
    {"--top", OPT_TOP, "N", "show N rows (0 = all; default 10 in text, all in JSON)", set_top},
    {"--include", OPT_INCLUDE, "GLOB[:LINE]", "keep only traces whose top frame's file matches", set_include},
    {"--exclude", OPT_EXCLUDE, "GLOB[:LINE]", "drop traces whose top frame's file matches", set_exclude},
    {"--alloc-fn", OPT_ALLOC_FN, "GLOB", "treat matching functions as allocator wrappers", set_alloc_fn},
    {"--debug-dir", OPT_DEBUG_DIR, "DIR", "also look for separate debug files under DIR", set_debug_dir},
    {"--debuginfod", OPT_DEBUGINFOD, NULL, "fetch missing debug info from DEBUGINFOD_URLS (the default when it is set)", set_debuginfod},
    {"--no-debuginfod", OPT_DEBUGINFOD, NULL, "never ask debuginfod servers", set_no_debuginfod},
    {"--modules", OPT_MODULES, NULL, "show: list each module and where its debug info comes from", set_modules},
    {"--batch", OPT_BATCH, NULL, "print reports as text instead of the live view", set_batch},
    {"--json", OPT_JSON, NULL, "print reports as JSON Lines (implies --batch)", set_json},
    {"--output", OPT_OUTPUT, "FILE", "write reports to FILE instead of stdout", set_output},
    {"-o", OPT_OUTPUT, "FILE", "the same as --output", set_output},
    {"--format", OPT_FORMAT, "FMT", "pprof | folded | json: export's format; with --save, also written beside each snapshot", set_format},
    {"--base", OPT_BASE, "OLD", "export: the snapshot to subtract (pprof, folded and json diff forms)", set_base},
    {"--serve", OPT_SERVE, "ADDR:PORT", "serve /debug/pprof/heap (pprof) and /metrics over HTTP (loopback unless ADDR says)", set_serve},
    {"--save", OPT_SAVE, "DIR", "write a snapshot file at every mark and at exit", set_save},
    {"--keep-log", OPT_KEEP_LOG, NULL, "live view: keep the program's output log after leaktop ends", set_keep_log},
    {"--sample", OPT_SAMPLE, "BYTES", "sample one block per BYTES allocated on average (e.g. 512K): low overhead, "
     "figures are estimates (0 = exact, the default)", set_sample},
    {"--fail-on-growth", OPT_FAIL, "SIZE", "exit 3 when growth since baseline exceeds SIZE (e.g. 10M)", set_fail},
    {"--window", OPT_WINDOW, "SECONDS", "rates and suspects over the last SECONDS of snapshots (default 60)", set_window},
    {"--fail-on-suspect", OPT_FAIL_SUSPECT, NULL, "exit 3 when the last report has a suspect (grew all through --window)", set_fail_suspect},
    {"--duration", OPT_DURATION, "S", "attach: detach after S seconds (the program runs on)", set_duration},
    {"--help", OPT_HELP, NULL, "this help", set_help},
    {"--version", OPT_HELP, NULL, "print the version", set_version},
};

/* LEAKTOP_DEBUG_DIRS=DIR:DIR... adds separate-debug-file directories, like
 * --debug-dir (which comes after them). The string lives for the process. */
static void options_debug_dirs_from_env(options *o)
{
    const char *env = getenv("LEAKTOP_DEBUG_DIRS");
    if (!env || !*env)
        return;
    char *copy = xstrdup(env);
    for (char *dir = strtok(copy, ":"); dir && o->ndebug_dirs < OPTIONS_MAX_LIST; dir = strtok(NULL, ":"))
        o->debug_dirs[o->ndebug_dirs++] = dir;
}

void options_defaults(options *o)
{
    memset(o, 0, sizeof(*o));
    o->frames = watch_default_frames;
    o->top = (size_t)-1;  /* "not given": each output picks its default */
    o->fail_on_growth = -1;
    o->window_s = DIFF_TREND_WINDOW_S;
    o->debuginfod = -1;
    o->diff.group = DIFF_GROUP_LINENO;
    o->diff.sort = DIFF_SORT_GROWTH;
    o->diff.filters = o->filters;
    options_debug_dirs_from_env(o);
}

static const option_row *options_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(option_table) / sizeof(option_table[0]); i++)
        if (strlen(option_table[i].name) == len && strncmp(option_table[i].name, name, len) == 0)
            return &option_table[i];
    return NULL;
}

int options_parse(options *o, const options_template *t, int argc, char **argv, int *next,
                  char *err, size_t errlen)
{
    int i = 0;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(a, "--", 2) != 0 && !options_find(a, strlen(a)))
            break;   /* not an option (a short alias such as -o is in the table) */
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const option_row *row = options_find(a, len);
        if (!row) {
            snprintf(err, errlen, "unknown option '%.*s' (see leaktop --help)", (int)len, a);
            return -1;
        }
        if (!(row->bit & (t->allowed | OPT_HELP))) {
            snprintf(err, errlen, "%s: %s does not apply to this command (see leaktop --help)", t->cmd, row->name);
            return -1;
        }
        const char *arg = NULL;
        if (row->arg) {
            arg = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!arg) {
                snprintf(err, errlen, "%s needs a value: %s %s", row->name, row->name, row->arg);
                return -1;
            }
        } else if (eq) {
            snprintf(err, errlen, "%s takes no value", row->name);
            return -1;
        }
        if (row->set(o, arg) != 0) {
            snprintf(err, errlen, "bad value for %s: '%s' (expected %s)", row->name, arg ? arg : "", row->arg);
            return -1;
        }
        i++;
    }
    if (o->json)
        o->batch = true;
    if (o->debuginfod == 1 && !options_debuginfod_urls()) {
        snprintf(err, errlen, "--debuginfod: DEBUGINFOD_URLS is not set (the servers to ask)");
        return -1;
    }
    *next = i;
    return 0;
}

/* Seconds from a DEBUGINFOD_* variable, or `dflt` when unset or not a
 * positive number (as libdebuginfod reads them). */
static unsigned options_env_seconds(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    long s;
    if (!v || util_parse_long(v, 1, 86400, &s))
        return dflt;
    return (unsigned)s;
}

/* The bound of one debuginfod fetch, in ms; 0 when debuginfod is off. */
static unsigned options_debuginfod_ms(const options *o)
{
    if (o->debuginfod == 0 || !options_debuginfod_urls())
        return 0;
    unsigned maxtime = options_env_seconds("DEBUGINFOD_MAXTIME", 0);
    unsigned timeout = options_env_seconds("DEBUGINFOD_TIMEOUT", 90);
    return (maxtime ? maxtime : 3 * timeout) * 1000u;
}

session_config options_session_config(const options *o)
{
    session_config cfg = {
        .alloc_fns = o->alloc_fns, .nalloc_fns = o->nalloc_fns,
        .debug_dirs = o->debug_dirs, .ndebug_dirs = o->ndebug_dirs,
        .debuginfod_ms = options_debuginfod_ms(o),
    };
    return cfg;
}

void options_usage(FILE *out)
{
    for (size_t i = 0; i < sizeof(option_table) / sizeof(option_table[0]); i++) {
        const option_row *r = &option_table[i];
        char lhs[48];
        snprintf(lhs, sizeof(lhs), "%s%s%s", r->name, r->arg ? " " : "", r->arg ? r->arg : "");
        char help[256];
        /* The frame limits come from the segment layout, the one source. */
        snprintf(help, sizeof(help), r->help, r->bit == OPT_FRAMES ? watch_default_frames : 0,
                 r->bit == OPT_FRAMES ? watch_max_frames : 0);
        fprintf(out, "  %-28s %s\n", lhs, help);
    }
}
