/* group.c: tracemalloc's _group_by, compare_to and statistics for native
 * snapshots: filters, group keys, the one-location-per-trace cumulative
 * rule, the sort modes, and the diff_stats result.
 *
 * Keys. A frame's key is (file, line) when the file is known, else
 * (module, offset) flagged "unknown" so two unknown call sites never merge;
 * filename grouping drops the line, and the offset of unknown frames (the
 * module then stands for the file). Frames whose keys are equal form one
 * group even when function or address differ.
 *
 * Order. tracemalloc compares tracebacks as tuples of (file, line) from
 * the oldest frame to the most recent, a prefix lower. leaktop does the same
 * with each key's sort tuple: (file, line) for known frames, and for unknown
 * ones ("MODULE+0xOFFSET", 0) under lineno/traceback, (MODULE, 0) under
 * filename; a NULL module is "". A known and an unknown key with equal
 * tuples (only possible for a file literally named like that) put the known
 * one lower. The order is total, so every sort below is deterministic.
 *
 * Filters (tracemalloc.Filter): fnmatch on the file name; an unknown frame
 * is matched by its module path ("" when NULL) and line 0; a trace without
 * frames by the pseudo frame ("<unknown>", 0), as tracemalloc always has
 * one frame. Python's `.pyc` -> `.py` normalisation is not done: native
 * file names never end in .pyc. A NULL pattern matches every file. */
#include "diff_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct gkey {
    const char *s;        /* interned: file, or module path */
    uint64_t    num;      /* line, or offset (lineno keys of unknown frames) */
    bool        unknown;
    uint64_t    hash;     /* of (s, num, unknown): the public key (diff_stat.key) */
    const char *sort_s;   /* the string the order uses (see the top comment) */
    uint32_t    rank_be;  /* position in the total order of all keys seen,
                           * big-endian: memcmp of such arrays orders them */
} gkey;

typedef struct group_rec {
    int64_t         size[2], count[2];   /* [0] new, [1] old */
    int64_t         ret_size, ret_count; /* new's blocks born after old */
    const uint32_t *rep;                 /* representative frames (borrowed until copied) */
    size_t          seq_off;             /* key ids in `seqs` (traceback) */
    uint32_t        seq_n;
    uint32_t        key;                 /* the key (single-key groups) */
} group_rec;

struct diff_stats {
    diff_stat         *stats;    /* sorted */
    size_t             n;
    diff_stat          total;
    const diff_loctab *locs;
    diff_arena         arena;    /* the stats' frames */
    const char        *ret_why;  /* NULL: retained figures known */
};

typedef struct grouper {
    diff_loctab       *lt;
    diff_group         group;
    bool               cumulative;
    const diff_filter *filters;
    size_t             nfilters;
    size_t             nlocs;
    uint32_t           unknown_id;   /* pseudo frame for traces without frames */
    uint32_t          *loc_key;      /* per loc id: key id, UINT32_MAX = not yet */
    int8_t            *match;        /* per filter x loc: -1 unknown, 0, 1 */
    diff_vec           keys;         /* gkey */
    diff_idset         keyset;
    diff_vec           key_group;    /* uint32_t per key: group id or UINT32_MAX */
    diff_vec           key_stamp;    /* uint64_t per key: last trace that counted it */
    uint64_t           stamp;
    diff_vec           groups;       /* group_rec */
    diff_idset         groupset;     /* traceback groups by key sequence */
    diff_vec           seqs;         /* uint32_t key ids */
    diff_vec           scratch;      /* uint32_t: the current trace's key ids */
    diff_arena         strs;         /* synthesized sort strings */
    int64_t            tsize[2], tcount[2];
    int64_t            tret_size, tret_count;
    bool               ret_known;    /* retained since the old side is known */
    uint32_t           ret_since;    /* ... as the new side's births at epochs >= this */
    const char        *ret_why;
    const diff_trend_hist *trend;    /* diff_options.trend, or NULL */
    double             now_s;        /* the new snapshot's elapsed time */
} grouper;

/* ---- keys ------------------------------------------------------------------ */

static bool key_eq(const void *ctx, uint32_t id, const void *key)
{
    const gkey *a = &((const gkey *)((const diff_vec *)ctx)->data)[id], *b = key;
    return a->s == b->s && a->num == b->num && a->unknown == b->unknown;
}

/* The one rule for a frame's group key. Strings are interned, so the
 * pointer stands for the text for the loctab's whole life: keys of equal
 * groups are equal across compares of snapshots sharing one loctab. */
static void key_of_frame(const diff_loctab *lt, diff_group group, const diff_frame *f, gkey *k)
{
    bool by_file = group == DIFF_GROUP_FILENAME;
    memset(k, 0, sizeof *k);
    if (f->file) {
        k->s = f->file;
        k->num = by_file ? 0 : f->line;
    } else {
        k->unknown = true;
        k->s = f->module ? f->module : diff_loctab_empty(lt);
        k->num = by_file ? 0 : f->offset;
    }
    k->hash = diff_hash_mix(diff_hash_mix((uintptr_t)k->s, k->num), k->unknown);
}

/* Public keys are never 0, so callers may use 0 as "no key". */
static uint64_t public_key(uint64_t h)
{
    return h | 1;
}

uint64_t diff_key_mix(uint64_t h, uint64_t x)
{
    return diff_hash_mix(h, x);
}

uint64_t diff_key_text(const char *s)
{
    return s ? diff_hash_bytes(s, strlen(s)) : 0;
}

static const char *key_sort_string(grouper *g, const gkey *k)
{
    if (!k->unknown || g->group == DIFF_GROUP_FILENAME)
        return k->s;
    size_t n = strlen(k->s) + 24;
    char *buf = diff_arena_alloc(&g->strs, n);
    if (buf)
        snprintf(buf, n, "%s+0x%" PRIx64, k->s, k->num);
    return buf;
}

/* The key id of a loc, created on first use. UINT32_MAX on out of memory. */
static uint32_t loc_key(grouper *g, uint32_t loc)
{
    if (g->loc_key[loc] != UINT32_MAX)
        return g->loc_key[loc];
    gkey k;
    key_of_frame(g->lt, g->group, diff_loctab_get(g->lt, loc), &k);
    uint64_t h = k.hash;
    uint32_t id = diff_idset_find(&g->keyset, h, key_eq, &g->keys, &k);
    if (id == UINT32_MAX) {
        k.sort_s = key_sort_string(g, &k);
        uint32_t *kg = diff_vec_push(&g->key_group, 1);
        uint64_t *ks = diff_vec_push(&g->key_stamp, 1);
        gkey *slot = diff_vec_push(&g->keys, 1);
        if (!k.sort_s || !kg || !ks || !slot)
            return UINT32_MAX;
        *kg = UINT32_MAX;
        *slot = k;
        id = (uint32_t)(g->keys.len - 1);
        if (diff_idset_add(&g->keyset, h, id) < 0)
            return UINT32_MAX;
    }
    g->loc_key[loc] = id;
    return id;
}

static uint32_t rank_be(uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    uint32_t r;
    memcpy(&r, b, sizeof r);
    return r;
}

static int key_cmp(const void *pa, const void *pb)
{
    const gkey *a = *(const gkey *const *)pa, *b = *(const gkey *const *)pb;
    int c = strcmp(a->sort_s, b->sort_s);
    if (c)
        return c;
    uint64_t la = a->unknown ? 0 : a->num, lb = b->unknown ? 0 : b->num;
    if (la != lb)
        return la < lb ? -1 : 1;
    return (int)a->unknown - (int)b->unknown;
}

/* Gives every key its rank in the total order (see the top comment). */
static int rank_keys(grouper *g)
{
    size_t n = g->keys.len;
    gkey **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = &((gkey *)g->keys.data)[i];
    qsort(order, n, sizeof *order, key_cmp);
    for (size_t i = 0; i < n; i++) {
        order[i]->rank_be = rank_be((uint32_t)i);
    }
    free(order);
    return 0;
}

/* ---- filters ------------------------------------------------------------------ */

static bool filter_frame(grouper *g, size_t fi, uint32_t loc)
{
    int8_t *m = &g->match[fi * g->nlocs + loc];
    if (*m < 0) {
        const diff_filter *flt = &g->filters[fi];
        const diff_frame *f = diff_loctab_get(g->lt, loc);
        const char *name = f->file ? f->file : f->module ? f->module : "";
        uint32_t line = f->file ? f->line : 0;
        bool hit = !flt->pattern || diff_fnmatch(flt->pattern, name);
        if (hit && flt->lineno >= 0)
            hit = (int64_t)line == flt->lineno;
        *m = hit;
    }
    return *m;
}

/* Whether the filter's pattern (and line) matches the trace: its most
 * recent frame, or any frame with all_frames. */
static bool filter_hits(grouper *g, size_t fi, const uint32_t *frames, uint32_t n)
{
    if (!g->filters[fi].all_frames)
        return filter_frame(g, fi, frames[0]);
    for (uint32_t i = 0; i < n; i++)
        if (filter_frame(g, fi, frames[i]))
            return true;
    return false;
}

static bool trace_passes(grouper *g, const uint32_t *frames, uint32_t n)
{
    bool have_include = false, included = false;
    for (size_t fi = 0; fi < g->nfilters; fi++) {
        if (g->filters[fi].inclusive) {
            have_include = true;
            if (!included && filter_hits(g, fi, frames, n))
                included = true;
        } else if (filter_hits(g, fi, frames, n)) {
            return false;
        }
    }
    return !have_include || included;
}

/* ---- grouping ------------------------------------------------------------------ */

static group_rec *new_group(grouper *g, const uint32_t *frames)
{
    group_rec *r = diff_vec_push(&g->groups, 1);
    if (r)
        r->rep = frames;
    return r;
}

/* The group of a single key, created with this frame as representative. */
static group_rec *key_group(grouper *g, uint32_t key, const uint32_t *frame)
{
    uint32_t *gid = &((uint32_t *)g->key_group.data)[key];
    if (*gid != UINT32_MAX)
        return &((group_rec *)g->groups.data)[*gid];
    group_rec *r = new_group(g, frame);
    if (!r)
        return NULL;
    r->key = key;
    /* key_group.data did not move: new_group grows `groups` only. */
    *gid = (uint32_t)(g->groups.len - 1);
    return r;
}

typedef struct seq_key {
    const uint32_t *ids;
    uint32_t        n;
} seq_key;

static bool seq_eq(const void *ctx, uint32_t id, const void *key)
{
    const grouper *g = ctx;
    const group_rec *r = &((const group_rec *)g->groups.data)[id];
    const seq_key *k = key;
    return r->seq_n == k->n
        && memcmp((const uint32_t *)g->seqs.data + r->seq_off, k->ids, k->n * sizeof *k->ids) == 0;
}

static group_rec *traceback_group(grouper *g, const uint32_t *frames, uint32_t n)
{
    g->scratch.len = 0;
    uint32_t *ids = diff_vec_push(&g->scratch, n);
    if (!ids)
        return NULL;
    uint64_t h = 0x5eed;
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = loc_key(g, frames[i]);
        if (ids[i] == UINT32_MAX)
            return NULL;
        h = diff_hash_mix(h, ids[i]);
    }
    seq_key k = { ids, n };
    uint32_t gid = diff_idset_find(&g->groupset, h, seq_eq, g, &k);
    if (gid != UINT32_MAX)
        return &((group_rec *)g->groups.data)[gid];
    size_t off = g->seqs.len;
    uint32_t *dst = diff_vec_push(&g->seqs, n);
    if (!dst)
        return NULL;
    memcpy(dst, ids, n * sizeof *ids);
    group_rec *r = new_group(g, frames);
    if (!r || diff_idset_add(&g->groupset, h, (uint32_t)(g->groups.len - 1)) < 0)
        return NULL;
    r->seq_off = off;
    r->seq_n = n;
    return r;
}

/* One trace's figures on one side; retained ones on the new side only. */
typedef struct trace_fig {
    int64_t size, count, ret_size, ret_count;
} trace_fig;

static void group_add(group_rec *r, int side, const trace_fig *f)
{
    /* No overflow: a group's sum never exceeds its snapshot's total, which
     * diff_snapshot_add keeps within int64 (retained is part of it). */
    r->size[side] += f->size;
    r->count[side] += f->count;
    r->ret_size += f->ret_size;
    r->ret_count += f->ret_count;
}

static int group_trace(grouper *g, int side, const trace_fig *f, const uint32_t *frames, uint32_t n)
{
    if (g->group == DIFF_GROUP_TRACEBACK) {
        group_rec *r = traceback_group(g, frames, n);
        if (!r)
            return -ENOMEM;
        group_add(r, side, f);
        return 0;
    }
    /* Cumulative: every frame, but each location once per trace (leaktop's
     * deliberate difference from tracemalloc, so recursion does not count
     * a block several times). Non-cumulative: the most recent frame only. */
    uint32_t nuse = g->cumulative ? n : 1;
    g->stamp++;
    for (uint32_t i = 0; i < nuse; i++) {
        uint32_t key = loc_key(g, frames[i]);
        if (key == UINT32_MAX)
            return -ENOMEM;
        uint64_t *st = &((uint64_t *)g->key_stamp.data)[key];
        if (*st == g->stamp)
            continue;
        *st = g->stamp;
        group_rec *r = key_group(g, key, &frames[i]);
        if (!r)
            return -ENOMEM;
        group_add(r, side, f);
    }
    return 0;
}

static int group_snapshot(grouper *g, const diff_snapshot *s, int side)
{
    size_t nt = diff_snapshot_ntraces(s);
    for (size_t i = 0; i < nt; i++) {
        trace_fig f = {0};
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &f.size, &f.count, &frames, &n);
        if (n == 0) {
            frames = &g->unknown_id;
            n = 1;
        }
        if (g->nfilters && !trace_passes(g, frames, n))
            continue;
        g->tsize[side] += f.size;
        g->tcount[side] += f.count;
        if (side == 0 && g->ret_known) {
            diff_snapshot_retained(s, i, g->ret_since, &f.ret_size, &f.ret_count);
            g->tret_size += f.ret_size;
            g->tret_count += f.ret_count;
        }
        if (group_trace(g, side, &f, frames, n) < 0)
            return -ENOMEM;
    }
    return 0;
}

static bool has_empty_trace(const diff_snapshot *s)
{
    size_t nt = s ? diff_snapshot_ntraces(s) : 0;
    for (size_t i = 0; i < nt; i++) {
        uint32_t n;
        diff_snapshot_trace(s, i, NULL, NULL, NULL, &n);
        if (n == 0)
            return true;
    }
    return false;
}

static void grouper_release(grouper *g)
{
    free(g->loc_key);
    free(g->match);
    diff_vec_release(&g->keys);
    diff_idset_release(&g->keyset);
    diff_vec_release(&g->key_group);
    diff_vec_release(&g->key_stamp);
    diff_vec_release(&g->groups);
    diff_idset_release(&g->groupset);
    diff_vec_release(&g->seqs);
    diff_vec_release(&g->scratch);
    diff_arena_release(&g->strs);
}

static int grouper_init(grouper *g, diff_loctab *lt, const diff_options *o,
                        const diff_snapshot *a, const diff_snapshot *b)
{
    memset(g, 0, sizeof *g);
    g->lt = lt;
    g->group = o->group;
    g->cumulative = o->cumulative;
    g->filters = o->filters;
    g->nfilters = o->filters ? o->nfilters : 0;
    g->trend = o->trend;
    g->now_s = diff_snapshot_elapsed(a);
    g->ret_known = diff_retained_known(a, b, &g->ret_why);
    g->ret_since = b ? diff_snapshot_epoch(b) : 0;
    diff_vec_init(&g->keys, sizeof(gkey));
    diff_idset_init(&g->keyset);
    diff_vec_init(&g->key_group, sizeof(uint32_t));
    diff_vec_init(&g->key_stamp, sizeof(uint64_t));
    diff_vec_init(&g->groups, sizeof(group_rec));
    diff_idset_init(&g->groupset);
    diff_vec_init(&g->seqs, sizeof(uint32_t));
    diff_vec_init(&g->scratch, sizeof(uint32_t));
    diff_arena_init(&g->strs);
    /* diff_snapshot_add interned the pseudo frame of traces without
     * frames: grouping only reads the loctab. */
    g->unknown_id = UINT32_MAX;
    if (has_empty_trace(a) || has_empty_trace(b)) {
        g->unknown_id = diff_loctab_unknown_peek(lt);
        if (g->unknown_id == UINT32_MAX)
            return -EINVAL;
    }
    g->nlocs = diff_loctab_count(lt);
    size_t nl = g->nlocs ? g->nlocs : 1;
    g->loc_key = malloc(nl * sizeof *g->loc_key);
    if (!g->loc_key)
        return -ENOMEM;
    memset(g->loc_key, 0xff, nl * sizeof *g->loc_key);
    if (g->nfilters) {
        if (g->nfilters > SIZE_MAX / nl)
            return -ENOMEM;
        g->match = malloc(g->nfilters * nl);
        if (!g->match)
            return -ENOMEM;
        memset(g->match, 0xff, g->nfilters * nl);
    }
    return 0;
}

/* ---- sorting ---------------------------------------------------------------------- */

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;   /* never INT64_MIN: sizes are >= 0 */
}

typedef void (*sort_fields)(const diff_stat *s, int64_t k[4]);

/* tracemalloc's StatisticDiff key: (|size_diff|, size, |count_diff|, count). */
static void fields_absolute(const diff_stat *s, int64_t k[4])
{
    k[0] = abs64(s->size_diff), k[1] = s->size, k[2] = abs64(s->count_diff), k[3] = s->count;
}

/* growth: size_diff itself first, then the same tie-breaks. */
static void fields_growth(const diff_stat *s, int64_t k[4])
{
    k[0] = s->size_diff, k[1] = s->size, k[2] = abs64(s->count_diff), k[3] = s->count;
}

/* freed: the most negative size_diff first, then the same tie-breaks. */
static void fields_freed(const diff_stat *s, int64_t k[4])
{
    k[0] = -s->size_diff, k[1] = s->size, k[2] = abs64(s->count_diff), k[3] = s->count;
}

/* size: tracemalloc's Statistic key (size, count). */
static void fields_size(const diff_stat *s, int64_t k[4])
{
    k[0] = s->size, k[1] = s->count, k[2] = 0, k[3] = 0;
}

/* rate: the trend's bytes per second (to the milli-byte; 0 without
 * history), then §5's tie-breaks. */
static void fields_rate(const diff_stat *s, int64_t k[4])
{
    double r = s->trend.known ? s->trend.rate_bps * 1000.0 : 0;
    k[0] = r >= 9e18 ? INT64_MAX : r <= -9e18 ? -INT64_MAX : (int64_t)llround(r);
    k[1] = s->size, k[2] = abs64(s->count_diff), k[3] = s->count;
}

/* retained: the retained size, then §5's tie-breaks (as growth's). */
static void fields_retained(const diff_stat *s, int64_t k[4])
{
    k[0] = s->retained_size, k[1] = s->size, k[2] = abs64(s->count_diff), k[3] = s->count;
}

/* Indexed by diff_sort. Every mode then breaks ties by the traceback, and
 * the whole key is compared descending (Python's sort(reverse=True)). */
static const sort_fields sort_table[] = {
    [DIFF_SORT_GROWTH] = fields_growth,
    [DIFF_SORT_ABSOLUTE] = fields_absolute,
    [DIFF_SORT_FREED] = fields_freed,
    [DIFF_SORT_SIZE] = fields_size,
    [DIFF_SORT_RATE] = fields_rate,
    [DIFF_SORT_RETAINED] = fields_retained,
};

/* A compact sort record: the four fields, the traceback's key ranks
 * (oldest first, see fill_entry) and the entry's index. The sort touches
 * these records and the rank arrays only. */
typedef struct sort_rec {
    int64_t         k[4];
    const uint32_t *ranks;       /* big-endian key ranks, oldest first */
    uint32_t        nranks, idx;
} sort_rec;

/* tracemalloc's traceback order: ranks from the oldest frame, a prefix
 * lower. The ranks are big-endian, so memcmp compares them as numbers and
 * runs through long shared prefixes (main, event loops) quickly. */
static int traceback_cmp(const sort_rec *a, const sort_rec *b)
{
    uint32_t n = a->nranks < b->nranks ? a->nranks : b->nranks;
    int c = memcmp(a->ranks, b->ranks, n * sizeof *a->ranks);
    if (c)
        return c;
    return a->nranks == b->nranks ? 0 : a->nranks < b->nranks ? -1 : 1;
}

/* True when a goes before b: the key descending, then the traceback. */
static bool rec_before(const sort_rec *a, const sort_rec *b)
{
    for (int i = 0; i < 4; i++)
        if (a->k[i] != b->k[i])
            return a->k[i] > b->k[i];
    return traceback_cmp(a, b) > 0;
}

/* Bottom-up merge sort of n records, src and tmp both n long; returns the
 * array holding the result. Keys are unique (tracebacks differ). */
static sort_rec *merge_sort(sort_rec *src, sort_rec *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = rec_before(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid)
                tmp[k++] = src[i++];
            while (j < hi)
                tmp[k++] = src[j++];
        }
        sort_rec *swap = src;
        src = tmp;
        tmp = swap;
    }
    return src;
}

/* ---- building the result ------------------------------------------------------------ */

/* A group's numbers as a statistic, frames not yet attached. */
static diff_stat group_stat(const group_rec *r, bool zero_diffs)
{
    diff_stat s = {
        .size = r->size[0], .size_diff = r->size[0] - r->size[1],
        .count = r->count[0], .count_diff = r->count[0] - r->count[1],
        .retained_size = r->ret_size, .retained_count = r->ret_count,
    };
    if (zero_diffs)
        s.size_diff = s.count_diff = 0;
    return s;
}

/* A group's public key: its key's hash, or for a traceback the hashes of
 * its frames' keys, most recent first. */
static uint64_t group_key(const grouper *g, const group_rec *r)
{
    const gkey *keys = g->keys.data;
    if (g->group != DIFF_GROUP_TRACEBACK)
        return public_key(keys[r->key].hash);
    const uint32_t *seq = (const uint32_t *)g->seqs.data + r->seq_off;
    uint64_t h = 0x57a7;
    for (uint32_t k = 0; k < r->seq_n; k++)
        h = diff_hash_mix(h, keys[seq[k]].hash);
    return public_key(h);
}

/* A group's statistic with its key and, with a history, its trend. */
static diff_stat keyed_stat(const grouper *g, const group_rec *r, bool zero_diffs)
{
    diff_stat s = group_stat(r, zero_diffs);
    s.key = group_key(g, r);
    if (g->trend)
        diff_trend_hist_eval(g->trend, s.key, g->now_s, s.size, &s.trend);
    return s;
}

/* The sort records of all groups. Traceback ranks go oldest first (and
 * big-endian) into
 * one buffer (`*ranks_out`, freed by the caller); a single key points at
 * its own rank. */
static int make_records(grouper *g, diff_sort sort, bool zero_diffs, sort_rec *recs,
                        uint32_t **ranks_out)
{
    const gkey *keys = g->keys.data;
    const group_rec *groups = g->groups.data;
    bool tb = g->group == DIFF_GROUP_TRACEBACK;
    uint32_t *ranks = *ranks_out = tb ? malloc((g->seqs.len ? g->seqs.len : 1) * sizeof *ranks) : NULL;
    if (tb && !ranks)
        return -ENOMEM;
    /* Without known retained figures, the retained sort is the growth sort. */
    sort_fields fields = sort_table[sort == DIFF_SORT_RETAINED && !g->ret_known ? DIFF_SORT_GROWTH : sort];
    for (size_t i = 0; i < g->groups.len; i++) {
        const group_rec *r = &groups[i];
        diff_stat s = keyed_stat(g, r, zero_diffs);
        fields(&s, recs[i].k);
        recs[i].idx = (uint32_t)i;
        if (!tb) {
            recs[i].ranks = &keys[r->key].rank_be;
            recs[i].nranks = 1;
            continue;
        }
        const uint32_t *seq = (const uint32_t *)g->seqs.data + r->seq_off;
        uint32_t *dst = ranks + r->seq_off;
        for (uint32_t k = 0; k < r->seq_n; k++)
            dst[r->seq_n - 1 - k] = keys[seq[k]].rank_be;
        recs[i].ranks = dst;
        recs[i].nranks = r->seq_n;
    }
    return 0;
}

/* The statistics in sorted order, each with a copy of its frames. */
static int emit_stats(grouper *g, diff_stats *st, const sort_rec *order, bool zero_diffs)
{
    const group_rec *groups = g->groups.data;
    for (size_t i = 0; i < st->n; i++) {
        const group_rec *r = &groups[order[i].idx];
        uint32_t n = g->group == DIFF_GROUP_TRACEBACK ? r->seq_n : 1;
        uint32_t *frames = diff_arena_alloc(&st->arena, n * sizeof *frames);
        if (!frames)
            return -ENOMEM;
        memcpy(frames, r->rep, n * sizeof *frames);
        st->stats[i] = keyed_stat(g, r, zero_diffs);
        st->stats[i].frames = frames;
        st->stats[i].nframes = n;
    }
    return 0;
}

static int sort_groups(grouper *g, diff_stats *st, diff_sort sort, bool zero_diffs)
{
    size_t n = st->n ? st->n : 1;
    sort_rec *recs = malloc(n * sizeof *recs), *tmp = malloc(n * sizeof *tmp);
    uint32_t *ranks = NULL;
    int rc = recs && tmp ? make_records(g, sort, zero_diffs, recs, &ranks) : -ENOMEM;
    if (!rc)
        rc = emit_stats(g, st, merge_sort(recs, tmp, st->n), zero_diffs);
    free(recs);
    free(tmp);
    free(ranks);
    return rc;
}

static diff_stats *build_stats(grouper *g, diff_sort sort, bool zero_diffs)
{
    diff_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    diff_arena_init(&st->arena);
    st->locs = g->lt;
    st->n = g->groups.len;
    st->stats = malloc((st->n ? st->n : 1) * sizeof *st->stats);
    if (!st->stats || rank_keys(g) < 0 || sort_groups(g, st, sort, zero_diffs) < 0) {
        diff_stats_free(st);
        return NULL;
    }
    st->total = (diff_stat){
        .size = g->tsize[0], .size_diff = g->tsize[0] - g->tsize[1],
        .count = g->tcount[0], .count_diff = g->tcount[0] - g->tcount[1],
        .retained_size = g->tret_size, .retained_count = g->tret_count,
    };
    st->ret_why = g->ret_known ? NULL : g->ret_why;
    if (zero_diffs)
        st->total.size_diff = st->total.count_diff = 0;
    return st;
}

static const diff_options default_options = {
    .group = DIFF_GROUP_LINENO, .sort = DIFF_SORT_GROWTH,
};

static bool options_valid(const diff_options *o, char *err, size_t errlen)
{
    if ((unsigned)o->group > DIFF_GROUP_TRACEBACK || (unsigned)o->sort > DIFF_SORT_RETAINED) {
        diff_errf(err, errlen, "invalid grouping or sort mode");
        return false;
    }
    if (o->cumulative && o->group == DIFF_GROUP_TRACEBACK) {
        diff_errf(err, errlen, "cumulative mode cannot be used with traceback grouping");
        return false;
    }
    return true;
}

static diff_stats *run(const diff_snapshot *new_, const diff_snapshot *old,
                       const diff_options *o, diff_sort sort, bool zero_diffs,
                       char *err, size_t errlen)
{
    grouper g;
    diff_stats *st = NULL;
    diff_loctab *lt = diff_snapshot_locs(new_);
    if (grouper_init(&g, lt, o, new_, old) == 0
        && group_snapshot(&g, new_, 0) == 0
        && (!old || group_snapshot(&g, old, 1) == 0))
        st = build_stats(&g, sort, zero_diffs);
    grouper_release(&g);
    if (!st)
        diff_errf(err, errlen, "out of memory while grouping");
    return st;
}

diff_stats *diff_compare(const diff_snapshot *new_, const diff_snapshot *old,
                         const diff_options *opts, char *err, size_t errlen)
{
    const diff_options *o = opts ? opts : &default_options;
    if (!new_) {
        diff_errf(err, errlen, "no snapshot to compare");
        return NULL;
    }
    if (!options_valid(o, err, errlen))
        return NULL;
    if (old && diff_snapshot_locs(old) != diff_snapshot_locs(new_)) {
        diff_errf(err, errlen, "snapshots to compare must share one location table");
        return NULL;
    }
    if (old && o->group == DIFF_GROUP_TRACEBACK
        && diff_snapshot_frames_limit(old) != diff_snapshot_frames_limit(new_)) {
        diff_errf(err, errlen,
                  "cannot compare tracebacks of snapshots with different frame limits "
                  "(%" PRIu32 " and %" PRIu32 "); use lineno or filename grouping",
                  diff_snapshot_frames_limit(new_), diff_snapshot_frames_limit(old));
        return NULL;
    }
    if (old && diff_snapshot_sample_bytes(old) != diff_snapshot_sample_bytes(new_)) {
        diff_errf(err, errlen, "cannot compare %s: their figures do not mean the same thing",
                  diff_snapshot_sample_bytes(old) && diff_snapshot_sample_bytes(new_)
                      ? "snapshots sampled at different intervals"
                      : "a sampled snapshot (estimates) with an exact one");
        return NULL;
    }
    return run(new_, old, o, o->sort, false, err, errlen);
}

diff_stats *diff_statistics(const diff_snapshot *s, const diff_options *opts,
                            char *err, size_t errlen)
{
    const diff_options *o = opts ? opts : &default_options;
    if (!s) {
        diff_errf(err, errlen, "no snapshot");
        return NULL;
    }
    if (!options_valid(o, err, errlen))
        return NULL;
    return run(s, NULL, o, DIFF_SORT_SIZE, true, err, errlen);
}

long diff_traceback_reaches(const diff_loctab *lt, const diff_stat *tb, const diff_options *o, uint64_t key)
{
    if (o->group == DIFF_GROUP_TRACEBACK)
        return tb->key == key ? 0 : -1;
    uint32_t n = o->cumulative ? tb->nframes : (tb->nframes ? 1 : 0);
    for (uint32_t i = 0; i < n; i++) {
        gkey k;
        key_of_frame(lt, o->group, diff_loctab_get(lt, tb->frames[i]), &k);
        if (public_key(k.hash) == key)
            return (long)i;
    }
    return -1;
}

size_t diff_stats_count(const diff_stats *st)
{
    return st->n;
}

const diff_stat *diff_stats_get(const diff_stats *st, size_t i)
{
    return i < st->n ? &st->stats[i] : NULL;
}

void diff_stats_total(const diff_stats *st, diff_stat *total)
{
    *total = st->total;
}

bool diff_stats_retained_known(const diff_stats *st, const char **why)
{
    if (why)
        *why = st->ret_why;
    return st->ret_why == NULL;
}

const diff_loctab *diff_stats_locs(const diff_stats *st)
{
    return st->locs;
}

void diff_stats_free(diff_stats *st)
{
    if (!st)
        return;
    free(st->stats);
    diff_arena_release(&st->arena);
    free(st);
}
