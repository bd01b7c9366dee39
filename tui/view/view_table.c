/* view_table.c: rows of a compare, selection that follows its group, and
 * the trend history: an open-addressing map from (grouping, group key) to
 * the group's last VIEW_TREND_LEN sizes. */
#include "view_table.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- keys ------------------------------------------------------------------ */

static uint64_t view_mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

static uint64_t view_hash_str(uint64_t h, const char *s)
{
    uint64_t f = 0xcbf29ce484222325ULL;   /* FNV-1a */
    for (; s && *s; s++)
        f = (f ^ (unsigned char)*s) * 0x100000001b3ULL;
    return view_mix(h, f ^ (s ? 1 : 0));
}

uint64_t view_table_mode(const diff_options *o, const char *filter_text)
{
    uint64_t h = view_mix(0x5eed, (uint64_t)o->group * 2 + (o->cumulative ? 1 : 0));
    return view_hash_str(h, filter_text ? filter_text : "") | 1;
}

static uint64_t view_frame_key_compute(const diff_frame *f, bool file_only)
{
    uint64_t h = view_mix(0x10c, file_only);
    if (f->file) {
        h = view_hash_str(h, f->file);
        return (file_only ? h : view_mix(h, f->line)) | 1;
    }
    h = view_hash_str(view_mix(h, 0xabc), f->module ? f->module : "");
    return (file_only ? h : view_mix(h, f->offset)) | 1;
}

void view_keycache_free(view_keycache *c)
{
    free(c->keys);
    c->keys = NULL;
    c->n = 0;
}

uint64_t view_keycache_frame(view_keycache *c, const diff_loctab *lt, uint32_t id, bool file_only)
{
    size_t need = ((size_t)id + 1) * 2;
    if (need > c->n) {
        size_t n = diff_loctab_count(lt) * 2;
        n = n < need ? need : n;
        c->keys = xrealloc(c->keys, n * sizeof(uint64_t));
        memset(c->keys + c->n, 0, (n - c->n) * sizeof(uint64_t));
        c->n = n;
    }
    uint64_t *slot = &c->keys[(size_t)id * 2 + file_only];
    if (!*slot)
        *slot = view_frame_key_compute(diff_loctab_get(lt, id), file_only);
    return *slot;
}

uint64_t view_keycache_stat(view_keycache *c, const diff_loctab *lt, const diff_stat *s, const diff_options *o)
{
    bool file_only = o->group == DIFF_GROUP_FILENAME;
    uint64_t h = 0x57a7;
    for (uint32_t i = 0; i < s->nframes; i++)
        h = view_mix(h, view_keycache_frame(c, lt, s->frames[i], file_only));
    return h | 1;
}

/* ---- trend map ---------------------------------------------------------------- */

static size_t view_trend_slot(const view_trend_entry *slots, size_t cap, uint64_t key)
{
    size_t i = (size_t)(view_mix(key, 0) & (cap - 1));
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
    uint64_t k = view_mix(mode, key) | 1;
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
    uint64_t k = view_mix(mode, key) | 1;
    const view_trend_entry *e = &tr->slots[view_trend_slot(tr->slots, tr->cap, k)];
    return e->key ? e : NULL;
}

/* ---- the table ------------------------------------------------------------------ */

void view_table_free(view_table *t)
{
    if (t->st)
        diff_stats_free(t->st);
    free(t->keys);
    free(t->trend.slots);
    view_keycache_free(&t->kc);
    memset(t, 0, sizeof(*t));
}

void view_table_compute(view_keycache *kc, const diff_snapshot *cur, const diff_snapshot *base,
                        const diff_options *o, view_compare_result *out)
{
    memset(out, 0, sizeof(*out));
    out->st = diff_compare(cur, base, o, out->err, sizeof(out->err));
    if (!out->st)
        return;
    out->nrows = diff_stats_count(out->st);
    out->keys = xmalloc((out->nrows ? out->nrows : 1) * sizeof(uint64_t));
    const diff_loctab *lt = diff_stats_locs(out->st);
    for (size_t i = 0; i < out->nrows; i++)
        out->keys[i] = view_keycache_stat(kc, lt, diff_stats_get(out->st, i), o);
}

void view_compare_result_free(view_compare_result *r)
{
    if (r->st)
        diff_stats_free(r->st);
    free(r->keys);
    r->st = NULL;
    r->keys = NULL;
    r->nrows = 0;
}

static void view_table_sample(view_table *t, const diff_snapshot *cur, uint64_t mode)
{
    uint32_t tick = view_trend_begin(&t->trend, mode);
    size_t n = t->nrows < VIEW_TREND_ROWS ? t->nrows : VIEW_TREND_ROWS;
    for (size_t i = 0; i < n; i++)
        view_trend_add(&t->trend, mode, t->keys[i], tick, diff_stats_get(t->st, i)->size);
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
        if (t->keys[i] == old_key) {
            t->cur.sel = i;
            return;
        }
    }
}

void view_table_adopt(view_table *t, view_compare_result *r, const diff_snapshot *cur,
                      uint64_t mode, bool sample)
{
    uint64_t old_key = t->nrows && t->cur.sel < t->nrows ? t->keys[t->cur.sel] : 0;
    bool same_mode = t->st && t->mode == mode;
    if (t->st)
        diff_stats_free(t->st);
    free(t->keys);
    t->st = r->st;
    t->keys = r->keys;
    t->nrows = r->nrows;
    t->mode = mode;
    r->st = NULL;
    r->keys = NULL;
    r->nrows = 0;
    if (sample)
        view_table_sample(t, cur, mode);
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

bool view_table_bigger(const diff_stat *s)
{
    return s->size_diff > 0 && s->count_diff == 0;
}

int view_table_trend(const view_table *t, size_t row, int64_t *vals, int max)
{
    if (row >= t->nrows)
        return 0;
    const view_trend_entry *e = view_trend_find(&t->trend, t->mode, t->keys[row]);
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
