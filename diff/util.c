/* util.c: the plumbing every diff/ file uses: arenas, growable vectors, an
 * id hash set, error strings, tracemalloc-style fnmatch, CRC-32 and the
 * one way files are written. */
#include "diff_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- arena ---------------------------------------------------------------- */

struct diff_arena_chunk {
    diff_arena_chunk *next;
    max_align_t       data[];
};

enum { DIFF_ARENA_CHUNK = 64 * 1024 };

void diff_arena_init(diff_arena *a)
{
    a->head = NULL;
    a->used = a->cap = 0;
}

void diff_arena_release(diff_arena *a)
{
    diff_arena_chunk *c = a->head;
    while (c) {
        diff_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    diff_arena_init(a);
}

void *diff_arena_alloc(diff_arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    size_t need = (size + align - 1) & ~(align - 1);
    if (need < size)
        return NULL;
    if (!a->head || a->cap - a->used < need) {
        /* Big requests get their own chunk so a chunk is never mostly waste. */
        size_t cap = need > DIFF_ARENA_CHUNK / 4 ? need : DIFF_ARENA_CHUNK;
        if (cap > SIZE_MAX - sizeof(diff_arena_chunk))
            return NULL;
        diff_arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        if (cap == need && a->head) {
            /* Keep filling the current chunk; slot the big one behind it. */
            c->next = a->head->next;
            a->head->next = c;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += need;
    return p;
}

char *diff_arena_strndup(diff_arena *a, const char *s, size_t n)
{
    char *p = diff_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- vectors -------------------------------------------------------------- */

void diff_vec_init(diff_vec *v, size_t item)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->item = item;
}

void diff_vec_release(diff_vec *v)
{
    free(v->data);
    diff_vec_init(v, v->item);
}

int diff_vec_reserve(diff_vec *v, size_t n)
{
    if (n <= v->cap - v->len)
        return 0;
    if (n > SIZE_MAX / v->item - v->len)
        return -ENOMEM;
    size_t cap = v->cap ? v->cap : 16;
    while (cap < v->len + n)
        cap = cap > SIZE_MAX / 2 / v->item ? v->len + n : cap * 2;
    void *p = realloc(v->data, cap * v->item);
    if (!p)
        return -ENOMEM;
    v->data = p;
    v->cap = cap;
    return 0;
}

void *diff_vec_push(diff_vec *v, size_t n)
{
    /* Room for one even when n == 0: a pushed range is never NULL. */
    if (diff_vec_reserve(v, n ? n : 1) < 0)
        return NULL;
    void *p = (char *)v->data + v->len * v->item;
    memset(p, 0, n * v->item);
    v->len += n;
    return p;
}

/* ---- hashing -------------------------------------------------------------- */

uint64_t diff_hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return diff_hash_mix(h, n);
}

void diff_idset_init(diff_idset *s)
{
    memset(s, 0, sizeof *s);
}

void diff_idset_release(diff_idset *s)
{
    free(s->slots);
    free(s->hashes);
    diff_idset_init(s);
}

uint32_t diff_idset_find(const diff_idset *s, uint64_t hash, diff_id_eq eq,
                         const void *ctx, const void *key)
{
    if (!s->cap)
        return UINT32_MAX;
    size_t mask = s->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        uint32_t slot = s->slots[i];
        if (!slot)
            return UINT32_MAX;
        if (s->hashes[i] == hash && eq(ctx, slot - 1, key))
            return slot - 1;
    }
}

static void idset_place(uint32_t *slots, uint64_t *hashes, size_t cap,
                        uint64_t hash, uint32_t slot)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = slot;
    hashes[i] = hash;
}

static int idset_grow(diff_idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    uint64_t *hashes = calloc(cap, sizeof *hashes);
    if (!slots || !hashes) {
        free(slots);
        free(hashes);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            idset_place(slots, hashes, cap, s->hashes[i], s->slots[i]);
    free(s->slots);
    free(s->hashes);
    s->slots = slots;
    s->hashes = hashes;
    s->cap = cap;
    return 0;
}

int diff_idset_add(diff_idset *s, uint64_t hash, uint32_t id)
{
    /* Load factor kept under 1/2: probes stay short with linear probing. */
    if ((s->len + 1) * 2 > s->cap && idset_grow(s) < 0)
        return -ENOMEM;
    idset_place(s->slots, s->hashes, s->cap, hash, id + 1);
    s->len++;
    return 0;
}

/* ---- small helpers ---------------------------------------------------------- */

void diff_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool diff_fnmatch(const char *pattern, const char *name)
{
    /* tracemalloc uses Python's fnmatch: `*` crosses '/' and matches a
     * leading dot, and a backslash is an ordinary character. */
    return fnmatch(pattern, name, FNM_NOESCAPE) == 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF included. */
int diff_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n <= 1)
        return n;
    uint32_t cp = c & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int diff_utf8_control(const unsigned char *s, int n)
{
    if (n == 1 && (s[0] < 0x20 || s[0] == 0x7f))
        return s[0];
    if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f)
        return s[1];   /* a valid continuation byte: 0x80..0x9f */
    return -1;
}

uint32_t diff_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    /* Four bits at a time: a constant 16-entry table, no lazy init to race. */
    static const uint32_t nibble[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
    };
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = nibble[crc & 15] ^ (crc >> 4);
        crc = nibble[crc & 15] ^ (crc >> 4);
    }
    return ~crc;
}

/* ---- files ------------------------------------------------------------------ */

int diff_write_file(const char *path, diff_file_fill fill, void *ctx, char *err, size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        diff_errf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    snprintf(tmp, n, "%s.tmp%d", path, (int)getpid());
    /* Never through a link someone planted in a shared directory: the
     * sibling is created new, and rename replaces a link, not its target. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fd >= 0 && !f)
        close(fd);
    char why[256] = "";
    int rc = f ? fill(f, ctx, why, sizeof(why)) : -(errno ? errno : EIO);
    if (f && fclose(f) != 0 && !rc)
        rc = -(errno ? errno : EIO);
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        diff_errf(err, errlen, "%s: %s", path, *why ? why : strerror(-rc));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
