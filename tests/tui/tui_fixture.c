/* tui_fixture.c: a program whose allocations the TUI tests control.
 * At start: 100 blocks of 10000 B (the largest live line), 50 blocks of
 * 1000 B (freed later), 10 blocks of 100 B. On SIGUSR1: marks "before-leak",
 * then leaks 200 blocks of 256 B in leak_blocks() (called from
 * on_trigger()) and frees the 50 blocks of 1000 B. On SIGUSR2: exits 0.
 * Prints a line per event. Every 5 ms it makes one allocation call that
 * fails (and so changes no figure), as a busy program would make calls:
 * the tracer serves `leaktop mark PID` requests at such calls. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "leaktop.h"

static volatile sig_atomic_t triggered, quit;

static void on_usr1(int sig) { (void)sig; triggered = 1; }
static void on_usr2(int sig) { (void)sig; quit = 1; }

static void *big[100], *freeable[50], *small[10];
static void *leaked[100000];
static size_t nleaked;

__attribute__((noinline)) static void leak_blocks(size_t n, size_t size)
{
    for (size_t i = 0; i < n && nleaked < 100000; i++)
        leaked[nleaked++] = malloc(size);               /* THE LEAK */
}

/* An allocation call that fails: the tracer takes pending mark requests
 * in it, and nothing is counted. */
__attribute__((noinline)) static void poke_tracer(void)
{
    volatile size_t huge = SIZE_MAX;
    void *p = malloc(huge);
    free(p);
}

__attribute__((noinline)) static void on_trigger(void)
{
    leaktop_mark("before-leak");
    leak_blocks(200, 256);                              /* CALL SITE */
    for (int i = 0; i < 50; i++) {
        free(freeable[i]);
        freeable[i] = NULL;
    }
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    for (int i = 0; i < 100; i++)
        big[i] = malloc(10000);                         /* BIG LINE */
    for (int i = 0; i < 50; i++)
        freeable[i] = malloc(1000);                     /* FREEABLE */
    for (int i = 0; i < 10; i++)
        small[i] = malloc(100);
    printf("fixture ready pid %d\n", (int)getpid());
    fflush(stdout);
    while (!quit) {
        if (triggered) {
            triggered = 0;
            on_trigger();
            printf("triggered: leaked 200 x 256 B\n");
            fflush(stdout);
        }
        poke_tracer();
        usleep(5000);
    }
    printf("fixture exiting\n");
    return 0;
}
