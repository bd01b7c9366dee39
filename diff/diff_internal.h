/* diff_internal.h: what the diff/ files share and nobody else sees: the
 * arena, growable vectors, the hash mixer, and the few loctab/snapshot
 * internals that grouping and the snapshot files read directly. */
#ifndef LEAKTOP_DIFF_INTERNAL_H
#define LEAKTOP_DIFF_INTERNAL_H

#include "diff.h"

#include <stdarg.h>

/* ---- arena: bump allocation in chunks, freed at once ------------------- */

typedef struct diff_arena_chunk diff_arena_chunk;
typedef struct diff_arena {
    diff_arena_chunk *head;
    size_t            used;   /* bytes used in head */
    size_t            cap;    /* bytes available in head */
} diff_arena;

void  diff_arena_init(diff_arena *a);
void  diff_arena_release(diff_arena *a);
/* NULL on out of memory. Memory is aligned for any scalar. */
void *diff_arena_alloc(diff_arena *a, size_t size);
char *diff_arena_strndup(diff_arena *a, const char *s, size_t n);

/* ---- growable array of fixed-size items --------------------------------- */

typedef struct diff_vec {
    void  *data;
    size_t len, cap, item;
} diff_vec;

void  diff_vec_init(diff_vec *v, size_t item);
void  diff_vec_release(diff_vec *v);
/* Reserves room for n more items; 0 or -ENOMEM. */
int   diff_vec_reserve(diff_vec *v, size_t n);
/* Appends n zeroed items and returns the first, or NULL. */
void *diff_vec_push(diff_vec *v, size_t n);

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t diff_hash_mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

uint64_t diff_hash_bytes(const void *p, size_t n);

/* An open-addressing set of uint32 ids; equality and hashing of the ids
 * are the caller's (it passes the hash and a compare callback). */
typedef struct diff_idset {
    uint32_t *slots;    /* id+1, 0 = empty */
    uint64_t *hashes;
    size_t    cap, len;
} diff_idset;

typedef bool (*diff_id_eq)(const void *ctx, uint32_t id, const void *key);

void     diff_idset_init(diff_idset *s);
void     diff_idset_release(diff_idset *s);
/* The id equal to key, or UINT32_MAX. */
uint32_t diff_idset_find(const diff_idset *s, uint64_t hash, diff_id_eq eq,
                         const void *ctx, const void *key);
/* Adds id (known absent); 0 or -ENOMEM. */
int      diff_idset_add(diff_idset *s, uint64_t hash, uint32_t id);

/* ---- loctab internals ---------------------------------------------------- */

/* Interns a string (NULL stays NULL); equal strings share one pointer, so
 * grouping compares strings by pointer. NULL on out of memory. */
const char *diff_loctab_intern_str(diff_loctab *lt, const char *s, size_t n);
/* The interned "" (NULL module paths key as ""). */
const char *diff_loctab_empty(const diff_loctab *lt);
/* The pseudo frame ("<unknown>", 0) for traces without frames, interned
 * on first use (by diff_snapshot_add); UINT32_MAX on out of memory. */
uint32_t    diff_loctab_unknown_id(diff_loctab *lt);
/* The same without interning: UINT32_MAX when it was never needed. */
uint32_t    diff_loctab_unknown_peek(const diff_loctab *lt);

/* ---- small helpers -------------------------------------------------------- */

/* snprintf into err when err is not NULL. */
void diff_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Filter matching as tracemalloc: fnmatch with FNM_NOESCAPE only. */
bool diff_fnmatch(const char *pattern, const char *name);

/* The largest snapshot file read or written (docs/SNAPSHOT_FORMAT.md): far
 * above the 1 M traces of a full trace table at the default frame limit,
 * and a bound on what a file named by mistake (a disk image) costs. */
#define DIFF_SNAPFILE_MAX_BYTES ((uint64_t)4 << 30)

/* The snapshot readers: binary and JSON. */
diff_snapshot *diff_snapbin_parse(const uint8_t *data, size_t len, const char *name,
                                  diff_loctab *locs, char *err, size_t errlen);
diff_snapshot *diff_snapjson_parse(const uint8_t *data, size_t len, const char *name,
                                   diff_loctab *locs, char *err, size_t errlen);

/* _format_size for a float (Statistic's average); diff_format_size is this
 * on (double)bytes. */
char *diff_format_size_double(char *buf, size_t len, double v, bool sign);
/* A JSON string literal, or null for NULL; invalid UTF-8 bytes become
 * \ufffd so the output is always valid JSON, and control characters (C0,
 * DEL, C1) are escaped as \u00XX so none reaches a terminal raw. */
void diff_json_string(FILE *out, const char *s);
/* One frame as the JSON reports write it ({"function":..,"file":..,
 * "line":..,"module":..,"address":..,"offset":..,"inlined":..}); the line
 * is 0 when file_only (filename grouping). */
void diff_json_frame(FILE *out, const diff_frame *f, bool file_only);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlong, surrogate, past U+10FFFF, bad continuation). s[0] != 0. */
int diff_utf8_len(const unsigned char *s);
/* The code point of the n-byte sequence at s (n from diff_utf8_len) when it
 * is a control character: C0 (U+0000-U+001F), DEL (U+007F) or C1
 * (U+0080-U+009F, "\xc2\x80".."\xc2\x9f"); else -1. */
int diff_utf8_control(const unsigned char *s, int n);

/* Writes a file through a sibling created O_EXCL|O_NOFOLLOW, renamed into
 * place: a reader never sees half a file, and a link planted in a shared
 * directory is replaced, never written through. fill writes the content
 * (0 or -errno; it may fill err itself, then errno is not used). 0, or
 * -errno with err filled ("PATH: why"). */
typedef int (*diff_file_fill)(FILE *f, void *ctx, char *err, size_t errlen);
int diff_write_file(const char *path, diff_file_fill fill, void *ctx, char *err, size_t errlen);

/* Trace i's live blocks born at epochs >= since (0: all of it). */
void diff_snapshot_retained(const diff_snapshot *s, size_t i, uint32_t since, int64_t *size, int64_t *count);

/* Set once the JSON reader knows it (the key may follow the traces). */
void diff_snapshot_set_frames_limit(diff_snapshot *s, uint32_t limit);

/* CRC-32 (IEEE 802.3, as zlib's crc32). */
uint32_t diff_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
