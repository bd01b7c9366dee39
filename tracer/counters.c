/* counters.c: the live totals' parts beside the shared per-trace
 * counters: thread slots (a thread takes a free slot on its first traced
 * call and gives it back when it exits; the entries stay, they are part of
 * the totals, and the next thread to take the slot keeps adding to them)
 * and the shared (trace, epoch) pair table they fall back to. */
#include <pthread.h>

#include "lt_internal.h"

__thread lt_tslot *lt_my_tslot __attribute__((tls_model("initial-exec")));
static __thread int lt_tslot_tried __attribute__((tls_model("initial-exec")));
static pthread_key_t lt_tslot_key;
static bool lt_tslot_key_ok;

static lt_tslot *lt_tslot_at(uint32_t i)
{
    return (lt_tslot *)(lt_g.tslots + (uint64_t)i * lt_g.hdr->tslot_size);
}

/* Runs in the exiting thread: it must not take a slot again (later
 * destructors may still allocate; they count in the shared counters). */
static void lt_tslot_release(void *p)
{
    lt_tslot *t = p;
    lt_my_tslot = NULL;
    lt_tslot_tried = 1;
    /* A slot of an earlier tracing period (a detach and attach since):
     * that segment is gone, nothing to give back. */
    if (lt_seen == __atomic_load_n(lt_gate, __ATOMIC_ACQUIRE))
        __atomic_store_n(&t->owned, 0, __ATOMIC_RELEASE);
}

void lt_tslot_forget(void)
{
    lt_my_tslot = NULL;
    lt_tslot_tried = 0;
    if (lt_tslot_key_ok)
        pthread_setspecific(lt_tslot_key, NULL);
}

lt_tslot *lt_tslot_acquire(void)
{
    if (lt_tslot_tried || !lt_tslot_key_ok)
        return NULL;
    lt_tslot_tried = 1;
    lt_shm_header *h = lt_g.hdr;
    for (uint32_t i = 0; i < h->tslots; i++) {
        if (!lt_seg_reserve_tslot(i))
            return NULL;  /* no room in /dev/shm: this thread counts in the shared counters */
        lt_tslot *t = lt_tslot_at(i);
        uint32_t free_ = 0;
        if (!__atomic_compare_exchange_n(&t->owned, &free_, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            continue;
        uint32_t hwm = __atomic_load_n(&h->tslots_hwm, __ATOMIC_RELAXED);
        while (hwm < i + 1 && !__atomic_compare_exchange_n(&h->tslots_hwm, &hwm, i + 1, false,
                                                           __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            ;
        lt_my_tslot = t;
        pthread_setspecific(lt_tslot_key, t);
        return t;
    }
    return NULL;  /* more threads than slots: this one counts in the shared counters */
}

bool lt_counters_init(void)
{
    lt_shm_header *h = lt_g.hdr;
    lt_g.tslots = (uint8_t *)h + h->tslots_off;
    lt_g.tslot_mask = h->tslot_entries - 1;
    if (!lt_tslot_key_ok)  /* once: an attach after a detach keeps the key */
        lt_tslot_key_ok = pthread_key_create(&lt_tslot_key, lt_tslot_release) == 0;
    return true;
}

/* The pair table is committed whole the first time it is needed (a
 * thread slot full, or a thread without one, after a baseline): most
 * programs never pay for it. */
static lt_pair *lt_pairs_get(void)
{
    lt_shm_header *h = lt_g.hdr;
    if (LT_LIKELY(__atomic_load_n(&h->pairs_ready, __ATOMIC_ACQUIRE)))
        return lt_g.pairs;
    if (__atomic_load_n(&lt_g.pairs_failed, __ATOMIC_RELAXED))
        return NULL;  /* /dev/shm had no room for it: not tried on every call */
    lt_spin_lock(&lt_g.pairs_lock);
    if (!h->pairs_ready && !lt_g.pairs_failed) {
        if (lt_seg_commit_range(h->pairs_off, (uint64_t)h->pairs_cap * (sizeof(lt_pair) + sizeof(uint32_t)))) {
            lt_g.pairs = (lt_pair *)((uint8_t *)h + h->pairs_off);
            __atomic_store_n(&h->pairs_ready, 1, __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(&lt_g.pairs_failed, 1, __ATOMIC_RELAXED);
        }
    }
    lt_spin_unlock(&lt_g.pairs_lock);
    return __atomic_load_n(&h->pairs_ready, __ATOMIC_ACQUIRE) ? lt_g.pairs : NULL;
}

static lt_pair *lt_pair_find(uint32_t id, uint32_t epoch)
{
    lt_pair *pairs = lt_pairs_get();
    if (!pairs)
        return NULL;
    uint64_t key = (uint64_t)epoch << 32 | (id + 1);
    uint32_t mask = lt_g.hdr->pairs_cap - 1;
    uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
    for (int probe = 0; probe < LT_PAIR_PROBES; probe++, i = (i + 1) & mask) {
        uint64_t cur = __atomic_load_n(&pairs[i].key, __ATOMIC_ACQUIRE);
        if (cur == 0 && __atomic_compare_exchange_n(&pairs[i].key, &cur, key, false, __ATOMIC_ACQ_REL,
                                                    __ATOMIC_ACQUIRE)) {
            /* Listed before anything is added to it (lt_shm.h); the index
             * has a place for every entry, so it never runs out. */
            uint32_t *index = (uint32_t *)(pairs + lt_g.hdr->pairs_cap);
            uint32_t at = __atomic_fetch_add(&lt_g.hdr->pairs_used, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&index[at], i + 1, __ATOMIC_RELEASE);
            return &pairs[i];
        }
        if (cur == key)
            return &pairs[i];
    }
    return NULL;
}

static inline void lt_counter_add(lt_counter *c, int64_t size, int64_t blocks)
{
    __atomic_fetch_add(&c->size, size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->count, blocks, __ATOMIC_RELAXED);
}

/* Blocks born after a baseline count in the pair table; out of line, so
 * that the epoch-0 path saves no registers. */
static void __attribute__((noinline)) lt_count_pair(uint32_t id, uint32_t epoch, int64_t size, int64_t blocks)
{
    lt_pair *p = lt_pair_find(id, epoch);
    if (LT_LIKELY(p != NULL)) {
        __atomic_fetch_add(&p->size, size, __ATOMIC_RELAXED);
        __atomic_fetch_add(&p->count, blocks, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&lt_g.hdr->pairs_lost, 1, __ATOMIC_RELAXED);
    lt_counter_add(&lt_g.counters[id], size, blocks);
}

void lt_count_shared(uint32_t id, uint32_t epoch, int64_t size, int64_t blocks)
{
    if (epoch != 0)
        lt_count_pair(id, epoch, size, blocks);
    else
        lt_counter_add(&lt_g.counters[id], size, blocks);
}

void lt_live_now(lt_live_view *v)
{
    lt_shm_header *h = lt_g.hdr;
    uint32_t hwm = __atomic_load_n(&h->tslots_hwm, __ATOMIC_ACQUIRE);
    *v = (lt_live_view){
        .shared = lt_g.counters,
        .pairs = __atomic_load_n(&h->pairs_ready, __ATOMIC_ACQUIRE) ? lt_g.pairs : NULL,
        .pairs_index = lt_g.pairs ? (const uint32_t *)(lt_g.pairs + h->pairs_cap) : NULL,
        .pairs_cap = h->pairs_cap,
        .pairs_used = __atomic_load_n(&h->pairs_used, __ATOMIC_ACQUIRE),
        .tslots = lt_g.tslots,
        .nslots = hwm < h->tslots ? hwm : h->tslots,
        .slot_size = h->tslot_size,
        .entries = h->tslot_entries,
    };
}
