/* test_births: the tracer's birth epochs and its per-(trace, epoch)
 * counters, read straight from the segment as any reader must (lt_shm.h):
 * every ring slot's births and the live parts equal what fx_births made,
 * to the byte and block, per epoch; across threads (parts of one key in
 * two slots), realloc (born again), more keys than a thread slot holds
 * (the shared pair table), and after SIGKILL.
 * Usage: test_births TRACER FIXTURE */
#include <signal.h>

#include "check.h"
#include "segread.h"

#define LOOP   1000   /* more keys than a thread slot holds, fewer than LT_EPOCH_MAX */
#define EPOCHS (LOOP + 8)

typedef struct sums {
    int64_t size[EPOCHS], count[EPOCHS];
    int64_t beyond;   /* parts of epochs past EPOCHS */
} sums;

static void sums_add(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count)
{
    (void)id;
    sums *s = ctx;
    if (epoch >= EPOCHS) {
        s->beyond++;
        return;
    }
    s->size[epoch] += size;
    s->count[epoch] += count;
}

static void live_sums(const uint8_t *seg, sums *out)
{
    memset(out, 0, sizeof(*out));
    seg_live_each(seg, sums_add, out);
}

static const lt_slot *slot_of(const uint8_t *seg, uint64_t snap_no)
{
    const lt_shm_header *h = (const lt_shm_header *)seg;
    return (const lt_slot *)(seg + h->ring_off + (snap_no - 1) % h->ring_slots * h->ring_slot_size);
}

static void slot_sums(const uint8_t *seg, uint64_t snap_no, sums *out)
{
    const lt_shm_header *h = (const lt_shm_header *)seg;
    const lt_slot *s = slot_of(seg, snap_no);
    memset(out, 0, sizeof(*out));
    CHECK_INT(s->snap_no, snap_no);
    CHECK(s->nbirths != LT_BIRTHS_UNKNOWN && s->nbirths <= h->ring_births_cap);
    const lt_tslot_entry *b = (const lt_tslot_entry *)((const uint8_t *)s + h->ring_births_off);
    for (uint32_t i = 0; s->nbirths != LT_BIRTHS_UNKNOWN && i < s->nbirths; i++) {
        CHECK(b[i].epoch >= 1 && b[i].id_plus1 >= 1);
        sums_add(out, b[i].id_plus1 - 1, b[i].epoch, b[i].size, b[i].count);
    }
}

/* What fx_births holds after mark 3, per epoch >= 1. */
static void check_after_m3(const sums *s, const char *what)
{
    CHECK_MSG(s->size[1] == 900 && s->count[1] == 4, "%s: epoch 1 %lld B %lld blocks, want 900 B 4 blocks", what,
              (long long)s->size[1], (long long)s->count[1]);
    CHECK_MSG(s->size[2] == 278 && s->count[2] == 5, "%s: epoch 2 %lld B %lld blocks, want 278 B 5 blocks", what,
              (long long)s->size[2], (long long)s->count[2]);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_births TRACER FIXTURE\n");
        return 2;
    }
    seg_run run;
    if (!seg_run_start(&run, argv[1], argv[2], -1)) {
        CHECK_MSG(false, "the fixture did not stop with a segment");
        return check_report("test_births");
    }
    const uint8_t *seg = run.seg;
    const lt_shm_header *h = (const lt_shm_header *)seg;
    CHECK_INT(h->version, LT_SHM_VERSION);
    /* The epoch stops at its limit: a baseline past it is refused. */
    uint32_t e = LT_EPOCH_MAX - 1;
    CHECK_INT(lt_epoch_bump(&e), LT_EPOCH_MAX);
    CHECK_INT(lt_epoch_bump(&e), LT_EPOCH_NONE);
    CHECK_INT(e, LT_EPOCH_MAX);
    CHECK_INT(h->ring_head, 3);
    CHECK_INT(h->epoch, 3);

    sums s;
    slot_sums(seg, 1, &s);   /* everything then was born at epoch 0 */
    CHECK_INT(slot_of(seg, 1)->epoch, 1);
    for (int e = 1; e < EPOCHS; e++)
        CHECK(s.size[e] == 0 && s.count[e] == 0);
    slot_sums(seg, 2, &s);   /* B and the realloc'd block, born at epoch 1 */
    CHECK_INT(slot_of(seg, 2)->epoch, 2);
    CHECK_MSG(s.size[1] == 1300 && s.count[1] == 6, "mark 2: epoch 1 %lld B %lld blocks, want 1300 B 6 blocks",
              (long long)s.size[1], (long long)s.count[1]);
    slot_sums(seg, 3, &s);
    CHECK_INT(slot_of(seg, 3)->epoch, 3);
    check_after_m3(&s, "mark 3");
    live_sums(seg, &s);
    check_after_m3(&s, "live after mark 3");
    for (int e = 3; e < EPOCHS; e++)
        CHECK(s.size[e] == 0 && s.count[e] == 0);

    kill(run.pid, SIGCONT);
    CHECK(seg_stopped(run.pid));
    CHECK_INT(h->epoch, 3 + LOOP);
    CHECK(h->pairs_ready);   /* the main thread's slot could not hold them all */
    CHECK_INT(h->pairs_lost, 0);
    kill(run.pid, SIGKILL);  /* the counters outlive the program */
    waitpid(run.pid, NULL, 0);
    live_sums(seg, &s);
    check_after_m3(&s, "live after the loop, program killed");
    int bad = 0;
    for (int e = 3; e < 3 + LOOP; e++)
        bad += s.size[e] != 8 || s.count[e] != 1;
    CHECK_MSG(bad == 0, "%d of %d loop epochs do not hold exactly their 8 B block", bad, LOOP);
    CHECK_INT(s.beyond, 0);
    slot_sums(seg, 3 + LOOP, &s);   /* the last mark: taken after the last 8 B block */
    check_after_m3(&s, "last mark");
    bad = 0;
    for (int e = 3; e < 3 + LOOP; e++)
        bad += s.size[e] != 8 || s.count[e] != 1;
    CHECK_MSG(bad == 0, "last mark: %d of %d loop epochs wrong", bad, LOOP);
    seg_run_end(&run);
    return check_report("test_births");
}
