/* fx_dormant: a traced parent with a known leak and children that inherit
 * the tracer but are not traced: a fork child, and a child exec'd with
 * LD_PRELOAD kept (under the launcher LEAKTOP_PID is the parent's; with
 * `child` as argument the program is that child). Each child runs the
 * whole allocation API on two threads, checks every result, leaks, and
 * exits 0 only when all was right; the parent exits 0 only when both
 * children did. test_dormant.py checks that the parent's report holds
 * its leak alone. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define BIG (64 << 10)

void *parent_blocks[10];
void *child_blocks[2][100];
static int bad;
static volatile size_t too_many = SIZE_MAX;  /* volatile: gcc would warn of it */

static void expect(int ok, const char *what)
{
    if (!ok && __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED) < 5)
        fprintf(stderr, "fx_dormant[%d]: %s\n", (int)getpid(), what);
}

NOINLINE void parent_leak(void)
{
    for (int i = 0; i < 10; i++)
        parent_blocks[i] = memset(malloc(BIG), 1, BIG);
}

static void *child_work(void *arg)
{
    int t = (int)(intptr_t)arg;
    uint32_t x = 99u + (uint32_t)t;
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        size_t n = 1 + (x >> 8) % 4096;
        unsigned char *p = malloc(n);
        memset(p, 7, n);
        p = realloc(p, 2 * n);
        expect(p && p[n - 1] == 7, "realloc lost contents");
        p = reallocarray(p, n, 3);
        expect(p && p[n - 1] == 7, "reallocarray lost contents");
        free(p);
        unsigned char *z = calloc(n, 2);
        expect(z && z[0] == 0 && z[2 * n - 1] == 0, "calloc not zeroed");
        free(z);
        void *a = NULL;
        expect(posix_memalign(&a, 64, n) == 0 && ((uintptr_t)a & 63) == 0, "posix_memalign");
        free(a);
        a = aligned_alloc(256, 512);
        expect(a && ((uintptr_t)a & 255) == 0, "aligned_alloc");
        free(a);
        a = memalign(4096, n);
        expect(a && ((uintptr_t)a & 4095) == 0, "memalign");
        free(a);
        free(realloc(NULL, n));
        expect(realloc(malloc(n), 0) == NULL, "realloc(p, 0)");
        errno = 0;
        expect(reallocarray(NULL, too_many, 2) == NULL && errno == ENOMEM, "reallocarray overflow");
    }
    for (int i = 0; i < 100; i++)
        child_blocks[t][i] = malloc(BIG);  /* leaked: never the parent's */
    return NULL;
}

static int child_main(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, child_work, (void *)1) != 0)
        return 2;
    child_work((void *)0);
    pthread_join(th, NULL);
    return bad ? 1 : 0;
}

static int waited(pid_t pid)
{
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_main();
    parent_leak();
    pid_t forked = fork();
    if (forked == 0)
        _exit(child_main());
    int ok = waited(forked);
    pid_t execd = fork();
    if (execd == 0) {
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        _exit(127);
    }
    ok &= waited(execd);
    if (!ok)
        fprintf(stderr, "fx_dormant: a child failed\n");
    return ok ? 0 : 1;
}
