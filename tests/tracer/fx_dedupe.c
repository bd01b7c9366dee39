/* fx_dedupe: 2^LEVELS distinct call stacks, each walked twice by two
 * threads at once (the same thread function: the same stacks), each leaf
 * keeping one block of LEAF_SIZE bytes, for test_dedupe. Enough stacks for
 * the tracer's dedupe table to grow several times while both threads race
 * to enter the same new stacks; the second walk looks them all up again
 * (the per-thread caches hold far fewer). Stops itself (SIGSTOP). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#define LEVELS    14
#define LEAF_SIZE 4321

static void *volatile *keep;

static void walk(int level, unsigned path, unsigned slot);

static void __attribute__((noinline)) leaf(unsigned slot)
{
    keep[slot] = malloc(LEAF_SIZE);
}

/* Two call sites a level: the path's bit picks the return address. */
static void __attribute__((noinline)) left(int level, unsigned path, unsigned slot)
{
    walk(level + 1, path, slot);
}

static void __attribute__((noinline)) right(int level, unsigned path, unsigned slot)
{
    walk(level + 1, path, slot);
}

static void __attribute__((noinline)) walk(int level, unsigned path, unsigned slot)
{
    if (level == LEVELS)
        leaf(slot);
    else if (path >> level & 1)
        right(level, path, slot);
    else
        left(level, path, slot);
}

static pthread_barrier_t start;

static void *walker(void *arg)
{
    unsigned thread = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&start);
    for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned path = 0; path < 1u << LEVELS; path++)
            walk(0, path, (thread * 2 + pass) << LEVELS | path);
    return NULL;
}

int main(void)
{
    keep = calloc(4u << LEVELS, sizeof(void *));
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (unsigned i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, walker, (void *)(uintptr_t)i))
            return 1;
    for (unsigned i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    raise(SIGSTOP);
    return 0;
}
