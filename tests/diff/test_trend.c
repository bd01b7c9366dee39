/* test_trend.c: the trend rule (diff_trend_rule) on exact series — a
 * steady leak, a leak under churn, a cache filling to its plateau, a spike
 * freed again, churn netting to zero (a thousand seeds), a line that only
 * frees, too few samples, a rate under the minimum — and the history:
 * no trend without one, a group missing from a compare counts as 0, the
 * window forgets older samples, and sort `rate` orders by it. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "testlib.h"

#define N 32

typedef int64_t (*series_fn)(int i, unsigned *seed);

static diff_trend rule_of(series_fn f, int n, unsigned seed)
{
    double t[N];
    int64_t v[N];
    for (int i = 0; i < n; i++) {
        t[i] = 0.1 * i;
        v[i] = f(i, &seed);
    }
    diff_trend out;
    diff_trend_rule(t, v, (size_t)n, &out);
    return out;
}

static int64_t steady(int i, unsigned *s) { (void)s; return 1000 * (int64_t)i; }
static int64_t churn(int i, unsigned *s) { (void)i; return rand_r(s) % 3001; }
static int64_t leak_under_churn(int i, unsigned *s) { return 500 * (int64_t)i + churn(i, s); }
static int64_t cache_fill(int i, unsigned *s) { (void)s; return i < 10 ? 512 * (int64_t)i : 5120; }
static int64_t plateau(int i, unsigned *s) { (void)i, (void)s; return 4096; }
static int64_t spike(int i, unsigned *s) { (void)s; return i >= 12 && i < 20 ? 8192 * (int64_t)(i - 11) : 64; }
static int64_t only_frees(int i, unsigned *s) { (void)s; return 20000 - 500 * (int64_t)i; }
static int64_t crawl(int i, unsigned *s) { (void)s; return i / 20; }   /* 0.5 B/s */
static int64_t fill_then_spike_freed(int i, unsigned *s) { (void)s; return i < 24 ? 100 * (int64_t)i : 0; }

static void the_rule(void)
{
    diff_trend tr = rule_of(steady, N, 1);
    CHECK(tr.known && tr.suspect);
    CHECK_MSG(fabs(tr.rate_bps - 10000) < 1e-6, "rate %f", tr.rate_bps);

    for (unsigned seed = 1; seed <= 100; seed++)
        CHECK_MSG(rule_of(leak_under_churn, N, seed).suspect, "seed %u", seed);

    tr = rule_of(cache_fill, N, 1);
    CHECK(tr.known && !tr.suspect && tr.rate_bps > 0);
    tr = rule_of(plateau, N, 1);
    CHECK(tr.known && !tr.suspect && tr.rate_bps == 0);
    tr = rule_of(spike, N, 1);
    CHECK(tr.known && !tr.suspect);
    tr = rule_of(fill_then_spike_freed, N, 1);
    CHECK(tr.known && !tr.suspect);

    int false_suspects = 0;
    for (unsigned seed = 1; seed <= 1000; seed++)
        false_suspects += rule_of(churn, N, seed).suspect;
    CHECK_INT(false_suspects, 0);

    tr = rule_of(only_frees, N, 1);
    CHECK(tr.known && !tr.suspect);
    CHECK_MSG(fabs(tr.rate_bps + 5000) < 1e-6, "rate %f", tr.rate_bps);

    tr = rule_of(steady, DIFF_TREND_MIN_SAMPLES - 1, 1);
    CHECK(tr.known && !tr.suspect && tr.rate_bps > 0);
    CHECK(rule_of(steady, DIFF_TREND_MIN_SAMPLES, 1).suspect);
    tr = rule_of(steady, 1, 1);
    CHECK(!tr.known && !tr.suspect);
    tr = rule_of(crawl, N, 1);
    CHECK_MSG(!tr.suspect && tr.rate_bps > 0 && tr.rate_bps < DIFF_TREND_MIN_RATE, "rate %f", tr.rate_bps);
}

/* ---- the history, through compares ------------------------------------------ */

static diff_snapshot *snap(diff_loctab *lt, double t, int64_t leak, int64_t other)
{
    diff_snapshot *s = diff_snapshot_new(lt, 8);
    diff_snapshot_set_meta(s, 1, t);
    if (leak)
        tl_add(s, leak, 1, "leak.c:1 main.c:9");
    if (other)
        tl_add(s, other, 1, "other.c:2 main.c:9");
    return s;
}

static const diff_stat *row(const diff_stats *st, const char *spec)
{
    char buf[256];
    for (size_t i = 0; i < diff_stats_count(st); i++)
        if (strcmp(tl_stat_key(st, diff_stats_get(st, i), DIFF_GROUP_LINENO, buf, sizeof buf), spec) == 0)
            return diff_stats_get(st, i);
    return NULL;
}

/* One refresh: compare with the history, record it. */
static diff_stats *refresh(diff_trend_hist *h, diff_loctab *lt, double t, int64_t leak, int64_t other,
                           diff_sort sort)
{
    diff_snapshot *s = snap(lt, t, leak, other);
    diff_options o = {.group = DIFF_GROUP_LINENO, .sort = sort, .trend = h};
    char err[256];
    diff_stats *st = diff_compare(s, NULL, &o, err, sizeof err);
    CHECK(st != NULL);
    CHECK_INT(diff_trend_hist_record(h, st, t, 0), 0);
    diff_snapshot_free(s);
    return st;
}

static void the_history(void)
{
    diff_loctab *lt = diff_loctab_new();
    diff_trend_hist *h = diff_trend_hist_new(2.0);
    CHECK(diff_trend_hist_window(h) == 2.0);
    diff_stats *st = refresh(h, lt, 0.0, 100, 5000, DIFF_SORT_RATE);
    CHECK(!row(st, "leak.c:1")->trend.known);    /* no history yet */
    diff_stats_free(st);
    /* leak grows 100 B per 0.1 s; other drops out at 0.5 s and comes back. */
    for (int i = 1; i <= 40; i++) {
        double t = 0.1 * i;
        st = refresh(h, lt, t, 100 * (i + 1), i >= 5 && i < 10 ? 0 : 5000, DIFF_SORT_RATE);
        const diff_stat *leak = row(st, "leak.c:1"), *other = row(st, "other.c:2");
        CHECK(leak && leak->trend.known);
        CHECK_MSG(fabs(leak->trend.rate_bps - 1000) < 1e-6, "i %d rate %f", i, leak->trend.rate_bps);
        CHECK_MSG(leak->trend.suspect == (i + 1 >= DIFF_TREND_MIN_SAMPLES), "i %d", i);
        if (other && i == 10) {
            /* Back after a dip: the compares it was absent from count 0
             * (skipped, the series would be flat, rate 0). */
            CHECK_MSG(other->trend.rate_bps < -1000 && !other->trend.suspect, "rate %f", other->trend.rate_bps);
        }
        if (other && i >= 31) {
            /* The window (2 s) forgot the dip: flat. */
            CHECK_MSG(other->trend.rate_bps == 0 && !other->trend.suspect, "i %d rate %f", i,
                      other->trend.rate_bps);
            CHECK(diff_stats_get(st, 0) == leak);   /* sort rate: rate first, not size */
        }
        CHECK_INT(diff_stats_suspects(st), i + 1 >= DIFF_TREND_MIN_SAMPLES);
        diff_stats_free(st);
    }
    diff_trend_hist_free(h);
    diff_loctab_free(lt);
}

int main(void)
{
    the_rule();
    the_history();
    return check_report("test_trend");
}
