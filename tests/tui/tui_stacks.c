/* tui_stacks.c: a load for measuring the live view. Keeps one block live
 * for each of 100,000 distinct stacks (five levels of ten call sites), then
 * churns: allocates and frees blocks as fast as it can on N threads
 * (argv[1], default 1), so the tracer's counters never stand still. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LEVELS 5
#define NSTACKS 100000

static void *keep[NSTACKS];

/* Each case is its own call site, so each path through the switch is a
 * distinct return-address sequence: 10^LEVELS stacks. */
__attribute__((noinline)) static void level(int depth, unsigned path, unsigned index)
{
    if (depth == LEVELS) {
        keep[index] = malloc(16 + index % 64);
        return;
    }
    unsigned digit = path % 10, rest = path / 10;
    switch (digit) {
    case 0: level(depth + 1, rest, index); break;
    case 1: level(depth + 1, rest, index); break;
    case 2: level(depth + 1, rest, index); break;
    case 3: level(depth + 1, rest, index); break;
    case 4: level(depth + 1, rest, index); break;
    case 5: level(depth + 1, rest, index); break;
    case 6: level(depth + 1, rest, index); break;
    case 7: level(depth + 1, rest, index); break;
    case 8: level(depth + 1, rest, index); break;
    default: level(depth + 1, rest, index); break;
    }
}

static unsigned long long churned;   /* blocks allocated by churn(), all threads */

static void *churn(void *arg)
{
    (void)arg;
    for (;;) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = malloc(32 + i);
        for (int i = 0; i < 64; i++)
            free(p[i]);
        __atomic_fetch_add(&churned, 64, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Prints the allocation rate once a second (it goes to leaktop's log). */
static void *rate(void *arg)
{
    (void)arg;
    unsigned long long last = 0;
    for (;;) {
        sleep(1);
        unsigned long long now = __atomic_load_n(&churned, __ATOMIC_RELAXED);
        printf("churn: %llu blocks/s\n", now - last);
        fflush(stdout);
        last = now;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    for (unsigned i = 0; i < NSTACKS; i++)
        level(0, i, i);
    printf("%d stacks live; churning on %d thread(s)\n", NSTACKS, threads);
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, rate, NULL);
    for (int i = 1; i < threads; i++)
        pthread_create(&t, NULL, churn, NULL);
    if (threads > 0)
        churn(NULL);
    for (;;)
        pause();
}
