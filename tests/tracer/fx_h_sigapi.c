/* fx_h_sigapi: what a program sees of its own signal handlers must not
 * change under the tracer (sigaction and signal give back the program's
 * functions and flags), and a one-shot SA_RESETHAND|SA_NODEFER handler
 * that lands inside malloc still runs exactly once. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *kept[10];
void *volatile sink;
static volatile int shots, seen_usr1;

static void one_shot(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    kept[shots++] = malloc(17); // @expect exit size_diff=17 count_diff=1
}

static void plain(int sig)
{
    (void)sig;
    seen_usr1++;
}

static void *sender(void *arg)
{
    pthread_kill(*(pthread_t *)arg, SIGUSR2);
    return NULL;
}

int main(void)
{
    int bad = 0;
    if (signal(SIGUSR1, plain) != SIG_DFL || signal(SIGUSR1, plain) != plain)
        bad |= 1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = one_shot;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR2, &sa, NULL);
    if (sigaction(SIGUSR2, NULL, &old) != 0 || old.sa_sigaction != one_shot ||
        !(old.sa_flags & SA_RESETHAND) || !sigismember(&old.sa_mask, SIGTERM))
        bad |= 2;
    raise(SIGUSR1);
    pthread_t self = pthread_self(), t;
    for (unsigned i = 0; i < 1000; i++) {
        sink = malloc(100 + i % 100);
        free(sink);
    }
    pthread_create(&t, NULL, sender, &self);
    for (unsigned i = 0; shots == 0; i++) {
        sink = malloc(100 + i % 100); // @absent exit
        free(sink);
    }
    pthread_join(t, NULL);
    if (sigaction(SIGUSR2, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        bad |= 4;  /* the one shot is spent */
    if (shots != 1 || seen_usr1 != 1)
        bad |= 8;
    printf("sigapi %d\n", bad);
    return bad;
}
