/* bench_live: the cost of a malloc/free pair against the size of the live set.
 *   bench_live LIVE PAIRS [fifo|random]
 * Fills LIVE blocks of 16-80 bytes, then makes PAIRS pairs, each freeing
 * one live block and allocating its replacement: the oldest one (fifo: a
 * queue, the way a cache or an interpreter's objects turn over, so the
 * heap is walked in address order) or one picked at random (random: every
 * free a cache miss in the heap itself). Prints the churn phase's CPU
 * time per pair (the machine may be shared), the fill excluded, so the
 * curve over LIVE shows what a traced call costs once LIVE blocks are
 * known to the tracer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    long live = argc > 1 ? atol(argv[1]) : 1000000;
    long pairs = argc > 2 ? atol(argv[2]) : 2000000;
    int random_victim = argc > 3 && strcmp(argv[3], "random") == 0;
    if (live < 1 || pairs < 0) {
        fprintf(stderr, "usage: bench_live LIVE PAIRS [fifo|random]\n");
        return 2;
    }
    void **blocks = malloc(sizeof(void *) * (size_t)live);
    if (!blocks)
        return 1;
    for (long i = 0; i < live; i++)
        blocks[i] = malloc(16 + (size_t)(next_rand() % 65));
    double t0 = now_s();
    long oldest = 0;
    for (long i = 0; i < pairs; i++) {
        long j = random_victim ? (long)(next_rand() % (uint64_t)live) : oldest;
        free(blocks[j]);
        blocks[j] = malloc(16 + (size_t)(next_rand() % 65));
        if (++oldest == live)
            oldest = 0;
    }
    double churn = now_s() - t0;
    printf("bench_live: %ld live, %ld pairs (%s): %.1f ns/pair\n", live, pairs,
           random_victim ? "random" : "fifo", pairs ? churn * 1e9 / (double)pairs : 0.0);
    for (long i = 0; i < live; i++)
        free(blocks[i]);
    free(blocks);
    return 0;
}
