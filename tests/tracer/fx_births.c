/* fx_births: blocks with exactly known birth epochs, for test_births.
 * Stops itself (SIGSTOP) at two points so the test reads the segment:
 *   epoch 0: A = 10 x 100 B; a thread starts and waits.
 *   mark 1 -> epoch 1: B = 5 x 200 B; A[0..3] freed; A[9] realloc'd to 300 B.
 *   mark 2 -> epoch 2: D = 3 x 50 B; B[0..1] freed; the thread allocates
 *            E = 4 x 64 B, main frees two of them (parts in two slots).
 *   mark 3 -> epoch 3: stop.
 *   then LOOP times: 8 B leaked and 16 B churned at epoch 3 + i, a mark:
 *            more (trace, epoch) keys than a thread slot holds; stop.
 * No stdio: nothing but these blocks is born after mark 1. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <leaktop.h>

#define LOOP 1000

static void *volatile keep[LOOP + 64];
static int to_thread[2], from_thread[2];
static void *e_blocks[4];

static void *thread_main(void *arg)
{
    (void)arg;
    char c;
    if (read(to_thread[0], &c, 1) != 1)
        return NULL;
    for (int i = 0; i < 4; i++)
        e_blocks[i] = malloc(64);
    if (write(from_thread[1], "e", 1) != 1)
        return NULL;
    while (read(to_thread[0], &c, 1) == 1)  /* stays alive: its slot stays owned */
        ;
    return NULL;
}

static void __attribute__((noinline)) leak8(int i) { keep[64 + i] = malloc(8); }
static void __attribute__((noinline)) churn16(void) { void *volatile q = malloc(16); free(q); }

int main(void)
{
    void *a[10], *b[5], *d[3];
    char c;
    if (pipe(to_thread) || pipe(from_thread))
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL))
        return 1;
    for (int i = 0; i < 10; i++)
        a[i] = malloc(100);
    leaktop_mark("m1");
    for (int i = 0; i < 5; i++)
        b[i] = malloc(200);
    for (int i = 0; i < 4; i++)
        free(a[i]);
    a[9] = realloc(a[9], 300);
    leaktop_mark("m2");
    for (int i = 0; i < 3; i++)
        d[i] = malloc(50);
    free(b[0]);
    free(b[1]);
    if (write(to_thread[1], "go", 1) != 1 || read(from_thread[0], &c, 1) != 1)
        return 1;
    free(e_blocks[0]);
    free(e_blocks[1]);
    leaktop_mark("m3");
    keep[0] = a, keep[1] = b, keep[2] = d;
    raise(SIGSTOP);
    for (int i = 0; i < LOOP; i++) {
        leak8(i);
        churn16();
        leaktop_mark("loop");
    }
    raise(SIGSTOP);
    return 0;
}
