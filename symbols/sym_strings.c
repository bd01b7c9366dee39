/* sym_strings.c: the resolver's string store. Every name and path handed out
 * by sym_resolve lives here, deduplicated, until sym_resolver_free: frames
 * can then be compared by pointer and copied without ownership questions.
 * Also the allocation helpers used across symbols/ (they fail, never abort). */
#include "sym_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *sym_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *sym_alloc_array(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

char *sym_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sym_alloc(n);
    return p != NULL ? memcpy(p, s, n) : NULL;
}

int sym_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    if (size != 0 && ncap > SIZE_MAX / size)
        return -ENOMEM;
    size_t bytes = ncap * size;
    void *p = realloc(*arr, bytes != 0 ? bytes : 1);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Strings are packed into large chunks; the hash table holds pointers into
 * them. Chunks never move, so handed-out pointers stay valid. */
#define SYM_CHUNK_SIZE (64 * 1024)

typedef struct sym_chunk {
    struct sym_chunk *next;
    size_t            used, size;
    char              data[];
} sym_chunk;

struct sym_strings {
    const char **slots; /* open addressing, power-of-two size */
    uint32_t    *hashes;
    size_t       nslots, count;
    sym_chunk   *chunks;
};

sym_strings *sym_strings_new(void)
{
    sym_strings *in = sym_alloc_array(1, sizeof *in);
    if (in == NULL)
        return NULL;
    in->nslots = 1024;
    in->slots = sym_alloc_array(in->nslots, sizeof *in->slots);
    in->hashes = sym_alloc_array(in->nslots, sizeof *in->hashes);
    if (in->slots == NULL || in->hashes == NULL) {
        sym_strings_free(in);
        return NULL;
    }
    return in;
}

void sym_strings_free(sym_strings *in)
{
    if (in == NULL)
        return;
    for (sym_chunk *c = in->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(in->slots);
    free(in->hashes);
    free(in);
}

static uint32_t sym_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static char *sym_intern_store(sym_strings *in, const char *s, size_t n)
{
    sym_chunk *c = in->chunks;
    if (c == NULL || c->size - c->used < n + 1) {
        size_t size = n + 1 > SYM_CHUNK_SIZE ? n + 1 : SYM_CHUNK_SIZE;
        c = sym_alloc(sizeof *c + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = in->chunks;
        in->chunks = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static int sym_intern_rehash(sym_strings *in)
{
    size_t nslots = in->nslots * 2;
    const char **slots = sym_alloc_array(nslots, sizeof *slots);
    uint32_t *hashes = sym_alloc_array(nslots, sizeof *hashes);
    if (slots == NULL || hashes == NULL) {
        free(slots);
        free(hashes);
        return -ENOMEM;
    }
    for (size_t i = 0; i < in->nslots; i++) {
        if (in->slots[i] == NULL)
            continue;
        size_t j = in->hashes[i] & (nslots - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (nslots - 1);
        slots[j] = in->slots[i];
        hashes[j] = in->hashes[i];
    }
    free(in->slots);
    free(in->hashes);
    in->slots = slots;
    in->hashes = hashes;
    in->nslots = nslots;
    return 0;
}

const char *sym_intern_n(sym_strings *in, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    if ((in->count + 1) * 2 > in->nslots && sym_intern_rehash(in) != 0)
        return NULL;
    uint32_t h = sym_hash(s, n);
    size_t i = h & (in->nslots - 1);
    for (; in->slots[i] != NULL; i = (i + 1) & (in->nslots - 1)) {
        if (in->hashes[i] == h && strncmp(in->slots[i], s, n) == 0 &&
            in->slots[i][n] == '\0')
            return in->slots[i];
    }
    char *p = sym_intern_store(in, s, n);
    if (p == NULL)
        return NULL;
    in->slots[i] = p;
    in->hashes[i] = h;
    in->count++;
    return in->slots[i];
}

const char *sym_intern(sym_strings *in, const char *s)
{
    return s == NULL ? NULL : sym_intern_n(in, s, strlen(s));
}
