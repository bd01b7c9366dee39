/* sym_strings.c: the resolver's string store. Every name and path handed out
 * by sym_resolve lives here, deduplicated, until sym_resolver_free: frames
 * can then be compared by pointer and copied without ownership questions.
 * Also the never-NULL allocation helpers used across symbols/. */
#include "sym_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *sym_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("leaktop: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *sym_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fputs("leaktop: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *sym_xrealloc(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        fputs("leaktop: allocation overflow\n", stderr);
        abort();
    }
    size_t bytes = n * size;
    void *q = realloc(p, bytes != 0 ? bytes : 1);
    if (q == NULL) {
        fputs("leaktop: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *sym_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(sym_xmalloc(n), s, n);
}

void sym_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    *arr = sym_xrealloc(*arr, ncap, size);
    *cap = ncap;
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
    sym_strings *in = sym_xcalloc(1, sizeof *in);
    in->nslots = 1024;
    in->slots = sym_xcalloc(in->nslots, sizeof *in->slots);
    in->hashes = sym_xcalloc(in->nslots, sizeof *in->hashes);
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
        c = sym_xmalloc(sizeof *c + size);
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

static void sym_intern_rehash(sym_strings *in)
{
    size_t nslots = in->nslots * 2;
    const char **slots = sym_xcalloc(nslots, sizeof *slots);
    uint32_t *hashes = sym_xcalloc(nslots, sizeof *hashes);
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
}

const char *sym_intern_n(sym_strings *in, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    if ((in->count + 1) * 2 > in->nslots)
        sym_intern_rehash(in);
    uint32_t h = sym_hash(s, n);
    size_t i = h & (in->nslots - 1);
    for (; in->slots[i] != NULL; i = (i + 1) & (in->nslots - 1)) {
        if (in->hashes[i] == h && strncmp(in->slots[i], s, n) == 0 &&
            in->slots[i][n] == '\0')
            return in->slots[i];
    }
    in->slots[i] = sym_intern_store(in, s, n);
    in->hashes[i] = h;
    in->count++;
    return in->slots[i];
}

const char *sym_intern(sym_strings *in, const char *s)
{
    return s == NULL ? NULL : sym_intern_n(in, s, strlen(s));
}
