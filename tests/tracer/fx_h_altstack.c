/* fx_h_altstack [BYTES]: handlers on an alternate signal stack (itself a
 * heap block, 64 KiB or BYTES: 8192 is SIGSTKSZ as programs long
 * hard-coded it) that allocate, raised by the program and sent by a
 * thread while the program is inside malloc and free. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKS 2000

void *kept[TICKS];
void *volatile sink;
static volatile int ticks;

static void on_signal(int sig)
{
    (void)sig;
    if (ticks < TICKS)
        kept[ticks++] = malloc(72); // @expect exit size_diff=144000 count_diff=2000
}

static void *sender(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    while (ticks < TICKS) {
        int seen = ticks;
        pthread_kill(target, SIGUSR2);
        while (ticks == seen)
            sched_yield();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    size_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 1 << 16;
    stack_t ss = {.ss_sp = malloc(size), .ss_size = size};
    if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    for (int i = 0; i < TICKS / 2; i++)
        raise(SIGUSR2);
    for (unsigned i = 0; i < 1000; i++) {
        sink = malloc(100 + i % 100);
        free(sink);
    }
    pthread_t self = pthread_self(), t;
    pthread_create(&t, NULL, sender, &self);
    for (unsigned i = 0; ticks < TICKS; i++) {
        sink = malloc(100 + i % 100); // @absent exit
        free(sink);
    }
    pthread_join(t, NULL);
    printf("%d handler calls\n", ticks);
    return 0;
}
