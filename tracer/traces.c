/* traces.c: the append-only trace store and its deduplication.
 * A stack becomes a trace id with one hash probe in the common case, lock
 * free; a new stack is appended (fetch_add on the store and the id
 * counter) and published to readers through index[id] before anyone can
 * count on it, under the dedupe table's lock, so each stack has one id.
 * The dedupe table is the process's own (not in the segment) and grows
 * with the traces in use: it starts at 32 KiB and doubles when half full,
 * up to 2 x LEAKTOP_MAX_TRACES slots. A table sized for the limit from the
 * start cost 16 MiB with the default 1 M traces, all of it memory once a
 * few thousand stacks had landed on its pages at random. */
#include <string.h>
#include <sys/mman.h>

#include "lt_internal.h"

/* Two cycles per frame (rotate, xor) and one avalanche at the end: the
 * hash only picks a slot, every match is verified with memcmp, so speed
 * matters more than resistance to crafted collisions. */
uint64_t lt_trace_hash(const uintptr_t *frames, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    for (uint32_t i = 0; i < n; i++)
        h = ((h << 13) | (h >> 51)) ^ frames[i];
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static const lt_trace_rec *lt_record(uint32_t id)
{
    uint64_t off = __atomic_load_n(&lt_g.index[id], __ATOMIC_ACQUIRE);
    return off ? (const lt_trace_rec *)(lt_g.store + off - 1) : NULL;
}

static bool lt_record_equals(uint32_t id, uint64_t hash, const uintptr_t *frames, uint32_t n)
{
    const lt_trace_rec *r = lt_record(id);
    return r && r->hash == hash && r->nframes == n &&
           memcmp(r->frames, frames, n * sizeof(uint64_t)) == 0;
}

/* Appends a new record and publishes it in index[]; 0 when out of room. */
static uint32_t lt_record_append(uint64_t hash, const uintptr_t *frames, uint32_t n)
{
    lt_shm_header *h = lt_g.hdr;
    uint64_t bytes = sizeof(lt_trace_rec) + (uint64_t)n * sizeof(uint64_t), off;
    uint32_t id;
    if (!lt_seg_claim_trace(bytes, &off, &id))  /* table, store or /dev/shm full */
        return LT_TRACE_UNKNOWN;
    lt_trace_rec *r = (lt_trace_rec *)(lt_g.store + off);
    r->nframes = n;
    r->module_gen = __atomic_load_n(&h->module_gen, __ATOMIC_ACQUIRE);
    r->hash = hash;
    memcpy(r->frames, frames, n * sizeof(uint64_t));
    __atomic_store_n(&lt_g.index[id], off + 1, __ATOMIC_RELEASE);
    return id;
}

static uint32_t lt_dropped(void)
{
    __atomic_fetch_add(&lt_g.hdr->dropped_traces, 1, __ATOMIC_RELAXED);
    return LT_TRACE_UNKNOWN;
}

/* A dedupe table: slots hold (hash >> 32) << 32 | (id + 1), 0 = empty;
 * linear probing from hash & mask. Lookups read it without a lock; only
 * the lock's holder writes it. A table outgrown is given back
 * (MADV_DONTNEED) but stays mapped: a lookup still reading it finds zeros
 * (or entries still true: an id never changes its stack) and goes on to
 * the locked path, which looks in the current table. Tables are kept by
 * size (lt_dd.sized) and used again after a re-attach, so the address
 * space they take stays bounded. */
typedef struct lt_dtable {
    uint64_t mask;      /* capacity - 1 */
    uint64_t pad[7];    /* the slots start a cache line */
    uint64_t slots[];
} lt_dtable;

#define LT_DEDUPE_START_BITS 12   /* 4096 slots, 32 KiB */
#define LT_DEDUPE_MAX_BITS   26   /* 2 x LEAKTOP_MAX_TRACES' largest value */

static struct {
    lt_dtable *cur;                       /* atomic: the table lookups read */
    lt_dtable *sized[LT_DEDUPE_MAX_BITS + 1];
    uint64_t   used;                      /* entries in cur (under lock) */
    uint32_t   max_bits;                  /* cur grows up to 2^max_bits slots */
    int        lock;
} lt_dd;

static size_t lt_dtable_bytes(uint32_t bits)
{
    return sizeof(lt_dtable) + ((size_t)1 << bits) * sizeof(uint64_t);
}

/* The empty table of 2^bits slots (mapped on first use); NULL when mmap
 * fails. */
static lt_dtable *lt_dtable_get(uint32_t bits)
{
    lt_dtable *t = lt_dd.sized[bits];
    if (!t && (t = lt_map(lt_dtable_bytes(bits))) == NULL)
        return NULL;
    lt_dd.sized[bits] = t;
    t->mask = ((uint64_t)1 << bits) - 1;
    return t;
}

static void lt_dtable_retire(lt_dtable *t)
{
    lt_advise(t, lt_dtable_bytes((uint32_t)__builtin_ctzll(t->mask + 1)), MADV_DONTNEED);
}

/* Sizes the table for traces_cap ids, empty (tracing starts, or starts
 * again: the ids of an earlier period mean nothing in the new segment). */
bool lt_dedupe_open(uint32_t traces_cap)
{
    uint32_t max_bits = LT_DEDUPE_START_BITS;
    while (max_bits < LT_DEDUPE_MAX_BITS && ((uint64_t)1 << max_bits) < (uint64_t)traces_cap * 2)
        max_bits++;
    lt_spin_lock(&lt_dd.lock);
    lt_dtable *old = lt_dd.cur;
    if (old)
        lt_dtable_retire(old);
    lt_dtable *t = lt_dtable_get(LT_DEDUPE_START_BITS);
    lt_dd.max_bits = max_bits;
    lt_dd.used = 0;
    __atomic_store_n(&lt_dd.cur, t, __ATOMIC_RELEASE);
    lt_spin_unlock(&lt_dd.lock);
    return t != NULL;
}

static void lt_dtable_put(lt_dtable *t, uint64_t hash, uint64_t entry)
{
    uint64_t i = hash & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    __atomic_store_n(&t->slots[i], entry, __ATOMIC_RELEASE);
}

/* Doubles the current table (under lock): every entry is placed again by
 * its record's full hash. Stays as it is when mmap fails: still correct,
 * only slower to probe (one slot is always left empty). */
static void lt_dedupe_grow(void)
{
    lt_dtable *old = lt_dd.cur;
    lt_dtable *t = lt_dtable_get((uint32_t)__builtin_ctzll(old->mask + 1) + 1);
    if (!t)
        return;
    for (uint64_t i = 0; i <= old->mask; i++) {
        uint64_t v = old->slots[i];
        const lt_trace_rec *r = v ? lt_record((uint32_t)(v & 0xffffffffu) - 1u) : NULL;
        if (r)
            lt_dtable_put(t, r->hash, v);
    }
    __atomic_store_n(&lt_dd.cur, t, __ATOMIC_RELEASE);
    lt_dtable_retire(old);
}

/* The id of a stack in table t, or 0 when t has none: then *hole is
 * the first empty slot of its probe run (NULL: the run fills the table). */
static uint32_t lt_dtable_find(const lt_dtable *t, uint64_t hash, const uintptr_t *frames, uint32_t n,
                               uint64_t **hole)
{
    uint64_t tag = hash >> 32 << 32, mask = __atomic_load_n(&t->mask, __ATOMIC_RELAXED);
    *hole = NULL;
    for (uint64_t probe = 0; probe <= mask; probe++) {
        uint64_t *slot = (uint64_t *)&t->slots[(hash + probe) & mask];
        uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v == 0) {
            *hole = slot;
            return 0;
        }
        uint32_t id = (uint32_t)(v & 0xffffffffu) - 1u;
        if ((v & ~0xffffffffULL) == tag && lt_record_equals(id, hash, frames, n))
            return id + 1;
    }
    return 0;
}

/* A stack the table does not hold yet (as far as the lock-free look
 * saw): looked up again and, still absent, appended and entered. */
static uint32_t __attribute__((noinline)) lt_trace_enter(uint64_t hash, const uintptr_t *frames, uint32_t n)
{
    lt_spin_lock(&lt_dd.lock);
    lt_dtable *t = lt_dd.cur;
    uint64_t *hole;
    uint32_t id = t ? lt_dtable_find(t, hash, frames, n, &hole) : 0;
    if (id) {
        lt_spin_unlock(&lt_dd.lock);
        return id - 1;
    }
    id = hole ? lt_record_append(hash, frames, n) : LT_TRACE_UNKNOWN;
    if (id != LT_TRACE_UNKNOWN) {
        __atomic_store_n(hole, hash >> 32 << 32 | (id + 1u), __ATOMIC_RELEASE);
        if (++lt_dd.used * 2 > t->mask + 1 && t->mask + 1 < ((uint64_t)1 << lt_dd.max_bits))
            lt_dedupe_grow();
    }
    lt_spin_unlock(&lt_dd.lock);
    return id != LT_TRACE_UNKNOWN ? id : lt_dropped();
}

uint32_t lt_trace_id(const uintptr_t *frames, uint32_t n)
{
    if (n == 0)
        return LT_TRACE_UNKNOWN;
    return lt_trace_id_hashed(lt_trace_hash(frames, n), frames, n);
}

bool lt_trace_is(uint32_t id, uint64_t hash, const uintptr_t *frames, uint32_t n)
{
    return lt_record_equals(id, hash, frames, n);
}

uint32_t lt_trace_id_hashed(uint64_t hash, const uintptr_t *frames, uint32_t n)
{
    if (n == 0)
        return LT_TRACE_UNKNOWN;
    const lt_dtable *t = __atomic_load_n(&lt_dd.cur, __ATOMIC_ACQUIRE);
    uint64_t *hole;
    uint32_t id = t ? lt_dtable_find(t, hash, frames, n, &hole) : 0;
    return id ? id - 1 : lt_trace_enter(hash, frames, n);
}
