/* fx_h_cancel: threads with asynchronous cancellation enabled, allocating
 * in a loop, cancelled from main. A cancellation inside a hook used to
 * leave a lock of the tracer held: main's own allocations then hung. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define THREADS 4

void *kept[1000];
static __thread void *volatile sink;  /* per thread: a shared one would be freed twice */

static void *worker(void *arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    for (;;) {
        sink = malloc(32);
        free(sink);
    }
    return NULL;
}

int main(void)
{
    for (int round = 0; round < 10; round++) {
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, worker, NULL);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        for (int i = 0; i < THREADS; i++)
            pthread_cancel(t[i]);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    }
    for (int i = 0; i < 1000; i++)
        kept[i] = malloc(24); // @expect exit size_diff=24000 count_diff=1000
    printf("cancelled\n");
    return 0;
}
