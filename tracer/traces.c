/* traces.c: the append-only trace store and its deduplication.
 * A stack becomes a trace id with one hash probe in the common case; new
 * stacks are appended lock-free (fetch_add on the store and the id counter)
 * and published to readers through index[id] before anyone can count on it. */
#include <string.h>

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

/* Slots hold (hash >> 32) << 32 | (id + 1). A thread that loses the race to
 * fill a slot re-reads it: same stack -> the winner's id (its own record
 * stays an orphan with zero counts); another stack -> probe on. */
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
    uint64_t tag = hash >> 32 << 32;
    uint32_t mine = 0;  /* our appended record, once we made one */
    for (uint64_t probe = 0; probe <= lt_g.hash_mask; probe++) {
        uint64_t *slot = &lt_g.hash[(hash + probe) & lt_g.hash_mask];
        uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        while (v == 0) {
            if (!mine && (mine = lt_record_append(hash, frames, n)) == LT_TRACE_UNKNOWN)
                return lt_dropped();
            uint64_t want = tag | (mine + 1u);
            if (__atomic_compare_exchange_n(slot, &v, want, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return mine;
        }
        if ((v & ~0xffffffffULL) == tag) {
            uint32_t id = (uint32_t)(v & 0xffffffffu) - 1u;
            if (lt_record_equals(id, hash, frames, n))
                return id;
        }
    }
    return lt_dropped();
}
