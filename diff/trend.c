/* trend.c: the growth rate and suspect rule of PRODUCT.md §10, and the
 * per-group history of sizes over the window it runs on. Pure: times are
 * given by the caller (snapshots' elapsed seconds), nothing reads a clock.
 *
 * The history is a ring of sample times shared by all groups, and an
 * open-addressing map from group key to that group's sizes at those
 * ticks (a ring of the same length, indexed by tick). */
#include "diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RING DIFF_TREND_MAX_SAMPLES

/* ---- the rule --------------------------------------------------------------- */

static double ls_slope(const double *t, const int64_t *v, size_t n)
{
    double mt = 0, mv = 0;
    for (size_t i = 0; i < n; i++)
        mt += t[i], mv += (double)v[i];
    mt /= (double)n, mv /= (double)n;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (t[i] - mt) * ((double)v[i] - mv);
        den += (t[i] - mt) * (t[i] - mt);
    }
    return den > 0 ? num / den : 0;
}

static int64_t floor_of(const int64_t *v, size_t lo, size_t hi)
{
    int64_t m = v[lo];
    for (size_t i = lo + 1; i < hi; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static int64_t peak_of(const int64_t *v, size_t lo, size_t hi)
{
    int64_t m = v[lo];
    for (size_t i = lo + 1; i < hi; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

/* Each quarter's lowest size strictly above the previous quarter's, and
 * the fitted rise over the window (rise) above the widest swing inside a
 * quarter: floors of noise rise by chance (1 in 24), not that far. */
static bool floors_rise(const int64_t *v, size_t n, double rise)
{
    int64_t prev = 0, swing = 0;
    for (size_t q = 0; q < 4; q++) {
        size_t lo = q * n / 4, hi = (q + 1) * n / 4;
        int64_t f = floor_of(v, lo, hi);
        if (q && f <= prev)
            return false;
        if (peak_of(v, lo, hi) - f > swing)
            swing = peak_of(v, lo, hi) - f;
        prev = f;
    }
    return rise > (double)swing;
}

void diff_trend_rule(const double *t, const int64_t *v, size_t n, diff_trend *out)
{
    *out = (diff_trend){0};
    if (n < 2)
        return;
    out->known = true;
    out->rate_bps = ls_slope(t, v, n);
    out->suspect = n >= DIFF_TREND_MIN_SAMPLES && out->rate_bps >= DIFF_TREND_MIN_RATE &&
                   floors_rise(v, n, out->rate_bps * (t[n - 1] - t[0]));
}

/* ---- the history -------------------------------------------------------------- */

typedef struct trend_entry {
    uint64_t key;          /* 0 = empty slot */
    uint64_t first, last;  /* ticks (1-based) of its first and last sample */
    int64_t  vals[RING];   /* size at tick k in vals[k % RING] */
} trend_entry;

struct diff_trend_hist {
    double       window_s;
    double       times[RING];   /* time of tick k in times[k % RING] */
    uint64_t     ticks;         /* ticks recorded; the last is `ticks` */
    trend_entry *slots;
    size_t       cap, used;
};

diff_trend_hist *diff_trend_hist_new(double window_s)
{
    diff_trend_hist *h = calloc(1, sizeof *h);
    if (h)
        h->window_s = window_s > 0 ? window_s : DIFF_TREND_WINDOW_S;
    return h;
}

void diff_trend_hist_free(diff_trend_hist *h)
{
    if (!h)
        return;
    free(h->slots);
    free(h);
}

double diff_trend_hist_window(const diff_trend_hist *h)
{
    return h->window_s;
}

static size_t slot_of(const trend_entry *slots, size_t cap, uint64_t key)
{
    size_t i = (size_t)(diff_key_mix(key, 0x7e4d) & (cap - 1));
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

/* An entry whose last sample left the ring holds only zeros from here on:
 * dropped at the next rehash. */
static bool entry_live(const diff_trend_hist *h, const trend_entry *e)
{
    return h->ticks - e->last < RING;
}

static int rehash(diff_trend_hist *h)
{
    size_t live = 0;
    for (size_t i = 0; i < h->cap; i++)
        live += h->slots[i].key && entry_live(h, &h->slots[i]);
    size_t cap = 64;
    while (cap < live * 4)
        cap *= 2;
    trend_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i].key && entry_live(h, &h->slots[i]))
            slots[slot_of(slots, cap, h->slots[i].key)] = h->slots[i];
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    h->used = live;
    return 0;
}

static int record_one(diff_trend_hist *h, uint64_t key, int64_t size)
{
    if ((h->used + 1) * 2 > h->cap && rehash(h) < 0)
        return -ENOMEM;
    trend_entry *e = &h->slots[slot_of(h->slots, h->cap, key)];
    if (!e->key) {
        e->key = key;
        e->first = e->last = h->ticks;
        h->used++;
    }
    /* Ticks that did not see the group: nothing of it was live. */
    uint64_t from = h->ticks >= RING && e->last + 1 < h->ticks - RING + 1 ? h->ticks - RING + 1 : e->last + 1;
    for (uint64_t k = from; k < h->ticks; k++)
        e->vals[k % RING] = 0;
    e->vals[h->ticks % RING] = size;
    e->last = h->ticks;
    return 0;
}

int diff_trend_hist_record(diff_trend_hist *h, const diff_stats *st, double t_s, size_t max_rows)
{
    size_t n = diff_stats_count(st);
    if (max_rows && max_rows < n)
        n = max_rows;
    if (h->ticks && t_s - h->times[h->ticks % RING] < h->window_s / RING)
        return 0;
    h->ticks++;
    h->times[h->ticks % RING] = t_s;
    for (size_t i = 0; i < n; i++) {
        const diff_stat *s = diff_stats_get(st, i);
        if (record_one(h, s->key, s->size) < 0)
            return -ENOMEM;
    }
    return 0;
}

static const trend_entry *find(const diff_trend_hist *h, uint64_t key)
{
    if (!h->cap)
        return NULL;
    const trend_entry *e = &h->slots[slot_of(h->slots, h->cap, key)];
    return e->key ? e : NULL;
}

/* The group's size at tick k: 0 before it was seen and after it left. */
static int64_t size_at(const trend_entry *e, uint64_t k)
{
    return e && k >= e->first && k <= e->last ? e->vals[k % RING] : 0;
}

void diff_trend_hist_eval(const diff_trend_hist *h, uint64_t key, double t_s, int64_t size,
                          diff_trend *out)
{
    double t[RING + 1];
    int64_t v[RING + 1];
    size_t n = 0;
    const trend_entry *e = find(h, key);
    uint64_t lo = h->ticks >= RING ? h->ticks - RING + 1 : 1;
    for (uint64_t k = lo; k <= h->ticks; k++) {
        double tk = h->times[k % RING];
        if (tk <= t_s - h->window_s || tk >= t_s)
            continue;
        t[n] = tk;
        v[n++] = size_at(e, k);
    }
    t[n] = t_s;
    v[n++] = size;
    diff_trend_rule(t, v, n, out);
}

size_t diff_stats_suspects(const diff_stats *st)
{
    size_t n = 0;
    for (size_t i = 0; i < diff_stats_count(st); i++)
        n += diff_stats_get(st, i)->trend.suspect;
    return n;
}
