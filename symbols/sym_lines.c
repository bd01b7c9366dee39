/* sym_lines.c: one compilation unit's address -> (file, line) table: the
 * rows of its line program in one array sorted by address, with
 * end-of-sequence rows kept as terminators, then searched by bisection. */
#include "sym_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t sym_files_add(sym_tables *o, const char *interned)
{
    /* Files repeat across CUs (headers); the interned pointer identifies
     * them, so a short backward scan catches most repeats cheaply and the
     * rest only cost a pointer. */
    for (size_t i = o->nfiles, k = 0; i > 0 && k < 64; i--, k++)
        if (o->files[i - 1] == interned)
            return (uint32_t)(i - 1);
    if (o->oom || sym_grow((void **)&o->files, &o->files_cap, o->nfiles + 1,
                           sizeof *o->files) != 0) {
        o->oom = true;
        return SYM_LINE_END - 1; /* as an unreadable file entry */
    }
    o->files[o->nfiles] = interned;
    return (uint32_t)o->nfiles++;
}

/* Rows of one sequence arrive in order; a row at the same address as the
 * previous row of its sequence replaces it (that row covers no bytes). */
void sym_lines_add(sym_tables *o, uint64_t addr, uint32_t file, uint32_t line)
{
    if (o->nlines > 0) {
        sym_line *prev = &o->lines[o->nlines - 1];
        if (prev->file != SYM_LINE_END && prev->addr == addr) {
            *prev = (sym_line){addr, file, line};
            return;
        }
    }
    if (o->oom || sym_grow((void **)&o->lines, &o->lines_cap, o->nlines + 1,
                           sizeof *o->lines) != 0) {
        o->oom = true;
        return;
    }
    o->lines[o->nlines++] = (sym_line){addr, file, line};
}

/* Order: by address; at one address an end_sequence row comes before the
 * rows of a sequence starting there, so the new sequence wins. Otherwise
 * the merge keeps input order (stable), and within a sequence the last row
 * at an address is the one that describes it (as binutils does). */
static bool sym_line_before(const sym_line *a, const sym_line *b)
{
    if (a->addr != b->addr)
        return a->addr < b->addr;
    return a->file == SYM_LINE_END && b->file != SYM_LINE_END;
}

static void sym_lines_merge(const sym_line *src, sym_line *dst, size_t lo,
                            size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = sym_line_before(&src[j], &src[i]) ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

/* Bottom-up stable merge sort: rows mostly arrive as sorted runs. */
static int sym_lines_stable_sort(sym_line *rows, size_t n)
{
    sym_line *tmp = sym_alloc_array(n, sizeof *tmp);
    if (tmp == NULL)
        return -ENOMEM;
    sym_line *src = rows, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            sym_lines_merge(src, dst, lo, mid, hi);
        }
        sym_line *t = src;
        src = dst;
        dst = t;
    }
    if (src != rows)
        memcpy(rows, src, n * sizeof *rows);
    free(tmp);
    return 0;
}

/* Drops rows that change nothing: superseded by a later row at the same
 * address, or repeating the previous row's file and line. */
static void sym_lines_compact(sym_tables *o)
{
    size_t k = 0;
    for (size_t i = 0; i < o->nlines; i++) {
        const sym_line *r = &o->lines[i];
        if (i + 1 < o->nlines && o->lines[i + 1].addr == r->addr)
            continue;
        if (k > 0 && o->lines[k - 1].file == r->file &&
            o->lines[k - 1].line == r->line)
            continue;
        o->lines[k++] = *r;
    }
    o->nlines = k;
    sym_line *fit = k > 0 && k < o->lines_cap
                  ? realloc(o->lines, k * sizeof *o->lines) : NULL;
    if (fit != NULL) { /* else the larger array serves as well */
        o->lines = fit;
        o->lines_cap = k;
    }
}

void sym_lines_sort(sym_tables *o)
{
    if (sym_lines_stable_sort(o->lines, o->nlines) != 0) {
        o->oom = true; /* unsorted rows cannot be bisected */
        return;
    }
    sym_lines_compact(o);
}

const sym_line *sym_lines_last(const sym_tables *o, uint64_t vaddr)
{
    size_t lo = 0, hi = o->nlines; /* first row with addr > vaddr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->lines[mid].addr <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* The caller reads an end_sequence row as "no line"; the last row of a
     * table is always one (sym_dwarf.c closes truncated sequences). */
    return lo == 0 ? NULL : &o->lines[lo - 1];
}
