/* bench_alloc: an allocation-heavy loop for side-by-side timing.
 *   bench_alloc THREADS PAIRS [MIN_DEPTH MAX_DEPTH SIZE RETAIN_PERMILLE]
 * Each thread makes PAIRS malloc/free pairs from stacks MIN..MAX_DEPTH
 * frames deep; RETAIN_PERMILLE of every thousand blocks are kept. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long pairs = 2000000;
static int min_depth = 12, max_depth = 16;
static size_t block = 64;
static int retain = 10;  /* per mille: 1% */
void *volatile sink;

__attribute__((noinline)) static void *leaf(long i, void **kept, long *nkept)
{
    void *p = malloc(block + (size_t)(i & 31));
    sink = p;
    if (i % 1000 < retain)
        kept[(*nkept)++] = p;
    else
        free(p);
    return p;
}

/* Recursion that the compiler cannot flatten: every level is a real frame. */
__attribute__((noinline)) static void *descend(int depth, long i, void **kept, long *nkept)
{
    void *r = depth <= 1 ? leaf(i, kept, nkept) : descend(depth - 1, i, kept, nkept);
    sink = r;
    return r;
}

static void *run(void *arg)
{
    (void)arg;
    void **kept = malloc(sizeof(void *) * (size_t)(pairs / 1000 * (retain + 1) + 1));
    long nkept = 0;
    int span = max_depth - min_depth + 1;
    for (long i = 0; i < pairs; i++)
        descend(min_depth + (int)(i % span), i, kept, &nkept);
    return (void *)nkept;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2) pairs = atol(argv[2]);
    if (argc > 4) { min_depth = atoi(argv[3]); max_depth = atoi(argv[4]); }
    if (argc > 5) block = (size_t)atol(argv[5]);
    if (argc > 6) retain = atoi(argv[6]);
    if (threads < 1 || threads > 64 || min_depth < 1 || max_depth < min_depth) {
        fprintf(stderr, "usage: bench_alloc THREADS PAIRS [MIN_DEPTH MAX_DEPTH SIZE RETAIN_PERMILLE]\n");
        return 2;
    }
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, NULL);
    long kept = 0;
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(t[i], &r);
        kept += (long)r;
    }
    printf("bench_alloc: %d thread(s), %ld pairs each, %ld blocks kept\n", threads, pairs, kept);
    return 0;
}
