/* fx_stress: what a host program does to a tracer — threads starting and
 * exiting while they allocate, forks from several threads at once whose
 * children allocate and exec, realloc/memalign edge cases, dlopen/dlclose
 * in a loop — and the exact leaks that must survive it all. */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <leaktop.h>

#define THREADS 8
#define ROUNDS 40
#define FORKERS 4

void *leaked[THREADS * ROUNDS];
void *escape;
static int failures;

static void fail(const char *what)
{
    fprintf(stderr, "fx_stress: %s\n", what);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
    long slot = (long)arg;
    for (int i = 0; i < 2000; i++) {
        void *p = malloc((size_t)(i % 300)); // @absent after
        escape = p;
        free(p);
    }
    leaked[slot] = malloc(10); // @expect after size_diff=3190 count_diff=319
    return NULL;
}

static void threads_come_and_go(void)
{
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t t[THREADS];
        for (long i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, worker, (void *)(r * THREADS + i));
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    }
}

static void *forker(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 100; i++)
            escape = malloc(999); // @absent after
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("forked child did not exec /bin/true cleanly");
    return NULL;
}

static void forks_from_threads(void)
{
    pthread_t t[FORKERS];
    for (int i = 0; i < FORKERS; i++)
        pthread_create(&t[i], NULL, forker, NULL);
    for (int i = 0; i < FORKERS; i++)
        pthread_join(t[i], NULL);
}

static void edge_cases(void)
{
    void *p = realloc(NULL, 100); // @absent after
    if (!p)
        fail("realloc(NULL, n)");
    errno = 0;
    p = realloc(p, 0);  /* glibc frees and returns NULL */
    free(NULL);
    free(p);
    void *m = memalign(24, 100);  /* not a power of two: glibc rounds it up */
    if (!m || ((unsigned long)m % 32) != 0)
        fail("memalign with an odd alignment");
    if (malloc_usable_size(m) < 100)
        fail("malloc_usable_size on a traced block");
    free(m);
    void *q = NULL;
    if (posix_memalign(&q, 3, 10) != EINVAL || q)
        fail("posix_memalign must reject alignment 3 like glibc");
    errno = 12345;
    void *r = malloc(16); // @absent after
    if (errno != 12345)
        fail("malloc changed errno on success");
    free(r);
    errno = 0;
    size_t huge = (size_t)-1 / 2 + (size_t)(failures && 0);  /* not a constant: no -Walloc-size warning */
    if (malloc(huge) != NULL || errno != ENOMEM)
        fail("a failed malloc must keep glibc's ENOMEM");
    leaked[0] = realloc(leaked[0], 50); // @expect after size_diff=50 count_diff=1
}

static void plugins_in_a_loop(const char *plugin)
{
    for (int i = 0; i < 30; i++) {
        void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fail(dlerror());
            return;
        }
        void *(*leak)(size_t) = (void *(*)(size_t))dlsym(h, "plugin_leak");
        free(leak(64));
        dlclose(h);
    }
}

int main(int argc, char **argv)
{
    leaktop_mark("base");
    threads_come_and_go();
    forks_from_threads();
    edge_cases();
    if (argc > 1)
        plugins_in_a_loop(argv[1]);
    leaktop_mark("after");
    return failures ? 1 : 0;
}
