/* fx_sample_realloc: realloc and reallocarray in sampling mode, where a
 * call passes untraced when neither its old block nor its new one is
 * sampled. test_sample_realloc.py runs it with LEAKTOP_SAMPLE=1K: blocks
 * of BIG bytes are then sampled for sure (p = 1 - exp(-64), weight 1 in a
 * double), so every figure below is known exactly but the few SMALL
 * blocks the countdown picks. Each kind at its own function (one report
 * row each); single-threaded, so LEAKTOP_SEED reproduces a run. Exits 1
 * when a call's result is wrong (contents, errno). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define BIG   (64 << 10)  /* below glibc's mmap threshold: heap chunks */
#define SMALL 16
/* realloc fails: the old block stays (volatile: gcc would warn of it) */
static volatile size_t huge = (size_t)PTRDIFF_MAX + 1;

void *grown[64], *shrunk[100], *kept[20], *kept_small[100], *fresh[100];
static void *volatile escape;
static int bad;

static void expect(int ok, const char *what)
{
    if (!ok && bad++ < 5)
        fprintf(stderr, "fx_sample_realloc: %s\n", what);
}

/* 64 chains grown 16 B -> BIG by doubling, in lockstep so blocks move;
 * every other one by reallocarray. Ends as 64 blocks of BIG. */
NOINLINE void grow(void)
{
    for (size_t s = 16; s <= BIG; s *= 2) {
        for (int i = 0; i < 64; i++) {
            unsigned char *p = (i & 1) ? reallocarray(grown[i], s / 16, 16) : realloc(grown[i], s);
            expect(p != NULL, "grow: realloc failed");
            if (!p)
                continue;
            expect(s == 16 || p[s / 2 - 1] == (unsigned char)(i + s / 2), "grow: contents lost");
            memset(p, (unsigned char)(i + s), s);
            grown[i] = p;
        }
    }
}

/* A sampled block shrunk in place: the full path must take the BIG
 * block off its counters. Ends as 100 blocks of SMALL. */
NOINLINE void shrink(void)
{
    for (int i = 0; i < 100; i++) {
        char *p = malloc(BIG);
        memset(p, 'a' + i % 26, BIG);
        shrunk[i] = realloc(p, SMALL);
        expect(shrunk[i] && ((char *)shrunk[i])[SMALL - 1] == 'a' + i % 26, "shrink: contents lost");
    }
}

/* A realloc that fails keeps its old block, sampled (BIG) or not. */
NOINLINE void keep(void)
{
    for (int i = 0; i < 20; i++) {
        kept[i] = malloc(BIG);
        errno = 0;
        expect(realloc(kept[i], huge) == NULL && errno == ENOMEM, "keep: huge realloc did not fail");
        expect(reallocarray(kept[i], huge, 2) == NULL && errno == ENOMEM, "keep: reallocarray did not fail");
    }
    for (int i = 0; i < 100; i++) {
        kept_small[i] = malloc(SMALL);
        errno = 0;
        expect(realloc(kept_small[i], huge) == NULL && errno == ENOMEM, "keep: huge realloc did not fail");
    }
}

/* realloc(p, 0) frees p (glibc returns NULL): nothing is left. */
NOINLINE void zero(void)
{
    for (int i = 0; i < 50; i++)
        escape = realloc(malloc(BIG), 0);
    for (int i = 0; i < 100; i++)
        escape = realloc(malloc(SMALL), 0);
}

/* realloc(NULL, n) is malloc(n). Ends as 100 blocks of SMALL. */
NOINLINE void fresh_blocks(void)
{
    for (int i = 0; i < 100; i++)
        fresh[i] = realloc(NULL, SMALL);
}

/* 20000 blocks of 1..512 bytes each reallocated to 1..2048 and freed:
 * sampled and unsampled at either end, nets to zero. */
NOINLINE void churn(void)
{
    uint32_t x = 777;
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        char *p = malloc(1 + (x >> 8) % 512);
        p[0] = 'c';
        x = x * 1103515245u + 12345u;
        p = realloc(p, 1 + (x >> 8) % 2048);
        expect(p && p[0] == 'c', "churn: contents lost");
        escape = p;
        free(p);
    }
}

int main(void)
{
    churn();
    grow();
    shrink();
    keep();
    zero();
    fresh_blocks();
    churn();
    return bad ? 1 : 0;
}
