/* sym_scopes.c: one compilation unit's functions and inlined instances: their address
 * ranges, and the lookup of the innermost scope containing an address.
 * Functions are found by bisection over their ranges; the inlined instances
 * of a function are then scanned within that function only. */
#include "sym_internal.h"

#include <stdlib.h>

uint32_t sym_scopes_add(sym_tables *o, const sym_scope *s)
{
    if (o->oom || sym_grow((void **)&o->scopes, &o->scopes_cap, o->nscopes + 1,
                           sizeof *o->scopes) != 0) {
        o->oom = true;
        return UINT32_MAX;
    }
    o->scopes[o->nscopes] = *s;
    return (uint32_t)o->nscopes++;
}

static uint32_t sym_scope_func(const sym_tables *o, uint32_t scope)
{
    /* Parents always precede children, and chains are as deep as the
     * inlining, so this walk is short. */
    while (o->scopes[scope].parent >= 0)
        scope = (uint32_t)o->scopes[scope].parent;
    return scope;
}

void sym_scopes_add_range(sym_tables *o, uint32_t scope, uint64_t lo,
                          uint64_t hi)
{
    /* Address 0 and the all-ones tombstone mark code the linker dropped. */
    if (lo == 0 || lo >= hi || hi == UINT64_MAX || o->oom || scope >= o->nscopes)
        return;
    sym_scope *s = &o->scopes[scope];
    if (s->entry == 0)
        s->entry = lo;
    sym_range r = {lo, hi, scope, sym_scope_func(o, scope)};
    bool func = s->depth == 0;
    sym_range **arr = func ? &o->funcs : &o->inl;
    size_t *n = func ? &o->nfuncs : &o->ninl;
    size_t *cap = func ? &o->funcs_cap : &o->inl_cap;
    if (sym_grow((void **)arr, cap, *n + 1, sizeof **arr) != 0) {
        o->oom = true;
        return;
    }
    (*arr)[(*n)++] = r;
}

static int sym_range_cmp_lo(const void *a, const void *b)
{
    const sym_range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return x->scope < y->scope ? -1 : x->scope > y->scope;
}

static int sym_range_cmp_func(const void *a, const void *b)
{
    const sym_range *x = a, *y = b;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    return sym_range_cmp_lo(a, b);
}

void sym_scopes_finish(sym_tables *o)
{
    if (o->nfuncs > 1)
        qsort(o->funcs, o->nfuncs, sizeof *o->funcs, sym_range_cmp_lo);
    if (o->ninl > 1)
        qsort(o->inl, o->ninl, sizeof *o->inl, sym_range_cmp_func);
    for (size_t i = 0; i < o->ninl;) {
        size_t j = i;
        while (j < o->ninl && o->inl[j].func == o->inl[i].func)
            j++;
        o->scopes[o->inl[i].func].first_inl = (uint32_t)i;
        o->scopes[o->inl[i].func].ninl = (uint32_t)(j - i);
        i = j;
    }
}

/* Best fit, as binutils picks it: the smallest range containing vaddr;
 * on a tie, the deeper scope. */
bool sym_range_better(const sym_tables *tc, const sym_range *cand,
                      const sym_tables *tb, const sym_range *best)
{
    if (best == NULL)
        return true;
    uint64_t lc = cand->hi - cand->lo, lb = best->hi - best->lo;
    if (lc != lb)
        return lc < lb;
    return tc->scopes[cand->scope].depth > tb->scopes[best->scope].depth;
}

/* Index of the first range in [0, n) whose lo is > vaddr. */
static size_t sym_ranges_upper(const sym_range *r, size_t n, uint64_t vaddr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].lo <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Functions do not nest, but duplicates and overlaps exist in the wild
 * (identical code folding, odd producers): look back a bounded distance. */
#define SYM_FUNC_LOOKBACK 32

const sym_range *sym_func_lookup(const sym_tables *o, uint64_t vaddr)
{
    size_t i = sym_ranges_upper(o->funcs, o->nfuncs, vaddr);
    const sym_range *best = NULL;
    for (size_t k = 0; i > 0 && k < SYM_FUNC_LOOKBACK; i--, k++) {
        const sym_range *r = &o->funcs[i - 1];
        if (vaddr < r->hi && sym_range_better(o, r, o, best))
            best = r;
    }
    return best;
}

uint32_t sym_scopes_inner(const sym_tables *o, const sym_range *f,
                          uint64_t vaddr)
{
    const sym_scope *fs = &o->scopes[f->scope];
    if (fs->ninl == 0)
        return f->scope;
    const sym_range *group = o->inl + fs->first_inl;
    size_t end = sym_ranges_upper(group, fs->ninl, vaddr);
    const sym_range *best = f;
    for (size_t i = 0; i < end; i++) {
        const sym_range *r = &group[i];
        if (vaddr < r->hi && sym_range_better(o, r, o, best))
            best = r;
    }
    return best->scope;
}
