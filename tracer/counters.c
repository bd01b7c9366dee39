/* counters.c: thread slots, the per-thread halves of the live totals.
 * A thread takes a free slot on its first traced call and gives it back
 * when it exits; the entries stay (they are part of the totals) and the
 * next thread to take the slot keeps adding to them. */
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

void lt_totals_now(lt_counter *out, uint32_t n)
{
    lt_shm_header *h = lt_g.hdr;
    uint32_t hwm = __atomic_load_n(&h->tslots_hwm, __ATOMIC_ACQUIRE);
    lt_totals_read(lt_g.counters, lt_g.tslots, hwm < h->tslots ? hwm : h->tslots, h->tslot_size,
                   h->tslot_entries, out, n);
}
