/* fx_granules: blocks where glibc never puts them, for test_granules.
 * Linked with fx_galloc (the allocator the tracer forwards to), which
 * returns the addresses this program picks: a block at every offset of a
 * 32-byte granule, two and four live blocks in one granule, sizes at the
 * live-block table's 24-bit boundary (16 MiB - 1, 16 MiB, 16 MiB + 1),
 * frees of addresses in taken granules that were never given out, an
 * address given out again after its block was freed, and blocks born at
 * every epoch up to LT_EPOCH_MAX (and past it: the epoch stays there),
 * some freed after many more marks, and enough crowded granules that
 * every shard of the spill table grows (its first table is a slice of a
 * mapping all shards share). It keeps its own count of the live
 * bytes and blocks per birth epoch, writes it to stdout (raw: a uint32_t
 * of misplaced blocks, then int64_t size[] and count[] of LT_EPOCH_MAX + 1
 * epochs) and stops itself (SIGSTOP). Nothing else allocates after the
 * first mark (no stdio). */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <leaktop.h>

#include "lt_shm.h"

void *fxg_area(size_t bytes);
void  fxg_next(void *at);

#define EPOCHS   (LT_EPOCH_MAX + 1)
#define MIB      ((size_t)1 << 20)
#define BOUNDARY ((size_t)1 << 24)

static struct {
    uint32_t misplaced;
    int64_t  size[EPOCHS], count[EPOCHS];
} want;
static uint32_t epoch;  /* marks so far, as the tracer counts them (capped) */

typedef struct block {
    void    *p;
    size_t   size;
    uint32_t born;
} block;

static block place(uint8_t *at, size_t size)
{
    fxg_next(at);
    void *p = malloc(size);
    want.misplaced += p != at;
    want.size[epoch] += (int64_t)size;
    want.count[epoch]++;
    return (block){p, size, epoch};
}

static void drop(block *b)
{
    free(b->p);
    want.size[b->born] -= (int64_t)b->size;
    want.count[b->born]--;
    b->p = NULL;
}

/* free() of an address nobody gave out (fx_galloc ignores it; the tracer
 * must find no block there). Through a volatile pointer: the compiler
 * knows it is no heap block's start. */
static void free_unseen(uint8_t *at)
{
    void *volatile p = at;
    free(p);
}

static void mark(void)
{
    leaktop_mark("granules");
    if (epoch < LT_EPOCH_MAX)
        epoch++;
}

static void write_all(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n <= 0)
            _exit(3);
        p += n;
        len -= (size_t)n;
    }
}

#define PACKED 200000  /* crowded granules: ~780 spilled blocks a shard, past half of its 1024 */

static block offsets[32], crowded[6], edge[4], keep[EPOCHS], churn[EPOCHS];
static block packed[PACKED][2];

int main(void)
{
    mark();  /* epoch 1: nothing of ours is born at 0 (libc's start-up is) */
    uint8_t *a = fxg_area(64 * 32 + 4096);
    for (int k = 0; k < 32; k++)          /* one block at each offset of a granule */
        offsets[k] = place(a + 64 * k + k, 1 + 3 * (size_t)k);
    uint8_t *g = a + 64 * 32, *h = g + 32;
    crowded[0] = place(g, 8);            /* four in one granule: the first in the shadow */
    crowded[1] = place(g + 8, 8);
    crowded[2] = place(g + 16, 16);
    crowded[3] = place(g + 24, 8);
    crowded[4] = place(h + 31, 1);       /* the granule's last byte first */
    crowded[5] = place(h + 1, 30);
    uint8_t *big = fxg_area(3 * 17 * MIB + 4096);
    edge[0] = place(big, BOUNDARY - 1);
    edge[1] = place(big + 17 * MIB + 8, BOUNDARY);
    edge[2] = place(big + 34 * MIB + 24, BOUNDARY + 1);
    edge[3] = place(big + 51 * MIB + 31, BOUNDARY - 1);

    mark();  /* epoch 2 */
    for (int k = 1; k < 32; k += 2)
        drop(&offsets[k]);
    drop(&crowded[0]);                   /* the shadow's holder goes, spilled ones stay */
    drop(&crowded[2]);
    free_unseen(a + 16);                 /* never given out, in taken granules: */
    free_unseen(g + 4);                  /* nothing to take */
    free_unseen(h + 2);
    crowded[0] = place(g, 24);           /* the address again: the shadow's now */
    crowded[2] = place(g + 16, 16);      /* and spilled again */
    drop(&edge[0]);
    drop(&edge[1]);
    fxg_next(h + 17);                    /* realloc into a taken granule */
    void *moved = realloc(offsets[2].p, 40);
    want.misplaced += moved != h + 17;
    want.size[offsets[2].born] -= (int64_t)offsets[2].size;
    want.count[offsets[2].born]--;
    offsets[2] = (block){moved, 40, epoch};
    want.size[epoch] += 40;
    want.count[epoch]++;

    uint8_t *pk = fxg_area(32 * (size_t)PACKED);
    for (size_t i = 0; i < PACKED; i++) {  /* the second of each pair spills */
        packed[i][0] = place(pk + 32 * i, 8);
        packed[i][1] = place(pk + 32 * i + 16, 16);
    }
    for (size_t i = 0; i < PACKED; i += 3)  /* and some go from the grown tables */
        drop(&packed[i][1]);

    uint8_t *e = fxg_area(64 * EPOCHS * 2);
    while (epoch < LT_EPOCH_MAX) {       /* a kept and a churned block born at each epoch */
        mark();
        keep[epoch] = place(e + 128 * epoch + epoch % 32, epoch);
        churn[epoch] = place(e + 128 * epoch + 64 + (epoch * 7) % 32, 2 * (size_t)epoch + 1);
    }
    mark();                              /* past the limit: the epoch stays */
    mark();
    drop(&keep[LT_EPOCH_MAX]);
    keep[LT_EPOCH_MAX] = place(e + 128 * LT_EPOCH_MAX + 5, 77);
    for (uint32_t i = 3; i < EPOCHS; i++)
        drop(&churn[i]);
    drop(&crowded[1]);
    drop(&edge[2]);

    write_all(&want, sizeof(want));
    raise(SIGSTOP);
    return 0;
}
