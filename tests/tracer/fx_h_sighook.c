/* fx_h_sighook: a signal handler that allocates and frees, sent again and
 * again while the thread it interrupts is inside malloc and free: 20,000
 * handler blocks of 24 B must be counted exactly, and the handler's
 * allocate-then-free must leave nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKS 20000

void *kept[TICKS];
void *volatile sink;
static volatile int ticks;
static volatile int done;

static void on_signal(int sig)
{
    (void)sig;
    if (ticks >= TICKS)
        return;
    void *t = malloc(40); // @absent exit
    kept[ticks] = malloc(24); // @expect exit size_diff=480000 count_diff=20000
    free(t);
    ticks++;
}

static void *sender(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    while (ticks < TICKS) {
        int seen = ticks;
        pthread_kill(target, SIGUSR1);
        while (ticks == seen)
            sched_yield();
    }
    done = 1;
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    /* Sizes apart from the handler's, and warmed up first: natively the
     * loop then only ever touches glibc's per-thread cache, never a lock
     * the handler's own malloc could wait for. */
    for (unsigned i = 0; i < 1000; i++) {
        sink = malloc(100 + i % 100); // @absent exit
        free(sink);
    }
    pthread_t self = pthread_self(), t;
    pthread_create(&t, NULL, sender, &self);
    for (unsigned i = 0; !done; i++) {
        sink = malloc(100 + i % 100); // @absent exit
        free(sink);
    }
    pthread_join(t, NULL);
    printf("%d handler calls\n", ticks);
    return 0;
}
