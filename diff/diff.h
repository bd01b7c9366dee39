/* diff.h: snapshots in memory, tracemalloc's grouping/compare/sort rules,
 * filters, snapshot files, and the text/JSON report formats.
 *
 * Knows nothing of the tracer, of DWARF or of the terminal: frames arrive
 * already symbolized as diff_frame values, interned in a diff_loctab. */
#ifndef LEAKTOP_DIFF_H
#define LEAKTOP_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- frames ---------------------------------------------------------- */

/* One symbolized frame. `file` NULL means no line info: the group key is
 * then (module, offset), so unknown call sites never merge. */
typedef struct diff_frame {
    const char *function;   /* demangled name, or NULL */
    const char *file;       /* source path, or NULL when unknown */
    uint32_t    line;       /* 0 when unknown */
    const char *module;     /* object path, or NULL */
    uint64_t    address;    /* runtime return address, 0 when not known */
    uint64_t    offset;     /* return address relative to the module (ELF vaddr) */
    bool        inlined;    /* an inlined call inside the next frame */
    const char *system_name; /* the mangled symbol when known, else NULL (pprof's
                                system name; not part of any group key) */
} diff_frame;

/* Interning table of frames: equal frames (every field) share one id.
 * Strings are copied. Ids are dense from 0 and stable for the table's life.
 * Snapshots compared with each other must share one table.
 *
 * Threads: nothing in diff/ locks. Interning writes the table
 * (diff_loctab_intern, diff_snapshot_add, diff_snapfile_read/parse);
 * everything else only reads it: diff_compare, diff_statistics,
 * diff_traceback_reaches, diff_loctab_get/count and the report formats
 * may run on several threads at once over snapshots sharing one table,
 * as long as no thread interns into it meanwhile. A snapshot or a
 * diff_stats is read-only once built; free it on one thread. */
typedef struct diff_loctab diff_loctab;
diff_loctab      *diff_loctab_new(void);
void              diff_loctab_free(diff_loctab *lt);
/* UINT32_MAX when out of memory. */
uint32_t          diff_loctab_intern(diff_loctab *lt, const diff_frame *f);
const diff_frame *diff_loctab_get(const diff_loctab *lt, uint32_t id);
size_t            diff_loctab_count(const diff_loctab *lt);

/* Allocator wrappers skipped when choosing the top frame: C++ operator
 * new/new[] (every variant), strdup, strndup, wcsdup (and glibc's aliases),
 * plus the caller's globs (--alloc-fn, fnmatch on the function name).
 * Returns the index of the first frame to keep in frames[0..n). */
uint32_t diff_frames_skip_wrappers(const diff_loctab *lt, const uint32_t *frames,
                                   uint32_t n, const char *const *alloc_fn_globs,
                                   size_t nglobs);
/* True when frames[0..n) already holds the top frame: one that is not a
 * wrapper. Frames past it do not change which frame is the top. */
bool     diff_frames_top_known(const diff_loctab *lt, const uint32_t *frames, uint32_t n,
                               const char *const *alloc_fn_globs, size_t nglobs);

/* ---- snapshots ------------------------------------------------------- */

typedef struct diff_snapshot diff_snapshot;

/* `locs` is borrowed and must outlive the snapshot. */
diff_snapshot *diff_snapshot_new(diff_loctab *locs, uint32_t frames_limit);
void           diff_snapshot_free(diff_snapshot *s);
/* Adds `count` blocks totalling `size` bytes with this traceback (frame ids,
 * most recent first; copied). A trace without frames interns the pseudo
 * frame ("<unknown>", 0) it is grouped under, so compares need not. Several adds with one traceback are allowed
 * and behave as separate traces. Returns 0, or -ENOMEM; also -EINVAL for a
 * negative size or count or a frame id not in the loctab, and -EOVERFLOW
 * when the snapshot's total size or count would overflow int64 (the trace
 * is then not added). */
int            diff_snapshot_add(diff_snapshot *s, int64_t size, int64_t count,
                                 const uint32_t *frames, uint32_t nframes);
void           diff_snapshot_set_label(diff_snapshot *s, const char *label);
const char    *diff_snapshot_label(const diff_snapshot *s);   /* "" if none */
void           diff_snapshot_set_meta(diff_snapshot *s, int pid, double elapsed_s);
int            diff_snapshot_pid(const diff_snapshot *s);
double         diff_snapshot_elapsed(const diff_snapshot *s);
uint32_t       diff_snapshot_frames_limit(const diff_snapshot *s);
/* Sampling: 0 for exact figures, else the mean interval in bytes the
 * tracer sampled at (LEAKTOP_SAMPLE): every size and count is then an
 * unbiased estimate. Snapshots of different intervals are not compared. */
void           diff_snapshot_set_sample_bytes(diff_snapshot *s, uint64_t bytes);
uint64_t       diff_snapshot_sample_bytes(const diff_snapshot *s);
diff_loctab   *diff_snapshot_locs(const diff_snapshot *s);
size_t         diff_snapshot_ntraces(const diff_snapshot *s);
void           diff_snapshot_trace(const diff_snapshot *s, size_t i, int64_t *size,
                                   int64_t *count, const uint32_t **frames,
                                   uint32_t *nframes);
void           diff_snapshot_totals(const diff_snapshot *s, int64_t *size, int64_t *count);
/* ---- births: retained since a baseline (PRODUCT.md §10) ---------------------- */

/* Birth epochs count the baselines a traced run took (the tracer's marks,
 * the view's `b`). A snapshot knows its run (`run`, 0 = none known), the
 * epoch it starts as a baseline (blocks born after it have epochs >= it;
 * DIFF_EPOCH_NONE when it cannot serve: past the tracer's epoch limit, or
 * not a baseline the tracer can tell), and per trace its live blocks by
 * birth epoch (epochs >= 1; the rest of the trace was born at epoch 0).
 * Retained since a baseline B = blocks born at epochs >= B's epoch. */
#define DIFF_EPOCH_NONE UINT32_MAX
typedef struct diff_birth {
    uint32_t epoch;         /* >= 1 */
    int64_t  size, count;
} diff_birth;
/* births_known: every trace's births were added (a tracer that had no
 * room for them, or a file without them, says false). */
void     diff_snapshot_set_epoch(diff_snapshot *s, uint64_t run, uint32_t epoch, bool births_known);
uint64_t diff_snapshot_run(const diff_snapshot *s);
uint32_t diff_snapshot_epoch(const diff_snapshot *s);
bool     diff_snapshot_births_known(const diff_snapshot *s);
/* The births of the trace added last (copied). 0, -EINVAL (no trace yet,
 * epoch 0, a negative figure, births adding up to more than the trace),
 * or -ENOMEM. */
int      diff_snapshot_add_births(diff_snapshot *s, const diff_birth *b, uint32_t n);
/* Trace i's births; returns how many. */
uint32_t diff_snapshot_births(const diff_snapshot *s, size_t i, const diff_birth **b);
/* Whether new_'s retained figures since `base` (NULL = the empty start)
 * are known exactly; when not, why (one phrase, for "retained not
 * known: ..."). */
bool     diff_retained_known(const diff_snapshot *new_, const diff_snapshot *base, const char **why);
/* new_'s retained bytes and blocks since base, over all its traces (no
 * grouping, no filter); false (and 0s) when not known. */
bool     diff_retained_totals(const diff_snapshot *new_, const diff_snapshot *base, int64_t *size, int64_t *count);

/* Module table carried for self-contained files (informational). */
int            diff_snapshot_add_module(diff_snapshot *s, const char *path,
                                        const char *build_id_hex, uint64_t bias);
size_t         diff_snapshot_nmodules(const diff_snapshot *s);
void           diff_snapshot_module(const diff_snapshot *s, size_t i, const char **path,
                                    const char **build_id_hex, uint64_t *bias);

/* ---- grouping, compare, sort ------------------------------------------ */

typedef enum diff_group { DIFF_GROUP_LINENO, DIFF_GROUP_FILENAME, DIFF_GROUP_TRACEBACK } diff_group;
typedef enum diff_sort  { DIFF_SORT_GROWTH, DIFF_SORT_ABSOLUTE, DIFF_SORT_FREED, DIFF_SORT_SIZE,
                          DIFF_SORT_RATE, DIFF_SORT_RETAINED } diff_sort;

/* A group's trend over the window (trend.c, PRODUCT.md §10). */
typedef struct diff_trend {
    bool   known;      /* the history had a sample in the window before this one */
    bool   suspect;    /* grew steadily across the window (diff_trend_rule) */
    double rate_bps;   /* least-squares slope of its size, bytes per second */
} diff_trend;

typedef struct diff_trend_hist diff_trend_hist;

/* tracemalloc.Filter: fnmatch `pattern` on the file name (tracemalloc's
 * rules), `lineno` < 0 means any line. */
typedef struct diff_filter {
    bool        inclusive;
    const char *pattern;
    int64_t     lineno;
    bool        all_frames;
} diff_filter;

typedef struct diff_options {
    diff_group         group;
    bool               cumulative;   /* refused with DIFF_GROUP_TRACEBACK */
    diff_sort          sort;
    const diff_filter *filters;
    size_t             nfilters;
    /* Read-only: when set, every statistic gets its trend from this
     * history plus its size now (at the new snapshot's elapsed time), and
     * DIFF_SORT_RATE sorts by it. The caller records the compare into the
     * history afterwards (diff_trend_hist_record). */
    const diff_trend_hist *trend;
} diff_options;

/* One statistic. For lineno/filename groups `frames` holds the group's one
 * frame; for traceback groups, the whole traceback, most recent first.
 * For filename groups the frame's line is shown as 0. */
typedef struct diff_stat {
    int64_t         size, size_diff, count, count_diff;
    /* Retained since the baseline: the group's live blocks born after it
     * (diff_stats_retained_known says whether these are known). */
    int64_t         retained_size, retained_count;
    const uint32_t *frames;
    uint32_t        nframes;
    /* The group's key, never 0: equal for the same group in every compare
     * of snapshots sharing one loctab under the same grouping, so a caller
     * can follow a row across refreshes (selection, trends). */
    uint64_t        key;
    diff_trend      trend;   /* known only with diff_options.trend */
} diff_stat;

typedef struct diff_stats diff_stats;

/* new_ compared against old (NULL = empty snapshot), sorted by opts->sort.
 * Retained figures are since old (diff_retained_known); when they are not
 * known they read 0 and DIFF_SORT_RETAINED sorts by growth.
 * Returns NULL and fills err (one line) when refused: cumulative with
 * traceback, traceback grouping of snapshots with different frame limits,
 * snapshots sampled at different intervals (or one sampled, one exact). */
diff_stats *diff_compare(const diff_snapshot *new_, const diff_snapshot *old,
                         const diff_options *opts, char *err, size_t errlen);
/* Statistics of one snapshot (tracemalloc's Snapshot.statistics): diffs are 0;
 * sorted by (size, count, traceback) descending whatever opts->sort says,
 * except DIFF_SORT_SIZE which is the same order. */
diff_stats *diff_statistics(const diff_snapshot *s, const diff_options *opts,
                            char *err, size_t errlen);
/* Which tracebacks reach a row: `tb` is a statistic of a traceback-grouped
 * compare; `key` is the row's diff_stat.key under grouping o. Returns the
 * index of tb's frame that puts it in the row (its top frame for lineno
 * and filename, any frame with cumulative; 0 for traceback grouping when
 * tb is the row), or -1 when it does not reach it. */
long             diff_traceback_reaches(const diff_loctab *lt, const diff_stat *tb,
                                        const diff_options *o, uint64_t key);
/* The mix diff's keys are made of, for callers that key their own maps by
 * group keys (and by text: diff_key_text). */
uint64_t         diff_key_mix(uint64_t h, uint64_t x);
uint64_t         diff_key_text(const char *s);
size_t           diff_stats_count(const diff_stats *st);
const diff_stat *diff_stats_get(const diff_stats *st, size_t i);
/* Totals over the filtered traces (not over groups: cumulative rows overlap). */
void             diff_stats_total(const diff_stats *st, diff_stat *total);
/* The retained figures are exact; false: not known (why: one phrase). */
bool             diff_stats_retained_known(const diff_stats *st, const char **why);
const diff_loctab *diff_stats_locs(const diff_stats *st);
void             diff_stats_free(diff_stats *st);

/* ---- trend and suspects (trend.c) --------------------------------------------- */

/* The rule, on n samples (t[i] seconds ascending, v[i] bytes), the last
 * one being now. rate_bps is the least-squares slope of v over t. The
 * samples are split into four quarters (by index); the group is a suspect
 * when all of these hold:
 *   - there are at least DIFF_TREND_MIN_SAMPLES samples;
 *   - the rate is at least DIFF_TREND_MIN_RATE bytes per second;
 *   - each quarter's lowest size is strictly above the previous
 *     quarter's lowest: the floor rose all through the window, so the
 *     group never fell back to where it was at the start;
 *   - the fitted rise (rate x the window's span) is larger than the
 *     widest swing (highest - lowest) inside any one quarter: the growth
 *     stands out of the churn (noise's floors rise by chance, 1 in 24).
 * A bounded cache at its plateau (equal floors), a spike freed again (the
 * floor falls back), churn netting to zero (no rise beyond its swing) and
 * a line that only frees are not suspects; a steady leak is, also under
 * churn whose swing is smaller than what the leak adds over the window.
 * known is false when n < 2. */
#define DIFF_TREND_MIN_SAMPLES 8
#define DIFF_TREND_MIN_RATE    1.0       /* bytes per second */
#define DIFF_TREND_MAX_SAMPLES 64        /* kept per group: one every window/64 s
                                            (536 B per group seen in the window) */
#define DIFF_TREND_WINDOW_S    60.0      /* --window's default */
void diff_trend_rule(const double *t, const int64_t *v, size_t n, diff_trend *out);

/* The sizes of every group over the last `window_s` seconds, keyed by
 * diff_stat.key: one history per grouping and filter set. A group not in
 * a recorded compare had nothing live then (size 0). Samples closer than
 * window_s / DIFF_TREND_MAX_SAMPLES to the last kept one are skipped, so
 * memory stays bounded (at most DIFF_TREND_MAX_SAMPLES sizes per group
 * seen in the window). */
diff_trend_hist *diff_trend_hist_new(double window_s);
void             diff_trend_hist_free(diff_trend_hist *h);
double           diff_trend_hist_window(const diff_trend_hist *h);
/* Records the size of every statistic (of the first max_rows, 0 = all:
 * the rest then read as absent, so give them no trend) at time t_s
 * (seconds, ascending across calls). 0, or -ENOMEM. */
int              diff_trend_hist_record(diff_trend_hist *h, const diff_stats *st, double t_s,
                                        size_t max_rows);
/* The trend of group `key` whose size is `size` at t_s: the rule over the
 * history's samples in (t_s - window, t_s) and this one. */
void             diff_trend_hist_eval(const diff_trend_hist *h, uint64_t key, double t_s,
                                      int64_t size, diff_trend *out);
/* Statistics flagged suspect (rows of st, not only those shown). */
size_t           diff_stats_suspects(const diff_stats *st);

/* ---- formatting -------------------------------------------------------- */

/* tracemalloc's _format_size, to the digit. Returns buf. */
char *diff_format_size(char *buf, size_t len, int64_t bytes, bool sign);
/* "sampled every 512 KiB: estimates", the note every sampled figure
 * carries (view header, text reports). Returns buf. */
char *diff_format_sampling(char *buf, size_t len, uint64_t sample_bytes);

/* Everything a report says besides the statistics (PRODUCT.md §4). */
typedef struct diff_report_info {
    const char *reason;       /* "mark", "interval", "exit", "signal", "detach" */
    const char *label;        /* this snapshot's label ("exit" at the end) */
    const char *baseline;     /* baseline label, "" for the empty snapshot */
    int         pid;
    double      elapsed_s;
    int         signal;       /* > 0 only when reason is "signal" */
    uint32_t    frames_limit;
    uint64_t    sample_bytes; /* 0: exact; else JSON says "sampled":true,"sample_bytes":N */
    size_t      top;          /* 0 = all rows */
    const char *path_base;    /* text only: paths under it are shown relative; may be NULL */
    bool        traced;       /* from a live program: JSON says traces_dropped */
    uint64_t    traces_dropped;  /* allocations charged to <unknown> (trace table full) */
    const char *left_tracing; /* JSON: the program exec'd this and left tracing; may be NULL */
    double      window_s;     /* JSON: the trend window, 0 = no trend (not said) */
    bool        attached;     /* tracing began at `leaktop attach`: figures are since then
                                 (JSON "attached":true, text "s since attach") */
} diff_report_info;

void diff_report_text(FILE *out, const diff_stats *st, const diff_options *opts,
                      const diff_report_info *info);
/* One JSON object on one line (JSON Lines), newline included. */
void diff_report_json(FILE *out, const diff_stats *st, const diff_options *opts,
                      const diff_report_info *info);

/* Names used on the command line and in JSON ("lineno", "growth", ...). */
const char *diff_group_name(diff_group g);
const char *diff_sort_name(diff_sort s);
int         diff_group_parse(const char *name, diff_group *out);   /* 0 or -EINVAL */
int         diff_sort_parse(const char *name, diff_sort *out);

/* ---- snapshot files (docs/SNAPSHOT_FORMAT.md) ---------------------------- */

/* Writes the self-contained binary format. 0, or -errno with err filled. */
int diff_snapfile_write(const char *path, const diff_snapshot *s, char *err, size_t errlen);
/* Reads the binary format or the JSON snapshot of PRODUCT.md §9 (detected
 * by content). Frames are interned into `locs`. NULL with err filled
 * ("PATH: what is wrong") on any problem; never trusts a length field. */
diff_snapshot *diff_snapfile_read(const char *path, diff_loctab *locs, char *err, size_t errlen);
/* The same from memory (used by the fuzz target). */
diff_snapshot *diff_snapfile_parse(const uint8_t *data, size_t len, const char *name,
                                   diff_loctab *locs, char *err, size_t errlen);

#endif
