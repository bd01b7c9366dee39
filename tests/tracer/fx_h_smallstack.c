/* fx_h_smallstack: threads with the smallest stack glibc allows (16 KiB,
 * PTHREAD_STACK_MIN) whose first allocation comes 8 KiB deep: natively
 * there is room to spare, and the tracer's first call on a thread (its
 * stack bounds, from /proc/self/maps through a 4 KiB buffer) must not
 * take it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define DEPTH_KB 8

static void *kept[THREADS][3];

static void __attribute__((noinline)) deep(int kb, void **mine)
{
    volatile char pad[1024];
    pad[0] = (char)kb;
    if (kb > 1) {
        deep(kb - 1, mine);
    } else {
        for (int i = 0; i < 3; i++)
            mine[i] = malloc(40); // @expect exit size_diff=480 count_diff=12
    }
    __asm__ volatile("" : : "r"(pad));
}

static void *run(void *arg)
{
    deep(DEPTH_KB, arg);
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, 16384) != 0)
        return 1;
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, run, kept[i]) != 0 || pthread_join(t, NULL) != 0)
            return 2;
    }
    printf("%d threads of 16 KiB\n", THREADS);
    return 0;
}
