/* view_table.c: rows of a compare, selection that follows its group, and
 * the trend history: an open-addressing map from (grouping, group key) to
 * the group's last VIEW_TREND_LEN sizes. */
#include "view_table.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- keys ------------------------------------------------------------------ */

uint64_t view_table_mode(const diff_options *o, const char *filter_text)
{
    uint64_t h = diff_key_mix(0x5eed, (uint64_t)o->group * 2 + (o->cumulative ? 1 : 0));
    return diff_key_mix(h, diff_key_text(filter_text ? filter_text : "")) | 1;
}

/* ---- trend map ---------------------------------------------------------------- */

static size_t view_trend_slot(const view_trend_entry *slots, size_t cap, uint64_t key)
{
    size_t i = (size_t)(diff_key_mix(key, 0) & (cap - 1));
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

static int view_trend_mode_index(const view_trend *tr, uint64_t mode)
{
    for (int i = 0; i < VIEW_TREND_MODES; i++)
        if (tr->modes[i].mode == mode)
            return i;
    return -1;
}

/* The tick of this sample under `mode`; a new mode takes the least
 * recently used mode's place (its entries go at the next rehash). */
static uint32_t view_trend_begin(view_trend *tr, uint64_t mode)
{
    int i = view_trend_mode_index(tr, mode);
    if (i < 0) {
        i = 0;
        for (int k = 1; k < VIEW_TREND_MODES; k++)
            if (tr->modes[k].lru < tr->modes[i].lru)
                i = k;
        tr->modes[i].mode = mode;
        tr->modes[i].tick = 0;
    }
    tr->modes[i].lru = ++tr->clock;
    return ++tr->modes[i].tick;
}

/* Kept at a rehash: its mode is still known and it was sampled recently. */
static bool view_trend_live(const view_trend *tr, const view_trend_entry *e)
{
    int i = view_trend_mode_index(tr, e->mode);
    return i >= 0 && tr->modes[i].tick - e->last <= VIEW_TREND_LEN;
}

static void view_trend_rehash(view_trend *tr)
{
    size_t live = 0;
    for (size_t i = 0; i < tr->cap; i++)
        live += tr->slots[i].key && view_trend_live(tr, &tr->slots[i]);
    size_t cap = 1024;
    while (cap < live * 4)
        cap *= 2;
    view_trend_entry *slots = xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < tr->cap; i++) {
        const view_trend_entry *e = &tr->slots[i];
        if (e->key && view_trend_live(tr, e))
            slots[view_trend_slot(slots, cap, e->key)] = *e;
    }
    free(tr->slots);
    tr->slots = slots;
    tr->cap = cap;
    tr->used = live;
}

static void view_trend_push(view_trend_entry *e, int64_t v)
{
    if (e->n == VIEW_TREND_LEN) {
        memmove(e->vals, e->vals + 1, (VIEW_TREND_LEN - 1) * sizeof(int64_t));
        e->n--;
    }
    e->vals[e->n++] = v;
}

static void view_trend_add(view_trend *tr, uint64_t mode, uint64_t key, uint32_t tick, int64_t v)
{
    if ((tr->used + 1) * 2 > tr->cap)
        view_trend_rehash(tr);
    uint64_t k = diff_key_mix(mode, key) | 1;
    view_trend_entry *e = &tr->slots[view_trend_slot(tr->slots, tr->cap, k)];
    if (!e->key) {
        *e = (view_trend_entry){.key = k, .mode = mode, .last = tick - 1};
        tr->used++;
    }
    /* Refreshes that did not see the group: nothing of it was live. */
    for (uint32_t gap = tick - e->last - 1; gap > 0 && gap <= VIEW_TREND_LEN; gap--)
        view_trend_push(e, 0);
    view_trend_push(e, v);
    e->last = tick;
}

static const view_trend_entry *view_trend_find(const view_trend *tr, uint64_t mode, uint64_t key)
{
    if (!tr->cap)
        return NULL;
    uint64_t k = diff_key_mix(mode, key) | 1;
    const view_trend_entry *e = &tr->slots[view_trend_slot(tr->slots, tr->cap, k)];
    return e->key ? e : NULL;
}

/* ---- the table ------------------------------------------------------------------ */

void view_table_free(view_table *t)
{
    if (t->st)
        diff_stats_free(t->st);
    free(t->trend.slots);
    diff_trend_hist_free(t->hist);
    free(t->trends);
    memset(t, 0, sizeof(*t));
}

const diff_trend_hist *view_table_history(const view_table *t, uint64_t mode)
{
    return t->hist && t->hist_mode == mode ? t->hist : NULL;
}

void view_table_compute(const diff_snapshot *cur, const diff_snapshot *base,
                        const diff_options *o, view_compare_result *out)
{
    memset(out, 0, sizeof(*out));
    out->st = diff_compare(cur, base, o, out->err, sizeof(out->err));
}

void view_compare_result_free(view_compare_result *r)
{
    if (r->st)
        diff_stats_free(r->st);
    r->st = NULL;
}

/* The group key of row i (0 past the end). */
static uint64_t view_table_key(const view_table *t, size_t i)
{
    return t->st && i < t->nrows ? diff_stats_get(t->st, i)->key : 0;
}

static void view_table_sample(view_table *t, const diff_snapshot *cur, uint64_t mode)
{
    uint32_t tick = view_trend_begin(&t->trend, mode);
    size_t n = t->nrows < VIEW_TREND_ROWS ? t->nrows : VIEW_TREND_ROWS;
    for (size_t i = 0; i < n; i++)
        view_trend_add(&t->trend, mode, view_table_key(t, i), tick, diff_stats_get(t->st, i)->size);
    int64_t size, count;
    diff_snapshot_totals(cur, &size, &count);
    t->totals[t->totals_head] = size;
    t->totals_head = (t->totals_head + 1) % VIEW_TOTALS_LEN;
    if (t->ntotals < VIEW_TOTALS_LEN)
        t->ntotals++;
}

/* After a refresh a selection on the first row stays there (the top is
 * what the user watches); any other selection stays on its group when that
 * group is still there, otherwise on the same rank. */
static void view_table_reselect(view_table *t, uint64_t old_key, bool same_mode)
{
    if (!same_mode) {
        t->cur.sel = t->cur.top = 0;
        return;
    }
    if (t->cur.sel == 0)
        return;
    for (size_t i = 0; old_key && i < t->nrows; i++) {
        if (view_table_key(t, i) == old_key) {
            t->cur.sel = i;
            return;
        }
    }
}

/* Each row's trend from the history before this snapshot and its size
 * now; a sampled refresh is then recorded. A regroup or re-sort of the
 * same snapshot finds the same trends (the history's samples before it). */
static void view_table_trends(view_table *t, const diff_snapshot *cur, uint64_t mode, bool sample)
{
    size_t n = t->nrows < VIEW_TREND_ROWS ? t->nrows : VIEW_TREND_ROWS;
    free(t->trends);
    t->trends = t->nrows ? xcalloc(t->nrows, sizeof(*t->trends)) : NULL;
    t->suspects = 0;
    if (t->frozen)   /* two marks: the history is the live table's */
        return;
    if (t->hist && t->hist_mode != mode) {
        diff_trend_hist_free(t->hist);
        t->hist = NULL;
    }
    if (!t->hist && sample) {
        t->hist = diff_trend_hist_new(t->window_s);
        t->hist_mode = mode;
    }
    if (!t->hist || !cur)
        return;
    double now = diff_snapshot_elapsed(cur);
    for (size_t i = 0; i < n; i++) {
        const diff_stat *s = diff_stats_get(t->st, i);
        diff_trend_hist_eval(t->hist, s->key, now, s->size, &t->trends[i]);
        t->suspects += t->trends[i].suspect;
    }
    if (sample && diff_trend_hist_record(t->hist, t->st, now, VIEW_TREND_ROWS) != 0) {
        diff_trend_hist_free(t->hist);   /* out of memory: the trends start over */
        t->hist = NULL;
    }
}

void view_table_adopt(view_table *t, view_compare_result *r, const diff_snapshot *cur,
                      uint64_t mode, bool sample)
{
    uint64_t old_key = view_table_key(t, t->cur.sel);
    bool same_mode = t->st && t->mode == mode;
    if (t->st)
        diff_stats_free(t->st);
    t->st = r->st;
    t->nrows = r->st ? diff_stats_count(r->st) : 0;
    t->mode = mode;
    r->st = NULL;
    if (sample)
        view_table_sample(t, cur, mode);
    view_table_trends(t, cur, mode, sample);
    view_table_reselect(t, old_key, same_mode);
}

const diff_stat *view_table_row(const view_table *t, size_t i)
{
    return t->st && i < t->nrows ? diff_stats_get(t->st, i) : NULL;
}

const diff_stat *view_table_selected(const view_table *t)
{
    return view_table_row(t, t->cur.sel);
}

diff_trend view_table_row_trend(const view_table *t, size_t i)
{
    return t->trends && i < t->nrows ? t->trends[i] : (diff_trend){0};
}

bool view_table_bigger(const diff_stat *s)
{
    return s->size_diff > 0 && s->count_diff == 0;
}

int view_table_trend(const view_table *t, size_t row, int64_t *vals, int max)
{
    if (row >= t->nrows)
        return 0;
    const view_trend_entry *e = view_trend_find(&t->trend, t->mode, view_table_key(t, row));
    if (!e)
        return 0;
    int n = (int)e->n < max ? (int)e->n : max;
    memcpy(vals, e->vals + e->n - (uint32_t)n, (size_t)n * sizeof(int64_t));
    return n;
}

int view_table_totals(const view_table *t, int64_t *vals, int max)
{
    int n = (int)t->ntotals < max ? (int)t->ntotals : max;
    for (int i = 0; i < n; i++) {
        size_t idx = (t->totals_head + VIEW_TOTALS_LEN - (size_t)n + (size_t)i) % VIEW_TOTALS_LEN;
        vals[i] = t->totals[idx];
    }
    return n;
}

void view_table_move(view_table *t, long delta, size_t height)
{
    view_cursor_move(&t->cur, t->nrows, delta, height, true);
}
