/* snapshot.c: a snapshot in memory: its traces (size, count, frame ids),
 * label, pid, elapsed time, frame limit, module table and totals. Traces
 * and frame ids live in two growable arrays, never one malloc per trace. */
#include "diff_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct snap_trace {
    int64_t  size, count;
    size_t   off;       /* into frames */
    uint32_t n;
    uint32_t nbirths;
    size_t   boff;      /* into births */
    int64_t  bsize, bcount;   /* the births' sums: never above size, count */
} snap_trace;

typedef struct snap_module {
    const char *path, *build_id;
    uint64_t    bias;
} snap_module;

struct diff_snapshot {
    diff_loctab *locs;          /* borrowed */
    uint32_t     frames_limit;
    uint64_t     sample_bytes;  /* 0 = exact */
    char        *label;
    int          pid;
    double       elapsed_s;
    diff_vec     traces;        /* snap_trace */
    diff_vec     frames;        /* uint32_t */
    diff_vec     modules;       /* snap_module */
    diff_vec     births;        /* diff_birth */
    uint64_t     run;
    uint32_t     epoch;         /* DIFF_EPOCH_NONE: not a baseline */
    bool         births_known;
    diff_arena   arena;         /* module strings */
    int64_t      total_size, total_count;
};

diff_snapshot *diff_snapshot_new(diff_loctab *locs, uint32_t frames_limit)
{
    if (!locs)
        return NULL;
    diff_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->locs = locs;
    s->frames_limit = frames_limit;
    diff_vec_init(&s->traces, sizeof(snap_trace));
    diff_vec_init(&s->frames, sizeof(uint32_t));
    diff_vec_init(&s->modules, sizeof(snap_module));
    diff_vec_init(&s->births, sizeof(diff_birth));
    s->epoch = DIFF_EPOCH_NONE;
    diff_arena_init(&s->arena);
    return s;
}

void diff_snapshot_free(diff_snapshot *s)
{
    if (!s)
        return;
    diff_vec_release(&s->traces);
    diff_vec_release(&s->frames);
    diff_vec_release(&s->modules);
    diff_vec_release(&s->births);
    diff_arena_release(&s->arena);
    free(s->label);
    free(s);
}

/* Returns 0, -EINVAL (negative size or count, unknown frame id), -EOVERFLOW
 * (the totals would overflow int64: grouping relies on them not to), or
 * -ENOMEM. */
int diff_snapshot_add(diff_snapshot *s, int64_t size, int64_t count,
                      const uint32_t *frames, uint32_t nframes)
{
    if (size < 0 || count < 0 || (nframes && !frames))
        return -EINVAL;
    /* The pseudo frame a compare groups a frameless trace under is interned
     * now, with the trace: compares then never write the loctab. */
    if (nframes == 0 && diff_loctab_unknown_id(s->locs) == UINT32_MAX)
        return -ENOMEM;
    size_t nlocs = diff_loctab_count(s->locs);
    for (uint32_t i = 0; i < nframes; i++)
        if (frames[i] >= nlocs)
            return -EINVAL;
    int64_t tsize, tcount;
    if (__builtin_add_overflow(s->total_size, size, &tsize)
        || __builtin_add_overflow(s->total_count, count, &tcount))
        return -EOVERFLOW;
    if (diff_vec_reserve(&s->traces, 1) < 0 || diff_vec_reserve(&s->frames, nframes) < 0)
        return -ENOMEM;
    snap_trace *t = diff_vec_push(&s->traces, 1);
    t->size = size;
    t->count = count;
    t->off = s->frames.len;
    t->n = nframes;
    uint32_t *dst = diff_vec_push(&s->frames, nframes);
    if (nframes)
        memcpy(dst, frames, nframes * sizeof *frames);
    s->total_size = tsize;
    s->total_count = tcount;
    return 0;
}

void diff_snapshot_set_label(diff_snapshot *s, const char *label)
{
    char *copy = label ? strdup(label) : NULL;
    free(s->label);
    s->label = copy;
}

const char *diff_snapshot_label(const diff_snapshot *s)
{
    return s->label ? s->label : "";
}

void diff_snapshot_set_meta(diff_snapshot *s, int pid, double elapsed_s)
{
    s->pid = pid;
    s->elapsed_s = elapsed_s;
}

int diff_snapshot_pid(const diff_snapshot *s)
{
    return s->pid;
}

double diff_snapshot_elapsed(const diff_snapshot *s)
{
    return s->elapsed_s;
}

uint32_t diff_snapshot_frames_limit(const diff_snapshot *s)
{
    return s->frames_limit;
}

void diff_snapshot_set_sample_bytes(diff_snapshot *s, uint64_t bytes)
{
    s->sample_bytes = bytes;
}

uint64_t diff_snapshot_sample_bytes(const diff_snapshot *s)
{
    return s->sample_bytes;
}

void diff_snapshot_set_frames_limit(diff_snapshot *s, uint32_t limit)
{
    s->frames_limit = limit;
}

diff_loctab *diff_snapshot_locs(const diff_snapshot *s)
{
    return s->locs;
}

size_t diff_snapshot_ntraces(const diff_snapshot *s)
{
    return s->traces.len;
}

void diff_snapshot_trace(const diff_snapshot *s, size_t i, int64_t *size,
                         int64_t *count, const uint32_t **frames, uint32_t *nframes)
{
    const snap_trace *t = &((const snap_trace *)s->traces.data)[i];
    if (size)
        *size = t->size;
    if (count)
        *count = t->count;
    if (frames)
        *frames = (const uint32_t *)s->frames.data + t->off;
    if (nframes)
        *nframes = t->n;
}

void diff_snapshot_totals(const diff_snapshot *s, int64_t *size, int64_t *count)
{
    if (size)
        *size = s->total_size;
    if (count)
        *count = s->total_count;
}

void diff_snapshot_set_epoch(diff_snapshot *s, uint64_t run, uint32_t epoch, bool births_known)
{
    s->run = run;
    s->epoch = epoch;
    s->births_known = births_known;
}

uint64_t diff_snapshot_run(const diff_snapshot *s) { return s->run; }
uint32_t diff_snapshot_epoch(const diff_snapshot *s) { return s->epoch; }
bool diff_snapshot_births_known(const diff_snapshot *s) { return s->births_known; }

int diff_snapshot_add_births(diff_snapshot *s, const diff_birth *b, uint32_t n)
{
    if (s->traces.len == 0 || (n && !b))
        return -EINVAL;
    for (uint32_t i = 0; i < n; i++)
        if (b[i].epoch == 0 || b[i].size < 0 || b[i].count < 0)
            return -EINVAL;
    snap_trace *t = &((snap_trace *)s->traces.data)[s->traces.len - 1];
    if (t->nbirths && t->boff + t->nbirths != s->births.len)
        return -EINVAL;  /* added twice, with other traces' births between */
    /* Births are parts of the trace: their sums stay within it (so a
     * retained sum never overflows). */
    int64_t bsize = t->bsize, bcount = t->bcount;
    for (uint32_t i = 0; i < n; i++) {
        if (b[i].size > t->size - bsize || b[i].count > t->count - bcount)
            return -EINVAL;
        bsize += b[i].size;
        bcount += b[i].count;
    }
    diff_birth *dst = n ? diff_vec_push(&s->births, n) : NULL;
    if (n && !dst)
        return -ENOMEM;
    if (!t->nbirths)
        t->boff = s->births.len - n;
    if (n)
        memcpy(dst, b, n * sizeof *b);
    t->nbirths += n;
    t->bsize = bsize;
    t->bcount = bcount;
    return 0;
}

uint32_t diff_snapshot_births(const diff_snapshot *s, size_t i, const diff_birth **b)
{
    const snap_trace *t = &((const snap_trace *)s->traces.data)[i];
    *b = t->nbirths ? (const diff_birth *)s->births.data + t->boff : NULL;
    return t->nbirths;
}

void diff_snapshot_retained(const diff_snapshot *s, size_t i, uint32_t since, int64_t *size, int64_t *count)
{
    const snap_trace *t = &((const snap_trace *)s->traces.data)[i];
    if (since == 0) {
        *size = t->size;
        *count = t->count;
        return;
    }
    const diff_birth *b = t->nbirths ? (const diff_birth *)s->births.data + t->boff : NULL;
    int64_t rs = 0, rc = 0;
    for (uint32_t k = 0; k < t->nbirths; k++) {
        if (b[k].epoch >= since) {
            rs += b[k].size;
            rc += b[k].count;
        }
    }
    /* Births are parts of the trace: never more than it (a sampled
     * estimate's rounding, or a live read torn between two parts). */
    *size = rs < t->size ? rs : t->size;
    *count = rc < t->count ? rc : t->count;
}

bool diff_retained_known(const diff_snapshot *new_, const diff_snapshot *base, const char **why)
{
    const char *w = NULL;
    if (!base)
        w = NULL;  /* since the empty start: everything live */
    else if (!new_->run || new_->run != base->run)
        w = "the snapshots are not of one traced run";
    else if (base->epoch == DIFF_EPOCH_NONE)
        w = "the baseline was taken past the tracer's limit of 1023 baselines, or is not one it can tell";
    else if (!new_->births_known)
        w = "the tracer had no room to record blocks' births at this snapshot";
    if (why)
        *why = w;
    return w == NULL;
}

bool diff_retained_totals(const diff_snapshot *new_, const diff_snapshot *base, int64_t *size, int64_t *count)
{
    *size = *count = 0;
    if (!diff_retained_known(new_, base, NULL))
        return false;
    uint32_t since = base ? base->epoch : 0;
    for (size_t i = 0; i < new_->traces.len; i++) {
        int64_t s, c;
        diff_snapshot_retained(new_, i, since, &s, &c);
        *size += s;
        *count += c;
    }
    return true;
}

static const char *arena_cstr(diff_arena *a, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    const char *r = diff_arena_strndup(a, s, strlen(s));
    if (!r)
        *oom = true;
    return r;
}

int diff_snapshot_add_module(diff_snapshot *s, const char *path,
                             const char *build_id_hex, uint64_t bias)
{
    bool oom = false;
    snap_module m = {
        .path = arena_cstr(&s->arena, path, &oom),
        .build_id = arena_cstr(&s->arena, build_id_hex, &oom),
        .bias = bias,
    };
    snap_module *slot = oom ? NULL : diff_vec_push(&s->modules, 1);
    if (!slot)
        return -ENOMEM;
    *slot = m;
    return 0;
}

size_t diff_snapshot_nmodules(const diff_snapshot *s)
{
    return s->modules.len;
}

void diff_snapshot_module(const diff_snapshot *s, size_t i, const char **path,
                          const char **build_id_hex, uint64_t *bias)
{
    const snap_module *m = &((const snap_module *)s->modules.data)[i];
    if (path)
        *path = m->path;
    if (build_id_hex)
        *build_id_hex = m->build_id;
    if (bias)
        *bias = m->bias;
}
