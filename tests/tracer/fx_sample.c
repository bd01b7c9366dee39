/* fx_sample: known leaks for sampling mode (LEAKTOP_SAMPLE), each at its
 * own function so a lineno report gives one row per kind; test_sampling.py
 * knows every block size below and derives the estimates' spread from it.
 * Kinds: many small blocks, blocks of many sizes at one call site (one
 * trace aggregating sizes), a few huge blocks, blocks grown by realloc,
 * and churn that nets to zero. Single-threaded: one PRNG stream, so a
 * fixed LEAKTOP_SEED reproduces a run. */
#include <stdint.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *small_blocks[20000];
void *mixed_blocks[4000];
void *huge_blocks[4];
void *grown_blocks[100];
static void *volatile escape;  /* keeps -O2 from eliding malloc/free pairs */

NOINLINE void leak_small(void)
{
    for (int i = 0; i < 20000; i++)
        small_blocks[i] = malloc(64);
}

NOINLINE void leak_mixed(void)
{
    for (int i = 0; i < 4000; i++)
        mixed_blocks[i] = malloc((size_t)16 << (i % 10));
}

NOINLINE void leak_huge(void)
{
    for (int i = 0; i < 4; i++)
        huge_blocks[i] = malloc((size_t)4 << 20);
}

/* Each buffer ends as one block of 10000 bytes, charged to the realloc. */
NOINLINE void leak_grown(void)
{
    for (int i = 0; i < 100; i++) {
        char *p = NULL;
        for (int step = 1; step <= 10; step++)
            p = realloc(p, (size_t)step * 1000);
        grown_blocks[i] = p;
    }
}

/* 200000 blocks of 1..4096 bytes, each freed again: nets to zero. */
NOINLINE void churn(void)
{
    uint32_t x = 12345;
    void *window[64] = {0};
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        int k = i % 64;
        free(window[k]);
        window[k] = malloc(1 + (x >> 8) % 4096);
        escape = window[k];
    }
    for (int k = 0; k < 64; k++)
        free(window[k]);
}

int main(void)
{
    churn();
    leak_small();
    churn();
    leak_mixed();
    leak_huge();
    leak_grown();
    churn();
    return 0;
}
