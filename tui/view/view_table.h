/* view_table.h: the statistics table's model: the rows of the current
 * compare, the selection (kept on the same group across refreshes), each
 * group's recent sizes for its trend sparkline, and the total traced size
 * over time for the header's sparkline. Computed here, drawn elsewhere. */
#ifndef LEAKTOP_VIEW_TABLE_H
#define LEAKTOP_VIEW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "view_page.h"

#define VIEW_TREND_LEN   8     /* samples per row sparkline */
#define VIEW_TOTALS_LEN  512   /* samples of the header sparkline */
/* Rows past this rank get no trend: bounds the refresh work when a
 * traceback grouping yields 100,000 rows. */
#define VIEW_TREND_ROWS  20000

typedef struct view_trend_entry {
    uint64_t key;       /* 0 = empty slot */
    uint64_t mode;      /* grouping the key belongs to */
    uint32_t last;      /* tick of that mode when last sampled */
    uint32_t n;         /* samples held, <= VIEW_TREND_LEN */
    int64_t  vals[VIEW_TREND_LEN];   /* oldest first */
} view_trend_entry;

/* Ticks count the refreshes made under one grouping: switching grouping
 * away and back resumes its trends instead of reading the gap as zeros. */
#define VIEW_TREND_MODES 8
typedef struct view_trend {
    view_trend_entry *slots;
    size_t            cap, used;
    struct { uint64_t mode; uint32_t tick; uint64_t lru; } modes[VIEW_TREND_MODES];
    uint64_t          clock;
} view_trend;

/* A compare, computed away from the table (on the worker thread), then
 * adopted by it. Rows are followed across refreshes by diff_stat.key. */
typedef struct view_compare_result {
    diff_stats *st;       /* NULL when refused (err says why) */
    char        err[512];
} view_compare_result;

/* Compares cur against base (NULL = empty snapshot) with o. Touches
 * nothing but its arguments: safe on another thread while the snapshots
 * and their loctab are only read (see diff.h). */
void view_table_compute(const diff_snapshot *cur, const diff_snapshot *base,
                        const diff_options *o, view_compare_result *out);
void view_compare_result_free(view_compare_result *r);

typedef struct view_table {
    diff_stats   *st;         /* the current compare (owned), NULL before the first */
    size_t        nrows;
    view_cursor   cur;
    uint64_t      mode;       /* grouping of st (see view_table_mode) */
    view_trend    trend;
    int64_t       totals[VIEW_TOTALS_LEN];   /* traced bytes, ring */
    size_t        ntotals, totals_head;
    /* Trend and suspects (diff_trend_rule) over the refreshes of one
     * grouping: a regroup starts them over. */
    double           window_s;   /* --window; set before each adopt */
    diff_trend_hist *hist;       /* NULL until the first sampled refresh */
    uint64_t         hist_mode;
    diff_trend      *trends;     /* per row, nrows long (none past VIEW_TREND_ROWS) */
    size_t           suspects;   /* rows flagged suspect */
    bool             frozen;     /* the rows compare two marks: no trends; set before each adopt */
} view_table;

void view_table_free(view_table *t);
/* The trend history of grouping `mode`, for a compare that sorts by rate
 * (diff_options.trend), or NULL when the table has none for it yet. */
const diff_trend_hist *view_table_history(const view_table *t, uint64_t mode);

/* A grouping's identity: group, cumulative and the filter text. */
uint64_t view_table_mode(const diff_options *o, const char *filter_text);

/* Takes r's compare (r is emptied) as the table's rows. sample = it
 * compares a new snapshot (cur), so trends and the total series get a
 * point; a regroup or re-sort of the same snapshots does not. */
void view_table_adopt(view_table *t, view_compare_result *r, const diff_snapshot *cur,
                      uint64_t mode, bool sample);

const diff_stat *view_table_row(const view_table *t, size_t i);
const diff_stat *view_table_selected(const view_table *t);
/* Row i's trend (known false when it has none). */
diff_trend view_table_row_trend(const view_table *t, size_t i);
/* Size grew while the block count stayed flat: blocks got bigger. */
bool view_table_bigger(const diff_stat *s);
/* The row's recent sizes, oldest first; returns how many (0..max). */
int  view_table_trend(const view_table *t, size_t row, int64_t *vals, int max);
/* The last `max` totals, oldest first; returns how many. */
int  view_table_totals(const view_table *t, int64_t *vals, int max);

void view_table_move(view_table *t, long delta, size_t height);

#endif
