/* tui_rates.c: a steady leak beside a bigger cache at its plateau, for the
 * rate sort. At start a cache of 64 entries of 16000 B (1000 KiB) fills;
 * then every 10 ms one entry is replaced (freed and allocated again: the
 * size stays flat), 1000 B leak (about 98 KiB/s, so the leak stays smaller
 * than the cache for ten seconds) and a request buffer is allocated and
 * freed (churn). Runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_ENTRIES 64
#define CACHE_ENTRY   16000
#define LEAK_BYTES    1000

static void *cache[CACHE_ENTRIES];
static void *leaked[100000];
static size_t nleaked;

__attribute__((noinline)) static void cache_put(size_t i)
{
    free(cache[i]);
    cache[i] = malloc(CACHE_ENTRY);                      /* CACHE */
    memset(cache[i], 1, CACHE_ENTRY);
}

__attribute__((noinline)) static void drip(void)
{
    if (nleaked < 100000)
        leaked[nleaked++] = malloc(LEAK_BYTES);          /* DRIP */
}

__attribute__((noinline)) static void churn(void)
{
    char *buf = malloc(4096);                            /* CHURN */
    snprintf(buf, 4096, "request %zu", nleaked);
    free(buf);
}

int main(void)
{
    for (size_t i = 0; i < CACHE_ENTRIES; i++)
        cache_put(i);
    printf("rates ready pid %d\n", (int)getpid());
    fflush(stdout);
    for (size_t tick = 0;; tick++) {
        cache_put(tick % CACHE_ENTRIES);
        drip();
        churn();
        usleep(10000);
    }
}
