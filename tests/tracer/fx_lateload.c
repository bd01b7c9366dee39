/* fx_lateload: a program started WITHOUT the tracer that loads it itself
 * (dlopen, as `leaktop attach PID`'s injector does) and calls
 * leaktop_attach, then allocates: what test_lateload.py checks to the
 * byte at file:line. It also plays the frontend that asks for a detach
 * (lt_shm.h's protocol), to attach and detach in a loop while threads
 * allocate and verify their data.
 *
 *   fx_lateload MODE TRACER [PLUGIN]
 *   MODE: basic | reattach | plugin | dlmopen | preloaded | signals | cycles
 *
 * Prints "expect FILE LINE SIZE COUNT" for every line that must be in the
 * final state, "absent LINE" for lines that must not, then "ready PID";
 * waits for a line on stdin and exits 0 (the blocks still live). */
#define _GNU_SOURCE  /* dlmopen */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lt_shm.h"

static int (*attach_fn)(const char *);

static void expect(int line, size_t size, int count)
{
    printf("expect %s %d %zu %d\n", __FILE__, line, size, count);
}

static void *tracer_handle;

/* In a PIE, malloc's address is read from its GOT cell (GLOB_DAT): our
 * hook while attached, libc's malloc again after a detach. */
static void cell_check(bool ours, const char *when)
{
#ifdef __PIE__
    void *(*volatile cell)(size_t) = malloc;
    if (((void *)cell == dlsym(tracer_handle, "malloc")) != ours) {
        fprintf(stderr, "fx_lateload: %s, malloc's GOT cell %s the tracer's hook\n", when, ours ? "is not" : "is still");
        exit(12);
    }
#else
    (void)ours, (void)when;
#endif
}

static void load(const char *tracer, int how)
{
    void *h = tracer_handle = dlopen(tracer, how);
    if (!h) {
        fprintf(stderr, "fx_lateload: %s\n", dlerror());
        exit(2);
    }
    attach_fn = (int (*)(const char *))dlsym(h, LT_ATTACH_SYMBOL);
    if (!attach_fn)
        exit(2);
}

static void attach_or_die(void)
{
    int rc = attach_fn("LEAKTOP_FRAMES=16\nLEAKTOP_MAX_TRACES=4096\n");
    if (rc != 0) {
        fprintf(stderr, "fx_lateload: leaktop_attach: %s\n", strerror(rc));
        exit(3);
    }
}

#include "lateload_detach.h"

/* ---- modes ------------------------------------------------------------------------ */

static void *keep[64];
static int nkeep;

/* Blocks born before the attach are invisible: a free of one is ignored,
 * a realloc of one counts its result as new. */
static void mode_basic(void)
{
    char *pre1 = malloc(111), *pre2 = malloc(222);
    void *pre3 = malloc(333);
    strcpy(pre2, "born before");
    attach_or_die();
    int a = __LINE__ + 2;
    for (int i = 0; i < 3; i++)
        keep[nkeep++] = malloc(1001);
    free(pre1);
    int b = __LINE__ + 1;
    pre2 = realloc(pre2, 4004);
    if (strcmp(pre2, "born before") != 0)
        exit(7);
    keep[nkeep++] = pre2;
    int c = __LINE__ + 1;
    keep[nkeep++] = calloc(5, 101);
    void *gone = malloc(7777);
    free(gone);
    int d = __LINE__ + 1;
    if (posix_memalign(&keep[nkeep++], 64, 640) != 0)
        exit(7);
    int e = __LINE__ + 1;
    keep[nkeep++] = strdup("libc's malloc through its GOT");
    expect(a, 3003, 3);
    expect(b, 4004, 1);
    expect(c, 505, 1);
    expect(d, 640, 1);
#ifdef __SANITIZE_ADDRESS__
    printf("absent %d\n", e);  /* ASan's own strdup: its allocator, no malloc call */
#else
    expect(e, 30, 1);
#endif
    keep[nkeep++] = pre3;
}

/* A detach, frees and allocations while dormant, an attach again: the new
 * period counts from zero. */
static void mode_reattach(void)
{
    attach_or_die();
    cell_check(true, "attached");
    int first = __LINE__ + 2;
    for (int i = 0; i < 4; i++)
        keep[i] = malloc(2020);
    detach();
    cell_check(false, "detached");
    free(keep[0]);
    int dormant = __LINE__ + 1;
    keep[0] = malloc(3030);
    attach_or_die();
    cell_check(true, "attached again");
    free(keep[1]);  /* traced in the first period: ignored now */
    int again = __LINE__ + 1;
    keep[1] = realloc(keep[2], 5050);
    keep[2] = NULL;
    int second = __LINE__ + 1;
    keep[4] = malloc(6060);
    nkeep = 5;
    printf("absent %d\nabsent %d\n", first, dormant);
    expect(again, 5050, 1);
    expect(second, 6060, 1);
}

/* A plugin loaded after the attach calls malloc through its own GOT. */
static void mode_plugin(const char *plugin)
{
    attach_or_die();
    void *h = dlopen(plugin, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "fx_lateload: %s\n", dlerror());
        exit(2);
    }
    void *(*alloc)(size_t) = (void *(*)(size_t))dlsym(h, "lateplug_alloc");
    int (*line)(void) = (int (*)(void))dlsym(h, "lateplug_line");
    const char *(*file)(void) = (const char *(*)(void))dlsym(h, "lateplug_file");
    keep[nkeep++] = alloc(4321);
    keep[nkeep++] = alloc(4321);
    printf("expect %s %d %d %d\n", file(), line(), 8642, 2);
}

/* A plugin dlmopen'ed into a new namespace has a libc of its own: its
 * cells are left alone (lazy ones too, which point into the plugin itself
 * until bound), so its blocks never reach our hooks or the base libc. */
static void mode_dlmopen(const char *plugin)
{
    attach_or_die();
    void *h = dlmopen(LM_ID_NEWLM, plugin, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "fx_lateload: %s\n", dlerror());
        exit(2);
    }
    void *(*alloc)(size_t) = (void *(*)(size_t))dlsym(h, "lateplug_alloc");
    int (*line)(void) = (int (*)(void))dlsym(h, "lateplug_line");
    keep[nkeep++] = alloc(4321);
    printf("absent %d\n", line());
    int a = __LINE__ + 1;
    keep[nkeep++] = malloc(123);
    expect(a, 123, 1);
}

/* Preloaded: attaching again is refused, nothing is traced twice. */
static void mode_preloaded(const char *tracer)
{
    int (*fn)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, LT_ATTACH_SYMBOL);
    int rc = fn ? fn("") : -1;
    load(tracer, RTLD_NOW | RTLD_LOCAL);  /* the same object: the same answer */
    int rc2 = attach_fn("");
    printf("rc %d %d\n", rc, rc2);
    int a = __LINE__ + 1;
    keep[nkeep++] = malloc(999);
    expect(a, 999, 1);
    if (segments() != 1)
        exit(8);
}

/* ---- a handler installed before the attach ---------------------------------------- */

#define TICKS 2000

static void *ticked[TICKS];
static volatile int ticks;
static const int tick_line = __LINE__ + 7;

static void on_tick(int sig)
{
    (void)sig;
    if (ticks >= TICKS)
        return;
    ticked[ticks] = malloc(24);
    ticks++;
}

static void *ticker(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    while (ticks < TICKS) {
        int seen = ticks;
        pthread_kill(target, SIGUSR1);
        while (ticks == seen)
            sched_yield();
    }
    return NULL;
}

/* The kernel's action for SIGUSR1 (raw: libc's sigaction is ours now). */
static void *kernel_handler(void)
{
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } k;
    return syscall(SYS_rt_sigaction, SIGUSR1, NULL, &k, 8) == 0 ? k.handler : NULL;
}

/* The handler allocates while the thread it interrupts is inside malloc
 * and free: wrapped at the attach, it waits for the hook to end, and every
 * one of its blocks is counted (unwrapped, those that interrupted a hook
 * would pass untraced). The program still sees its own handler. */
static void mode_signals(void)
{
    struct sigaction sa = {.sa_handler = on_tick};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    attach_or_die();
    struct sigaction seen;
    sigaction(SIGUSR1, NULL, &seen);
    if (seen.sa_handler != on_tick || kernel_handler() == (void *)on_tick) {
        fprintf(stderr, "fx_lateload: the handler installed before the attach is not wrapped\n");
        exit(11);
    }
    pthread_t self = pthread_self(), t;
    pthread_create(&t, NULL, ticker, &self);
    while (ticks < TICKS) {
        void *volatile p = malloc(16 + (ticks & 15));
        free(p);
    }
    pthread_join(t, NULL);
    expect(tick_line, (size_t)TICKS * 24, TICKS);
}

/* ---- attach and detach in a loop under load ------------------------------------- */

#define WORKERS 4
#define CELLS   256

static volatile int stop;
static uint64_t ops[WORKERS];

/* Each cell holds a block filled with a pattern derived from its size and
 * owner; every operation checks it first. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static int intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, rnd = id * 2654435761u + 1;
    unsigned char *cell[CELLS] = {0};
    size_t len[CELLS] = {0};
    while (!stop) {
        rnd = rnd * 1103515245u + 12345u;
        unsigned k = (rnd >> 8) % CELLS;
        size_t n = 1 + (rnd >> 16) % 300;
        if (cell[k] && !intact(cell[k], len[k], k + id))
            return (void *)1;
        switch ((rnd >> 4) % 3) {
        case 0:
            free(cell[k]);
            cell[k] = malloc(n);
            break;
        case 1: {
            unsigned char *q = realloc(cell[k], n);
            if (!q)
                return (void *)1;
            if (cell[k] && !intact(q, len[k] < n ? len[k] : n, k + id))
                return (void *)1;
            cell[k] = q;
            break;
        }
        default:
            free(cell[k]);
            cell[k] = calloc(1, n);
            for (size_t i = 0; i < n; i++)
                if (cell[k][i])
                    return (void *)1;
        }
        len[k] = n;
        fill(cell[k], n, k + id);
        ops[id]++;
    }
    for (unsigned k = 0; k < CELLS; k++) {
        if (cell[k] && !intact(cell[k], len[k], k + id))
            return (void *)1;
        free(cell[k]);
    }
    return NULL;
}

static void mode_cycles(int cycles)
{
    pthread_t t[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (int c = 0; c < cycles; c++) {
        attach_or_die();
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        detach();
    }
    attach_or_die();  /* and ends attached: the program's own exit */
    stop = 1;
    int bad = 0;
    for (unsigned i = 0; i < WORKERS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad |= r != NULL;
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < WORKERS; i++)
        total += ops[i];
    printf("cycles %d ops %llu data %s\n", cycles, (unsigned long long)total, bad ? "damaged" : "intact");
    if (bad)
        exit(9);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *mode = argv[1], *tracer = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "preloaded") == 0)
        mode_preloaded(tracer);
    else
        load(tracer, RTLD_NOW | RTLD_LOCAL);
    if (strcmp(mode, "basic") == 0)
        mode_basic();
    else if (strcmp(mode, "reattach") == 0)
        mode_reattach();
    else if (strcmp(mode, "plugin") == 0 && argc > 3)
        mode_plugin(argv[3]);
    else if (strcmp(mode, "dlmopen") == 0 && argc > 3)
        mode_dlmopen(argv[3]);
    else if (strcmp(mode, "signals") == 0)
        mode_signals();
    else if (strcmp(mode, "cycles") == 0)
        mode_cycles(argc > 3 ? atoi(argv[3]) : 20);
    else if (strcmp(mode, "preloaded") != 0)
        return 2;
    printf("ready %d\n", (int)getpid());
    char line[16];
    if (strcmp(mode, "cycles") != 0 && !fgets(line, sizeof(line), stdin))
        return 10;
    return 0;
}
