/* test_dedupe: one trace id per distinct stack, while the tracer's dedupe
 * table grows (from 4096 slots, doubling when half full) and two threads
 * race to enter the same new stacks: fx_dedupe keeps two blocks from each
 * thread at each of its 2^14 stacks, so each of its traces must hold
 * exactly four blocks; a stack given two ids would show as traces of fewer.
 * Each thread meets far more keys than its counter slot holds: the keys
 * the slot took in the first walk must still be found there in the second.
 * Usage: test_dedupe TRACER FIXTURE */
#include <signal.h>

#include "check.h"
#include "segread.h"

#define LEVELS    14
#define LEAF_SIZE 4321

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_dedupe TRACER FIXTURE\n");
        return 2;
    }
    seg_run run;
    if (!seg_run_start(&run, argv[1], argv[2], -1)) {
        CHECK_MSG(false, "the fixture did not stop with a segment");
        return check_report("test_dedupe");
    }
    const uint8_t *seg = run.seg;
    const lt_shm_header *h = (const lt_shm_header *)seg;
    CHECK_INT(h->version, LT_SHM_VERSION);
    CHECK_INT(h->full_flags, 0);
    CHECK_INT(h->dropped_traces, 0);
    lt_live_view v = seg_live_view(seg);
    lt_counter *live = calloc(h->traces_cap, sizeof(lt_counter));
    lt_totals_read(&v, live, h->ntraces < h->traces_cap ? h->ntraces : h->traces_cap);
    uint32_t whole = 0, split = 0;
    for (uint32_t id = 0; id < h->traces_cap; id++) {
        whole += live[id].size == 4 * LEAF_SIZE && live[id].count == 4;
        split += live[id].size % LEAF_SIZE == 0 && live[id].count >= 1 && live[id].count < 4 &&
                 live[id].size == live[id].count * LEAF_SIZE;
    }
    CHECK_MSG(whole == 1u << LEVELS && split == 0,
              "%u traces hold their stack's 4 blocks, %u fewer: want %u and 0", whole, split, 1u << LEVELS);
    free(live);

    /* Each thread's slot filled with its first walk's keys; its second
     * walk must still find its keys there (the slot's key filter lets
     * only keys it never took skip the probe): every leaf entry holds
     * both of its thread's blocks. */
    uint32_t leaf_entries = 0, half = 0;
    for (uint32_t s = 0; s < v.nslots; s++) {
        const lt_tslot *t = (const lt_tslot *)(v.tslots + (uint64_t)s * v.slot_size);
        for (uint32_t i = 0; i < v.entries; i++) {
            uint32_t id_plus1, epoch;
            int64_t size, count;
            if (!lt_tslot_entry_read(&t->entries[i], &id_plus1, &epoch, &size, &count) || !id_plus1 ||
                size % LEAF_SIZE || size == 0)
                continue;
            leaf_entries++;
            half += !(size == 2 * LEAF_SIZE && count == 2);
        }
    }
    CHECK_MSG(leaf_entries >= 2 * 700 && half == 0,
              "%u leaf entries in thread slots, %u without both of their thread's blocks: want >= 1400 and 0",
              leaf_entries, half);
    seg_run_end(&run);
    return check_report("test_dedupe");
}
