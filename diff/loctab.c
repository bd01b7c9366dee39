/* loctab.c: the interning table of frames (diff_loctab) and the choice of
 * the top frame past allocator wrappers. Strings are interned too, so two
 * equal strings are one pointer and frames hash and compare by pointer. */
#include "diff_internal.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Frames live in fixed chunks so a diff_frame pointer stays valid while
 * the table grows (diff_loctab_get hands those pointers out). */
enum { LOCTAB_CHUNK_BITS = 10, LOCTAB_CHUNK = 1u << LOCTAB_CHUNK_BITS };

typedef struct loctab_str {
    const char *s;
    size_t      n;
} loctab_str;

struct diff_loctab {
    diff_arena  arena;      /* string bytes */
    diff_vec    strs;       /* loctab_str, by string id */
    diff_idset  strset;
    diff_frame **chunks;
    size_t      nchunks;
    size_t      count;      /* frames */
    diff_idset  frameset;
    const char *empty;
    uint32_t    unknown_id; /* UINT32_MAX until first needed */
};

static diff_frame *loctab_slot(const diff_loctab *lt, uint32_t id)
{
    return &lt->chunks[id >> LOCTAB_CHUNK_BITS][id & (LOCTAB_CHUNK - 1)];
}

diff_loctab *diff_loctab_new(void)
{
    diff_loctab *lt = calloc(1, sizeof *lt);
    if (!lt)
        return NULL;
    diff_arena_init(&lt->arena);
    diff_vec_init(&lt->strs, sizeof(loctab_str));
    diff_idset_init(&lt->strset);
    diff_idset_init(&lt->frameset);
    lt->unknown_id = UINT32_MAX;
    lt->empty = diff_loctab_intern_str(lt, "", 0);
    if (!lt->empty) {
        diff_loctab_free(lt);
        return NULL;
    }
    return lt;
}

void diff_loctab_free(diff_loctab *lt)
{
    if (!lt)
        return;
    for (size_t i = 0; i < lt->nchunks; i++)
        free(lt->chunks[i]);
    free(lt->chunks);
    diff_idset_release(&lt->frameset);
    diff_idset_release(&lt->strset);
    diff_vec_release(&lt->strs);
    diff_arena_release(&lt->arena);
    free(lt);
}

static bool str_eq(const void *ctx, uint32_t id, const void *key)
{
    const loctab_str *have = &((const loctab_str *)((const diff_vec *)ctx)->data)[id];
    const loctab_str *want = key;
    return have->n == want->n && memcmp(have->s, want->s, want->n) == 0;
}

const char *diff_loctab_intern_str(diff_loctab *lt, const char *s, size_t n)
{
    if (!s)
        return NULL;
    loctab_str key = { s, n };
    uint64_t h = diff_hash_bytes(s, n);
    uint32_t id = diff_idset_find(&lt->strset, h, str_eq, &lt->strs, &key);
    if (id != UINT32_MAX)
        return ((loctab_str *)lt->strs.data)[id].s;
    if (lt->strs.len >= UINT32_MAX - 1 || diff_vec_reserve(&lt->strs, 1) < 0)
        return NULL;
    char *copy = diff_arena_strndup(&lt->arena, s, n);
    if (!copy || diff_idset_add(&lt->strset, h, (uint32_t)lt->strs.len) < 0)
        return NULL;
    loctab_str *slot = diff_vec_push(&lt->strs, 1);
    slot->s = copy;
    slot->n = n;
    return copy;
}

static const char *intern_cstr(diff_loctab *lt, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    const char *r = diff_loctab_intern_str(lt, s, strlen(s));
    if (!r)
        *oom = true;
    return r;
}

static uint64_t frame_hash(const diff_frame *f)
{
    uint64_t h = 0x1234567;
    h = diff_hash_mix(h, (uintptr_t)f->function);
    h = diff_hash_mix(h, (uintptr_t)f->file);
    h = diff_hash_mix(h, f->line);
    h = diff_hash_mix(h, (uintptr_t)f->module);
    h = diff_hash_mix(h, f->address);
    h = diff_hash_mix(h, f->offset);
    h = diff_hash_mix(h, (uintptr_t)f->system_name);
    return diff_hash_mix(h, f->inlined);
}

static bool frame_eq(const void *ctx, uint32_t id, const void *key)
{
    const diff_frame *a = loctab_slot(ctx, id), *b = key;
    /* Strings are interned: pointer equality is string equality. */
    return a->function == b->function && a->file == b->file && a->line == b->line
        && a->module == b->module && a->address == b->address
        && a->offset == b->offset && a->inlined == b->inlined
        && a->system_name == b->system_name;
}

static int loctab_append(diff_loctab *lt, const diff_frame *f)
{
    if (lt->count >= UINT32_MAX - 1)
        return -ENOMEM;
    if ((lt->count & (LOCTAB_CHUNK - 1)) == 0) {
        diff_frame **chunks = realloc(lt->chunks, (lt->nchunks + 1) * sizeof *chunks);
        if (!chunks)
            return -ENOMEM;
        lt->chunks = chunks;
        chunks[lt->nchunks] = malloc(LOCTAB_CHUNK * sizeof(diff_frame));
        if (!chunks[lt->nchunks])
            return -ENOMEM;
        lt->nchunks++;
    }
    *loctab_slot(lt, (uint32_t)lt->count) = *f;
    lt->count++;
    return 0;
}

/* UINT32_MAX when out of memory. */
uint32_t diff_loctab_intern(diff_loctab *lt, const diff_frame *f)
{
    bool oom = false;
    diff_frame c = *f;
    c.function = intern_cstr(lt, f->function, &oom);
    c.file = intern_cstr(lt, f->file, &oom);
    c.module = intern_cstr(lt, f->module, &oom);
    c.system_name = intern_cstr(lt, f->system_name, &oom);
    if (oom)
        return UINT32_MAX;
    uint64_t h = frame_hash(&c);
    uint32_t id = diff_idset_find(&lt->frameset, h, frame_eq, lt, &c);
    if (id != UINT32_MAX)
        return id;
    id = (uint32_t)lt->count;
    if (loctab_append(lt, &c) < 0)
        return UINT32_MAX;
    if (diff_idset_add(&lt->frameset, h, id) < 0) {
        lt->count--;   /* not findable, so not kept */
        return UINT32_MAX;
    }
    return id;
}

const diff_frame *diff_loctab_get(const diff_loctab *lt, uint32_t id)
{
    if (id >= lt->count)
        return NULL;
    return loctab_slot(lt, id);
}

size_t diff_loctab_count(const diff_loctab *lt)
{
    return lt->count;
}

const char *diff_loctab_empty(const diff_loctab *lt)
{
    return lt->empty;
}

uint32_t diff_loctab_unknown_peek(const diff_loctab *lt)
{
    return lt->unknown_id;
}

uint32_t diff_loctab_unknown_id(diff_loctab *lt)
{
    if (lt->unknown_id == UINT32_MAX) {
        diff_frame f = { .file = "<unknown>" };
        lt->unknown_id = diff_loctab_intern(lt, &f);
    }
    return lt->unknown_id;
}

/* ---- allocator wrappers ------------------------------------------------------ */

/* Exact names of libc's duplicating allocators, glibc's internal aliases
 * included (the ELF symbol table or glibc's own DWARF may name those), and
 * the allocation API itself: a frame named malloc/calloc/realloc that is
 * not the tracer (whose frames never reach here) is a wrapper in front of
 * it, e.g. the dynamic loader's inline __rtld_malloc shims. */
static const char *const wrapper_names[] = {
    "strdup", "strndup", "wcsdup", "__strdup", "__strndup", "__wcsdup",
    "__GI___strdup", "__GI___strndup", "__GI___wcsdup",
    "malloc", "calloc", "realloc", "reallocarray", "__libc_malloc", "__libc_calloc",
    "__libc_realloc",
};

/* Prefixes: every demangled operator new / new[] variant (nothrow, aligned,
 * sized) starts with "operator new"; the mangled forms cover binaries seen
 * without a demangler. */
static const char *const wrapper_prefixes[] = { "operator new", "_Znw", "_Zna" };

static bool is_wrapper(const char *fn, const char *const *globs, size_t nglobs)
{
    if (!fn)
        return false;
    for (size_t i = 0; i < sizeof wrapper_names / sizeof *wrapper_names; i++)
        if (strcmp(fn, wrapper_names[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof wrapper_prefixes / sizeof *wrapper_prefixes; i++)
        if (strncmp(fn, wrapper_prefixes[i], strlen(wrapper_prefixes[i])) == 0)
            return true;
    for (size_t i = 0; i < nglobs; i++)
        if (globs[i] && fnmatch(globs[i], fn, 0) == 0)
            return true;
    return false;
}

uint32_t diff_frames_skip_wrappers(const diff_loctab *lt, const uint32_t *frames,
                                   uint32_t n, const char *const *alloc_fn_globs,
                                   size_t nglobs)
{
    for (uint32_t i = 0; i < n; i++) {
        const diff_frame *f = diff_loctab_get(lt, frames[i]);
        if (!f || !is_wrapper(f->function, alloc_fn_globs, nglobs))
            return i;
    }
    /* Never skip everything: a stack made only of wrappers keeps its last
     * (outermost) frame so the block is still charged somewhere. */
    return n ? n - 1 : 0;
}

bool diff_frames_top_known(const diff_loctab *lt, const uint32_t *frames, uint32_t n,
                           const char *const *alloc_fn_globs, size_t nglobs)
{
    for (uint32_t i = 0; i < n; i++) {
        const diff_frame *f = diff_loctab_get(lt, frames[i]);
        if (!f || !is_wrapper(f->function, alloc_fn_globs, nglobs))
            return true;
    }
    return false;
}
