/* export_folded.c: folded stacks ("root;...;leaf BYTES", one per line),
 * the input of flame-graph tools, and with a base the two-column
 * differential form ("root;...;leaf OLD NEW"). */
#include "diff_export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

typedef struct folded_entry {
    const char *stack;
    int64_t     old, new_;
} folded_entry;

typedef struct folded {
    diff_arena arena;   /* the stack strings */
    diff_vec   entries; /* folded_entry */
    diff_vec   line;    /* char: the stack being built */
} folded;

/* Appends s with the format's separators (';', and the line end) and
 * control characters replaced, so a stack stays one line. */
static bool line_put(folded *f, const char *s, size_t n)
{
    if (n == 0)
        return true;
    char *p = diff_vec_push(&f->line, n);
    if (!p)
        return false;
    for (size_t i = 0; i < n; i++)
        p[i] = s[i] == ';' ? ':' : ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    return true;
}

static bool put_name(folded *f, const diff_frame *fr)
{
    char buf[64];
    if (fr->function)
        return line_put(f, fr->function, strlen(fr->function));
    if (fr->module) {
        const char *slash = strrchr(fr->module, '/');
        const char *base = slash ? slash + 1 : fr->module;
        snprintf(buf, sizeof(buf), "+0x%" PRIx64, fr->offset);
        return line_put(f, base, strlen(base)) && line_put(f, buf, strlen(buf));
    }
    snprintf(buf, sizeof(buf), "0x%" PRIx64, fr->address ? fr->address : fr->offset);
    return line_put(f, buf, strlen(buf));
}

static int add_trace(folded *f, const diff_loctab *lt, const uint32_t *frames, uint32_t n,
                     int64_t size, bool is_base)
{
    f->line.len = 0;
    for (uint32_t k = n; k-- > 0;) {
        char *sep = k != n - 1 ? diff_vec_push(&f->line, 1) : NULL;
        if (k != n - 1 && !sep)
            return -ENOMEM;
        if (sep)
            *sep = ';';   /* the one separator line_put would replace */
        if (!put_name(f, diff_loctab_get(lt, frames[k])))
            return -ENOMEM;
    }
    folded_entry *e = diff_vec_push(&f->entries, 1);
    char *s = e ? diff_arena_strndup(&f->arena, f->line.data ? f->line.data : "", f->line.len) : NULL;
    if (!s)
        return -ENOMEM;
    e->stack = s;
    if (is_base)
        e->old = size;
    else
        e->new_ = size;
    return 0;
}

static int add_snapshot(folded *f, const diff_snapshot *s, bool is_base)
{
    const diff_loctab *lt = diff_snapshot_locs(s);
    for (size_t i = 0; i < diff_snapshot_ntraces(s); i++) {
        int64_t size, count;
        const uint32_t *frames;
        uint32_t n;
        diff_snapshot_trace(s, i, &size, &count, &frames, &n);
        int rc = add_trace(f, lt, frames, n, size, is_base);
        if (rc)
            return rc;
    }
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const folded_entry *)a)->stack, ((const folded_entry *)b)->stack);
}

/* Equal stacks (traces that differ only in lines or addresses) become one. */
static void print_merged(FILE *out, folded *f, bool diff)
{
    folded_entry *e = f->entries.data;
    size_t n = f->entries.len;
    if (n)
        qsort(e, n, sizeof(*e), entry_cmp);
    for (size_t i = 0; i < n;) {
        int64_t old = 0, new_ = 0;
        size_t j = i;
        for (; j < n && strcmp(e[j].stack, e[i].stack) == 0; j++) {
            old += e[j].old;
            new_ += e[j].new_;
        }
        if (diff)
            fprintf(out, "%s %" PRId64 " %" PRId64 "\n", e[i].stack, old, new_);
        else
            fprintf(out, "%s %" PRId64 "\n", e[i].stack, new_);
        i = j;
    }
}

int diff_export_folded(FILE *out, const diff_snapshot *snap, const diff_snapshot *base,
                       char *err, size_t errlen)
{
    folded f;
    diff_arena_init(&f.arena);
    diff_vec_init(&f.entries, sizeof(folded_entry));
    diff_vec_init(&f.line, 1);
    int rc = add_snapshot(&f, snap, false);
    if (rc == 0 && base)
        rc = add_snapshot(&f, base, true);
    if (rc == 0)
        print_merged(out, &f, base != NULL);
    else
        diff_errf(err, errlen, "export: out of memory");
    diff_vec_release(&f.line);
    diff_vec_release(&f.entries);
    diff_arena_release(&f.arena);
    return rc;
}
