/* test_granules: the live-block table keeps every block exactly, whatever
 * its place in a 32-byte granule, its size and its birth epoch: fx_granules
 * (blocks at every offset, several in one granule, sizes at the shadow
 * entry's 24-bit boundary, epochs up to LT_EPOCH_MAX, frees of addresses
 * never given out) counts its own live bytes and blocks per birth epoch;
 * the segment's live (trace, epoch) parts must equal them, epoch by epoch.
 * Usage: test_granules TRACER FIXTURE */
#include <signal.h>

#include "check.h"
#include "segread.h"

#define EPOCHS (LT_EPOCH_MAX + 1)

typedef struct counts {
    uint32_t misplaced;
    int64_t  size[EPOCHS], count[EPOCHS];
} counts;

static void counts_add(void *ctx, uint32_t id, uint32_t epoch, int64_t size, int64_t count)
{
    (void)id;
    counts *c = ctx;
    if (epoch >= EPOCHS) {
        c->misplaced++;  /* an epoch no block can have */
        return;
    }
    c->size[epoch] += size;
    c->count[epoch] += count;
}

static bool read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_granules TRACER FIXTURE\n");
        return 2;
    }
    int out[2];
    if (pipe(out) != 0)
        return 2;
    seg_run run;
    bool started = seg_run_start(&run, argv[1], argv[2], out[1]);  /* its count fits the pipe */
    close(out[1]);
    static counts want, got;
    CHECK(read_all(out[0], &want, sizeof(want)));
    if (!started) {
        CHECK_MSG(false, "the fixture did not stop with a segment");
        return check_report("test_granules");
    }
    const uint8_t *seg = run.seg;
    const lt_shm_header *h = (const lt_shm_header *)seg;
    CHECK_INT(h->version, LT_SHM_VERSION);
    CHECK_INT(want.misplaced, 0);        /* the allocator put every block where asked */
    CHECK_INT(h->epoch, LT_EPOCH_MAX);
    CHECK_INT(h->pairs_lost, 0);         /* every part of epoch >= 1 is in a slot or the pair table */
    seg_live_each(seg, counts_add, &got);
    CHECK_INT(got.misplaced, 0);
    int bad = 0;
    for (uint32_t e = 1; e < EPOCHS; e++) {  /* epoch 0 holds libc's own start-up blocks */
        if (got.size[e] == want.size[e] && got.count[e] == want.count[e])
            continue;
        if (bad++ < 10)
            fprintf(stderr, "epoch %u: %lld B in %lld blocks, the fixture holds %lld B in %lld\n", e,
                    (long long)got.size[e], (long long)got.count[e], (long long)want.size[e],
                    (long long)want.count[e]);
    }
    CHECK_MSG(bad == 0, "%d of %d epochs differ from the fixture's own count", bad, EPOCHS - 1);
    CHECK(want.count[1] > 0 && want.count[LT_EPOCH_MAX] > 0);  /* the fixture did make them */
    seg_run_end(&run);
    return check_report("test_granules");
}
